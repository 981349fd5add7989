//! `/login`: signing in.

use leptos::prelude::*;
use leptos_router::components::A;

/// The sign-in page.
#[component]
pub fn Login() -> impl IntoView {
    view! {
        <div class="page narrow">
            <h1>"Sign in"</h1>
            <p>
                "Customers and partners sign in with their corporate email address; guests with any address."
            </p>
            <p class="muted">"Signing in with a password or an identity provider is being built."</p>
            <p>
                "No account yet? " <A href="/signup">"Create one"</A>
            </p>
        </div>
    }
}
