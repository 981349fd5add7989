//! Backends' leases (cluster mode): each backend renews a row in `cluster_backends`; a backend
//! whose lease ran out (it was killed, or lost its database for longer than the lease) is
//! taken over by one survivor, which records the DMSs whose sockets it held disconnected.
//!
//! Exactly once: deleting the expired lease row is the claim (of two survivors trying, one
//! deletes it), and the DMSs are those still marked as held by the dead backend in the same
//! transaction — a DMS whose gateway reconnected elsewhere meanwhile is marked with its new
//! backend and left alone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use stratus_shared::ConnectionState;

use crate::db::schema::{cluster_backends, system_state_transitions, systems};
use crate::db::AnyConnection;

/// States that say a gateway is connected; a DMS in one of them without a live backend is
/// recorded disconnected.
fn live_states() -> [&'static str; 2] {
    [
        ConnectionState::Connected.as_str(),
        ConnectionState::DmsNotResponding.as_str(),
    ]
}

/// Renews this backend's lease until `expires_at`. Returns whether the lease was still there:
/// `false` means it had run out and been taken over (or this is the first renewal).
pub fn renew(
    connection: &mut AnyConnection,
    backend_id: &str,
    name: &str,
    address: &str,
    started_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let renewed = diesel::update(cluster_backends::table.find(backend_id))
        .set(cluster_backends::lease_expires_at.eq(expires_at.naive_utc()))
        .execute(connection)?;
    if renewed == 1 {
        return Ok(true);
    }
    diesel::insert_into(cluster_backends::table)
        .values((
            cluster_backends::id.eq(backend_id),
            cluster_backends::name.eq(name),
            cluster_backends::address.eq(address),
            cluster_backends::started_at.eq(started_at.naive_utc()),
            cluster_backends::lease_expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(connection)?;
    Ok(false)
}

/// Gives up this backend's lease (a clean stop).
pub fn leave(connection: &mut AnyConnection, backend_id: &str) -> QueryResult<()> {
    diesel::delete(cluster_backends::table.find(backend_id)).execute(connection)?;
    Ok(())
}

/// The backends other than `backend_id` whose lease ran out before `now`.
pub fn expired(
    connection: &mut AnyConnection,
    backend_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<(String, String)>> {
    cluster_backends::table
        .filter(cluster_backends::lease_expires_at.lt(now.naive_utc()))
        .filter(cluster_backends::id.ne(backend_id))
        .select((cluster_backends::id, cluster_backends::name))
        .load(connection)
}

/// Takes over `dead`'s DMSs when its lease is still expired and nobody took it over first:
/// records each one that was connected or not responding as disconnected at `now`. Returns
/// those DMSs (empty when another backend took it over first). Run inside a transaction.
pub fn take_over(
    connection: &mut AnyConnection,
    dead: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let claimed = diesel::delete(
        cluster_backends::table
            .find(dead)
            .filter(cluster_backends::lease_expires_at.lt(now.naive_utc())),
    )
    .execute(connection)?;
    if claimed == 0 {
        return Ok(Vec::new());
    }
    let held: Vec<String> = systems::table
        .filter(systems::gateway_backend.eq(dead))
        .select(systems::id)
        .load(connection)?;
    diesel::update(systems::table.filter(systems::gateway_backend.eq(dead)))
        .set(systems::gateway_backend.eq(None::<String>))
        .execute(connection)?;
    record_disconnected(connection, &held, now)
}

/// DMSs stored as connected with no backend holding them (written by a version without
/// cluster mode, or by the single-process mode before this cluster started): recorded
/// disconnected, once. Run inside a transaction.
pub fn take_over_orphans(
    connection: &mut AnyConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let orphans: Vec<String> = systems::table
        .filter(systems::gateway_backend.is_null())
        .filter(systems::state.eq_any(live_states()))
        .select(systems::id)
        .load(connection)?;
    record_disconnected(connection, &orphans, now)
}

/// Records the live ones among `system_ids` that no backend holds disconnected at `now`;
/// returns them. The update is conditional on both (a gateway that reconnected elsewhere
/// meanwhile has its new backend's mark), so of two backends doing this at once each DMS is recorded by
/// one (PostgreSQL re-checks the condition after waiting for the other's row lock).
fn record_disconnected(
    connection: &mut AnyConnection,
    system_ids: &[String],
    now: DateTime<Utc>,
) -> QueryResult<Vec<String>> {
    let mut recorded = Vec::new();
    for system_id in system_ids {
        let changed = diesel::update(
            systems::table
                .find(system_id)
                .filter(systems::gateway_backend.is_null())
                .filter(systems::state.eq_any(live_states())),
        )
        .set(systems::state.eq(ConnectionState::Disconnected.as_str()))
        .execute(connection)?;
        if changed == 0 {
            continue;
        }
        diesel::insert_into(system_state_transitions::table)
            .values((
                system_state_transitions::id.eq(uuid::Uuid::now_v7().to_string()),
                system_state_transitions::system_id.eq(system_id),
                system_state_transitions::state.eq(ConnectionState::Disconnected.as_str()),
                system_state_transitions::at.eq(now.naive_utc()),
            ))
            .execute(connection)?;
        recorded.push(system_id.clone());
    }
    Ok(recorded)
}

/// Single-process mode: this process is the only backend, so every lease and every mark of a
/// held socket is stale.
pub fn forget_every_backend(connection: &mut AnyConnection) -> QueryResult<()> {
    diesel::delete(cluster_backends::table).execute(connection)?;
    diesel::update(systems::table.filter(systems::gateway_backend.is_not_null()))
        .set(systems::gateway_backend.eq(None::<String>))
        .execute(connection)?;
    Ok(())
}
