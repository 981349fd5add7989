use futures_util::SinkExt;
use serde_json::json;
use stratus_shared::api::gateway::{close_code, DmsCredentials};
use stratus_shared::api::organizations::System;
use stratus_shared::{ApiError, ConnectionState, ErrorCode};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    close_code_of, open_gateway, send_heartbeat, spawn_app, spawn_app_with, SseReader, TestApp,
};

/// A signed-in owner with one registered DMS: (owner token, system id, connect code).
async fn owner_with_dms(app: &TestApp) -> (String, String, String) {
    let (_, owner) = app.create_user("owner@example.com").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (system, code) = app.create_system(&owner, &organization, "Main DMS").await;
    (owner, system, code)
}

async fn refresh(app: &TestApp, key: &str) -> reqwest::Response {
    app.post_json(None, "/api/gateway/refresh", &json!({ "refresh_key": key }))
        .await
}

async fn state_of(app: &TestApp, owner: &str, system: &str) -> System {
    let response = app.get_as(owner, &format!("/api/systems/{system}")).await;
    assert_eq!(response.status(), 200);
    let detail: serde_json::Value = response.json().await.unwrap();
    serde_json::from_value(detail["system"].clone()).unwrap()
}

#[tokio::test]
async fn a_connect_code_works_once_and_gives_a_seven_day_token_and_a_refresh_key() {
    let app = spawn_app().await;
    let (_, system, code) = owner_with_dms(&app).await;

    let credentials = app.connect_dms(&code).await;
    assert_eq!(credentials.system_id, system);
    let days = (credentials.token_expires_at - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "{days} hours");
    assert!(credentials.refresh_key_expires_at > credentials.token_expires_at);
    assert_eq!(credentials.heartbeat_interval_seconds, 10);

    let response = app
        .post_json(
            None,
            "/api/gateway/connect",
            &json!({ "connect_code": code }),
        )
        .await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidConnectCode);
}

#[tokio::test]
async fn unknown_expired_and_malformed_connect_codes_are_refused() {
    let app = spawn_app().await;
    let (_, _, code) = owner_with_dms(&app).await;

    let response = app
        .post_json(
            None,
            "/api/gateway/connect",
            &json!({ "connect_code": "scc_nope" }),
        )
        .await;
    assert_eq!(response.status(), 401);

    for body in [
        json!({}),
        json!({ "connect_code": 12 }),
        json!({ "connect_code": "x".repeat(500) }),
    ] {
        let response = app.post_json(None, "/api/gateway/connect", &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
    }

    // An hour later the code has expired.
    app.pool
        .run(|connection| {
            use diesel::prelude::*;
            use stratus_backend::db::schema::connect_codes;
            diesel::update(connect_codes::table)
                .set(
                    connect_codes::expires_at
                        .eq(chrono::Utc::now().naive_utc() - chrono::TimeDelta::seconds(1)),
                )
                .execute(connection)?;
            Ok(())
        })
        .await
        .unwrap();
    let response = app
        .post_json(
            None,
            "/api/gateway/connect",
            &json!({ "connect_code": code }),
        )
        .await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidConnectCode);
}

#[tokio::test]
async fn a_refresh_key_renews_once_and_its_reuse_revokes_the_dms_until_a_new_connect_code() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let first = app.connect_dms(&code).await;

    let response = refresh(&app, &first.refresh_key).await;
    assert_eq!(response.status(), 200);
    let second: DmsCredentials = response.json().await.unwrap();
    assert_ne!(second.refresh_key, first.refresh_key);
    assert_ne!(second.token, first.token);
    // Renewal alone leaves the current token valid.
    let socket = open_gateway(&app, Some(&second.token)).await;
    assert!(socket.is_ok());
    drop(socket);

    // The spent key again: refused, and everything the DMS holds is revoked.
    let response = refresh(&app, &first.refresh_key).await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidDmsCredentials);
    assert_eq!(refresh(&app, &second.refresh_key).await.status(), 401);
    assert_eq!(
        open_gateway(&app, Some(&second.token)).await.err(),
        Some(401)
    );

    // An Owner's new connect code brings the same DMS back.
    let response = app
        .post_json(
            Some(&owner),
            &format!("/api/systems/{system}/connect-codes"),
            &json!({}),
        )
        .await;
    let new_code: serde_json::Value = response.json().await.unwrap();
    let third = app.connect_dms(new_code["code"].as_str().unwrap()).await;
    assert_eq!(third.system_id, system);
    assert!(open_gateway(&app, Some(&third.token)).await.is_ok());
}

#[tokio::test]
async fn expired_and_unknown_refresh_keys_are_refused() {
    let app = spawn_app().await;
    let (_, _, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;

    assert_eq!(refresh(&app, "srk_unknown").await.status(), 401);
    app.pool
        .run(|connection| {
            use diesel::prelude::*;
            use stratus_backend::db::schema::gateway_refresh_keys;
            diesel::update(gateway_refresh_keys::table)
                .set(gateway_refresh_keys::expires_at.eq(chrono::Utc::now().naive_utc()))
                .execute(connection)?;
            Ok(())
        })
        .await
        .unwrap();
    let response = refresh(&app, &credentials.refresh_key).await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidDmsCredentials);
}

#[tokio::test]
async fn the_websocket_refuses_missing_forged_and_people_tokens() {
    let app = spawn_app().await;
    let (owner, _, _) = owner_with_dms(&app).await;

    assert_eq!(open_gateway(&app, None).await.err(), Some(401));
    assert_eq!(open_gateway(&app, Some("not-a-jwt")).await.err(), Some(401));
    // A person's access token is not a DMS token.
    assert_eq!(open_gateway(&app, Some(&owner)).await.err(), Some(401));

    // The refusal is the usual JSON error.
    let response = app.get("/api/gateway/ws").await;
    assert_eq!(response.status(), 401);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::InvalidDmsCredentials);
}

/// A WebSocket upgrade request as a gateway sends it, with `token` if any.
async fn upgrade_request(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}{path}", app.address))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn refused_upgrades_get_the_usual_json_errors_and_no_other_path_serves_a_websocket() {
    let app = spawn_app().await;
    let (owner, _, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;

    let cases = [
        (
            "/api/gateway/ws",
            None,
            401,
            ErrorCode::InvalidDmsCredentials,
        ),
        (
            "/api/gateway/ws",
            Some(owner.as_str()),
            401,
            ErrorCode::InvalidDmsCredentials,
        ),
        ("/api/live", Some(owner.as_str()), 404, ErrorCode::NotFound),
        (
            "/",
            Some(credentials.token.as_str()),
            404,
            ErrorCode::NotFound,
        ),
    ];
    for (path, token, status, code) in cases {
        let response = upgrade_request(&app, path, token).await;
        assert_eq!(response.status(), status, "{path}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, code, "{path}");
    }
    // The server still serves sockets and requests.
    assert!(open_gateway(&app, Some(&credentials.token)).await.is_ok());
    assert_eq!(app.get("/api/health").await.status(), 200);
}

#[tokio::test]
async fn heartbeats_drive_the_state_and_pings_are_answered() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();

    socket
        .send(Message::Ping(b"hi".to_vec().into()))
        .await
        .unwrap();
    use futures_util::StreamExt;
    let pong = tokio::time::timeout(std::time::Duration::from_secs(20), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));

    send_heartbeat(&mut socket, true).await;
    let system = wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;
    assert_eq!(system.dms_version.as_deref(), Some("10.5.2"));
    assert_eq!(system.agent_count, Some(3));
    assert!(system.last_online_at.is_some());
}

/// Polls the API until the DMS reaches `state` (heartbeats are handled asynchronously).
async fn wait_for_state(
    app: &TestApp,
    owner: &str,
    system: &str,
    state: ConnectionState,
) -> System {
    for _ in 0..200 {
        let current = state_of(app, owner, system).await;
        if current.state == state {
            return current;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the DMS never reached {state}");
}

#[tokio::test]
async fn malformed_binary_and_oversized_frames_close_the_socket_without_harm() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;

    let cases: Vec<(Message, u16)> = vec![
        (Message::text("not json"), close_code::MALFORMED),
        (
            Message::text(r#"{"dms_responding":"yes"}"#),
            close_code::MALFORMED,
        ),
        (
            Message::text(
                r#"{"dms_responding":true,"dms_version":"1","agent_count":-1,"timestamp":"2026-01-01T00:00:00Z"}"#,
            ),
            close_code::MALFORMED,
        ),
        (Message::binary(vec![1, 2, 3]), close_code::MALFORMED),
        (Message::text("x".repeat(64 * 1024)), close_code::TOO_LARGE),
    ];
    for (frame, expected) in cases {
        let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
        socket.send(frame).await.unwrap();
        assert_eq!(close_code_of(&mut socket).await, Some(expected));
    }
    // The server is fine and the DMS can still connect.
    assert_eq!(app.get("/api/health").await.status(), 200);
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;
}

#[tokio::test]
async fn a_link_confirmation_is_read_by_its_content_not_its_first_bytes() {
    use futures_util::StreamExt;
    let app = spawn_app().await;
    let (_, _, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;

    // Leading whitespace and another field order: still a link confirmation, answered.
    let spaced = concat!(
        " \n",
        r#"{ "link_account": {"dms_user":"SKYLINE\\jdoe","code":"AAAA-AAAA","request_id":7} }"#
    );
    socket.send(Message::text(spaced)).await.unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    break serde_json::from_str::<serde_json::Value>(text.as_str()).unwrap()
                }
                Some(Ok(_)) => continue,
                other => panic!("no answer to the link confirmation: {other:?}"),
            }
        }
    })
    .await
    .expect("an answer within 20 s");
    assert_eq!(answer["link_account_result"]["request_id"], 7);
    assert_eq!(answer["link_account_result"]["linked"], false);

    // A link confirmation missing a field closes the socket as malformed.
    socket
        .send(Message::text(r#" {"link_account":{"request_id":8}}"#))
        .await
        .unwrap();
    assert_eq!(
        close_code_of(&mut socket).await,
        Some(close_code::MALFORMED)
    );
}

#[tokio::test]
async fn a_new_connection_of_the_same_dms_replaces_the_old_one() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;

    let mut old = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut old, true).await;
    wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;
    let mut new = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    assert_eq!(close_code_of(&mut old).await, Some(close_code::REPLACED));
    send_heartbeat(&mut new, true).await;
    wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;
}

#[tokio::test]
async fn removing_a_dms_cuts_its_gateway_off_and_its_tokens_stop_working() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;
    let mut stream = SseReader::open(&app, &owner, None).await;
    assert_eq!(stream.next().await.event, "snapshot");

    let response = app
        .delete_as(&owner, &format!("/api/systems/{system}"))
        .await;
    assert_eq!(response.status(), 204);

    assert_eq!(close_code_of(&mut socket).await, Some(close_code::REVOKED));
    let removed = stream.next().await;
    assert_eq!(removed.event, "changes");
    assert_eq!(removed.data["states"], serde_json::json!([]));
    assert_eq!(removed.data["removed"][0]["system_id"], system.as_str());
    assert_eq!(
        open_gateway(&app, Some(&credentials.token)).await.err(),
        Some(401)
    );
    assert_eq!(refresh(&app, &credentials.refresh_key).await.status(), 401);
    assert_eq!(
        app.get_as(&owner, &format!("/api/systems/{system}"))
            .await
            .status(),
        404
    );
    let snapshot = SseReader::open(&app, &owner, None).await.next().await;
    assert_eq!(snapshot.data["systems"], serde_json::json!([]));
}

#[tokio::test]
async fn connecting_with_a_new_code_cuts_off_the_old_gateway() {
    let app = spawn_app().await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let old = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&old.token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    wait_for_state(&app, &owner, &system, ConnectionState::Connected).await;

    let response = app
        .post_json(
            Some(&owner),
            &format!("/api/systems/{system}/connect-codes"),
            &json!({}),
        )
        .await;
    let new_code: serde_json::Value = response.json().await.unwrap();
    app.connect_dms(new_code["code"].as_str().unwrap()).await;

    assert_eq!(close_code_of(&mut socket).await, Some(close_code::REVOKED));
    assert_eq!(open_gateway(&app, Some(&old.token)).await.err(), Some(401));
    assert_eq!(refresh(&app, &old.refresh_key).await.status(), 401);
}

#[tokio::test]
async fn silence_past_the_timeout_makes_a_dms_not_responding_then_disconnected_and_closes_the_socket(
) {
    let app = spawn_app_with(|settings| settings.heartbeat_timeout_seconds = 1).await;
    let (owner, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    let mut stream = SseReader::open(&app, &owner, None).await;
    assert_eq!(stream.next().await.event, "snapshot");

    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    assert_eq!(stream.next_state().await.1, "dms_not_responding");
    send_heartbeat(&mut socket, true).await;
    assert_eq!(stream.next_state().await.1, "connected");
    // Only pings from now on: the gateway is alive, but the DMS's reports go stale.
    let pinging = async {
        loop {
            socket.send(Message::Ping(Vec::new().into())).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        _ = pinging => unreachable!(),
        state = stream.next_state() => assert_eq!(state, (system.clone(), "dms_not_responding".into())),
    }
    // Then nothing at all: the server closes the idle socket and the DMS is disconnected.
    assert_eq!(close_code_of(&mut socket).await, Some(close_code::IDLE));
    assert_eq!(stream.next_state().await, (system, "disconnected".into()));
}

#[tokio::test]
async fn a_socket_that_sends_nothing_is_closed_after_the_timeout() {
    let app = spawn_app_with(|settings| settings.heartbeat_timeout_seconds = 1).await;
    let (_, _, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(&app, Some(&credentials.token)).await.unwrap();
    assert_eq!(close_code_of(&mut socket).await, Some(close_code::IDLE));
}

#[tokio::test]
async fn the_socket_closes_when_the_dms_token_expires() {
    let app = spawn_app().await;
    let (_, system, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;
    // A token of this DMS issued almost 7 days ago: it expires in about two seconds.
    let secrets =
        stratus_backend::secrets::Secrets::load_or_generate(app.data_dir.path(), None, None)
            .unwrap();
    let tokens = stratus_backend::auth::DmsTokens::new(&secrets.gateway_key, &app.public_url);
    let issued = chrono::Utc::now() - stratus_backend::auth::dms_tokens::DMS_TOKEN_TTL
        + chrono::TimeDelta::seconds(2);
    let generation = tokens.verify(&credentials.token).unwrap().gen;
    let (token, _) = tokens.issue(&system, &credentials.organization_id, generation, issued);

    let mut socket = open_gateway(&app, Some(&token)).await.unwrap();
    send_heartbeat(&mut socket, true).await;
    assert_eq!(close_code_of(&mut socket).await, Some(close_code::REVOKED));
}

#[tokio::test]
async fn of_concurrent_uses_of_one_connect_code_exactly_one_wins_and_none_fails_oddly() {
    let app = spawn_app().await;
    let (_, _, code) = owner_with_dms(&app).await;

    let body = json!({ "connect_code": code });
    let attempts = (0..8).map(|_| app.post_json(None, "/api/gateway/connect", &body));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();

    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn of_concurrent_renewals_with_one_refresh_key_at_most_one_wins() {
    let app = spawn_app().await;
    let (_, _, code) = owner_with_dms(&app).await;
    let credentials = app.connect_dms(&code).await;

    let attempts = (0..8).map(|_| refresh(&app, &credentials.refresh_key));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();

    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_new_connect_code_voids_the_older_unused_ones() {
    let app = spawn_app().await;
    let (owner, system, first_code) = owner_with_dms(&app).await;
    let issue = || async {
        let response = app
            .post_json(
                Some(&owner),
                &format!("/api/systems/{system}/connect-codes"),
                &json!({}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let code: serde_json::Value = response.json().await.unwrap();
        code["code"].as_str().unwrap().to_owned()
    };
    let second_code = issue().await;
    let third_code = issue().await;
    for old in [&first_code, &second_code] {
        let response = app
            .post_json(
                None,
                "/api/gateway/connect",
                &json!({ "connect_code": old }),
            )
            .await;
        assert_eq!(response.status(), 401, "an older code still connects");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ErrorCode::InvalidConnectCode);
    }
    assert_eq!(app.connect_dms(&third_code).await.system_id, system);
}
