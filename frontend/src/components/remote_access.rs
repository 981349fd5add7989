//! Opening a DMS's web apps remotely: the portal asks for a single-use ticket and posts it,
//! in a form, to the DMS's own origin in a new tab (never in a URL), where it becomes that
//! host's session cookie. The portal's session never reaches the DMS's pages.

use leptos::prelude::*;
use stratus_shared::api::organizations::RemoteTicket;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiFailure};
use crate::components::feedback::ActionError;
use crate::session::Session;

/// Gets a ticket for `system_id` and opens the DMS in a new tab with it.
pub async fn open_remotely(session: Session, system_id: String) -> Result<(), ApiFailure> {
    let ticket = api::systems::remote_ticket(&session.token()?, &system_id).await?;
    post_ticket(&ticket).map_err(|_| ApiFailure::Unexpected { status: 0 })
}

/// Posts the ticket to the DMS's origin from a form made for the purpose, in a new tab that
/// has no way back to this one (the portal's opener policy separates them too).
fn post_ticket(ticket: &RemoteTicket) -> Result<(), wasm_bindgen::JsValue> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no document"))?;
    let form: web_sys::HtmlFormElement = document.create_element("form")?.dyn_into()?;
    form.set_method("post");
    form.set_action(&ticket.enter_url);
    form.set_target("_blank");
    form.set_attribute("rel", "noopener noreferrer")?;
    form.set_hidden(true);
    let field: web_sys::HtmlInputElement = document.create_element("input")?.dyn_into()?;
    field.set_type("hidden");
    field.set_name("ticket");
    field.set_value(&ticket.ticket);
    form.append_child(&field)?;
    let body = document
        .body()
        .ok_or_else(|| wasm_bindgen::JsValue::from_str("no body"))?;
    body.append_child(&form)?;
    form.submit()?;
    form.remove();
    Ok(())
}

/// The "Open remotely" button of a DMS, with what went wrong when it could not.
#[component]
pub fn OpenRemotely(system_id: String, #[prop(optional)] compact: bool) -> impl IntoView {
    let session = crate::session::use_session();
    let id = StoredValue::new(system_id);
    let open = Action::new_local(move |_: &()| open_remotely(session, id.get_value()));
    let label = if compact { "" } else { "Open remotely" };
    view! {
        <button
            type="button"
            class=if compact { "button button-quiet remote-open compact" } else { "button remote-open" }
            title="Open this DMS's web apps through Stratus, in a new tab"
            aria-label="Open remotely"
            data-testid="open-remotely"
            disabled=move || open.pending().get()
            on:click=move |_| { open.dispatch(()); }
        >
            <svg class="remote-glyph" viewBox="0 0 16 16" aria-hidden="true">
                <path d="M9 2h5v5M14 2 7 9M12 9v5H2V4h5" fill="none" stroke="currentColor" stroke-width="1.6" />
            </svg>
            {label}
        </button>
        <ActionError action=open />
    }
}
