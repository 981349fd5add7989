//! Organizations, the DMSs in them and the connect codes that join a DMS to one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::ConnectionState;

/// A person's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The role as stored in `memberships.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Reads the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .find(|role| role.as_str() == value)
    }

    /// The role as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }
}

/// An organization the signed-in person belongs to, with their role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/organizations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrganization {
    /// 1–100 characters, trimmed.
    pub name: String,
}

/// `POST /api/organizations/{organization_id}/systems`: register a DMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSystem {
    /// The DMS's name, 1–100 characters, unique in the organization.
    pub name: String,
}

/// A one-time code a DMS's gateway trades for its DMS token. Shown once, never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectCode {
    pub system_id: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A DMS as people see it on the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct System {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub state: ConnectionState,
    /// The last time the DMS was `connected`.
    pub last_online_at: Option<DateTime<Utc>>,
    /// The DMS version its gateway last reported.
    pub dms_version: Option<String>,
    /// The number of agents its gateway last reported.
    pub agent_count: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// The answer to registering a DMS: the DMS and its first connect code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedSystem {
    pub system: System,
    pub connect_code: ConnectCode,
}

/// One recorded change of a DMS's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateTransition {
    pub state: ConnectionState,
    pub at: DateTime<Utc>,
}

/// One DMS with its state history, newest transition first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemDetail {
    pub system: System,
    pub transitions: Vec<StateTransition>,
}
