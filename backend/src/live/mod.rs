//! Live DMS states: the in-process hub, its database writer, and the tasks that keep it
//! current (timeouts, database health).

pub mod bus;
pub mod cluster;
pub mod events;
pub mod frame_limit;
pub mod gateway_socket;
pub mod heartbeat;
pub mod hub;
pub mod leases;
pub mod membership_watches;
pub mod persist;
mod removed_systems;
mod system;

use std::collections::HashMap;
use std::time::Duration;

use diesel::prelude::*;
use stratus_shared::ConnectionState;
use tokio::sync::mpsc;

pub use hub::{LiveBatch, LiveEvent, LiveHub, RemoteCut, StreamStart, SystemView};

use crate::db::schema::{system_state_transitions, systems};
use crate::db::Database;
use hub::KnownSystem;

/// How often connected DMSs are re-decided (timeouts pass without any frame arriving).
const TICK: Duration = Duration::from_secs(1);
/// How often the database's health is checked; a failing database makes every state unknown.
const HEALTH_CHECK: Duration = Duration::from_secs(5);

/// What the hub holds DMSs and their gateways to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// How often one DMS's state may change.
    pub state_changes: Option<hub::ChangeLimit>,
    /// How fast one gateway may send control frames.
    pub gateway_frames: Option<hub::FrameLimit>,
}

/// Loads every DMS, builds the hub and starts its writer and timers on the current runtime;
/// with `cluster`, joins the bus between backends too.
pub async fn start(
    database: &Database,
    heartbeat_timeout: Duration,
    limits: Limits,
    cluster: Option<cluster::ClusterSettings>,
) -> anyhow::Result<LiveHub> {
    let known = load_known(database).await?;
    let (persist, operations) = mpsc::unbounded_channel();
    let hub = match cluster {
        None => {
            database
                .run(|connection| Ok(leases::forget_every_backend(connection)?))
                .await?;
            LiveHub::new(known, heartbeat_timeout, persist, crate::db::now())
                .with_change_limit(limits.state_changes)
                .with_frame_limit(limits.gateway_frames)
        }
        Some(settings) => {
            let backend_id = uuid::Uuid::new_v4().to_string();
            let (outgoing, announcements) = mpsc::unbounded_channel();
            let hub = LiveHub::clustered(
                known,
                heartbeat_timeout,
                persist,
                &backend_id,
                outgoing,
                crate::db::now(),
            )
            .with_change_limit(limits.state_changes)
            .with_frame_limit(limits.gateway_frames);
            tracing::info!(backend = %settings.backend_name, %backend_id, nats = %settings.nats_url, "cluster mode");
            cluster::start(hub.clone(), database.clone(), settings, announcements).await?;
            hub
        }
    };
    // Sessions ended shortly before a restart still void their access tokens.
    let revoked = hub.revoked_sessions().clone();
    let remembered = database
        .run(move |connection| Ok(revoked.load_recent(connection, crate::db::now().naive_utc())?))
        .await?;
    if remembered > 0 {
        tracing::info!(remembered, "recently ended sessions loaded");
    }
    tokio::spawn(persist::run_writer(database.clone(), operations));
    tokio::spawn(hub.clone().run_flusher());

    let ticking = hub.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            ticking.tick(crate::db::now());
        }
    });
    let checking = hub.clone();
    let database = database.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(HEALTH_CHECK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let healthy = database.is_reachable().await;
            checking.set_source_healthy(healthy, crate::db::now());
        }
    });
    Ok(hub)
}

/// Every DMS as the database knows it.
pub(crate) async fn load_known(database: &Database) -> anyhow::Result<Vec<KnownSystem>> {
    type Row = (
        String,
        String,
        String,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
        Option<String>,
        Option<i32>,
        i32,
    );
    let (rows, since): (Vec<Row>, Vec<(String, Option<chrono::NaiveDateTime>)>) = database
        .run(|connection| {
            let since = system_state_transitions::table
                .group_by(system_state_transitions::system_id)
                .select((
                    system_state_transitions::system_id,
                    diesel::dsl::max(system_state_transitions::at),
                ))
                .load(connection)?;
            let rows = systems::table
                .select((
                    systems::id,
                    systems::organization_id,
                    systems::state,
                    systems::first_connected_at,
                    systems::last_online_at,
                    systems::dms_version,
                    systems::agent_count,
                    systems::token_generation,
                ))
                .load(connection)?;
            Ok((rows, since))
        })
        .await?;
    let since: HashMap<String, chrono::DateTime<chrono::Utc>> = since
        .into_iter()
        .filter_map(|(id, at)| Some((id, at?.and_utc())))
        .collect();
    let known: Vec<KnownSystem> = rows
        .into_iter()
        .map(
            |(
                id,
                organization_id,
                state,
                first_connected_at,
                last_online_at,
                dms_version,
                agent_count,
                token_generation,
            )| {
                KnownSystem {
                    state_since: since.get(&id).copied(),
                    id,
                    organization_id,
                    stored_state: ConnectionState::parse(&state),
                    ever_connected: first_connected_at.is_some(),
                    last_online_at: last_online_at.map(|at| at.and_utc()),
                    dms_version,
                    agent_count,
                    token_generation,
                }
            },
        )
        .collect();
    Ok(known)
}
