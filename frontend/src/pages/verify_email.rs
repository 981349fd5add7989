//! `/verify-email#token=…`: finishing a sign-up from the mailed link, with the password.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::feedback::running;
use crate::components::form::{Field, FormMessage};
use crate::pages::forms::{take_fragment_token, FormErrors};
use crate::session::use_session;

/// The verification page.
#[component]
pub fn VerifyEmail() -> impl IntoView {
    // The token is read once, when the page opens: no need for a reactive switch.
    let body = match take_fragment_token() {
        Some(token) => view! { <VerifyForm token /> }.into_any(),
        None => view! {
            <p class="form-message form-error">
                "This page needs the link from your mail. Open the link again, or "
                <A href="/login">"sign in"</A>
                " to ask for a new one."
            </p>
        }
        .into_any(),
    };
    view! {
        <div class="page narrow">
            <h1>"Verify your email address"</h1>
            {body}
        </div>
    }
}

/// The password again, with the mailed link's `token`; then the visitor is signed in.
#[component]
fn VerifyForm(token: String) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let token = StoredValue::new(token);
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let verify = Action::new_local(move |password: &String| {
        let password = password.clone();
        let navigate = navigate.clone();
        async move {
            match api::auth::verify_email(token.get_value(), password).await {
                Ok(grant) => {
                    session.set(grant);
                    navigate("/", Default::default());
                }
                Err(failure) => errors.show(&failure),
            }
        }
    });
    let pending = running(verify);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        verify.dispatch(password.get_untracked());
    };
    view! {
        <p>"Enter the password you chose to confirm it is you and sign in."</p>
        <form on:submit=submit novalidate=true>
            <Field
                id="password"
                label="Password"
                kind="password"
                autocomplete="current-password"
                value=password
                error=errors.password
            />
            <FormMessage message=errors.form />
            <button type="submit" class="button" disabled=pending>
                "Verify and sign in"
            </button>
        </form>
    }
}
