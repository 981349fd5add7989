//! `/signup`: creating an account.

use leptos::prelude::*;
use leptos_router::components::A;

/// The sign-up page.
#[component]
pub fn Signup() -> impl IntoView {
    view! {
        <div class="page narrow">
            <h1>"Create your account"</h1>
            <p>
                "Use your corporate email address if you work for a DataMiner customer or partner: it lets your organization's administrators link your account."
            </p>
            <p class="muted">"Account creation is being built."</p>
            <p>
                "Already have an account? " <A href="/login">"Sign in"</A>
            </p>
        </div>
    }
}
