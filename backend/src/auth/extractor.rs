//! Handler arguments that exist only for an authenticated request, all read from one
//! `Authorization: Bearer` header: [`CurrentUser`] (a person's access token), [`StaffUser`]
//! (a person who is platform staff) and [`AuthenticatedDms`] (a DMS's token, checked against
//! the database so removed or re-keyed DMSs are cut off at once).

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};

use super::dms_tokens::DmsTokens;
use crate::db::Database;
use crate::domain::{accounts, dms_credentials};
use crate::error::AppError;
use crate::state::AppState;

/// The token of `Authorization: Bearer <token>`, if the request carries one.
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    bearer_token_of(request.headers().get(AUTHORIZATION))
}

/// The token of an `Authorization: Bearer <token>` header value.
fn bearer_token_of(authorization: Option<&HeaderValue>) -> Option<&str> {
    let header = authorization?.to_str().ok()?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

fn app_data<T: 'static>(request: &HttpRequest) -> Result<&web::Data<T>, AppError> {
    request.app_data::<web::Data<T>>().ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "{} is not registered",
            std::any::type_name::<T>()
        ))
    })
}

/// The signed-in person making the request (from `Authorization: Bearer <access token>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// The user's id (`users.id`).
    pub user_id: String,
    /// The session the access token was issued in (absent for tool-issued tokens).
    pub session_id: Option<String>,
    /// When the access token expires (a live stream ends then).
    pub expires_at: DateTime<Utc>,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate_person(request))
    }
}

fn authenticate_person(request: &HttpRequest) -> Result<CurrentUser, AppError> {
    let state = app_data::<AppState>(request)?;
    let token = bearer_token(request).ok_or(AppError::Unauthorized)?;
    let claims = state.access_tokens.verify(token).map_err(|error| {
        tracing::info!(%error, "access token refused");
        AppError::Unauthorized
    })?;
    if let Some(session_id) = &claims.sid {
        let hub = app_data::<crate::live::LiveHub>(request)?;
        if hub.revoked_sessions().contains(session_id) {
            tracing::info!("access token of an ended session refused");
            return Err(AppError::Unauthorized);
        }
    }
    Ok(CurrentUser {
        expires_at: DateTime::from_timestamp(claims.exp, 0).ok_or(AppError::Unauthorized)?,
        user_id: claims.sub,
        session_id: claims.sid,
    })
}

/// A signed-in person who is platform staff. Anyone else signed in gets 403 `forbidden`;
/// without a valid access token, 401.
#[derive(Debug, Clone)]
pub struct StaffUser {
    /// The staff member's user id.
    pub user_id: String,
}

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let user = authenticate_person(request);
        let database = app_data::<Database>(request).cloned();
        Box::pin(async move {
            let user = user?;
            let user_id = user.user_id.clone();
            let is_staff = database?
                .run_app(move |conn| {
                    Ok(accounts::find_by_id(conn, &user_id)?.map(|account| account.is_staff != 0))
                })
                .await?;
            match is_staff {
                Some(true) => Ok(StaffUser {
                    user_id: user.user_id,
                }),
                Some(false) => Err(AppError::Forbidden(
                    "The staff console is for platform staff only.".into(),
                )),
                // The account is gone: the token is of no use any more.
                None => Err(AppError::Unauthorized),
            }
        })
    }
}

/// A DMS whose token was accepted: valid signature and expiry, and the DMS still exists in
/// the token's organization with the token's generation.
#[derive(Debug, Clone)]
pub struct AuthenticatedDms {
    pub system_id: String,
    pub organization_id: String,
    /// The token's generation (`systems.token_generation` when issued).
    pub generation: i32,
    pub token_expires_at: DateTime<Utc>,
}

impl AuthenticatedDms {
    /// Checks the `Authorization` header of a gateway's request: a DMS token with a valid
    /// signature and expiry, of a DMS that still exists with the token's generation.
    /// Shared by the extractor and the WebSocket upgrade (which runs outside actix-web's
    /// routing).
    pub fn authenticate(
        authorization: Option<&HeaderValue>,
        dms_tokens: &DmsTokens,
        database: Database,
    ) -> impl Future<Output = Result<Self, AppError>> + 'static {
        let claims = bearer_token_of(authorization)
            .ok_or(AppError::InvalidDmsCredentials)
            .and_then(|token| {
                dms_tokens.verify(token).map_err(|error| {
                    tracing::info!(%error, "DMS token refused");
                    AppError::InvalidDmsCredentials
                })
            });
        async move {
            let claims = claims?;
            let system_id = claims.sub.clone();
            let current = database
                .run(move |connection| Ok(dms_credentials::current(connection, &system_id)?))
                .await?;
            match current {
                Some((organization_id, generation))
                    if organization_id == claims.org && generation == claims.gen =>
                {
                    Ok(AuthenticatedDms {
                        system_id: claims.sub,
                        organization_id,
                        generation,
                        token_expires_at: DateTime::from_timestamp(claims.exp, 0)
                            .ok_or(AppError::InvalidDmsCredentials)?,
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
    }
}

impl FromRequest for AuthenticatedDms {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let services = app_data::<AppState>(request)
            .and_then(|state| Ok((state, app_data::<Database>(request)?)));
        match services {
            Ok((state, database)) => Box::pin(Self::authenticate(
                request.headers().get(AUTHORIZATION),
                &state.dms_tokens,
                database.get_ref().clone(),
            )),
            Err(error) => Box::pin(ready(Err(error))),
        }
    }
}
