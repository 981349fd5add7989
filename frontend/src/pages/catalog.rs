//! `/catalog`: the public DataMiner Catalog of connectors and apps. The search and category
//! live in the URL (`?search=…&category=…`), so a filtered list can be shared as a link.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use stratus_shared::api::catalog::CatalogItem;

use crate::api;
use crate::components::feedback::{loaded, Loading};

/// The catalog URL for a search and a category (empty ones left out).
fn catalog_url(search: &str, category: &str) -> String {
    let mut parameters = Vec::new();
    if !search.is_empty() {
        parameters.push(format!("search={}", js_sys::encode_uri_component(search)));
    }
    if !category.is_empty() {
        parameters.push(format!(
            "category={}",
            js_sys::encode_uri_component(category)
        ));
    }
    if parameters.is_empty() {
        "/catalog".to_owned()
    } else {
        format!("/catalog?{}", parameters.join("&"))
    }
}

/// The Catalog (no sign-in needed).
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let search_in_url = Memo::new(move |_| query.with(|q| q.get("search").unwrap_or_default()));
    let category = Memo::new(move |_| query.with(|q| q.get("category").unwrap_or_default()));
    // The box keeps what is typed; the URL follows it (replacing, so Back leaves the page).
    let search = RwSignal::new(search_in_url.get_untracked());
    let go = move |search: String, category: String| {
        navigate(
            &catalog_url(&search, &category),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let go_search = go.clone();
    let items = LocalResource::new(move || {
        let (search, category) = (search_in_url.get(), category.get());
        async move { api::catalog::search(&search, &category).await }
    });
    view! {
        <div class="page">
            <h1>"DataMiner Catalog"</h1>
            <p class="lead">"Connectors and apps for DataMiner: search by name, vendor or description, or pick a category."</p>
            <div class="toolbar" role="search">
                <label for="catalog-search" class="visually-hidden">"Search the catalog"</label>
                <input
                    id="catalog-search"
                    type="search"
                    placeholder="Search connectors and apps"
                    prop:value=search
                    on:input=move |event| {
                        let text = event_target_value(&event);
                        search.set(text.clone());
                        go_search(text, category.get_untracked());
                    }
                />
                <label for="catalog-category">"Category"</label>
                <select
                    id="catalog-category"
                    prop:value=move || category.get()
                    on:change=move |event| go(search.get_untracked(), event_target_value(&event))
                >
                    <option value="">"All categories"</option>
                    <CategoryOptions chosen=category />
                </select>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(items.await, |items| view! { <CatalogResults items /> })
                })}
            </Suspense>
        </div>
    }
}

/// The catalog's categories as `<option>`s, `chosen` selected.
#[component]
fn CategoryOptions(chosen: Memo<String>) -> impl IntoView {
    let categories = LocalResource::new(api::catalog::categories);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                categories
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|name| {
                        let selected = name == chosen.get_untracked();
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    })
                    .collect_view()
            })}
        </Suspense>
    }
}

#[component]
fn CatalogResults(items: Vec<CatalogItem>) -> impl IntoView {
    let count = match items.len() {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    };
    if items.is_empty() {
        return view! {
            <p class="muted" data-testid="catalog-count">{count}</p>
            <div class="empty-state" data-testid="catalog-empty">
                <p>"Nothing in the catalog matches. Try other words or all categories."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <p class="muted" data-testid="catalog-count">{count}</p>
        <ul class="catalog-list">
            {items
                .into_iter()
                .map(|item| {
                    let category = item.category.clone();
                    view! {
                        <li class="catalog-item" data-testid="catalog-item" data-category=category>
                            <h2 class="catalog-name">{item.name}</h2>
                            <p class="muted">
                                {item.vendor} " · " {item.kind.label()} " · version " {item.version}
                            </p>
                            <p class="catalog-category">{item.category}</p>
                            <p>{item.description}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
