//! The connection-state icon: shape, colour, accessible label and a tooltip that opens on
//! hover and on keyboard focus. States are never told by colour alone.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use stratus_shared::time::relative_time;
use stratus_shared::ConnectionState;

/// The CSS modifier of a state (`state-connected`, …), used for the icon and the row's bar.
pub fn state_class(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Connected => "state-connected",
        ConnectionState::DmsNotResponding => "state-not-responding",
        ConnectionState::Disconnected => "state-disconnected",
        ConnectionState::Unknown => "state-unknown",
        ConnectionState::NeverConnected => "state-never",
    }
}

/// "Last online 3 minutes ago", or that it never was, for states that show it.
pub fn last_online_text(
    state: ConnectionState,
    last_online_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<String> {
    if !state.shows_last_online() {
        return None;
    }
    Some(match last_online_at {
        Some(at) => format!("Last online {}", relative_time(at, now)),
        None => "Never online yet".to_owned(),
    })
}

/// The drawing for a state: a cloud, with a mark per state; a triangle for "unknown".
#[component]
pub fn StateGlyph(#[prop(into)] state: Signal<ConnectionState>) -> impl IntoView {
    const CLOUD: &str = "M7 19a5 5 0 0 1-.7-9.95A7 7 0 0 1 19.7 10.6 4.5 4.5 0 0 1 18.5 19z";
    move || match state.get() {
        ConnectionState::Connected => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true" class="glyph">
                <path d=CLOUD class="glyph-fill" />
                <path d="M9 14l2 2 4-4" class="glyph-mark" />
            </svg>
        }
        .into_any(),
        ConnectionState::DmsNotResponding => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true" class="glyph">
                <path d=CLOUD class="glyph-fill" />
                <path d="M10.5 11.5v5M13.5 11.5v5" class="glyph-mark" />
            </svg>
        }
        .into_any(),
        ConnectionState::Disconnected => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true" class="glyph">
                <path d=CLOUD class="glyph-fill" />
                <path d="M3 3l18 18" class="glyph-strike" />
            </svg>
        }
        .into_any(),
        ConnectionState::Unknown => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true" class="glyph">
                <path d="M12 3l10 18H2z" class="glyph-fill" />
                <path d="M12 10v5M12 17.5v.5" class="glyph-mark" />
            </svg>
        }
        .into_any(),
        ConnectionState::NeverConnected => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true" class="glyph">
                <path d=CLOUD class="glyph-outline" />
            </svg>
        }
        .into_any(),
    }
}

/// The icon with its tooltip. `tooltip_id` must be unique on the page.
#[component]
pub fn StateIcon(
    #[prop(into)] state: Signal<ConnectionState>,
    #[prop(into)] last_online_at: Signal<Option<DateTime<Utc>>>,
    #[prop(into)] now: Signal<DateTime<Utc>>,
    tooltip_id: String,
) -> impl IntoView {
    let last_online = move || last_online_text(state.get(), last_online_at.get(), now.get());
    view! {
        <span
            class=move || format!("state-icon {}", state_class(state.get()))
            tabindex="0"
            role="img"
            aria-label=move || state.get().label()
            aria-describedby=tooltip_id.clone()
            data-state=move || state.get().as_str()
        >
            <StateGlyph state />
            <span class="tooltip" role="tooltip" id=tooltip_id.clone()>
                <span class="tooltip-text">{move || state.get().tooltip()}</span>
                {move || last_online().map(|text| view! { <span class="tooltip-time">{text}</span> })}
            </span>
        </span>
    }
}
