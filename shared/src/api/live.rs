//! `GET /api/live`: the Server-Sent Events a signed-in browser receives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::ConnectionState;

/// One DMS's state at a moment: sent in snapshots and for every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemStateEvent {
    pub system_id: String,
    pub organization_id: String,
    pub state: ConnectionState,
    pub last_online_at: Option<DateTime<Utc>>,
    /// When the state began.
    pub at: DateTime<Utc>,
}

/// A DMS was removed (`event: removed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemRemovedEvent {
    pub system_id: String,
    pub organization_id: String,
}

/// The first event of a stream (`event: snapshot`): every visible DMS's state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    pub systems: Vec<SystemStateEvent>,
    /// Sent because more than states changed (organizations joined or left, DMSs or
    /// organizations renamed): the client reads the list of DMSs again.
    #[serde(default)]
    pub changed: bool,
}
