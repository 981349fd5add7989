//! `/`: the apps and the service status.

use leptos::prelude::*;

use crate::components::app_tiles::AppTiles;
use crate::components::health_status::HealthStatus;

/// The home page.
#[component]
pub fn Home() -> impl IntoView {
    view! {
        <div class="page">
            <h1>"Welcome to Stratus"</h1>
            <p class="lead">
                "Connect your DataMiner Systems to the cloud, follow their state, and reach the apps of your organization."
            </p>
            <HealthStatus />
            <AppTiles />
        </div>
    }
}
