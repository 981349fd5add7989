//! Project Collaboration: an organization's projects (their tasks in [`tasks`]), the checks on
//! what a change may say, and the audit wording of every change. Who may do what is decided
//! before (`auth::access`); these functions are handed the result as an [`Editor`].

pub mod tasks;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use stratus_shared::api::collaboration::{
    CreateProject, OrganizationProjects, Project, ProjectStatus, Task, UpdateProject,
};
use stratus_shared::api::organizations::Role;

use crate::auth::access::Access;
use crate::auth::permissions::{allows, Action};
use crate::db::schema::{organizations, projects};
use crate::db::AnyConnection;
use crate::domain::audit;
use crate::domain::organizations::group_by_organization;
use crate::domain::text::{parse_text, NAME_MAX};
use crate::error::AppError;

/// A project as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct ProjectRecord {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    /// `planned`, `active`, `on_hold` or `done` (the table's CHECK keeps other values out).
    pub status: String,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ProjectRecord {
    /// The project as the API shows it, with `tasks`.
    fn into_project(self, tasks: Vec<Task>) -> Project {
        Project {
            status: ProjectStatus::parse(&self.status).unwrap_or(ProjectStatus::Planned),
            id: self.id,
            organization_id: self.organization_id,
            name: self.name,
            start_date: self.start_date,
            due_date: self.due_date,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            tasks,
        }
    }
}

/// Who changes projects and tasks, and through what right: their role, or being staff (which
/// their audit entries say).
#[derive(Debug, Clone, Copy)]
pub struct Editor<'a> {
    pub user_id: &'a str,
    pub access: Access,
}

impl<'a> Editor<'a> {
    /// `user_id`, allowed to manage projects through `access`.
    pub fn new(user_id: &'a str, access: Access) -> Self {
        Self { user_id, access }
    }

    /// Writes the audit entry of a change in `organization_id`.
    fn record(
        self,
        connection: &mut AnyConnection,
        organization_id: &str,
        action: &str,
        detail: String,
    ) -> QueryResult<()> {
        let by_staff = self.access.by_staff;
        let organization_id = Some(organization_id);
        audit::record_as(
            connection,
            self.user_id,
            by_staff,
            organization_id,
            action,
            detail,
        )?;
        Ok(())
    }
}

/// Refuses a due date before the start date.
pub fn check_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> Result<(), AppError> {
    match (start, due) {
        (Some(start), Some(due)) if due < start => Err(AppError::InvalidRequest(format!(
            "The due date ({due}) cannot be before the start date ({start})."
        ))),
        _ => Ok(()),
    }
}

/// A new project, checked: name read, status defaulted, dates in order.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: String,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
}

impl NewProject {
    /// Reads a request to create a project.
    pub fn parse(raw: CreateProject) -> Result<Self, AppError> {
        let name = parse_text(&raw.name, "project name", NAME_MAX)?;
        check_dates(raw.start_date, raw.due_date)?;
        Ok(Self {
            name,
            status: raw.status.unwrap_or(ProjectStatus::Planned),
            start_date: raw.start_date,
            due_date: raw.due_date,
        })
    }
}

/// A change of a project, its name read; the dates are checked against the project's own
/// once it is known.
#[derive(Debug, Clone)]
pub struct ProjectChange(UpdateProject);

impl ProjectChange {
    /// Reads a request to change a project: at least one field, a valid name.
    pub fn parse(raw: UpdateProject) -> Result<Self, AppError> {
        if raw == UpdateProject::default() {
            return Err(AppError::InvalidRequest(
                "Give at least one of name, status, start_date and due_date.".into(),
            ));
        }
        let name = raw
            .name
            .as_deref()
            .map(|name| parse_text(name, "project name", NAME_MAX))
            .transpose()?;
        Ok(Self(UpdateProject { name, ..raw }))
    }
}

/// The stored project with this id, if there is one.
pub fn find_record(
    connection: &mut AnyConnection,
    project_id: &str,
) -> QueryResult<Option<ProjectRecord>> {
    projects::table
        .find(project_id)
        .select(ProjectRecord::as_select())
        .first(connection)
        .optional()
}

/// The projects of `records` with their tasks, in the records' order.
fn with_tasks(
    connection: &mut AnyConnection,
    records: Vec<ProjectRecord>,
) -> QueryResult<Vec<Project>> {
    let ids: Vec<&String> = records.iter().map(|record| &record.id).collect();
    let mut tasks = tasks::of_projects(connection, &ids)?;
    Ok(records
        .into_iter()
        .map(|record| {
            let tasks = tasks.remove(&record.id).unwrap_or_default();
            record.into_project(tasks)
        })
        .collect())
}

/// The projects of the organizations, by name, with their tasks.
pub fn of_organizations(
    connection: &mut AnyConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<Project>> {
    let records: Vec<ProjectRecord> = projects::table
        .filter(projects::organization_id.eq_any(organization_ids))
        .order((projects::name.asc(), projects::id.asc()))
        .select(ProjectRecord::as_select())
        .load(connection)?;
    with_tasks(connection, records)
}

/// The project with this id, with its tasks.
fn find(connection: &mut AnyConnection, project_id: &str) -> QueryResult<Project> {
    let record = find_record(connection, project_id)?.ok_or(diesel::result::Error::NotFound)?;
    let mut found = with_tasks(connection, vec![record])?;
    found.pop().ok_or(diesel::result::Error::NotFound)
}

/// Whose projects a listing shows, as decided by the access check.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The viewer's own organizations where their role lets them see projects (id, name,
    /// role), by name.
    pub mine: Vec<(String, String, Role)>,
    /// Every organization, not only `mine` (platform staff who asked).
    pub every_organization: bool,
    /// Whether the viewer may manage projects as staff where their role does not allow it.
    pub staff_may_manage: bool,
}

/// Every organization's id and name, by name.
fn every_organization(connection: &mut AnyConnection) -> QueryResult<Vec<(String, String)>> {
    organizations::table
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((organizations::id, organizations::name))
        .load(connection)
}

/// The projects `viewer` sees, grouped by organization (by name); each organization says the
/// viewer's role there (none where they see it only as staff) and whether they may manage
/// its projects.
pub fn grouped(
    connection: &mut AnyConnection,
    viewer: Viewer,
) -> QueryResult<Vec<OrganizationProjects>> {
    let visible: Vec<(String, String, Option<Role>)> = if viewer.every_organization {
        let every = every_organization(connection)?;
        every
            .into_iter()
            .map(|(id, name)| {
                let mine = viewer.mine.iter().find(|(mine, _, _)| *mine == id);
                let role = mine.map(|(_, _, role)| *role);
                (id, name, role)
            })
            .collect()
    } else {
        let mine = viewer.mine.into_iter();
        mine.map(|(id, name, role)| (id, name, Some(role)))
            .collect()
    };
    let ids: Vec<String> = visible.iter().map(|(id, _, _)| id.clone()).collect();
    let mut of_organization =
        group_by_organization(of_organizations(connection, &ids)?, |p| &p.organization_id);
    Ok(visible
        .into_iter()
        .map(|(id, name, role)| OrganizationProjects {
            projects: of_organization.remove(&id).unwrap_or_default(),
            can_manage: role.is_some_and(|role| allows(role, Action::ManageProjects))
                || viewer.staff_may_manage,
            organization_id: id,
            organization_name: name,
            role,
        })
        .collect())
}

/// Writes a new project of `organization_id` (checked already) with its `(start, due)` dates;
/// returns its id. No audit entry: the demo seeds through it too.
pub fn insert(
    connection: &mut AnyConnection,
    organization_id: &str,
    name: &str,
    status: ProjectStatus,
    (start_date, due_date): (Option<NaiveDate>, Option<NaiveDate>),
    now: NaiveDateTime,
) -> QueryResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    diesel::insert_into(projects::table)
        .values((
            projects::id.eq(&id),
            projects::organization_id.eq(organization_id),
            projects::name.eq(name),
            projects::status.eq(status.as_str()),
            projects::start_date.eq(start_date),
            projects::due_date.eq(due_date),
            projects::created_at.eq(now),
            projects::updated_at.eq(now),
        ))
        .execute(connection)?;
    Ok(id)
}

/// Marks a project changed now (a change of one of its tasks counts).
fn touch(connection: &mut AnyConnection, project_id: &str) -> QueryResult<()> {
    diesel::update(projects::table.find(project_id))
        .set(projects::updated_at.eq(crate::db::now().naive_utc()))
        .execute(connection)?;
    Ok(())
}

/// Creates a project in `organization_id` as `editor`.
pub fn create(
    connection: &mut AnyConnection,
    editor: Editor,
    organization_id: &str,
    new: NewProject,
) -> QueryResult<Project> {
    let now = crate::db::now().naive_utc();
    let dates = (new.start_date, new.due_date);
    let id = insert(
        connection,
        organization_id,
        &new.name,
        new.status,
        dates,
        now,
    )?;
    let detail = format!(
        "Created the project \"{}\" ({}).",
        new.name,
        new.status.label()
    );
    editor.record(connection, organization_id, "project.created", detail)?;
    find(connection, &id)
}

/// "none" for a cleared date.
fn describe_date(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "none".to_owned(), |date| date.to_string())
}

/// The audit wording of an edit's list of changes.
fn summarize(changes: &[String]) -> String {
    if changes.is_empty() {
        "nothing changed".to_owned()
    } else {
        changes.join(", ")
    }
}

/// What an edit changed of a project, as the audit log says it.
fn changes(before: &ProjectRecord, after: &ProjectRecord) -> String {
    let mut changes = Vec::new();
    if after.name != before.name {
        changes.push(format!("renamed to \"{}\"", after.name));
    }
    if after.status != before.status {
        changes.push(format!("status {} → {}", before.status, after.status));
    }
    if after.start_date != before.start_date {
        changes.push(format!("start date {}", describe_date(after.start_date)));
    }
    if after.due_date != before.due_date {
        changes.push(format!("due date {}", describe_date(after.due_date)));
    }
    summarize(&changes)
}

/// Applies `change` to `project` as `editor`; refuses dates out of order once merged with the
/// project's own. A date changed to `null` is cleared.
pub fn update(
    connection: &mut AnyConnection,
    editor: Editor,
    project: ProjectRecord,
    ProjectChange(change): ProjectChange,
) -> Result<Project, AppError> {
    let status = change.status.map(|status| status.as_str().to_owned());
    let after = ProjectRecord {
        name: change.name.unwrap_or_else(|| project.name.clone()),
        status: status.unwrap_or_else(|| project.status.clone()),
        start_date: change.start_date.unwrap_or(project.start_date),
        due_date: change.due_date.unwrap_or(project.due_date),
        ..project.clone()
    };
    check_dates(after.start_date, after.due_date)?;
    diesel::update(projects::table.find(&project.id))
        .set((
            projects::name.eq(&after.name),
            projects::status.eq(&after.status),
            projects::start_date.eq(after.start_date),
            projects::due_date.eq(after.due_date),
            projects::updated_at.eq(crate::db::now().naive_utc()),
        ))
        .execute(connection)?;
    let changed = changes(&project, &after);
    let detail = format!("Edited the project \"{}\": {changed}.", project.name);
    editor.record(
        connection,
        &project.organization_id,
        "project.updated",
        detail,
    )?;
    Ok(find(connection, &project.id)?)
}

/// Deletes `project` with its tasks as `editor`.
pub fn delete(
    connection: &mut AnyConnection,
    editor: Editor,
    project: ProjectRecord,
) -> QueryResult<()> {
    diesel::delete(projects::table.find(&project.id)).execute(connection)?;
    let detail = format!("Deleted the project \"{}\" and its tasks.", project.name);
    editor.record(
        connection,
        &project.organization_id,
        "project.deleted",
        detail,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, d)
    }

    fn project() -> ProjectRecord {
        let at = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        ProjectRecord {
            id: "p".into(),
            organization_id: "o".into(),
            name: "Plan".into(),
            status: "planned".into(),
            start_date: day(1),
            due_date: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_due_date_may_equal_but_not_precede_the_start_date() {
        assert!(check_dates(day(1), day(1)).is_ok());
        assert!(check_dates(day(1), day(2)).is_ok());
        assert!(check_dates(None, day(2)).is_ok());
        assert!(check_dates(day(2), None).is_ok());
        assert!(matches!(
            check_dates(day(2), day(1)),
            Err(AppError::InvalidRequest(_))
        ));
    }

    #[test]
    fn an_empty_change_is_refused_and_a_new_name_is_read() {
        assert!(ProjectChange::parse(UpdateProject::default()).is_err());
        let ProjectChange(change) = ProjectChange::parse(UpdateProject {
            name: Some("  Launch ".into()),
            ..UpdateProject::default()
        })
        .unwrap();
        assert_eq!(change.name.as_deref(), Some("Launch"));
    }

    #[test]
    fn a_project_edit_lists_what_changed() {
        let before = project();
        assert_eq!(changes(&before, &before), "nothing changed");
        let after = ProjectRecord {
            name: "Launch".into(),
            status: "active".into(),
            start_date: None,
            due_date: day(3),
            ..project()
        };
        assert_eq!(
            changes(&before, &after),
            "renamed to \"Launch\", status planned → active, start date none, \
             due date 2026-12-03"
        );
    }
}
