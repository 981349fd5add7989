//! Organizations and their people: `/api/organizations/...`.

use gloo_net::http::Request;
use stratus_shared::api::audit::AuditPage;
use stratus_shared::api::members::{AddMember, ChangeRole, Invitation, Member, Members};
use stratus_shared::api::organizations::{
    CreateOrganization, DeleteOrganization, Organization, Role, UpdateOrganization,
};

use super::http::{self, expect_empty, member_path, patch, post, send_json, with_token};
use super::ApiFailure;

/// The organizations I belong to.
pub async fn list(access_token: &str) -> Result<Vec<Organization>, ApiFailure> {
    http::get("/api/organizations", Some(access_token)).await
}

/// A new organization, with me as its Owner.
pub async fn create(access_token: &str, name: String) -> Result<Organization, ApiFailure> {
    post(
        "/api/organizations",
        &CreateOrganization { name },
        Some(access_token),
    )
    .await
}

pub async fn get(access_token: &str, organization_id: &str) -> Result<Organization, ApiFailure> {
    http::get(
        &format!("/api/organizations/{organization_id}"),
        Some(access_token),
    )
    .await
}

pub async fn update(
    access_token: &str,
    organization_id: &str,
    update: &UpdateOrganization,
) -> Result<Organization, ApiFailure> {
    patch(
        &format!("/api/organizations/{organization_id}"),
        update,
        access_token,
    )
    .await
}

/// Deletes the organization; `confirm_name` must be its name.
pub async fn delete(
    access_token: &str,
    organization_id: &str,
    confirm_name: String,
) -> Result<(), ApiFailure> {
    let request = with_token(
        Request::delete(&format!("/api/organizations/{organization_id}")),
        Some(access_token),
    );
    expect_empty(send_json(request, &DeleteOrganization { confirm_name }).await?).await
}

/// A page of the organization's audit log, newest first: the first page, or the one after
/// the entry `before` (the previous page's `next_before`).
pub async fn audit_log(
    access_token: &str,
    organization_id: &str,
    before: Option<&str>,
) -> Result<AuditPage, ApiFailure> {
    let path = format!("/api/organizations/{organization_id}/audit-log");
    http::get(
        &http::page_path(&path, "before", before),
        Some(access_token),
    )
    .await
}

/// A page of the organization's members (with its invitations on the first page): the
/// first, or the one after the member `after` (the previous page's `next_after`).
pub async fn members(
    access_token: &str,
    organization_id: &str,
    after: Option<&str>,
) -> Result<Members, ApiFailure> {
    let path = format!("/api/organizations/{organization_id}/members");
    http::get(&http::page_path(&path, "after", after), Some(access_token)).await
}

/// Invites an address: the person joins once they accept.
pub async fn add_member(
    access_token: &str,
    organization_id: &str,
    email: String,
    role: Role,
) -> Result<Invitation, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/members"),
        &AddMember { email, role },
        Some(access_token),
    )
    .await
}

pub async fn change_role(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, ApiFailure> {
    patch(
        &member_path("/api", organization_id, user_id),
        &ChangeRole { role },
        access_token,
    )
    .await
}

pub async fn remove_member(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
) -> Result<(), ApiFailure> {
    http::delete(&member_path("/api", organization_id, user_id), access_token).await
}

pub async fn withdraw_invitation(
    access_token: &str,
    organization_id: &str,
    invitation_id: &str,
) -> Result<(), ApiFailure> {
    http::delete(
        &format!("/api/organizations/{organization_id}/invitations/{invitation_id}"),
        access_token,
    )
    .await
}
