//! A DMS's connection state and the one pure function that decides it.
//!
//! Server, simulator and web client all go through [`connection_state`], so the colours people
//! see and the transitions Stratus records can never disagree.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// How a DMS is connected to Stratus, as shown on the overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// The gateway is connected and the DMS responds (green).
    Connected,
    /// The gateway is connected but the DMS does not respond, or has not reported within the
    /// timeout (orange).
    DmsNotResponding,
    /// No gateway connection, or nothing heard from the gateway within the timeout (red).
    Disconnected,
    /// Stratus cannot tell: its own state source is failing (warning).
    Unknown,
    /// Registered, but no gateway has ever connected.
    NeverConnected,
}

impl ConnectionState {
    /// Every state, in the order the overview explains them.
    pub const ALL: [ConnectionState; 5] = [
        ConnectionState::Connected,
        ConnectionState::DmsNotResponding,
        ConnectionState::Disconnected,
        ConnectionState::Unknown,
        ConnectionState::NeverConnected,
    ];

    /// The state as it appears in JSON and in the database, e.g. `"dms_not_responding"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connected => "connected",
            ConnectionState::DmsNotResponding => "dms_not_responding",
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Unknown => "unknown",
            ConnectionState::NeverConnected => "never_connected",
        }
    }

    /// Reads the stored form written by [`ConnectionState::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == value)
    }

    /// The tooltip next to the state icon, in the product's words.
    pub fn tooltip(self) -> &'static str {
        match self {
            ConnectionState::Connected => "Connected to Stratus, DMS online",
            ConnectionState::DmsNotResponding => "Cloud connection valid, DMS not responding",
            ConnectionState::Disconnected => "No connection to Stratus",
            ConnectionState::Unknown => {
                "Something is wrong in the cloud: the connection state cannot be determined"
            }
            ConnectionState::NeverConnected => "Registered, never connected",
        }
    }

    /// A short name for the state (counts, filters, accessible labels).
    pub fn label(self) -> &'static str {
        match self {
            ConnectionState::Connected => "Connected",
            ConnectionState::DmsNotResponding => "DMS not responding",
            ConnectionState::Disconnected => "No connection",
            ConnectionState::Unknown => "State unknown",
            ConnectionState::NeverConnected => "Never connected",
        }
    }

    /// Whether the overview shows "Last online …" for this state.
    pub fn shows_last_online(self) -> bool {
        matches!(
            self,
            ConnectionState::DmsNotResponding | ConnectionState::Disconnected
        )
    }

    /// Sort rank on the overview: problems first, healthy DMSs last.
    pub fn attention_rank(self) -> u8 {
        match self {
            ConnectionState::Unknown => 0,
            ConnectionState::Disconnected => 1,
            ConnectionState::DmsNotResponding => 2,
            ConnectionState::NeverConnected => 3,
            ConnectionState::Connected => 4,
        }
    }
}

impl std::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last DMS report a gateway sent (its heartbeat), as received by Stratus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmsReport {
    /// When Stratus received it (server time, not the DMS's clock).
    pub received_at: DateTime<Utc>,
    /// Whether the DMS answered its gateway.
    pub dms_responding: bool,
}

/// What Stratus knows of one live gateway connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayObservation {
    /// When anything (a heartbeat or a ping) last arrived on the connection.
    pub last_seen_at: DateTime<Utc>,
    /// The last heartbeat, if one arrived on this connection.
    pub last_report: Option<DmsReport>,
}

/// Everything the state depends on besides the time now and the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Whether Stratus's own state source (its database) works.
    pub source_healthy: bool,
    /// Whether a gateway ever connected for this DMS (before this connection, or now).
    pub ever_connected: bool,
    /// The live gateway connection, if there is one.
    pub gateway: Option<GatewayObservation>,
}

/// Whether something that happened `at` is older than `timeout` at `now`. Exactly `timeout`
/// old still counts as within it; times in the future count as fresh.
fn is_stale(at: DateTime<Utc>, timeout: TimeDelta, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(at) > timeout
}

/// Decides a DMS's state. `heartbeat_timeout` is how long silence is tolerated (by default
/// three heartbeat intervals).
pub fn connection_state(
    observation: &Observation,
    heartbeat_timeout: TimeDelta,
    now: DateTime<Utc>,
) -> ConnectionState {
    if !observation.source_healthy {
        return ConnectionState::Unknown;
    }
    let Some(gateway) = observation.gateway else {
        return if observation.ever_connected {
            ConnectionState::Disconnected
        } else {
            ConnectionState::NeverConnected
        };
    };
    if is_stale(gateway.last_seen_at, heartbeat_timeout, now) {
        return ConnectionState::Disconnected;
    }
    match gateway.last_report {
        Some(report)
            if report.dms_responding && !is_stale(report.received_at, heartbeat_timeout, now) =>
        {
            ConnectionState::Connected
        }
        _ => ConnectionState::DmsNotResponding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TIMEOUT_SECONDS: i64 = 30;

    fn timeout() -> TimeDelta {
        TimeDelta::seconds(TIMEOUT_SECONDS)
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// Ages around the timeout's boundaries, in nanoseconds.
    fn interesting_ages() -> Vec<i64> {
        let t = TIMEOUT_SECONDS * 1_000_000_000;
        vec![
            -1_000_000_000,
            0,
            1,
            t - 1,
            t,
            t + 1,
            2 * t,
            365 * 86_400 * 1_000_000_000,
        ]
    }

    /// The specification, written as a table rather than as code paths.
    fn expected(
        healthy: bool,
        ever: bool,
        gateway: Option<(i64, Option<(i64, bool)>)>,
        t: i64,
    ) -> ConnectionState {
        match (healthy, gateway) {
            (false, _) => ConnectionState::Unknown,
            (true, None) if ever => ConnectionState::Disconnected,
            (true, None) => ConnectionState::NeverConnected,
            (true, Some((seen_age, _))) if seen_age > t => ConnectionState::Disconnected,
            (true, Some((_, Some((report_age, true))))) if report_age <= t => {
                ConnectionState::Connected
            }
            (true, Some(_)) => ConnectionState::DmsNotResponding,
        }
    }

    fn observe(
        healthy: bool,
        ever: bool,
        gateway: Option<(i64, Option<(i64, bool)>)>,
    ) -> Observation {
        Observation {
            source_healthy: healthy,
            ever_connected: ever,
            gateway: gateway.map(|(seen_age, report)| GatewayObservation {
                last_seen_at: now() - TimeDelta::nanoseconds(seen_age),
                last_report: report.map(|(age, responding)| DmsReport {
                    received_at: now() - TimeDelta::nanoseconds(age),
                    dms_responding: responding,
                }),
            }),
        }
    }

    #[test]
    fn every_combination_at_every_boundary_matches_the_table() {
        let mut gateways = vec![None];
        for seen in interesting_ages() {
            gateways.push(Some((seen, None)));
            for report in interesting_ages() {
                for responding in [false, true] {
                    gateways.push(Some((seen, Some((report, responding)))));
                }
            }
        }
        let mut checked = 0;
        for healthy in [false, true] {
            for ever in [false, true] {
                for gateway in &gateways {
                    let observation = observe(healthy, ever, *gateway);
                    assert_eq!(
                        connection_state(&observation, timeout(), now()),
                        expected(healthy, ever, *gateway, TIMEOUT_SECONDS * 1_000_000_000),
                        "{observation:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 4 * (1 + 8 * (1 + 8 * 2)));
    }

    #[test]
    fn exactly_the_timeout_is_still_within_it_and_one_nanosecond_more_is_not() {
        let t = TIMEOUT_SECONDS * 1_000_000_000;
        let at = |age| observe(true, true, Some((age, Some((age, true)))));
        assert_eq!(
            connection_state(&at(t), timeout(), now()),
            ConnectionState::Connected
        );
        assert_eq!(
            connection_state(&at(t + 1), timeout(), now()),
            ConnectionState::Disconnected
        );
        let report_late = observe(true, true, Some((0, Some((t + 1, true)))));
        assert_eq!(
            connection_state(&report_late, timeout(), now()),
            ConnectionState::DmsNotResponding
        );
    }

    #[test]
    fn states_round_trip_through_json_and_their_stored_form() {
        for state in ConnectionState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(ConnectionState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ConnectionState::parse("green"), None);
    }

    #[test]
    fn the_orange_tooltip_is_exactly_the_product_wording() {
        assert_eq!(
            ConnectionState::DmsNotResponding.tooltip(),
            "Cloud connection valid, DMS not responding"
        );
        let tooltips: std::collections::HashSet<_> =
            ConnectionState::ALL.iter().map(|s| s.tooltip()).collect();
        assert_eq!(tooltips.len(), ConnectionState::ALL.len());
    }

    fn age() -> impl Strategy<Value = i64> {
        // Ten days either side of now, to the nanosecond, plus the exact boundaries.
        prop_oneof![
            -864_000_000_000_000i64..864_000_000_000_000i64,
            Just(TIMEOUT_SECONDS * 1_000_000_000),
            Just(TIMEOUT_SECONDS * 1_000_000_000 + 1),
        ]
    }

    proptest! {
        #[test]
        fn matches_the_table_for_arbitrary_times(
            healthy in any::<bool>(),
            ever in any::<bool>(),
            gateway in proptest::option::of((age(), proptest::option::of((age(), any::<bool>())))),
            timeout_seconds in 1i64..3_600,
        ) {
            let t = timeout_seconds * 1_000_000_000;
            let observation = observe(healthy, ever, gateway);
            let state = connection_state(&observation, TimeDelta::seconds(timeout_seconds), now());
            prop_assert_eq!(state, expected(healthy, ever, gateway, t));
        }

        #[test]
        fn an_unhealthy_source_always_means_unknown(
            ever in any::<bool>(),
            gateway in proptest::option::of((age(), proptest::option::of((age(), any::<bool>())))),
        ) {
            let observation = observe(false, ever, gateway);
            prop_assert_eq!(connection_state(&observation, timeout(), now()), ConnectionState::Unknown);
        }

        #[test]
        fn a_live_gateway_never_yields_never_connected(
            ever in any::<bool>(),
            seen in age(),
            report in proptest::option::of((age(), any::<bool>())),
        ) {
            let observation = observe(true, ever, Some((seen, report)));
            prop_assert_ne!(connection_state(&observation, timeout(), now()), ConnectionState::NeverConnected);
        }
    }
}
