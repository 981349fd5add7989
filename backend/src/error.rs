//! The one mapping from failures to HTTP answers: status code + `ApiError` JSON body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use stratus_shared::email::EmailError;
use stratus_shared::password::PasswordError;
use stratus_shared::{ApiError, ErrorCode};

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    /// No connection could be had (server down, pool exhausted, file unreadable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// What a handler can fail with. Each variant maps to one status and one stable code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(String),
    /// No valid access token: sign in (again).
    #[error("unauthorized")]
    Unauthorized,
    /// Signed in, but the role does not allow this action.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Unknown, used or expired connect code.
    #[error("invalid connect code")]
    InvalidConnectCode,
    /// Invalid, expired, reused or revoked DMS token or refresh key.
    #[error("invalid DMS credentials")]
    InvalidDmsCredentials,
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The change would leave an organization without an Owner.
    #[error("last owner")]
    LastOwner,
    /// Remote access switched on for a DMS whose organization has it off.
    #[error("remote access forced off")]
    RemoteAccessForcedOff,
    /// Remote access is off for the DMS or its organization.
    #[error("remote access is off")]
    RemoteAccessOff,
    /// Input that is well-formed but breaks a rule (email shape, password policy).
    #[error("{code}: {message}")]
    Validation { code: ErrorCode, message: String },
    /// Wrong email or password; never says which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A password change with a wrong current password.
    #[error("current password wrong")]
    CurrentPasswordWrong,
    /// A mailed link that is unknown, used or expired.
    #[error("link invalid")]
    LinkInvalid,
    /// The refresh cookie cannot continue a session.
    #[error("session expired")]
    SessionExpired,
    /// Unlinking would leave the account without a way in.
    #[error("last sign-in method")]
    LastSignInMethod,
    /// A quota is full (see `domain::quotas`); the message names it and the way out.
    #[error("limit reached: {0}")]
    LimitReached(String),
    /// Rate limited; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: i64 },
    #[error("payload too large")]
    PayloadTooLarge,
    /// An upload over an endpoint's own limit; the message says which limit.
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Anything unexpected; logged in full, answered without detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// The JSON body sent for this error.
    pub fn body(&self) -> ApiError {
        match self {
            AppError::NotFound(message) => ApiError::new(ErrorCode::NotFound, message.clone()),
            AppError::Unauthorized => ApiError::new(
                ErrorCode::Unauthorized,
                "You are not signed in, or your session has expired. Please sign in.",
            ),
            AppError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message.clone()),
            AppError::Conflict(message) => ApiError::new(ErrorCode::Conflict, message.clone()),
            AppError::LimitReached(message) => {
                ApiError::new(ErrorCode::LimitReached, message.clone())
            }
            AppError::InvalidConnectCode => ApiError::new(
                ErrorCode::InvalidConnectCode,
                "This connect code is unknown, already used or expired. Ask an Owner of the \
                 organization for a new one.",
            ),
            AppError::InvalidDmsCredentials => ApiError::new(
                ErrorCode::InvalidDmsCredentials,
                "The DMS credentials are invalid, expired or revoked. Connect the DMS again \
                 with a new connect code.",
            ),
            AppError::InvalidRequest(message) => {
                ApiError::new(ErrorCode::InvalidRequest, message.clone())
            }
            AppError::Validation { code, message } => ApiError::new(*code, message.clone()),
            AppError::LastOwner => ApiError::new(
                ErrorCode::LastOwner,
                "An organization always keeps at least one Owner. Make someone else Owner first.",
            ),
            AppError::RemoteAccessForcedOff => ApiError::new(
                ErrorCode::RemoteAccessForcedOff,
                "Remote access is off for the whole organization; switch it on in the \
                 organization's settings first.",
            ),
            AppError::RemoteAccessOff => ApiError::new(
                ErrorCode::RemoteAccessOff,
                "Remote access is switched off for this DMS or its organization; an Owner or \
                 Admin can switch it on in the DMS's settings.",
            ),
            AppError::InvalidCredentials => ApiError::new(
                ErrorCode::InvalidCredentials,
                "The email address or the password is not right, or the address is not verified yet (follow the link in the mail we sent, or ask for a new one).",
            ),
            AppError::CurrentPasswordWrong => ApiError::new(
                ErrorCode::CurrentPasswordWrong,
                "Your current password is not right.",
            ),
            AppError::LinkInvalid => ApiError::new(
                ErrorCode::LinkInvalid,
                "This link is not valid any more: it was used already, it expired, or a newer mail replaced it.",
            ),
            AppError::SessionExpired => ApiError::new(
                ErrorCode::SessionExpired,
                "Your session has ended. Please sign in again.",
            ),
            AppError::LastSignInMethod => ApiError::new(
                ErrorCode::LastSignInMethod,
                "This is your only way to sign in. Set a password or link another provider first.",
            ),
            AppError::TooManyRequests {
                retry_after_seconds,
            } => ApiError::new(
                ErrorCode::TooManyRequests,
                format!(
                    "Too many attempts. Please try again in {}.",
                    human_wait(*retry_after_seconds)
                ),
            ),
            AppError::PayloadTooLarge => ApiError::new(
                ErrorCode::PayloadTooLarge,
                "The request body is larger than this endpoint accepts.",
            ),
            AppError::TooLarge(message) => {
                ApiError::new(ErrorCode::PayloadTooLarge, message.clone())
            }
            AppError::DatabaseUnavailable(_) => ApiError::new(
                ErrorCode::DatabaseUnavailable,
                "The database cannot be reached right now. Please try again shortly.",
            ),
            AppError::Internal(_) => ApiError::new(
                ErrorCode::Internal,
                "Something went wrong on our side. It has been logged.",
            ),
        }
    }
}

impl From<DatabaseError> for AppError {
    fn from(error: DatabaseError) -> Self {
        match error {
            DatabaseError::Unavailable(detail) => AppError::DatabaseUnavailable(detail),
            DatabaseError::Query(error) => AppError::Internal(error.into()),
        }
    }
}

/// An email address that is not one: 422 `email_invalid`.
impl From<EmailError> for AppError {
    fn from(error: EmailError) -> Self {
        AppError::Validation {
            code: ErrorCode::EmailInvalid,
            message: error.to_string(),
        }
    }
}

/// A new password that breaks the policy: 422 with the rule's own code.
impl From<PasswordError> for AppError {
    fn from(error: PasswordError) -> Self {
        AppError::Validation {
            code: match error {
                PasswordError::TooShort => ErrorCode::PasswordTooShort,
                PasswordError::TooLong => ErrorCode::PasswordTooLong,
                PasswordError::SameAsEmail => ErrorCode::PasswordSameAsEmail,
                PasswordError::TooCommon => ErrorCode::PasswordTooCommon,
            },
            message: error.to_string(),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized
            | AppError::InvalidConnectCode
            | AppError::InvalidDmsCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            AppError::LastOwner
            | AppError::LimitReached(_)
            | AppError::RemoteAccessForcedOff
            | AppError::RemoteAccessOff => StatusCode::CONFLICT,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::InvalidCredentials | AppError::SessionExpired => StatusCode::UNAUTHORIZED,
            AppError::CurrentPasswordWrong => StatusCode::FORBIDDEN,
            AppError::LinkInvalid => StatusCode::BAD_REQUEST,
            AppError::LastSignInMethod => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge | AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(error) => tracing::error!(error = ?error, "internal error"),
            AppError::DatabaseUnavailable(detail) => {
                tracing::warn!(%detail, "database unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            AppError::Unauthorized
            | AppError::InvalidConnectCode
            | AppError::InvalidDmsCredentials => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            AppError::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header(("Retry-After", retry_after_seconds.to_string()));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

fn human_wait(seconds: i64) -> String {
    match seconds {
        ..=60 => "a minute".to_owned(),
        _ => format!("{} minutes", (seconds + 59) / 60),
    }
}

/// Turns extractor failures (bad JSON, query or path) into the same JSON error body.
pub fn extractor_error(error: impl std::fmt::Display, too_large: bool) -> actix_web::Error {
    if too_large {
        AppError::PayloadTooLarge.into()
    } else {
        AppError::InvalidRequest(error.to_string()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_hide_their_detail() {
        let error = AppError::Internal(anyhow::anyhow!("secret connection string"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        let body: ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("secret"));
    }
}
