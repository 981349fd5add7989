//! DataMiner Systems: `/api/systems/...` (and registering one in an organization).

use gloo_net::http::Request;
use stratus_shared::api::organizations::{
    ConnectCode, CreateSystem, CreatedSystem, DmsLinkCode, RemoteTicket, Role, SetSystemRole,
    System, SystemDetail, SystemSettings, SystemUser,
};

use super::http::{delete, get, patch, post, put, read, send, with_token};
use super::ApiFailure;

/// Every DMS I may see.
pub async fn list(access_token: &str) -> Result<Vec<System>, ApiFailure> {
    get("/api/systems", Some(access_token)).await
}

pub async fn detail(access_token: &str, system_id: &str) -> Result<SystemDetail, ApiFailure> {
    get(&format!("/api/systems/{system_id}"), Some(access_token)).await
}

/// Registers a DMS in the organization; the answer carries its first connect code.
pub async fn create(
    access_token: &str,
    organization_id: &str,
    name: String,
) -> Result<CreatedSystem, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/systems"),
        &CreateSystem { name },
        Some(access_token),
    )
    .await
}

pub async fn new_connect_code(
    access_token: &str,
    system_id: &str,
) -> Result<ConnectCode, ApiFailure> {
    post(
        &format!("/api/systems/{system_id}/connect-codes"),
        &serde_json::json!({}),
        Some(access_token),
    )
    .await
}

pub async fn rename(
    access_token: &str,
    system_id: &str,
    name: String,
) -> Result<System, ApiFailure> {
    patch(
        &format!("/api/systems/{system_id}"),
        &CreateSystem { name },
        access_token,
    )
    .await
}

pub async fn remove(access_token: &str, system_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/systems/{system_id}"), access_token).await
}

/// The people of the DMS's organization, with their roles on this DMS.
pub async fn users(access_token: &str, system_id: &str) -> Result<Vec<SystemUser>, ApiFailure> {
    get(
        &format!("/api/systems/{system_id}/users"),
        Some(access_token),
    )
    .await
}

/// Gives a DMS-level role (`Some`) or takes it away (`None`).
pub async fn set_role(
    access_token: &str,
    system_id: &str,
    user_id: &str,
    role: Option<Role>,
) -> Result<SystemUser, ApiFailure> {
    let path = format!("/api/systems/{system_id}/users/{user_id}");
    match role {
        Some(role) => put(&path, &SetSystemRole { role }, access_token).await,
        // Taking the role away answers the person as they are now, so the answer is read.
        None => read(send(with_token(Request::delete(&path), Some(access_token))).await?).await,
    }
}

pub async fn update_settings(
    access_token: &str,
    system_id: &str,
    settings: SystemSettings,
) -> Result<SystemSettings, ApiFailure> {
    patch(
        &format!("/api/systems/{system_id}/settings"),
        &settings,
        access_token,
    )
    .await
}

/// A one-time code to enter on the DMS, which then confirms the link of my account.
pub async fn link_code(access_token: &str, system_id: &str) -> Result<DmsLinkCode, ApiFailure> {
    post(
        &format!("/api/systems/{system_id}/my-account/link-code"),
        &serde_json::json!({}),
        Some(access_token),
    )
    .await
}

/// A single-use ticket that opens the DMS's web apps on its own origin.
pub async fn remote_ticket(
    access_token: &str,
    system_id: &str,
) -> Result<RemoteTicket, ApiFailure> {
    post(
        &format!("/api/systems/{system_id}/remote-access/tickets"),
        &serde_json::json!({}),
        Some(access_token),
    )
    .await
}

pub async fn unlink_my_account(access_token: &str, system_id: &str) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/systems/{system_id}/my-account"),
        access_token,
    )
    .await
}
