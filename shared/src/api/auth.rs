//! Accounts and sessions: sign-up, verification, sign-in, refresh, reset, the signed-in account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::api::organizations::Role;

/// `POST /api/auth/signup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Requests that only name an address (resend verification, forgot password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailRequest {
    pub email: String,
}

/// `POST /api/auth/reset-password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetPasswordRequest {
    pub token: String,
    pub password: String,
}

/// `POST /api/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// An answer that is only a message for the person (e.g. "check your inbox").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub message: String,
}

/// A signed-in session: the access token for `Authorization: Bearer` (kept in memory by the
/// web app) and who it belongs to. The refresh token travels only as an HttpOnly cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionGrant {
    pub access_token: String,
    /// When the access token stops working; refresh before then.
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

/// Whether an account belongs to an organization yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// Linked to no organization: sees public apps only.
    Guest,
    /// Linked to one or more organizations.
    Member,
}

/// An organization the account belongs to, with its role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationMembership {
    pub organization_id: String,
    pub name: String,
    pub slug: String,
    pub role: Role,
}

/// `GET /api/me`: the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: String,
    pub email: String,
    pub kind: AccountKind,
    /// Platform staff (given by the server's CLI, never through the API).
    pub is_staff: bool,
    pub organizations: Vec<OrganizationMembership>,
}

/// One signed-in session (a browser) of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// The browser's own description, as it sent it at sign-in.
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `POST /api/auth/verify-email`: the mailed token plus the account's password. Asking for the
/// password means a link can only finish a sign-up for whoever chose that password, so nobody
/// can pre-register someone else's address with a password of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyEmailRequest {
    pub token: String,
    pub password: String,
}

/// Header the web app sends on requests authenticated by the refresh cookie. Other sites
/// cannot set it without a CORS preflight, which Stratus never grants: a CSRF guard on top of
/// `SameSite=Strict`.
pub const CLIENT_HEADER: &str = "x-stratus-client";

/// The refresh cookie's name (HttpOnly; the web app never reads it).
pub const REFRESH_COOKIE: &str = "stratus_refresh";
