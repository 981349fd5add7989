//! Staff console › Staff audit log: every staff action, newest first, a page at a time.

use leptos::prelude::*;

use crate::api;
use crate::changes::Changes;
use crate::components::audit_table::{AuditTable, OlderPage};
use crate::components::feedback::{loaded, Loading};
use crate::session::use_session;

#[component]
pub fn AuditLog(console: Changes) -> impl IntoView {
    let session = use_session();
    let first = LocalResource::new(move || {
        console.version.track();
        async move { api::staff::audit_log(&session.token()?, None).await }
    });
    let older = move || -> OlderPage {
        Box::new(move |before| {
            Box::pin(async move { api::staff::audit_log(&session.token()?, Some(&before)).await })
        })
    };
    view! {
        <section aria-labelledby="staff-audit-title">
            <h2 id="staff-audit-title">"Staff audit log"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(first.await, |page| view! {
                        <AuditTable first=page load_older=older() test_id="staff-audit" show_actions=true />
                    })
                })}
            </Suspense>
        </section>
    }
}
