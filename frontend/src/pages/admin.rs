//! `/admin`: the Admin app for Owners and Admins of the organization chosen in the header.
//! Users: add people by email (accounts join at once, other addresses are invited), change
//! roles, remove people, withdraw invitations. Settings: name, remote access, deleting the
//! organization. DataMiner Systems: each DMS's users (DMS-level roles) and settings. Audit log.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::auth::OrganizationMembership;
use stratus_shared::api::members::{Added, Members};
use stratus_shared::api::organizations::Role;

use crate::api;
use crate::components::feedback::{loaded, Loading, Outcome, StatusLine};
use crate::components::organization_selector::use_selected_organization;
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

mod audit_log;
mod settings;
mod systems;

use audit_log::AuditLog;
use settings::OrganizationSettings;
use systems::OrganizationSystems;

const ROLES: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

/// The Admin app (signed-in users; its content for Owners and Admins).
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <AdminApp />
        </RequireSignIn>
    }
}

#[component]
fn AdminApp() -> impl IntoView {
    let session = use_session();
    let selected = use_selected_organization();
    let organization = Memo::new(move |_| {
        let account = session.account()?;
        selected.among(&account.organizations)
    });
    let several = move || {
        session
            .account()
            .is_some_and(|account| account.organizations.len() > 1)
    };
    view! {
        <div class="page">
            {move || match organization.get() {
                None => view! {
                    <h1>"Admin"</h1>
                    <p>
                        "The Admin app is for the Owners and Admins of an organization. Your account is not linked to an organization yet: "
                        "ask your organization's Owner to add you, or connect a DMS from the home page to start one."
                    </p>
                }.into_any(),
                Some(organization) if organization.role == Role::Member => view! {
                    <h1>"Admin"</h1>
                    <p data-testid="admin-not-allowed">
                        "You are a Member of " <strong>{organization.name}</strong>
                        ". The Admin app is for its Owners and Admins; ask one of them to change your role."
                        {several().then_some(" Or choose another organization at the top of the page.")}
                    </p>
                }.into_any(),
                Some(organization) => view! { <OrganizationAdmin organization /> }.into_any(),
            }}
        </div>
    }
}

/// The parts of the Admin app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Users,
    Settings,
    Systems,
    AuditLog,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Users, Tab::Settings, Tab::Systems, Tab::AuditLog];

    /// For tests and styling.
    fn slug(self) -> &'static str {
        match self {
            Tab::Users => "users",
            Tab::Settings => "settings",
            Tab::Systems => "systems",
            Tab::AuditLog => "audit-log",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Users => "Users",
            Tab::Settings => "Settings",
            Tab::Systems => "DataMiner Systems",
            Tab::AuditLog => "Audit log",
        }
    }
}

#[component]
fn OrganizationAdmin(organization: OrganizationMembership) -> impl IntoView {
    let tab = RwSignal::new(Tab::Users);
    let organization_id = organization.organization_id.clone();
    let role = organization.role;
    view! {
        <h1 data-testid="admin-title">"Admin " <span class="muted">"· " {organization.name.clone()}</span></h1>
        <nav class="tabs" aria-label="Admin sections">
            {Tab::ALL
                .map(|each| view! {
                    <button
                        type="button"
                        class="tab"
                        data-testid=format!("tab-{}", each.slug())
                        aria-pressed=move || (tab.get() == each).to_string()
                        on:click=move |_| tab.set(each)
                    >
                        {each.label()}
                    </button>
                })
                .collect_view()}
        </nav>
        {move || {
            let organization_id = organization_id.clone();
            match tab.get() {
                Tab::Users => view! { <h2>"Users"</h2><OrganizationUsers organization_id /> }.into_any(),
                Tab::Settings => view! { <OrganizationSettings organization_id role /> }.into_any(),
                Tab::Systems => view! { <OrganizationSystems organization_id /> }.into_any(),
                Tab::AuditLog => view! { <AuditLog organization_id /> }.into_any(),
            }
        }}
    }
}

/// Shows a message of an admin action: `(is_error, text)`.
fn message_view(message: RwSignal<Outcome>) -> impl IntoView {
    view! { <StatusLine message test_id="admin-message" /> }
}

#[component]
fn OrganizationUsers(organization_id: String) -> impl IntoView {
    let session = use_session();
    let organization_id = StoredValue::new(organization_id);
    let version = RwSignal::new(0u32);
    let members = LocalResource::new(move || {
        version.track();
        async move {
            let token = session.token()?;
            api::organizations::members(&token, &organization_id.get_value()).await
        }
    });
    let message = RwSignal::new(None::<(bool, String)>);
    let reload = move || version.update(|v| *v += 1);
    view! {
        <AddUser organization_id message on_added=reload />
        {message_view(message)}
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(members.await, |members| view! { <UserTable members organization_id message on_change=reload /> })
            })}
        </Suspense>
    }
}

#[component]
fn AddUser(
    organization_id: StoredValue<String>,
    message: RwSignal<Option<(bool, String)>>,
    on_added: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let session = use_session();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Member.as_str().to_owned());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let Ok(token) = session.token() else {
            return;
        };
        let chosen = Role::parse(&role.get_untracked()).unwrap_or(Role::Member);
        spawn_local(async move {
            match api::organizations::add_member(
                &token,
                &organization_id.get_value(),
                email.get_untracked(),
                chosen,
            )
            .await
            {
                Ok(Added::Member { member }) => {
                    message.set(Some((
                        false,
                        format!("{} now belongs to the organization.", member.email),
                    )));
                    email.set(String::new());
                    on_added();
                }
                Ok(Added::Invited { invitation }) => {
                    message.set(Some((false, format!(
                        "{} has no verified account yet: an invitation is on its way, and they join once the address is verified.",
                        invitation.email
                    ))));
                    email.set(String::new());
                    on_added();
                }
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="add-user-email">"Add a user by email"</label>
            <input id="add-user-email" type="email" bind:value=email required=true />
            <label for="add-user-role" class="visually-hidden">"Role"</label>
            <select id="add-user-role" bind:value=role>
                {ROLES.map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
            </select>
            <button type="submit" class="button">"Add"</button>
        </form>
    }
}

#[component]
fn UserTable(
    members: Members,
    organization_id: StoredValue<String>,
    message: RwSignal<Option<(bool, String)>>,
    on_change: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let session = use_session();
    let change_role = move |user_id: String, role: String| {
        let Ok(token) = session.token() else {
            return;
        };
        let Some(role) = Role::parse(&role) else {
            return;
        };
        spawn_local(async move {
            match api::organizations::change_role(
                &token,
                &organization_id.get_value(),
                &user_id,
                role,
            )
            .await
            {
                Ok(_) => on_change(),
                Err(failure) => {
                    message.set(Some((true, failure.to_string())));
                    on_change();
                }
            }
        });
    };
    let remove = move |user_id: String| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::organizations::remove_member(&token, &organization_id.get_value(), &user_id)
                .await
            {
                Ok(()) => on_change(),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    let withdraw = move |invitation_id: String| {
        let Ok(token) = session.token() else {
            return;
        };
        spawn_local(async move {
            match api::organizations::withdraw_invitation(
                &token,
                &organization_id.get_value(),
                &invitation_id,
            )
            .await
            {
                Ok(()) => on_change(),
                Err(failure) => message.set(Some((true, failure.to_string()))),
            }
        });
    };
    view! {
        <table class="users">
            <thead>
                <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr>
            </thead>
            <tbody>
                {members.members.into_iter().map(|member| {
                    let id_for_role = member.user_id.clone();
                    let id_for_remove = member.user_id.clone();
                    view! {
                        <tr data-testid="member-row">
                            <td>{member.email.clone()}</td>
                            <td>
                                <select
                                    aria-label=format!("Role of {}", member.email)
                                    on:change=move |event| change_role(id_for_role.clone(), event_target_value(&event))
                                >
                                    {ROLES.map(|r| view! {
                                        <option value=r.as_str() selected=r == member.role>{r.label()}</option>
                                    }).collect_view()}
                                </select>
                            </td>
                            <td>
                                <button type="button" class="button button-quiet" on:click=move |_| remove(id_for_remove.clone())>
                                    "Remove"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
                {members.invitations.into_iter().map(|invitation| {
                    let id = invitation.id.clone();
                    view! {
                        <tr data-testid="invitation-row">
                            <td>{invitation.email.clone()} <span class="muted">" (invited)"</span></td>
                            <td>{invitation.role.label()}</td>
                            <td>
                                <button type="button" class="button button-quiet" on:click=move |_| withdraw(id.clone())>
                                    "Withdraw"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
