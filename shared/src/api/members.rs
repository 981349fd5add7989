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

/// `GET /api/organizations/{id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Members {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
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
