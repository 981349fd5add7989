//! Signing up, in and out: `/api/auth/...` (no access token needed).

use gloo_net::http::Request;
use stratus_shared::api::auth::{
    EmailRequest, LoginRequest, Notice, ResetPasswordRequest, SessionGrant, SignupRequest,
    VerifyEmailRequest, CLIENT_HEADER,
};
use stratus_shared::api::oidc::{LinkIdentityRequest, ProviderSummary};

use super::http::{expect_empty, post, read, send};
use super::{http, ApiFailure};

pub async fn signup(email: String, password: String) -> Result<Notice, ApiFailure> {
    post("/api/auth/signup", &SignupRequest { email, password }, None).await
}

pub async fn login(email: String, password: String) -> Result<SessionGrant, ApiFailure> {
    post("/api/auth/login", &LoginRequest { email, password }, None).await
}

pub async fn verify_email(token: String, password: String) -> Result<SessionGrant, ApiFailure> {
    post(
        "/api/auth/verify-email",
        &VerifyEmailRequest { token, password },
        None,
    )
    .await
}

pub async fn resend_verification(email: String) -> Result<Notice, ApiFailure> {
    post(
        "/api/auth/resend-verification",
        &EmailRequest { email },
        None,
    )
    .await
}

pub async fn forgot_password(email: String) -> Result<Notice, ApiFailure> {
    post("/api/auth/forgot-password", &EmailRequest { email }, None).await
}

pub async fn reset_password(token: String, password: String) -> Result<Notice, ApiFailure> {
    post(
        "/api/auth/reset-password",
        &ResetPasswordRequest { token, password },
        None,
    )
    .await
}

/// Exchanges the HttpOnly refresh cookie for a new session grant.
pub async fn refresh() -> Result<SessionGrant, ApiFailure> {
    let request = Request::post("/api/auth/refresh")
        .header(CLIENT_HEADER, "web")
        .header("Accept", "application/json");
    read(send(request).await?).await
}

/// Ends this browser's session and removes the refresh cookie.
pub async fn logout() -> Result<(), ApiFailure> {
    expect_empty(send(Request::post("/api/auth/logout").header(CLIENT_HEADER, "web")).await?).await
}

/// The identity providers shown on the sign-in page.
pub async fn providers() -> Result<Vec<ProviderSummary>, ApiFailure> {
    http::get("/api/auth/providers", None).await
}

/// Links a provider with the mailed link's token (in the browser that signed in there).
pub async fn link_identity(token: String) -> Result<SessionGrant, ApiFailure> {
    post(
        "/api/auth/link-identity",
        &LinkIdentityRequest { token },
        None,
    )
    .await
}
