//! Rate limits over a sliding window, counted in the database so that every backend of an
//! install sees the same numbers.
//!
//! A limit that guards expensive or guessable work is *taken* before the work ([`take`]):
//! the check and the count happen in one step, serialised per subject, so parallel requests
//! cannot all pass a check that none of them has counted yet. A success that should not count
//! gives its event back afterwards ([`forget`]).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::one_time;
use crate::db::schema::throttle_events;
use crate::db::{self, AnyConnection};

/// At most `max` events per `window` for one subject in one bucket.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// When the subject may try again, or `None` when it may now.
pub fn retry_after(
    conn: &mut AnyConnection,
    limit: Limit,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Duration>> {
    let since = now - limit.window;
    let recent: Vec<NaiveDateTime> = throttle_events::table
        .filter(throttle_events::bucket.eq(limit.bucket))
        .filter(throttle_events::subject_hash.eq(one_time::hash(subject)))
        .filter(throttle_events::occurred_at.gt(since))
        .order(throttle_events::occurred_at.desc())
        .select(throttle_events::occurred_at)
        .limit(i64::from(limit.max))
        .load(conn)?;
    if recent.len() < limit.max as usize {
        return Ok(None);
    }
    // The oldest of the last `max` events must leave the window first.
    let oldest = recent.last().copied().unwrap_or(now);
    let wait = (oldest + limit.window) - now;
    Ok(Some(wait.max(Duration::seconds(1))))
}

/// Checks and counts one event in one step: `Ok(id)` of the event counted when the subject is
/// under the limit, `Err(wait)` (nothing counted) when it is not. Call inside a write
/// transaction (`Database::run_write`): on PostgreSQL a transaction-scoped advisory lock on the
/// bucket and subject serialises concurrent takers; on SQLite the write transaction already
/// does.
pub fn take(
    conn: &mut AnyConnection,
    limit: Limit,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<Result<String, Duration>> {
    lock_subject(conn, limit, subject)?;
    if let Some(wait) = retry_after(conn, limit, subject, now)? {
        return Ok(Err(wait));
    }
    record(conn, limit, subject, now).map(Ok)
}

/// Gives back one event counted by [`take`] (a success that must not count against a limit).
pub fn forget(conn: &mut AnyConnection, event_id: &str) -> QueryResult<()> {
    diesel::delete(throttle_events::table.find(event_id))
        .execute(conn)
        .map(|_| ())
}

/// Serialises takers of one bucket and subject until the transaction ends (PostgreSQL).
fn lock_subject(conn: &mut AnyConnection, limit: Limit, subject: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        let key = lock_key(limit.bucket, subject);
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(key)
            .execute(pg)?;
    } else {
        db::begin_write(conn)?;
    }
    Ok(())
}

/// A 64-bit advisory-lock key for a bucket and subject (the first 8 bytes of their SHA-256;
/// a collision only makes two subjects wait for each other).
fn lock_key(bucket: &str, subject: &str) -> i64 {
    let hash = one_time::hash(&format!("throttle:{bucket}:{subject}"));
    u64::from_str_radix(&hash[..16], 16).map_or(0, |key| key as i64)
}

/// Counts one event for the subject, and forgets its events older than the window; returns
/// the event's id.
pub fn record(
    conn: &mut AnyConnection,
    limit: Limit,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let subject_hash = one_time::hash(subject);
    diesel::delete(
        throttle_events::table
            .filter(throttle_events::bucket.eq(limit.bucket))
            .filter(throttle_events::subject_hash.eq(&subject_hash))
            .filter(throttle_events::occurred_at.le(now - limit.window)),
    )
    .execute(conn)?;
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(throttle_events::table)
        .values((
            throttle_events::id.eq(&id),
            throttle_events::bucket.eq(limit.bucket),
            throttle_events::subject_hash.eq(subject_hash),
            throttle_events::occurred_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Forgets the subject's events in a bucket (e.g. failed sign-ins after a success).
pub fn clear(conn: &mut AnyConnection, limit: Limit, subject: &str) -> QueryResult<()> {
    diesel::delete(
        throttle_events::table
            .filter(throttle_events::bucket.eq(limit.bucket))
            .filter(throttle_events::subject_hash.eq(one_time::hash(subject))),
    )
    .execute(conn)
    .map(|_| ())
}
