//! Audit logs a page at a time: keyset pages that neither repeat nor skip an entry (also when
//! entries are written between two pages), and clear refusals of a bad `limit` or `before`.

use std::collections::HashSet;

use serde_json::json;
use stratus_shared::api::audit::AuditPage;
use stratus_shared::{ApiError, ErrorCode};

use crate::helpers::{spawn_app, TestApp};

async fn page(app: &TestApp, token: &str, path: &str) -> AuditPage {
    app.read_as(token, path).await
}

#[tokio::test]
async fn an_organization_log_reads_page_by_page_newest_first_without_repeats_or_gaps() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Paged").await;
    for index in 1..=7 {
        app.create_system(&owner, &organization, &format!("DMS {index}"))
            .await;
    }
    // 8 entries: the creation and 7 registrations.
    let base = format!("/api/organizations/{organization}/audit-log");
    let everything = page(&app, &owner, &base).await;
    assert_eq!(everything.entries.len(), 8);
    assert_eq!(everything.next_before, None);

    let mut seen = Vec::new();
    let mut path = format!("{base}?limit=3");
    let mut sizes = Vec::new();
    loop {
        let current = page(&app, &owner, &path).await;
        sizes.push(current.entries.len());
        seen.extend(current.entries.iter().map(|entry| entry.id.clone()));
        if sizes.len() == 1 {
            // Written between two pages: it belongs before the first page, so the next
            // pages neither repeat an entry nor miss one.
            app.create_system(&owner, &organization, "Late DMS").await;
        }
        match current.next_before {
            Some(before) => path = format!("{base}?limit=3&before={before}"),
            None => break,
        }
    }
    assert_eq!(sizes, [3, 3, 2]);
    let expected: Vec<String> = everything.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(seen, expected, "the pages are the whole log in order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 8);
}

#[tokio::test]
async fn a_bad_limit_or_a_foreign_cursor_is_refused_with_400() {
    let app = spawn_app().await;
    let (_, owner) = app.create_verified_user("owner@example.com").await;
    let mine = app.create_organization(&owner, "Mine").await;
    let (_, neighbour) = app.create_verified_user("neighbour@example.com").await;
    let theirs = app.create_organization(&neighbour, "Theirs").await;
    let their_entry = page(
        &app,
        &neighbour,
        &format!("/api/organizations/{theirs}/audit-log"),
    )
    .await
    .entries[0]
        .id
        .clone();
    let base = format!("/api/organizations/{mine}/audit-log");
    for query in [
        "limit=0".to_owned(),
        "limit=501".to_owned(),
        "limit=-1".to_owned(),
        "limit=many".to_owned(),
        "before=no-such-entry".to_owned(),
        // Another organization's entry tells nothing about it: the same answer as a made-up id.
        format!("before={their_entry}"),
    ] {
        let response = app.get_as(&owner, &format!("{base}?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let error: ApiError = response.json().await.expect("an ApiError");
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{query}");
    }
    let most = page(&app, &owner, &format!("{base}?limit=500")).await;
    assert_eq!(most.entries.len(), 1);
}

#[tokio::test]
async fn the_staff_log_reads_page_by_page() {
    let app = spawn_app().await;
    let (_, staff) = app.create_staff("staff@example.com").await;
    for name in ["One", "Two", "Three"] {
        let response = app
            .post_json(
                Some(&staff),
                "/api/staff/organizations",
                &json!({ "name": name, "owner_email": "first-owner@example.com" }),
            )
            .await;
        assert_eq!(response.status(), 201, "{name}");
    }
    let everything = page(&app, &staff, "/api/staff/audit").await;
    assert!(everything.entries.len() >= 3, "{:?}", everything.entries);
    let mut seen = Vec::new();
    let mut path = "/api/staff/audit?limit=2".to_owned();
    loop {
        let current = page(&app, &staff, &path).await;
        assert!(current.entries.len() <= 2);
        seen.extend(current.entries.into_iter().map(|entry| entry.id));
        match current.next_before {
            Some(before) => path = format!("/api/staff/audit?limit=2&before={before}"),
            None => break,
        }
    }
    let expected: Vec<String> = everything.entries.into_iter().map(|e| e.id).collect();
    assert_eq!(seen, expected);
}
