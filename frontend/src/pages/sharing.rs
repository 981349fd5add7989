//! `/sharing`: the dashboards of my organizations' DMSs shared with other people. Owners and
//! Admins share a dashboard of one of their DMSs and stop sharing; Members read; a guest gets
//! an explanation and no data.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::organizations::System;
use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};

use crate::api::{self, ApiFailure};
use crate::changes::Changes;
use crate::components::feedback::{loaded, notice, EmptyState, Loading, StatusLine};
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

/// What a person linked to no organization reads instead of dashboards.
pub const GUEST_EXPLANATION: &str = "Sharing shows the dashboards your organization shares once your account is linked to an organization; ask your organization's admin or Skyline to link you.";

/// The Sharing app (signed-in users).
#[component]
pub fn SharingPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <SharingApp />
        </RequireSignIn>
    }
}

#[component]
fn SharingApp() -> impl IntoView {
    let session = use_session();
    let changes = Changes::new();
    let data = LocalResource::new(move || {
        changes.version.track();
        async move {
            let token = session.token()?;
            let groups = api::sharing::dashboards(&token).await?;
            // The DMSs are needed only to share, so only when some organization allows it.
            let systems = if groups.iter().any(|group| group.can_manage) {
                api::systems::list(&token).await?
            } else {
                Vec::new()
            };
            Ok::<_, ApiFailure>((groups, systems))
        }
    });
    view! {
        <div class="page">
            <h1>"DataMiner Sharing"</h1>
            <p class="lead">"Dashboards of your DMSs shared with people outside your organization."</p>
            <StatusLine message=changes.message test_id="app-message" />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(data.await, move |(groups, systems)| {
                        if groups.is_empty() {
                            view! { <EmptyState test_id="sharing-guest" text=GUEST_EXPLANATION /> }
                                .into_any()
                        } else {
                            groups
                                .into_iter()
                                .map(|group| {
                                    let systems: Vec<System> = systems
                                        .iter()
                                        .filter(|s| s.organization_id == group.organization_id)
                                        .cloned()
                                        .collect();
                                    view! { <OrganizationDashboards group systems changes /> }
                                })
                                .collect_view()
                                .into_any()
                        }
                    })
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn OrganizationDashboards(
    group: OrganizationSharedDashboards,
    systems: Vec<System>,
    changes: Changes,
) -> impl IntoView {
    let OrganizationSharedDashboards {
        organization_id,
        organization_name,
        can_manage,
        dashboards,
        ..
    } = group;
    view! {
        <section data-testid="organization-dashboards">
            <h2>{organization_name.clone()}</h2>
            {can_manage
                .then(|| {
                    view! {
                        <ShareForm organization_id=organization_id.clone() organization_name systems changes />
                    }
                })}
            {if dashboards.is_empty() {
                view! { <p class="muted">"Nothing is shared yet."</p> }.into_any()
            } else {
                view! { <DashboardTable dashboards can_manage changes /> }.into_any()
            }}
        </section>
    }
}

#[component]
fn DashboardTable(
    dashboards: Vec<SharedDashboard>,
    can_manage: bool,
    changes: Changes,
) -> impl IntoView {
    let unshare =
        changes.action(
            |token, dashboard_id: String| async move {
                api::sharing::unshare(&token, &dashboard_id).await
            },
            |()| notice("No longer shared."),
        );
    let row = move |dashboard: SharedDashboard| {
        let id = dashboard.id.clone();
        view! {
            <tr data-testid="shared-dashboard">
                <td>{dashboard.name}</td>
                <td>{dashboard.system_name}</td>
                <td>{dashboard.shared_with}</td>
                {can_manage.then(|| view! {
                    <td>
                        <button type="button" class="button button-quiet" on:click=move |_| { unshare.dispatch(id.clone()); }>
                            "Stop sharing"
                        </button>
                    </td>
                })}
            </tr>
        }
    };
    view! {
        <table class="users">
            <thead>
                <tr>
                    <th scope="col">"Dashboard"</th>
                    <th scope="col">"DMS"</th>
                    <th scope="col">"Shared with"</th>
                    {can_manage.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody>{dashboards.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn ShareForm(
    organization_id: String,
    organization_name: String,
    systems: Vec<System>,
    changes: Changes,
) -> impl IntoView {
    if systems.is_empty() {
        return view! {
            <p class="muted">"Register a DMS in this organization to share its dashboards."</p>
        }
        .into_any();
    }
    let organization_id = StoredValue::new(organization_id);
    let share = changes.action(
        move |token, dashboard: ShareDashboard| async move {
            api::sharing::share(&token, &organization_id.get_value(), &dashboard).await
        },
        |_| notice("Dashboard shared."),
    );
    let name = RwSignal::new(String::new());
    let system_id = RwSignal::new(systems[0].id.clone());
    let shared_with = RwSignal::new(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let dashboard = ShareDashboard {
            name: name.get_untracked(),
            system_id: system_id.get_untracked(),
            shared_with: shared_with.get_untracked(),
        };
        name.set(String::new());
        share.dispatch(dashboard);
    };
    let id = move |field: &str| format!("share-{field}-{}", organization_id.get_value());
    view! {
        <form class="inline-form" on:submit=submit data-testid="share-dashboard">
            <label for=id("name")>"Dashboard"</label>
            <input id=id("name") bind:value=name required=true maxlength="100" />
            <label for=id("system")>"of the DMS"</label>
            <select id=id("system") bind:value=system_id>
                {systems
                    .into_iter()
                    .map(|s| view! { <option value=s.id>{s.name}</option> })
                    .collect_view()}
            </select>
            <label for=id("with")>"shared with"</label>
            <input
                id=id("with")
                bind:value=shared_with
                required=true
                maxlength="500"
                placeholder=format!("Everyone at {organization_name}")
            />
            <button type="submit" class="button">"Share"</button>
        </form>
    }
    .into_any()
}
