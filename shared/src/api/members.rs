//! The people of an organization: members with their roles, and pending invitations.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::organizations::Role;

/// A person who belongs to the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// An email address invited to the organization (or linked by staff) that is not a member
/// yet: a person invited by an Owner or Admin joins once they accept (signed in with that
/// address); a staff or legacy link applies once the address is verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// The most members one page of `GET /api/organizations/{id}/members` holds, and how many a
/// page holds when the request names no `limit`.
pub const MEMBERS_PAGE_MAX: u32 = 500;
pub const MEMBERS_PAGE_DEFAULT: u32 = 200;

/// `GET /api/organizations/{id}/members`: one page of members, by email, and (on the first
/// page only) every pending invitation, which the invitation quota bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Members {
    pub members: Vec<Member>,
    /// Empty on every page but the first.
    pub invitations: Vec<Invitation>,
    /// The user id to pass as `after` for the next page; absent on the last page.
    #[serde(default)]
    pub next_after: Option<String>,
}

/// `?limit=&after=` of an organization's members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct MembersQuery {
    /// How many members, by email: 1 to 500, 200 when absent (400 outside that range).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    #[serde(default)]
    pub limit: Option<u32>,
    /// Start after this member (the previous page's `next_after`); the first when absent.
    /// A user id that is not a member of this organization answers 400.
    #[serde(default)]
    pub after: Option<String>,
}

/// `POST /api/organizations/{id}/members`: add a person by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddMember {
    pub email: String,
    pub role: Role,
}

/// An invitation waiting for the signed-in person's answer (`GET /api/me/invitations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingInvitation {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
    /// The role the person gets on accepting.
    pub role: Role,
    /// Who invited them (their email), when that account still exists.
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `PATCH /api/organizations/{id}/members/{user_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeRole {
    pub role: Role,
}
