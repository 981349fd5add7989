//! `/`: the apps and, for a signed-in user, the live overview of their DMSs.

use leptos::prelude::*;
use leptos_router::components::A;
use stratus_shared::ConnectionState;

use crate::components::app_tiles::AppTiles;
use crate::components::health_status::HealthStatus;
use crate::components::invitations::PendingInvitations;
use crate::components::system_overview::SystemOverview;
use crate::live::Overview;
use crate::session::use_session;

/// The home page.
#[component]
pub fn Home() -> impl IntoView {
    let session = use_session();
    // Only signing in or out switches the page; account details changing must not rebuild
    // the overview (and restart its stream).
    let signed_in = Memo::new(move |_| session.account().is_some());
    move || {
        if signed_in.get() {
            view! { <SignedInHome /> }.into_any()
        } else if session.is_restoring() {
            view! { <div class="page"><p class="muted">"Loading…"</p></div> }.into_any()
        } else {
            view! { <Welcome /> }.into_any()
        }
    }
}

#[component]
fn Welcome() -> impl IntoView {
    view! {
        <div class="page">
            <h1>"Welcome to Stratus"</h1>
            <p class="lead">
                "Connect your DataMiner Systems to the cloud, follow their state, and reach the apps of your organization."
            </p>
            <p>
                <A href="/login" attr:class="button">"Sign in"</A>
                " "
                <A href="/signup" attr:class="button button-quiet">"Create an account"</A>
            </p>
            <HealthStatus />
            <AppTiles teams_bot=Signal::derive(|| false) />
        </div>
    }
}

#[component]
fn SignedInHome() -> impl IntoView {
    let session = use_session();
    // Created here so the stream lives exactly as long as this page.
    let overview = Overview::start(session);
    let any_connected = Signal::derive(move || {
        overview.rows.with(|rows| {
            rows.iter()
                .any(|row| row.state.get() == ConnectionState::Connected)
        })
    });
    view! {
        <div class="page">
            <PendingInvitations />
            <AppTiles teams_bot=any_connected />
            <SystemOverview overview />
            <HealthStatus />
        </div>
    }
}
