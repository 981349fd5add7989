//! Project Collaboration: an organization's projects and their tasks. Every member reads them;
//! Owners, Admins and platform staff create, edit and delete them, each change in the audit
//! log. A project or task of an organization the caller may not see answers 404.

use std::collections::HashMap;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use stratus_shared::api::collaboration::{
    CreateProject, CreateTask, OrganizationProjects, Project, ProjectStatus, Task, TaskStatus,
    UpdateProject, UpdateTask,
};
use stratus_shared::api::organizations::Role;
use stratus_shared::ApiError;

use crate::auth::access::{
    authorize_or_staff, authorize_or_staff_for, my_organizations_allowing, Access,
};
use crate::auth::permissions::{allows, allows_staff, Action};
use crate::auth::CurrentUser;
use crate::db::schema::{organizations, project_tasks, projects};
use crate::db::{AnyConnection, Database};
use crate::domain::audit;
use crate::domain::organizations::group_by_organization as by_organization;
use crate::domain::text::NAME_MAX;
use crate::error::AppError;

/// Longest task title.
const TASK_TITLE_MAX: usize = 200;

/// Reads free text at the edge: trimmed, 1–`max` characters, no control characters.
pub(crate) fn parse_text(raw: &str, what: &str, max: usize) -> Result<String, AppError> {
    let text = raw.trim();
    let length = text.chars().count();
    if length == 0 || length > max || text.chars().any(char::is_control) {
        return Err(AppError::InvalidRequest(format!(
            "The {what} must be 1 to {max} characters, without control characters."
        )));
    }
    Ok(text.to_owned())
}

/// Refuses a due date before the start date.
fn check_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> Result<(), AppError> {
    match (start, due) {
        (Some(start), Some(due)) if due < start => Err(AppError::InvalidRequest(format!(
            "The due date ({due}) cannot be before the start date ({start})."
        ))),
        _ => Ok(()),
    }
}

/// The audit wording of an edit's list of changes.
fn summarize(changes: &[String]) -> String {
    if changes.is_empty() {
        "nothing changed".to_owned()
    } else {
        changes.join(", ")
    }
}

fn describe_date(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "none".to_owned(), |date| date.to_string())
}

type ProjectRow = (
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    NaiveDateTime,
    NaiveDateTime,
);

type ProjectColumns = (
    projects::id,
    projects::organization_id,
    projects::name,
    projects::status,
    projects::start_date,
    projects::due_date,
    projects::created_at,
    projects::updated_at,
);

const PROJECT_COLUMNS: ProjectColumns = (
    projects::id,
    projects::organization_id,
    projects::name,
    projects::status,
    projects::start_date,
    projects::due_date,
    projects::created_at,
    projects::updated_at,
);

type TaskRow = (String, String, String, String, i32);

type TaskColumns = (
    project_tasks::id,
    project_tasks::project_id,
    project_tasks::title,
    project_tasks::status,
    project_tasks::position,
);

const TASK_COLUMNS: TaskColumns = (
    project_tasks::id,
    project_tasks::project_id,
    project_tasks::title,
    project_tasks::status,
    project_tasks::position,
);

fn task_of((id, project_id, title, status, position): TaskRow) -> Task {
    Task {
        id,
        project_id,
        title,
        // The table's CHECK keeps other values out.
        status: TaskStatus::parse(&status).unwrap_or(TaskStatus::Todo),
        position,
    }
}

/// The projects of `rows` with their tasks, in the rows' order.
fn with_tasks(connection: &mut AnyConnection, rows: Vec<ProjectRow>) -> QueryResult<Vec<Project>> {
    let ids: Vec<&String> = rows.iter().map(|row| &row.0).collect();
    let task_rows: Vec<TaskRow> = project_tasks::table
        .filter(project_tasks::project_id.eq_any(ids))
        .order((project_tasks::position.asc(), project_tasks::id.asc()))
        .select(TASK_COLUMNS)
        .load(connection)?;
    let mut tasks: HashMap<String, Vec<Task>> = HashMap::new();
    for row in task_rows {
        tasks.entry(row.1.clone()).or_default().push(task_of(row));
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, organization_id, name, status, start_date, due_date, created_at, updated_at)| {
                Project {
                    tasks: tasks.remove(&id).unwrap_or_default(),
                    id,
                    organization_id,
                    name,
                    status: ProjectStatus::parse(&status).unwrap_or(ProjectStatus::Planned),
                    start_date,
                    due_date,
                    created_at: created_at.and_utc(),
                    updated_at: updated_at.and_utc(),
                }
            },
        )
        .collect())
}

/// The projects of the organizations, by name.
fn projects_of(
    connection: &mut AnyConnection,
    organization_ids: &[String],
) -> QueryResult<Vec<Project>> {
    let rows: Vec<ProjectRow> = projects::table
        .filter(projects::organization_id.eq_any(organization_ids))
        .order((projects::name.asc(), projects::id.asc()))
        .select(PROJECT_COLUMNS)
        .load(connection)?;
    with_tasks(connection, rows)
}

fn project_by_id(connection: &mut AnyConnection, project_id: &str) -> QueryResult<Project> {
    let row: ProjectRow = projects::table
        .find(project_id)
        .select(PROJECT_COLUMNS)
        .first(connection)?;
    let mut found = with_tasks(connection, vec![row])?;
    found.pop().ok_or(diesel::result::Error::NotFound)
}

/// A project, when the caller may do `action` in its organization (404 otherwise).
fn authorize_project(
    connection: &mut AnyConnection,
    user_id: &str,
    project_id: &str,
    action: Action,
) -> Result<(ProjectRow, Access), AppError> {
    let no_such_project = || AppError::NotFound("There is no such project.".into());
    let row: ProjectRow = projects::table
        .find(project_id)
        .select(PROJECT_COLUMNS)
        .first(connection)
        .optional()?
        .ok_or_else(no_such_project)?;
    let access = authorize_or_staff_for(connection, user_id, &row.1, action, no_such_project)?;
    Ok((row, access))
}

/// A task with its project's organization and name, when the caller may do `action` there.
fn authorize_task(
    connection: &mut AnyConnection,
    user_id: &str,
    task_id: &str,
    action: Action,
) -> Result<(TaskRow, String, String, Access), AppError> {
    let no_such_task = || AppError::NotFound("There is no such task.".into());
    let (task, organization_id, project_name): (TaskRow, String, String) = project_tasks::table
        .inner_join(projects::table)
        .filter(project_tasks::id.eq(task_id))
        .select((TASK_COLUMNS, projects::organization_id, projects::name))
        .first(connection)
        .optional()?
        .ok_or_else(no_such_task)?;
    let access =
        authorize_or_staff_for(connection, user_id, &organization_id, action, no_such_task)?;
    Ok((task, organization_id, project_name, access))
}

/// Writes a new project of `organization_id` (checked already) with its `(start, due)` dates;
/// returns its id.
pub(crate) fn insert_project(
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

/// Writes a new task (checked already).
pub(crate) fn insert_task(connection: &mut AnyConnection, task: &Task) -> QueryResult<()> {
    diesel::insert_into(project_tasks::table)
        .values((
            project_tasks::id.eq(&task.id),
            project_tasks::project_id.eq(&task.project_id),
            project_tasks::title.eq(&task.title),
            project_tasks::status.eq(task.status.as_str()),
            project_tasks::position.eq(task.position),
        ))
        .execute(connection)?;
    Ok(())
}

fn touch_project(connection: &mut AnyConnection, project_id: &str) -> QueryResult<()> {
    diesel::update(projects::table.find(project_id))
        .set(projects::updated_at.eq(crate::db::now().naive_utc()))
        .execute(connection)?;
    Ok(())
}

/// `GET /api/projects?every_organization=true`: platform staff look after every
/// organization's projects, not only those of their own organizations.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectsQuery {
    /// Every organization instead of mine (platform staff only).
    #[serde(default)]
    every_organization: bool,
}

/// The organizations whose projects the caller sees, by name, with their role in each (`None`
/// for an organization they see only as staff).
fn visible_organizations(
    connection: &mut AnyConnection,
    user_id: &str,
    every_organization: bool,
) -> Result<Vec<(String, String, Option<Role>)>, AppError> {
    let mine = my_organizations_allowing(connection, user_id, Action::ViewProjects)?;
    if !every_organization {
        return Ok(mine
            .into_iter()
            .map(|(id, name, role)| (id, name, Some(role)))
            .collect());
    }
    let all: Vec<(String, String)> = organizations::table
        .order((organizations::name.asc(), organizations::id.asc()))
        .select((organizations::id, organizations::name))
        .load(connection)?;
    Ok(all
        .into_iter()
        .map(|(id, name)| {
            let role = mine
                .iter()
                .find(|(mine_id, _, _)| *mine_id == id)
                .map(|(_, _, role)| *role);
            (id, name, role)
        })
        .collect())
}

/// The projects of all my organizations (or, for platform staff who ask, of every
/// organization), grouped by organization (by name).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(ProjectsQuery),
    responses(
        (status = 200, description = "The organizations' projects; empty for a guest", body = [OrganizationProjects]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "every_organization is for platform staff only", body = ApiError),
    )
)]
#[get("/projects")]
pub async fn list_my_projects(
    user: CurrentUser,
    query: web::Query<ProjectsQuery>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let every_organization = query.every_organization;
    let grouped = database
        .run_app(move |connection| {
            let is_staff = crate::domain::accounts::is_staff(connection, &user.user_id)?;
            if every_organization && !(is_staff && allows_staff(Action::ViewProjects)) {
                return Err(AppError::Forbidden(
                    "Only platform staff see every organization's projects.".into(),
                ));
            }
            let staff_manage = is_staff && allows_staff(Action::ManageProjects);
            let visible = visible_organizations(connection, &user.user_id, every_organization)?;
            let ids: Vec<String> = visible.iter().map(|(id, _, _)| id.clone()).collect();
            let mut of_organization = by_organization(projects_of(connection, &ids)?, |project| {
                &project.organization_id
            });
            Ok(visible
                .into_iter()
                .map(|(id, name, role)| OrganizationProjects {
                    projects: of_organization.remove(&id).unwrap_or_default(),
                    can_manage: role.is_some_and(|role| allows(role, Action::ManageProjects))
                        || staff_manage,
                    organization_id: id,
                    organization_name: name,
                    role,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(grouped))
}

/// An organization's projects with their tasks.
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    responses(
        (status = 200, description = "The projects, by name", body = [Project]),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 404, description = "Not one of my organizations (and I am not staff)", body = ApiError),
    )
)]
#[get("/organizations/{organization_id}/projects")]
pub async fn list_projects(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let projects = database
        .run_app(move |connection| {
            authorize_or_staff(
                connection,
                &user.user_id,
                &organization_id,
                Action::ViewProjects,
            )?;
            Ok(projects_of(connection, &[organization_id])?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(projects))
}

/// Creates a project (Owners, Admins, staff).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("organization_id" = String, Path, description = "The organization's id")),
    request_body = CreateProject,
    responses(
        (status = 201, description = "Created", body = Project),
        (status = 400, description = "Name empty or too long, unknown status, or due date before start date", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "Not one of my organizations (and I am not staff)", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/projects")]
pub async fn create_project(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<CreateProject>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let CreateProject {
        name,
        status,
        start_date,
        due_date,
    } = body.into_inner();
    let name = parse_text(&name, "project name", NAME_MAX)?;
    let status = status.unwrap_or(ProjectStatus::Planned);
    check_dates(start_date, due_date)?;
    let project = database
        .run_write(move |connection| {
            let access = authorize_or_staff(
                connection,
                &user.user_id,
                &organization_id,
                Action::ManageProjects,
            )?;
            let id = insert_project(
                connection,
                &organization_id,
                &name,
                status,
                (start_date, due_date),
                crate::db::now().naive_utc(),
            )?;
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&organization_id),
                "project.created",
                format!("Created the project \"{name}\" ({}).", status.label()),
            )?;
            Ok(project_by_id(connection, &id)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(project))
}

/// Changes a project's name, status or dates (Owners, Admins, staff). A date sent as `null`
/// is cleared.
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body = UpdateProject,
    responses(
        (status = 200, description = "The project as changed", body = Project),
        (status = 400, description = "Nothing to change, name empty or too long, unknown status, or due date before start date", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "No such project in my organizations", body = ApiError),
    )
)]
#[patch("/projects/{project_id}")]
pub async fn update_project(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<UpdateProject>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let project_id = path.into_inner();
    let change = body.into_inner();
    if change == UpdateProject::default() {
        return Err(AppError::InvalidRequest(
            "Give at least one of name, status, start_date and due_date.".into(),
        ));
    }
    let new_name = change
        .name
        .as_deref()
        .map(|name| parse_text(name, "project name", NAME_MAX))
        .transpose()?;
    let project = database
        .run_write(move |connection| {
            let (row, access) = authorize_project(
                connection,
                &user.user_id,
                &project_id,
                Action::ManageProjects,
            )?;
            let (_, organization_id, old_name, old_status, old_start, old_due, _, _) = row;
            let name = new_name.unwrap_or_else(|| old_name.clone());
            let status = change
                .status
                .map(ProjectStatus::as_str)
                .unwrap_or(old_status.as_str())
                .to_owned();
            let start_date = change.start_date.unwrap_or(old_start);
            let due_date = change.due_date.unwrap_or(old_due);
            check_dates(start_date, due_date)?;
            let mut changes = Vec::new();
            if name != old_name {
                changes.push(format!("renamed to \"{name}\""));
            }
            if status != old_status {
                changes.push(format!("status {old_status} → {status}"));
            }
            if start_date != old_start {
                changes.push(format!("start date {}", describe_date(start_date)));
            }
            if due_date != old_due {
                changes.push(format!("due date {}", describe_date(due_date)));
            }
            diesel::update(projects::table.find(&project_id))
                .set((
                    projects::name.eq(&name),
                    projects::status.eq(&status),
                    projects::start_date.eq(start_date),
                    projects::due_date.eq(due_date),
                    projects::updated_at.eq(crate::db::now().naive_utc()),
                ))
                .execute(connection)?;
            let summary = summarize(&changes);
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&organization_id),
                "project.updated",
                format!("Edited the project \"{old_name}\": {summary}."),
            )?;
            Ok(project_by_id(connection, &project_id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(project))
}

/// Deletes a project with its tasks (Owners, Admins, staff).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "No such project in my organizations", body = ApiError),
    )
)]
#[delete("/projects/{project_id}")]
pub async fn delete_project(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let project_id = path.into_inner();
    database
        .run_write(move |connection| {
            let (row, access) = authorize_project(
                connection,
                &user.user_id,
                &project_id,
                Action::ManageProjects,
            )?;
            diesel::delete(projects::table.find(&project_id)).execute(connection)?;
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&row.1),
                "project.deleted",
                format!("Deleted the project \"{}\" and its tasks.", row.2),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a task at the end of a project (Owners, Admins, staff).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("project_id" = String, Path, description = "The project's id")),
    request_body = CreateTask,
    responses(
        (status = 201, description = "Added", body = Task),
        (status = 400, description = "Title empty or too long, or unknown status", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "No such project in my organizations", body = ApiError),
    )
)]
#[post("/projects/{project_id}/tasks")]
pub async fn create_task(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<CreateTask>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let project_id = path.into_inner();
    let title = parse_text(&body.title, "task title", TASK_TITLE_MAX)?;
    let status = body.status.unwrap_or(TaskStatus::Todo);
    let task = database
        .run_write(move |connection| {
            let (row, access) = authorize_project(
                connection,
                &user.user_id,
                &project_id,
                Action::ManageProjects,
            )?;
            let last: Option<i32> = project_tasks::table
                .filter(project_tasks::project_id.eq(&project_id))
                .select(diesel::dsl::max(project_tasks::position))
                .first(connection)?;
            let task = Task {
                id: uuid::Uuid::new_v4().to_string(),
                project_id: project_id.clone(),
                title,
                status,
                position: last.unwrap_or(0) + 1,
            };
            insert_task(connection, &task)?;
            touch_project(connection, &project_id)?;
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&row.1),
                "task.created",
                format!(
                    "Added the task \"{}\" to the project \"{}\".",
                    task.title, row.2
                ),
            )?;
            Ok(task)
        })
        .await?;
    Ok(HttpResponse::Created().json(task))
}

/// Changes a task's title or status (Owners, Admins, staff).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("task_id" = String, Path, description = "The task's id")),
    request_body = UpdateTask,
    responses(
        (status = 200, description = "The task as changed", body = Task),
        (status = 400, description = "Nothing to change, title empty or too long, or unknown status", body = ApiError),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "No such task in my organizations", body = ApiError),
    )
)]
#[patch("/tasks/{task_id}")]
pub async fn update_task(
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<UpdateTask>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let task_id = path.into_inner();
    let change = body.into_inner();
    if change == UpdateTask::default() {
        return Err(AppError::InvalidRequest(
            "Give at least one of title and status.".into(),
        ));
    }
    let new_title = change
        .title
        .as_deref()
        .map(|title| parse_text(title, "task title", TASK_TITLE_MAX))
        .transpose()?;
    let task = database
        .run_write(move |connection| {
            let (row, organization_id, project_name, access) =
                authorize_task(connection, &user.user_id, &task_id, Action::ManageProjects)?;
            let old = task_of(row);
            let title = new_title.unwrap_or_else(|| old.title.clone());
            let status = change.status.unwrap_or(old.status);
            diesel::update(project_tasks::table.find(&task_id))
                .set((
                    project_tasks::title.eq(&title),
                    project_tasks::status.eq(status.as_str()),
                ))
                .execute(connection)?;
            touch_project(connection, &old.project_id)?;
            let mut changes = Vec::new();
            if title != old.title {
                changes.push(format!("renamed to \"{title}\""));
            }
            if status != old.status {
                changes.push(format!(
                    "status {} → {}",
                    old.status.as_str(),
                    status.as_str()
                ));
            }
            let summary = summarize(&changes);
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&organization_id),
                "task.updated",
                format!(
                    "Edited the task \"{}\" of the project \"{project_name}\": {summary}.",
                    old.title
                ),
            )?;
            Ok(Task {
                title,
                status,
                ..old
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(task))
}

/// Deletes a task (Owners, Admins, staff).
#[utoipa::path(
    tag = "collaboration",
    security(("access_token" = [])),
    params(("task_id" = String, Path, description = "The task's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ApiError),
        (status = 403, description = "Members may not manage projects", body = ApiError),
        (status = 404, description = "No such task in my organizations", body = ApiError),
    )
)]
#[delete("/tasks/{task_id}")]
pub async fn delete_task(
    user: CurrentUser,
    path: web::Path<String>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let task_id = path.into_inner();
    database
        .run_write(move |connection| {
            let (row, organization_id, project_name, access) =
                authorize_task(connection, &user.user_id, &task_id, Action::ManageProjects)?;
            diesel::delete(project_tasks::table.find(&task_id)).execute(connection)?;
            touch_project(connection, &row.1)?;
            audit::record_as(
                connection,
                &user.user_id,
                access.by_staff,
                Some(&organization_id),
                "task.deleted",
                format!(
                    "Deleted the task \"{}\" of the project \"{project_name}\".",
                    row.2
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_date_may_equal_but_not_precede_the_start_date() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d);
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
    fn text_is_trimmed_and_bounded() {
        assert_eq!(parse_text("  Plan  ", "title", 5).unwrap(), "Plan");
        assert!(parse_text("   ", "title", 5).is_err());
        assert!(parse_text("abcdef", "title", 5).is_err());
        assert!(parse_text("a\u{7}b", "title", 5).is_err());
    }
}
