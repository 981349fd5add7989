//! What the hub hands out: published changes, the live view of one DMS, what a new stream
//! starts with, and what the hub is told about each DMS at start-up.

use std::collections::{HashMap, HashSet, VecDeque};
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

/// Events kept per organization for streams that resume with `Last-Event-ID`.
const RECENT_PER_ORGANIZATION: usize = 1024;
/// Events kept in all; beyond this the organization holding the most gives up its oldest.
const RECENT_IN_ALL: usize = 16 * 1024;

/// The recent events streams resume from, kept per organization: a busy (or flooding)
/// organization pushes out only its own, so it cannot cost another's streams their replay.
#[derive(Default)]
pub(super) struct RecentEvents {
    by_organization: HashMap<String, OrganizationEvents>,
    total: usize,
    /// Nothing up to this sequence can be replayed any more (everything was dropped then).
    floor: u64,
}

#[derive(Default)]
struct OrganizationEvents {
    events: VecDeque<LiveEvent>,
    /// The sequence of the newest event given up: a stream that saw less must start over.
    evicted_through: u64,
}

impl OrganizationEvents {
    fn evict_oldest(&mut self) -> bool {
        match self.events.pop_front() {
            Some(event) => {
                self.evicted_through = event.sequence;
                true
            }
            None => false,
        }
    }
}

impl RecentEvents {
    /// Keeps `event` (the newest published) for resuming streams.
    pub(super) fn push(&mut self, event: LiveEvent) {
        let organization = self
            .by_organization
            .entry(event.event.organization_id.clone())
            .or_default();
        if organization.events.len() == RECENT_PER_ORGANIZATION && organization.evict_oldest() {
            self.total -= 1;
        }
        organization.events.push_back(event.clone());
        self.total += 1;
        if self.total > RECENT_IN_ALL {
            // Usually the organization that just published holds more than its share: it
            // gives up its own oldest. Otherwise the one holding the most does.
            let fair_share = RECENT_IN_ALL / self.by_organization.len().max(1);
            let own = &event.event.organization_id;
            let giver = match self.by_organization.get(own) {
                Some(kept) if kept.events.len() >= fair_share => Some(own.clone()),
                _ => self
                    .by_organization
                    .iter()
                    .max_by_key(|(_, kept)| kept.events.len())
                    .map(|(id, _)| id.clone()),
            };
            if let Some(giver) = giver {
                self.evict_from(&giver);
            }
        }
    }

    fn evict_from(&mut self, organization_id: &str) {
        let Some(kept) = self.by_organization.get_mut(organization_id) else {
            return;
        };
        if kept.evict_oldest() {
            self.total -= 1;
        }
        if kept.events.is_empty() {
            // Forgetting the organization forgets what it gave up: nobody resumes from
            // before that.
            self.floor = self.floor.max(kept.evicted_through);
            self.by_organization.remove(organization_id);
        }
    }

    /// The events of `organizations` after sequence `after`, in order; `None` when some of
    /// them were given up already (the stream must start over from a snapshot).
    pub(super) fn replay(
        &self,
        organizations: &HashSet<String>,
        after: u64,
    ) -> Option<Vec<LiveEvent>> {
        if after < self.floor {
            return None;
        }
        let mut events = Vec::new();
        for organization_id in organizations {
            let Some(kept) = self.by_organization.get(organization_id) else {
                continue;
            };
            if kept.evicted_through > after {
                return None;
            }
            events.extend(
                kept.events
                    .iter()
                    .filter(|event| event.sequence > after)
                    .cloned(),
            );
        }
        events.sort_by_key(|event| event.sequence);
        Some(events)
    }

    /// Forgets every event: no stream resumes from `through` or before.
    pub(super) fn clear(&mut self, through: u64) {
        self.by_organization.clear();
        self.total = 0;
        self.floor = self.floor.max(through);
    }

    /// How many events are kept in all.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.total
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
