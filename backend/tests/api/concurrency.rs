//! Read-then-write requests at once: each checks a permission (a read) before it writes, which
//! SQLite refuses to upgrade to a write ("database is locked") when another connection wrote
//! meanwhile, unless the transaction takes the write lock first (`Database::run_write`). Many
//! such requests of every kind run together here and every one must succeed.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, unique_email};

/// How many requests of each kind run together.
const EACH: usize = 12;

#[tokio::test]
async fn read_then_write_requests_succeed_when_they_all_run_at_once() {
    let app = spawn_app().await;
    let (owner_id, owner) = app.create_user(&unique_email("acme.example")).await;
    let organization = app.create_organization(&owner, "Acme").await;
    let mut systems = Vec::new();
    for index in 0..EACH * 4 {
        let (id, _) = app
            .create_system(&owner, &organization, &format!("DMS {index}"))
            .await;
        systems.push(id);
    }
    let mut members = Vec::new();
    for _ in 0..EACH {
        let (id, _) = app.create_user(&unique_email("acme.example")).await;
        app.add_member(&organization, &id, "member").await;
        members.push(id);
    }
    // The Owner also links an account on the DMSs whose links it later removes.
    for system in &systems[EACH * 3..] {
        app.insert_dms_account_link(system, &owner_id, "ops").await;
    }

    let mut requests = Vec::new();
    for index in 0..EACH {
        let rekeyed = &systems[index];
        let removed = &systems[EACH + index];
        let switched = &systems[EACH * 2 + index];
        let linked = &systems[EACH * 3 + index];
        requests.push((
            Method::POST,
            format!("/api/systems/{rekeyed}/connect-codes"),
            None,
            201,
        ));
        requests.push((Method::DELETE, format!("/api/systems/{removed}"), None, 204));
        requests.push((
            Method::DELETE,
            format!(
                "/api/organizations/{organization}/members/{}",
                members[index]
            ),
            None,
            204,
        ));
        requests.push((
            Method::PATCH,
            format!("/api/systems/{switched}/settings"),
            Some(json!({ "remote_access_enabled": false })),
            200,
        ));
        requests.push((
            Method::POST,
            format!("/api/systems/{rekeyed}/my-account/link-code"),
            None,
            201,
        ));
        requests.push((
            Method::DELETE,
            format!("/api/systems/{linked}/my-account"),
            None,
            204,
        ));
    }
    let answers = join_all(
        requests
            .iter()
            .map(|(method, path, body, _)| app.send(method.clone(), &owner, path, body.as_ref())),
    )
    .await;
    let mut failures = Vec::new();
    for ((method, path, _, expected), response) in requests.iter().zip(answers) {
        let status = response.status().as_u16();
        if status != *expected {
            let body = response.text().await.unwrap_or_default();
            failures.push(format!("{method} {path}: {status} {body}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} requests failed:\n{}",
        failures.len(),
        requests.len(),
        failures.join("\n")
    );

    // Every write happened: the DMSs are gone, the members left, the Owner is still there.
    let visible: Vec<serde_json::Value> = app.read_as(&owner, "/api/systems").await;
    assert_eq!(visible.len(), EACH * 3);
    let people: serde_json::Value = app
        .read_as(
            &owner,
            &format!("/api/organizations/{organization}/members"),
        )
        .await;
    let people = people["members"].as_array().expect("a member list");
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["user_id"], owner_id.as_str());
}
