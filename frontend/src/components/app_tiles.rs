//! The app tiles at the top of the home page.

use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::apps::App as PortalApp;

/// One tile a portal app: its name, what it is for, a link to its route.
#[component]
fn AppTile(app: PortalApp) -> impl IntoView {
    view! {
        <li class="app-tile">
            <A href=app.path()>
                <span class="app-tile-title">{app.title()}</span>
                <span class="app-tile-summary">{app.summary()}</span>
            </A>
        </li>
    }
}

/// Every portal app as a tile, in the product's order.
#[component]
pub fn AppTiles() -> impl IntoView {
    view! {
        <section aria-labelledby="apps-heading">
            <h2 id="apps-heading">"Apps"</h2>
            <ul class="app-tiles">
                {PortalApp::ALL.into_iter().map(|app| view! { <AppTile app /> }).collect_view()}
            </ul>
        </section>
    }
}
