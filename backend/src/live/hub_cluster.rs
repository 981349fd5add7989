//! The hub in cluster mode: what it sends on the bus, and what it does with what the bus
//! brings (every backend's announcements, its own included, in one order for all).
//!
//! The backend holding a DMS's socket decides its state; each flush goes out as one
//! [`BusMessage::Changes`]. Nothing reaches this backend's streams until it comes back from
//! the bus, numbered by the bus's sequence: event ids are the same on every backend, so a
//! stream resumed on another backend replays what it missed. A backend that cannot tell (its
//! database or its bus is away) shows every DMS `unknown` and its streams start over when it
//! can again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use stratus_shared::api::gateway::close_code;
use stratus_shared::api::live::SystemStateEvent;
use stratus_shared::ConnectionState;

use super::{ClusterSide, HubState, LiveHub};
use crate::live::bus::{BusMessage, Claim, Envelope, MAX_SYSTEMS_PER_MESSAGE};
use crate::live::events::{KnownSystem, LiveEvent};
use crate::live::persist::PersistOp;
use crate::live::system::{close, event_of, LiveSystem};

impl LiveHub {
    /// Sends what waits to be flushed to the bus, as few messages as the limits allow.
    pub(super) fn flush_to_bus(hub: &mut HubState, cluster: &ClusterSide) -> usize {
        let mut claims = std::mem::take(&mut hub.unflushed_claims);
        let changes = hub.unflushed.take();
        if claims.is_empty() && changes.is_empty() {
            return 0;
        }
        let count = claims.len() + changes.len();
        let mut changes = changes.into_iter().peekable();
        while !claims.is_empty() || changes.peek().is_some() {
            let claims_here: Vec<Claim> = claims
                .drain(..claims.len().min(MAX_SYSTEMS_PER_MESSAGE))
                .collect();
            let room = MAX_SYSTEMS_PER_MESSAGE - claims_here.len();
            let (mut states, mut removed) = (Vec::new(), Vec::new());
            for (event, is_removal) in changes.by_ref().take(room) {
                if is_removal {
                    removed.push(event);
                } else {
                    states.push(event);
                }
            }
            let body = BusMessage::Changes {
                claims: claims_here,
                states,
                removed,
            };
            if cluster
                .outgoing
                .send(Envelope::new(&cluster.backend_id, body))
                .is_err()
            {
                tracing::warn!("the bus publisher has stopped");
            }
        }
        count
    }

    /// Sends one message to the other backends (cluster mode; nothing otherwise).
    pub(super) fn announce_on_bus(&self, body: BusMessage) {
        if let Some(cluster) = &self.cluster {
            let _ = cluster
                .outgoing
                .send(Envelope::new(&cluster.backend_id, body));
        }
    }

    /// A message that could not be published: the DMSs it announced are announced again when
    /// the bus is back.
    pub fn publish_failed(&self, envelope: &Envelope) {
        if let BusMessage::Changes { states, .. } = &envelope.body {
            let mut hub = self.lock();
            hub.unpublished
                .extend(states.iter().map(|event| event.system_id.clone()));
        }
    }

    /// Applies the message the bus numbered `sequence`. `None` is a message that was dropped
    /// as invalid: it still counts, so the next one is not taken for a gap.
    pub fn apply(&self, sequence: u64, envelope: Option<Envelope>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let mut hub = self.lock();
        if hub.last_applied != 0 && sequence != hub.last_applied + 1 {
            // Something was missed: a resumed stream would not get it, so none resumes.
            tracing::warn!(
                after = hub.last_applied,
                sequence,
                "gap in the bus: streams start over"
            );
            self.start_over(&mut hub);
        }
        hub.last_applied = sequence;
        // Snapshots and resumes count in the bus's numbers, the same on every backend.
        hub.next_sequence = sequence + 1;
        let Some(envelope) = envelope else {
            return;
        };
        let mine = envelope.origin == cluster.backend_id;
        match envelope.body {
            BusMessage::Changes {
                claims,
                states,
                removed,
            } => {
                for claim in &claims {
                    self.apply_claim(&mut hub, claim, mine);
                }
                self.apply_changes(&mut hub, sequence, states, removed, mine);
            }
            BusMessage::Revoked {
                system_id,
                generation,
            } if !mine => {
                drop(hub);
                self.revoke_here(&system_id, generation, crate::db::now());
            }
            BusMessage::MembershipChanged { user_id } if !mine => {
                self.membership_changed_here(&user_id);
            }
            BusMessage::RemoteAccessCut { system_ids, people } if !mine => {
                self.remote_access_cut_here(super::RemoteCut {
                    system_ids,
                    people: people
                        .into_iter()
                        .map(|person| (person.user_id, person.organization_id))
                        .collect(),
                });
            }
            BusMessage::SessionsEnded { session_ids } if !mine => {
                self.sessions_ended_here(&session_ids);
            }
            BusMessage::TakenOver {
                backend,
                system_ids,
            } => {
                if backend == cluster.backend_id {
                    // Our lease ran out (we could not renew it): the renewal that finds it
                    // gone records the DMSs we still hold (`LiveHub::lease_lost`).
                    tracing::warn!(
                        count = system_ids.len(),
                        "another backend took over our DMSs"
                    );
                } else if !mine {
                    let now = crate::db::now();
                    for id in &system_ids {
                        self.record_again_if_held(&mut hub, id, now);
                    }
                }
            }
            _ => {}
        }
    }

    /// A claim in bus order: the last claim of a DMS wins. A backend closes its own socket of
    /// that DMS when a foreign claim comes after its own; a foreign claim that comes before
    /// its own is older, and our claim will close that one.
    ///
    /// A replaced socket is let go of without a decision: the DMS is connected elsewhere, so
    /// this backend records nothing (no `disconnected` for a gateway that merely moved), and
    /// its socket task's `disconnect` finds no connection of its own.
    fn apply_claim(&self, hub: &mut HubState, claim: &Claim, mine: bool) {
        let Some(system) = hub.systems.get_mut(&claim.system_id) else {
            return;
        };
        let Some(connection) = system.connection.as_mut() else {
            return;
        };
        tracing::debug!(
            system_id = claim.system_id,
            mine,
            claimed = claim.connection,
            held = connection.id,
            claim_seen = connection.claim_seen,
            "claim"
        );
        if mine {
            if connection.id == claim.connection {
                connection.claim_seen = true;
            }
        } else if connection.claim_seen {
            close(&mut system.connection, close_code::REPLACED);
            system.connection = None;
            self.release(&claim.system_id);
        }
    }

    fn apply_changes(
        &self,
        hub: &mut HubState,
        sequence: u64,
        states: Vec<SystemStateEvent>,
        removed: Vec<SystemStateEvent>,
        mine: bool,
    ) {
        let mut batch = Vec::with_capacity(states.len() + removed.len());
        let mut corrections = Vec::new();
        for event in states {
            let removed_here = hub.removed.contains(&event.system_id);
            match hub.systems.get_mut(&event.system_id) {
                // Ours: we decided it (an older decision of ours may come back after a newer
                // one). Another backend's word on a DMS whose socket we hold is outdated: we
                // say again what is true.
                Some(system) if system.connection.is_some() => {
                    if !mine {
                        // Not shown: the correction is, when it comes back from the bus.
                        corrections.push(event.system_id.clone());
                        continue;
                    }
                }
                // Decided before what this backend shows (an announcement that waited for the
                // bus, e.g. a registration made while its backend was joining): outdated.
                Some(system) if event.at < system.since => continue,
                Some(system) => {
                    system.state = event.state;
                    system.since = event.at;
                    system.last_online_at = event.last_online_at;
                    system.recorded_state = event.state;
                    system.ever_connected |= event.state != ConnectionState::NeverConnected;
                }
                None if !removed_here => {
                    let mut system = LiveSystem::registered(&event.organization_id, event.at);
                    system.state = event.state;
                    system.recorded_state = event.state;
                    system.last_online_at = event.last_online_at;
                    system.ever_connected = event.state != ConnectionState::NeverConnected;
                    hub.systems.insert(event.system_id.clone(), system);
                }
                None => continue,
            }
            batch.push(LiveEvent::new(sequence, event, false));
        }
        for event in removed {
            hub.removed
                .insert(&event.system_id, std::time::Instant::now());
            if let Some(mut system) = hub.systems.remove(&event.system_id) {
                close(&mut system.connection, close_code::REVOKED);
            }
            batch.push(LiveEvent::new(sequence, event, true));
        }
        for system_id in corrections {
            self.announce(hub, &system_id);
        }
        if batch.is_empty() {
            return;
        }
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if !hub.can_tell() {
            // Shown as unknown now; the snapshot taken when this backend can tell again has
            // these states.
            return;
        }
        for event in &batch {
            hub.recent.push(event.clone());
        }
        let _ = self.events.send(batch.into());
    }

    /// Every stream starts over from a fresh snapshot; nothing resumes from before now.
    fn start_over(&self, hub: &mut HubState) {
        let through = hub.next_sequence.saturating_sub(1);
        hub.recent.clear(through);
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.resyncs.send(());
    }

    /// After the database's or the bus's health changed: when whether this backend can tell
    /// changed too, its streams start over (with every state unknown, or with what is true).
    pub(super) fn after_health_change(&self, hub: &mut HubState, could_tell: bool) {
        if hub.can_tell() != could_tell {
            self.start_over(hub);
        }
    }

    /// The bus was joined (again) at a stream of `epoch`: the systems are read afresh from
    /// the database (what this backend missed while away), what it holds and what it could
    /// not publish is announced again (its claims too), and its streams start over.
    pub fn joined_bus(&self, epoch: String, known: Vec<KnownSystem>, now: DateTime<Utc>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let mut hub = self.lock();
        *self
            .epoch
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = epoch;
        let stored: HashSet<String> = known.iter().map(|system| system.id.clone()).collect();
        let mut revoked = Vec::new();
        for system in known {
            let (id, mirror) = LiveSystem::mirrored(system, now);
            if hub.removed.contains(&id) {
                continue;
            }
            match hub.systems.get_mut(&id) {
                // Re-keyed while the bus was away: the revocation may not have reached us.
                Some(live) if live.connection.is_some() => {
                    if mirror.generation > live.generation {
                        revoked.push((id, mirror.generation));
                    }
                }
                Some(live) => {
                    live.state = mirror.state;
                    live.since = mirror.since;
                    live.last_online_at = mirror.last_online_at;
                    live.recorded_state = mirror.state;
                    live.ever_connected = mirror.ever_connected;
                    live.generation = live.generation.max(mirror.generation);
                }
                None => {
                    hub.systems.insert(id, mirror);
                }
            }
        }
        // Removed while the bus was away: a socket still held is cut off.
        for (id, system) in hub.systems.iter_mut() {
            if !stored.contains(id) {
                close(&mut system.connection, close_code::REVOKED);
                system.connection = None;
            }
        }
        hub.systems.retain(|id, _| stored.contains(id));
        let mut again: Vec<String> = hub.unpublished.drain().collect();
        for (id, system) in hub.systems.iter_mut() {
            if let Some(connection) = system.connection.as_mut() {
                connection.claim_seen = false;
                again.push(id.clone());
            }
        }
        hub.unflushed_claims = hub
            .systems
            .iter()
            .filter_map(|(id, system)| {
                system.connection.as_ref().map(|connection| Claim {
                    system_id: id.clone(),
                    connection: connection.id,
                })
            })
            .collect();
        for id in again {
            self.announce(&mut hub, &id);
        }
        Self::flush_to_bus(&mut hub, &cluster);
        hub.bus_healthy = true;
        hub.last_applied = 0;
        self.start_over(&mut hub);
        tracing::info!(systems = hub.systems.len(), "joined the bus");
        drop(hub);
        for (id, generation) in revoked {
            self.revoke_here(&id, generation, now);
        }
    }

    /// The bus is away for this backend: every DMS shows unknown until it is joined again.
    pub fn left_bus(&self) {
        let mut hub = self.lock();
        if !hub.bus_healthy {
            return;
        }
        let could_tell = hub.can_tell();
        hub.bus_healthy = false;
        self.after_health_change(&mut hub, could_tell);
    }

    /// This backend recorded these DMSs disconnected, their backend's lease having run out
    /// (`leases::take_over_expired`): show it, and announce it.
    pub fn taken_over(&self, system_ids: &[String], at: DateTime<Utc>) {
        let mut hub = self.lock();
        for id in system_ids {
            if self.record_again_if_held(&mut hub, id, at) {
                continue;
            }
            if let Some(system) = hub.systems.get_mut(id) {
                system.state = ConnectionState::Disconnected;
                system.recorded_state = ConnectionState::Disconnected;
                system.since = at;
                let event = event_of(id, system);
                self.push(&mut hub, event, false);
            }
        }
    }

    /// A take-over recorded this DMS disconnected although this backend holds its socket (the
    /// gateway reconnected here just before, and our mark of it was not yet written): what we
    /// observe is recorded again after it, so the history ends true. `false` when not held.
    fn record_again_if_held(
        &self,
        hub: &mut HubState,
        system_id: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(system) = hub.systems.get_mut(system_id) else {
            return false;
        };
        if system.connection.is_none() {
            return false;
        }
        system.state = ConnectionState::Disconnected;
        system.recorded_state = ConnectionState::Disconnected;
        self.publish(hub, system_id, now);
        true
    }

    /// Tells the other backends that `backend`'s DMSs were recorded disconnected.
    pub fn announce_taken_over(&self, backend: &str, system_ids: Vec<String>) {
        for chunk in system_ids.chunks(MAX_SYSTEMS_PER_MESSAGE) {
            self.announce_on_bus(BusMessage::TakenOver {
                backend: backend.to_owned(),
                system_ids: chunk.to_vec(),
            });
        }
    }

    /// Our lease had run out and was taken over: the DMSs whose sockets we still hold were
    /// recorded disconnected by another backend. Record again what is true, and hold them.
    pub fn lease_lost(&self, now: DateTime<Utc>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let mut hub = self.lock();
        let held: Vec<String> = hub
            .systems
            .iter()
            .filter(|(_, system)| system.connection.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &held {
            let Some(system) = hub.systems.get_mut(id) else {
                continue;
            };
            system.since = now;
            system.recorded_state = system.state;
            // Marked held before the state is live again, as on every connection.
            let _ = self.persist.send(PersistOp::Held {
                system_id: id.clone(),
                backend: cluster.backend_id.clone(),
            });
            let _ = self.persist.send(PersistOp::transition(
                id,
                system.state,
                now,
                system.last_online_at,
            ));
            self.announce(&mut hub, id);
        }
        tracing::warn!(
            count = held.len(),
            "our lease had run out: recorded again the DMSs we hold"
        );
    }
}
