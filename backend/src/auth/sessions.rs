//! Sessions and their single-use refresh tokens.
//!
//! Each sign-in starts a session; each refresh exchanges the presented token for a new one.
//! A token presented a second time means it was copied: the whole session is revoked, which
//! signs out both the thief and the owner (OAuth 2.0 BCP refresh-token rotation).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::one_time;
use crate::db::schema::{refresh_tokens, sessions};
use crate::db::AnyConnection;

/// How long a session lasts at most, however often it is refreshed.
pub const SESSION_LIFETIME: Duration = Duration::days(30);
/// Longest user-agent text kept.
const USER_AGENT_MAX: usize = 200;

/// A session just started or refreshed: the refresh token goes into the cookie.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub user_id: String,
    pub session_id: String,
    pub refresh_token: String,
    pub session_expires_at: NaiveDateTime,
    /// Sessions of the account ended to make room for this one (see [`start`]): whoever
    /// signed the account in must announce them as ended, so their tokens stop at once.
    pub displaced: Vec<String>,
}

/// What came of presenting a refresh token.
#[derive(Debug)]
pub enum Refresh {
    Rotated(IssuedRefresh),
    /// Already used: the session has now been revoked.
    Reused {
        session_id: String,
    },
    /// Unknown, or its session expired or was revoked.
    Invalid,
}

/// Starts a session for `user_id` and returns its first refresh token. An account keeps at
/// most `max_sessions` (0: no limit): beyond, the least recently used sessions end, so a
/// script signing in in a loop cannot fill the table, and a person with many browsers loses
/// the one they forgot.
pub fn start(
    conn: &mut AnyConnection,
    user_id: &str,
    user_agent: Option<&str>,
    max_sessions: u32,
    now: NaiveDateTime,
) -> QueryResult<IssuedRefresh> {
    let session_id = uuid::Uuid::new_v4().to_string();
    let expires_at = now + SESSION_LIFETIME;
    let user_agent: Option<String> =
        user_agent.map(|agent| agent.chars().take(USER_AGENT_MAX).collect());
    conn.transaction(|conn| {
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(&session_id),
                sessions::user_id.eq(user_id),
                sessions::created_at.eq(now),
                sessions::last_used_at.eq(now),
                sessions::expires_at.eq(expires_at),
                sessions::user_agent.eq(user_agent),
            ))
            .execute(conn)?;
        let refresh_token = insert_refresh_token(conn, &session_id, now)?;
        let displaced = end_beyond(conn, user_id, &session_id, max_sessions, now)?;
        Ok(IssuedRefresh {
            user_id: user_id.to_owned(),
            session_id: session_id.clone(),
            refresh_token,
            session_expires_at: expires_at,
            displaced,
        })
    })
}

/// Ends the account's active sessions beyond the `max_sessions` most recently used, `keep`
/// (the one just started) counted first; returns the ids ended.
fn end_beyond(
    conn: &mut AnyConnection,
    user_id: &str,
    keep: &str,
    max_sessions: u32,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    if max_sessions == 0 {
        return Ok(Vec::new());
    }
    // Never more than the limit plus the sessions started in parallel: the limit holds.
    let others: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::id.ne(keep))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::last_used_at.desc(), sessions::created_at.desc()))
        .select(sessions::id)
        .load(conn)?;
    let kept_others = max_sessions as usize - 1;
    let ended: Vec<String> = others.into_iter().skip(kept_others).collect();
    if !ended.is_empty() {
        diesel::update(sessions::table.filter(sessions::id.eq_any(&ended)))
            .set(sessions::revoked_at.eq(now))
            .execute(conn)?;
        tracing::info!(%user_id, ended = ended.len(), "sessions beyond the account's limit ended");
    }
    Ok(ended)
}

fn insert_refresh_token(
    conn: &mut AnyConnection,
    session_id: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let token = one_time::generate("ssr_");
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(one_time::hash(&token)),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Exchanges a refresh token for a new one (see the module docs for reuse). It reads the token
/// before it spends it: call it in a write transaction (`Database::run_write`).
pub fn rotate(
    conn: &mut AnyConnection,
    presented: &str,
    now: NaiveDateTime,
) -> QueryResult<Refresh> {
    let token_hash = one_time::hash(presented);
    let found: Option<(String, Option<NaiveDateTime>)> = refresh_tokens::table
        .find(&token_hash)
        .select((refresh_tokens::session_id, refresh_tokens::used_at))
        .first(conn)
        .optional()?;
    let Some((session_id, used_at)) = found else {
        return Ok(Refresh::Invalid);
    };
    if used_at.is_some() {
        revoke(conn, &session_id, now)?;
        tracing::warn!(%session_id, "refresh token reused: session revoked");
        return Ok(Refresh::Reused { session_id });
    }
    let session: Option<(String, NaiveDateTime)> = sessions::table
        .find(&session_id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select((sessions::user_id, sessions::expires_at))
        .first(conn)
        .optional()?;
    let Some((user_id, session_expires_at)) = session else {
        return Ok(Refresh::Invalid);
    };
    // Only one of two concurrent exchanges of the same token may win.
    let claimed = diesel::update(
        refresh_tokens::table
            .find(&token_hash)
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    if claimed != 1 {
        revoke(conn, &session_id, now)?;
        return Ok(Refresh::Reused { session_id });
    }
    diesel::update(sessions::table.find(&session_id))
        .set(sessions::last_used_at.eq(now))
        .execute(conn)?;
    let refresh_token = insert_refresh_token(conn, &session_id, now)?;
    Ok(Refresh::Rotated(IssuedRefresh {
        user_id,
        session_id,
        refresh_token,
        session_expires_at,
        displaced: Vec::new(),
    }))
}

/// Revokes one session (its refresh tokens stop working at once).
pub fn revoke(conn: &mut AnyConnection, session_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// Revokes one session of `user_id`; false when it is not theirs or not active.
pub fn revoke_own(
    conn: &mut AnyConnection,
    user_id: &str,
    session_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .map(|changed| changed == 1)
}

/// Revokes the session a refresh token belongs to (sign out); returns its id.
pub fn revoke_by_token(
    conn: &mut AnyConnection,
    presented: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let session_id: Option<String> = refresh_tokens::table
        .find(one_time::hash(presented))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?;
    if let Some(session_id) = &session_id {
        revoke(conn, session_id, now)?;
    }
    Ok(session_id)
}

/// Revokes every session of a user ("sign out everywhere", password changes); returns the
/// ids of the sessions it ended.
pub fn revoke_all(
    conn: &mut AnyConnection,
    user_id: &str,
    except_session: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let mut query = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id)
        .into_boxed();
    if let Some(keep) = except_session {
        query = query.filter(sessions::id.ne(keep));
    }
    let ids: Vec<String> = query.load(conn)?;
    // Exactly these: a session started meanwhile is not ended unannounced.
    diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(ids)
}

/// An active session as listed on the account page.
#[derive(Debug, Queryable)]
pub struct ActiveSession {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub user_agent: Option<String>,
}

/// The user's sessions that are neither revoked nor expired, most recent first.
pub fn active(
    conn: &mut AnyConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<ActiveSession>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order(sessions::last_used_at.desc())
        .select((
            sessions::id,
            sessions::created_at,
            sessions::last_used_at,
            sessions::user_agent,
        ))
        .load(conn)
}
