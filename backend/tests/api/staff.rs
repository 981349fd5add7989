//! The staff console: only platform staff get in; links of accounts and of addresses not
//! registered yet (applied on verified sign-up only), role changes and the last-Owner rule,
//! organizations created with a first Owner, the legacy CSV import, and the staff audit log.

use serde_json::json;
use stratus_shared::api::audit::{AuditEntry, AuditPage};
use stratus_shared::api::auth::SessionGrant;
use stratus_shared::api::members::{Member, Members};
use stratus_shared::api::organizations::{Role, SystemDetail};
use stratus_shared::api::staff::{
    AccountSearchResult, CreatedStaffOrganization, LinkSource, Linked, OrganizationSearchResult,
};
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, unique_email, TestApp};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) async fn search(app: &TestApp, token: &str, q: &str) -> AccountSearchResult {
    app.read_as(token, &format!("/api/staff/accounts?q={}", urlencode(q)))
        .await
}

pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub(crate) async fn staff_members(app: &TestApp, token: &str, organization: &str) -> Members {
    app.read_as(
        token,
        &format!("/api/staff/organizations/{organization}/members"),
    )
    .await
}

pub(crate) async fn link(
    app: &TestApp,
    token: &str,
    email: &str,
    organization: &str,
    role: &str,
) -> reqwest::Response {
    app.post_json(
        Some(token),
        "/api/staff/links",
        &json!({ "email": email, "organization_id": organization, "role": role }),
    )
    .await
}

pub(crate) async fn audit_log(app: &TestApp, token: &str) -> Vec<AuditEntry> {
    let page: AuditPage = app.read_as(token, "/api/staff/audit").await;
    page.entries
}

/// Signs up without verifying; returns the verification token from the mail (the mail at
/// `mail_number` for that address).
pub(crate) async fn sign_up_unverified(app: &TestApp, email: &str, mail_number: usize) -> String {
    let response = app
        .post_json(
            None,
            "/api/auth/signup",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 202);
    let mail = app
        .mailbox
        .wait_for_message(email, mail_number)
        .await
        .unwrap();
    mail.link_token("/verify-email")
        .expect("a verification link")
}

pub(crate) async fn verify(app: &TestApp, token: &str) -> SessionGrant {
    let response = app
        .post_json(
            None,
            "/api/auth/verify-email",
            &json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_staff_endpoint_refuses_non_staff_and_guests() {
    use reqwest::Method;
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (_, guest) = app.create_verified_user("guest@example.com").await;
    let member_path = format!("/api/staff/organizations/{organization}/members/someone");
    let endpoints: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/api/staff/accounts?q=a".into(), None),
        (Method::GET, "/api/staff/organizations".into(), None),
        (
            Method::POST,
            "/api/staff/organizations".into(),
            Some(json!({ "name": "Evil", "owner_email": "guest@example.com" })),
        ),
        (
            Method::GET,
            format!("/api/staff/organizations/{organization}/members"),
            None,
        ),
        (
            Method::POST,
            "/api/staff/links".into(),
            Some(
                json!({ "email": "guest@example.com", "organization_id": organization, "role": "owner" }),
            ),
        ),
        (
            Method::PATCH,
            member_path.clone(),
            Some(json!({ "role": "owner" })),
        ),
        (Method::DELETE, member_path, None),
        (Method::DELETE, "/api/staff/pending-links/x".into(), None),
        (Method::POST, "/api/staff/legacy-import".into(), None),
        (Method::GET, "/api/staff/audit".into(), None),
    ];
    for (method, path, body) in &endpoints {
        for token in [&owner, &guest] {
            let response = app.send(method.clone(), token, path, body.as_ref()).await;
            assert_eq!(response.status(), 403, "{method} {path}");
            let error: ApiError = response.json().await.unwrap();
            assert_eq!(error.code, ErrorCode::Forbidden);
            assert!(error.message.contains("staff"), "{}", error.message);
        }
        let response = app
            .send_anonymously(method.clone(), path, body.as_ref())
            .await;
        assert_eq!(response.status(), 401, "{method} {path} without a token");
    }
    // Nothing of the refused requests happened.
    let (_, staff) = app.create_staff("staff@example.com").await;
    let organizations: OrganizationSearchResult = app
        .get_as(&staff, "/api/staff/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(organizations.organizations.len(), 1);
    assert_eq!(organizations.organizations[0].member_count, 1);
    assert!(audit_log(&app, &staff)
        .await
        .iter()
        .all(|entry| entry.action == "staff.granted"));
}

#[tokio::test]
async fn a_staff_link_of_an_unregistered_address_applies_on_verified_sign_up_and_not_before() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let newcomer = unique_email("acme.example");

    let response = link(
        &app,
        &staff,
        &newcomer.to_uppercase(),
        &organization,
        "admin",
    )
    .await;
    assert_eq!(response.status(), 201);
    let linked: Linked = response.json().await.unwrap();
    let Linked::Pending { link: pending } = linked else {
        panic!("an unregistered address gets a pending link: {linked:?}");
    };
    assert_eq!(pending.email, newcomer);
    assert_eq!(pending.source, LinkSource::Staff);
    let mail = app.mailbox.wait_for_message(&newcomer, 1).await.unwrap();
    assert!(mail.subject.contains("invited to Acme"), "{}", mail.subject);

    // Signed up but not verified: not a member yet.
    let token = sign_up_unverified(&app, &newcomer, 2).await;
    let found = search(&app, &staff, &newcomer).await;
    assert_eq!(found.accounts.len(), 1);
    assert!(!found.accounts[0].verified);
    assert!(found.accounts[0].links.is_empty());
    assert_eq!(found.pending.len(), 1);
    assert_eq!(
        staff_members(&app, &staff, &organization)
            .await
            .members
            .len(),
        1
    );

    let grant = verify(&app, &token).await;
    assert_eq!(grant.account.organizations.len(), 1);
    assert_eq!(grant.account.organizations[0].organization_id, organization);
    assert_eq!(grant.account.organizations[0].role, Role::Admin);
    let found = search(&app, &staff, &newcomer).await;
    assert!(found.pending.is_empty());
    assert_eq!(found.accounts[0].links[0].organization_name, "Acme");
    assert_eq!(found.accounts[0].links[0].role, Role::Admin);
}

#[tokio::test]
async fn staff_link_change_roles_and_unlink_but_keep_an_owner() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (owner_id, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (joiner_id, joiner) = app.create_verified_user("joiner@example.com").await;
    let members_path = format!("/api/staff/organizations/{organization}/members");

    // A verified account is a member at once.
    let response = link(&app, &staff, "joiner@example.com", &organization, "member").await;
    assert_eq!(response.status(), 201);
    let linked: Linked = response.json().await.unwrap();
    assert!(matches!(linked, Linked::Member { ref user_id, .. } if *user_id == joiner_id));
    let response = link(&app, &staff, "joiner@example.com", &organization, "admin").await;
    assert_eq!(response.status(), 409);
    let response = link(
        &app,
        &staff,
        "joiner@example.com",
        "no-such-organization",
        "admin",
    )
    .await;
    assert_eq!(response.status(), 404);
    let response = link(&app, &staff, "not an email", &organization, "admin").await;
    assert_eq!(response.status(), 422);

    // The only Owner can be neither demoted nor removed.
    let owner_path = format!("{members_path}/{owner_id}");
    let response = app
        .patch_as(&staff, &owner_path, json!({"role": "admin"}))
        .await;
    assert_eq!(response.status(), 409);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::LastOwner);
    let response = app.delete_as(&staff, &owner_path).await;
    assert_eq!(response.status(), 409);

    // Appoint the joiner Owner; then the first Owner may go.
    let joiner_path = format!("{members_path}/{joiner_id}");
    let response = app
        .patch_as(&staff, &joiner_path, json!({"role": "owner"}))
        .await;
    assert_eq!(response.status(), 200);
    let member: Member = response.json().await.unwrap();
    assert_eq!(member.role, Role::Owner);

    // What the first Owner has on the organization's DMSs (a DMS-level role, a linked DMS
    // account) must not outlive the unlink.
    let (system, _) = app.create_system(&owner, &organization, "First DMS").await;
    let response = app
        .patch_as(&staff, &owner_path, json!({"role": "member"}))
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .send(
            reqwest::Method::PUT,
            &joiner,
            &format!("/api/systems/{system}/users/{owner_id}"),
            Some(&json!({"role": "admin"})),
        )
        .await;
    assert_eq!(response.status(), 200);
    app.insert_dms_account_link(&system, &owner_id, "ACME\\owner")
        .await;
    let response = app.delete_as(&staff, &owner_path).await;
    assert_eq!(response.status(), 204);
    let members = staff_members(&app, &staff, &organization).await;
    assert_eq!(members.members.len(), 1);
    assert_eq!(members.members[0].user_id, joiner_id);
    let response = app.delete_as(&staff, &owner_path).await;
    assert_eq!(response.status(), 404);
    let response = link(&app, &staff, "owner@example.com", &organization, "member").await;
    assert_eq!(response.status(), 201);
    let response = app.get_as(&owner, &format!("/api/systems/{system}")).await;
    assert_eq!(response.status(), 200);
    let back: SystemDetail = response.json().await.unwrap();
    assert_eq!(back.my_role, Role::Member, "the old DMS role is gone");
    assert_eq!(
        back.my_dms_account, None,
        "the old DMS account link is gone"
    );
    let response = app.delete_as(&staff, &joiner_path).await;
    assert_eq!(response.status(), 409, "the joiner is the last Owner now");

    // Pending links can be removed too.
    let response = link(&app, &staff, "later@example.com", &organization, "member").await;
    let Linked::Pending { link: pending } = response.json().await.unwrap() else {
        panic!("pending");
    };
    let path = format!("/api/staff/pending-links/{}", pending.id);
    let response = app.delete_as(&staff, &path).await;
    assert_eq!(response.status(), 204);
    let response = app.delete_as(&staff, &path).await;
    assert_eq!(response.status(), 404);
    assert!(staff_members(&app, &staff, &organization)
        .await
        .invitations
        .is_empty());

    let actions: Vec<String> = audit_log(&app, &staff)
        .await
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(
        actions,
        [
            "staff.pending_link_removed",
            "staff.link_created",
            "staff.link_created",
            "staff.link_removed",
            "staff.role_changed",
            "staff.role_changed",
            "staff.link_created",
            "staff.granted",
        ]
    );
}

#[tokio::test]
async fn staff_create_organizations_with_a_first_owner() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    let (owner_id, owner) = app.create_verified_user("owner@example.com").await;

    let response = app
        .post_json(
            Some(&staff),
            "/api/staff/organizations",
            &json!({ "name": " Acme Corp ", "owner_email": "Owner@Example.com" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: CreatedStaffOrganization = response.json().await.unwrap();
    assert_eq!(created.organization.name, "Acme Corp");
    assert_eq!(created.organization.slug, "acme-corp");
    assert!(
        matches!(created.owner, Linked::Member { ref user_id, ref link, .. }
        if *user_id == owner_id && link.role == Role::Owner)
    );
    let me: stratus_shared::api::auth::Account =
        app.get_as(&owner, "/api/me").await.json().await.unwrap();
    assert_eq!(me.organizations[0].role, Role::Owner);

    let future_owner = unique_email("globex.example");
    let response = app
        .post_json(
            Some(&staff),
            "/api/staff/organizations",
            &json!({ "name": "Globex", "owner_email": future_owner }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: CreatedStaffOrganization = response.json().await.unwrap();
    assert!(matches!(created.owner, Linked::Pending { ref link } if link.role == Role::Owner));
    let invitation = app
        .mailbox
        .wait_for_message(&future_owner, 1)
        .await
        .unwrap();
    assert!(
        invitation.subject.contains("invited to Globex"),
        "{}",
        invitation.subject
    );
    let token = sign_up_unverified(&app, &future_owner, 2).await;
    let grant = verify(&app, &token).await;
    assert_eq!(grant.account.organizations[0].name, "Globex");
    assert_eq!(grant.account.organizations[0].role, Role::Owner);

    for body in [
        json!({ "name": "", "owner_email": "owner@example.com" }),
        json!({ "name": "Fine", "owner_email": "nope" }),
    ] {
        let response = app
            .post_json(Some(&staff), "/api/staff/organizations", &body)
            .await;
        assert!(matches!(response.status().as_u16(), 400 | 422), "{body}");
    }

    let listed: OrganizationSearchResult = app
        .get_as(&staff, "/api/staff/organizations?q=GLOB")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.organizations.len(), 1);
    assert_eq!(listed.organizations[0].name, "Globex");
    assert_eq!(listed.organizations[0].member_count, 1);
    let all: OrganizationSearchResult = app
        .get_as(&staff, "/api/staff/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.organizations.len(), 2);
    let detail = audit_log(&app, &staff).await;
    assert_eq!(detail[0].action, "staff.organization_created");
    assert!(detail[0].detail.contains("Globex"), "{}", detail[0].detail);
    assert_eq!(detail[0].actor_email, "staff@example.com");
}
