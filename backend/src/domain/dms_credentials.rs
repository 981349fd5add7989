//! A DMS's credentials: the generation its tokens carry (bumped to revoke them all) and its
//! single-use refresh keys (stored hashed). A spent key presented again means a copy exists
//! elsewhere: every credential of the DMS is revoked until an Owner issues a new connect code.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::auth::dms_tokens::REFRESH_KEY_TTL;
use crate::auth::one_time;
use crate::db::schema::{gateway_refresh_keys, systems};
use crate::db::AnyConnection;
use crate::domain::connect_codes;
use crate::error::AppError;

/// What a DMS's token is issued from: which DMS, its organization and current generation,
/// and its new refresh key with that key's expiry.
#[derive(Debug)]
pub struct Grant {
    pub system_id: String,
    pub organization_id: String,
    pub generation: i32,
    pub refresh_key: String,
    pub refresh_key_expires_at: DateTime<Utc>,
}

/// What came of presenting a refresh key.
#[derive(Debug)]
pub enum Renewal {
    Renewed(Grant),
    /// A spent key again: every credential of the DMS is now revoked (its new generation).
    Reused {
        system_id: String,
        generation: i32,
    },
    /// Unknown or expired.
    Refused,
}

/// Revokes everything a DMS holds: its tokens (by generation) and its refresh keys. Returns
/// the new generation.
fn revoke(connection: &mut AnyConnection, system_id: &str) -> QueryResult<i32> {
    diesel::update(systems::table.find(system_id))
        .set(systems::token_generation.eq(systems::token_generation + 1))
        .execute(connection)?;
    diesel::delete(
        gateway_refresh_keys::table.filter(gateway_refresh_keys::system_id.eq(system_id)),
    )
    .execute(connection)?;
    systems::table
        .find(system_id)
        .select(systems::token_generation)
        .first(connection)
}

/// Takes the DMS row's write lock until the transaction ends.
fn lock_system(connection: &mut AnyConnection, system_id: &str) -> QueryResult<()> {
    diesel::update(systems::table.find(system_id))
        .set(systems::token_generation.eq(systems::token_generation))
        .execute(connection)?;
    Ok(())
}

/// Stores a new refresh key for a DMS and returns it with its expiry.
fn insert_refresh_key(
    connection: &mut AnyConnection,
    system_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<(String, DateTime<Utc>)> {
    let key = one_time::generate("srk_");
    let expires_at = now + REFRESH_KEY_TTL;
    diesel::insert_into(gateway_refresh_keys::table)
        .values((
            gateway_refresh_keys::key_hash.eq(one_time::hash(&key)),
            gateway_refresh_keys::system_id.eq(system_id),
            gateway_refresh_keys::created_at.eq(now.naive_utc()),
            gateway_refresh_keys::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(connection)?;
    Ok((key, expires_at))
}

/// Trades the connect code with this hash for new credentials; whatever the DMS held before
/// is revoked. Run in a write transaction.
pub fn connect(
    connection: &mut AnyConnection,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<Grant, AppError> {
    let (system_id, organization_id) = connect_codes::claim(connection, code_hash, now)?;
    let generation = revoke(connection, &system_id)?;
    let (refresh_key, refresh_key_expires_at) = insert_refresh_key(connection, &system_id, now)?;
    Ok(Grant {
        system_id,
        organization_id,
        generation,
        refresh_key,
        refresh_key_expires_at,
    })
}

/// Spends the refresh key with this hash for new credentials. Run in a write transaction.
pub fn renew(
    connection: &mut AnyConnection,
    key_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Renewal> {
    let owner: Option<String> = gateway_refresh_keys::table
        .find(key_hash)
        .select(gateway_refresh_keys::system_id)
        .first(connection)
        .optional()?;
    let Some(owner) = owner else {
        return Ok(Renewal::Refused);
    };
    // Lock the DMS's row before reading its keys: a renewal and a revocation of the same DMS
    // run one after the other, so a revocation cannot miss a key a concurrent renewal is
    // inserting (PostgreSQL reads committed data per statement; SQLite already serializes
    // writers).
    lock_system(connection, &owner)?;
    let found: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>, i32)> =
        gateway_refresh_keys::table
            .inner_join(systems::table)
            .filter(gateway_refresh_keys::key_hash.eq(key_hash))
            .select((
                systems::id,
                systems::organization_id,
                gateway_refresh_keys::expires_at,
                gateway_refresh_keys::used_at,
                systems::token_generation,
            ))
            .first(connection)
            .optional()?;
    let Some((system_id, organization_id, expires_at, used_at, generation)) = found else {
        return Ok(Renewal::Refused);
    };
    if used_at.is_some() {
        let generation = revoke(connection, &system_id)?;
        return Ok(Renewal::Reused {
            system_id,
            generation,
        });
    }
    if expires_at <= now.naive_utc() {
        diesel::delete(gateway_refresh_keys::table.find(key_hash)).execute(connection)?;
        return Ok(Renewal::Refused);
    }
    let claimed = diesel::update(gateway_refresh_keys::table.find(key_hash))
        .filter(gateway_refresh_keys::used_at.is_null())
        .set(gateway_refresh_keys::used_at.eq(Some(now.naive_utc())))
        .execute(connection)?;
    if claimed != 1 {
        let generation = revoke(connection, &system_id)?;
        return Ok(Renewal::Reused {
            system_id,
            generation,
        });
    }
    // Spent keys are kept to recognise their reuse, until they would have expired.
    diesel::delete(
        gateway_refresh_keys::table
            .filter(gateway_refresh_keys::system_id.eq(&system_id))
            .filter(gateway_refresh_keys::used_at.is_not_null())
            .filter(gateway_refresh_keys::expires_at.le(now.naive_utc())),
    )
    .execute(connection)?;
    let (refresh_key, refresh_key_expires_at) = insert_refresh_key(connection, &system_id, now)?;
    Ok(Renewal::Renewed(Grant {
        system_id,
        organization_id,
        generation,
        refresh_key,
        refresh_key_expires_at,
    }))
}

/// The organization and current token generation of a DMS, if it still exists (every use of
/// a DMS token checks them).
pub fn current(
    connection: &mut AnyConnection,
    system_id: &str,
) -> QueryResult<Option<(String, i32)>> {
    systems::table
        .find(system_id)
        .select((systems::organization_id, systems::token_generation))
        .first(connection)
        .optional()
}
