//! The in-process state hub: every DMS's live state in memory, decided by
//! [`stratus_shared::state::connection_state`], with changes published to subscribers and the
//! few facts that must outlive a restart handed to the [`persist`](super::persist) writer.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use stratus_shared::api::live::SystemStateEvent;
use stratus_shared::state::{DmsReport, GatewayObservation};
use stratus_shared::ConnectionState;
use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};

use crate::auth::revoked_sessions::RevokedSessions;

use super::bus::{BusMessage, Claim, Envelope};
pub use super::events::{KnownSystem, LiveBatch, LiveEvent, StreamStart, SystemView};
use super::events::{RecentEvents, Unflushed};
pub use super::frame_limit::FrameLimit;
use super::heartbeat::Report;
use super::membership_watches::MembershipWatches;
use super::persist::PersistOp;
use super::removed_systems::RemovedSystems;
pub use super::system::ChangeLimit;
use super::system::{close, event_of, shown_event_of, Connection, LiveSystem};

/// How many batches a stream may fall behind before it starts over from a snapshot.
const BATCHES_BEHIND: usize = 1024;
/// After a flush, the next one waits this long, so a burst becomes a few events per stream
/// while a lone change (the first after a quiet spell) is sent at once.
const FLUSH_PAUSE: Duration = Duration::from_millis(10);
/// After a flush of more than [`BURST`] changes (a restart reconnecting every gateway), the
/// next one waits this long: every stream then gets a few large events a second instead of
/// hundreds of small ones.
const BURST_PAUSE: Duration = Duration::from_millis(100);
const BURST: usize = 64;

struct HubState {
    systems: HashMap<String, LiveSystem>,
    /// DMSs removed in the last minutes: a gateway authenticated a moment before the removal
    /// must not bring them back.
    removed: RemovedSystems,
    source_healthy: bool,
    next_sequence: u64,
    next_connection: u64,
    recent: RecentEvents,
    unflushed: Unflushed,
    /// Cluster mode: gateways connected here since the last flush, announced with it.
    unflushed_claims: Vec<Claim>,
    /// Cluster mode: whether this backend follows the bus (always true without a cluster).
    bus_healthy: bool,
    /// Cluster mode: the bus sequence of the last message applied (0: none since joining).
    last_applied: u64,
    /// Cluster mode: DMSs whose latest change could not be published; sent again when the
    /// bus is back.
    unpublished: HashSet<String>,
}

impl HubState {
    /// Whether this backend can tell DMS states: its database works and, in cluster mode, it
    /// follows the bus.
    fn can_tell(&self) -> bool {
        self.source_healthy && self.bus_healthy
    }
}

/// This backend's side of the cluster: who it is and where its announcements go.
pub(super) struct ClusterSide {
    pub(super) backend_id: String,
    pub(super) outgoing: mpsc::UnboundedSender<Envelope>,
}

/// The hub, cheap to clone; one per server process.
#[derive(Clone)]
pub struct LiveHub {
    state: Arc<Mutex<HubState>>,
    events: broadcast::Sender<LiveBatch>,
    /// Woken when changes wait to be flushed.
    unflushed: Arc<Notify>,
    /// See [`LiveHub::version`].
    version: Arc<AtomicU64>,
    /// Per person: their organizations changed, their streams take a fresh snapshot.
    memberships: Arc<MembershipWatches>,
    persist: mpsc::UnboundedSender<PersistOp>,
    heartbeat_timeout: TimeDelta,
    /// Tells event ids of this process (or, in cluster mode, of this bus stream) from those
    /// of an earlier one.
    epoch: Arc<RwLock<String>>,
    /// Cluster mode: set when `STRATUS_NATS_URL` names a bus.
    pub(super) cluster: Option<Arc<ClusterSide>>,
    /// Tells every stream to start over from a fresh snapshot (cluster mode: this backend
    /// lost or regained the ability to tell states, or rejoined the bus).
    resyncs: broadcast::Sender<()>,
    /// Remote access that ended, here or on another backend (see [`LiveHub::cut_remote_access`]).
    remote_cuts: broadcast::Sender<RemoteCut>,
    /// Sessions ended here or on another backend (see [`LiveHub::sessions_ended`]).
    revoked_sessions: RevokedSessions,
    /// How often one DMS's state may change (none: as often as it does).
    change_limit: Option<ChangeLimit>,
    /// How fast one gateway's socket reads control frames (none: as fast as they come).
    frame_limit: Option<FrameLimit>,
}

/// Remote access that ended: every session on `system_ids`, and the sessions of `people`
/// (user id, organization id) in those organizations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteCut {
    pub system_ids: Vec<String>,
    pub people: Vec<(String, String)>,
}

impl LiveHub {
    /// A hub over the systems known at start-up. A DMS that was connected when the previous
    /// process stopped is now disconnected: that transition is recorded.
    pub fn new(
        known: Vec<KnownSystem>,
        heartbeat_timeout: std::time::Duration,
        persist: mpsc::UnboundedSender<PersistOp>,
        now: DateTime<Utc>,
    ) -> Self {
        let heartbeat_timeout =
            TimeDelta::from_std(heartbeat_timeout).unwrap_or(TimeDelta::seconds(30));
        let mut systems = HashMap::with_capacity(known.len());
        for system in known {
            let (id, live, transition) = LiveSystem::restored(system, heartbeat_timeout, now);
            if let Some(transition) = transition {
                let _ = persist.send(transition);
            }
            systems.insert(id, live);
        }
        Self::with_systems(systems, heartbeat_timeout, persist, None)
    }

    /// A hub of one backend of a cluster: the systems known are mirrors of what the cluster
    /// decided (their gateways may be connected elsewhere), nothing is decided afresh, and
    /// every change this backend decides goes to `outgoing` for the bus. States are unknown
    /// until the bus is joined ([`LiveHub::joined_bus`]).
    pub fn clustered(
        known: Vec<KnownSystem>,
        heartbeat_timeout: std::time::Duration,
        persist: mpsc::UnboundedSender<PersistOp>,
        backend_id: &str,
        outgoing: mpsc::UnboundedSender<Envelope>,
        now: DateTime<Utc>,
    ) -> Self {
        let heartbeat_timeout =
            TimeDelta::from_std(heartbeat_timeout).unwrap_or(TimeDelta::seconds(30));
        let systems = known
            .into_iter()
            .map(|system| LiveSystem::mirrored(system, now))
            .collect();
        let cluster = ClusterSide {
            backend_id: backend_id.to_owned(),
            outgoing,
        };
        let hub = Self::with_systems(systems, heartbeat_timeout, persist, Some(cluster));
        hub.lock().bus_healthy = false;
        hub
    }

    fn with_systems(
        systems: HashMap<String, LiveSystem>,
        heartbeat_timeout: TimeDelta,
        persist: mpsc::UnboundedSender<PersistOp>,
        cluster: Option<ClusterSide>,
    ) -> Self {
        let (events, _) = broadcast::channel(BATCHES_BEHIND);
        Self {
            state: Arc::new(Mutex::new(HubState {
                systems,
                removed: RemovedSystems::default(),
                source_healthy: true,
                next_sequence: 1,
                next_connection: 1,
                recent: RecentEvents::default(),
                unflushed: Unflushed::default(),
                unflushed_claims: Vec::new(),
                bus_healthy: true,
                last_applied: 0,
                unpublished: HashSet::new(),
            })),
            events,
            unflushed: Arc::new(Notify::new()),
            version: Arc::new(AtomicU64::new(0)),
            memberships: Arc::new(MembershipWatches::default()),
            persist,
            heartbeat_timeout,
            epoch: Arc::new(RwLock::new(
                uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            )),
            cluster: cluster.map(Arc::new),
            resyncs: broadcast::channel(16).0,
            remote_cuts: broadcast::channel(1024).0,
            revoked_sessions: RevokedSessions::default(),
            change_limit: None,
            frame_limit: None,
        }
    }

    /// Holds every DMS to `limit` changes of state (see [`ChangeLimit`]).
    pub fn with_change_limit(mut self, limit: Option<ChangeLimit>) -> Self {
        self.change_limit = limit;
        self
    }

    /// Holds every gateway socket to `limit` control frames (see [`FrameLimit`]).
    pub fn with_frame_limit(mut self, limit: Option<FrameLimit>) -> Self {
        self.frame_limit = limit;
        self
    }

    /// How fast a gateway socket reads control frames.
    pub fn frame_limit(&self) -> Option<FrameLimit> {
        self.frame_limit
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The heartbeat timeout the hub decides with.
    pub fn heartbeat_timeout(&self) -> TimeDelta {
        self.heartbeat_timeout
    }

    /// The id an event carries in the stream: `<epoch>-<sequence>`.
    pub fn event_id(&self, sequence: u64) -> String {
        let epoch = self
            .epoch
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        format!("{epoch}-{sequence}")
    }

    fn epoch(&self) -> String {
        self.epoch
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Requests of every stream to start over from a fresh snapshot.
    pub fn resyncs(&self) -> broadcast::Receiver<()> {
        self.resyncs.subscribe()
    }

    /// This backend's id on the bus, in cluster mode.
    pub fn backend_id(&self) -> Option<&str> {
        self.cluster
            .as_deref()
            .map(|cluster| cluster.backend_id.as_str())
    }

    /// What `user_id` may see changed beyond states: they joined, created or left an
    /// organization, or one of its DMSs or the organization itself was renamed. Their streams
    /// send a fresh snapshot that tells the client to read the list again.
    pub fn membership_changed(&self, user_id: &str) {
        self.membership_changed_here(user_id);
        self.announce_on_bus(BusMessage::MembershipChanged {
            user_id: user_id.to_owned(),
        });
    }

    /// Remote access ended for `cut`: open remote sessions there are cut on every backend.
    pub fn cut_remote_access(&self, cut: RemoteCut) {
        if cut.system_ids.is_empty() && cut.people.is_empty() {
            return;
        }
        self.announce_on_bus(BusMessage::RemoteAccessCut {
            system_ids: cut.system_ids.clone(),
            people: cut
                .people
                .iter()
                .map(
                    |(user_id, organization_id)| super::bus::PersonInOrganization {
                        user_id: user_id.clone(),
                        organization_id: organization_id.clone(),
                    },
                )
                .collect(),
        });
        let _ = self.remote_cuts.send(cut);
    }

    /// People's sessions that just ended (signed out, revoked, password changed, refresh
    /// token reused): their access tokens stop working and their live streams close, on every
    /// backend.
    pub fn sessions_ended(&self, session_ids: Vec<String>) {
        if session_ids.is_empty() {
            return;
        }
        self.revoked_sessions
            .add(&session_ids, crate::db::now().naive_utc());
        for chunk in session_ids.chunks(super::bus::MAX_SYSTEMS_PER_MESSAGE) {
            self.announce_on_bus(BusMessage::SessionsEnded {
                session_ids: chunk.to_vec(),
            });
        }
    }

    pub(super) fn sessions_ended_here(&self, session_ids: &[String]) {
        self.revoked_sessions
            .add(session_ids, crate::db::now().naive_utc());
    }

    /// The sessions ended in the last access-token lifetime, as this backend knows them.
    pub fn revoked_sessions(&self) -> &RevokedSessions {
        &self.revoked_sessions
    }

    pub(super) fn remote_access_cut_here(&self, cut: RemoteCut) {
        let _ = self.remote_cuts.send(cut);
    }

    /// Announcements of [`LiveHub::cut_remote_access`], this backend's and the others'.
    pub fn remote_cuts(&self) -> broadcast::Receiver<RemoteCut> {
        self.remote_cuts.subscribe()
    }

    fn membership_changed_here(&self, user_id: &str) {
        self.version.fetch_add(1, Ordering::SeqCst);
        self.memberships.changed(user_id);
    }

    /// A number that grows whenever what a list of DMSs shows may have changed: a state, a
    /// DMS registered or removed, and whatever [`LiveHub::membership_changed`] announces.
    /// Last-online times, versions and agent counts change with heartbeats without moving it.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Announcements of [`LiveHub::membership_changed`] for `user_id`: the receiver changes
    /// (once for any burst) when their organizations may have changed.
    pub fn membership_changes(&self, user_id: &str) -> watch::Receiver<u64> {
        self.memberships.watch(user_id)
    }

    /// A newly registered DMS (never connected yet).
    pub fn register(&self, system_id: &str, organization_id: &str, now: DateTime<Utc>) {
        let mut hub = self.lock();
        if hub.systems.contains_key(system_id) {
            return;
        }
        hub.systems.insert(
            system_id.to_owned(),
            LiveSystem::registered(organization_id, now),
        );
        // Its first transition row is written with the system itself; only announce it.
        self.announce(&mut hub, system_id);
    }

    /// A DMS was removed: close its socket, forget it.
    pub fn remove(&self, system_id: &str) {
        let mut hub = self.lock();
        hub.removed.insert(system_id, std::time::Instant::now());
        if let Some(mut system) = hub.systems.remove(system_id) {
            close(
                &mut system.connection,
                stratus_shared::api::gateway::close_code::REVOKED,
            );
            let event = event_of(system_id, &system);
            self.push(&mut hub, event, true);
        }
    }

    /// A gateway connected with a token of `generation`; any earlier connection of the same
    /// DMS is told to close. Returns the connection's id and the receiver of its close order,
    /// or `None` when the DMS was removed or its credentials revoked since the token was
    /// checked.
    pub fn connect(
        &self,
        system_id: &str,
        organization_id: &str,
        generation: i32,
        now: DateTime<Utc>,
    ) -> Option<(u64, oneshot::Receiver<u16>)> {
        let (close_tx, close_rx) = oneshot::channel();
        let mut hub = self.lock();
        if hub.removed.contains(system_id)
            || hub
                .systems
                .get(system_id)
                .is_some_and(|system| system.generation > generation)
        {
            return None;
        }
        let id = hub.next_connection;
        hub.next_connection += 1;
        let system = hub
            .systems
            .entry(system_id.to_owned())
            .or_insert_with(|| LiveSystem::registered(organization_id, now));
        // A gateway that replaces its own socket (here, or on another backend: the state
        // mirrored from there) keeps what it last said about the DMS until its first
        // heartbeat on the new one, so a moving gateway records no "not responding" blip.
        let carried_report = carried_report(system, now);
        close(
            &mut system.connection,
            stratus_shared::api::gateway::close_code::REPLACED,
        );
        if !system.ever_connected {
            system.ever_connected = true;
            let _ = self.persist.send(PersistOp::FirstConnected {
                system_id: system_id.to_owned(),
                at: now,
            });
        }
        system.generation = generation;
        system.connection = Some(Connection {
            id,
            observation: GatewayObservation {
                last_seen_at: now,
                last_report: carried_report,
            },
            close: Some(close_tx),
            claim_seen: false,
        });
        if let Some(cluster) = &self.cluster {
            let _ = self.persist.send(PersistOp::Held {
                system_id: system_id.to_owned(),
                backend: cluster.backend_id.clone(),
            });
            hub.unflushed_claims.push(Claim {
                system_id: system_id.to_owned(),
                connection: id,
            });
            // Sent with the next flush even when the state does not change (a gateway that
            // moved here keeps what it reported).
            self.unflushed.notify_one();
        }
        self.publish(&mut hub, system_id, now);
        Some((id, close_rx))
    }

    /// A heartbeat's report arrived on connection `connection_id`.
    pub fn heartbeat(
        &self,
        system_id: &str,
        connection_id: u64,
        report: &Report,
        now: DateTime<Utc>,
    ) {
        let mut hub = self.lock();
        let Some(system) = hub.systems.get_mut(system_id) else {
            return;
        };
        let Some(connection) = system
            .connection
            .as_mut()
            .filter(|connection| connection.id == connection_id)
        else {
            return;
        };
        connection.observation.last_seen_at = now;
        connection.observation.last_report = Some(DmsReport {
            received_at: now,
            dms_responding: report.dms_responding,
        });
        let agent_count = i32::try_from(report.agent_count).unwrap_or(i32::MAX);
        if system.dms_version.as_deref() != Some(report.dms_version.as_str())
            || system.agent_count != Some(agent_count)
        {
            system.dms_version = Some(report.dms_version.clone());
            system.agent_count = Some(agent_count);
            let _ = self.persist.send(PersistOp::Report {
                system_id: system_id.to_owned(),
                dms_version: report.dms_version.clone(),
                agent_count,
            });
        }
        self.publish(&mut hub, system_id, now);
    }

    /// Something other than a heartbeat (a ping) arrived on the connection.
    pub fn seen(&self, system_id: &str, connection_id: u64, now: DateTime<Utc>) {
        let mut hub = self.lock();
        if let Some(connection) = hub
            .systems
            .get_mut(system_id)
            .and_then(|system| system.connection.as_mut())
            .filter(|connection| connection.id == connection_id)
        {
            connection.observation.last_seen_at = now;
        }
        self.publish(&mut hub, system_id, now);
    }

    /// The connection ended (either side closed it).
    pub fn disconnect(&self, system_id: &str, connection_id: u64, now: DateTime<Utc>) {
        let mut hub = self.lock();
        let Some(system) = hub.systems.get_mut(system_id) else {
            return;
        };
        if system
            .connection
            .as_ref()
            .is_some_and(|connection| connection.id == connection_id)
        {
            system.connection = None;
            self.publish(&mut hub, system_id, now);
            self.release(system_id);
        }
    }

    /// Cluster mode: this backend no longer holds the DMS's socket (written after the
    /// transition the caller just handed over).
    fn release(&self, system_id: &str) {
        if let Some(cluster) = &self.cluster {
            let _ = self.persist.send(PersistOp::Released {
                system_id: system_id.to_owned(),
                backend: cluster.backend_id.clone(),
            });
        }
    }

    /// The DMS's credentials were revoked (tokens older than `generation` are void): close its
    /// socket now.
    pub fn revoke(&self, system_id: &str, generation: i32, now: DateTime<Utc>) {
        self.revoke_here(system_id, generation, now);
        self.announce_on_bus(BusMessage::Revoked {
            system_id: system_id.to_owned(),
            generation,
        });
    }

    fn revoke_here(&self, system_id: &str, generation: i32, now: DateTime<Utc>) {
        let mut hub = self.lock();
        if let Some(system) = hub.systems.get_mut(system_id) {
            // A socket's token is of the DMS's generation when it connected. A revocation can
            // arrive after a socket with the new token connected (from the bus, in cluster
            // mode): only older sockets are cut off.
            let stale_socket = system.generation < generation;
            system.generation = system.generation.max(generation);
            if !stale_socket {
                return;
            }
            close(
                &mut system.connection,
                stratus_shared::api::gateway::close_code::REVOKED,
            );
            let held = system.connection.take().is_some();
            // In cluster mode a DMS whose socket is elsewhere is decided by that backend.
            if held || self.cluster.is_none() {
                self.publish(&mut hub, system_id, now);
            }
            if held {
                self.release(system_id);
            }
        }
    }

    /// Whether the state source (the database) works; every DMS is re-decided on a change.
    pub fn set_source_healthy(&self, healthy: bool, now: DateTime<Utc>) {
        let mut hub = self.lock();
        if hub.source_healthy == healthy {
            return;
        }
        if self.cluster.is_some() {
            let could_tell = hub.can_tell();
            hub.source_healthy = healthy;
            self.after_health_change(&mut hub, could_tell);
            return;
        }
        hub.source_healthy = healthy;
        self.publish_all(&mut hub, |_| true, now);
    }

    /// Re-decides every connected DMS (timeouts pass without any frame arriving) and every
    /// DMS whose change waits for budget. Sockets silent past the timeout are told to close.
    pub fn tick(&self, now: DateTime<Utc>) {
        let mut hub = self.lock();
        for connection in hub
            .systems
            .values_mut()
            .filter_map(|system| system.connection.as_mut())
        {
            connection.close_if_silent(self.heartbeat_timeout, now);
        }
        self.publish_all(
            &mut hub,
            |system| system.connection.is_some() || system.change_held,
            now,
        );
    }

    /// The live view of one DMS.
    pub fn view(&self, system_id: &str) -> Option<SystemView> {
        let hub = self.lock();
        let can_tell = hub.can_tell();
        hub.systems.get(system_id).map(|system| SystemView {
            state: if can_tell {
                system.state
            } else {
                ConnectionState::Unknown
            },
            since: system.since,
            last_online_at: system.last_online_at,
            dms_version: system.dms_version.clone(),
            agent_count: system.agent_count,
        })
    }

    /// Starts a subscription for the given organizations: a snapshot (or, with a
    /// `Last-Event-ID` of this process still in the recent buffer, the missed events) and the
    /// receiver of everything after. Both are taken under one lock, so nothing is lost or
    /// doubled in between.
    pub fn subscribe(
        &self,
        organizations: &HashSet<String>,
        last_event_id: Option<&str>,
    ) -> (StreamStart, broadcast::Receiver<LiveBatch>) {
        let mut hub = self.lock();
        // Changes not yet flushed are already in the live states a snapshot is made of: sent
        // now, before subscribing, they are covered by its sequence number instead of
        // arriving again after it.
        self.flush_locked(&mut hub);
        let receiver = self.events.subscribe();
        let epoch = self.epoch();
        let can_tell = hub.can_tell();
        let replay = last_event_id
            .filter(|_| can_tell)
            .and_then(|id| id.split_once('-'))
            .filter(|(id_epoch, _)| *id_epoch == epoch)
            .and_then(|(_, sequence)| sequence.parse::<u64>().ok())
            .filter(|sequence| *sequence < hub.next_sequence)
            .and_then(|after| hub.recent.replay(organizations, after));
        let start = match replay {
            Some(missed) => StreamStart::Resume(missed),
            None => {
                let sequence = hub.next_sequence - 1;
                let mut events: Vec<SystemStateEvent> = hub
                    .systems
                    .iter()
                    .filter(|(_, system)| organizations.contains(&system.organization_id))
                    .map(|(id, system)| shown_event_of(id, system, can_tell))
                    .collect();
                events.sort_by(|a, b| a.system_id.cmp(&b.system_id));
                StreamStart::Snapshot(sequence, events)
            }
        };
        (start, receiver)
    }

    /// The sequence number of the last event published (0 before the first).
    pub fn last_sequence(&self) -> u64 {
        self.lock().next_sequence - 1
    }

    /// Sends every change published since the last flush to the subscribers, as one batch
    /// (numbered, and kept for resuming streams). Returns how many changes it sent.
    pub fn flush(&self) -> usize {
        let mut hub = self.lock();
        self.flush_locked(&mut hub)
    }

    fn flush_locked(&self, hub: &mut HubState) -> usize {
        if let Some(cluster) = &self.cluster {
            return Self::flush_to_bus(hub, cluster);
        }
        let changes = hub.unflushed.take();
        if changes.is_empty() {
            return 0;
        }
        let mut batch = Vec::with_capacity(changes.len());
        for (event, removed) in changes {
            let event = LiveEvent::new(hub.next_sequence, event, removed);
            hub.next_sequence += 1;
            hub.recent.push(event.clone());
            batch.push(event);
        }
        let count = batch.len();
        // Sent under the lock, so a subscription starts either before or after it, never in
        // between. No subscribers is fine.
        let _ = self.events.send(batch.into());
        count
    }

    /// Flushes changes as they come, pausing after each flush so bursts coalesce. Runs until
    /// the task is dropped.
    pub async fn run_flusher(self) {
        loop {
            self.unflushed.notified().await;
            let pause = if self.flush() > BURST {
                BURST_PAUSE
            } else {
                FLUSH_PAUSE
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Re-decides one DMS; on a change, records and publishes it.
    fn publish(&self, hub: &mut HubState, system_id: &str, now: DateTime<Utc>) {
        // A cluster decides what is true; each backend shows `unknown` on its own when it
        // cannot tell (`HubState::can_tell`).
        let source_healthy = hub.source_healthy || self.cluster.is_some();
        let Some(system) = hub.systems.get_mut(system_id) else {
            return;
        };
        if let Some(event) = system.decide(
            system_id,
            source_healthy,
            self.heartbeat_timeout,
            self.change_limit,
            now,
            &self.persist,
            None,
        ) {
            self.push(hub, event, false);
        }
    }

    /// Re-decides the DMSs that `which` picks, in place (the 1 s tick covers every connected
    /// DMS: no id is cloned or looked up again), and publishes the changes.
    fn publish_all(
        &self,
        hub: &mut HubState,
        which: impl Fn(&LiveSystem) -> bool,
        now: DateTime<Utc>,
    ) {
        let source_healthy = hub.source_healthy || self.cluster.is_some();
        let mut last_online_due = Vec::new();
        let changes: Vec<SystemStateEvent> = hub
            .systems
            .iter_mut()
            .filter(|(_, system)| which(system))
            .filter_map(|(id, system)| {
                system.decide(
                    id,
                    source_healthy,
                    self.heartbeat_timeout,
                    self.change_limit,
                    now,
                    &self.persist,
                    Some(&mut last_online_due),
                )
            })
            .collect();
        if !last_online_due.is_empty() {
            let _ = self.persist.send(PersistOp::LastOnline {
                system_ids: last_online_due,
                at: now,
            });
        }
        for event in changes {
            self.push(hub, event, false);
        }
    }

    /// Publishes a DMS's current state.
    fn announce(&self, hub: &mut HubState, system_id: &str) {
        if let Some(system) = hub.systems.get(system_id) {
            let event = event_of(system_id, system);
            self.push(hub, event, false);
        }
    }

    /// Queues a change for the next flush.
    fn push(&self, hub: &mut HubState, event: SystemStateEvent, removed: bool) {
        self.version.fetch_add(1, Ordering::SeqCst);
        hub.unflushed.add(event, removed);
        self.unflushed.notify_one();
    }
}

/// What a new socket of `system` starts from: the report of the socket it replaces, or, for a
/// socket held elsewhere until now (cluster mode), the state that backend last announced.
fn carried_report(system: &LiveSystem, now: DateTime<Utc>) -> Option<DmsReport> {
    match &system.connection {
        Some(connection) => connection.observation.last_report,
        None => match system.state {
            ConnectionState::Connected => Some(DmsReport {
                received_at: now,
                dms_responding: true,
            }),
            ConnectionState::DmsNotResponding => Some(DmsReport {
                received_at: now,
                dms_responding: false,
            }),
            _ => None,
        },
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;

#[path = "hub_cluster.rs"]
mod cluster;
