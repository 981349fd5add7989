//! Project Collaboration: members read, Owners and Admins (and staff) manage, Members get 403,
//! a foreign organization's ids answer 404, guests see nothing, every change is audited.

use serde_json::json;
use stratus_shared::api::collaboration::{
    OrganizationProjects, Project, ProjectStatus, Task, TaskStatus,
};
use stratus_shared::api::organizations::Role;
use stratus_shared::ErrorCode;

use crate::helpers::{spawn_app, TestApp};
use crate::org_apps::{assert_error, audit_log, make_staff};

async fn create_project(
    app: &TestApp,
    token: &str,
    organization: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/organizations/{organization}/projects"),
        &body,
    )
    .await
}

async fn project_in(app: &TestApp, token: &str, organization: &str, name: &str) -> Project {
    let response = create_project(app, token, organization, json!({ "name": name })).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn task_in(app: &TestApp, token: &str, project: &str, title: &str) -> Task {
    let response = app
        .post_json(
            Some(token),
            &format!("/api/projects/{project}/tasks"),
            &json!({ "title": title }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn projects_of(app: &TestApp, token: &str, organization: &str) -> Vec<Project> {
    app.read_as(
        token,
        &format!("/api/organizations/{organization}/projects"),
    )
    .await
}

async fn my_projects(app: &TestApp, token: &str) -> Vec<OrganizationProjects> {
    app.read_as(token, "/api/projects").await
}

/// Tries every write of Project Collaboration as `token`: create a project in `organization`,
/// edit and delete `project`, add a task to it, edit and delete `task`; returns the answers.
async fn every_write(
    app: &TestApp,
    token: &str,
    organization: &str,
    project: &str,
    task: &str,
) -> Vec<reqwest::Response> {
    vec![
        create_project(app, token, organization, json!({ "name": "Mine" })).await,
        app.patch_as(
            token,
            &format!("/api/projects/{project}"),
            json!({ "status": "done" }),
        )
        .await,
        app.delete_as(token, &format!("/api/projects/{project}"))
            .await,
        app.post_json(
            Some(token),
            &format!("/api/projects/{project}/tasks"),
            &json!({ "title": "x" }),
        )
        .await,
        app.patch_as(
            token,
            &format!("/api/tasks/{task}"),
            json!({ "status": "done" }),
        )
        .await,
        app.delete_as(token, &format!("/api/tasks/{task}")).await,
    ]
}

/// An organization with an Owner, an Admin and a Member; returns their tokens and its id.
async fn organization_with_roles(app: &TestApp, name: &str) -> (String, String, String, String) {
    let (_, owner) = app.create_user(&format!("owner@{name}.example")).await;
    let organization = app.create_organization(&owner, name).await;
    let (admin_id, admin) = app.create_user(&format!("admin@{name}.example")).await;
    app.add_member(&organization, &admin_id, "admin").await;
    let (member_id, member) = app.create_user(&format!("member@{name}.example")).await;
    app.add_member(&organization, &member_id, "member").await;
    (organization, owner, admin, member)
}

#[tokio::test]
async fn owners_and_admins_manage_projects_that_members_read() {
    let app = spawn_app().await;
    let (organization, owner, admin, member) = organization_with_roles(&app, "acme").await;

    let response = create_project(
        &app,
        &owner,
        &organization,
        json!({ "name": "  IP migration ", "status": "active", "start_date": "2026-12-01", "due_date": "2027-02-28" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let project: Project = response.json().await.unwrap();
    assert_eq!(project.name, "IP migration");
    assert_eq!(project.status, ProjectStatus::Active);
    assert_eq!(project.start_date.unwrap().to_string(), "2026-12-01");
    assert_eq!(project.due_date.unwrap().to_string(), "2027-02-28");

    let first = task_in(&app, &admin, &project.id, "Inventory the routes").await;
    let second = task_in(&app, &admin, &project.id, "Move ten channels").await;
    assert_eq!((first.position, second.position), (1, 2));
    assert_eq!(first.status, TaskStatus::Todo);
    let response = app
        .patch_as(
            &admin,
            &format!("/api/tasks/{}", first.id),
            json!({ "status": "in_progress" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let changed: Task = response.json().await.unwrap();
    assert_eq!(changed.status, TaskStatus::InProgress);
    assert_eq!(changed.title, "Inventory the routes");

    // A Member reads everything, in order, and may change nothing.
    let seen = projects_of(&app, &member, &organization).await;
    assert_eq!(seen.len(), 1);
    let titles: Vec<_> = seen[0].tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Inventory the routes", "Move ten channels"]);
    assert_eq!(seen[0].tasks[0].status, TaskStatus::InProgress);
    let grouped = my_projects(&app, &member).await;
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0].organization_name, "acme");
    assert_eq!(grouped[0].role, Some(Role::Member));
    assert!(!grouped[0].can_manage);
    assert_eq!(grouped[0].projects, seen);
    assert!(my_projects(&app, &admin).await[0].can_manage);

    let refused = every_write(&app, &member, &organization, &project.id, &first.id).await;
    for response in refused {
        assert_error(response, 403, ErrorCode::Forbidden).await;
    }
    assert_eq!(projects_of(&app, &member, &organization).await, seen);

    // The Owner edits; a date sent as null is cleared.
    let response = app
        .patch_as(
            &owner,
            &format!("/api/projects/{}", project.id),
            json!({ "name": "IP migration phase 1", "status": "on_hold", "due_date": null }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let edited: Project = response.json().await.unwrap();
    assert_eq!(edited.name, "IP migration phase 1");
    assert_eq!(edited.status, ProjectStatus::OnHold);
    assert_eq!(edited.start_date, project.start_date);
    assert_eq!(edited.due_date, None);
    assert_eq!(edited.tasks.len(), 2);

    let response = app
        .delete_as(&admin, &format!("/api/tasks/{}", second.id))
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        projects_of(&app, &member, &organization).await[0]
            .tasks
            .len(),
        1
    );
    let response = app
        .delete_as(&owner, &format!("/api/projects/{}", project.id))
        .await;
    assert_eq!(response.status(), 204);
    assert!(projects_of(&app, &member, &organization).await.is_empty());
    let response = app
        .patch_as(
            &owner,
            &format!("/api/tasks/{}", first.id),
            json!({ "title": "gone" }),
        )
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;

    // Every change is in the audit log, by who made it, none as staff.
    let log = audit_log(&app, &organization).await;
    let actions: Vec<(&str, &str)> = log
        .iter()
        .rev()
        .filter(|entry| entry.action.starts_with("project.") || entry.action.starts_with("task."))
        .map(|entry| (entry.action.as_str(), entry.actor_email.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("project.created", "owner@acme.example"),
            ("task.created", "admin@acme.example"),
            ("task.created", "admin@acme.example"),
            ("task.updated", "admin@acme.example"),
            ("project.updated", "owner@acme.example"),
            ("task.deleted", "admin@acme.example"),
            ("project.deleted", "owner@acme.example"),
        ]
    );
    assert!(log.iter().all(|entry| !entry.by_staff));
    let updated = log.iter().find(|e| e.action == "project.updated").unwrap();
    assert!(updated.detail.contains("on_hold"), "{}", updated.detail);
}

#[tokio::test]
async fn a_foreign_organizations_projects_answer_404_on_every_path() {
    let app = spawn_app().await;
    let (organization, owner, _, _) = organization_with_roles(&app, "acme").await;
    let project = project_in(&app, &owner, &organization, "Secret plan").await;
    let task = task_in(&app, &owner, &project.id, "Secret task").await;
    let (_, outsider) = app.create_user("owner@globex.example").await;
    let own = app.create_organization(&outsider, "Globex").await;

    let mut answers = vec![
        app.get_as(
            &outsider,
            &format!("/api/organizations/{organization}/projects"),
        )
        .await,
    ];
    answers.extend(every_write(&app, &outsider, &organization, &project.id, &task.id).await);
    // Ids that exist nowhere answer the same.
    answers.push(
        app.get_as(&outsider, "/api/organizations/no-such-id/projects")
            .await,
    );
    answers.push(app.delete_as(&outsider, "/api/projects/no-such-id").await);
    for response in answers {
        assert_error(response, 404, ErrorCode::NotFound).await;
    }
    let mine = my_projects(&app, &outsider).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].organization_id, own);
    assert!(mine[0].projects.is_empty());
    // Nothing changed.
    let still = projects_of(&app, &owner, &organization).await;
    assert_eq!(still.len(), 1);
    assert_eq!(still[0].name, "Secret plan");
    assert_eq!(still[0].tasks.len(), 1);
}

#[tokio::test]
async fn a_guest_sees_no_projects_at_all() {
    let app = spawn_app().await;
    let (organization, owner, _, _) = organization_with_roles(&app, "acme").await;
    let project = project_in(&app, &owner, &organization, "Secret plan").await;
    let (_, guest) = app.create_user("guest@example.com").await;

    assert!(my_projects(&app, &guest).await.is_empty());
    let response = app
        .get_as(
            &guest,
            &format!("/api/organizations/{organization}/projects"),
        )
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;
    let response = app
        .delete_as(&guest, &format!("/api/projects/{}", project.id))
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;
    let response = app.get("/api/projects").await;
    assert_error(response, 401, ErrorCode::Unauthorized).await;
}

#[tokio::test]
async fn staff_may_look_after_any_organizations_projects() {
    let app = spawn_app().await;
    let (organization, owner, _, _) = organization_with_roles(&app, "acme").await;
    let project = project_in(&app, &owner, &organization, "Headend refresh").await;
    let (staff_id, staff) = app.create_user("support@skyline.example").await;

    // Before being staff, an outsider like any other.
    let response = app
        .get_as(
            &staff,
            &format!("/api/organizations/{organization}/projects"),
        )
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;
    let response = app
        .get_as(&staff, "/api/projects?every_organization=true")
        .await;
    assert_error(response, 403, ErrorCode::Forbidden).await;
    make_staff(&app, &staff_id).await;

    // As staff, the page can list every organization, with no role of theirs in it.
    let every: Vec<OrganizationProjects> = app
        .read_as(&staff, "/api/projects?every_organization=true")
        .await;
    assert_eq!(every.len(), 1);
    assert_eq!(every[0].organization_id, organization);
    assert_eq!(every[0].role, None);
    assert!(every[0].can_manage);
    assert_eq!(every[0].projects.len(), 1);

    assert_eq!(projects_of(&app, &staff, &organization).await.len(), 1);
    let response = create_project(
        &app,
        &staff,
        &organization,
        json!({ "name": "Upgrade to 10.5" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Project = response.json().await.unwrap();
    let task = task_in(&app, &staff, &created.id, "Check the release notes").await;
    let response = app
        .patch_as(
            &staff,
            &format!("/api/tasks/{}", task.id),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .patch_as(
            &staff,
            &format!("/api/projects/{}", project.id),
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .delete_as(&staff, &format!("/api/projects/{}", created.id))
        .await;
    assert_eq!(response.status(), 204);
    // Staff still see only their own organizations on their page, and unknown ids stay 404.
    assert!(my_projects(&app, &staff).await.is_empty());
    let response = app
        .get_as(&staff, "/api/organizations/no-such-id/projects")
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;

    let log = audit_log(&app, &organization).await;
    let by_staff: Vec<&str> = log
        .iter()
        .rev()
        .filter(|entry| entry.by_staff)
        .map(|entry| entry.action.as_str())
        .collect();
    assert_eq!(
        by_staff,
        [
            "project.created",
            "task.created",
            "task.updated",
            "project.updated",
            "project.deleted"
        ]
    );
    assert!(log
        .iter()
        .filter(|entry| entry.by_staff)
        .all(|entry| entry.actor_email == "support@skyline.example"));
    assert!(log
        .iter()
        .any(|entry| entry.action == "project.created" && !entry.by_staff));
}

#[tokio::test]
async fn bad_project_and_task_input_is_refused_clearly() {
    let app = spawn_app().await;
    let (organization, owner, _, _) = organization_with_roles(&app, "acme").await;
    let project = project_in(&app, &owner, &organization, "Plan").await;
    let task = task_in(&app, &owner, &project.id, "Step").await;

    let long = "x".repeat(101);
    for body in [
        json!({ "name": "   " }),
        json!({ "name": long }),
        json!({ "name": "Plan", "status": "cancelled" }),
        json!({ "name": "Plan", "start_date": "not a date" }),
        json!({}),
    ] {
        let response = create_project(&app, &owner, &organization, body.clone()).await;
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }
    let response = create_project(
        &app,
        &owner,
        &organization,
        json!({ "name": "Backwards", "start_date": "2026-12-10", "due_date": "2026-12-09" }),
    )
    .await;
    let message = assert_error(response, 400, ErrorCode::InvalidRequest).await;
    assert!(message.contains("due date"), "{message}");
    // The same start and due day is fine.
    let response = create_project(
        &app,
        &owner,
        &organization,
        json!({ "name": "One day", "start_date": "2026-12-10", "due_date": "2026-12-10" }),
    )
    .await;
    assert_eq!(response.status(), 201);

    // A patch is checked against the dates the project keeps.
    let path = format!("/api/projects/{}", project.id);
    assert_eq!(
        app.patch_as(&owner, &path, json!({ "start_date": "2027-01-10" }))
            .await
            .status(),
        200
    );
    let response = app
        .patch_as(&owner, &path, json!({ "due_date": "2027-01-09" }))
        .await;
    let message = assert_error(response, 400, ErrorCode::InvalidRequest).await;
    assert!(message.contains("due date"), "{message}");
    for body in [
        json!({}),
        json!({ "name": "" }),
        json!({ "status": "paused" }),
    ] {
        let response = app.patch_as(&owner, &path, body).await;
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }

    let tasks = format!("/api/projects/{}/tasks", project.id);
    for body in [
        json!({ "title": "" }),
        json!({ "title": "x".repeat(201) }),
        json!({ "title": "ok", "status": "blocked" }),
    ] {
        let response = app.post_json(Some(&owner), &tasks, &body).await;
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }
    let response = app
        .patch_as(&owner, &format!("/api/tasks/{}", task.id), json!({}))
        .await;
    assert_error(response, 400, ErrorCode::InvalidRequest).await;

    // Nothing refused was stored.
    let stored = projects_of(&app, &owner, &organization).await;
    let names: Vec<_> = stored.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["One day", "Plan"]);
    let plan = stored.iter().find(|p| p.name == "Plan").unwrap();
    assert_eq!(plan.start_date.unwrap().to_string(), "2027-01-10");
    assert_eq!(plan.due_date, None);
    assert_eq!(plan.tasks.len(), 1);
}
