//! Admin › Settings: the organization's name and remote access, and deleting it (Owners).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use stratus_shared::api::organizations::{Organization, Role, UpdateOrganization};

use crate::api::{self, ApiFailure};
use crate::components::feedback::{outcome, LoadFailure, Loading, StatusLine};
use crate::session::use_session;

/// The settings of one organization.
#[component]
pub fn OrganizationSettings(organization_id: String, role: Role) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let organization = LocalResource::new(move || async move {
        api::organizations::get(&session.token()?, &organization_id.get_value()).await
    });
    view! {
        <h2>"Settings"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match organization.await {
                    Ok(organization) => view! {
                        <SettingsForm organization=organization.clone() />
                        <Show when=move || role == Role::Owner>
                            <DeleteOrganization organization=organization.clone() />
                        </Show>
                    }.into_any(),
                    Err(failure) => view! { <LoadFailure failure /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(organization: Organization) -> impl IntoView {
    let session = use_session();
    let id = StoredValue::new(organization.id.clone());
    let name = RwSignal::new(organization.name.clone());
    let remote_access = RwSignal::new(organization.remote_access_enabled);
    let save = Action::new_local(move |update: &UpdateOrganization| {
        let update = update.clone();
        async move {
            let saved =
                api::organizations::update(&session.token()?, &id.get_value(), &update).await?;
            name.set(saved.name);
            remote_access.set(saved.remote_access_enabled);
            // The header's organization picker shows the new name.
            session.reload_account().await;
            Ok::<_, ApiFailure>(())
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        save.dispatch(UpdateOrganization {
            name: Some(name.get_untracked()),
            remote_access_enabled: Some(remote_access.get_untracked()),
        });
    };
    view! {
        <form on:submit=submit data-testid="organization-settings">
            <div class="field">
                <label for="organization-name">"Name"</label>
                <input id="organization-name" bind:value=name required=true maxlength="100" />
            </div>
            <label class="checkbox">
                <input type="checkbox" data-testid="organization-remote-access" bind:checked=remote_access />
                " Remote access to this organization's DMSs"
            </label>
            <p class="muted">
                "Off switches remote access off for every DMS of the organization, whatever each DMS's own setting says."
            </p>
            <div><button type="submit" class="button">"Save settings"</button></div>
        </form>
        <StatusLine message=outcome(save, Some("Saved.")) test_id="admin-message" />
    }
}

#[component]
fn DeleteOrganization(organization: Organization) -> impl IntoView {
    let session = use_session();
    let navigate = StoredValue::new_local(use_navigate());
    let id = StoredValue::new(organization.id.clone());
    let name = organization.name.clone();
    let typed = RwSignal::new(String::new());
    let delete = Action::new_local(move |confirm_name: &String| {
        let confirm_name = confirm_name.clone();
        async move {
            api::organizations::delete(&session.token()?, &id.get_value(), confirm_name).await?;
            session.reload_account().await;
            navigate.with_value(|navigate| navigate("/", Default::default()));
            Ok::<_, ApiFailure>(())
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        delete.dispatch(typed.get_untracked());
    };
    view! {
        <section class="danger-zone">
            <h3>"Delete the organization"</h3>
            <p>
                "Deletes " <strong>{name.clone()}</strong>
                " with its DMSs (their gateways are cut off at once), its people's links to it, its projects and shared dashboards. This cannot be undone."
            </p>
            <form class="inline-form" on:submit=submit>
                <label for="confirm-organization-name">"Type the organization's name to confirm"</label>
                <input id="confirm-organization-name" bind:value=typed autocomplete="off" />
                <button type="submit" class="button button-danger" disabled=move || typed.get().trim() != name>
                    "Delete organization"
                </button>
            </form>
            <StatusLine message=outcome(delete, None) test_id="admin-message" />
        </section>
    }
}
