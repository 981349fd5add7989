//! Managing one DMS, as far as my role on it allows: rename it, give its gateway a new
//! connect code, remove it. On the DMS's page and in Admin › DataMiner Systems.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use stratus_shared::api::organizations::Role;

use crate::api::{self, ApiFailure};
use crate::components::feedback::{latest, ActionError};
use crate::session::use_session;

/// Rename (Owners and Admins; `reload` is bumped after), new connect code (Owners) and
/// remove (Owners and Admins).
#[component]
pub fn ManageSystem(
    system_id: String,
    name: String,
    role: Option<Role>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let may_rename = matches!(role, Some(Role::Owner | Role::Admin));
    let is_owner = role == Some(Role::Owner);
    let id = StoredValue::new(system_id);
    let name = StoredValue::new(name);
    view! {
        <Show when=move || may_rename || is_owner>
            <h2>"Manage"</h2>
        </Show>
        <Show when=move || may_rename>
            <Rename id name=name.get_value() reload />
        </Show>
        <Show when=move || is_owner>
            <ReplaceConnectCode id />
        </Show>
        // Owners and Admins may remove a DMS.
        <Show when=move || may_rename>
            <Remove id name=name.get_value() />
        </Show>
    }
}

#[component]
fn Rename(id: StoredValue<String>, name: String, reload: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let new_name = RwSignal::new(name);
    let rename = Action::new_local(move |name: &String| {
        let name = name.clone();
        async move {
            api::systems::rename(&session.token()?, &id.get_value(), name).await?;
            reload.update(|n| *n += 1);
            Ok::<_, ApiFailure>(())
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        rename.dispatch(new_name.get_untracked());
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="rename">"Name"</label>
            <input id="rename" bind:value=new_name required=true maxlength="100" />
            <button type="submit" class="button">"Rename"</button>
        </form>
        <ActionError action=rename />
    }
}

/// A new connect code, shown once; the DMS's current credentials stop working.
#[component]
fn ReplaceConnectCode(id: StoredValue<String>) -> impl IntoView {
    let session = use_session();
    let new_code = Action::new_local(move |_: &()| async move {
        api::systems::new_connect_code(&session.token()?, &id.get_value()).await
    });
    let code = latest(new_code, |result| {
        result.as_ref().ok().map(|created| created.code.clone())
    });
    view! {
        <p>
            <button type="button" class="button button-quiet" on:click=move |_| { new_code.dispatch(()); }>
                "Get a new connect code"
            </button>
            " The DMS's current credentials stop working; give the new code to its gateway."
        </p>
        {move || code().map(|c| view! { <p><code data-testid="connect-code">{c}</code></p> })}
        <ActionError action=new_code />
    }
}

/// Remove, after a confirmation; then the home page opens.
#[component]
fn Remove(id: StoredValue<String>, name: String) -> impl IntoView {
    let session = use_session();
    // Stored so the handlers stay `Copy` inside the `<Show>`.
    let navigate = StoredValue::new_local(use_navigate());
    let confirming = RwSignal::new(false);
    let name = StoredValue::new(name);
    let remove = Action::new_local(move |_: &()| async move {
        api::systems::remove(&session.token()?, &id.get_value()).await?;
        navigate.with_value(|navigate| navigate("/", Default::default()));
        Ok::<_, ApiFailure>(())
    });
    view! {
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
        <ActionError action=remove />
    }
}
