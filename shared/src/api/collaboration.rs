//! Project Collaboration: an organization's projects and their tasks.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::organizations::Role;

/// Where a project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Planned,
    Active,
    OnHold,
    Done,
}

impl ProjectStatus {
    /// Every status, in the order a project usually goes through them.
    pub const ALL: [ProjectStatus; 4] = [
        ProjectStatus::Planned,
        ProjectStatus::Active,
        ProjectStatus::OnHold,
        ProjectStatus::Done,
    ];

    /// The status as stored and sent (`on_hold`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "planned",
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on_hold",
            ProjectStatus::Done => "done",
        }
    }

    /// Reads the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The status as people read it.
    pub fn label(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "Planned",
            ProjectStatus::Active => "Active",
            ProjectStatus::OnHold => "On hold",
            ProjectStatus::Done => "Done",
        }
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

impl TaskStatus {
    /// Every status, from open to finished.
    pub const ALL: [TaskStatus; 3] = [TaskStatus::Todo, TaskStatus::InProgress, TaskStatus::Done];

    /// The status as stored and sent (`in_progress`).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Todo => "todo",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
        }
    }

    /// Reads the stored form.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The status as people read it.
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Todo => "To do",
            TaskStatus::InProgress => "In progress",
            TaskStatus::Done => "Done",
        }
    }
}

/// One task of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub status: TaskStatus,
    /// Order within the project, from 1; new tasks go last.
    pub position: i32,
}

/// A project of an organization, with its tasks in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub status: ProjectStatus,
    pub start_date: Option<NaiveDate>,
    /// Never before `start_date`.
    pub due_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tasks: Vec<Task>,
}

/// The projects of one of my organizations (`GET /api/projects`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationProjects {
    pub organization_id: String,
    pub organization_name: String,
    /// My role in the organization; `None` when I see it only as platform staff.
    pub role: Option<Role>,
    /// Whether I may create, edit and delete its projects and tasks.
    pub can_manage: bool,
    pub projects: Vec<Project>,
}

/// `POST /api/organizations/{organization_id}/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProject {
    /// 1–100 characters, trimmed.
    pub name: String,
    /// `planned` when left out.
    #[serde(default)]
    pub status: Option<ProjectStatus>,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Not before `start_date`.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

/// `PATCH /api/projects/{project_id}`: the fields given change, the others stay. A date
/// given as `null` is cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProjectStatus>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub start_date: Option<Option<NaiveDate>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub due_date: Option<Option<NaiveDate>>,
}

/// Tells a field given as `null` (`Some(None)`: clear it) from a field left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /api/projects/{project_id}/tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTask {
    /// 1–200 characters, trimmed.
    pub title: String,
    /// `todo` when left out.
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

/// `PATCH /api/tasks/{task_id}`: the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateTask {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_form() {
        for status in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        for status in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(ProjectStatus::parse("cancelled"), None);
    }

    #[test]
    fn a_patch_tells_a_cleared_date_from_a_missing_one() {
        let cleared: UpdateProject = serde_json::from_str(r#"{"due_date": null}"#).unwrap();
        assert_eq!(cleared.due_date, Some(None));
        assert_eq!(cleared.start_date, None);
        let set: UpdateProject = serde_json::from_str(r#"{"start_date": "2026-12-01"}"#).unwrap();
        assert_eq!(set.start_date, Some(NaiveDate::from_ymd_opt(2026, 12, 1)));
    }
}
