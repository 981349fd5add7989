//! The staff console: `/api/staff/...` (platform staff only).

use gloo_net::http::Request;
use stratus_shared::api::audit::AuditPage;
use stratus_shared::api::members::{ChangeRole, Member};
use stratus_shared::api::organizations::Role;
use stratus_shared::api::staff::{
    AccountSearchResult, CreateLink, CreateStaffOrganization, CreatedStaffOrganization,
    ImportReport, Linked, OrganizationSearchResult,
};

use super::http::{delete, get, member_path, patch, post, read, send_text, with_token};
use super::ApiFailure;

/// Accounts (and pending links) whose email contains `q`.
pub async fn accounts(access_token: &str, q: &str) -> Result<AccountSearchResult, ApiFailure> {
    let path = format!("/api/staff/accounts?q={}", js_sys::encode_uri_component(q));
    get(&path, Some(access_token)).await
}

/// Every organization, with member counts.
pub async fn organizations(access_token: &str) -> Result<OrganizationSearchResult, ApiFailure> {
    get("/api/staff/organizations", Some(access_token)).await
}

/// A new organization with its first Owner.
pub async fn create_organization(
    access_token: &str,
    name: String,
    owner_email: String,
) -> Result<CreatedStaffOrganization, ApiFailure> {
    post(
        "/api/staff/organizations",
        &CreateStaffOrganization { name, owner_email },
        Some(access_token),
    )
    .await
}

/// Links an account or an address to an organization.
pub async fn link(
    access_token: &str,
    email: String,
    organization_id: String,
    role: Role,
) -> Result<Linked, ApiFailure> {
    post(
        "/api/staff/links",
        &CreateLink {
            email,
            organization_id,
            role,
        },
        Some(access_token),
    )
    .await
}

/// Changes an account's role in an organization.
pub async fn change_role(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
    role: Role,
) -> Result<Member, ApiFailure> {
    patch(
        &member_path("/api/staff", organization_id, user_id),
        &ChangeRole { role },
        access_token,
    )
    .await
}

/// Removes an account from an organization.
pub async fn unlink(
    access_token: &str,
    organization_id: &str,
    user_id: &str,
) -> Result<(), ApiFailure> {
    delete(
        &member_path("/api/staff", organization_id, user_id),
        access_token,
    )
    .await
}

/// Removes a pending link.
pub async fn remove_pending_link(access_token: &str, link_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/staff/pending-links/{link_id}"), access_token).await
}

/// Imports legacy accounts from CSV text.
pub async fn legacy_import(access_token: &str, csv: String) -> Result<ImportReport, ApiFailure> {
    let request = with_token(
        Request::post("/api/staff/legacy-import"),
        Some(access_token),
    );
    read(send_text(request, "text/csv; charset=utf-8", csv).await?).await
}

/// A page of the log of staff actions, newest first: the first, or the one after `before`.
pub async fn audit_log(access_token: &str, before: Option<&str>) -> Result<AuditPage, ApiFailure> {
    get(
        &super::http::page_path("/api/staff/audit", "before", before),
        Some(access_token),
    )
    .await
}
