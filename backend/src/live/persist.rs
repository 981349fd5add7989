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
    /// The DMS's state changed.
    Transition {
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
    /// The DMS reported another version or agent count.
    Report {
        system_id: String,
        dms_version: String,
        agent_count: i32,
    },
}

/// Writes operations as they come, batching whatever queued up meanwhile. Ends when every
/// sender is gone.
pub async fn run_writer(database: Database, mut operations: mpsc::UnboundedReceiver<PersistOp>) {
    let mut batch = Vec::with_capacity(BATCH);
    while operations.recv_many(&mut batch, BATCH).await > 0 {
        let work = std::mem::take(&mut batch);
        let count = work.len();
        if let Err(error) = database
            .run(move |connection| write(connection, work))
            .await
        {
            // Lost writes only cost history detail; the live state is intact in memory.
            tracing::warn!(%error, count, "could not write DMS states");
        }
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
            system_id,
            state,
            at,
            last_online_at,
        } => {
            diesel::insert_into(system_state_transitions::table)
                .values((
                    system_state_transitions::id.eq(uuid::Uuid::now_v7().to_string()),
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
        let transition = |system_id: &str| PersistOp::Transition {
            system_id: system_id.into(),
            state: ConnectionState::Connected,
            at: now,
            last_online_at: Some(now),
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
