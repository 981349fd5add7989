//! The app tiles at the top of the home page.

use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::api::auth::AccountKind;
use stratus_shared::apps::App as PortalApp;

use crate::session::use_session;

/// Shown on organization-only tiles for guests.
pub const LINK_NEEDED: &str = "Available once your account is linked to your organization.";

/// One tile a portal app: its name, what it is for, a link to its route.
#[component]
fn AppTile(app: PortalApp) -> impl IntoView {
    let session = use_session();
    let locked = move || {
        app.is_organization_only()
            && session
                .account()
                .is_some_and(|account| account.kind == AccountKind::Guest)
    };
    view! {
        <li class="app-tile" class:app-tile-locked=locked>
            <A href=app.path()>
                <span class="app-tile-title">{app.title()}</span>
                <span class="app-tile-summary">{app.summary()}</span>
                {move || locked().then(|| view! { <span class="app-tile-note">{LINK_NEEDED}</span> })}
            </A>
        </li>
    }
}

/// Every portal app as a tile, in the product's order; the Teams bot joins them when at
/// least one of the user's DMSs is connected (it needs a DMS to talk to).
#[component]
pub fn AppTiles(#[prop(into)] teams_bot: Signal<bool>) -> impl IntoView {
    view! {
        <section aria-labelledby="apps-heading">
            <h2 id="apps-heading">"Apps"</h2>
            <ul class="app-tiles">
                {PortalApp::ALL.into_iter().map(|app| view! { <AppTile app /> }).collect_view()}
                <Show when=move || teams_bot.get()>
                    <li class="app-tile" data-testid="teams-bot-tile">
                        <A href="/teams-bot">
                            <span class="app-tile-title">"DataMiner Teams bot"</span>
                            <span class="app-tile-summary">
                                "Ask your connected DataMiner Systems questions from Microsoft Teams."
                            </span>
                        </A>
                    </li>
                </Show>
            </ul>
        </section>
    }
}
