//! Connect codes: the one-time secret a DMS's gateway trades for its first credentials.
//! 256 random bits, stored only as their SHA-256, single use, valid one hour.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use stratus_shared::api::organizations::ConnectCode;

use crate::auth::one_time;
use crate::db::schema::{connect_codes, systems};
use crate::db::AnyConnection;
use crate::domain::systems as system_rules;
use crate::error::AppError;

/// How long a connect code can be used.
pub const CONNECT_CODE_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Creates a connect code for a DMS, which voids its older unused ones; only its hash is
/// stored.
pub fn insert(
    connection: &mut AnyConnection,
    system_id: &str,
    user_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<ConnectCode> {
    let code = one_time::generate("scc_");
    let expires_at = now + CONNECT_CODE_TTL;
    // One code is valid per DMS: the newest. An older one, shown once and perhaps left in a
    // mail or a ticket, must not still connect (and re-key) the DMS.
    diesel::delete(
        connect_codes::table
            .filter(connect_codes::system_id.eq(system_id))
            .filter(connect_codes::used_at.is_null()),
    )
    .execute(connection)?;
    diesel::insert_into(connect_codes::table)
        .values((
            connect_codes::code_hash.eq(one_time::hash(&code)),
            connect_codes::system_id.eq(system_id),
            connect_codes::created_by.eq(user_id),
            connect_codes::created_at.eq(now),
            connect_codes::expires_at.eq(expires_at),
        ))
        .execute(connection)?;
    Ok(ConnectCode {
        system_id: system_id.to_owned(),
        code,
        expires_at: expires_at.and_utc(),
    })
}

/// Issues a new connect code for an existing DMS as `user_id` (checked already), in the audit
/// log. Using it re-keys the DMS.
pub fn issue(
    connection: &mut AnyConnection,
    user_id: &str,
    organization_id: &str,
    system_id: &str,
) -> Result<ConnectCode, AppError> {
    let code = insert(
        connection,
        system_id,
        Some(user_id),
        crate::db::now().naive_utc(),
    )?;
    system_rules::record_change(
        connection,
        user_id,
        organization_id,
        system_id,
        "system.connect_code_issued",
        "Issued a new connect code for the DMS",
    )?;
    Ok(code)
}

/// Spends the connect code with this hash: the DMS it is for (id, organization), or
/// `invalid_connect_code` when it is unknown, used or expired. Of two racing claims one wins.
pub fn claim(
    connection: &mut AnyConnection,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), AppError> {
    let found: Option<(String, String)> = connect_codes::table
        .inner_join(systems::table)
        .filter(connect_codes::code_hash.eq(code_hash))
        .filter(connect_codes::used_at.is_null())
        .filter(connect_codes::expires_at.gt(now.naive_utc()))
        .select((systems::id, systems::organization_id))
        .first(connection)
        .optional()?;
    let (system_id, organization_id) = found.ok_or(AppError::InvalidConnectCode)?;
    // Conditional on still unused: of two racing requests, one wins.
    let claimed = diesel::update(connect_codes::table.find(code_hash))
        .filter(connect_codes::used_at.is_null())
        .set(connect_codes::used_at.eq(Some(now.naive_utc())))
        .execute(connection)?;
    if claimed != 1 {
        return Err(AppError::InvalidConnectCode);
    }
    Ok((system_id, organization_id))
}
