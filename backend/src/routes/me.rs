//! `/api/me/*`: the signed-in account, its password and its sessions.

use actix_web::{delete, get, post, web, HttpResponse};
use stratus_shared::api::auth::{Account, ChangePasswordRequest, SessionSummary};
use stratus_shared::ApiError;

use crate::auth::browser::Client;
use crate::auth::sessions;
use crate::auth::CurrentUser;
use crate::db::{self, Database};
use crate::domain::password_guesses::GuessLimits;
use crate::domain::{accounts, passwords};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::live::LiveHub;
use crate::state::AppState;

/// The signed-in account: email, kind (guest or member) and organizations.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 401, description = "unauthorized", body = ApiError),
    )
)]
#[get("/me")]
pub async fn me(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let account = database
        .run(move |conn| Ok(accounts::view_by_id(conn, &user.user_id)?))
        .await?
        // A valid token for an account that no longer exists.
        .ok_or(AppError::Unauthorized)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(account))
}

/// Change the password (needs the current one). Every other session ends.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 403, description = "current_password_wrong", body = ApiError),
        (status = 422, description = "The new password breaks a rule", body = ApiError),
        (status = 429, description = "too_many_requests: too many wrong passwords for this account or from this address, with Retry-After", body = ApiError),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    user: CurrentUser,
    client: Client,
    state: web::Data<AppState>,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    body: JsonObject<ChangePasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner();
    let ended = passwords::change(
        &database,
        &state.passwords,
        GuessLimits::from_settings(&state.settings),
        &client,
        user.user_id,
        user.session_id,
        current_password,
        new_password,
    )
    .await?;
    hub.sessions_ended(ended);
    Ok(HttpResponse::NoContent().finish())
}

/// The account's active sessions (one per signed-in browser).
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    responses(
        (status = 200, description = "Active sessions, most recently used first", body = Vec<SessionSummary>),
        (status = 401, description = "unauthorized", body = ApiError),
    )
)]
#[get("/me/sessions")]
pub async fn list_sessions(
    user: CurrentUser,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let current = user.session_id.clone();
    let active = database
        .run(move |conn| {
            let now = db::now().naive_utc();
            Ok(sessions::active(conn, &user.user_id, now)?)
        })
        .await?;
    let summaries: Vec<SessionSummary> = active
        .into_iter()
        .map(|session| SessionSummary {
            current: current.as_deref() == Some(session.id.as_str()),
            id: session.id,
            created_at: session.created_at.and_utc(),
            last_used_at: session.last_used_at.and_utc(),
            user_agent: session.user_agent,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(summaries))
}

/// End one of the account's sessions.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    params(("session_id" = String, Path, description = "The session to end")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 404, description = "not_found: no such active session of this account", body = ApiError),
    )
)]
#[delete("/me/sessions/{session_id}")]
pub async fn revoke_session(
    user: CurrentUser,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let session_id = path.into_inner();
    let ended = session_id.clone();
    let revoked = database
        .run(move |conn| {
            let now = db::now().naive_utc();
            Ok(sessions::revoke_own(conn, &user.user_id, &session_id, now)?)
        })
        .await?;
    if revoked {
        hub.sessions_ended(vec![ended]);
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound(
            "There is no such active session.".into(),
        ))
    }
}

/// Sign out everywhere: every session of the account ends, this one included.
#[utoipa::path(
    tag = "account",
    security(("access_token" = [])),
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "unauthorized", body = ApiError),
    )
)]
#[post("/me/sessions/revoke-all")]
pub async fn revoke_all_sessions(
    user: CurrentUser,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let ended = database
        .run_write(move |conn| {
            let now = db::now().naive_utc();
            Ok(sessions::revoke_all(conn, &user.user_id, None, now)?)
        })
        .await?;
    hub.sessions_ended(ended);
    Ok(HttpResponse::NoContent().finish())
}
