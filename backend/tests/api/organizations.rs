use serde_json::json;
use stratus_shared::api::organizations::{ConnectCode, CreatedSystem, Organization, Role, System};
use stratus_shared::{ApiError, ConnectionState, ErrorCode};

use crate::helpers::spawn_app;

#[tokio::test]
async fn organizations_need_a_signed_in_person() {
    let app = spawn_app().await;

    let response = app.get("/api/organizations").await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::Unauthorized);

    let response = app
        .post_json(None, "/api/organizations", &json!({ "name": "Acme" }))
        .await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_creator_of_an_organization_becomes_its_owner_and_sees_only_their_own() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let (_, bob) = app.create_user("bob@example.com").await;

    let response = app
        .post_json(
            Some(&alice),
            "/api/organizations",
            &json!({ "name": "  Acme Corp  " }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Organization = response.json().await.unwrap();
    assert_eq!(created.name, "Acme Corp");
    assert_eq!(created.slug, "acme-corp");
    assert_eq!(created.role, Role::Owner);
    // A second organization of the same name gets a slug of its own.
    let second = app.create_organization(&bob, "Acme Corp").await;

    let mine: Vec<Organization> = app
        .get_as(&alice, "/api/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine, vec![created]);
    let bobs: Vec<Organization> = app
        .get_as(&bob, "/api/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].id, second);
    assert_ne!(bobs[0].slug, "acme-corp");
}

#[tokio::test]
async fn invalid_names_are_refused_with_a_stable_code() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;

    for body in [
        json!({ "name": "   " }),
        json!({ "name": "x".repeat(101) }),
        json!({ "name": 5 }),
        json!({}),
    ] {
        let response = app
            .post_json(Some(&alice), "/api/organizations", &body)
            .await;
        assert_eq!(response.status(), 400, "{body}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ErrorCode::InvalidRequest);

        let response = app
            .post_json(
                Some(&alice),
                &format!("/api/organizations/{organization}/systems"),
                &body,
            )
            .await;
        assert_eq!(response.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn registering_a_dms_gives_a_connect_code_once_and_the_dms_is_never_connected() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;

    let response = app
        .post_json(
            Some(&alice),
            &format!("/api/organizations/{organization}/systems"),
            &json!({ "name": "Main DMS" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: CreatedSystem = response.json().await.unwrap();
    assert_eq!(created.system.state, ConnectionState::NeverConnected);
    assert_eq!(created.connect_code.system_id, created.system.id);
    assert!(created.connect_code.code.len() >= 40);
    let valid_for = created.connect_code.expires_at - chrono::Utc::now();
    assert!(valid_for <= chrono::TimeDelta::hours(1) && valid_for > chrono::TimeDelta::minutes(59));

    // The code is stored only as a hash.
    let code = created.connect_code.code.clone();
    let stored: Vec<String> = app
        .pool
        .run(|connection| {
            use diesel::prelude::*;
            use stratus_backend::db::schema::connect_codes;
            Ok(connect_codes::table
                .select(connect_codes::code_hash)
                .load(connection)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&code));

    let systems: Vec<System> = app
        .get_as(&alice, "/api/systems")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(systems, vec![created.system.clone()]);

    // Names are unique within the organization.
    let response = app
        .post_json(
            Some(&alice),
            &format!("/api/organizations/{organization}/systems"),
            &json!({ "name": "Main DMS" }),
        )
        .await;
    assert_eq!(response.status(), 409);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::Conflict);
}

#[tokio::test]
async fn a_foreign_organization_and_its_dmss_do_not_exist_for_me() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let (_, mallory) = app.create_user("mallory@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (system, _) = app.create_system(&alice, &organization, "Main DMS").await;

    let response = app
        .post_json(
            Some(&mallory),
            &format!("/api/organizations/{organization}/systems"),
            &json!({ "name": "Sneaky" }),
        )
        .await;
    assert_eq!(response.status(), 404);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::NotFound);

    for (method, path) in [
        ("POST", format!("/api/systems/{system}/connect-codes")),
        ("GET", format!("/api/systems/{system}")),
        ("DELETE", format!("/api/systems/{system}")),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .bearer_auth(&mallory)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let systems: Vec<System> = app
        .get_as(&mallory, "/api/systems")
        .await
        .json()
        .await
        .unwrap();
    assert!(systems.is_empty());
    // A made-up organization id is the same 404.
    let response = app
        .post_json(
            Some(&alice),
            "/api/organizations/nope/systems",
            &json!({ "name": "X" }),
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn only_owners_issue_new_connect_codes_but_every_member_registers_dmss() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let (admin_id, admin) = app.create_user("admin@example.com").await;
    let (member_id, member) = app.create_user("member@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    app.add_member(&organization, &admin_id, "admin").await;
    app.add_member(&organization, &member_id, "member").await;

    let (system, _) = app
        .create_system(&member, &organization, "Member's DMS")
        .await;
    app.create_system(&admin, &organization, "Admin's DMS")
        .await;

    for token in [&admin, &member] {
        let response = app
            .post_json(
                Some(token),
                &format!("/api/systems/{system}/connect-codes"),
                &json!({}),
            )
            .await;
        assert_eq!(response.status(), 403);
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ErrorCode::Forbidden);
    }
    let response = app
        .post_json(
            Some(&owner),
            &format!("/api/systems/{system}/connect-codes"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let code: ConnectCode = response.json().await.unwrap();
    assert_eq!(code.system_id, system);
    // Every member sees both DMSs.
    let systems: Vec<System> = app
        .get_as(&member, "/api/systems")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(systems.len(), 2);
}

#[tokio::test]
async fn owners_and_admins_rename_a_dms_members_may_not() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let (admin_id, admin) = app.create_user("admin@example.com").await;
    let (member_id, member) = app.create_user("member@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    app.add_member(&organization, &admin_id, "admin").await;
    app.add_member(&organization, &member_id, "member").await;
    let (system, _) = app.create_system(&owner, &organization, "Main").await;
    app.create_system(&owner, &organization, "Backup").await;
    let rename = |token: String, name: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/api/systems/{system}", app.address);
        async move {
            client
                .patch(url)
                .bearer_auth(token)
                .json(&json!({ "name": name }))
                .send()
                .await
                .unwrap()
        }
    };

    let response = rename(member.clone(), "Member's choice").await;
    assert_eq!(response.status(), 403);
    let response = rename(admin.clone(), "Backup").await;
    assert_eq!(
        response.status(),
        409,
        "names stay unique in the organization"
    );
    let response = rename(admin.clone(), "   ").await;
    assert_eq!(response.status(), 400);
    let response = rename(admin.clone(), "  Main DMS  ").await;
    assert_eq!(response.status(), 200);
    let renamed: System = response.json().await.unwrap();
    assert_eq!(renamed.name, "Main DMS");

    let (_, stranger) = app.create_user("stranger@example.com").await;
    assert_eq!(rename(stranger, "Mine now").await.status(), 404);
}

#[tokio::test]
async fn the_detail_links_to_the_dms_origin_under_the_remote_access_domain() {
    use stratus_shared::api::organizations::SystemDetail;
    for domain in ["", "on.stratus.test"] {
        let app = crate::helpers::spawn_app_with(|settings| {
            settings.remote_access_domain = domain.to_owned()
        })
        .await;
        let (_, owner) = app.create_user("owner@example.com").await;
        let organization = app.create_organization(&owner, "Acme").await;
        let (system, _) = app.create_system(&owner, &organization, "Main DMS").await;
        // A second DMS whose name gives the same label is told apart by a number.
        let (twin, _) = app.create_system(&owner, &organization, "Main-DMS").await;
        let port = reqwest::Url::parse(&app.address).unwrap().port().unwrap();
        let expected_domain = if domain.is_empty() {
            "remote.localhost"
        } else {
            domain
        };
        for (id, label) in [(system, "main-dms-acme"), (twin, "main-dms-acme-2")] {
            let detail: SystemDetail = app
                .get_as(&owner, &format!("/api/systems/{id}"))
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(
                detail.remote_access_url,
                Some(format!("http://{label}.{expected_domain}:{port}")),
                "{domain:?}"
            );
        }
    }
}

#[tokio::test]
async fn owners_and_admins_remove_a_dms_members_may_not() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let (admin_id, admin) = app.create_user("admin@example.com").await;
    let (member_id, member) = app.create_user("member@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    app.add_member(&organization, &admin_id, "admin").await;
    app.add_member(&organization, &member_id, "member").await;
    let (first, _) = app.create_system(&owner, &organization, "First").await;
    let (second, _) = app.create_system(&owner, &organization, "Second").await;
    let remove = |token: String, system: String| {
        let request = app
            .client
            .delete(format!("{}/api/systems/{system}", app.address))
            .bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };

    assert_eq!(remove(member.clone(), first.clone()).await, 403);
    assert_eq!(remove(admin.clone(), first.clone()).await, 204);
    assert_eq!(remove(owner.clone(), second.clone()).await, 204);
    assert_eq!(remove(owner, first).await, 404, "already gone");
}
