//! `/systems/<id>`: one DMS in full: state, last online, version, agents, history, and the
//! actions the user's role allows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use stratus_shared::api::organizations::{Organization, Role, SystemDetail};
use stratus_shared::time::relative_time;

use crate::api;
use crate::components::feedback::{LoadFailure, Loading};
use crate::components::local_time::local_time;
use crate::components::require_sign_in::RequireSignIn;
use crate::components::state_icon::{state_class, StateGlyph};
use crate::live::now_utc;
use crate::session::use_session;

/// Transitions per page of the history.
const HISTORY_PAGE: usize = 10;

/// The DMS detail page (signed-in users only).
#[component]
pub fn SystemDetailPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <SystemDetailView />
        </RequireSignIn>
    }
}

#[component]
fn SystemDetailView() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let system_id = move || params.read().get("id").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        let id = system_id();
        reload.track();
        async move {
            let token = session.token()?;
            let detail = api::systems::detail(&token, &id).await?;
            let organizations = api::organizations::list(&token).await?;
            Ok::<_, api::ApiFailure>((detail, organizations))
        }
    });
    view! {
        <div class="page">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok((detail, organizations)) => {
                            view! { <Detail detail organizations reload /> }.into_any()
                        }
                        Err(failure) => {
                            view! {
                                <h1>"DataMiner System"</h1>
                                <LoadFailure failure />
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn Detail(
    detail: SystemDetail,
    organizations: Vec<Organization>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let SystemDetail {
        system,
        transitions,
        remote_access_url,
        remote_access,
        my_role,
        my_dms_account,
    } = detail;
    let role = Some(my_role);
    let organization_name = organizations
        .iter()
        .find(|o| o.id == system.organization_id)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let now = now_utc();
    let last_online = match system.last_online_at {
        Some(at) => format!("{} ({})", relative_time(at, now), local_time(at)),
        None => "Never".to_owned(),
    };
    let state = system.state;
    let page = RwSignal::new(0usize);
    let pages = transitions.len().div_ceil(HISTORY_PAGE).max(1);
    let transitions = StoredValue::new(transitions);
    view! {
        <h1 class=format!("detail-title {}", state_class(state))>
            <span class="state-icon" role="img" aria-label=state.label()>
                <StateGlyph state=Signal::stored(state) />
            </span>
            {system.name.clone()}
        </h1>
        <p class="lead" data-testid="detail-tooltip">{state.tooltip()}</p>
        <dl class="facts">
            <dt>"Organization"</dt>
            <dd>{organization_name}</dd>
            <dt>"Last online"</dt>
            <dd data-testid="detail-last-online">{last_online}</dd>
            <dt>"DataMiner version"</dt>
            <dd>{system.dms_version.clone().unwrap_or_else(|| "Not reported yet".into())}</dd>
            <dt>"Agents"</dt>
            <dd>{system.agent_count.map(|n| n.to_string()).unwrap_or_else(|| "Not reported yet".into())}</dd>
            <dt>"Registered"</dt>
            <dd>{local_time(system.created_at)}</dd>
            <dt>"Remote access"</dt>
            <dd>
                {match remote_access_url {
                    Some(url) => view! {
                        <a href=url.clone() rel="noopener noreferrer" target="_blank" data-testid="remote-access">
                            {url.clone()}
                        </a>
                    }.into_any(),
                    None if remote_access.forced_off_by_organization => view! {
                        <span class="muted" data-testid="remote-access-off">"Off for the whole organization"</span>
                    }.into_any(),
                    None if !remote_access.enabled_for_system => view! {
                        <span class="muted" data-testid="remote-access-off">"Off for this DMS"</span>
                    }.into_any(),
                    None => view! { <span class="muted">"Not enabled"</span> }.into_any(),
                }}
            </dd>
        </dl>
        <h2>"State history"</h2>
        <ol class="history">
            {move || {
                transitions.with_value(|all| {
                    all.iter()
                        .skip(page.get() * HISTORY_PAGE)
                        .take(HISTORY_PAGE)
                        .map(|t| view! {
                            <li class=state_class(t.state)>
                                <span class="history-state">{t.state.label()}</span>
                                <time datetime=t.at.to_rfc3339()>{local_time(t.at)}</time>
                            </li>
                        })
                        .collect_view()
                })
            }}
        </ol>
        <Show when=move || { pages > 1 }>
            <nav class="pager" aria-label="History pages">
                <button type="button" class="button button-quiet" disabled=move || page.get() == 0
                    on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Newer"</button>
                <span>{move || format!("Page {} of {pages}", page.get() + 1)}</span>
                <button type="button" class="button button-quiet" disabled=move || page.get() + 1 >= pages
                    on:click=move |_| page.update(|p| *p += 1)>"Older"</button>
            </nav>
        </Show>
        <MyDmsAccount system_id=system.id.clone() linked=my_dms_account reload />
        <Actions system_id=system.id.clone() name=system.name.clone() role reload />
    }
}

/// My user account on the DMS: link it, or unlink it (everyone may unlink their own).
#[component]
fn MyDmsAccount(system_id: String, linked: Option<String>, reload: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let id = StoredValue::new(system_id);
    let username = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let link = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::systems::link_my_account(&token, &id.get_value(), username.get_untracked())
                .await
            {
                Ok(_) => reload.update(|n| *n += 1),
                Err(failure) => message.set(Some(failure.to_string())),
            }
        });
    };
    let unlink = move |_| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::systems::unlink_my_account(&token, &id.get_value()).await {
                Ok(()) => reload.update(|n| *n += 1),
                Err(failure) => message.set(Some(failure.to_string())),
            }
        });
    };
    view! {
        <h2>"My DMS account"</h2>
        {match linked {
            Some(name) => view! {
                <p data-testid="my-dms-account">
                    "Linked to " <strong>{name}</strong> " on this DMS. "
                    <button type="button" class="button button-quiet" on:click=unlink>"Unlink"</button>
                </p>
            }.into_any(),
            None => view! {
                <form class="inline-form" on:submit=link>
                    <label for="dms-username">"Link my user account on this DMS"</label>
                    <input id="dms-username" bind:value=username required=true maxlength="100" placeholder="DOMAIN\\user" />
                    <button type="submit" class="button">"Link"</button>
                </form>
            }.into_any(),
        }}
        {move || message.get().map(|text| view! { <p class="form-message form-error">{text}</p> })}
    }
}

/// Rename, new connect code and remove, as far as my role on the DMS allows.
#[component]
pub fn Actions(
    system_id: String,
    name: String,
    role: Option<Role>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let session = use_session();
    // Stored so the click handlers stay `Copy` inside the nested `<Show>`s.
    let navigate = StoredValue::new_local(use_navigate());
    let may_rename = matches!(role, Some(Role::Owner | Role::Admin));
    let is_owner = role == Some(Role::Owner);
    let new_name = RwSignal::new(name.clone());
    let message = RwSignal::new(None::<(bool, String)>);
    let code = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(system_id);
    let name = StoredValue::new(name);

    let rename = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::systems::rename(&token, &id.get_value(), new_name.get_untracked()).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    let connect_code = move |_| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::systems::new_connect_code(&token, &id.get_value()).await {
                Ok(created) => code.set(Some(created.code)),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    let remove = move |_| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::systems::remove(&token, &id.get_value()).await {
                Ok(()) => navigate.with_value(|navigate| navigate("/", Default::default())),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    view! {
        <Show when=move || may_rename || is_owner>
            <h2>"Manage"</h2>
        </Show>
        <Show when=move || may_rename>
            <form class="inline-form" on:submit=rename>
                <label for="rename">"Name"</label>
                <input id="rename" bind:value=new_name required=true maxlength="100" />
                <button type="submit" class="button">"Rename"</button>
            </form>
        </Show>
        <Show when=move || is_owner>
            <p>
                <button type="button" class="button button-quiet" on:click=connect_code>
                    "Get a new connect code"
                </button>
                " The DMS's current credentials stop working; give the new code to its gateway."
            </p>
            {move || code.get().map(|c| view! { <p><code data-testid="connect-code">{c}</code></p> })}
        </Show>
        // Owners and Admins may remove a DMS.
        <Show when=move || may_rename>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="button button-danger" on:click=move |_| confirming.set(true)>
                        "Remove this DMS…"
                    </button>
                }
            >
                <p class="form-message form-error" role="alert">
                    "Remove " <strong>{move || name.get_value()}</strong>
                    "? Its gateway is cut off at once and its history is deleted."
                </p>
                <button type="button" class="button button-danger" on:click=remove>"Remove"</button>
                " "
                <button type="button" class="button button-quiet" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </Show>
        </Show>
        {move || message.get().map(|(_, text)| view! { <p class="form-message form-error">{text}</p> })}
    }
}
