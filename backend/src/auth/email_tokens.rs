//! One-time links sent by mail: verify an address, reset a password.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::one_time;
use crate::db::schema::email_tokens;
use crate::db::AnyConnection;

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    /// How long a link stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::hours(24),
            Purpose::ResetPassword => Duration::hours(1),
        }
    }
}

/// Issues a new link token for `user_id`; earlier unused ones of the same purpose stop working,
/// so only the newest mail counts.
pub fn issue(
    conn: &mut AnyConnection,
    user_id: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let token = one_time::generate("sml_");
    conn.transaction(|conn| {
        diesel::update(
            email_tokens::table
                .filter(email_tokens::user_id.eq(user_id))
                .filter(email_tokens::purpose.eq(purpose.as_str()))
                .filter(email_tokens::used_at.is_null()),
        )
        .set(email_tokens::used_at.eq(now))
        .execute(conn)?;
        diesel::insert_into(email_tokens::table)
            .values((
                email_tokens::token_hash.eq(one_time::hash(&token)),
                email_tokens::user_id.eq(user_id),
                email_tokens::purpose.eq(purpose.as_str()),
                email_tokens::created_at.eq(now),
                email_tokens::expires_at.eq(now + purpose.lifetime()),
            ))
            .execute(conn)
    })?;
    Ok(token)
}

/// The user a still-valid token belongs to, without using it up.
pub fn peek(
    conn: &mut AnyConnection,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    email_tokens::table
        .find(one_time::hash(token))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .select(email_tokens::user_id)
        .first(conn)
        .optional()
}

/// Uses a token up; returns its user when it was valid (only one caller ever gets it).
pub fn consume(
    conn: &mut AnyConnection,
    token: &str,
    purpose: Purpose,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let Some(user_id) = peek(conn, token, purpose, now)? else {
        return Ok(None);
    };
    let claimed = diesel::update(
        email_tokens::table
            .find(one_time::hash(token))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok((claimed == 1).then_some(user_id))
}
