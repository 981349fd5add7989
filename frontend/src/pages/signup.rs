//! `/signup`: creating an account with email and password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::email::EmailAddress;
use stratus_shared::password::NewPassword;

use crate::api;
use crate::components::feedback::running;
use crate::components::form::{Field, FormMessage};
use crate::pages::forms::FormErrors;

/// Shown for addresses at free-mail providers; sign-up still goes on.
pub const CORPORATE_NUDGE: &str =
    "This looks like a personal address. If you work for a DataMiner \
     customer or partner, use your corporate address: it lets your organization link your account. \
     Guests may go on with this one.";

/// The sign-up page: the form, then what to do next.
#[component]
pub fn Signup() -> impl IntoView {
    let errors = FormErrors::new();
    let done = RwSignal::new(false);
    view! {
        <div class="page narrow">
            <h1>"Create your account"</h1>
            <Show
                when=move || !done.get()
                fallback=move || view! { <FormMessage message=errors.form /> }
            >
                <SignUpForm errors done />
            </Show>
            <p>"Already have an account? " <A href="/login">"Sign in"</A></p>
        </div>
    }
}

/// The server's rules for the address and the password, checked here first for a quick answer.
fn check_locally(email: &str, password: &str, errors: FormErrors) -> bool {
    match EmailAddress::parse(email) {
        Err(error) => errors.email.set(Some(error.to_string())),
        Ok(parsed) => match NewPassword::parse(password, parsed.as_str()) {
            Err(error) => errors.password.set(Some(error.to_string())),
            Ok(_) => return true,
        },
    }
    false
}

#[component]
fn SignUpForm(errors: FormErrors, done: RwSignal<bool>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let nudge = Signal::derive(move || {
        EmailAddress::parse(&email.get())
            .ok()
            .filter(EmailAddress::is_free_mail)
            .map(|_| CORPORATE_NUDGE.to_owned())
    });
    let sign_up = Action::new_local(move |(email, password): &(String, String)| {
        let (email, password) = (email.clone(), password.clone());
        async move {
            match api::auth::signup(email, password).await {
                Ok(notice) => {
                    done.set(true);
                    errors.notice(notice.message);
                }
                Err(failure) => errors.show(&failure),
            }
        }
    });
    let pending = running(sign_up);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        let (email, password) = (email.get_untracked(), password.get_untracked());
        if check_locally(&email, &password, errors) {
            sign_up.dispatch((email, password));
        }
    };
    view! {
        <form on:submit=submit novalidate=true>
            <Field
                id="email"
                label="Email address"
                kind="email"
                autocomplete="email"
                value=email
                error=errors.email
                hint=nudge
            />
            <Field
                id="password"
                label="Password"
                kind="password"
                autocomplete="new-password"
                value=password
                error=errors.password
                hint="At least 10 characters. A few words strung together work well."
            />
            <FormMessage message=errors.form />
            <button type="submit" class="button" disabled=pending>
                {move || if pending() { "Creating…" } else { "Create account" }}
            </button>
        </form>
    }
}
