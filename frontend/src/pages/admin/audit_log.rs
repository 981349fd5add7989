//! Admin › Audit log: who changed what in the organization, newest first, a page at a time.

use leptos::prelude::*;

use crate::api;
use crate::components::audit_table::{AuditTable, OlderPage};
use crate::components::feedback::{LoadFailure, Loading};
use crate::session::use_session;

/// The organization's audit log.
#[component]
pub fn AuditLog(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let first = LocalResource::new(move || async move {
        let token = session.token()?;
        api::organizations::audit_log(&token, &organization_id.get_value(), None).await
    });
    let older = move || -> OlderPage {
        Box::new(move |before| {
            Box::pin(async move {
                let token = session.token()?;
                let organization_id = organization_id.get_value();
                api::organizations::audit_log(&token, &organization_id, Some(&before)).await
            })
        })
    };
    view! {
        <h2>"Audit log"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) if page.entries.is_empty() => view! { <p class="muted">"Nothing recorded yet."</p> }.into_any(),
                    Ok(page) => view! { <AuditTable first=page load_older=older() test_id="organization-audit" /> }.into_any(),
                    Err(failure) => view! { <LoadFailure failure /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
