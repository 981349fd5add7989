//! An organization's people: adding by email, pending invitations that apply on verified
//! sign-up only, role changes, removal, the last-Owner rule, and who may do what.

use serde_json::json;
use stratus_shared::api::auth::{Account, AccountKind};
use stratus_shared::api::members::{Added, Member, Members};
use stratus_shared::api::organizations::Role;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, unique_email, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn members(app: &TestApp, token: &str, organization: &str) -> Members {
    app.read_as(token, &format!("/api/organizations/{organization}/members"))
        .await
}

#[tokio::test]
async fn an_invitation_applies_on_verified_sign_up_and_not_before() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let newcomer = unique_email("acme.example");

    let response = app
        .post_json(
            Some(&owner),
            &format!("/api/organizations/{organization}/members"),
            &json!({ "email": newcomer.to_uppercase(), "role": "admin" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let added: Added = response.json().await.unwrap();
    assert!(matches!(added, Added::Invited { ref invitation } if invitation.email == newcomer));
    let invite = app.mailbox.wait_for_message(&newcomer, 1).await.unwrap();
    assert!(
        invite.subject.contains("invited to Acme"),
        "{}",
        invite.subject
    );

    // Signing up alone does not make a member: the address is not proven yet.
    app.post_json(
        None,
        "/api/auth/signup",
        &json!({ "email": newcomer, "password": PASSWORD }),
    )
    .await;
    let listed = members(&app, &owner, &organization).await;
    assert_eq!(listed.members.len(), 1);
    assert_eq!(listed.invitations.len(), 1);

    // Verifying does.
    let mail = app.mailbox.wait_for_message(&newcomer, 2).await.unwrap();
    let token = mail.link_token("/verify-email").unwrap();
    let verified = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(verified.status(), 200);
    let grant: stratus_shared::api::auth::SessionGrant = verified.json().await.unwrap();
    assert_eq!(grant.account.kind, AccountKind::Member);
    assert_eq!(grant.account.organizations[0].role, Role::Admin);
    let listed = members(&app, &owner, &organization).await;
    assert_eq!(listed.members.len(), 2);
    assert!(listed.invitations.is_empty());
    let me: Account = app
        .get_as(&grant.access_token, "/api/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me.organizations[0].name, "Acme");
}

#[tokio::test]
async fn a_verified_account_joins_at_once_and_twice_is_a_conflict() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let email = unique_email("acme.example");
    let joiner = app.signed_up(&email, PASSWORD).await;
    let path = format!("/api/organizations/{organization}/members");

    let response = app
        .post_json(
            Some(&owner),
            &path,
            &json!({ "email": email, "role": "member" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let added: Added = response.json().await.unwrap();
    assert!(matches!(added, Added::Member { ref member } if member.role == Role::Member));
    let systems = app
        .get_as(&joiner.grant.access_token, "/api/organizations")
        .await;
    assert_eq!(systems.status(), 200);

    let again = app
        .post_json(
            Some(&owner),
            &path,
            &json!({ "email": email, "role": "admin" }),
        )
        .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn members_see_the_list_but_only_owners_and_admins_change_it() {
    let app = spawn_app().await;
    let (_, owner) = app.create_user("owner@example.com").await;
    let (admin_id, admin) = app.create_user("admin@example.com").await;
    let (member_id, member) = app.create_user("member@example.com").await;
    let (_, stranger) = app.create_user("stranger@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    app.add_member(&organization, &admin_id, "admin").await;
    app.add_member(&organization, &member_id, "member").await;
    let path = format!("/api/organizations/{organization}/members");

    assert_eq!(members(&app, &member, &organization).await.members.len(), 3);
    let foreign = app.get_as(&stranger, &path).await;
    assert_eq!(
        foreign.status(),
        404,
        "a foreign organization does not exist"
    );

    let by_member = app
        .post_json(
            Some(&member),
            &path,
            &json!({ "email": "x@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(by_member.status(), 403);
    let by_stranger = app
        .post_json(
            Some(&stranger),
            &path,
            &json!({ "email": "x@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(by_stranger.status(), 404);
    let demote = app
        .patch_as(
            &member,
            &format!("{path}/{admin_id}"),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(demote.status(), 403);

    let by_admin = app
        .patch_as(
            &admin,
            &format!("{path}/{member_id}"),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(by_admin.status(), 200);
    let changed: Member = by_admin.json().await.unwrap();
    assert_eq!(changed.role, Role::Admin);

    // Anyone may leave.
    assert_eq!(
        app.delete_as(&member, &format!("{path}/{member_id}"))
            .await
            .status(),
        204
    );
    assert_eq!(members(&app, &owner, &organization).await.members.len(), 2);
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let app = spawn_app().await;
    let (owner_id, owner) = app.create_user("owner@example.com").await;
    let (admin_id, admin) = app.create_user("admin@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    app.add_member(&organization, &admin_id, "admin").await;
    let path = format!("/api/organizations/{organization}/members");

    for response in [
        app.patch_as(
            &owner,
            &format!("{path}/{owner_id}"),
            json!({"role": "admin"}),
        )
        .await,
        app.delete_as(&owner, &format!("{path}/{owner_id}")).await,
    ] {
        assert_eq!(response.status(), 409);
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ErrorCode::LastOwner);
    }
    // Admins may not touch an Owner at all.
    for response in [
        app.patch_as(
            &admin,
            &format!("{path}/{owner_id}"),
            json!({"role": "admin"}),
        )
        .await,
        app.delete_as(&admin, &format!("{path}/{owner_id}")).await,
    ] {
        assert_eq!(response.status(), 403);
    }

    // With a second Owner, the first may step down.
    let promote = app
        .patch_as(
            &owner,
            &format!("{path}/{admin_id}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(promote.status(), 200);
    let step_down = app
        .patch_as(
            &owner,
            &format!("{path}/{owner_id}"),
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(step_down.status(), 200);
}

#[tokio::test]
async fn staff_is_given_outside_the_api_and_shows_on_the_account() {
    let app = spawn_app().await;
    let email = unique_email("skyline.be");
    let signed_in = app.signed_up(&email, PASSWORD).await;
    assert!(!signed_in.grant.account.is_staff);

    stratus_backend::domain::accounts::set_staff(&app.pool, &email, true)
        .await
        .unwrap();

    let me: Account = app
        .get_as(&signed_in.grant.access_token, "/api/me")
        .await
        .json()
        .await
        .unwrap();
    assert!(me.is_staff);
    assert!(
        stratus_backend::domain::accounts::set_staff(&app.pool, "nobody@example.com", true)
            .await
            .is_err()
    );
}
