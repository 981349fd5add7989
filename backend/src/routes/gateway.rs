//! The DMS gateway's endpoints: trade a connect code for credentials, renew them, and the
//! heartbeat WebSocket.

use std::time::Duration;

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use stratus_shared::api::gateway::{
    close_code, ConnectRequest, DmsCredentials, Heartbeat, RefreshRequest,
};

use crate::auth::dms_tokens::{DmsClaims, REFRESH_KEY_TTL};
use crate::auth::one_time;
use crate::db::schema::{connect_codes, gateway_refresh_keys, systems};
use crate::db::{AnyConnection, Database};
use crate::error::AppError;
use crate::live::LiveHub;
use crate::startup::AppState;

/// The largest frame (or message of continuation frames) a gateway may send. A heartbeat is
/// about 120 bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Longest accepted connect code or refresh key (they are 47 characters).
const MAX_SECRET_LENGTH: usize = 128;

/// A DMS whose token was accepted.
#[derive(Debug, Clone)]
pub struct AuthenticatedDms {
    pub system_id: String,
    pub organization_id: String,
    /// The token's generation (`systems.token_generation` when issued).
    pub generation: i32,
    pub token_expires_at: DateTime<Utc>,
}

fn check_secret(raw: &str) -> Result<&str, AppError> {
    let secret = raw.trim();
    if secret.is_empty() || secret.len() > MAX_SECRET_LENGTH {
        return Err(AppError::InvalidRequest(
            "The code or key is empty or too long.".into(),
        ));
    }
    Ok(secret)
}

/// Revokes everything a DMS holds: its tokens (by generation) and its refresh keys.
fn revoke_credentials(connection: &mut AnyConnection, system_id: &str) -> QueryResult<i32> {
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

fn credentials(
    state: &AppState,
    system_id: String,
    organization_id: String,
    generation: i32,
    refresh: (String, DateTime<Utc>),
    now: DateTime<Utc>,
) -> DmsCredentials {
    let (token, token_expires_at) =
        state
            .dms_tokens
            .issue(&system_id, &organization_id, generation, now);
    DmsCredentials {
        system_id,
        organization_id,
        token,
        token_expires_at,
        refresh_key: refresh.0,
        refresh_key_expires_at: refresh.1,
        heartbeat_interval_seconds: state.settings.heartbeat_interval_seconds.max(1),
    }
}

/// Trades a connect code (single use, valid one hour) for a DMS token and a refresh key.
/// Any credentials the DMS held before stop working.
#[utoipa::path(
    tag = "gateway",
    request_body = ConnectRequest,
    responses(
        (status = 200, description = "The DMS's credentials", body = DmsCredentials),
        (status = 400, description = "Malformed request", body = stratus_shared::ApiError),
        (status = 401, description = "Unknown, used or expired connect code", body = stratus_shared::ApiError),
    )
)]
#[post("/gateway/connect")]
pub async fn exchange_connect_code(
    body: web::Json<ConnectRequest>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let code_hash = one_time::hash(check_secret(&body.connect_code)?);
    let now = crate::db::now();
    let (system_id, organization_id, generation, refresh) = database
        .run_write(move |connection| {
            let found: Option<(String, String)> = connect_codes::table
                .inner_join(systems::table)
                .filter(connect_codes::code_hash.eq(&code_hash))
                .filter(connect_codes::used_at.is_null())
                .filter(connect_codes::expires_at.gt(now.naive_utc()))
                .select((systems::id, systems::organization_id))
                .first(connection)
                .optional()?;
            let (system_id, organization_id) = found.ok_or(AppError::InvalidConnectCode)?;
            // Conditional on still unused: of two racing requests, one wins.
            let claimed = diesel::update(connect_codes::table.find(&code_hash))
                .filter(connect_codes::used_at.is_null())
                .set(connect_codes::used_at.eq(Some(now.naive_utc())))
                .execute(connection)?;
            if claimed != 1 {
                return Err(AppError::InvalidConnectCode);
            }
            let generation = revoke_credentials(connection, &system_id)?;
            let refresh = insert_refresh_key(connection, &system_id, now)?;
            Ok((system_id, organization_id, generation, refresh))
        })
        .await?;
    // A gateway still connected with the old credentials is cut off.
    hub.revoke(&system_id, generation, now);
    tracing::info!(system_id, "DMS connected with a connect code");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(credentials(
            &state,
            system_id,
            organization_id,
            generation,
            refresh,
            now,
        )))
}

/// Why a refresh key was refused, decided inside the transaction.
enum Refresh {
    Renewed(String, String, i32, (String, DateTime<Utc>)),
    Reused(String, i32),
    Refused,
}

/// Renews a DMS's credentials with its single-use refresh key. A reused key revokes all of the
/// DMS's credentials (a copy may be in other hands): it stays disconnected until an Owner
/// issues a new connect code.
#[utoipa::path(
    tag = "gateway",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New credentials; the old refresh key is spent", body = DmsCredentials),
        (status = 400, description = "Malformed request", body = stratus_shared::ApiError),
        (status = 401, description = "Unknown, expired, reused or revoked refresh key", body = stratus_shared::ApiError),
    )
)]
#[post("/gateway/refresh")]
pub async fn refresh_credentials(
    body: web::Json<RefreshRequest>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let key_hash = one_time::hash(check_secret(&body.refresh_key)?);
    let now = crate::db::now();
    let outcome = database
        .run_write(move |connection| {
            let owner: Option<String> = gateway_refresh_keys::table
                .find(&key_hash)
                .select(gateway_refresh_keys::system_id)
                .first(connection)
                .optional()?;
            let Some(owner) = owner else {
                return Ok(Refresh::Refused);
            };
            // Lock the DMS's row before reading its keys: a renewal and a revocation of
            // the same DMS run one after the other, so a revocation cannot miss a key a
            // concurrent renewal is inserting (PostgreSQL reads committed data per
            // statement; SQLite already serializes writers).
            lock_system(connection, &owner)?;
            let found: Option<(
                String,
                String,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
                i32,
            )> = gateway_refresh_keys::table
                .inner_join(systems::table)
                .filter(gateway_refresh_keys::key_hash.eq(&key_hash))
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
                return Ok(Refresh::Refused);
            };
            if used_at.is_some() {
                let generation = revoke_credentials(connection, &system_id)?;
                return Ok(Refresh::Reused(system_id, generation));
            }
            if expires_at <= now.naive_utc() {
                diesel::delete(gateway_refresh_keys::table.find(&key_hash)).execute(connection)?;
                return Ok(Refresh::Refused);
            }
            let claimed = diesel::update(gateway_refresh_keys::table.find(&key_hash))
                .filter(gateway_refresh_keys::used_at.is_null())
                .set(gateway_refresh_keys::used_at.eq(Some(now.naive_utc())))
                .execute(connection)?;
            if claimed != 1 {
                let generation = revoke_credentials(connection, &system_id)?;
                return Ok(Refresh::Reused(system_id, generation));
            }
            // Spent keys are kept to recognise their reuse, until they would have expired.
            diesel::delete(
                gateway_refresh_keys::table
                    .filter(gateway_refresh_keys::system_id.eq(&system_id))
                    .filter(gateway_refresh_keys::used_at.is_not_null())
                    .filter(gateway_refresh_keys::expires_at.le(now.naive_utc())),
            )
            .execute(connection)?;
            let refresh = insert_refresh_key(connection, &system_id, now)?;
            Ok(Refresh::Renewed(
                system_id,
                organization_id,
                generation,
                refresh,
            ))
        })
        .await?;
    match outcome {
        Refresh::Renewed(system_id, organization_id, generation, refresh) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(credentials(
                &state,
                system_id,
                organization_id,
                generation,
                refresh,
                now,
            ))),
        Refresh::Reused(system_id, generation) => {
            tracing::warn!(
                system_id,
                "a spent refresh key was presented again: the DMS's credentials are revoked"
            );
            hub.revoke(&system_id, generation, now);
            Err(AppError::InvalidDmsCredentials)
        }
        Refresh::Refused => Err(AppError::InvalidDmsCredentials),
    }
}

/// Checks `Authorization: Bearer <DMS token>` and that the DMS still exists with the token's
/// generation: a removed or re-keyed DMS's tokens fail here at once.
pub async fn authenticate_dms(
    request: &HttpRequest,
    state: &AppState,
    database: &Database,
) -> Result<AuthenticatedDms, AppError> {
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|header| {
            header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(AppError::InvalidDmsCredentials)?;
    let claims: DmsClaims = state.dms_tokens.verify(token).map_err(|error| {
        tracing::info!(%error, "DMS token refused");
        AppError::InvalidDmsCredentials
    })?;
    let system_id = claims.sub.clone();
    let current: Option<(String, i32)> = database
        .run(move |connection| {
            Ok(systems::table
                .find(&system_id)
                .select((systems::organization_id, systems::token_generation))
                .first(connection)
                .optional()?)
        })
        .await?;
    match current {
        Some((organization_id, generation))
            if organization_id == claims.org && generation == claims.gen =>
        {
            Ok(AuthenticatedDms {
                system_id: claims.sub,
                organization_id,
                generation,
                token_expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now),
            })
        }
        _ => {
            tracing::info!(
                system_id = claims.sub,
                "DMS token of a removed or re-keyed DMS"
            );
            Err(AppError::InvalidDmsCredentials)
        }
    }
}

/// The gateway's WebSocket. Authenticate at the upgrade with `Authorization: Bearer <DMS
/// token>`, then send a JSON [`Heartbeat`] text frame every `heartbeat_interval_seconds`.
/// The server answers pings; it closes the socket on a malformed frame (1008), an oversized
/// one (1009), silence past the heartbeat timeout (4000), a newer connection of the same DMS
/// (4001), or revoked or expired credentials (4002).
#[utoipa::path(
    tag = "gateway",
    security(("dms_token" = [])),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade", body = stratus_shared::ApiError),
        (status = 401, description = "Missing, invalid or revoked DMS token", body = stratus_shared::ApiError),
    )
)]
#[get("/gateway/ws")]
pub async fn gateway_ws(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let dms = authenticate_dms(&request, &state, &database).await?;
    let (response, session, messages) = actix_ws::handle(&request, body)
        .map_err(|error| AppError::InvalidRequest(format!("not a WebSocket upgrade: {error}")))?;
    let messages = messages
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    let hub = hub.get_ref().clone();
    let timeout = hub
        .heartbeat_timeout()
        .to_std()
        .unwrap_or(Duration::from_secs(30));
    actix_web::rt::spawn(run_socket(dms, session, messages, hub, timeout));
    Ok(response)
}

async fn run_socket(
    dms: AuthenticatedDms,
    mut session: actix_ws::Session,
    mut messages: actix_ws::AggregatedMessageStream,
    hub: LiveHub,
    timeout: Duration,
) {
    let system_id = dms.system_id.as_str();
    let Some((connection_id, mut close_order)) = hub.connect(
        system_id,
        &dms.organization_id,
        dms.generation,
        crate::db::now(),
    ) else {
        tracing::info!(
            system_id,
            "DMS removed or re-keyed while its gateway connected"
        );
        let _ = session
            .close(Some(CloseReason {
                code: CloseCode::from(close_code::REVOKED),
                description: Some("credentials revoked".into()),
            }))
            .await;
        return;
    };
    tracing::info!(system_id, connection_id, "gateway connected");
    let token_left = (dms.token_expires_at - crate::db::now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    let token_expiry = tokio::time::sleep(token_left);
    tokio::pin!(token_expiry);
    let idle = tokio::time::sleep(timeout);
    tokio::pin!(idle);

    let close: Option<(u16, &str)> = loop {
        tokio::select! {
            message = messages.next() => {
                let now = crate::db::now();
                match message {
                    None => break None,
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        match parse_heartbeat(&text) {
                            Ok(heartbeat) => {
                                idle.as_mut().reset(tokio::time::Instant::now() + timeout);
                                hub.heartbeat(system_id, connection_id, &heartbeat, now);
                            }
                            Err(error) => {
                                tracing::warn!(system_id, %error, "malformed heartbeat: closing the gateway socket");
                                break Some((close_code::MALFORMED, "malformed heartbeat"));
                            }
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        tracing::warn!(system_id, "binary frame from a gateway: closing its socket");
                        break Some((close_code::MALFORMED, "binary frames are not accepted"));
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        idle.as_mut().reset(tokio::time::Instant::now() + timeout);
                        hub.seen(system_id, connection_id, now);
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {
                        idle.as_mut().reset(tokio::time::Instant::now() + timeout);
                        hub.seen(system_id, connection_id, now);
                    }
                    Some(Ok(AggregatedMessage::Close(reason))) => {
                        tracing::info!(system_id, ?reason, "gateway closed its socket");
                        break Some((1000, "goodbye"));
                    }
                    Some(Err(ProtocolError::Overflow)) => {
                        tracing::warn!(system_id, "oversized frame from a gateway: closing its socket");
                        break Some((close_code::TOO_LARGE, "frame too large"));
                    }
                    Some(Err(ProtocolError::Io(error))) => {
                        tracing::info!(system_id, %error, "gateway connection dropped");
                        break None;
                    }
                    Some(Err(error)) => {
                        tracing::warn!(system_id, %error, "WebSocket protocol error from a gateway: closing its socket");
                        break Some((close_code::MALFORMED, "protocol error"));
                    }
                }
            }
            code = &mut close_order => {
                match code {
                    Ok(close_code::REPLACED) => {
                        tracing::info!(system_id, connection_id, "gateway connection replaced by a newer one");
                        break Some((close_code::REPLACED, "replaced by a newer connection"));
                    }
                    _ => {
                        tracing::info!(system_id, connection_id, "gateway credentials revoked");
                        break Some((close_code::REVOKED, "credentials revoked"));
                    }
                }
            }
            () = &mut idle => {
                tracing::info!(system_id, "gateway silent past the heartbeat timeout: closing its socket");
                break Some((close_code::IDLE, "no heartbeat within the timeout"));
            }
            () = &mut token_expiry => {
                tracing::info!(system_id, "DMS token expired: closing the gateway socket");
                break Some((close_code::REVOKED, "DMS token expired"));
            }
        }
    };
    hub.disconnect(system_id, connection_id, crate::db::now());
    if let Some((code, description)) = close {
        let _ = session
            .close(Some(CloseReason {
                code: CloseCode::from(code),
                description: Some(description.to_owned()),
            }))
            .await;
    }
    tracing::info!(system_id, connection_id, "gateway disconnected");
}

/// The longest DMS version string accepted in a heartbeat.
const MAX_VERSION_LENGTH: usize = 64;

/// Reads a heartbeat frame: valid JSON of the right shape, with a plausible version.
fn parse_heartbeat(text: &str) -> Result<Heartbeat, String> {
    let heartbeat: Heartbeat = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let version = heartbeat.dms_version.trim();
    if version.is_empty()
        || version.len() > MAX_VERSION_LENGTH
        || version.chars().any(char::is_control)
    {
        return Err(format!(
            "dms_version must be 1 to {MAX_VERSION_LENGTH} characters without control characters"
        ));
    }
    Ok(heartbeat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_are_read_strictly() {
        let good = r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#;
        assert_eq!(parse_heartbeat(good).unwrap().agent_count, 2);
        for bad in [
            "",
            "null",
            "[]",
            r#"{"dms_responding":true}"#,
            r#"{"dms_responding":1,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"yesterday"}"#,
        ] {
            assert!(parse_heartbeat(bad).is_err(), "{bad}");
        }
        // Newer gateways may send more.
        let newer = good.replace("}", r#","cpu_load":0.5}"#);
        assert!(parse_heartbeat(&newer).is_ok());
        let long = good.replace("10.5", &"9".repeat(65));
        assert!(parse_heartbeat(&long).is_err());
    }
}
