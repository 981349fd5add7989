//! Project Collaboration: projects and their tasks.

use stratus_shared::api::collaboration::{
    CreateProject, CreateTask, OrganizationProjects, Project, Task, UpdateProject, UpdateTask,
};

use super::http::{delete, get, patch, post};
use super::ApiFailure;

/// The projects of all my organizations, grouped by organization (empty for a guest); with
/// `every_organization` (platform staff only), of every organization.
pub async fn projects(
    access_token: &str,
    every_organization: bool,
) -> Result<Vec<OrganizationProjects>, ApiFailure> {
    let path = if every_organization {
        "/api/projects?every_organization=true"
    } else {
        "/api/projects"
    };
    get(path, Some(access_token)).await
}

pub async fn create_project(
    access_token: &str,
    organization_id: &str,
    project: &CreateProject,
) -> Result<Project, ApiFailure> {
    post(
        &format!("/api/organizations/{organization_id}/projects"),
        project,
        Some(access_token),
    )
    .await
}

pub async fn update_project(
    access_token: &str,
    project_id: &str,
    change: &UpdateProject,
) -> Result<Project, ApiFailure> {
    patch(&format!("/api/projects/{project_id}"), change, access_token).await
}

pub async fn delete_project(access_token: &str, project_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/projects/{project_id}"), access_token).await
}

pub async fn create_task(
    access_token: &str,
    project_id: &str,
    task: &CreateTask,
) -> Result<Task, ApiFailure> {
    post(
        &format!("/api/projects/{project_id}/tasks"),
        task,
        Some(access_token),
    )
    .await
}

pub async fn update_task(
    access_token: &str,
    task_id: &str,
    change: &UpdateTask,
) -> Result<Task, ApiFailure> {
    patch(&format!("/api/tasks/{task_id}"), change, access_token).await
}

pub async fn delete_task(access_token: &str, task_id: &str) -> Result<(), ApiFailure> {
    delete(&format!("/api/tasks/{task_id}"), access_token).await
}
