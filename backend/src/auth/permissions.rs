//! The one place that decides what a role may do in its organization.

use stratus_shared::api::organizations::Role;

/// Something a person may try to do inside an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the organization, its DMSs and their states.
    View,
    /// Register a new DMS (and get its first connect code).
    RegisterSystem,
    /// See who belongs to the organization (members and pending invitations).
    ViewMembers,
    /// Add people (by email), change their roles, remove them.
    ManageMembers,
    /// Rename a DMS.
    RenameSystem,
    /// Issue a new connect code for an existing DMS, revoking its current credentials.
    IssueConnectCode,
    /// Remove a DMS, cutting its gateway off.
    RemoveSystem,
    /// Delete the organization with everything in it.
    DeleteOrganization,
    /// Change the organization's name and settings (remote access).
    EditOrganizationSettings,
    /// Give people a role on one DMS, or take it away.
    ManageSystemRoles,
    /// Change a DMS's settings (remote access).
    EditSystemSettings,
    /// Link or unlink one's own user account on a DMS.
    LinkOwnDmsAccount,
    /// Open the DMS's web apps remotely (when its remote access is on).
    OpenRemotely,
    /// Read the organization's audit log.
    ViewAuditLog,
    /// Read the organization's Collaboration projects.
    ViewProjects,
    /// Create and edit Collaboration projects and their tasks.
    ManageProjects,
    /// See the organization's shared dashboards.
    ViewSharedDashboards,
    /// Share a dashboard or stop sharing it.
    ManageSharedDashboards,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 18] = [
        Action::View,
        Action::RegisterSystem,
        Action::ViewMembers,
        Action::ManageMembers,
        Action::RenameSystem,
        Action::IssueConnectCode,
        Action::RemoveSystem,
        Action::DeleteOrganization,
        Action::EditOrganizationSettings,
        Action::ManageSystemRoles,
        Action::EditSystemSettings,
        Action::LinkOwnDmsAccount,
        Action::OpenRemotely,
        Action::ViewAuditLog,
        Action::ViewProjects,
        Action::ManageProjects,
        Action::ViewSharedDashboards,
        Action::ManageSharedDashboards,
    ];

    /// Whether the action concerns one DMS, so that a DMS-level role replaces the
    /// organization role for it.
    pub fn is_about_one_system(self) -> bool {
        matches!(
            self,
            Action::RenameSystem
                | Action::IssueConnectCode
                | Action::RemoveSystem
                | Action::ManageSystemRoles
                | Action::EditSystemSettings
                | Action::OpenRemotely
        )
    }
}

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::View
        | Action::RegisterSystem
        | Action::ViewMembers
        | Action::LinkOwnDmsAccount
        | Action::OpenRemotely
        | Action::ViewProjects
        | Action::ViewSharedDashboards => true,
        Action::ManageMembers
        | Action::RenameSystem
        | Action::RemoveSystem
        | Action::EditOrganizationSettings
        | Action::ManageSystemRoles
        | Action::EditSystemSettings
        | Action::ViewAuditLog
        | Action::ManageProjects
        | Action::ManageSharedDashboards => matches!(role, Role::Owner | Role::Admin),
        // Re-keying a DMS cuts off its running gateway, and deleting the organization loses
        // everything: Owners only, as on dataminer.services.
        Action::IssueConnectCode | Action::DeleteOrganization => role == Role::Owner,
    }
}

/// Whether platform staff may do `action` in an organization they do not belong to. Staff
/// look after organizations' Collaboration projects; everything else needs a membership.
pub fn allows_staff(action: Action) -> bool {
    matches!(action, Action::ViewProjects | Action::ManageProjects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table() {
        use Action::*;
        use Role::*;
        let table = [
            (Owner, View, true),
            (Owner, RegisterSystem, true),
            (Owner, ViewMembers, true),
            (Owner, ManageMembers, true),
            (Owner, RenameSystem, true),
            (Owner, IssueConnectCode, true),
            (Owner, RemoveSystem, true),
            (Owner, DeleteOrganization, true),
            (Owner, EditOrganizationSettings, true),
            (Owner, ManageSystemRoles, true),
            (Owner, EditSystemSettings, true),
            (Owner, LinkOwnDmsAccount, true),
            (Owner, OpenRemotely, true),
            (Owner, ViewAuditLog, true),
            (Owner, ViewProjects, true),
            (Owner, ManageProjects, true),
            (Owner, ViewSharedDashboards, true),
            (Owner, ManageSharedDashboards, true),
            (Admin, View, true),
            (Admin, RegisterSystem, true),
            (Admin, ViewMembers, true),
            (Admin, ManageMembers, true),
            (Admin, RenameSystem, true),
            (Admin, IssueConnectCode, false),
            (Admin, RemoveSystem, true),
            (Admin, DeleteOrganization, false),
            (Admin, EditOrganizationSettings, true),
            (Admin, ManageSystemRoles, true),
            (Admin, EditSystemSettings, true),
            (Admin, LinkOwnDmsAccount, true),
            (Admin, OpenRemotely, true),
            (Admin, ViewAuditLog, true),
            (Admin, ViewProjects, true),
            (Admin, ManageProjects, true),
            (Admin, ViewSharedDashboards, true),
            (Admin, ManageSharedDashboards, true),
            (Member, View, true),
            (Member, RegisterSystem, true),
            (Member, ViewMembers, true),
            (Member, ManageMembers, false),
            (Member, RenameSystem, false),
            (Member, IssueConnectCode, false),
            (Member, RemoveSystem, false),
            (Member, DeleteOrganization, false),
            (Member, EditOrganizationSettings, false),
            (Member, ManageSystemRoles, false),
            (Member, EditSystemSettings, false),
            (Member, LinkOwnDmsAccount, true),
            (Member, OpenRemotely, true),
            (Member, ViewAuditLog, false),
            (Member, ViewProjects, true),
            (Member, ManageProjects, false),
            (Member, ViewSharedDashboards, true),
            (Member, ManageSharedDashboards, false),
        ];
        assert_eq!(table.len(), 3 * Action::ALL.len(), "every role × action");
        for (role, action, allowed) in table {
            assert_eq!(allows(role, action), allowed, "{role:?} {action:?}");
        }
    }

    #[test]
    fn staff_without_membership_only_look_after_projects() {
        for action in Action::ALL {
            let expected = matches!(action, Action::ViewProjects | Action::ManageProjects);
            assert_eq!(allows_staff(action), expected, "{action:?}");
        }
    }
}
