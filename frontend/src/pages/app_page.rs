//! The page of one portal app, reached from its tile.

use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::apps::App as PortalApp;

/// Says what the app is for and who may use it.
#[component]
pub fn AppPage(app: PortalApp) -> impl IntoView {
    let audience = if app.is_organization_only() {
        "This app shows your organization's own information: it is available once your account is linked to your organization."
    } else {
        "This app is open to every signed-in user, guests included."
    };
    view! {
        <div class="page">
            <h1>{app.title()}</h1>
            <p class="lead">{app.summary()}</p>
            <p>{audience}</p>
            <p>
                <A href="/">"Back to the home page"</A>
            </p>
        </div>
    }
}

/// The DataMiner Teams bot: reached from its tile once a DMS is connected.
#[component]
pub fn TeamsBotPage() -> impl IntoView {
    view! {
        <div class="page">
            <h1>"DataMiner Teams bot"</h1>
            <p class="lead">
                "Ask your connected DataMiner Systems questions from Microsoft Teams: alarms, element states, KPIs."
            </p>
            <p>"The bot works through the cloud connection of your DMSs, so it needs at least one connected DMS."</p>
            <p>
                <A href="/">"Back to the home page"</A>
            </p>
        </div>
    }
}
