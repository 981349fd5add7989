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
    /// Whether the organization's DMSs may be reached through remote access. Off forces it
    /// off for every DMS of the organization.
    pub remote_access_enabled: bool,
}

/// `PATCH /api/organizations/{organization_id}`: change the name or settings (Owners and
/// Admins). Absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOrganization {
    /// 1–100 characters, trimmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_access_enabled: Option<bool>,
}

/// `DELETE /api/organizations/{organization_id}`: the organization's current name, typed again
/// so nobody deletes the wrong one by accident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteOrganization {
    pub confirm_name: String,
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
    /// The DMS's own remote-access switch (remote access is on when its organization's is
    /// on too).
    pub remote_access_enabled: bool,
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
    /// The DMS's own origin, where its web apps are reached through Stratus
    /// (`<dms>-<organization>.<remote-access domain>`), when remote access is switched on for
    /// the DMS and its organization. Open it with a ticket
    /// (`POST /api/systems/{system_id}/remote-access/tickets`), not by following the link.
    pub remote_access_url: Option<String>,
    /// The remote-access switches that apply to this DMS.
    pub remote_access: RemoteAccess,
    /// My role on this DMS: my DMS-level role when I have one, otherwise my organization role.
    pub my_role: Role,
    /// My user account on this DMS, when I linked it.
    pub my_dms_account: Option<DmsAccountLink>,
}

/// A person's link to their user account on a DMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DmsAccountLink {
    /// The user name on the DMS, as the DMS reported it (e.g. `SKYLINE\\jdoe`).
    pub dms_username: String,
    /// When the DMS confirmed the link; `None` for a link typed in before links needed the
    /// DMS's confirmation (shown as unconfirmed).
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// `POST /api/systems/{system_id}/my-account/link-code`: a one-time code to enter on the DMS,
/// which then confirms the link over its gateway connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DmsLinkCode {
    /// Shown once; 8 characters of an unambiguous alphabet, e.g. `K7QM-4XPD`.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/systems/{system_id}/remote-access/tickets`: what the browser posts to the DMS's
/// origin to open it. The ticket is single-use and valid for a minute, for that DMS's host
/// only, where it becomes a host-only cookie; it never goes in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteTicket {
    /// Where to post the ticket (an HTML form field named `ticket`), on the DMS's origin.
    pub enter_url: String,
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// Remote access of one DMS: its own switch, and whether its organization forces it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemoteAccess {
    /// The DMS-level switch.
    pub enabled_for_system: bool,
    /// The organization switched remote access off, so it is off whatever the DMS-level
    /// switch says.
    pub forced_off_by_organization: bool,
}

impl RemoteAccess {
    /// Whether remote access is on for the DMS.
    pub fn is_on(self) -> bool {
        self.enabled_for_system && !self.forced_off_by_organization
    }
}

/// `PATCH /api/systems/{system_id}/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemSettings {
    pub remote_access_enabled: bool,
}

/// A person of the organization as seen from one DMS (`GET /api/systems/{system_id}/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemUser {
    pub user_id: String,
    pub email: String,
    pub organization_role: Role,
    /// The DMS-level role, which replaces the organization role for this DMS.
    pub system_role: Option<Role>,
    /// The role that applies on this DMS.
    pub effective_role: Role,
    /// Their linked user account on the DMS, if any.
    pub dms_account: Option<DmsAccountLink>,
}

impl SystemUser {
    /// The role that applies on a DMS: Owners of the organization keep every right on each
    /// DMS; anyone else's DMS-level role, when set, replaces their organization role.
    pub fn effective(organization_role: Role, system_role: Option<Role>) -> Role {
        match (organization_role, system_role) {
            (Role::Owner, _) => Role::Owner,
            (_, Some(role)) => role,
            (role, None) => role,
        }
    }
}

/// `PUT /api/systems/{system_id}/users/{user_id}`: give a person a DMS-level role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetSystemRole {
    pub role: Role,
}

/// A DNS label from a name: lower-case ASCII letters and digits, other runs become one `-`.
pub fn dns_label(name: &str) -> String {
    let mut label = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            label.push(c.to_ascii_lowercase());
        } else if !label.ends_with('-') && !label.is_empty() {
            label.push('-');
        }
    }
    let label = label.trim_end_matches('-');
    label
        .chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// The longest remote-access host label before a number is added to tell apart two DMSs
/// whose names give the same label (DNS allows 63 characters).
pub const REMOTE_LABEL_BASE_MAX: usize = 56;

/// The host label a DMS is reached remotely under: `<dms>-<organization>`, from the DMS's name
/// and the organization's slug as DNS labels; `None` when the name has no letter or digit.
pub fn remote_label(dms_name: &str, organization_slug: &str) -> Option<String> {
    let dms = dns_label(dms_name);
    let organization = dns_label(organization_slug);
    let label = match (dms.is_empty(), organization.is_empty()) {
        (false, false) => format!("{dms}-{organization}"),
        (false, true) => dms,
        (true, _) => return None,
    };
    let label: String = label.chars().take(REMOTE_LABEL_BASE_MAX).collect();
    Some(label.trim_end_matches('-').to_owned())
}

#[cfg(test)]
mod remote_access_tests {
    use super::*;

    #[test]
    fn the_effective_role_on_a_dms() {
        use Role::*;
        for system_role in [None, Some(Owner), Some(Admin), Some(Member)] {
            assert_eq!(SystemUser::effective(Owner, system_role), Owner);
        }
        assert_eq!(SystemUser::effective(Admin, None), Admin);
        assert_eq!(SystemUser::effective(Admin, Some(Member)), Member);
        assert_eq!(SystemUser::effective(Member, Some(Admin)), Admin);
        assert_eq!(SystemUser::effective(Member, None), Member);
    }

    #[test]
    fn the_organization_switch_forces_remote_access_off() {
        let on = |enabled_for_system, forced_off_by_organization| {
            RemoteAccess {
                enabled_for_system,
                forced_off_by_organization,
            }
            .is_on()
        };
        assert!(on(true, false));
        assert!(!on(false, false));
        assert!(!on(true, true));
        assert!(!on(false, true));
    }

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("Main DMS (Ghent)"), "main-dms-ghent");
        assert_eq!(
            dns_label("<script>alert(1)</script>"),
            "script-alert-1-script"
        );
        assert_eq!(dns_label("!!!"), "");
    }

    #[test]
    fn a_remote_label_joins_the_dms_and_the_organization() {
        assert_eq!(
            remote_label("Main DMS", "acme").as_deref(),
            Some("main-dms-acme")
        );
        assert_eq!(remote_label("???", "acme"), None);
        let long = remote_label(&"a".repeat(40), &"b".repeat(40)).unwrap();
        assert!(long.len() <= REMOTE_LABEL_BASE_MAX && !long.ends_with('-'));
    }
}
