//! `/login`: signing in with email and password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use stratus_shared::ErrorCode;

use crate::api;
use crate::components::feedback::running;
use crate::components::form::{Field, FormMessage};
use crate::components::provider_buttons::ProviderButtons;
use crate::pages::forms::{safe_next, FormErrors};
use crate::session::use_session;

/// The sign-in page.
#[component]
pub fn Login() -> impl IntoView {
    view! {
        <div class="page narrow">
            <h1>"Sign in"</h1>
            <p class="muted">
                "Customers and partners use their corporate email address; guests any address."
            </p>
            <SignInForm />
            <ProviderButtons />
            <p>
                <A href="/forgot-password">"Forgot your password?"</A>
            </p>
            <p>"No account yet? " <A href="/signup">"Create one"</A></p>
        </div>
    }
}

/// Email and password; signed in, the visitor goes on to `?next=` (a path of this site).
#[component]
fn SignInForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let unverified = RwSignal::new(false);
    let sign_in = Action::new_local(move |(email, password): &(String, String)| {
        let (email, password) = (email.clone(), password.clone());
        let navigate = navigate.clone();
        let next = safe_next(query.read_untracked().get("next"));
        async move {
            match api::auth::login(email, password).await {
                Ok(grant) => {
                    session.set(grant);
                    navigate(&next, Default::default());
                }
                Err(failure) => {
                    // The server never says whether the address is unverified (that would tell
                    // who has an account), so every refused sign-in offers a new link.
                    unverified.set(failure.code() == Some(ErrorCode::InvalidCredentials));
                    errors.show(&failure);
                }
            }
        }
    });
    let pending = running(sign_in);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        unverified.set(false);
        sign_in.dispatch((email.get_untracked(), password.get_untracked()));
    };
    view! {
        <form on:submit=submit novalidate=true>
            <Field
                id="email"
                label="Email address"
                kind="email"
                autocomplete="username"
                value=email
                error=errors.email
            />
            <Field
                id="password"
                label="Password"
                kind="password"
                autocomplete="current-password"
                value=password
                error=errors.password
            />
            <FormMessage message=errors.form />
            <Show when=move || unverified.get()>
                <ResendVerification email errors />
            </Show>
            <button type="submit" class="button" disabled=pending>
                {move || if pending() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

/// Offered after a refused sign-in, in case the address is not verified yet: mails a new
/// verification link (only an unverified account's owner gets one).
#[component]
fn ResendVerification(email: RwSignal<String>, errors: FormErrors) -> impl IntoView {
    let resend = move |_| {
        spawn_local(async move {
            match api::auth::resend_verification(email.get_untracked()).await {
                Ok(notice) => errors.notice(notice.message),
                Err(failure) => errors.show(&failure),
            }
        });
    };
    view! {
        <button type="button" class="button button-quiet" on:click=resend>
            "Not verified yet? Send me a new verification link"
        </button>
    }
}
