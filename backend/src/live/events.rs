//! What the hub hands out: published changes, the live view of one DMS, what a new stream
//! starts with, and what the hub is told about each DMS at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use stratus_shared::api::live::{SystemRemovedEvent, SystemStateEvent};
use stratus_shared::ConnectionState;

/// A state change as published: a sequence number for `Last-Event-ID`, the event, and its
/// JSON, serialized once for every stream that sends it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub sequence: u64,
    pub event: SystemStateEvent,
    /// The DMS was removed (`event` is its last state).
    pub removed: bool,
    /// `event` as a [`SystemStateEvent`], or as a [`SystemRemovedEvent`] when `removed`.
    pub json: Arc<str>,
}

impl LiveEvent {
    pub(super) fn new(sequence: u64, event: SystemStateEvent, removed: bool) -> Self {
        // Serializing these plain structs cannot fail; an empty object keeps streams valid.
        let json = if removed {
            serde_json::to_string(&SystemRemovedEvent {
                system_id: event.system_id.clone(),
                organization_id: event.organization_id.clone(),
            })
        } else {
            serde_json::to_string(&event)
        };
        Self {
            sequence,
            event,
            removed,
            json: json.unwrap_or_else(|_| "{}".into()).into(),
        }
    }
}

/// The changes of one flush, in order: at most one per DMS.
pub type LiveBatch = Arc<[LiveEvent]>;

/// Changes published since the last flush, at most one per DMS: a later change of the same
/// DMS replaces the earlier one in place, so a burst costs each stream one event.
#[derive(Default)]
pub(super) struct Unflushed {
    changes: Vec<(SystemStateEvent, bool)>,
    position: HashMap<String, usize>,
}

impl Unflushed {
    pub(super) fn add(&mut self, event: SystemStateEvent, removed: bool) {
        match self.position.get(&event.system_id) {
            Some(&at) => self.changes[at] = (event, removed),
            None => {
                self.position
                    .insert(event.system_id.clone(), self.changes.len());
                self.changes.push((event, removed));
            }
        }
    }

    pub(super) fn take(&mut self) -> Vec<(SystemStateEvent, bool)> {
        self.position.clear();
        std::mem::take(&mut self.changes)
    }
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
    Snapshot(u64, Vec<SystemStateEvent>),
    /// The events the subscriber missed since its `Last-Event-ID`, in order.
    Resume(Vec<LiveEvent>),
}
