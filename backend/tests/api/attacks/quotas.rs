//! Quotas: creating in a loop stops at the configured limit with 409 `limit_reached`, for
//! every tenant on its own, also when the creations race; removing one makes room again.

use serde_json::json;
use stratus_shared::api::members::PendingInvitation;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app_with, TestApp};

async fn assert_limit_reached(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), 409, "{what}");
    let error: ApiError = response.json().await.expect("an ApiError body");
    assert_eq!(error.code, ErrorCode::LimitReached, "{what}");
    assert!(
        error.message.contains("the most this portal allows"),
        "{what}: {}",
        error.message
    );
}

async fn create_project(
    app: &TestApp,
    token: &str,
    organization: &str,
    name: &str,
) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/organizations/{organization}/projects"),
        &json!({ "name": name }),
    )
    .await
}

async fn create_task(app: &TestApp, token: &str, project: &str, title: &str) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/projects/{project}/tasks"),
        &json!({ "title": title }),
    )
    .await
}

#[tokio::test]
async fn an_account_cannot_create_or_join_organizations_past_its_quota() {
    let app = spawn_app_with(|settings| settings.organizations_per_account = 2).await;
    let (_, owner) = app.create_verified_user("many@example.com").await;
    let first = app.create_organization(&owner, "One").await;
    app.create_organization(&owner, "Two").await;
    let third = app
        .post_json(
            Some(&owner),
            "/api/organizations",
            &json!({ "name": "Three" }),
        )
        .await;
    assert_limit_reached(third, "a third organization").await;
    let mine: Vec<serde_json::Value> = app.read_as(&owner, "/api/organizations").await;
    assert_eq!(mine.len(), 2, "the refused creation left nothing behind");

    // An invitation counts too: accepting it would be a third membership.
    let (_, inviter) = app.create_verified_user("inviter@example.com").await;
    let elsewhere = app.create_organization(&inviter, "Elsewhere").await;
    let invited = app
        .post_json(
            Some(&inviter),
            &format!("/api/organizations/{elsewhere}/members"),
            &json!({ "email": "many@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let pending: Vec<PendingInvitation> = app.read_as(&owner, "/api/me/invitations").await;
    let accept = format!("/api/me/invitations/{}/accept", pending[0].id);
    let refused = app.post_json(Some(&owner), &accept, &json!({})).await;
    assert_limit_reached(refused, "accepting an invitation").await;
    let still: Vec<PendingInvitation> = app.read_as(&owner, "/api/me/invitations").await;
    assert_eq!(still.len(), 1, "the refused invitation still waits");

    // Leaving one makes room.
    let me: serde_json::Value = app.read_as(&owner, "/api/me").await;
    let my_id = me["id"].as_str().expect("my id").to_owned();
    let (_, co_owner) = app.create_verified_user("co-owner@example.com").await;
    let co_owner_id: serde_json::Value = app.read_as(&co_owner, "/api/me").await;
    app.add_member(&first, co_owner_id["id"].as_str().unwrap(), "owner")
        .await;
    let left = app
        .delete_as(
            &owner,
            &format!("/api/organizations/{first}/members/{my_id}"),
        )
        .await;
    assert_eq!(left.status(), 204);
    let accepted = app.post_json(Some(&owner), &accept, &json!({})).await;
    assert_eq!(accepted.status(), 204);
}

#[tokio::test]
async fn an_organization_cannot_register_dmss_past_its_quota_and_others_are_unaffected() {
    let app = spawn_app_with(|settings| settings.systems_per_organization = 2).await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Full").await;
    let (first, _) = app.create_system(&owner, &organization, "DMS 1").await;
    app.create_system(&owner, &organization, "DMS 2").await;
    let path = format!("/api/organizations/{organization}/systems");
    let third = app
        .post_json(Some(&owner), &path, &json!({ "name": "DMS 3" }))
        .await;
    assert_limit_reached(third, "a third DMS").await;

    // Another tenant's quota is its own.
    let (_, neighbour) = app.create_verified_user("neighbour@example.com").await;
    let other = app.create_organization(&neighbour, "Neighbour").await;
    app.create_system(&neighbour, &other, "DMS 1").await;
    app.create_system(&neighbour, &other, "DMS 2").await;

    let removed = app
        .delete_as(&owner, &format!("/api/systems/{first}"))
        .await;
    assert_eq!(removed.status(), 204);
    app.create_system(&owner, &organization, "DMS 3").await;
}

#[tokio::test]
async fn projects_tasks_and_shared_dashboards_stop_at_their_quotas() {
    let app = spawn_app_with(|settings| {
        settings.projects_per_organization = 1;
        settings.tasks_per_project = 2;
        settings.dashboards_per_organization = 1;
    })
    .await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Projects").await;
    let created = create_project(&app, &owner, &organization, "Only").await;
    assert_eq!(created.status(), 201);
    let project: serde_json::Value = created.json().await.unwrap();
    let project = project["id"].as_str().expect("a project id").to_owned();
    let second = create_project(&app, &owner, &organization, "Second").await;
    assert_limit_reached(second, "a second project").await;

    for title in ["One", "Two"] {
        assert_eq!(
            create_task(&app, &owner, &project, title).await.status(),
            201
        );
    }
    let third = create_task(&app, &owner, &project, "Three").await;
    assert_limit_reached(third, "a third task").await;

    let (system, _) = app.create_system(&owner, &organization, "DMS").await;
    let share = |name: &'static str| {
        let (app, owner, organization, system) = (&app, &owner, &organization, &system);
        async move {
            app.post_json(
                Some(owner),
                &format!("/api/organizations/{organization}/shared-dashboards"),
                &json!({ "name": name, "system_id": system, "shared_with": "Operations" }),
            )
            .await
        }
    };
    assert_eq!(share("Alarms").await.status(), 201);
    assert_limit_reached(share("Trends").await, "a second shared dashboard").await;
}

/// The count and the creation share one transaction behind the parent row's lock, so a burst
/// of parallel creations ends at the limit exactly, on SQLite and on PostgreSQL.
#[tokio::test]
async fn parallel_registrations_cannot_pass_the_quota_together() {
    let app = spawn_app_with(|settings| settings.systems_per_organization = 3).await;
    let (_, owner) = app.create_verified_user("racer@example.com").await;
    let organization = app.create_organization(&owner, "Race").await;
    let path = format!("/api/organizations/{organization}/systems");
    let attempts = (0..12).map(|index| {
        let (app, owner, path) = (&app, &owner, &path);
        async move {
            app.post_json(
                Some(owner),
                path,
                &json!({ "name": format!("DMS {index}") }),
            )
            .await
            .status()
            .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let created = statuses.iter().filter(|status| **status == 201).count();
    let refused = statuses.iter().filter(|status| **status == 409).count();
    assert_eq!((created, refused), (3, 9), "{statuses:?}");
    let listed: Vec<serde_json::Value> = app.read_as(&owner, "/api/systems").await;
    assert_eq!(listed.len(), 3);
}

#[tokio::test]
async fn pending_invitations_stop_at_their_quota_and_withdrawing_one_makes_room() {
    let app = spawn_app_with(|settings| settings.pending_invitations_per_organization = 2).await;
    let (_, owner) = app.create_verified_user("inviter@example.com").await;
    let organization = app.create_organization(&owner, "Inviting").await;
    let path = format!("/api/organizations/{organization}/members");
    let invite = |email: &'static str| {
        let (app, owner, path) = (&app, &owner, &path);
        async move {
            app.post_json(
                Some(owner),
                path,
                &json!({ "email": email, "role": "member" }),
            )
            .await
        }
    };
    assert_eq!(invite("one@example.com").await.status(), 201);
    let second = invite("two@example.com").await;
    assert_eq!(second.status(), 201);
    let second: serde_json::Value = second.json().await.unwrap();
    assert_limit_reached(invite("three@example.com").await, "a third invitation").await;

    let withdrawn = app
        .delete_as(
            &owner,
            &format!(
                "/api/organizations/{organization}/invitations/{}",
                second["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(withdrawn.status(), 204);
    assert_eq!(invite("three@example.com").await.status(), 201);
}
