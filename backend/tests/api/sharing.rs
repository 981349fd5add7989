//! Sharing: members see their organization's shared dashboards, Owners and Admins share and
//! stop sharing (audited), Members get 403, foreign ids and foreign DMSs answer 404.

use serde_json::json;
use stratus_shared::api::organizations::Role;
use stratus_shared::api::sharing::{OrganizationSharedDashboards, SharedDashboard};
use stratus_shared::ErrorCode;

use crate::helpers::{spawn_app, TestApp};
use crate::org_apps::{assert_error, audit_log, make_staff};

async fn share(
    app: &TestApp,
    token: &str,
    organization: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/organizations/{organization}/shared-dashboards"),
        &body,
    )
    .await
}

/// Shares a dashboard that must be accepted (201); returns it.
async fn shared_dashboard(
    app: &TestApp,
    token: &str,
    organization: &str,
    body: serde_json::Value,
) -> SharedDashboard {
    let response = share(app, token, organization, body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A dashboard to share on `system` (for requests expected to be refused).
fn a_dashboard_on(system: &str) -> serde_json::Value {
    json!({ "name": "x", "system_id": system, "shared_with": "x" })
}

async fn dashboards_of(app: &TestApp, token: &str, organization: &str) -> Vec<SharedDashboard> {
    app.read_as(
        token,
        &format!("/api/organizations/{organization}/shared-dashboards"),
    )
    .await
}

async fn my_dashboards(app: &TestApp, token: &str) -> Vec<OrganizationSharedDashboards> {
    app.read_as(token, "/api/shared-dashboards").await
}

#[tokio::test]
async fn owners_and_admins_share_dashboards_that_members_see() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@acme.example").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (system, _) = app
        .create_system(&owner, &organization, "Acme Headend")
        .await;
    let (admin_id, admin) = app.create_user("admin@acme.example").await;
    app.add_member(&organization, &admin_id, "admin").await;
    let (member_id, member) = app.create_user("member@acme.example").await;
    app.add_member(&organization, &member_id, "member").await;

    let shared = shared_dashboard(
        &app,
        &owner,
        &organization,
        json!({ "name": " Channel availability ", "system_id": system, "shared_with": "noc@partner.example" }),
    )
    .await;
    assert_eq!(shared.name, "Channel availability");
    assert_eq!(shared.system_name, "Acme Headend");
    assert_eq!(shared.created_by.as_deref(), Some("owner@acme.example"));
    let second = shared_dashboard(
        &app,
        &admin,
        &organization,
        json!({ "name": "Alarms", "system_id": system, "shared_with": "Everyone at Acme" }),
    )
    .await;

    let seen = dashboards_of(&app, &member, &organization).await;
    let names: Vec<_> = seen.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Alarms", "Channel availability"]);
    let grouped = my_dashboards(&app, &member).await;
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0].role, Role::Member);
    assert!(!grouped[0].can_manage);
    assert_eq!(grouped[0].dashboards, seen);
    assert!(my_dashboards(&app, &admin).await[0].can_manage);

    let response = share(
        &app,
        &member,
        &organization,
        json!({ "name": "Mine", "system_id": system, "shared_with": "me@example.com" }),
    )
    .await;
    assert_error(response, 403, ErrorCode::Forbidden).await;
    let response = app
        .delete_as(&member, &format!("/api/shared-dashboards/{}", shared.id))
        .await;
    assert_error(response, 403, ErrorCode::Forbidden).await;
    assert_eq!(dashboards_of(&app, &member, &organization).await.len(), 2);

    let response = app
        .delete_as(&admin, &format!("/api/shared-dashboards/{}", shared.id))
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        dashboards_of(&app, &member, &organization).await,
        vec![second]
    );

    let log = audit_log(&app, &organization).await;
    let actions: Vec<(&str, &str)> = log
        .iter()
        .rev()
        .filter(|entry| entry.action.starts_with("dashboard."))
        .map(|entry| (entry.action.as_str(), entry.actor_email.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("dashboard.shared", "owner@acme.example"),
            ("dashboard.shared", "admin@acme.example"),
            ("dashboard.unshared", "admin@acme.example"),
        ]
    );
    assert!(
        log[0].detail.contains("Channel availability"),
        "{}",
        log[0].detail
    );
}

#[tokio::test]
async fn foreign_organizations_and_their_dmss_answer_404() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@acme.example").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (system, _) = app
        .create_system(&owner, &organization, "Acme Headend")
        .await;
    let shared = shared_dashboard(
        &app,
        &owner,
        &organization,
        json!({ "name": "Secret board", "system_id": system, "shared_with": "x@y.example" }),
    )
    .await;

    let (_, outsider) = app.create_user("owner@globex.example").await;
    let own = app.create_organization(&outsider, "Globex").await;
    let (own_system, _) = app.create_system(&outsider, &own, "Globex DMS").await;
    let answers = [
        app.get_as(
            &outsider,
            &format!("/api/organizations/{organization}/shared-dashboards"),
        )
        .await,
        share(&app, &outsider, &organization, a_dashboard_on(&system)).await,
        // Sharing a DMS of another organization from one's own.
        share(&app, &outsider, &own, a_dashboard_on(&system)).await,
        share(&app, &outsider, &own, a_dashboard_on("no-such-dms")).await,
        app.delete_as(&outsider, &format!("/api/shared-dashboards/{}", shared.id))
            .await,
        app.delete_as(&outsider, "/api/shared-dashboards/no-such-id")
            .await,
    ];
    for response in answers {
        assert_error(response, 404, ErrorCode::NotFound).await;
    }
    let mine = my_dashboards(&app, &outsider).await;
    assert_eq!(mine.len(), 1);
    assert!(mine[0].dashboards.is_empty());
    shared_dashboard(
        &app,
        &outsider,
        &own,
        json!({ "name": "Ours", "system_id": own_system, "shared_with": "x@y.example" }),
    )
    .await;

    // A guest sees nothing, and staff have no access to other organizations' dashboards.
    let (guest_id, guest) = app.create_user("guest@example.com").await;
    assert!(my_dashboards(&app, &guest).await.is_empty());
    make_staff(&app, &guest_id).await;
    let response = app
        .get_as(
            &guest,
            &format!("/api/organizations/{organization}/shared-dashboards"),
        )
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;
    let response = app
        .delete_as(&guest, &format!("/api/shared-dashboards/{}", shared.id))
        .await;
    assert_error(response, 404, ErrorCode::NotFound).await;

    assert_eq!(
        dashboards_of(&app, &owner, &organization).await,
        vec![shared]
    );
}

#[tokio::test]
async fn bad_sharing_input_is_refused_clearly() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@acme.example").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (system, _) = app
        .create_system(&owner, &organization, "Acme Headend")
        .await;
    for body in [
        json!({ "name": "", "system_id": system, "shared_with": "x@y.example" }),
        json!({ "name": "x".repeat(101), "system_id": system, "shared_with": "x@y.example" }),
        json!({ "name": "Board", "system_id": system, "shared_with": "  " }),
        json!({ "name": "Board", "system_id": system, "shared_with": "x".repeat(501) }),
        json!({ "name": "Board", "system_id": system }),
    ] {
        let response = share(&app, &owner, &organization, body).await;
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }
    assert!(dashboards_of(&app, &owner, &organization).await.is_empty());
}
