//! The audit log: who changed what in an organization, and every staff action.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry of the audit log, newest first in lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    /// The email of who did it (kept even when the account is gone), or `command line`.
    pub actor_email: String,
    /// Done through the staff console or the staff command line.
    pub by_staff: bool,
    /// The organization concerned, if any.
    pub organization_id: Option<String>,
    /// A stable code of what was done, e.g. `member.added`.
    pub action: String,
    /// What was done, for people: names and emails involved.
    pub detail: String,
}
