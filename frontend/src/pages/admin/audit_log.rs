//! Admin › Audit log: who changed what in the organization, newest first.

use crate::components::feedback::{LoadFailure, Loading};
use crate::components::local_time::local_time;
use leptos::prelude::*;

use crate::api;
use crate::session::use_session;

/// The organization's latest audit entries.
#[component]
pub fn AuditLog(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let entries = LocalResource::new(move || async move {
        let token = session.token()?;
        api::organizations::audit_log(&token, &organization_id.get_value()).await
    });
    view! {
        <h2>"Audit log"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(entries) if entries.is_empty() => view! { <p class="muted">"Nothing recorded yet."</p> }.into_any(),
                    Ok(entries) => view! {
                        <table class="audit-log">
                            <thead>
                                <tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th></tr>
                            </thead>
                            <tbody>
                                {entries.into_iter().map(|entry| view! {
                                    <tr data-testid="audit-row">
                                        <td><time datetime=entry.at.to_rfc3339()>{local_time(entry.at)}</time></td>
                                        <td>
                                            {entry.actor_email}
                                            {entry.by_staff.then(|| view! { <span class="badge">"staff"</span> })}
                                        </td>
                                        <td>{entry.detail}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(failure) => view! { <LoadFailure failure /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
