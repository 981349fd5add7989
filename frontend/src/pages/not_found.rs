//! The page for any route the web app does not know.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// "Page not found", naming the path that was asked for.
#[component]
pub fn NotFound() -> impl IntoView {
    let location = use_location();
    view! {
        <div class="page not-found">
            <h1>"Page not found"</h1>
            <p>
                "There is no page at " <code>{move || location.pathname.get()}</code>
                ". It may have moved, or the link may be mistyped."
            </p>
            <p>
                <A href="/">"Go to the home page"</A>
            </p>
        </div>
    }
}
