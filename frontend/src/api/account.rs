//! The signed-in account: `/api/me/...` (sessions, password, linked providers).

use gloo_net::http::Request;
use stratus_shared::api::auth::{Account, ChangePasswordRequest, SessionSummary};
use stratus_shared::api::members::PendingInvitation;
use stratus_shared::api::oidc::LinkedIdentity;

use super::http::{delete, expect_empty, get, send, send_json, with_token};
use super::ApiFailure;

/// The invitations waiting for my answer.
pub async fn invitations(access_token: &str) -> Result<Vec<PendingInvitation>, ApiFailure> {
    get("/api/me/invitations", Some(access_token)).await
}

/// Accepts an invitation: I join its organization.
pub async fn accept_invitation(access_token: &str, invitation_id: &str) -> Result<(), ApiFailure> {
    let request = with_token(
        Request::post(&format!("/api/me/invitations/{invitation_id}/accept")),
        Some(access_token),
    );
    expect_empty(send(request).await?).await
}

/// Declines an invitation.
pub async fn decline_invitation(access_token: &str, invitation_id: &str) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/me/invitations/{invitation_id}"),
        access_token,
    )
    .await
}

pub async fn me(access_token: &str) -> Result<Account, ApiFailure> {
    get("/api/me", Some(access_token)).await
}

pub async fn sessions(access_token: &str) -> Result<Vec<SessionSummary>, ApiFailure> {
    get("/api/me/sessions", Some(access_token)).await
}

pub async fn change_password(
    access_token: &str,
    current_password: String,
    new_password: String,
) -> Result<(), ApiFailure> {
    let request = with_token(Request::post("/api/me/password"), Some(access_token));
    let body = ChangePasswordRequest {
        current_password,
        new_password,
    };
    expect_empty(send_json(request, &body).await?).await
}

pub async fn sign_out_everywhere(access_token: &str) -> Result<(), ApiFailure> {
    let request = with_token(
        Request::post("/api/me/sessions/revoke-all"),
        Some(access_token),
    );
    expect_empty(send(request).await?).await
}

/// The providers linked to the signed-in account.
pub async fn identities(access_token: &str) -> Result<Vec<LinkedIdentity>, ApiFailure> {
    get("/api/me/identities", Some(access_token)).await
}

/// Unlinks one provider (refused when it is the last way in).
pub async fn unlink_identity(access_token: &str, identity_id: &str) -> Result<(), ApiFailure> {
    let path = format!(
        "/api/me/identities/{}",
        js_sys::encode_uri_component(identity_id)
    );
    delete(&path, access_token).await
}
