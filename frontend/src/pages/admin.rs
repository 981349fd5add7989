//! `/admin`: the Admin app for Owners and Admins of the organization chosen in the header.
//! Users: add people by email (accounts join at once, other addresses are invited), change
//! roles, remove people, withdraw invitations. Settings: name, remote access, deleting the
//! organization. DataMiner Systems: each DMS's users (DMS-level roles) and settings. Audit log.

use leptos::prelude::*;
use stratus_shared::api::auth::OrganizationMembership;
use stratus_shared::api::organizations::Role;

use crate::components::organization_selector::use_selected_organization;
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

mod audit_log;
mod settings;
mod systems;
mod users;

use audit_log::AuditLog;
use settings::OrganizationSettings;
use systems::OrganizationSystems;
use users::OrganizationUsers;

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
