//! The hub's writer: what must outlive a restart, written off the heartbeat path in batches.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use stratus_shared::ConnectionState;
use tokio::sync::mpsc;

use crate::db::schema::{system_state_transitions, systems};
use crate::db::{AnyConnection, Database, DatabaseError};

/// Most operations written in one transaction.
const BATCH: usize = 1024;
/// DMS ids per last-online `UPDATE … WHERE id IN (…)`.
const LAST_ONLINE_CHUNK: usize = 500;

/// One fact to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistOp {
    /// The DMS's state changed. `id` is made when the change is decided, so a batch written
    /// again after a failed commit records it once.
    Transition {
        id: String,
        system_id: String,
        state: ConnectionState,
        at: DateTime<Utc>,
        last_online_at: Option<DateTime<Utc>>,
    },
    /// A connected DMS is still online.
    LastOnline {
        system_ids: Vec<String>,
        at: DateTime<Utc>,
    },
    /// A gateway connected for the first time.
    FirstConnected {
        system_id: String,
        at: DateTime<Utc>,
    },
    /// Cluster mode: this backend holds the DMS's gateway socket now.
    Held { system_id: String, backend: String },
    /// Cluster mode: this backend's socket of the DMS closed (written after the transition
    /// that records it, so a DMS is never seen connected with no backend holding it).
    Released { system_id: String, backend: String },
    /// The DMS reported another version or agent count.
    Report {
        system_id: String,
        dms_version: String,
        agent_count: i32,
    },
}

impl PersistOp {
    /// A transition of `system_id` to `state` at `at`, with a fresh id.
    pub fn transition(
        system_id: &str,
        state: ConnectionState,
        at: DateTime<Utc>,
        last_online_at: Option<DateTime<Utc>>,
    ) -> Self {
        PersistOp::Transition {
            id: uuid::Uuid::now_v7().to_string(),
            system_id: system_id.to_owned(),
            state,
            at,
            last_online_at,
        }
    }
}

/// The longest wait between two tries of a batch the database refused.
const RETRY_AT_MOST: std::time::Duration = std::time::Duration::from_secs(5);

/// Writes operations as they come, batching whatever queued up meanwhile. A batch that cannot
/// be written (the database is away) is tried again, backing off up to [`RETRY_AT_MOST`],
/// until it is: nothing decided is lost to an outage, and the transitions' ids keep a retried
/// commit from recording anything twice. Ends when every sender is gone.
pub async fn run_writer(database: Database, mut operations: mpsc::UnboundedReceiver<PersistOp>) {
    let mut batch = Vec::with_capacity(BATCH);
    while operations.recv_many(&mut batch, BATCH).await > 0 {
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            let work = batch.clone();
            let count = work.len();
            match database
                .run(move |connection| write(connection, work))
                .await
            {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(%error, count, retry_in = ?pause, "could not write DMS states");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_AT_MOST);
                }
            }
        }
        batch.clear();
    }
}

fn write(connection: &mut AnyConnection, operations: Vec<PersistOp>) -> Result<(), DatabaseError> {
    connection.transaction::<_, diesel::result::Error, _>(|connection| {
        for operation in operations {
            // A transition inserts a row that refers to its DMS, which may have been removed
            // meanwhile: it goes in a savepoint, so that cannot sink the batch. The others
            // only update, which finds no row then, and are spared the two extra statements
            // (10,000 DMSs send a few hundred last-online times a second).
            let written = if matches!(operation, PersistOp::Transition { .. }) {
                connection.transaction::<_, diesel::result::Error, _>(|connection| {
                    apply(connection, &operation)
                })
            } else {
                apply(connection, &operation)
            };
            if let Err(error) = written {
                tracing::warn!(%error, ?operation, "could not write a DMS state change");
            }
        }
        Ok(())
    })?;
    Ok(())
}

fn apply(connection: &mut AnyConnection, operation: &PersistOp) -> QueryResult<()> {
    match operation {
        PersistOp::Transition {
            id,
            system_id,
            state,
            at,
            last_online_at,
        } => {
            // A batch retried after a commit whose answer was lost finds its rows there.
            let written: bool = diesel::select(diesel::dsl::exists(
                system_state_transitions::table.find(id),
            ))
            .get_result(connection)?;
            if written {
                return Ok(());
            }
            diesel::insert_into(system_state_transitions::table)
                .values((
                    system_state_transitions::id.eq(id),
                    system_state_transitions::system_id.eq(system_id),
                    system_state_transitions::state.eq(state.as_str()),
                    system_state_transitions::at.eq(at.naive_utc()),
                ))
                .execute(connection)?;
            diesel::update(systems::table.find(system_id))
                .set((
                    systems::state.eq(state.as_str()),
                    systems::last_online_at.eq(last_online_at.map(|at| at.naive_utc())),
                ))
                .execute(connection)?;
        }
        PersistOp::LastOnline { system_ids, at } => {
            // One statement per few hundred DMSs (the tick gathers every due one with the
            // same time), within the bind-parameter limits of SQLite and PostgreSQL.
            for chunk in system_ids.chunks(LAST_ONLINE_CHUNK) {
                diesel::update(systems::table.filter(systems::id.eq_any(chunk)))
                    .set(systems::last_online_at.eq(Some(at.naive_utc())))
                    .execute(connection)?;
            }
        }
        PersistOp::FirstConnected { system_id, at } => {
            diesel::update(systems::table.find(system_id))
                .filter(systems::first_connected_at.is_null())
                .set(systems::first_connected_at.eq(Some(at.naive_utc())))
                .execute(connection)?;
        }
        PersistOp::Held { system_id, backend } => {
            diesel::update(systems::table.find(system_id))
                .set(systems::gateway_backend.eq(Some(backend)))
                .execute(connection)?;
        }
        PersistOp::Released { system_id, backend } => {
            diesel::update(systems::table.find(system_id))
                .filter(systems::gateway_backend.eq(backend))
                .set(systems::gateway_backend.eq(None::<String>))
                .execute(connection)?;
        }
        PersistOp::Report {
            system_id,
            dms_version,
            agent_count,
        } => {
            diesel::update(systems::table.find(system_id))
                .set((
                    systems::dms_version.eq(Some(dms_version)),
                    systems::agent_count.eq(Some(agent_count)),
                ))
                .execute(connection)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;
    use crate::db::schema::organizations;

    #[actix_web::test]
    async fn a_write_for_a_removed_dms_does_not_sink_the_rest_of_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let database =
            Database::connect(&DatabaseUrl::Sqlite(dir.path().join("test.db")), 2).unwrap();
        let now = crate::db::now();
        database
            .run(move |connection| {
                diesel::insert_into(organizations::table)
                    .values((
                        organizations::id.eq("org"),
                        organizations::name.eq("Org"),
                        organizations::slug.eq("org"),
                        organizations::created_at.eq(now.naive_utc()),
                    ))
                    .execute(connection)?;
                diesel::insert_into(systems::table)
                    .values((
                        systems::id.eq("sys"),
                        systems::organization_id.eq("org"),
                        systems::name.eq("DMS"),
                        systems::created_at.eq(now.naive_utc()),
                    ))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .unwrap();
        let transition = |system_id: &str| {
            PersistOp::transition(system_id, ConnectionState::Connected, now, Some(now))
        };
        let later = now + chrono::TimeDelta::seconds(30);
        let batch = vec![
            transition("removed"),
            transition("sys"),
            PersistOp::LastOnline {
                system_ids: vec!["removed".into(), "sys".into()],
                at: later,
            },
        ];

        database
            .run(move |connection| write(connection, batch))
            .await
            .unwrap();

        let (state, last_online_at, rows): (String, Option<chrono::NaiveDateTime>, i64) = database
            .run(|connection| {
                let (state, last_online_at) = systems::table
                    .find("sys")
                    .select((systems::state, systems::last_online_at))
                    .first(connection)?;
                let rows = system_state_transitions::table
                    .count()
                    .get_result(connection)?;
                Ok((state, last_online_at, rows))
            })
            .await
            .unwrap();
        assert_eq!(state, "connected");
        assert_eq!(last_online_at, Some(later.naive_utc()));
        assert_eq!(rows, 1);
    }
}
