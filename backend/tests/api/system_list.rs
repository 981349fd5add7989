//! `GET /api/systems` is served from a cache of ready-made bodies: it must still follow every
//! change at once and answer in the encoding the client takes.

use std::io::Read;

use stratus_shared::api::organizations::System;

use crate::helpers::{open_gateway, send_heartbeat, spawn_app, SseReader, TestApp};

async fn list(app: &TestApp, token: &str) -> Vec<System> {
    app.read_as(token, "/api/systems").await
}

async fn list_with(app: &TestApp, token: &str, accept_encoding: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/api/systems", app.address))
        .bearer_auth(token)
        .header("Accept-Encoding", accept_encoding)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_list_is_gzip_compressed_for_clients_that_take_it_and_plain_for_others() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    for name in ["Main DMS", "Backup DMS"] {
        app.create_system(&alice, &organization, name).await;
    }
    let plain = list_with(&app, &alice, "identity").await;
    assert_eq!(plain.status(), 200);
    assert_ne!(
        plain
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(plain.headers()["vary"], "Accept-Encoding");
    assert_eq!(plain.headers()["content-type"], "application/json");
    let plain = plain.bytes().await.unwrap();

    for accepted in [
        "gzip, deflate",
        "br;q=1.0, gzip;q=0.5",
        "gzip;q=0.2, identity;q=0.1",
    ] {
        let compressed = list_with(&app, &alice, accepted).await;
        assert_eq!(
            compressed.headers()["content-encoding"],
            "gzip",
            "{accepted}"
        );
        assert_eq!(compressed.headers()["vary"], "Accept-Encoding");
        let body = compressed.bytes().await.unwrap();
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut unpacked)
            .expect("a gzip body");
        assert_eq!(unpacked, plain, "{accepted}");
    }
    for refused in ["gzip;q=0", "br", "deflate"] {
        let response = list_with(&app, &alice, refused).await;
        assert_ne!(
            response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip"),
            "{refused}"
        );
        assert_eq!(response.bytes().await.unwrap(), plain, "{refused}");
    }
    let systems: Vec<System> = serde_json::from_slice(&plain).unwrap();
    let names: Vec<&str> = systems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Backup DMS", "Main DMS"]);
}

#[tokio::test]
async fn the_list_follows_every_change_at_once() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let (bob_id, bob) = app.create_user("bob@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (main, code) = app.create_system(&alice, &organization, "Main DMS").await;
    assert_eq!(list(&app, &alice).await.len(), 1);
    assert_eq!(list(&app, &bob).await.len(), 0);

    // Registered, renamed, joined: each shows on the very next read.
    let (backup, _) = app.create_system(&alice, &organization, "Backup DMS").await;
    assert_eq!(list(&app, &alice).await.len(), 2);
    let response = app
        .patch_as(
            &alice,
            &format!("/api/systems/{main}"),
            serde_json::json!({ "name": "Primary DMS" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let names: Vec<String> = list(&app, &alice)
        .await
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Backup DMS", "Primary DMS"]);
    app.add_member(&organization, &bob_id, "member").await;
    assert_eq!(list(&app, &bob).await.len(), 2);

    // A state change is in the list as soon as the live stream has it.
    let mut stream = SseReader::open(&app, &alice, None).await;
    assert_eq!(stream.next().await.event, "snapshot");
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    while stream.next_state().await.1 != "connected" {}
    let state_of = |systems: Vec<System>, id: &str| {
        systems
            .into_iter()
            .find(|system| system.id == id)
            .map(|system| system.state)
    };
    assert_eq!(
        state_of(list(&app, &alice).await, &main),
        Some(stratus_shared::ConnectionState::Connected)
    );

    // Removed: gone at once, for everyone.
    assert_eq!(
        app.delete_as(&alice, &format!("/api/systems/{backup}"))
            .await
            .status(),
        204
    );
    assert_eq!(list(&app, &bob).await.len(), 1);
    assert_eq!(list(&app, &alice).await.len(), 1);
}
