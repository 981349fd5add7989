//! `CurrentUser`: a handler argument that only exists for a request with a valid access token.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::error::AppError;
use crate::startup::AppState;

/// The signed-in person making the request (from `Authorization: Bearer <access token>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// The user's id (`users.id`).
    pub user_id: String,
    /// The session the access token was issued in (absent for tool-issued tokens).
    pub session_id: Option<String>,
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

fn authenticate(request: &HttpRequest) -> Result<CurrentUser, AppError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("AppState is not registered")))?;
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(AppError::Unauthorized)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(AppError::Unauthorized)?;
    let claims = state.access_tokens.verify(token).map_err(|error| {
        tracing::info!(%error, "access token refused");
        AppError::Unauthorized
    })?;
    Ok(CurrentUser {
        user_id: claims.sub,
        session_id: claims.sid,
    })
}
