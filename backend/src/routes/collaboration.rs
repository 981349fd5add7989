//! Project Collaboration: an organization's projects and their tasks. Every member reads them;
//! Owners, Admins and platform staff create, edit and delete them, each change in the audit
//! log. A project or task of an organization the caller may not see answers 404.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use stratus_shared::api::collaboration::{
    CreateProject, CreateTask, OrganizationProjects, Project, Task, UpdateProject, UpdateTask,
};
use stratus_shared::ApiError;

use crate::auth::access::{authorize_or_staff, authorize_or_staff_for, my_organizations_allowing};
use crate::auth::permissions::{allows_staff, Action};
use crate::auth::CurrentUser;
use crate::db::{AnyConnection, Database};
use crate::domain::accounts;
use crate::domain::projects::tasks::{self, NewTask, TaskChange, TaskInProject};
use crate::domain::projects::{self, Editor, NewProject, ProjectChange, ProjectRecord};
use crate::domain::quotas::{Counted, Quotas};
use crate::error::AppError;
use crate::json_body::JsonObject;
use crate::state::AppState;

/// A project the caller may manage (Owners, Admins, staff), else 404 as if it did not exist
/// (or 403 for a member whose role does not allow it).
fn authorize_project<'a>(
    connection: &mut AnyConnection,
    user_id: &'a str,
    project_id: &str,
) -> Result<(ProjectRecord, Editor<'a>), AppError> {
    let no_such_project = || AppError::NotFound("There is no such project.".into());
    let project = projects::find_record(connection, project_id)?.ok_or_else(no_such_project)?;
    let access = authorize_or_staff_for(
        connection,
        user_id,
        &project.organization_id,
        Action::ManageProjects,
        no_such_project,
    )?;
    Ok((project, Editor::new(user_id, access)))
}

/// A task the caller may manage, like [`authorize_project`] for its project.
fn authorize_task<'a>(
    connection: &mut AnyConnection,
    user_id: &'a str,
    task_id: &str,
) -> Result<(TaskInProject, Editor<'a>), AppError> {
    let no_such_task = || AppError::NotFound("There is no such task.".into());
    let task = tasks::find(connection, task_id)?.ok_or_else(no_such_task)?;
    let access = authorize_or_staff_for(
        connection,
        user_id,
        &task.organization_id,
        Action::ManageProjects,
        no_such_task,
    )?;
    Ok((task, Editor::new(user_id, access)))
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
            let is_staff = accounts::is_staff(connection, &user.user_id)?;
            if every_organization && !(is_staff && allows_staff(Action::ViewProjects)) {
                return Err(AppError::Forbidden(
                    "Only platform staff see every organization's projects.".into(),
                ));
            }
            let viewer = projects::Viewer {
                mine: my_organizations_allowing(connection, &user.user_id, Action::ViewProjects)?,
                every_organization,
                staff_may_manage: is_staff && allows_staff(Action::ManageProjects),
            };
            Ok(projects::grouped(connection, viewer)?)
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
            let action = Action::ViewProjects;
            authorize_or_staff(connection, &user.user_id, &organization_id, action)?;
            Ok(projects::of_organizations(connection, &[organization_id])?)
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
        (status = 409, description = "The organization has as many projects as the portal allows", body = ApiError),
    )
)]
#[post("/organizations/{organization_id}/projects")]
pub async fn create_project(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<CreateProject>,
    database: web::Data<Database>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let organization_id = path.into_inner();
    let new = NewProject::parse(body.into_inner())?;
    let quotas = Quotas::from_settings(&state.settings);
    let project = database
        .run_write(move |connection| {
            let action = Action::ManageProjects;
            let access = authorize_or_staff(connection, &user.user_id, &organization_id, action)?;
            quotas.ensure_room(connection, Counted::ProjectsOf(&organization_id))?;
            let editor = Editor::new(&user.user_id, access);
            Ok(projects::create(connection, editor, &organization_id, new)?)
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
    body: JsonObject<UpdateProject>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let project_id = path.into_inner();
    let change = ProjectChange::parse(body.into_inner())?;
    let project = database
        .run_write(move |connection| {
            let (project, editor) = authorize_project(connection, &user.user_id, &project_id)?;
            projects::update(connection, editor, project, change)
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
            let (project, editor) = authorize_project(connection, &user.user_id, &project_id)?;
            Ok(projects::delete(connection, editor, project)?)
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
        (status = 409, description = "The project has as many tasks as the portal allows", body = ApiError),
    )
)]
#[post("/projects/{project_id}/tasks")]
pub async fn create_task(
    user: CurrentUser,
    path: web::Path<String>,
    body: JsonObject<CreateTask>,
    database: web::Data<Database>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let project_id = path.into_inner();
    let new = NewTask::parse(body.into_inner())?;
    let quotas = Quotas::from_settings(&state.settings);
    let task = database
        .run_write(move |connection| {
            let (project, editor) = authorize_project(connection, &user.user_id, &project_id)?;
            quotas.ensure_room(connection, Counted::TasksOf(&project.id))?;
            Ok(tasks::add(connection, editor, project, new)?)
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
    body: JsonObject<UpdateTask>,
    database: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let task_id = path.into_inner();
    let change = TaskChange::parse(body.into_inner())?;
    let task = database
        .run_write(move |connection| {
            let (task, editor) = authorize_task(connection, &user.user_id, &task_id)?;
            Ok(tasks::update(connection, editor, task, change)?)
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
            let (task, editor) = authorize_task(connection, &user.user_id, &task_id)?;
            Ok(tasks::delete(connection, editor, task)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
