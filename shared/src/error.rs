//! The one error body every API endpoint answers with.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. Clients match on it; the message is for people.
///
/// Codes are never renamed once released: add a new one instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No API endpoint exists at this path.
    NotFound,
    /// The endpoint exists but not for this HTTP method.
    MethodNotAllowed,
    /// No valid access token came with the request: sign in (again).
    Unauthorized,
    /// You may not do this (your role does not allow it).
    Forbidden,
    /// The email address is not valid.
    EmailInvalid,
    /// The new password is shorter than 10 characters.
    PasswordTooShort,
    /// The new password is longer than 128 characters.
    PasswordTooLong,
    /// The new password equals the email address.
    PasswordSameAsEmail,
    /// The new password is one of the most common ones.
    PasswordTooCommon,
    /// Email or password is wrong, or the address is not verified yet (never says which, so
    /// that signing in cannot tell whether an address has a verified account).
    InvalidCredentials,
    /// Changing the password needs the current one, and it was wrong.
    CurrentPasswordWrong,
    /// A mailed link is unknown, used or expired.
    LinkInvalid,
    /// The refresh cookie is missing, expired, revoked or was reused: sign in again.
    SessionExpired,
    /// Too many attempts: wait for the time in Retry-After.
    TooManyRequests,
    /// The request conflicts with existing data (e.g. a name already taken).
    Conflict,
    /// The connect code is unknown, used or expired: ask an Owner for a new one.
    InvalidConnectCode,
    /// The DMS token or refresh key is invalid, expired, reused or revoked: the DMS needs a
    /// new connect code.
    InvalidDmsCredentials,
    /// The change would leave the organization without an Owner.
    LastOwner,
    /// A quota is full (organizations of an account, DMSs or projects of an organization,
    /// tasks of a project): remove something first or ask the operator to raise it.
    LimitReached,
    /// Unlinking this identity would leave the account with no way to sign in.
    LastSignInMethod,
    /// Remote access cannot be switched on for a DMS whose organization has it off.
    RemoteAccessForcedOff,
    /// Remote access is switched off for the DMS or its organization.
    RemoteAccessOff,
    /// The typed confirmation (e.g. the organization's name) does not match.
    ConfirmationMismatch,
    /// The request body or query could not be read (bad JSON, wrong types, missing fields).
    InvalidRequest,
    /// The request body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// The database cannot be reached; try again later.
    DatabaseUnavailable,
    /// Something went wrong on the server; the details are in its log, never in the answer.
    Internal,
}

impl ErrorCode {
    /// The code as it appears in JSON, e.g. `"not_found"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::EmailInvalid => "email_invalid",
            ErrorCode::PasswordTooShort => "password_too_short",
            ErrorCode::PasswordTooLong => "password_too_long",
            ErrorCode::PasswordSameAsEmail => "password_same_as_email",
            ErrorCode::PasswordTooCommon => "password_too_common",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::CurrentPasswordWrong => "current_password_wrong",
            ErrorCode::LinkInvalid => "link_invalid",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidConnectCode => "invalid_connect_code",
            ErrorCode::InvalidDmsCredentials => "invalid_dms_credentials",
            ErrorCode::LastOwner => "last_owner",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::LastSignInMethod => "last_sign_in_method",
            ErrorCode::RemoteAccessForcedOff => "remote_access_forced_off",
            ErrorCode::RemoteAccessOff => "remote_access_off",
            ErrorCode::ConfirmationMismatch => "confirmation_mismatch",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error answer: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable code to match on.
    pub code: ErrorCode,
    /// Human-readable explanation, safe to show to the user.
    pub message: String,
}

impl ApiError {
    /// Builds an error body from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_serialize_as_their_stable_strings() {
        for code in [
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::EmailInvalid,
            ErrorCode::PasswordTooShort,
            ErrorCode::PasswordTooLong,
            ErrorCode::PasswordSameAsEmail,
            ErrorCode::PasswordTooCommon,
            ErrorCode::InvalidCredentials,
            ErrorCode::CurrentPasswordWrong,
            ErrorCode::LinkInvalid,
            ErrorCode::SessionExpired,
            ErrorCode::TooManyRequests,
            ErrorCode::Conflict,
            ErrorCode::InvalidConnectCode,
            ErrorCode::InvalidDmsCredentials,
            ErrorCode::LastOwner,
            ErrorCode::LimitReached,
            ErrorCode::LastSignInMethod,
            ErrorCode::RemoteAccessForcedOff,
            ErrorCode::RemoteAccessOff,
            ErrorCode::ConfirmationMismatch,
            ErrorCode::InvalidRequest,
            ErrorCode::PayloadTooLarge,
            ErrorCode::DatabaseUnavailable,
            ErrorCode::Internal,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn error_body_has_code_and_message() {
        let body = ApiError::new(ErrorCode::NotFound, "No such endpoint");
        let value = serde_json::to_value(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"code": "not_found", "message": "No such endpoint"})
        );
    }
}
