//! `/collaboration`: Project Collaboration. The projects of each of my organizations with their
//! tasks; Owners, Admins and staff create and edit them, Members read; a guest gets an
//! explanation and no data.

use chrono::NaiveDate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use stratus_shared::api::collaboration::{
    CreateProject, CreateTask, OrganizationProjects, Project, ProjectStatus, Task, TaskStatus,
    UpdateProject, UpdateTask,
};

use crate::api;
use crate::changes::Changes;
use crate::components::feedback::{loaded, notice, EmptyState, Loading, StatusLine};
use crate::components::require_sign_in::RequireSignIn;
use crate::session::use_session;

/// What a person linked to no organization reads instead of projects.
pub const GUEST_EXPLANATION: &str = "Project Collaboration shows your organization's projects once your account is linked to an organization; ask your organization's admin or Skyline to link you.";

/// The Project Collaboration app (signed-in users).
#[component]
pub fn CollaborationPage() -> impl IntoView {
    view! {
        <RequireSignIn>
            <CollaborationApp />
        </RequireSignIn>
    }
}

#[component]
fn CollaborationApp() -> impl IntoView {
    let session = use_session();
    let changes = Changes::new();
    // Platform staff may look after every organization's projects, not only their own.
    let every_organization = RwSignal::new(false);
    let is_staff = move || session.account().is_some_and(|account| account.is_staff);
    let groups = LocalResource::new(move || {
        changes.version.track();
        let every = every_organization.get();
        async move { api::collaboration::projects(&session.token()?, every).await }
    });
    view! {
        <div class="page">
            <h1>"Project Collaboration"</h1>
            <p class="lead">"Your organization's projects with Skyline: status, dates and tasks."</p>
            <StatusLine message=changes.message test_id="app-message" />
            <Show when=is_staff>
                <label class="checkbox">
                    <input type="checkbox" data-testid="every-organization" bind:checked=every_organization />
                    " Every organization (platform staff)"
                </label>
            </Show>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    loaded(groups.await, move |groups| {
                        if groups.is_empty() {
                            view! { <EmptyState test_id="collaboration-guest" text=GUEST_EXPLANATION /> }
                                .into_any()
                        } else {
                            groups
                                .into_iter()
                                .map(|group| view! { <OrganizationProjectList group changes /> })
                                .collect_view()
                                .into_any()
                        }
                    })
                })}
            </Suspense>
        </div>
    }
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    raw.trim().parse().ok()
}

fn dates_text(start: Option<NaiveDate>, due: Option<NaiveDate>) -> String {
    match (start, due) {
        (None, None) => "No dates set".to_owned(),
        (Some(start), None) => format!("Starts {start}"),
        (None, Some(due)) => format!("Due {due}"),
        (Some(start), Some(due)) => format!("{start} to {due}"),
    }
}

#[component]
fn OrganizationProjectList(group: OrganizationProjects, changes: Changes) -> impl IntoView {
    let OrganizationProjects {
        organization_id,
        organization_name,
        can_manage,
        projects,
        ..
    } = group;
    let empty = projects.is_empty();
    view! {
        <section class="organization-projects" data-testid="organization-projects">
            <h2>{organization_name}</h2>
            {can_manage.then(|| view! { <NewProject organization_id=organization_id.clone() changes /> })}
            {empty.then(|| view! { <p class="muted">"No projects yet."</p> })}
            {projects
                .into_iter()
                .map(|project| view! { <ProjectCard project can_manage changes /> })
                .collect_view()}
        </section>
    }
}

#[component]
fn NewProject(organization_id: String, changes: Changes) -> impl IntoView {
    let organization_id = StoredValue::new(organization_id);
    let create = changes.action(
        move |token, project: CreateProject| async move {
            api::collaboration::create_project(&token, &organization_id.get_value(), &project).await
        },
        |_| notice("Project created."),
    );
    let name = RwSignal::new(String::new());
    let start = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let project = CreateProject {
            name: name.get_untracked(),
            status: Some(ProjectStatus::Planned),
            start_date: parse_date(&start.get_untracked()),
            due_date: parse_date(&due.get_untracked()),
        };
        name.set(String::new());
        create.dispatch(project);
    };
    let id = move |field: &str| format!("new-project-{field}-{}", organization_id.get_value());
    view! {
        <form class="inline-form" on:submit=submit data-testid="new-project">
            <label for=id("name")>"New project"</label>
            <input id=id("name") bind:value=name required=true maxlength="100" />
            <label for=id("start")>"Start"</label>
            <input id=id("start") type="date" bind:value=start />
            <label for=id("due")>"Due"</label>
            <input id=id("due") type="date" bind:value=due />
            <button type="submit" class="button">"Create"</button>
        </form>
    }
}

#[component]
fn ProjectCard(project: Project, can_manage: bool, changes: Changes) -> impl IntoView {
    let Project {
        id,
        name,
        status,
        start_date,
        due_date,
        tasks,
        ..
    } = project.clone();
    let project_id = StoredValue::new(id);
    let empty = tasks.is_empty();
    view! {
        <article class="project" data-testid="project">
            <header class="project-header">
                <h3>{name}</h3>
                <span class=format!("badge badge-{}", status.as_str())>{status.label()}</span>
            </header>
            <p class="muted">{dates_text(start_date, due_date)}</p>
            <ul class="tasks">
                {tasks
                    .into_iter()
                    .map(|task| view! { <TaskRow task can_manage changes /> })
                    .collect_view()}
            </ul>
            {empty.then(|| view! { <p class="muted">"No tasks yet."</p> })}
            {can_manage
                .then(|| {
                    view! {
                        <NewTask project_id changes />
                        <EditProject project changes />
                    }
                })}
        </article>
    }
}

#[component]
fn TaskRow(task: Task, can_manage: bool, changes: Changes) -> impl IntoView {
    let Task {
        id, title, status, ..
    } = task;
    let task_id = StoredValue::new(id);
    let update = changes.action(
        move |token, change: UpdateTask| async move {
            api::collaboration::update_task(&token, &task_id.get_value(), &change).await
        },
        |_| notice("Task updated."),
    );
    let remove = changes.action(
        move |token, ()| async move {
            api::collaboration::delete_task(&token, &task_id.get_value()).await
        },
        |()| notice("Task deleted."),
    );
    let change_status = move |value: String| {
        if let Some(status) = TaskStatus::parse(&value) {
            update.dispatch(UpdateTask {
                status: Some(status),
                ..Default::default()
            });
        }
    };
    let label = format!("Status of {title}");
    view! {
        <li class="task" data-testid="task">
            <span class="task-title">{title}</span>
            {if can_manage {
                view! {
                    <select aria-label=label on:change=move |event| change_status(event_target_value(&event))>
                        {TaskStatus::ALL
                            .map(|s| view! { <option value=s.as_str() selected=s == status>{s.label()}</option> })
                            .collect_view()}
                    </select>
                    <button type="button" class="button button-quiet" on:click=move |_| { remove.dispatch(()); }>"Delete"</button>
                }
                    .into_any()
            } else {
                view! { <span class=format!("badge badge-{}", status.as_str())>{status.label()}</span> }
                    .into_any()
            }}
        </li>
    }
}

#[component]
fn NewTask(project_id: StoredValue<String>, changes: Changes) -> impl IntoView {
    let title = RwSignal::new(String::new());
    let add = changes.action(
        move |token, task: CreateTask| async move {
            api::collaboration::create_task(&token, &project_id.get_value(), &task).await
        },
        |_| notice("Task added."),
    );
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        add.dispatch(CreateTask {
            title: title.get_untracked(),
            status: None,
        });
        title.set(String::new());
    };
    let id = format!("new-task-{}", project_id.get_value());
    view! {
        <form class="inline-form" on:submit=submit>
            <label for=id.clone()>"New task"</label>
            <input id=id bind:value=title required=true maxlength="200" />
            <button type="submit" class="button button-quiet">"Add task"</button>
        </form>
    }
}

#[component]
fn EditProject(project: Project, changes: Changes) -> impl IntoView {
    let project_id = StoredValue::new(project.id.clone());
    let save = changes.action(
        move |token, change: UpdateProject| async move {
            api::collaboration::update_project(&token, &project_id.get_value(), &change).await
        },
        |_| notice("Project saved."),
    );
    let remove = changes.action(
        move |token, ()| async move {
            api::collaboration::delete_project(&token, &project_id.get_value()).await
        },
        |()| notice("Project deleted."),
    );
    let name = RwSignal::new(project.name.clone());
    let current_status = project.status;
    let status = RwSignal::new(current_status.as_str().to_owned());
    let start = RwSignal::new(
        project
            .start_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let due = RwSignal::new(project.due_date.map(|d| d.to_string()).unwrap_or_default());
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        let change = UpdateProject {
            name: Some(name.get_untracked()),
            status: ProjectStatus::parse(&status.get_untracked()),
            start_date: Some(parse_date(&start.get_untracked())),
            due_date: Some(parse_date(&due.get_untracked())),
        };
        save.dispatch(change);
    };
    let id = move |field: &str| format!("edit-{field}-{}", project_id.get_value());
    view! {
        <details class="edit-project">
            <summary>"Edit project"</summary>
            <form class="inline-form" on:submit=submit>
                <label for=id("name")>"Name"</label>
                <input id=id("name") bind:value=name required=true maxlength="100" />
                <label for=id("status")>"Status"</label>
                <select id=id("status") bind:value=status>
                    {ProjectStatus::ALL
                        .map(|s| view! { <option value=s.as_str() selected=s == current_status>{s.label()}</option> })
                        .collect_view()}
                </select>
                <label for=id("start")>"Start"</label>
                <input id=id("start") type="date" bind:value=start />
                <label for=id("due")>"Due"</label>
                <input id=id("due") type="date" bind:value=due />
                <button type="submit" class="button">"Save"</button>
                <button type="button" class="button button-danger" on:click=move |_| { remove.dispatch(()); }>"Delete project"</button>
            </form>
        </details>
    }
}
