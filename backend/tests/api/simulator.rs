use std::sync::Arc;
use std::time::Duration;

use stratus_backend::simulator::{self, Options, Scenario, Stats};

use crate::helpers::{spawn_app, SseReader};

#[tokio::test]
async fn a_simulated_dms_cycles_through_every_state_over_the_real_protocol() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (system, code) = app.create_system(&alice, &organization, "Simulated").await;
    let mut stream = SseReader::open(&app, &alice, None).await;
    assert_eq!(stream.next().await.event, "snapshot");

    let credentials = simulator::connect(&reqwest::Client::new(), &app.address, &code)
        .await
        .unwrap();
    let options = Options {
        url: app.address.clone(),
        scenario: Scenario::Cycle,
        interval: Some(Duration::from_millis(50)),
        phase: Duration::from_millis(150),
        renew_before: chrono::TimeDelta::days(1),
        http: reqwest::Client::new(),
        stagger: Duration::ZERO,
        source_addresses: Vec::new(),
        web_app: false,
        names: Vec::new(),
    };
    let stats = Arc::new(Stats::default());
    let player = tokio::spawn(simulator::run_dms(
        0,
        credentials,
        options,
        stats.clone(),
        None,
    ));

    // The scripted cycle, twice round. A (re)connection is `dms_not_responding` until the
    // first heartbeat, which may come within one flush of it: then only the latest is sent.
    let cycle = [
        "connected",
        "dms_not_responding",
        "disconnected",
        "connected",
        "dms_not_responding",
        "disconnected",
    ];
    let mut seen: Vec<String> = vec![];
    let mut matched = 0;
    while matched < cycle.len() {
        let (id, state) = stream.next_state().await;
        assert_eq!(id, system);
        assert_ne!(
            seen.last(),
            Some(&state),
            "every event is a change: {seen:?}"
        );
        if state == cycle[matched] {
            matched += 1;
        } else {
            assert!(
                state == "dms_not_responding" && cycle[matched] == "connected",
                "{state} out of order after {seen:?}"
            );
        }
        seen.push(state);
    }
    assert!(stats.connections.load(std::sync::atomic::Ordering::Relaxed) >= 2);
    player.abort();
}

#[tokio::test]
async fn a_simulated_dms_renews_its_credentials_and_stops_when_they_are_revoked() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let organization = app.create_organization(&alice, "Acme").await;
    let (_, code) = app.create_system(&alice, &organization, "Simulated").await;
    let http = reqwest::Client::new();
    let first = simulator::connect(&http, &app.address, &code)
        .await
        .unwrap();
    // Renew "a day before expiry" of a 7-day token: i.e. at once, on every round.
    let options = Options {
        url: app.address.clone(),
        scenario: Scenario::Steady,
        interval: Some(Duration::from_millis(50)),
        phase: Duration::from_secs(1),
        renew_before: chrono::TimeDelta::days(8),
        http: reqwest::Client::new(),
        stagger: Duration::ZERO,
        source_addresses: Vec::new(),
        web_app: false,
        names: Vec::new(),
    };
    let stats = Arc::new(Stats::default());
    let (renewals, mut renewed) = tokio::sync::mpsc::unbounded_channel();
    let player = tokio::spawn(simulator::run_dms(
        0,
        first.clone(),
        options,
        stats.clone(),
        Some(renewals),
    ));
    let (_, second) = renewed.recv().await.unwrap();
    assert_ne!(second.refresh_key, first.refresh_key);

    // Someone replays the spent key: the DMS's credentials are revoked, and the simulated
    // gateway gives up (it needs a new connect code) instead of looping.
    let response = app
        .post_json(
            None,
            "/api/gateway/refresh",
            &serde_json::json!({ "refresh_key": first.refresh_key }),
        )
        .await;
    assert_eq!(response.status(), 401);
    tokio::time::timeout(Duration::from_secs(20), player)
        .await
        .expect("the simulated DMS stops")
        .unwrap();
}

#[tokio::test]
async fn demo_data_is_prepared_once_and_its_dmss_get_fresh_codes_on_every_start() {
    let app = spawn_app().await;
    let (_, alice) = app.create_user("alice@example.com").await;
    let names = vec!["Demo A".to_owned(), "Demo B".to_owned()];

    let first = stratus_backend::demo::prepare(&app.pool, "Demo", names.clone(), None)
        .await
        .unwrap();
    let second = stratus_backend::demo::prepare(&app.pool, "Demo", names, None)
        .await
        .unwrap();

    assert_eq!(first.len(), 2);
    let ids = |systems: &[stratus_backend::demo::DemoSystem]| {
        systems
            .iter()
            .map(|s| s.system_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second), "the same DMSs, not new ones");
    assert_ne!(first[0].connect_code, second[0].connect_code);
    // Every existing person sees the demo organization and both DMSs.
    let organizations: Vec<serde_json::Value> = app
        .get_as(&alice, "/api/organizations")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(organizations.len(), 1);
    assert_eq!(organizations[0]["role"], "member");
    let systems: Vec<serde_json::Value> = app
        .get_as(&alice, "/api/systems")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(systems.len(), 2);
    // One code is valid per DMS: the newer start's voids the older one.
    assert!(simulator::connect(
        &reqwest::Client::new(),
        &app.address,
        &first[1].connect_code,
    )
    .await
    .is_err());
    simulator::connect(
        &reqwest::Client::new(),
        &app.address,
        &second[1].connect_code,
    )
    .await
    .unwrap();
}
