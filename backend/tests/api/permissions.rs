//! The permission table, asked of the real endpoints: every role (and a guest) × every action
//! × their own organization or a foreign one. Allowed → success, refused → 403 in their own
//! organization, and always 404 in a foreign one, so ids cannot be probed.

use reqwest::Method;
use serde_json::{json, Value};
use stratus_backend::auth::permissions::{allows, Action};
use stratus_shared::api::organizations::Role;

use crate::helpers::{spawn_app, unique_email, TestApp};

/// Who asks: a role in an organization, or an account linked to none.
#[derive(Debug, Clone, Copy)]
enum Asker {
    Member(Role),
    Guest,
}

/// An organization with its Owner, a DMS and a plain Member, made fresh for every case so
/// destructive actions (removing, deleting) never affect another case.
struct Scene {
    organization_id: String,
    organization_name: String,
    system_id: String,
    plain_member_id: String,
}

async fn scene(app: &TestApp) -> Scene {
    let (_, owner_token) = app.create_user(&unique_email("acme.example")).await;
    let organization_name = format!("Org {}", uuid::Uuid::new_v4().simple());
    let organization_id = app
        .create_organization(&owner_token, &organization_name)
        .await;
    let (system_id, _) = app
        .create_system(&owner_token, &organization_id, "Main DMS")
        .await;
    let (plain_member_id, _) = app.create_user(&unique_email("acme.example")).await;
    app.add_member(&organization_id, &plain_member_id, "member")
        .await;
    Scene {
        organization_id,
        organization_name,
        system_id,
        plain_member_id,
    }
}

/// The request that does `action` in the scene. A `match` so that a new action cannot be
/// added without a request here.
fn request(action: Action, scene: &Scene) -> (Method, String, Option<Value>) {
    let organization = &scene.organization_id;
    let system = &scene.system_id;
    match action {
        Action::View => (
            Method::GET,
            format!("/api/organizations/{organization}"),
            None,
        ),
        Action::RegisterSystem => (
            Method::POST,
            format!("/api/organizations/{organization}/systems"),
            Some(json!({ "name": "Second DMS" })),
        ),
        Action::ViewMembers => (
            Method::GET,
            format!("/api/organizations/{organization}/members"),
            None,
        ),
        Action::ManageMembers => (
            Method::POST,
            format!("/api/organizations/{organization}/members"),
            Some(json!({ "email": unique_email("acme.example"), "role": "member" })),
        ),
        Action::RenameSystem => (
            Method::PATCH,
            format!("/api/systems/{system}"),
            Some(json!({ "name": "Renamed DMS" })),
        ),
        Action::IssueConnectCode => (
            Method::POST,
            format!("/api/systems/{system}/connect-codes"),
            None,
        ),
        Action::RemoveSystem => (Method::DELETE, format!("/api/systems/{system}"), None),
        Action::DeleteOrganization => (
            Method::DELETE,
            format!("/api/organizations/{organization}"),
            Some(json!({ "confirm_name": scene.organization_name })),
        ),
        Action::EditOrganizationSettings => (
            Method::PATCH,
            format!("/api/organizations/{organization}"),
            Some(json!({ "remote_access_enabled": false })),
        ),
        Action::ManageSystemRoles => (
            Method::PUT,
            format!("/api/systems/{system}/users/{}", scene.plain_member_id),
            Some(json!({ "role": "admin" })),
        ),
        Action::EditSystemSettings => (
            Method::PATCH,
            format!("/api/systems/{system}/settings"),
            Some(json!({ "remote_access_enabled": false })),
        ),
        Action::LinkOwnDmsAccount => (
            Method::POST,
            format!("/api/systems/{system}/my-account/link-code"),
            None,
        ),
        Action::OpenRemotely => (
            Method::POST,
            format!("/api/systems/{system}/remote-access/tickets"),
            None,
        ),
        Action::ViewAuditLog => (
            Method::GET,
            format!("/api/organizations/{organization}/audit-log"),
            None,
        ),
        Action::ViewProjects => (
            Method::GET,
            format!("/api/organizations/{organization}/projects"),
            None,
        ),
        Action::ManageProjects => (
            Method::POST,
            format!("/api/organizations/{organization}/projects"),
            Some(json!({ "name": "Migration to DataMiner 10.5", "status": "planned" })),
        ),
        Action::ViewSharedDashboards => (
            Method::GET,
            format!("/api/organizations/{organization}/shared-dashboards"),
            None,
        ),
        Action::ManageSharedDashboards => (
            Method::POST,
            format!("/api/organizations/{organization}/shared-dashboards"),
            Some(json!({
                "name": "Network overview",
                "system_id": system,
                "shared_with": "Everyone in the organization",
            })),
        ),
    }
}

/// The status class a case must answer with.
fn expected(asker: Asker, own_organization: bool, action: Action) -> &'static str {
    match asker {
        Asker::Guest => "404",
        Asker::Member(_) if !own_organization => "404",
        Asker::Member(role) if allows(role, action) => "2xx",
        Asker::Member(_) => "403",
    }
}

fn class_of(status: reqwest::StatusCode) -> String {
    if status.is_success() {
        "2xx".into()
    } else {
        status.as_str().to_owned()
    }
}

#[tokio::test]
async fn every_role_and_action_in_own_and_foreign_organizations() {
    let app = spawn_app().await;
    let askers = [
        Asker::Member(Role::Owner),
        Asker::Member(Role::Admin),
        Asker::Member(Role::Member),
        Asker::Guest,
    ];
    let mut mismatches = Vec::new();
    let mut cases = 0;
    for action in Action::ALL {
        for asker in askers {
            for own_organization in [true, false] {
                if matches!(asker, Asker::Guest) && !own_organization {
                    continue; // A guest has no organization of their own.
                }
                let target = scene(&app).await;
                let (asker_id, token) = app.create_user(&unique_email("acme.example")).await;
                if let Asker::Member(role) = asker {
                    let organization = if own_organization {
                        target.organization_id.clone()
                    } else {
                        scene(&app).await.organization_id
                    };
                    app.add_member(&organization, &asker_id, role.as_str())
                        .await;
                }
                let (method, path, body) = request(action, &target);
                let response = app.send(method.clone(), &token, &path, body.as_ref()).await;
                let got = class_of(response.status());
                let want = expected(asker, own_organization, action);
                cases += 1;
                let body = response.text().await.unwrap_or_default();
                // A 404 must come from the endpoint's own check, not from a missing route.
                let no_such_endpoint = body.contains("There is no API endpoint");
                if got != want || no_such_endpoint {
                    mismatches.push(format!(
                        "{action:?} by {asker:?} in {} organization ({method} {path}): want {want}, got {got} {body}",
                        if own_organization { "own" } else { "a foreign" },
                    ));
                }
            }
        }
    }
    assert_eq!(cases, Action::ALL.len() * 7);
    assert!(
        mismatches.is_empty(),
        "{} of {cases} cases differ from the permission table:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
