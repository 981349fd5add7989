//! Floods: one tenant sends as much as it can, and another tenant's view must not suffer.
//! The figures (how far the flood got, how long the other tenant waited) are printed, and the
//! assertions bound them loosely: they prove the mechanism, the benchmarks measure speed.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    open_gateway, send_heartbeat, spawn_app, spawn_app_with, GatewaySocket, SseReader, TestApp,
};

/// A signed-in owner of a new organization with one connected DMS reporting "responding":
/// the owner's token, the organization, the DMS and its gateway's socket.
async fn tenant_with_connected_dms(
    app: &TestApp,
    email: &str,
) -> (String, String, String, GatewaySocket) {
    let (_, token) = app.create_user(email).await;
    let organization = app.create_organization(&token, email).await;
    let (system, code) = app.create_system(&token, &organization, "DMS").await;
    let credentials = app.connect_dms(&code).await;
    let mut socket = open_gateway(app, Some(&credentials.token))
        .await
        .expect("the gateway connects");
    send_heartbeat(&mut socket, true).await;
    (token, organization, system, socket)
}

fn heartbeat_with_agents(agent_count: u32, dms_responding: bool) -> Message {
    Message::text(format!(
        r#"{{"dms_responding":{dms_responding},"dms_version":"10.5.2","agent_count":{agent_count},"timestamp":"{}"}}"#,
        chrono::Utc::now().to_rfc3339()
    ))
}

async fn agent_count_of(app: &TestApp, token: &str, system: &str) -> u64 {
    let detail: serde_json::Value = app.read_as(token, &format!("/api/systems/{system}")).await;
    detail["system"]["agent_count"].as_u64().unwrap_or(0)
}

/// Opens `token`'s stream and reads it until `system` shows connected; the stream and the id
/// of the event that showed it (the snapshot's or a later one's).
async fn stream_once_connected(app: &TestApp, token: &str, system: &str) -> (SseReader, String) {
    let mut stream = SseReader::open(app, token, None).await;
    let mut event = stream.next().await;
    assert_eq!(event.event, "snapshot");
    loop {
        let list = if event.event == "snapshot" {
            &event.data["systems"]
        } else {
            &event.data["states"]
        };
        let connected = list.as_array().is_some_and(|states| {
            states
                .iter()
                .any(|s| s["system_id"] == system && s["state"] == "connected")
        });
        if connected {
            return (stream, event.id);
        }
        event = stream.next().await;
    }
}

/// Reads the stream until `system` shows `state`; how long that took.
async fn time_until(stream: &mut SseReader, system: &str, state: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (id, shown) = stream.next_state().await;
        if id == system && shown == state {
            return started.elapsed();
        }
    }
}

#[tokio::test]
async fn a_gateway_flooding_frames_is_read_at_its_pace_and_another_tenant_sees_its_change_at_once()
{
    let app = spawn_app().await;
    let (alice, _, alice_dms, mut alice_gateway) =
        tenant_with_connected_dms(&app, "alice@example.com").await;
    let (mallory, _, mallory_dms, mallory_gateway) =
        tenant_with_connected_dms(&app, "mallory@example.com").await;
    let (mut alice_stream, _) = stream_once_connected(&app, &alice, &alice_dms).await;

    // Mallory's gateway sends 20,000 frames as fast as the socket takes them, each with a
    // new agent count, for at most three seconds.
    const FRAMES: u32 = 20_000;
    let flood = tokio::spawn(async move {
        let mut gateway = mallory_gateway;
        let started = Instant::now();
        let mut sent = 0;
        for agents in 1..=FRAMES {
            let send = gateway.send(heartbeat_with_agents(agents, agents % 2 == 0));
            match tokio::time::timeout(Duration::from_secs(3), send).await {
                Ok(Ok(())) => sent = agents,
                _ => break,
            }
            if started.elapsed() > Duration::from_secs(3) {
                break;
            }
        }
        (sent, started.elapsed(), gateway)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    send_heartbeat(&mut alice_gateway, false).await;
    let waited = time_until(&mut alice_stream, &alice_dms, "dms_not_responding").await;
    let (sent, flooded_for, _mallory_gateway) = flood.await.unwrap();
    let read = agent_count_of(&app, &mallory, &mallory_dms).await;
    println!(
        "flood: {sent} frames sent in {flooded_for:?}, {read} read by the server; \
         the other tenant's change arrived after {waited:?}"
    );
    // 10 a second and 20 in a row by default: a few dozen at most, however many were sent.
    let allowed = 20 + 10 * (flooded_for.as_secs() + 2);
    assert!(sent > 1_000, "the flood was a flood ({sent} frames)");
    assert!(
        read <= allowed,
        "the server read {read} frames, more than its pace allows ({allowed})"
    );
    assert!(
        waited < Duration::from_secs(2),
        "the other tenant waited {waited:?}"
    );
}

#[tokio::test]
async fn a_flooding_organization_does_not_cost_another_its_replay() {
    // Both limits off, so one organization can publish thousands of changes in seconds.
    let app = spawn_app_with(|settings| {
        settings.state_changes_per_dms_per_minute = 0;
        settings.gateway_frames_per_second = 0;
    })
    .await;
    let (alice, _, alice_dms, mut alice_gateway) =
        tenant_with_connected_dms(&app, "alice@example.com").await;
    let (mallory, organization, _, _mallory_gateway) =
        tenant_with_connected_dms(&app, "mallory@example.com").await;
    let (alice_stream, last_seen) = stream_once_connected(&app, &alice, &alice_dms).await;
    drop(alice_stream);
    send_heartbeat(&mut alice_gateway, false).await;

    // Mallory's organization: ten DMSs flipping, together well over the 4,096 events that
    // used to be kept for everyone.
    let mut gateways = Vec::new();
    for n in 0..10 {
        let (_, code) = app
            .create_system(&mallory, &organization, &format!("Flood {n}"))
            .await;
        let credentials = app.connect_dms(&code).await;
        gateways.push(open_gateway(&app, Some(&credentials.token)).await.unwrap());
    }
    let published_before = published(&app, &mallory).await;
    for flip in 0..700u32 {
        for gateway in &mut gateways {
            gateway
                .send(heartbeat_with_agents(1, flip % 2 == 0))
                .await
                .unwrap();
        }
        // Let each round be flushed on its own, as a real flapping fleet would be.
        tokio::time::sleep(Duration::from_millis(12)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let published_after = published(&app, &mallory).await;
    println!(
        "flood: about {} events published by the other organization",
        published_after - published_before
    );
    assert!(published_after - published_before > 4_096);

    let mut resumed = SseReader::open(&app, &alice, Some(&last_seen)).await;
    let first = resumed.next().await;
    assert_eq!(
        first.event, "changes",
        "the stream resumed instead of starting over: {first:?}"
    );
    assert_eq!(first.data["states"][0]["system_id"], alice_dms.as_str());
    assert_eq!(first.data["states"][0]["state"], "dms_not_responding");
}

/// The sequence number of the newest event a fresh stream of `token` starts from.
async fn published(app: &TestApp, token: &str) -> u64 {
    let mut stream = SseReader::open(app, token, None).await;
    let snapshot = stream.next().await;
    snapshot
        .id
        .rsplit_once('-')
        .and_then(|(_, sequence)| sequence.parse().ok())
        .expect("a snapshot carries its sequence number")
}
