//! `/account`: who is signed in, their organizations, password and sessions.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use stratus_shared::api::auth::{Account, AccountKind, SessionSummary};
use stratus_shared::api::oidc::LinkedIdentity;

use crate::api::{self, ApiFailure};
use crate::components::app_tiles::LINK_NEEDED;
use crate::components::feedback::{loaded, outcome, running, Loading};
use crate::components::form::{Field, FormMessage};
use crate::components::require_sign_in::RequireSignIn;
use crate::pages::forms::FormErrors;
use crate::session::use_session;

/// The account page (signed-in users only).
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <AccountDetails />
        </RequireSignIn>
    }
}

#[component]
fn AccountDetails() -> impl IntoView {
    let session = use_session();
    let account = LocalResource::new(move || async move {
        let token = session.token()?;
        api::account::me(&token).await
    });
    view! {
        <div class="page narrow">
            <h1>"Your account"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(account.await, |account| view! { <AccountSummary account /> })
                })}
            </Suspense>
            <LinkedProviders />
            <ChangePassword />
            <Sessions />
        </div>
    }
}

#[component]
fn AccountSummary(account: Account) -> impl IntoView {
    let kind = match account.kind {
        AccountKind::Guest => "Guest",
        AccountKind::Member => "Organization member",
    };
    let organizations = account.organizations.clone();
    view! {
        <dl class="facts">
            <dt>"Email"</dt>
            <dd data-testid="account-email">{account.email.clone()}</dd>
            <dt>"Kind"</dt>
            <dd data-testid="account-kind">{kind}</dd>
        </dl>
        <h2>"Organizations"</h2>
        {if organizations.is_empty() {
            view! { <p class="muted">{LINK_NEEDED}</p> }.into_any()
        } else {
            view! {
                <ul>
                    {organizations
                        .into_iter()
                        .map(|o| view! { <li>{o.name} " — " {o.role.label()}</li> })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let change = Action::new_local(move |(current_password, new_password): &(String, String)| {
        let (current_password, new_password) = (current_password.clone(), new_password.clone());
        async move {
            let changed: Result<(), ApiFailure> = async {
                api::account::change_password(&session.token()?, current_password, new_password)
                    .await
            }
            .await;
            match changed {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    errors.notice("Password changed. Your other sessions were signed out.");
                }
                Err(failure) => errors.show(&failure),
            }
        }
    });
    let pending = running(change);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        change.dispatch((current.get_untracked(), new.get_untracked()));
    };
    view! {
        <h2>"Change password"</h2>
        <form on:submit=submit novalidate=true>
            <Field
                id="current-password"
                label="Current password"
                kind="password"
                autocomplete="current-password"
                value=current
                error=Signal::derive(|| None::<String>)
            />
            <Field
                id="new-password"
                label="New password"
                kind="password"
                autocomplete="new-password"
                value=new
                error=errors.password
            />
            <FormMessage message=errors.form />
            <button type="submit" class="button" disabled=pending>
                "Change password"
            </button>
        </form>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let sessions =
        LocalResource::new(move || async move { api::account::sessions(&session.token()?).await });
    let sign_out_everywhere = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            if let Ok(token) = session.token() {
                let _ = api::account::sign_out_everywhere(&token).await;
            }
            session.clear();
            navigate("/login", Default::default());
        });
    };
    view! {
        <h2>"Where you are signed in"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(sessions.await, |list| view! { <ul class="sessions">{list.into_iter().map(session_item).collect_view()}</ul> })
            })}
        </Suspense>
        <button type="button" class="button button-danger" on:click=sign_out_everywhere>
            "Sign out everywhere"
        </button>
    }
}

fn session_item(s: SessionSummary) -> impl IntoView {
    let since = s.created_at.format("%Y-%m-%d %H:%M UTC").to_string();
    view! {
        <li>
            {s.user_agent.unwrap_or_else(|| "Unknown browser".into())}
            <span class="muted">" — since " {since}</span>
            {s.current.then(|| view! { <strong>" (this browser)"</strong> })}
        </li>
    }
}

#[component]
fn LinkedProviders() -> impl IntoView {
    let session = use_session();
    let unlink = Action::new_local(move |identity_id: &String| {
        let identity_id = identity_id.clone();
        async move { api::account::unlink_identity(&session.token()?, &identity_id).await }
    });
    // Re-read after every unlink (a refused one changes nothing, and reading again says so).
    let unlinked = unlink.version();
    let identities = LocalResource::new(move || {
        unlinked.track();
        async move { api::account::identities(&session.token()?).await }
    });
    view! {
        <h2>"Sign-in providers"</h2>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                loaded(identities.await, |list| view! { <IdentityList list unlink /> })
            })}
        </Suspense>
        <FormMessage message=outcome(unlink, Some("Unlinked.")) />
    }
}

#[component]
fn IdentityList(
    list: Vec<LinkedIdentity>,
    unlink: Action<String, Result<(), ApiFailure>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <p class="muted" data-testid="no-providers">
                "No provider is linked. You sign in with your password."
            </p>
        }
        .into_any();
    }
    let item = move |identity: LinkedIdentity| {
        let id = identity.id.clone();
        let unlink_this = move |_| {
            unlink.clear();
            unlink.dispatch(id.clone());
        };
        view! {
            <li>
                <strong>{identity.provider_name}</strong>
                " — " {identity.email}
                " "
                <button type="button" class="button button-quiet" on:click=unlink_this>
                    "Unlink"
                </button>
            </li>
        }
    };
    view! {
        <ul class="identities" data-testid="linked-providers">
            {list.into_iter().map(item).collect_view()}
        </ul>
    }
    .into_any()
}
