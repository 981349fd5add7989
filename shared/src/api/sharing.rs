//! Sharing: dashboards of an organization's DMSs shared with other people.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::organizations::Role;

/// A dashboard of one DMS, shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedDashboard {
    pub id: String,
    pub organization_id: String,
    pub system_id: String,
    /// The DMS's name.
    pub system_name: String,
    pub name: String,
    /// Who it is shared with, as written when sharing (addresses, or `Everyone at Acme`).
    pub shared_with: String,
    /// The email of who shared it, while that account exists.
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The shared dashboards of one of my organizations (`GET /api/shared-dashboards`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationSharedDashboards {
    pub organization_id: String,
    pub organization_name: String,
    /// My role in the organization.
    pub role: Role,
    /// Whether I may share dashboards and stop sharing them.
    pub can_manage: bool,
    pub dashboards: Vec<SharedDashboard>,
}

/// `POST /api/organizations/{organization_id}/shared-dashboards`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareDashboard {
    /// The dashboard's name, 1–100 characters.
    pub name: String,
    /// A DMS of the organization.
    pub system_id: String,
    /// Who may see it, 1–500 characters.
    pub shared_with: String,
}
