//! Managing one DMS, as far as my role on it allows: rename it, give its gateway a new
//! connect code, remove it. On the DMS's page and in Admin › DataMiner Systems.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use stratus_shared::api::organizations::Role;

use crate::api::{self, ApiFailure};
use crate::components::feedback::ActionError;
use crate::session::use_session;

/// Rename, new connect code and remove; `reload` is bumped after a rename.
#[component]
pub fn ManageSystem(
    system_id: String,
    name: String,
    role: Option<Role>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let session = use_session();
    // Stored so the handlers stay `Copy` inside the nested `<Show>`s.
    let navigate = StoredValue::new_local(use_navigate());
    let may_rename = matches!(role, Some(Role::Owner | Role::Admin));
    let is_owner = role == Some(Role::Owner);
    let new_name = RwSignal::new(name.clone());
    let confirming = RwSignal::new(false);
    let id = StoredValue::new(system_id);
    let name = StoredValue::new(name);

    let rename = Action::new_local(move |name: &String| {
        let name = name.clone();
        async move {
            api::systems::rename(&session.token()?, &id.get_value(), name).await?;
            reload.update(|n| *n += 1);
            Ok::<_, ApiFailure>(())
        }
    });
    let new_code = Action::new_local(move |_: &()| async move {
        api::systems::new_connect_code(&session.token()?, &id.get_value()).await
    });
    let remove = Action::new_local(move |_: &()| async move {
        api::systems::remove(&session.token()?, &id.get_value()).await?;
        navigate.with_value(|navigate| navigate("/", Default::default()));
        Ok::<_, ApiFailure>(())
    });
    let submit_rename = move |event: SubmitEvent| {
        event.prevent_default();
        rename.dispatch(new_name.get_untracked());
    };
    let code = move || {
        new_code.value().with(|latest| match latest {
            Some(Ok(created)) => Some(created.code.clone()),
            _ => None,
        })
    };
    view! {
        <Show when=move || may_rename || is_owner>
            <h2>"Manage"</h2>
        </Show>
        <Show when=move || may_rename>
            <form class="inline-form" on:submit=submit_rename>
                <label for="rename">"Name"</label>
                <input id="rename" bind:value=new_name required=true maxlength="100" />
                <button type="submit" class="button">"Rename"</button>
            </form>
        </Show>
        <Show when=move || is_owner>
            <p>
                <button type="button" class="button button-quiet" on:click=move |_| { new_code.dispatch(()); }>
                    "Get a new connect code"
                </button>
                " The DMS's current credentials stop working; give the new code to its gateway."
            </p>
            {move || code().map(|c| view! { <p><code data-testid="connect-code">{c}</code></p> })}
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
                <button type="button" class="button button-danger" on:click=move |_| { remove.dispatch(()); }>
                    "Remove"
                </button>
                " "
                <button type="button" class="button button-quiet" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </Show>
        </Show>
        <ActionError action=rename />
        <ActionError action=new_code />
        <ActionError action=remove />
    }
}
