//! Registers a DMS in one of the user's organizations (or a new one) and shows its connect
//! code once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::local_time::local_time;
use crate::live::Overview;
use crate::session::use_session;

/// Value of the organization choice that means "create a new organization".
const NEW_ORGANIZATION: &str = "";

/// The form, then the code.
#[component]
pub fn ConnectDms(overview: Overview) -> impl IntoView {
    let session = use_session();
    let organization = RwSignal::new(
        overview
            .organizations
            .with_untracked(|orgs| orgs.first().map(|o| o.id.clone()))
            .unwrap_or_default(),
    );
    let organization_name = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        error.set(None);
        let Ok(token) = session.token() else {
            return;
        };
        pending.set(true);
        spawn_local(async move {
            let result = async {
                let mut organization_id = organization.get_untracked();
                if organization_id == NEW_ORGANIZATION {
                    let created =
                        api::organizations::create(&token, organization_name.get_untracked())
                            .await?;
                    organization_id = created.id;
                    // The account is now a member: its kind and tiles change.
                    session.reload_account().await;
                }
                let dms_name = name.get_untracked();
                let created =
                    api::systems::create(&token, &organization_id, dms_name.clone()).await?;
                let _ = overview.reload(&token).await;
                Ok::<_, api::ApiFailure>((dms_name, created.connect_code))
            }
            .await;
            match result {
                Ok(created) => {
                    name.set(String::new());
                    overview.new_code.set(Some(created));
                }
                Err(failure) => error.set(Some(failure.to_string())),
            }
            pending.set(false);
        });
    };

    view! {
        <form class="connect-form" on:submit=submit>
            <h3>"Connect a DataMiner System"</h3>
            <label for="connect-organization">"Organization"</label>
            <select id="connect-organization" bind:value=organization>
                {move || {
                    overview
                        .organizations
                        .get()
                        .into_iter()
                        .map(|o| view! { <option value=o.id>{o.name}</option> })
                        .collect_view()
                }}
                <option value=NEW_ORGANIZATION>"A new organization…"</option>
            </select>
            <Show when=move || organization.get() == NEW_ORGANIZATION>
                <label for="connect-organization-name">"Name of the new organization"</label>
                <input id="connect-organization-name" bind:value=organization_name required=true />
            </Show>
            <label for="connect-name">"DMS name"</label>
            <input id="connect-name" bind:value=name required=true maxlength="100" />
            <p class="field-error" role="alert">{move || error.get()}</p>
            <button type="submit" class="button" disabled=move || pending.get()>
                "Get a connect code"
            </button>
        </form>
    }
}

/// The connect code just issued, shown once above the overview.
#[component]
pub fn NewConnectCode(overview: Overview) -> impl IntoView {
    move || {
        overview.new_code.get().map(|(dms_name, connect_code)| {
            view! {
                <div class="connect-code" role="status">
                    <p>"Connect code for " <strong>{dms_name}</strong> ":"</p>
                    <code data-testid="connect-code">{connect_code.code.clone()}</code>
                    <p class="muted">
                        "Shown only now, valid until "
                        {local_time(connect_code.expires_at)}
                        ". Give it to the DMS's cloud gateway: it trades the code for the DMS's own credentials."
                    </p>
                    <button
                        type="button"
                        class="button button-quiet"
                        on:click=move |_| overview.new_code.set(None)
                    >
                        "Done"
                    </button>
                </div>
            }
        })
    }
}
