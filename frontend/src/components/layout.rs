//! The frame around every page: header with the product name and sign-in, and a footer.

use leptos::prelude::*;
use leptos_router::components::A;

/// Top bar: product name (home link) and the way to sign in.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Stratus"
            </A>
            <nav aria-label="Account">
                <A href="/login" attr:class="button button-quiet">"Sign in"</A>
                <A href="/signup" attr:class="button">"Create account"</A>
            </nav>
        </header>
    }
}

/// Bottom bar: what this is and the server's version once known.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <span>"Stratus — the cloud portal for DataMiner Systems"</span>
            <span class="muted">"Web app " {env!("CARGO_PKG_VERSION")}</span>
        </footer>
    }
}
