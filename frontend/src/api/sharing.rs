//! DataMiner Sharing: dashboards shared with people outside the organization.

use stratus_shared::api::sharing::{OrganizationSharedDashboards, ShareDashboard, SharedDashboard};

use super::http::{delete, get, post};
use super::ApiFailure;

/// The shared dashboards of all my organizations, grouped by organization.
pub async fn dashboards(
    access_token: &str,
) -> Result<Vec<OrganizationSharedDashboards>, ApiFailure> {
    get("/api/shared-dashboards", Some(access_token)).await
}

pub async fn share(
    access_token: &str,
    organization_id: &str,
    dashboard: &ShareDashboard,
) -> Result<SharedDashboard, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/shared-dashboards"),
        dashboard,
        Some(access_token),
    )
    .await
}

pub async fn unshare(access_token: &str, dashboard_id: &str) -> Result<(), ApiFailure> {
    delete(
        &format!("/api/shared-dashboards/{dashboard_id}"),
        access_token,
    )
    .await
}
