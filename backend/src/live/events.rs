//! What the hub hands out: published changes, the live view of one DMS, what a new stream
//! starts with, and what the hub is told about each DMS at start-up.

use chrono::{DateTime, Utc};
use stratus_shared::api::live::SystemStateEvent;
use stratus_shared::ConnectionState;

/// A state change as published: a sequence number for `Last-Event-ID`, and the event.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub sequence: u64,
    pub event: SystemStateEvent,
    /// The DMS was removed (`event` is its last state).
    pub removed: bool,
}

/// What the hub knows of one DMS when it starts (from the database).
#[derive(Debug, Clone)]
pub struct KnownSystem {
    pub id: String,
    pub organization_id: String,
    pub stored_state: Option<ConnectionState>,
    /// When the stored state began (its last transition).
    pub state_since: Option<DateTime<Utc>>,
    pub ever_connected: bool,
    pub last_online_at: Option<DateTime<Utc>>,
    pub dms_version: Option<String>,
    pub agent_count: Option<i32>,
    pub token_generation: i32,
}

/// The live view of one DMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemView {
    pub state: ConnectionState,
    pub since: DateTime<Utc>,
    pub last_online_at: Option<DateTime<Utc>>,
    pub dms_version: Option<String>,
    pub agent_count: Option<i32>,
}

/// What a new subscriber starts with.
pub enum StreamStart {
    /// Everything the subscriber may see now, as of the given sequence number.
    Snapshot(u64, Vec<LiveEvent>),
    /// The events the subscriber missed since its `Last-Event-ID`.
    Resume(Vec<LiveEvent>),
}
