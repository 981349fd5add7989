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

/// The most entries one page of an audit log holds, and how many a page holds when the
/// request names no `limit`.
pub const AUDIT_PAGE_MAX: u32 = 500;
pub const AUDIT_PAGE_DEFAULT: u32 = 100;

/// One page of an audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The id to pass as `before` for the next, older page; absent on the last page.
    pub next_before: Option<String>,
}

/// `?limit=&before=` of an audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditPageQuery {
    /// How many entries, newest first: 1 to 500, 100 when absent (400 outside that range).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    #[serde(default)]
    pub limit: Option<u32>,
    /// Start after this entry (the previous page's `next_before`); the newest when absent.
    /// An id that is not in this log answers 400.
    #[serde(default)]
    pub before: Option<String>,
}
