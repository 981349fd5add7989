//! A project's tasks: kept in order (`position`), each change touching its project and written
//! to the audit log.

use std::collections::HashMap;

use diesel::prelude::*;
use stratus_shared::api::collaboration::{CreateTask, Task, TaskStatus, UpdateTask};

use super::{summarize, touch, Editor, ProjectRecord};
use crate::db::schema::{project_tasks, projects};
use crate::db::AnyConnection;
use crate::domain::text::parse_text;
use crate::error::AppError;

pub use stratus_shared::text::TASK_TITLE_MAX;

/// A task as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = project_tasks)]
pub struct TaskRecord {
    pub id: String,
    pub project_id: String,
    pub title: String,
    /// `todo`, `in_progress` or `done` (the table's CHECK keeps other values out).
    pub status: String,
    pub position: i32,
}

impl TaskRecord {
    /// The task as the API shows it.
    pub fn into_task(self) -> Task {
        Task {
            status: TaskStatus::parse(&self.status).unwrap_or(TaskStatus::Todo),
            id: self.id,
            project_id: self.project_id,
            title: self.title,
            position: self.position,
        }
    }
}

/// A task with what its audit entries name of its project.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = project_tasks)]
pub struct TaskInProject {
    #[diesel(embed)]
    pub task: TaskRecord,
    #[diesel(select_expression = projects::organization_id)]
    pub organization_id: String,
    #[diesel(select_expression = projects::name)]
    pub project_name: String,
}

/// A new task, checked.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub title: String,
    pub status: TaskStatus,
}

impl NewTask {
    /// Reads a request to add a task.
    pub fn parse(raw: CreateTask) -> Result<Self, AppError> {
        Ok(Self {
            title: parse_text(&raw.title, "task title", TASK_TITLE_MAX)?,
            status: raw.status.unwrap_or(TaskStatus::Todo),
        })
    }
}

/// A change of a task, its title read.
#[derive(Debug, Clone)]
pub struct TaskChange(UpdateTask);

impl TaskChange {
    /// Reads a request to change a task: at least one field, a valid title.
    pub fn parse(raw: UpdateTask) -> Result<Self, AppError> {
        if raw == UpdateTask::default() {
            return Err(AppError::InvalidRequest(
                "Give at least one of title and status.".into(),
            ));
        }
        let title = raw
            .title
            .as_deref()
            .map(|title| parse_text(title, "task title", TASK_TITLE_MAX))
            .transpose()?;
        Ok(Self(UpdateTask { title, ..raw }))
    }
}

/// The stored task with this id and its project's organization and name, if there is one.
pub fn find(connection: &mut AnyConnection, task_id: &str) -> QueryResult<Option<TaskInProject>> {
    project_tasks::table
        .inner_join(projects::table)
        .filter(project_tasks::id.eq(task_id))
        .select(TaskInProject::as_select())
        .first(connection)
        .optional()
}

/// The tasks of the projects `project_ids`, in order, by project id.
pub fn of_projects(
    connection: &mut AnyConnection,
    project_ids: &[&String],
) -> QueryResult<HashMap<String, Vec<Task>>> {
    let records: Vec<TaskRecord> = project_tasks::table
        .filter(project_tasks::project_id.eq_any(project_ids))
        .order((project_tasks::position.asc(), project_tasks::id.asc()))
        .select(TaskRecord::as_select())
        .load(connection)?;
    let mut tasks: HashMap<String, Vec<Task>> = HashMap::new();
    for record in records {
        let of_project = tasks.entry(record.project_id.clone()).or_default();
        of_project.push(record.into_task());
    }
    Ok(tasks)
}

/// Writes a new task (checked already). No audit entry: the demo seeds through it too.
pub fn insert(connection: &mut AnyConnection, task: &Task) -> QueryResult<()> {
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

/// Adds a task at the end of `project` as `editor`.
pub fn add(
    connection: &mut AnyConnection,
    editor: Editor,
    project: ProjectRecord,
    new: NewTask,
) -> QueryResult<Task> {
    let last: Option<i32> = project_tasks::table
        .filter(project_tasks::project_id.eq(&project.id))
        .select(diesel::dsl::max(project_tasks::position))
        .first(connection)?;
    let task = Task {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project.id.clone(),
        title: new.title,
        status: new.status,
        position: last.unwrap_or(0) + 1,
    };
    insert(connection, &task)?;
    touch(connection, &project.id)?;
    let detail = format!(
        "Added the task \"{}\" to the project \"{}\".",
        task.title, project.name
    );
    editor.record(connection, &project.organization_id, "task.created", detail)?;
    Ok(task)
}

/// What an edit changed of a task, as the audit log says it.
fn changes(before: &Task, after: &Task) -> String {
    let mut changes = Vec::new();
    if after.title != before.title {
        changes.push(format!("renamed to \"{}\"", after.title));
    }
    if after.status != before.status {
        let (from, to) = (before.status.as_str(), after.status.as_str());
        changes.push(format!("status {from} → {to}"));
    }
    summarize(&changes)
}

/// Applies `change` to the task `found` as `editor`.
pub fn update(
    connection: &mut AnyConnection,
    editor: Editor,
    found: TaskInProject,
    TaskChange(change): TaskChange,
) -> QueryResult<Task> {
    let before = found.task.into_task();
    let after = Task {
        title: change.title.unwrap_or_else(|| before.title.clone()),
        status: change.status.unwrap_or(before.status),
        ..before.clone()
    };
    diesel::update(project_tasks::table.find(&before.id))
        .set((
            project_tasks::title.eq(&after.title),
            project_tasks::status.eq(after.status.as_str()),
        ))
        .execute(connection)?;
    touch(connection, &before.project_id)?;
    let detail = format!(
        "Edited the task \"{}\" of the project \"{}\": {}.",
        before.title,
        found.project_name,
        changes(&before, &after)
    );
    editor.record(connection, &found.organization_id, "task.updated", detail)?;
    Ok(after)
}

/// Deletes the task `found` as `editor`.
pub fn delete(
    connection: &mut AnyConnection,
    editor: Editor,
    found: TaskInProject,
) -> QueryResult<()> {
    diesel::delete(project_tasks::table.find(&found.task.id)).execute(connection)?;
    touch(connection, &found.task.project_id)?;
    let detail = format!(
        "Deleted the task \"{}\" of the project \"{}\".",
        found.task.title, found.project_name
    );
    editor.record(connection, &found.organization_id, "task.deleted", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_change_is_refused_and_a_new_title_is_read() {
        assert!(TaskChange::parse(UpdateTask::default()).is_err());
        let TaskChange(change) = TaskChange::parse(UpdateTask {
            title: Some(" Cable ".into()),
            ..UpdateTask::default()
        })
        .unwrap();
        assert_eq!(change.title.as_deref(), Some("Cable"));
        let long = "x".repeat(TASK_TITLE_MAX + 1);
        assert!(NewTask::parse(CreateTask {
            title: long,
            status: None
        })
        .is_err());
    }

    #[test]
    fn a_task_edit_lists_what_changed() {
        let before = Task {
            id: "t".into(),
            project_id: "p".into(),
            title: "Cable".into(),
            status: TaskStatus::Todo,
            position: 1,
        };
        let after = Task {
            status: TaskStatus::InProgress,
            ..before.clone()
        };
        assert_eq!(changes(&before, &before), "nothing changed");
        assert_eq!(changes(&before, &after), "status todo → in_progress");
    }
}
