//! Organization settings and deletion, DMS-level roles, DMS settings (remote access forced off
//! by the organization), linked DMS accounts, Owner-only role changes and the audit log.

use reqwest::Method;
use serde_json::json;
use stratus_shared::api::audit::{AuditEntry, AuditPage};
use stratus_shared::api::organizations::{Organization, Role, SystemDetail, SystemUser};
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, unique_email, TestApp};

/// An organization "Acme" with an Owner, an Admin and a Member, and two DMSs.
struct Acme {
    id: String,
    owner: String,
    admin_id: String,
    admin: String,
    member_id: String,
    member: String,
    first: String,
    second: String,
}

async fn acme(app: &TestApp) -> Acme {
    let (_, owner) = app.create_user(&unique_email("acme.example")).await;
    let (admin_id, admin) = app.create_user(&unique_email("acme.example")).await;
    let (member_id, member) = app.create_user(&unique_email("acme.example")).await;
    let id = app.create_organization(&owner, "Acme").await;
    app.add_member(&id, &admin_id, "admin").await;
    app.add_member(&id, &member_id, "member").await;
    let (first, _) = app.create_system(&owner, &id, "First DMS").await;
    let (second, _) = app.create_system(&owner, &id, "Second DMS").await;
    Acme {
        id,
        owner,
        admin_id,
        admin,
        member_id,
        member,
        first,
        second,
    }
}

async fn set_system_role(
    app: &TestApp,
    token: &str,
    system: &str,
    user: &str,
    role: Role,
) -> reqwest::Response {
    app.send(
        Method::PUT,
        token,
        &format!("/api/systems/{system}/users/{user}"),
        Some(&json!({ "role": role })),
    )
    .await
}

async fn rename(app: &TestApp, token: &str, system: &str, name: &str) -> reqwest::StatusCode {
    app.send(
        Method::PATCH,
        token,
        &format!("/api/systems/{system}"),
        Some(&json!({ "name": name })),
    )
    .await
    .status()
}

async fn detail(app: &TestApp, token: &str, system: &str) -> SystemDetail {
    app.read_as(token, &format!("/api/systems/{system}")).await
}

async fn error_code(response: reqwest::Response) -> ErrorCode {
    response.json::<ApiError>().await.unwrap().code
}

#[tokio::test]
async fn a_dms_level_role_replaces_the_organization_role_for_that_dms_only() {
    let app = spawn_app().await;
    let acme = acme(&app).await;

    // The Admin of the organization is only a Member of the first DMS…
    let response =
        set_system_role(&app, &acme.owner, &acme.first, &acme.admin_id, Role::Member).await;
    assert_eq!(response.status(), 200);
    let person: SystemUser = response.json().await.unwrap();
    assert_eq!(person.organization_role, Role::Admin);
    assert_eq!(person.effective_role, Role::Member);
    assert_eq!(rename(&app, &acme.admin, &acme.first, "Renamed").await, 403);
    assert_eq!(
        detail(&app, &acme.admin, &acme.first).await.my_role,
        Role::Member
    );
    // …and still Admin of the second.
    assert_eq!(
        rename(&app, &acme.admin, &acme.second, "Renamed").await,
        200
    );

    // A Member of the organization made Admin of the first DMS may rename it, not the second.
    let response =
        set_system_role(&app, &acme.owner, &acme.first, &acme.member_id, Role::Admin).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        rename(&app, &acme.member, &acme.first, "By the member").await,
        200
    );
    assert_eq!(rename(&app, &acme.member, &acme.second, "Nope").await, 403);

    // Clearing the DMS-level role gives the organization role back.
    let response = app
        .send(
            Method::DELETE,
            &acme.owner,
            &format!("/api/systems/{}/users/{}", acme.first, acme.admin_id),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        rename(&app, &acme.admin, &acme.first, "Admin again").await,
        200
    );

    let users: Vec<SystemUser> = app
        .get_as(&acme.member, &format!("/api/systems/{}/users", acme.first))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users.len(), 3);
    let member = users.iter().find(|u| u.user_id == acme.member_id).unwrap();
    assert_eq!(member.system_role, Some(Role::Admin));
}

#[tokio::test]
async fn only_owners_give_the_owner_role_and_organization_owners_keep_every_dms() {
    let app = spawn_app().await;
    let acme = acme(&app).await;

    // An Admin cannot make anyone Owner: not of a DMS, not of the organization.
    let response =
        set_system_role(&app, &acme.admin, &acme.first, &acme.member_id, Role::Owner).await;
    assert_eq!(response.status(), 403);
    let response = app
        .send(
            Method::PATCH,
            &acme.admin,
            &format!("/api/organizations/{}/members/{}", acme.id, acme.admin_id),
            Some(&json!({ "role": "owner" })),
        )
        .await;
    assert_eq!(response.status(), 403, "an Admin cannot promote themselves");
    let response = app
        .post_json(
            Some(&acme.admin),
            &format!("/api/organizations/{}/members", acme.id),
            &json!({ "email": unique_email("acme.example"), "role": "owner" }),
        )
        .await;
    assert_eq!(response.status(), 403);

    // The Owner can.
    let response =
        set_system_role(&app, &acme.owner, &acme.first, &acme.member_id, Role::Owner).await;
    assert_eq!(response.status(), 200);
    let response = app
        .post_json(
            Some(&acme.member),
            &format!("/api/systems/{}/connect-codes", acme.first),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 201, "an Owner of the DMS re-keys it");

    // The Admin cannot take that Owner role away: neither by removing it nor by setting a
    // lesser one over it.
    for role in [Role::Member, Role::Admin] {
        let response = set_system_role(&app, &acme.admin, &acme.first, &acme.member_id, role).await;
        assert_eq!(
            response.status(),
            403,
            "an Admin demotes a DMS Owner to {role:?}"
        );
    }
    let response = app
        .send(
            Method::DELETE,
            &acme.admin,
            &format!("/api/systems/{}/users/{}", acme.first, acme.member_id),
            None,
        )
        .await;
    assert_eq!(response.status(), 403);
    let users: Vec<SystemUser> = app
        .get_as(&acme.owner, &format!("/api/systems/{}/users", acme.first))
        .await
        .json()
        .await
        .unwrap();
    let member = users.iter().find(|u| u.user_id == acme.member_id).unwrap();
    assert_eq!(
        member.system_role,
        Some(Role::Owner),
        "still the DMS's Owner"
    );

    // Organization Owners get no DMS-level role: they keep every right on each DMS.
    let users: Vec<SystemUser> = app
        .get_as(&acme.owner, &format!("/api/systems/{}/users", acme.first))
        .await
        .json()
        .await
        .unwrap();
    let owner = users
        .iter()
        .find(|u| u.organization_role == Role::Owner)
        .unwrap();
    let response =
        set_system_role(&app, &acme.owner, &acme.first, &owner.user_id, Role::Member).await;
    assert_eq!(response.status(), 409);

    // Somebody outside the organization cannot be given a DMS role.
    let (outsider, _) = app.create_user(&unique_email("elsewhere.example")).await;
    let response = set_system_role(&app, &acme.owner, &acme.first, &outsider, Role::Member).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn leaving_the_organization_forgets_dms_roles_and_linked_accounts() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    set_system_role(&app, &acme.owner, &acme.first, &acme.member_id, Role::Admin).await;
    app.insert_dms_account_link(&acme.first, &acme.member_id, "ACME\\jdoe")
        .await;

    let response = app
        .send(
            Method::DELETE,
            &acme.owner,
            &format!("/api/organizations/{}/members/{}", acme.id, acme.member_id),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    app.add_member(&acme.id, &acme.member_id, "member").await;

    let back = detail(&app, &acme.member, &acme.first).await;
    assert_eq!(back.my_role, Role::Member, "the old DMS role is gone");
    assert_eq!(
        back.my_dms_account, None,
        "the old DMS account link is gone"
    );
}

#[tokio::test]
async fn links_need_the_dms_and_old_typed_links_show_as_unconfirmed() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    let path = format!("/api/systems/{}/my-account", acme.first);
    // A link typed in before links needed the DMS's confirmation.
    app.insert_dms_account_link(&acme.first, &acme.member_id, "ACME\\jdoe")
        .await;
    let link = detail(&app, &acme.member, &acme.first)
        .await
        .my_dms_account
        .expect("the old link is kept");
    assert_eq!(link.dms_username, "ACME\\jdoe");
    assert_eq!(link.confirmed_at, None, "shown as unconfirmed");
    let users: Vec<stratus_shared::api::organizations::SystemUser> = app
        .read_as(&acme.admin, &format!("/api/systems/{}/users", acme.first))
        .await;
    let member = users
        .iter()
        .find(|user| user.user_id == acme.member_id)
        .unwrap();
    assert_eq!(member.dms_account.as_ref().unwrap().confirmed_at, None);
    assert_eq!(
        detail(&app, &acme.admin, &acme.first).await.my_dms_account,
        None
    );
    // Typing a name no longer links.
    let typed = app
        .send(
            Method::PUT,
            &acme.member,
            &path,
            Some(&json!({ "dms_username": "ACME\\jdoe" })),
        )
        .await;
    assert_eq!(typed.status(), 405);
    // A link code, shown once, for the DMS to confirm (see remote_access.rs).
    let response = app
        .send(
            Method::POST,
            &acme.member,
            &format!("{path}/link-code"),
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let code: stratus_shared::api::organizations::DmsLinkCode = response.json().await.unwrap();
    assert!(code
        .code
        .chars()
        .all(|c| c == '-' || c.is_ascii_uppercase() || c.is_ascii_digit()));

    let response = app.send(Method::DELETE, &acme.member, &path, None).await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        detail(&app, &acme.member, &acme.first).await.my_dms_account,
        None
    );
}

#[tokio::test]
async fn remote_access_off_for_the_organization_forces_every_dms_off() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    assert!(detail(&app, &acme.member, &acme.first)
        .await
        .remote_access_url
        .is_some());

    // One DMS off on its own.
    let response = app
        .send(
            Method::PATCH,
            &acme.admin,
            &format!("/api/systems/{}/settings", acme.second),
            Some(&json!({ "remote_access_enabled": false })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let second = detail(&app, &acme.member, &acme.second).await;
    assert_eq!(second.remote_access_url, None);
    assert!(!second.remote_access.enabled_for_system);
    assert!(!second.remote_access.forced_off_by_organization);

    // The organization off: every DMS is forced off, and cannot be switched on alone.
    let response = app
        .send(
            Method::PATCH,
            &acme.admin,
            &format!("/api/organizations/{}", acme.id),
            Some(&json!({ "remote_access_enabled": false })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let organization: Organization = response.json().await.unwrap();
    assert!(!organization.remote_access_enabled);
    let first = detail(&app, &acme.member, &acme.first).await;
    assert_eq!(first.remote_access_url, None);
    assert!(first.remote_access.enabled_for_system);
    assert!(first.remote_access.forced_off_by_organization);
    let response = app
        .send(
            Method::PATCH,
            &acme.owner,
            &format!("/api/systems/{}/settings", acme.second),
            Some(&json!({ "remote_access_enabled": true })),
        )
        .await;
    assert_eq!(response.status(), 409);
    assert_eq!(error_code(response).await, ErrorCode::RemoteAccessForcedOff);

    // Back on: each DMS follows its own switch again.
    let response = app
        .send(
            Method::PATCH,
            &acme.owner,
            &format!("/api/organizations/{}", acme.id),
            Some(&json!({ "remote_access_enabled": true })),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(detail(&app, &acme.member, &acme.first)
        .await
        .remote_access_url
        .is_some());
    assert_eq!(
        detail(&app, &acme.member, &acme.second)
            .await
            .remote_access_url,
        None
    );
}

#[tokio::test]
async fn organization_settings_are_validated_and_renaming_shows_everywhere() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    let path = format!("/api/organizations/{}", acme.id);
    for bad in [
        json!({ "name": "" }),
        json!({ "name": "x".repeat(101) }),
        json!({ "name": 7 }),
    ] {
        let response = app
            .send(Method::PATCH, &acme.owner, &path, Some(&bad))
            .await;
        assert_eq!(response.status(), 400, "{bad}");
    }
    let response = app
        .send(
            Method::PATCH,
            &acme.admin,
            &path,
            Some(&json!({ "name": "  Acme Broadcast  " })),
        )
        .await;
    assert_eq!(response.status(), 200);
    let organizations: Vec<Organization> = app
        .get_as(&acme.member, "/api/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(organizations[0].name, "Acme Broadcast");
    assert_eq!(organizations[0].role, Role::Member);
}

#[tokio::test]
async fn the_owner_deletes_the_organization_after_typing_its_name() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    let path = format!("/api/organizations/{}", acme.id);

    let response = app
        .send(
            Method::DELETE,
            &acme.owner,
            &path,
            Some(&json!({ "confirm_name": "acme" })),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, ErrorCode::ConfirmationMismatch);
    let response = app
        .send(
            Method::DELETE,
            &acme.admin,
            &path,
            Some(&json!({ "confirm_name": "Acme" })),
        )
        .await;
    assert_eq!(
        response.status(),
        403,
        "Admins may not delete the organization"
    );

    let response = app
        .send(
            Method::DELETE,
            &acme.owner,
            &path,
            Some(&json!({ "confirm_name": "Acme" })),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.get_as(&acme.owner, &path).await.status(), 404);
    assert_eq!(
        app.get_as(&acme.member, &format!("/api/systems/{}", acme.first))
            .await
            .status(),
        404
    );
    let systems: Vec<serde_json::Value> = app
        .get_as(&acme.member, "/api/systems")
        .await
        .json()
        .await
        .unwrap();
    assert!(systems.is_empty());

    // The audit log keeps what happened to the organization.
    let organization_id = acme.id.clone();
    let entries = app
        .pool
        .run(move |connection| {
            Ok(stratus_backend::domain::audit::list(
                connection,
                stratus_backend::domain::audit::Scope::Organization(&organization_id),
                50,
            )?)
        })
        .await
        .unwrap();
    assert_eq!(entries[0].action, "organization.deleted");
}

#[tokio::test]
async fn changes_are_in_the_organization_audit_log_for_owners_and_admins() {
    let app = spawn_app().await;
    let acme = acme(&app).await;
    let invited = unique_email("acme.example");
    let response = app
        .post_json(
            Some(&acme.admin),
            &format!("/api/organizations/{}/members", acme.id),
            &json!({ "email": invited, "role": "member" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        rename(&app, &acme.admin, &acme.first, "Core DMS").await,
        200
    );
    let path = format!("/api/organizations/{}/audit-log", acme.id);

    assert_eq!(app.get_as(&acme.member, &path).await.status(), 403);
    let response = app.get_as(&acme.owner, &path).await;
    assert_eq!(response.status(), 200);
    let page: AuditPage = response.json().await.unwrap();
    assert_eq!(page.next_before, None, "one page holds them all");
    let entries: Vec<AuditEntry> = page.entries;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions[0], "system.renamed", "newest first: {actions:?}");
    assert_eq!(actions[1], "member.invited");
    assert!(entries[1].detail.contains(&invited));
    assert!(!entries[1].by_staff);
    assert!(entries[0].detail.contains("First DMS") && entries[0].detail.contains("Core DMS"));
    assert!(actions.contains(&"organization.created"));
    assert!(actions.contains(&"system.registered"));
}
