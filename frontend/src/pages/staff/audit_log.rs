//! Staff console › Staff audit log: every staff action, newest first.

use leptos::prelude::*;
use stratus_shared::api::audit::AuditEntry;

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{loaded, Loading};
use crate::session::use_session;

#[component]
pub fn AuditLog(console: Changes) -> impl IntoView {
    let session = use_session();
    let entries = LocalResource::new(move || {
        console.version.track();
        async move { api::staff::audit_log(&session.token()?).await }
    });
    view! {
        <section aria-labelledby="staff-audit-title">
            <h2 id="staff-audit-title">"Staff audit log"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(entries.await, |entries| view! { <AuditTable entries /> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <table class="users" data-testid="staff-audit">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                </tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|entry| {
                        view! {
                            <tr>
                                <td>{entry.at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                <td>{entry.actor_email}</td>
                                <td>
                                    <code>{entry.action}</code>
                                    " "
                                    {entry.detail}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
