//! Provider identities in the database: sign-ins in flight (bound to one browser's cookie,
//! single use), identities linked to accounts, and links waiting for the owner's proof.
//! What reads before it writes (taking a sign-in, completing a link, unlinking) runs in the
//! caller's write transaction (`Database::run_write`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::one_time;
use crate::db::schema::{identities, pending_identity_links, provider_logins, users};
use crate::db::AnyConnection;

/// How long a started sign-in may take at the provider.
pub const LOGIN_LIFETIME: Duration = Duration::minutes(10);
/// How long the owner of an existing account has to prove control before a link is dropped.
pub const PENDING_LINK_LIFETIME: Duration = Duration::minutes(30);

/// What the callback needs from the sign-in this browser started.
#[derive(Debug, Queryable)]
pub struct StartedLogin {
    pub provider_id: String,
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub expires_at: NaiveDateTime,
}

/// Remembers a started sign-in under the browser's cookie; returns the cookie value.
pub fn record_login(
    conn: &mut AnyConnection,
    provider_id: &str,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    now: NaiveDateTime,
) -> QueryResult<String> {
    let cookie = one_time::generate("spl_");
    // Abandoned sign-ins are cleaned up as new ones start.
    diesel::delete(provider_logins::table.filter(provider_logins::expires_at.lt(now)))
        .execute(conn)?;
    diesel::insert_into(provider_logins::table)
        .values((
            provider_logins::cookie_hash.eq(one_time::hash(&cookie)),
            provider_logins::provider_id.eq(provider_id),
            provider_logins::state_hash.eq(one_time::hash(state)),
            provider_logins::nonce.eq(nonce),
            provider_logins::pkce_verifier.eq(pkce_verifier),
            provider_logins::created_at.eq(now),
            provider_logins::expires_at.eq(now + LOGIN_LIFETIME),
        ))
        .execute(conn)?;
    Ok(cookie)
}

/// Takes the sign-in started under this cookie: it can be taken once (concurrent callbacks
/// race on the delete, and only one wins).
pub fn take_login(conn: &mut AnyConnection, cookie: &str) -> QueryResult<Option<StartedLogin>> {
    let cookie_hash = one_time::hash(cookie);
    let found: Option<StartedLogin> = provider_logins::table
        .find(&cookie_hash)
        .select((
            provider_logins::provider_id,
            provider_logins::state_hash,
            provider_logins::nonce,
            provider_logins::pkce_verifier,
            provider_logins::expires_at,
        ))
        .first(conn)
        .optional()?;
    let deleted = diesel::delete(provider_logins::table.find(&cookie_hash)).execute(conn)?;
    Ok(found.filter(|_| deleted == 1))
}

/// The account linked to this provider identity, if any.
pub fn find_user(
    conn: &mut AnyConnection,
    provider_id: &str,
    subject: &str,
) -> QueryResult<Option<String>> {
    identities::table
        .filter(identities::provider_id.eq(provider_id))
        .filter(identities::subject.eq(subject))
        .select(identities::user_id)
        .first(conn)
        .optional()
}

/// Notes a sign-in with a linked identity.
pub fn touch(
    conn: &mut AnyConnection,
    provider_id: &str,
    subject: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        identities::table
            .filter(identities::provider_id.eq(provider_id))
            .filter(identities::subject.eq(subject)),
    )
    .set(identities::last_used_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// Links a provider identity to an account.
pub fn link(
    conn: &mut AnyConnection,
    user_id: &str,
    provider_id: &str,
    subject: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(identities::table)
        .values((
            identities::id.eq(uuid::Uuid::new_v4().to_string()),
            identities::user_id.eq(user_id),
            identities::provider_id.eq(provider_id),
            identities::subject.eq(subject),
            identities::email.eq(email),
            identities::created_at.eq(now),
            identities::last_used_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A link waiting for proof: the cookie for this browser and the token for the mail.
pub struct PendingLink {
    pub cookie: String,
    pub mail_token: String,
}

/// Remembers an identity to link to `user_id` once its owner proves control.
pub fn record_pending_link(
    conn: &mut AnyConnection,
    user_id: &str,
    provider_id: &str,
    subject: &str,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<PendingLink> {
    let cookie = one_time::generate("spl_");
    let mail_token = one_time::generate("sml_");
    diesel::delete(
        pending_identity_links::table.filter(pending_identity_links::expires_at.lt(now)),
    )
    .execute(conn)?;
    diesel::insert_into(pending_identity_links::table)
        .values((
            pending_identity_links::cookie_hash.eq(one_time::hash(&cookie)),
            pending_identity_links::mail_token_hash.eq(one_time::hash(&mail_token)),
            pending_identity_links::user_id.eq(user_id),
            pending_identity_links::provider_id.eq(provider_id),
            pending_identity_links::subject.eq(subject),
            pending_identity_links::email.eq(email),
            pending_identity_links::created_at.eq(now),
            pending_identity_links::expires_at.eq(now + PENDING_LINK_LIFETIME),
        ))
        .execute(conn)?;
    Ok(PendingLink { cookie, mail_token })
}

/// Links the identity waiting under `cookie` when `mail_token` is its mailed token: the
/// mailbox owner opened the link in the browser that signed in at the provider. Returns the
/// account to sign in.
pub fn complete_pending_link_by_mail(
    conn: &mut AnyConnection,
    cookie: &str,
    mail_token: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let cookie_hash = one_time::hash(cookie);
    let found: Option<(String, String, String, String, NaiveDateTime)> =
        pending_identity_links::table
            .find(&cookie_hash)
            .filter(pending_identity_links::mail_token_hash.eq(one_time::hash(mail_token)))
            .select((
                pending_identity_links::user_id,
                pending_identity_links::provider_id,
                pending_identity_links::subject,
                pending_identity_links::email,
                pending_identity_links::expires_at,
            ))
            .first(conn)
            .optional()?;
    let Some((user_id, provider_id, subject, email, expires_at)) = found else {
        return Ok(None);
    };
    let deleted = diesel::delete(pending_identity_links::table.find(&cookie_hash)).execute(conn)?;
    if deleted != 1 || expires_at <= now || find_user(conn, &provider_id, &subject)?.is_some() {
        return Ok(None);
    }
    link(conn, &user_id, &provider_id, &subject, &email, now)?;
    Ok(Some(user_id))
}

/// Links the identity waiting under `cookie` when it belongs to `user_id` (who just proved
/// control of the account). Returns the provider id linked, if any.
pub fn complete_pending_link(
    conn: &mut AnyConnection,
    cookie: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let cookie_hash = one_time::hash(cookie);
    let found: Option<(String, String, String, NaiveDateTime)> = pending_identity_links::table
        .find(&cookie_hash)
        .filter(pending_identity_links::user_id.eq(user_id))
        .select((
            pending_identity_links::provider_id,
            pending_identity_links::subject,
            pending_identity_links::email,
            pending_identity_links::expires_at,
        ))
        .first(conn)
        .optional()?;
    let Some((provider_id, subject, email, expires_at)) = found else {
        return Ok(None);
    };
    diesel::delete(pending_identity_links::table.find(&cookie_hash)).execute(conn)?;
    if expires_at <= now || find_user(conn, &provider_id, &subject)?.is_some() {
        return Ok(None);
    }
    link(conn, user_id, &provider_id, &subject, &email, now)?;
    Ok(Some(provider_id))
}

/// A linked identity as the account page lists it.
#[derive(Debug, Queryable)]
pub struct LinkedRow {
    pub id: String,
    pub provider_id: String,
    pub email: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

/// The account's linked identities, oldest first.
pub fn list(conn: &mut AnyConnection, user_id: &str) -> QueryResult<Vec<LinkedRow>> {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .order(identities::created_at.asc())
        .select((
            identities::id,
            identities::provider_id,
            identities::email,
            identities::created_at,
            identities::last_used_at,
        ))
        .load(conn)
}

/// What came of asking to unlink an identity.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlink {
    Done,
    NotFound,
    /// No password and no other identity: the account would be locked out.
    LastWayIn,
}

/// Unlinks one of the account's identities while another way in remains.
pub fn unlink(conn: &mut AnyConnection, user_id: &str, identity_id: &str) -> QueryResult<Unlink> {
    let owned: i64 = identities::table
        .filter(identities::user_id.eq(user_id))
        .filter(identities::id.eq(identity_id))
        .count()
        .get_result(conn)?;
    if owned == 0 {
        return Ok(Unlink::NotFound);
    }
    let others: i64 = identities::table
        .filter(identities::user_id.eq(user_id))
        .filter(identities::id.ne(identity_id))
        .count()
        .get_result(conn)?;
    let has_password: Option<Option<String>> = users::table
        .find(user_id)
        .select(users::password_hash)
        .first(conn)
        .optional()?;
    if others == 0 && !matches!(has_password, Some(Some(_))) {
        return Ok(Unlink::LastWayIn);
    }
    diesel::delete(identities::table.find(identity_id)).execute(conn)?;
    Ok(Unlink::Done)
}
