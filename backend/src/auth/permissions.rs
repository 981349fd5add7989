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
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 7] = [
        Action::View,
        Action::RegisterSystem,
        Action::ViewMembers,
        Action::ManageMembers,
        Action::RenameSystem,
        Action::IssueConnectCode,
        Action::RemoveSystem,
    ];
}

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::View | Action::RegisterSystem | Action::ViewMembers => true,
        Action::ManageMembers => matches!(role, Role::Owner | Role::Admin),
        Action::RenameSystem | Action::RemoveSystem => matches!(role, Role::Owner | Role::Admin),
        // Re-keying a DMS cuts off its running gateway: Owners only, as on dataminer.services.
        Action::IssueConnectCode => role == Role::Owner,
    }
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
            (Admin, View, true),
            (Admin, RegisterSystem, true),
            (Admin, ViewMembers, true),
            (Admin, ManageMembers, true),
            (Admin, RenameSystem, true),
            (Admin, IssueConnectCode, false),
            (Admin, RemoveSystem, true),
            (Member, View, true),
            (Member, RegisterSystem, true),
            (Member, ViewMembers, true),
            (Member, ManageMembers, false),
            (Member, RenameSystem, false),
            (Member, IssueConnectCode, false),
            (Member, RemoveSystem, false),
        ];
        assert_eq!(table.len(), 3 * Action::ALL.len(), "every role × action");
        for (role, action, allowed) in table {
            assert_eq!(allows(role, action), allowed, "{role:?} {action:?}");
        }
    }
}
