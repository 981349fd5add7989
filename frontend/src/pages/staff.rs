//! `/staff`: the staff console for platform staff. Find accounts and their organizations,
//! link people (or addresses not registered yet) to organizations, change roles and unlink,
//! create organizations, import legacy accounts from CSV, and read the log of staff actions.
//! Every part shares one status line and re-reads its lists after each change.

use leptos::prelude::*;

use crate::changes::Changes;
use crate::components::feedback::StatusLine;
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

mod accounts;
mod audit_log;
mod legacy_import;
mod organizations;

use accounts::AccountSearch;
use audit_log::AuditLog;
use legacy_import::LegacyImport;
use organizations::{CreateOrganizationForm, LinkForm};

/// The staff console (signed-in platform staff; others see that it is not for them).
#[component]
pub fn StaffPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <StaffGate />
        </RequireSignIn>
    }
}

#[component]
fn StaffGate() -> impl IntoView {
    let session = use_session();
    move || {
        if session.account().is_some_and(|account| account.is_staff) {
            view! { <StaffConsole /> }.into_any()
        } else {
            view! {
                <div class="page">
                    <h1>"Staff console"</h1>
                    <p class="form-message form-error" data-testid="staff-only">
                        "The staff console is for platform staff only."
                    </p>
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn StaffConsole() -> impl IntoView {
    let console = Changes::new();
    view! {
        <div class="page staff-console">
            <h1>"Staff console"</h1>
            <StatusLine message=console.message test_id="staff-message" />
            <AccountSearch console />
            <LinkForm console />
            <CreateOrganizationForm console />
            <LegacyImport console />
            <AuditLog console />
        </div>
    }
}
