//! The staff console (`/api/staff/...`): platform staff find accounts and organizations, link
//! people (or addresses not registered yet) to organizations, import legacy accounts from CSV,
//! and read the log of staff actions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::organizations::Role;

/// Where a pending link (a row of `invitations`) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkSource {
    /// An Owner or Admin of the organization invited the address (mailed).
    Invitation,
    /// Platform staff linked the address in the staff console (mailed).
    Staff,
    /// The legacy import (no mail: those people already used the old portal).
    Legacy,
}

impl LinkSource {
    /// Whether the person must accept before they join: an organization's own invitation
    /// waits for their consent, while staff links (made at the person's request) and legacy
    /// links (people of the old portal) apply as soon as the address is verified.
    pub fn needs_consent(self) -> bool {
        matches!(self, LinkSource::Invitation)
    }

    /// The stored form (`invitations.source`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkSource::Invitation => "invitation",
            LinkSource::Staff => "staff",
            LinkSource::Legacy => "legacy",
        }
    }

    /// Reads the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        [
            LinkSource::Invitation,
            LinkSource::Staff,
            LinkSource::Legacy,
        ]
        .into_iter()
        .find(|source| source.as_str() == value)
    }
}

/// A membership of an account, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationLink {
    pub organization_id: String,
    pub organization_name: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// An address linked to an organization that has no verified account yet; it becomes a
/// membership when the address is verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingLink {
    /// The id of the pending link (for unlinking).
    pub id: String,
    pub email: String,
    pub organization_id: String,
    pub organization_name: String,
    pub role: Role,
    pub source: LinkSource,
    pub created_at: DateTime<Utc>,
}

/// An account with its organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffAccount {
    pub user_id: String,
    pub email: String,
    /// Whether the owner proved control of the address (only then do pending links apply).
    pub verified: bool,
    pub is_staff: bool,
    pub links: Vec<OrganizationLink>,
}

/// `GET /api/staff/accounts`: accounts and pending links whose email contains the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSearchResult {
    pub accounts: Vec<StaffAccount>,
    pub pending: Vec<PendingLink>,
    /// More accounts or pending links matched than are listed: narrow the search.
    pub truncated: bool,
}

/// An organization, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffOrganization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub member_count: i64,
    /// Pending links (addresses not verified yet).
    pub pending_count: i64,
    pub created_at: DateTime<Utc>,
}

/// `GET /api/staff/organizations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationSearchResult {
    pub organizations: Vec<StaffOrganization>,
    /// More organizations matched than are listed: narrow the search.
    pub truncated: bool,
}

/// `POST /api/staff/organizations`: an organization and its first Owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateStaffOrganization {
    /// 1–100 characters, trimmed.
    pub name: String,
    /// The first Owner: a verified account becomes Owner at once, any other address once it
    /// is verified.
    pub owner_email: String,
}

/// What linking an address to an organization did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Linked {
    /// A verified account: a member now.
    Member {
        user_id: String,
        email: String,
        link: OrganizationLink,
    },
    /// No verified account: the link applies when the address is verified.
    Pending { link: PendingLink },
}

/// `POST /api/staff/organizations` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedStaffOrganization {
    pub organization: StaffOrganization,
    pub owner: Linked,
}

/// `POST /api/staff/links`: link an account or an address to an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateLink {
    pub email: String,
    pub organization_id: String,
    pub role: Role,
}

/// A CSV line the legacy import refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRowError {
    /// 1-based line number in the uploaded file.
    pub line: u64,
    pub reason: String,
}

/// `POST /api/staff/legacy-import` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Good rows applied (linked now, pending, or already linked): all in one transaction.
    pub applied: u64,
    /// Of those, verified accounts that are members now.
    pub linked_now: u64,
    /// Of those, addresses whose link waits for their verification.
    pub pending: u64,
    /// Of those, rows whose account or address was already linked to the organization
    /// (left as they were).
    pub already_linked: u64,
    /// The refused lines, in file order.
    pub errors: Vec<ImportRowError>,
}

/// Most rows one legacy import takes.
pub const IMPORT_MAX_ROWS: usize = 5_000;
/// Largest legacy import file, in bytes (1 MiB).
pub const IMPORT_MAX_BYTES: usize = 1024 * 1024;
