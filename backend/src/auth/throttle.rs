//! Rate limits over a sliding window, counted in the database so that every backend of an
//! install sees the same numbers.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::one_time;
use crate::db::schema::throttle_events;
use crate::db::AnyConnection;

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

/// Counts one event for the subject, and forgets its events older than the window.
pub fn record(
    conn: &mut AnyConnection,
    limit: Limit,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let subject_hash = one_time::hash(subject);
    diesel::delete(
        throttle_events::table
            .filter(throttle_events::bucket.eq(limit.bucket))
            .filter(throttle_events::subject_hash.eq(&subject_hash))
            .filter(throttle_events::occurred_at.le(now - limit.window)),
    )
    .execute(conn)?;
    diesel::insert_into(throttle_events::table)
        .values((
            throttle_events::id.eq(uuid::Uuid::new_v4().to_string()),
            throttle_events::bucket.eq(limit.bucket),
            throttle_events::subject_hash.eq(subject_hash),
            throttle_events::occurred_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
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
