//! The DMS gateway's endpoints: trade a connect code for credentials, renew them, and the
//! heartbeat WebSocket (served by `live::gateway_socket`).

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use stratus_shared::api::gateway::{ConnectRequest, DmsCredentials, RefreshRequest};

use crate::auth::{one_time, AuthenticatedDms};
use crate::db::Database;
use crate::domain::dms_credentials::{self, Grant, Renewal};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::LiveHub;
use crate::state::AppState;

/// Longest accepted connect code or refresh key (they are 47 characters).
const MAX_SECRET_LENGTH: usize = 128;

fn check_secret(raw: &str) -> Result<&str, AppError> {
    let secret = raw.trim();
    if secret.is_empty() || secret.len() > MAX_SECRET_LENGTH {
        return Err(AppError::InvalidRequest(
            "The code or key is empty or too long.".into(),
        ));
    }
    Ok(secret)
}

/// The answer with a DMS's new credentials: a token signed now, and the refresh key.
fn credentials(state: &AppState, grant: Grant, now: DateTime<Utc>) -> HttpResponse {
    let (token, token_expires_at) = state.dms_tokens.issue(
        &grant.system_id,
        &grant.organization_id,
        grant.generation,
        now,
    );
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(DmsCredentials {
            system_id: grant.system_id,
            organization_id: grant.organization_id,
            token,
            token_expires_at,
            refresh_key: grant.refresh_key,
            refresh_key_expires_at: grant.refresh_key_expires_at,
            heartbeat_interval_seconds: state.settings.heartbeat_interval_seconds.max(1),
        })
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
    body: JsonObject<ConnectRequest>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let code_hash = one_time::hash(check_secret(&body.connect_code)?);
    let now = crate::db::now();
    let grant = database
        .run_write(move |connection| dms_credentials::connect(connection, &code_hash, now))
        .await?;
    // A gateway still connected with the old credentials is cut off.
    hub.revoke(&grant.system_id, grant.generation, now);
    tracing::info!(
        system_id = grant.system_id,
        "DMS connected with a connect code"
    );
    Ok(credentials(&state, grant, now))
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
    body: JsonObject<RefreshRequest>,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let key_hash = one_time::hash(check_secret(&body.refresh_key)?);
    let now = crate::db::now();
    let renewal = database
        .run_write(move |connection| Ok(dms_credentials::renew(connection, &key_hash, now)?))
        .await?;
    match renewal {
        Renewal::Renewed(grant) => Ok(credentials(&state, grant, now)),
        Renewal::Reused {
            system_id,
            generation,
        } => {
            tracing::warn!(
                system_id,
                "a spent refresh key was presented again: the DMS's credentials are revoked"
            );
            hub.revoke(&system_id, generation, now);
            Err(AppError::InvalidDmsCredentials)
        }
        Renewal::Refused => Err(AppError::InvalidDmsCredentials),
    }
}

/// The gateway's WebSocket. Authenticate at the upgrade with `Authorization: Bearer <DMS
/// token>`, then send a JSON [`Heartbeat`] text frame every `heartbeat_interval_seconds`.
/// The server answers pings; it closes the socket on a malformed frame (1008), an oversized
/// one (1009), silence past the heartbeat timeout (4000), a newer connection of the same DMS
/// (4001), or revoked or expired credentials (4002).
///
/// An upgrade request never reaches this handler: actix-http gives it to
/// the upgrade service (`Upgrades`), which serves the socket. This answers the same request made
/// without the upgrade.
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
pub async fn gateway_ws(_dms: AuthenticatedDms) -> Result<HttpResponse, AppError> {
    Err(AppError::InvalidRequest(
        "not a WebSocket upgrade: the request has no `Connection: upgrade` and `Upgrade: websocket` headers".into(),
    ))
}
