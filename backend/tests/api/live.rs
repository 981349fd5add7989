use stratus_shared::api::organizations::SystemDetail;
use stratus_shared::{ApiError, ConnectionState, ErrorCode};

use crate::helpers::{open_gateway, restart, send_heartbeat, spawn_app, SseReader, TestApp};

async fn detail(app: &TestApp, token: &str, system: &str) -> SystemDetail {
    app.read_as(token, &format!("/api/systems/{system}")).await
}

/// Waits until the DMS's history holds `count` transitions (they are written in the background).
async fn wait_for_transitions(
    app: &TestApp,
    token: &str,
    system: &str,
    count: usize,
) -> SystemDetail {
    for _ in 0..200 {
        let detail = detail(app, token, system).await;
        if detail.transitions.len() >= count {
            return detail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the history never reached {count} transitions");
}

#[tokio::test]
async fn the_stream_needs_a_signed_in_person_and_takes_no_token_in_the_url() {
    let app = spawn_app().await;
    let (_, token) = app.create_user("alice@example.com").await;

    let response = app.get("/api/live").await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::Unauthorized);
    let response = app.get(&format!("/api/live?access_token={token}")).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_gateway_drives_a_dms_through_every_state_seen_in_order_on_the_stream() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let (_, mallory) = app.create_user("mallory@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    app.create_organization(&mallory, "Elsewhere").await;
    let (system, code) = app.create_system(&alice, &organization, "Main DMS").await;

    let mut stream = SseReader::open(&app, &alice, None).await;
    let mut foreign = SseReader::open(&app, &mallory, None).await;
    let snapshot = stream.next().await;
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data["systems"][0]["system_id"], system.as_str());
    assert_eq!(snapshot.data["systems"][0]["state"], "never_connected");
    let foreign_snapshot = foreign.next().await;
    assert_eq!(foreign_snapshot.data["systems"], serde_json::json!([]));

    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    // Connected, but no DMS report yet.
    assert_eq!(
        stream.next_state().await,
        (system.clone(), "dms_not_responding".into())
    );
    send_heartbeat(&mut socket, true).await;
    assert_eq!(
        stream.next_state().await,
        (system.clone(), "connected".into())
    );
    send_heartbeat(&mut socket, true).await;
    send_heartbeat(&mut socket, false).await;
    let state = stream.next_change().await;
    assert_eq!(state["state"], "dms_not_responding");
    assert!(state["last_online_at"].is_string());
    send_heartbeat(&mut socket, true).await;
    assert_eq!(
        stream.next_state().await,
        (system.clone(), "connected".into())
    );
    socket.close(None).await.unwrap();
    assert_eq!(
        stream.next_state().await,
        (system.clone(), "disconnected".into())
    );

    // Another organization's person saw none of it: their next event is their own DMS.
    let (theirs, _) = {
        let organizations: Vec<serde_json::Value> = app
            .get_as(&mallory, "/api/organizations")
            .await
            .json()
            .await
            .unwrap();
        app.create_system(&mallory, organizations[0]["id"].as_str().unwrap(), "Theirs")
            .await
    };
    assert_eq!(
        foreign.next_state().await,
        (theirs, "never_connected".into())
    );

    // The history holds every transition, newest first.
    let detail = wait_for_transitions(&app, &alice, &system, 6).await;
    let states: Vec<ConnectionState> = detail.transitions.iter().map(|t| t.state).collect();
    use ConnectionState::*;
    assert_eq!(
        states,
        vec![
            Disconnected,
            Connected,
            DmsNotResponding,
            Connected,
            DmsNotResponding,
            NeverConnected
        ]
    );
    assert_eq!(detail.system.state, Disconnected);
    assert!(detail.system.last_online_at.is_some());
}

#[tokio::test]
async fn a_stream_resumes_after_its_last_event_id_or_starts_with_a_snapshot() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (system, code) = app.create_system(&alice, &organization, "Main DMS").await;

    let mut stream = SseReader::open(&app, &alice, None).await;
    let snapshot = stream.next().await;
    drop(stream);

    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    // Wait for the change to happen, through a fresh stream.
    let mut watcher = SseReader::open(&app, &alice, None).await;
    if watcher.next().await.data["systems"][0]["state"] != "connected" {
        while watcher.next_state().await.1 != "connected" {}
    }

    // Missed: not responding, then connected; replayed as one event with the latest.
    let mut resumed = SseReader::open(&app, &alice, Some(&snapshot.id)).await;
    let missed = resumed.next().await;
    assert_eq!(missed.event, "changes");
    assert_eq!(missed.data["states"].as_array().map(Vec::len), Some(1));
    assert_eq!(missed.data["states"][0]["system_id"], system.as_str());
    assert_eq!(missed.data["states"][0]["state"], "connected");

    let mut fresh = SseReader::open(&app, &alice, Some("from-another-process-7")).await;
    let event = fresh.next().await;
    assert_eq!(event.event, "snapshot");
    assert_eq!(event.data["systems"][0]["state"], "connected");
}

#[tokio::test]
async fn a_restart_keeps_last_online_and_the_history() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (system, code) = app.create_system(&alice, &organization, "Main DMS").await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    // never_connected, dms_not_responding, connected
    let before = wait_for_transitions(&app, &alice, &system, 3).await;
    let last_online = before.system.last_online_at.expect("online");

    let app = restart(app).await;

    let after = wait_for_transitions(&app, &alice, &system, 4).await;
    // The gateway of the old process is gone: the DMS is disconnected, and says since when
    // it was last online.
    assert_eq!(after.system.state, ConnectionState::Disconnected);
    assert_eq!(after.transitions[0].state, ConnectionState::Disconnected);
    assert_eq!(&after.transitions[1..], &before.transitions[..]);
    let kept = after.system.last_online_at.expect("last online survives");
    assert!(
        (kept - last_online).num_milliseconds().abs() < 1,
        "{kept} vs {last_online}"
    );

    // Another restart changes nothing: no new transition, and the stream still says since
    // when the DMS has been disconnected.
    let app = restart(app).await;
    let again = detail(&app, &alice, &system).await;
    assert_eq!(again.transitions, after.transitions);
    let snapshot = SseReader::open(&app, &alice, None).await.next().await;
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(snapshot.data["systems"][0]["at"].clone()).unwrap();
    assert_eq!(at, after.transitions[0].at);
    // The first server of this test still runs (only a real restart ends it): its gateway
    // stays open until here, or closing it would record a transition through that server.
    drop(socket);
}

#[tokio::test]
async fn the_openapi_document_describes_the_dms_endpoints_and_their_security() {
    let app = spawn_app().await;
    let document: serde_json::Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let paths = &document["paths"];
    for (path, method, statuses) in [
        ("/api/organizations", "get", vec!["200", "401"]),
        ("/api/organizations", "post", vec!["201", "400", "401"]),
        (
            "/api/organizations/{organization_id}/systems",
            "post",
            vec!["201", "404", "409"],
        ),
        (
            "/api/systems/{system_id}/connect-codes",
            "post",
            vec!["201", "403", "404"],
        ),
        ("/api/systems", "get", vec!["200"]),
        ("/api/systems/{system_id}", "get", vec!["200", "404"]),
        (
            "/api/systems/{system_id}",
            "delete",
            vec!["204", "403", "404"],
        ),
        ("/api/gateway/connect", "post", vec!["200", "400", "401"]),
        ("/api/gateway/refresh", "post", vec!["200", "401"]),
        ("/api/gateway/ws", "get", vec!["101", "401"]),
        ("/api/live", "get", vec!["200", "401"]),
    ] {
        let operation = &paths[path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        for status in statuses {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} lacks {status}"
            );
        }
    }
    let components = &document["components"];
    for scheme in ["access_token", "dms_token"] {
        assert_eq!(components["securitySchemes"][scheme]["scheme"], "bearer");
    }
    for schema in [
        "ConnectionState",
        "Heartbeat",
        "DmsCredentials",
        "SystemDetail",
        "SystemStateEvent",
        "Snapshot",
    ] {
        assert!(components["schemas"][schema].is_object(), "schema {schema}");
    }
}

#[tokio::test]
async fn when_the_database_goes_away_every_state_becomes_unknown() {
    let app = spawn_app().await;
    if app.database.url().is_none() {
        eprintln!("skipped on SQLite: needs a database server that can go away");
        return;
    }
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (system, _) = app.create_system(&alice, &organization, "Main DMS").await;
    let mut stream = SseReader::open(&app, &alice, None).await;
    assert_eq!(stream.next().await.event, "snapshot");

    app.database.drop_now();

    // The health check notices within a few seconds.
    assert_eq!(stream.next_state().await, (system, "unknown".into()));
}

#[tokio::test]
async fn an_open_stream_follows_organizations_created_after_it_opened() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let mut stream = SseReader::open(&app, &alice, None).await;
    let first = stream.next().await;
    assert_eq!(first.event, "snapshot");
    assert_eq!(first.data["systems"], serde_json::json!([]));

    let organization = app.create_organization(&alice, "Acme").await;
    assert_eq!(stream.next().await.event, "snapshot");
    let (system, _) = app.create_system(&alice, &organization, "Main DMS").await;
    assert_eq!(
        stream.next_state().await,
        (system, "never_connected".into())
    );
}

#[tokio::test]
async fn a_stream_ends_when_the_access_token_that_opened_it_expires() {
    let app = spawn_app().await;
    let (alice_id, _) = app.create_user("alice@example.com").await;
    // Issued almost 15 minutes ago: it expires in about two seconds.
    let issued = chrono::Utc::now() - stratus_backend::auth::tokens::ACCESS_TOKEN_TTL
        + chrono::TimeDelta::seconds(2);
    let (token, _) = app.access_tokens.issue(&alice_id, issued);

    let mut stream = SseReader::open(&app, &token, None).await;
    assert_eq!(stream.next().await.event, "snapshot");
    stream.ended().await;
}
