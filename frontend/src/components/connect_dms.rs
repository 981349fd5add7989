//! Registers a DMS in one of the user's organizations (or a new one) and shows its connect
//! code once.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::organizations::ConnectCode;

use crate::api::{self, ApiFailure};
use crate::components::feedback::{latest, running};
use crate::components::local_time::local_time;
use crate::live::Overview;
use crate::session::{use_session, Session};

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
    let connect = Action::new_local(move |(organization_id, dms_name): &(String, String)| {
        let (organization_id, dms_name) = (organization_id.clone(), dms_name.clone());
        async move {
            let created = register(
                session,
                overview,
                organization_id,
                organization_name,
                &dms_name,
            )
            .await?;
            name.set(String::new());
            overview.new_code.set(Some((dms_name, created)));
            Ok::<_, ApiFailure>(())
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        connect.clear();
        connect.dispatch((organization.get_untracked(), name.get_untracked()));
    };
    let error = latest(connect, |result| {
        result.as_ref().err().map(ToString::to_string)
    });
    let pending = running(connect);

    view! {
        <form class="connect-form" on:submit=submit>
            <OrganizationChoice overview organization organization_name />
            <label for="connect-name">"DMS name"</label>
            <input id="connect-name" bind:value=name required=true maxlength="100" />
            <p class="field-error" role="alert">{error}</p>
            <button type="submit" class="button" disabled=pending>
                "Get a connect code"
            </button>
        </form>
    }
}

/// Which organization the DMS joins: one of mine, or a new one named here.
#[component]
fn OrganizationChoice(
    overview: Overview,
    organization: RwSignal<String>,
    organization_name: RwSignal<String>,
) -> impl IntoView {
    view! {
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
    }
}

/// Registers the DMS `dms_name` in `organization_id`, or first in a new organization named
/// by `organization_name`, and reloads the overview; answers the DMS's connect code.
async fn register(
    session: Session,
    overview: Overview,
    organization_id: String,
    organization_name: RwSignal<String>,
    dms_name: &str,
) -> Result<ConnectCode, ApiFailure> {
    let token = session.token()?;
    let organization_id = if organization_id == NEW_ORGANIZATION {
        let created = api::organizations::create(&token, organization_name.get_untracked()).await?;
        // The account is now a member: its kind and tiles change.
        session.reload_account().await;
        created.id
    } else {
        organization_id
    };
    let created = api::systems::create(&token, &organization_id, dms_name.to_owned()).await?;
    let _ = overview.reload(&token).await;
    Ok(created.connect_code)
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
