//! An organization's people: invitations by email that the person accepts (the same answer
//! and mail for every address, bounded mail), role changes, removal, the last-Owner rule, and
//! who may do what.

use serde_json::json;
use stratus_shared::api::auth::{Account, AccountKind};
use stratus_shared::api::members::{Invitation, Member, Members, PendingInvitation};
use stratus_shared::api::organizations::Role;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, spawn_app_with, unique_email, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn members(app: &TestApp, token: &str, organization: &str) -> Members {
    app.read_as(token, &format!("/api/organizations/{organization}/members"))
        .await
}

async fn invite(app: &TestApp, token: &str, organization: &str, email: &str) -> reqwest::Response {
    app.post_json(
        Some(token),
        &format!("/api/organizations/{organization}/members"),
        &json!({ "email": email, "role": "admin" }),
    )
    .await
}

async fn waiting(app: &TestApp, token: &str) -> Vec<PendingInvitation> {
    app.read_as(token, "/api/me/invitations").await
}

#[tokio::test]
async fn an_invitation_waits_for_its_address_to_be_verified_and_for_the_person_to_accept() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let newcomer = unique_email("acme.example");

    let response = invite(&app, &owner, &organization, &newcomer.to_uppercase()).await;
    assert_eq!(response.status(), 201);
    let invitation: Invitation = response.json().await.unwrap();
    assert_eq!(invitation.email, newcomer);
    let mail = app.mailbox.wait_for_message(&newcomer, 1).await.unwrap();
    assert!(mail.subject.contains("invited to Acme"), "{}", mail.subject);
    assert!(mail.body.contains("accept the invitation"), "{}", mail.body);

    // Signing up and verifying the address does not make a member: the person decides.
    app.post_json(
        None,
        "/api/auth/signup",
        &json!({ "email": newcomer, "password": PASSWORD }),
    )
    .await;
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
    assert!(grant.account.organizations.is_empty());
    assert_eq!(members(&app, &owner, &organization).await.members.len(), 1);

    let pending = waiting(&app, &grant.access_token).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].organization_name, "Acme");
    assert_eq!(pending[0].role, Role::Admin);
    assert_eq!(pending[0].invited_by.as_deref(), Some("owner@example.com"));

    // Nobody else can answer it, not even a verified account that knows its id.
    let (_, intruder) = app.create_verified_user("intruder@example.com").await;
    let accept_path = format!("/api/me/invitations/{}/accept", pending[0].id);
    let stolen = app
        .post_json(Some(&intruder), &accept_path, &json!({}))
        .await;
    assert_eq!(stolen.status(), 404);
    assert!(waiting(&app, &intruder).await.is_empty());

    let accepted = app
        .post_json(Some(&grant.access_token), &accept_path, &json!({}))
        .await;
    assert_eq!(accepted.status(), 204);
    let me: Account = app.read_as(&grant.access_token, "/api/me").await;
    assert_eq!(me.kind, AccountKind::Member);
    assert_eq!(me.organizations[0].name, "Acme");
    assert_eq!(me.organizations[0].role, Role::Admin);
    let listed = members(&app, &owner, &organization).await;
    assert_eq!(listed.members.len(), 2);
    assert!(listed.invitations.is_empty());
    let again = app
        .post_json(Some(&grant.access_token), &accept_path, &json!({}))
        .await;
    assert_eq!(again.status(), 404, "an invitation is answered once");
}

#[tokio::test]
async fn a_verified_account_and_an_unknown_address_get_the_same_answer_and_mail() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let known = unique_email("acme.example");
    let joiner = app.signed_up(&known, PASSWORD).await;
    let unknown = unique_email("acme.example");
    let mails_before = app.mailbox.messages_to(&known).len();

    let to_known = invite(&app, &owner, &organization, &known).await;
    let to_unknown = invite(&app, &owner, &organization, &unknown).await;
    assert_eq!(to_known.status(), to_unknown.status());
    let (known_body, unknown_body): (serde_json::Value, serde_json::Value) = (
        to_known.json().await.unwrap(),
        to_unknown.json().await.unwrap(),
    );
    let keys = |body: &serde_json::Value| {
        let mut keys: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&known_body), keys(&unknown_body));
    let known_mail = app
        .mailbox
        .wait_for_message(&known, mails_before + 1)
        .await
        .unwrap();
    let unknown_mail = app.mailbox.wait_for_message(&unknown, 1).await.unwrap();
    assert_eq!(known_mail.subject, unknown_mail.subject);
    assert_eq!(
        known_mail.body.replace(&known, ""),
        unknown_mail.body.replace(&unknown, "")
    );

    // The verified account is not a member until it accepts; declining leaves it out.
    let listed = members(&app, &owner, &organization).await;
    assert_eq!(listed.members.len(), 1);
    assert_eq!(listed.invitations.len(), 2);
    assert_eq!(
        invite(&app, &owner, &organization, &known).await.status(),
        409,
        "invited twice"
    );
    let pending = waiting(&app, &joiner.grant.access_token).await;
    let declined = app
        .delete_as(
            &joiner.grant.access_token,
            &format!("/api/me/invitations/{}", pending[0].id),
        )
        .await;
    assert_eq!(declined.status(), 204);
    let me: Account = app.read_as(&joiner.grant.access_token, "/api/me").await;
    assert!(me.organizations.is_empty());
    assert_eq!(
        members(&app, &owner, &organization).await.invitations.len(),
        1
    );
}

#[tokio::test]
async fn inviting_a_member_again_is_a_conflict() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let response = invite(&app, &owner, &organization, "owner@example.com").await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        response.json::<ApiError>().await.unwrap().code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn invite_and_withdraw_loops_cannot_flood_a_mailbox_or_run_forever() {
    let app = spawn_app_with(|settings| settings.invitations_per_organization_per_day = 8).await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let victim = unique_email("victim.example");
    for _ in 0..8 {
        let response = invite(&app, &owner, &organization, &victim).await;
        assert_eq!(response.status(), 201);
        let invitation: Invitation = response.json().await.unwrap();
        let withdrawn = app
            .delete_as(
                &owner,
                &format!(
                    "/api/organizations/{organization}/invitations/{}",
                    invitation.id
                ),
            )
            .await;
        assert_eq!(withdrawn.status(), 204);
    }
    let refused = invite(&app, &owner, &organization, &victim).await;
    assert_eq!(refused.status(), 429);
    let wait: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 24 * 3600, "{wait}");
    assert_eq!(
        refused.json::<ApiError>().await.unwrap().code,
        ErrorCode::TooManyRequests
    );
    // Eight invitations, but the address's hourly allowance of mails holds: five.
    app.mailbox.wait_for_message(&victim, 5).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.mailbox.messages_to(&victim).len(), 5);
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

/// Reads the members list a page of `limit` at a time, as the web app does.
async fn every_page(app: &TestApp, token: &str, path: &str, limit: u32) -> Vec<Members> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(after) => format!("{path}?limit={limit}&after={after}"),
            None => format!("{path}?limit={limit}"),
        };
        let page: Members = app.read_as(token, &query).await;
        after = page.next_after.clone();
        pages.push(page);
        if after.is_none() || pages.len() > 20 {
            return pages;
        }
    }
}

#[tokio::test]
async fn members_are_read_in_pages_by_email_and_someone_joining_meanwhile_is_not_lost() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("a-owner@example.com").await;
    let organization = app.create_organization(&owner, "Crowd").await;
    for n in 1..=6 {
        let (id, _) = app.create_verified_user(&format!("m{n}@example.com")).await;
        app.add_member(&organization, &id, "member").await;
    }
    assert_eq!(
        invite(&app, &owner, &organization, "waiting@example.com")
            .await
            .status(),
        201
    );
    let path = format!("/api/organizations/{organization}/members");
    let whole = members(&app, &owner, &organization).await;
    assert_eq!(whole.members.len(), 7);
    assert_eq!(whole.next_after, None, "the default page holds them all");

    let pages = every_page(&app, &owner, &path, 3).await;
    let sizes: Vec<usize> = pages.iter().map(|page| page.members.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let paged: Vec<Member> = pages.iter().flat_map(|page| page.members.clone()).collect();
    assert_eq!(
        paged, whole.members,
        "the pages, joined, are the whole list in order"
    );
    assert_eq!(
        pages[0].invitations.len(),
        1,
        "invitations come with the first page"
    );
    assert!(pages[1..].iter().all(|page| page.invitations.is_empty()));

    // Someone joining between two pages, sorting after the cursor, is on a later page.
    let first: Members = app.read_as(&owner, &format!("{path}?limit=2")).await;
    let cursor = first.next_after.clone().expect("a second page");
    let (late, _) = app.create_verified_user("m9-late@example.com").await;
    app.add_member(&organization, &late, "member").await;
    let mut rest: Vec<Member> = Vec::new();
    let mut after = Some(cursor);
    while let Some(from) = after {
        let page: Members = app
            .read_as(&owner, &format!("{path}?limit=2&after={from}"))
            .await;
        rest.extend(page.members);
        after = page.next_after;
    }
    let seen: Vec<&str> = first
        .members
        .iter()
        .chain(&rest)
        .map(|member| member.email.as_str())
        .collect();
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(seen.contains(&"m9-late@example.com"));
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    assert_eq!(seen, sorted, "no one twice, in order");

    // Platform staff page the same list.
    let (_, staff) = app.create_staff("staff@example.com").await;
    let staff_pages = every_page(
        &app,
        &staff,
        &format!("/api/staff/organizations/{organization}/members"),
        5,
    )
    .await;
    let staff_sizes: Vec<usize> = staff_pages.iter().map(|page| page.members.len()).collect();
    assert_eq!(staff_sizes, [5, 3]);
}

#[tokio::test]
async fn a_bad_members_query_is_refused_with_400() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let other = app.create_organization(&owner, "Other").await;
    let (stranger, _) = app.create_verified_user("stranger@example.com").await;
    app.add_member(&other, &stranger, "member").await;
    let path = format!("/api/organizations/{organization}/members");
    for query in [
        "limit=0".to_owned(),
        "limit=501".to_owned(),
        "limit=-1".to_owned(),
        "limit=many".to_owned(),
        "after=no-such-user".to_owned(),
        // A member of another organization is no cursor here.
        format!("after={stranger}"),
    ] {
        let response = app.get_as(&owner, &format!("{path}?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let error: ApiError = response.json().await.expect("an ApiError body");
        assert!(!error.message.is_empty(), "{query}");
    }
}
