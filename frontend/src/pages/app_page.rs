//! The DataMiner Teams bot's page, reached from its tile.

use leptos::prelude::*;
use leptos_router::components::A;

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
