//! One DMS as the hub holds it: its gateway connection (if any), its decided state and what
//! has been handed to the writer.

use chrono::{DateTime, TimeDelta, Utc};
use stratus_shared::api::live::SystemStateEvent;
use stratus_shared::state::{connection_state, GatewayObservation, Observation};
use stratus_shared::ConnectionState;
use tokio::sync::{mpsc, oneshot};

/// `last_online_at` of a connected DMS is written at most this often (and on every change of
/// state), so that 10,000 DMSs cost a few hundred writes per second, not one per heartbeat.
const LAST_ONLINE_WRITE_INTERVAL: TimeDelta = TimeDelta::seconds(30);

use super::events::KnownSystem;
use super::persist::PersistOp;

/// How often a DMS's shown state may change: `burst` changes in a row, then one per
/// `interval` (a generic cell rate algorithm). A DMS decides its own `dms_responding` and can
/// flip it with every frame; each change costs a transition row and an event on every
/// stream of its organization, so a flapping DMS is held to this pace: while it has no
/// budget left its shown state stays, and the hub's tick shows the state it is in once the
/// budget allows (the latest one, never a stale one). `unknown` (the cloud's own trouble)
/// is never held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeLimit {
    pub burst: u32,
    pub interval: TimeDelta,
}

impl ChangeLimit {
    /// `per_minute` changes a minute on average, as many in a row; `None` for 0 (no limit).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| ChangeLimit {
            burst: per_minute,
            interval: TimeDelta::milliseconds(60_000 / i64::from(per_minute)),
        })
    }
}

/// One DMS's spent budget of changes: the time at which it is whole again (GCRA's
/// "theoretical arrival time").
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ChangeBudget {
    whole_at: Option<DateTime<Utc>>,
}

impl ChangeBudget {
    /// Spends one change if the budget allows it now.
    fn spend(&mut self, limit: ChangeLimit, now: DateTime<Utc>) -> bool {
        let whole_at = self.whole_at.unwrap_or(now).max(now);
        // Room for `burst` changes at once: refused while more than `burst - 1` intervals
        // are still owed.
        let owed_at_most =
            limit.interval * i32::try_from(limit.burst.saturating_sub(1)).unwrap_or(i32::MAX);
        if whole_at - now > owed_at_most {
            return false;
        }
        self.whole_at = Some(whole_at + limit.interval);
        true
    }
}

pub(super) struct Connection {
    pub(super) id: u64,
    pub(super) observation: GatewayObservation,
    /// Tells the socket task to close with this code.
    pub(super) close: Option<oneshot::Sender<u16>>,
    /// Cluster mode: this connection's claim has come back on the bus, so a later claim of
    /// another backend replaces it (a claim seen before our own is older than ours).
    pub(super) claim_seen: bool,
}

pub(super) struct LiveSystem {
    pub(super) organization_id: String,
    pub(super) ever_connected: bool,
    pub(super) connection: Option<Connection>,
    pub(super) state: ConnectionState,
    pub(super) since: DateTime<Utc>,
    pub(super) last_online_at: Option<DateTime<Utc>>,
    pub(super) last_online_written_at: Option<DateTime<Utc>>,
    pub(super) dms_version: Option<String>,
    pub(super) agent_count: Option<i32>,
    /// The oldest DMS-token generation still accepted (revocations raise it).
    pub(super) generation: i32,
    /// The last state handed to the writer, so a return from `unknown` records nothing twice.
    pub(super) recorded_state: ConnectionState,
    /// Changes spent recently (see [`ChangeLimit`]).
    pub(super) budget: ChangeBudget,
    /// A change is waiting for budget: the tick re-decides this DMS even without a socket.
    pub(super) change_held: bool,
}

impl LiveSystem {
    /// A DMS just registered: never connected.
    pub(super) fn registered(organization_id: &str, now: DateTime<Utc>) -> Self {
        Self {
            organization_id: organization_id.to_owned(),
            ever_connected: false,
            connection: None,
            state: ConnectionState::NeverConnected,
            since: now,
            last_online_at: None,
            last_online_written_at: None,
            dms_version: None,
            agent_count: None,
            generation: 0,
            recorded_state: ConnectionState::NeverConnected,
            budget: ChangeBudget::default(),
            change_held: false,
        }
    }

    /// A DMS as the database knew it, as a mirror of what the cluster decided: its gateway,
    /// if any, is connected to another backend, whose announcements keep the state current.
    pub(super) fn mirrored(known: KnownSystem, now: DateTime<Utc>) -> (String, Self) {
        let state = known.stored_state.unwrap_or(if known.ever_connected {
            ConnectionState::Disconnected
        } else {
            ConnectionState::NeverConnected
        });
        let live = Self {
            organization_id: known.organization_id,
            ever_connected: known.ever_connected,
            connection: None,
            state,
            since: known.state_since.unwrap_or(now),
            last_online_at: known.last_online_at,
            last_online_written_at: known.last_online_at,
            dms_version: known.dms_version,
            agent_count: known.agent_count,
            generation: known.token_generation,
            recorded_state: state,
            budget: ChangeBudget::default(),
            change_held: false,
        };
        (known.id, live)
    }

    /// A DMS as the database knew it at start-up, decided afresh: nothing is connected to a
    /// process that has just started. Returns its id, its live state and, when that state is
    /// not the stored one (a DMS connected to the previous process is disconnected now), the
    /// transition to record.
    pub(super) fn restored(
        known: KnownSystem,
        heartbeat_timeout: TimeDelta,
        now: DateTime<Utc>,
    ) -> (String, Self, Option<PersistOp>) {
        let observation = Observation {
            source_healthy: true,
            ever_connected: known.ever_connected,
            gateway: None,
        };
        let state = connection_state(&observation, heartbeat_timeout, now);
        let unchanged = known.stored_state == Some(state);
        let transition = (!unchanged)
            .then(|| PersistOp::transition(&known.id, state, now, known.last_online_at));
        let live = Self {
            organization_id: known.organization_id,
            ever_connected: known.ever_connected,
            connection: None,
            state,
            since: known.state_since.filter(|_| unchanged).unwrap_or(now),
            last_online_at: known.last_online_at,
            last_online_written_at: known.last_online_at,
            dms_version: known.dms_version,
            agent_count: known.agent_count,
            generation: known.token_generation,
            recorded_state: state,
            budget: ChangeBudget::default(),
            change_held: false,
        };
        (known.id, live, transition)
    }
}

impl LiveSystem {
    /// Re-decides this DMS: hands what must outlive a restart to the writer and returns its
    /// event when its state changed. A connected DMS whose last-online time is due to be
    /// written is added to `last_online_due` when given (the 1 s tick gathers them into one
    /// write); without it the time waits for the next tick. With `limit`, a change beyond
    /// the DMS's budget is held (see [`ChangeLimit`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide(
        &mut self,
        system_id: &str,
        source_healthy: bool,
        heartbeat_timeout: TimeDelta,
        limit: Option<ChangeLimit>,
        now: DateTime<Utc>,
        persist: &mpsc::UnboundedSender<PersistOp>,
        last_online_due: Option<&mut Vec<String>>,
    ) -> Option<SystemStateEvent> {
        let observation = Observation {
            source_healthy,
            ever_connected: self.ever_connected,
            gateway: self.connection.as_ref().map(|c| c.observation),
        };
        let state = connection_state(&observation, heartbeat_timeout, now);
        if state == ConnectionState::Connected {
            self.last_online_at = Some(now);
        }
        if state == self.state {
            self.change_held = false;
            if let Some(due) = last_online_due {
                if state == ConnectionState::Connected
                    && self
                        .last_online_written_at
                        .is_none_or(|written| now - written >= LAST_ONLINE_WRITE_INTERVAL)
                {
                    self.last_online_written_at = Some(now);
                    due.push(system_id.to_owned());
                }
            }
            return None;
        }
        let cloud_side =
            state == ConnectionState::Unknown || self.state == ConnectionState::Unknown;
        if let Some(limit) = limit.filter(|_| !cloud_side) {
            if !self.budget.spend(limit, now) {
                self.change_held = true;
                return None;
            }
        }
        self.change_held = false;
        self.state = state;
        self.since = now;
        self.last_online_written_at = self.last_online_at;
        // An unknown state is Stratus's own failure, not the DMS's: it is shown, not recorded
        // (the database it would be written to is what fails).
        if state != ConnectionState::Unknown && state != self.recorded_state {
            self.recorded_state = state;
            let _ = persist.send(PersistOp::transition(
                system_id,
                state,
                now,
                self.last_online_at,
            ));
        }
        Some(event_of(system_id, self))
    }
}

pub(super) fn event_of(system_id: &str, system: &LiveSystem) -> SystemStateEvent {
    shown_event_of(system_id, system, true)
}

/// The event of a DMS as this backend shows it: `unknown` while it cannot tell (cluster mode:
/// its database or its bus is away), whatever the cluster last decided.
pub(super) fn shown_event_of(
    system_id: &str,
    system: &LiveSystem,
    can_tell: bool,
) -> SystemStateEvent {
    SystemStateEvent {
        system_id: system_id.to_owned(),
        organization_id: system.organization_id.clone(),
        state: if can_tell {
            system.state
        } else {
            ConnectionState::Unknown
        },
        last_online_at: system.last_online_at,
        at: system.since,
    }
}

/// Tells the connection's socket to close with `code` (once; later orders are no-ops).
pub(super) fn close(connection: &mut Option<Connection>, code: u16) {
    if let Some(sender) = connection.as_mut().and_then(|c| c.close.take()) {
        let _ = sender.send(code);
    }
}

impl Connection {
    /// Orders the socket closed when nothing arrived on it for `timeout`. The hub's 1 s tick
    /// does this for every socket, so no socket keeps an idle timer of its own (18,000 timers
    /// firing every timeout would wake as many tasks as the heartbeats do).
    pub(super) fn close_if_silent(&mut self, timeout: TimeDelta, now: DateTime<Utc>) {
        if now - self.observation.last_seen_at >= timeout {
            if let Some(sender) = self.close.take() {
                let _ = sender.send(stratus_shared::api::gateway::close_code::IDLE);
            }
        }
    }
}
