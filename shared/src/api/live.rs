//! `GET /api/live`: the Server-Sent Events a signed-in browser receives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::ConnectionState;

/// One DMS's state at a moment: sent in snapshots and in every batch of changes.
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

/// A DMS was removed (listed in [`StateChanges::removed`]).
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

/// What changed since the previous event (`event: changes`). The server coalesces a burst of
/// changes (a backend restart reconnecting thousands of gateways) into one event per stream
/// and keeps only the latest state of each DMS, so a client applies a whole burst in one pass.
/// A DMS named in `removed` is not in `states`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateChanges {
    #[serde(default)]
    pub states: Vec<SystemStateEvent>,
    #[serde(default)]
    pub removed: Vec<SystemRemovedEvent>,
}
