//! Quotas: how much one account or organization may own, so that no tenant can fill the
//! database (and every list it shows) by creating in a loop. Each check counts inside the
//! write transaction that then creates, after taking a lock on the row the count belongs to,
//! so parallel creations cannot each see one slot left: on PostgreSQL the parent row's
//! `FOR UPDATE` lock, on SQLite the database's one write lock (`run_write` takes it first).
//!
//! Links made by platform staff (on request, or from the legacy import) are not counted
//! against `organizations_per_account`: they are the operator's decision, not self-service.

use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::{
    self, invitations, project_tasks, projects, shared_dashboards, systems, users,
};
use crate::db::{self, AnyConnection};
use crate::domain::memberships;
use crate::error::AppError;

/// The configured quotas; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Organizations one account may belong to through its own creations and accepted
    /// invitations (`STRATUS_ORGANIZATIONS_PER_ACCOUNT`).
    pub organizations_per_account: u32,
    /// DMSs registered in one organization (`STRATUS_SYSTEMS_PER_ORGANIZATION`).
    pub systems_per_organization: u32,
    /// Collaboration projects of one organization (`STRATUS_PROJECTS_PER_ORGANIZATION`).
    pub projects_per_organization: u32,
    /// Tasks of one project (`STRATUS_TASKS_PER_PROJECT`).
    pub tasks_per_project: u32,
    /// Shared dashboards of one organization (`STRATUS_DASHBOARDS_PER_ORGANIZATION`).
    pub dashboards_per_organization: u32,
    /// Invitations of one organization waiting for an answer
    /// (`STRATUS_PENDING_INVITATIONS_PER_ORGANIZATION`).
    pub pending_invitations_per_organization: u32,
}

/// What a quota counts, with the id of the row it counts for.
#[derive(Debug, Clone, Copy)]
pub enum Counted<'a> {
    /// The organizations an account (its id) belongs to.
    OrganizationsOf(&'a str),
    /// The DMSs of an organization.
    SystemsOf(&'a str),
    /// The projects of an organization.
    ProjectsOf(&'a str),
    /// The tasks of a project.
    TasksOf(&'a str),
    /// The shared dashboards of an organization.
    DashboardsOf(&'a str),
    /// The pending invitations and links of an organization.
    InvitationsOf(&'a str),
}

impl Quotas {
    /// The quotas `settings` configure.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            organizations_per_account: settings.organizations_per_account,
            systems_per_organization: settings.systems_per_organization,
            projects_per_organization: settings.projects_per_organization,
            tasks_per_project: settings.tasks_per_project,
            dashboards_per_organization: settings.dashboards_per_organization,
            pending_invitations_per_organization: settings.pending_invitations_per_organization,
        }
    }

    /// The limit on `counted`; 0 means none.
    fn limit(&self, counted: Counted<'_>) -> u32 {
        match counted {
            Counted::OrganizationsOf(_) => self.organizations_per_account,
            Counted::SystemsOf(_) => self.systems_per_organization,
            Counted::ProjectsOf(_) => self.projects_per_organization,
            Counted::TasksOf(_) => self.tasks_per_project,
            Counted::DashboardsOf(_) => self.dashboards_per_organization,
            Counted::InvitationsOf(_) => self.pending_invitations_per_organization,
        }
    }

    /// Refuses with [`AppError::LimitReached`] when one more of `counted` would pass its
    /// quota. Call it in the write transaction that then creates; it holds the parent row's
    /// lock until that transaction ends.
    pub fn ensure_room(
        &self,
        connection: &mut AnyConnection,
        counted: Counted<'_>,
    ) -> Result<(), AppError> {
        let limit = self.limit(counted);
        if limit == 0 {
            return Ok(());
        }
        lock_parent(connection, counted)?;
        let existing = count(connection, counted)?;
        if existing < i64::from(limit) {
            return Ok(());
        }
        Err(AppError::LimitReached(refusal(counted, limit)))
    }
}

/// What the person is told, naming the limit and what to do about it.
fn refusal(counted: Counted<'_>, limit: u32) -> String {
    let (holder, things, remedy) = match counted {
        Counted::OrganizationsOf(_) => (
            "Your account belongs to",
            "organizations",
            "Leave one first",
        ),
        Counted::SystemsOf(_) => ("This organization has", "DMSs", "Remove one first"),
        Counted::ProjectsOf(_) => ("This organization has", "projects", "Delete one first"),
        Counted::TasksOf(_) => ("This project has", "tasks", "Delete one first"),
        Counted::DashboardsOf(_) => (
            "This organization shares",
            "dashboards",
            "Stop sharing one first",
        ),
        Counted::InvitationsOf(_) => (
            "This organization has",
            "invitations waiting for an answer",
            "Withdraw one first",
        ),
    };
    format!(
        "{holder} {limit} {things}, the most this portal allows. {remedy}, or ask the \
         portal's operator to raise the limit."
    )
}

/// Serialises creations under one parent until the transaction ends (see the module's doc).
fn lock_parent(connection: &mut AnyConnection, counted: Counted<'_>) -> QueryResult<()> {
    match counted {
        Counted::SystemsOf(organization_id)
        | Counted::ProjectsOf(organization_id)
        | Counted::DashboardsOf(organization_id)
        | Counted::InvitationsOf(organization_id) => {
            memberships::lock_organization(connection, organization_id)
        }
        Counted::OrganizationsOf(user_id) => match connection {
            AnyConnection::Postgresql(pg) => users::table
                .find(user_id)
                .select(users::id)
                .for_update()
                .first::<String>(pg)
                .optional()
                .map(drop),
            AnyConnection::Sqlite(_) => db::begin_write(connection),
        },
        Counted::TasksOf(project_id) => match connection {
            AnyConnection::Postgresql(pg) => projects::table
                .find(project_id)
                .select(projects::id)
                .for_update()
                .first::<String>(pg)
                .optional()
                .map(drop),
            AnyConnection::Sqlite(_) => db::begin_write(connection),
        },
    }
}

fn count(connection: &mut AnyConnection, counted: Counted<'_>) -> QueryResult<i64> {
    match counted {
        Counted::OrganizationsOf(user_id) => schema::memberships::table
            .filter(schema::memberships::user_id.eq(user_id))
            .count()
            .get_result(connection),
        Counted::SystemsOf(organization_id) => systems::table
            .filter(systems::organization_id.eq(organization_id))
            .count()
            .get_result(connection),
        Counted::ProjectsOf(organization_id) => projects::table
            .filter(projects::organization_id.eq(organization_id))
            .count()
            .get_result(connection),
        Counted::TasksOf(project_id) => project_tasks::table
            .filter(project_tasks::project_id.eq(project_id))
            .count()
            .get_result(connection),
        Counted::DashboardsOf(organization_id) => shared_dashboards::table
            .filter(shared_dashboards::organization_id.eq(organization_id))
            .count()
            .get_result(connection),
        Counted::InvitationsOf(organization_id) => invitations::table
            .filter(invitations::organization_id.eq(organization_id))
            .count()
            .get_result(connection),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_limit_and_the_way_out() {
        let message = refusal(Counted::SystemsOf("o"), 2000);
        assert_eq!(
            message,
            "This organization has 2000 DMSs, the most this portal allows. Remove one first, \
             or ask the portal's operator to raise the limit."
        );
        assert!(
            refusal(Counted::OrganizationsOf("u"), 50).starts_with("Your account belongs to 50")
        );
        assert!(refusal(Counted::TasksOf("p"), 1000).contains("1000 tasks"));
    }

    #[test]
    fn zero_means_no_limit_and_each_quota_reads_its_own_setting() {
        let quotas = Quotas {
            organizations_per_account: 1,
            systems_per_organization: 2,
            projects_per_organization: 3,
            tasks_per_project: 0,
            dashboards_per_organization: 4,
            pending_invitations_per_organization: 5,
        };
        assert_eq!(quotas.limit(Counted::OrganizationsOf("u")), 1);
        assert_eq!(quotas.limit(Counted::SystemsOf("o")), 2);
        assert_eq!(quotas.limit(Counted::ProjectsOf("o")), 3);
        assert_eq!(quotas.limit(Counted::TasksOf("p")), 0);
        assert_eq!(quotas.limit(Counted::DashboardsOf("o")), 4);
        assert_eq!(quotas.limit(Counted::InvitationsOf("o")), 5);
    }
}
