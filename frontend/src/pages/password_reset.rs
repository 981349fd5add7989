//! `/forgot-password` (ask for a link) and `/reset-password#token=…` (choose a new password).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::api;
use crate::components::feedback::running;
use crate::components::form::{Field, FormMessage};
use crate::pages::forms::{take_fragment_token, FormErrors};

/// Asks for a password-reset link.
#[component]
pub fn ForgotPassword() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let send_link = Action::new_local(move |email: &String| {
        let email = email.clone();
        async move {
            match api::auth::forgot_password(email).await {
                Ok(notice) => errors.notice(notice.message),
                Err(failure) => errors.show(&failure),
            }
        }
    });
    let pending = running(send_link);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        send_link.dispatch(email.get_untracked());
    };
    view! {
        <div class="page narrow">
            <h1>"Forgot your password?"</h1>
            <p>"We will mail you a link to choose a new one."</p>
            <form on:submit=submit novalidate=true>
                <Field
                    id="email"
                    label="Email address"
                    kind="email"
                    autocomplete="username"
                    value=email
                    error=errors.email
                />
                <FormMessage message=errors.form />
                <button type="submit" class="button" disabled=pending>
                    "Send the link"
                </button>
            </form>
            <p>
                <A href="/login">"Back to sign in"</A>
            </p>
        </div>
    }
}

/// Chooses a new password with the mailed link.
#[component]
pub fn ResetPassword() -> impl IntoView {
    let token = StoredValue::new(take_fragment_token());
    let password = RwSignal::new(String::new());
    let errors = FormErrors::new();
    let done = RwSignal::new(false);
    let reset = Action::new_local(move |(token, password): &(String, String)| {
        let (token, password) = (token.clone(), password.clone());
        async move {
            match api::auth::reset_password(token, password).await {
                Ok(notice) => {
                    done.set(true);
                    errors.notice(notice.message);
                }
                Err(failure) => errors.show(&failure),
            }
        }
    });
    let pending = running(reset);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.clear();
        if let Some(token) = token.get_value() {
            reset.dispatch((token, password.get_untracked()));
        }
    };
    view! {
        <div class="page narrow">
            <h1>"Choose a new password"</h1>
            <Show
                when=move || token.with_value(Option::is_some) && !done.get()
                fallback=move || {
                    view! {
                        <FormMessage message=errors.form />
                        <p>
                            <A href="/login">"Sign in"</A>
                            " · "
                            <A href="/forgot-password">"Ask for a new link"</A>
                        </p>
                    }
                }
            >
                <form on:submit=submit novalidate=true>
                    <Field
                        id="password"
                        label="New password"
                        kind="password"
                        autocomplete="new-password"
                        value=password
                        error=errors.password
                        hint="At least 10 characters. Choosing it signs you out everywhere."
                    />
                    <FormMessage message=errors.form />
                    <button type="submit" class="button" disabled=pending>
                        "Save the new password"
                    </button>
                </form>
            </Show>
        </div>
    }
}
