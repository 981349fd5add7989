//! What one backend decides reaches the people on every other, and what one backend is told
//! (a new connect code, a removal, a new member) takes effect where the DMS's socket is.

use serde_json::json;
use stratus_shared::api::gateway::close_code;

use crate::harness::{eventually, Cluster, Engines, Gateway, Viewer};

/// Waits until the database says which backend holds `system`'s socket; its index.
async fn holder_of(cluster: &Cluster, system: &str) -> usize {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(name) = cluster.holders().await.get(system).cloned().flatten() {
            return cluster
                .backends
                .iter()
                .position(|backend| backend.name == name)
                .expect("a backend of this cluster");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the DMS's socket is not marked held"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_gateway_behind_nginx_and_viewers_on_other_backends_see_every_transition_with_the_same_ids(
) {
    let Some(engines) = Engines::find("across_backends::every_transition") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let (_, owner) = cluster.create_user("owner@example.com").await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let dms = cluster
        .register_dms(&owner, &organization, "Main DMS")
        .await;
    let system = dms.system_id.clone();

    let gateway = Gateway::connect(&cluster.address(), &dms.token).await;
    let holder = holder_of(&cluster, &system).await;
    let (other, third) = ((holder + 1) % 3, (holder + 2) % 3);
    let local = Viewer::open(
        &cluster.client,
        &cluster.backends[holder].address(),
        &owner,
        None,
    )
    .await;
    let remote = Viewer::open(
        &cluster.client,
        &cluster.backends[other].address(),
        &owner,
        None,
    )
    .await;
    assert_eq!(remote.backend, cluster.backends[other].name);
    for viewer in [&local, &remote] {
        viewer.wait_for_state(&system, "connected").await;
    }

    gateway.set_responding(false);
    for viewer in [&local, &remote] {
        viewer.wait_for_state(&system, "dms_not_responding").await;
    }
    // A person whose stream moves to the third backend resumes where it stopped.
    let resume_after = remote.last_event_id();
    drop(remote);

    gateway.set_responding(true);
    local.wait_for_state(&system, "connected").await;
    drop(gateway);
    local.wait_for_state(&system, "disconnected").await;

    let resumed = Viewer::open(
        &cluster.client,
        &cluster.backends[third].address(),
        &owner,
        Some(&resume_after),
    )
    .await;
    resumed.wait_for_state(&system, "disconnected").await;
    assert_eq!(
        resumed.snapshots(),
        0,
        "a replay, not a snapshot: {:?}",
        resumed.events()
    );
    let replayed: Vec<_> = resumed
        .events()
        .iter()
        .map(|event| event.id.clone())
        .collect();
    let local_ids: Vec<_> = local
        .events()
        .iter()
        .filter(|event| event.event == "changes")
        .map(|event| event.id.clone())
        .collect();
    assert!(
        local_ids.ends_with(&replayed),
        "the same ids on every backend: {local_ids:?} ends with {replayed:?}"
    );
    // The replay is one `changes` event: the latest state of each DMS missed.
    assert_eq!(resumed.events()[0].event, "changes");
    assert_eq!(resumed.shown(&system), ["disconnected"]);

    // Registered, connected (not responding until the first heartbeat), then as the gateway
    // said; the viewer that followed it all saw it all.
    let recorded = cluster.history(&system).await;
    assert_eq!(
        recorded,
        [
            "never_connected",
            "dms_not_responding",
            "connected",
            "dms_not_responding",
            "connected",
            "disconnected"
        ]
    );
    assert!(
        recorded.ends_with(&local.shown(&system)),
        "{:?}",
        local.shown(&system)
    );
}

#[tokio::test]
async fn a_gateway_reconnecting_to_another_backend_replaces_its_socket_there_with_4001() {
    let Some(engines) = Engines::find("across_backends::replaces") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let (_, owner) = cluster.create_user("owner@example.com").await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let dms = cluster
        .register_dms(&owner, &organization, "Main DMS")
        .await;
    let system = dms.system_id.clone();
    let viewer = Viewer::open(
        &cluster.client,
        &cluster.backends[2].address(),
        &owner,
        None,
    )
    .await;

    let first = Gateway::connect(&cluster.backends[0].address(), &dms.token).await;
    viewer.wait_for_state(&system, "connected").await;
    assert_eq!(holder_of(&cluster, &system).await, 0);

    let second = Gateway::connect(&cluster.backends[1].address(), &dms.token).await;
    assert_eq!(first.closed_within(10).await, Some(close_code::REPLACED));
    eventually(10, "the second backend holds the socket", || async {
        cluster
            .holders()
            .await
            .get(&system)
            .cloned()
            .flatten()
            .as_deref()
            == Some("backend-2")
    })
    .await;

    // And back: the newest socket always wins, wherever the older one is.
    let third = Gateway::connect(&cluster.backends[0].address(), &dms.token).await;
    assert_eq!(second.closed_within(10).await, Some(close_code::REPLACED));
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(third.ending(), None, "the newest socket stays open");
    assert_eq!(viewer.state_of(&system).as_deref(), Some("connected"));
    // Moving gateways are no outage: nothing but the first connection is recorded or shown.
    let recorded = cluster.history(&system).await;
    assert_eq!(
        recorded,
        ["never_connected", "dms_not_responding", "connected"]
    );
    assert!(
        recorded.ends_with(&viewer.shown(&system)),
        "{:?}",
        viewer.shown(&system)
    );
}

#[tokio::test]
async fn revocations_removals_and_new_members_take_effect_on_every_backend() {
    let Some(engines) = Engines::find("across_backends::revocations") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let (_, owner) = cluster.create_user("owner@example.com").await;
    let (_, member) = cluster.create_user("member@example.com").await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let dms = cluster
        .register_dms(&owner, &organization, "Main DMS")
        .await;
    let system = dms.system_id.clone();
    let [first, second, third] = [0, 1, 2].map(|index| cluster.backends[index].address());

    // Invited on the first backend, accepted on the second: their stream on the third
    // follows at once.
    let members_view = Viewer::open(&cluster.client, &third, &member, None).await;
    assert_eq!(members_view.state_of(&system), None, "not a member yet");
    let response = cluster
        .post(
            &first,
            Some(&owner),
            &format!("/api/organizations/{organization}/members"),
            json!({ "email": "member@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let invitation: serde_json::Value = response.json().await.expect("JSON");
    let invitation_id = invitation["id"].as_str().expect("an invitation id");
    assert_eq!(
        members_view.state_of(&system),
        None,
        "invited, not a member"
    );
    let response = cluster
        .post(
            &second,
            Some(&member),
            &format!("/api/me/invitations/{invitation_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 204);
    members_view
        .wait_for_state(&system, "never_connected")
        .await;

    // A new connect code traded on the third backend cuts off the gateway on the first.
    let gateway = Gateway::connect(&first, &dms.token).await;
    members_view.wait_for_state(&system, "connected").await;
    let response = cluster
        .post(
            &second,
            Some(&owner),
            &format!("/api/systems/{system}/connect-codes"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let code: serde_json::Value = response.json().await.expect("JSON");
    let response = cluster
        .post(
            &third,
            None,
            "/api/gateway/connect",
            json!({ "connect_code": code["code"] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(gateway.closed_within(10).await, Some(close_code::REVOKED));
    members_view.wait_for_state(&system, "disconnected").await;
    let refused = Gateway::try_connect(&second, &dms.token).await;
    assert_eq!(
        refused.err(),
        Some(401),
        "the old token is void on every backend"
    );

    // Removed on the second backend: gone from the streams on the others.
    let owners_view = Viewer::open(&cluster.client, &first, &owner, None).await;
    let response = cluster
        .client
        .delete(format!("{second}/api/systems/{system}"))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("the cluster answers");
    assert_eq!(response.status(), 204);
    for viewer in [&owners_view, &members_view] {
        eventually(10, "the removal reaches every stream", || async {
            viewer.shown(&system).last().map(String::as_str) == Some("removed")
        })
        .await;
    }
}

#[tokio::test]
async fn malformed_and_unknown_bus_messages_are_dropped_and_change_nothing() {
    let Some(engines) = Engines::find("across_backends::malformed_bus_messages") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let (_, owner) = cluster.create_user("owner@example.com").await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let dms = cluster
        .register_dms(&owner, &organization, "Main DMS")
        .await;
    let system = dms.system_id.clone();
    let gateway = Gateway::connect(&cluster.backends[0].address(), &dms.token).await;
    let mut viewers = Vec::new();
    for backend in &cluster.backends {
        let viewer = Viewer::open(&cluster.client, &backend.address(), &owner, None).await;
        viewer.wait_for_state(&system, "connected").await;
        viewers.push(viewer);
    }
    let snapshots: Vec<usize> = viewers.iter().map(Viewer::snapshots).collect();

    // Anyone who can publish on the subject: garbage, a future version, an unknown kind, a
    // state for a DMS id that is not an id, a claim for a DMS that is not there.
    let bus = async_nats::connect(cluster.nats.url()).await.expect("NATS");
    let jetstream = async_nats::jetstream::new(bus);
    let foreign = uuid::Uuid::new_v4().to_string();
    for payload in [
        "not json at all".to_owned(),
        json!({ "v": 2, "origin": foreign, "body": { "kind": "changes" } }).to_string(),
        json!({ "v": 1, "origin": foreign, "body": { "kind": "reboot_everything" } }).to_string(),
        json!({ "v": 1, "origin": foreign, "body": { "kind": "revoked", "system_id": "../../etc", "generation": 9 } }).to_string(),
        "x".repeat(2 * 1024 * 1024),
    ] {
        let published = jetstream
            .publish("stratus.v1.live", payload.into())
            .await;
        // The 2 MiB one is refused by NATS itself (its payload limit): also fine.
        if let Ok(ack) = published {
            let _ = ack.await;
        }
    }

    gateway.set_responding(false);
    for viewer in &viewers {
        viewer.wait_for_state(&system, "dms_not_responding").await;
    }
    let after: Vec<usize> = viewers.iter().map(Viewer::snapshots).collect();
    assert_eq!(
        after, snapshots,
        "no stream started over: nothing was taken for a gap"
    );
    assert_eq!(gateway.ending(), None, "nothing cut the gateway off");
    for backend in &cluster.backends {
        let health = cluster
            .client
            .get(format!("{}/api/health", backend.address()))
            .send()
            .await
            .expect("every backend still answers");
        assert_eq!(health.status(), 200, "{}", backend.name);
    }
}

#[tokio::test]
async fn a_session_ended_on_one_backend_is_refused_at_once_on_every_other() {
    let Some(engines) = Engines::find("across_backends::session_ended") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let email = "two.browsers@example.com";
    let password = "correct horse battery staple";
    cluster.create_user_with_password(email, password).await;
    let [first, second, third] = [0, 1, 2].map(|index| cluster.backends[index].address());
    let sign_in = |base: String| {
        let cluster = &cluster;
        async move {
            let response = cluster
                .post(
                    &base,
                    None,
                    "/api/auth/login",
                    json!({ "email": email, "password": password }),
                )
                .await;
            assert_eq!(response.status(), 200, "sign-in on {base}");
            let grant: serde_json::Value = response.json().await.expect("JSON");
            grant["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned()
        }
    };
    // Two browsers: the stolen one signed in on the first backend, the owner's on the second.
    let stolen = sign_in(first.clone()).await;
    let own = sign_in(second.clone()).await;
    let stolen_stream = Viewer::open(&cluster.client, &third, &stolen, None).await;
    let sessions: Vec<serde_json::Value> = cluster
        .client
        .get(format!("{second}/api/me/sessions"))
        .bearer_auth(&own)
        .send()
        .await
        .expect("the cluster answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(sessions.len(), 2);
    let stolen_session = sessions
        .iter()
        .find(|session| session["current"] == false)
        .and_then(|session| session["id"].as_str())
        .expect("the other session");

    let response = cluster
        .client
        .delete(format!("{second}/api/me/sessions/{stolen_session}"))
        .bearer_auth(&own)
        .send()
        .await
        .expect("the cluster answers");
    assert_eq!(response.status(), 204);

    // The stolen access token has up to 15 minutes left; every backend refuses it anyway.
    for base in [&first, &second, &third] {
        eventually(5, "the ended session is refused everywhere", || async {
            let status = cluster
                .client
                .get(format!("{base}/api/me"))
                .bearer_auth(&stolen)
                .send()
                .await
                .map(|response| response.status().as_u16());
            matches!(status, Ok(401))
        })
        .await;
    }
    eventually(5, "the ended session's stream closes", || async {
        stolen_stream.ended()
    })
    .await;
    let still_in = cluster
        .client
        .get(format!("{third}/api/me"))
        .bearer_auth(&own)
        .send()
        .await
        .expect("the cluster answers");
    assert_eq!(still_in.status(), 200, "the other session goes on");
}
