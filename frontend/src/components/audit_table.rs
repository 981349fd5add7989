//! An audit log as a table, a page at a time: the first page as loaded, then "Show older
//! entries" appends the next page until the log's end. Both logs (an organization's, the
//! staff console's) look alike.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use stratus_shared::api::audit::{AuditEntry, AuditPage};

use crate::api::ApiFailure;
use crate::components::feedback::{failed, Outcome, StatusLine};
use crate::components::local_time::local_time;

/// Loads the page that follows the entry whose id it is given.
pub type OlderPage =
    Box<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<AuditPage, ApiFailure>>>>>;

/// The entries of `first`, and older pages on request through `load_older`.
#[component]
pub fn AuditTable(
    first: AuditPage,
    load_older: OlderPage,
    /// The `data-testid` of the table.
    test_id: &'static str,
    /// Show each entry's action code (e.g. `member.added`) before its detail.
    #[prop(optional)]
    show_actions: bool,
) -> impl IntoView {
    let entries = RwSignal::new(first.entries);
    let next_before = RwSignal::new(first.next_before);
    let loading = RwSignal::new(false);
    let outcome = RwSignal::new(Outcome::None);
    let load_older = StoredValue::new_local(load_older);
    let show_older = move |_| {
        let Some(before) = next_before.get_untracked() else {
            return;
        };
        loading.set(true);
        let request = load_older.with_value(|load| load(before));
        leptos::task::spawn_local(async move {
            // `try_`: the page may be gone by the time the answer comes.
            match request.await {
                Ok(page) => {
                    entries.try_update(|shown| shown.extend(page.entries));
                    next_before.try_set(page.next_before);
                    outcome.try_set(None);
                }
                Err(failure) => {
                    outcome.try_set(failed(&failure));
                }
            }
            loading.try_set(false);
        });
    };
    view! {
        <table class="audit-log" data-testid=test_id>
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || entries.get() key=|entry| entry.id.clone() let:entry>
                    <AuditRow entry show_actions />
                </For>
            </tbody>
        </table>
        <Show when=move || next_before.with(Option::is_some)>
            <button
                type="button"
                class="secondary"
                data-testid="audit-older"
                disabled=move || loading.get()
                on:click=show_older
            >
                "Show older entries"
            </button>
        </Show>
        <StatusLine message=outcome test_id="audit-message" />
    }
}

#[component]
fn AuditRow(entry: AuditEntry, show_actions: bool) -> impl IntoView {
    view! {
        <tr data-testid="audit-row">
            <td>
                <time datetime=entry.at.to_rfc3339()>{local_time(entry.at)}</time>
            </td>
            <td>
                {entry.actor_email}
                {entry.by_staff.then(|| view! { <span class="badge">"staff"</span> })}
            </td>
            <td>
                {show_actions.then(|| view! { <code>{entry.action}</code> " " })}
                {entry.detail}
            </td>
        </tr>
    }
}
