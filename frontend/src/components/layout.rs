//! The frame around every page: header with the product name and the account, and a footer.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::components::organization_selector::OrganizationSelector;
use crate::session::use_session;

/// Top bar: product name (home link), and sign-in links or the signed-in account.
#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="site-header">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Stratus"
            </A>
            <OrganizationSelector />
            <nav aria-label="Account">
                {move || match session.account() {
                    Some(account) => {
                        view! { <SignedInMenu email=account.email is_staff=account.is_staff /> }
                            .into_any()
                    }
                    None if session.is_restoring() => ().into_any(),
                    None => {
                        view! {
                            <A href="/login" attr:class="button button-quiet">"Sign in"</A>
                            <A href="/signup" attr:class="button">"Create account"</A>
                        }
                            .into_any()
                    }
                }}
            </nav>
        </header>
    }
}

#[component]
fn SignedInMenu(email: String, is_staff: bool) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            session.sign_out().await;
            navigate("/", Default::default());
        });
    };
    view! {
        // Platform staff only; the page itself tells anyone else it is not for them.
        <Show when=move || is_staff>
            <A href="/staff" attr:class="button button-quiet" attr:data-testid="staff-link">
                "Staff"
            </A>
        </Show>
        <A href="/account" attr:class="account-link" attr:data-testid="signed-in-as">
            {email}
        </A>
        <button type="button" class="button button-quiet" on:click=sign_out>
            "Sign out"
        </button>
    }
}

/// Bottom bar.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <span>"Stratus — the cloud portal for DataMiner Systems"</span>
            <span class="muted">"Web app " {env!("CARGO_PKG_VERSION")}</span>
        </footer>
    }
}
