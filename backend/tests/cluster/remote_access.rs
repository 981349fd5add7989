//! Remote access in a cluster: a request for a DMS's web app may land on any backend; the
//! ones that do not hold the DMS's gateway socket forward it (plain HTTP, WebSocket upgrades
//! included) to the one that does, and a cut made on one backend reaches every other.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use stratus_backend::simulator::{run_dms, Options, Scenario, Stats};
use stratus_shared::api::organizations::RemoteTicket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Cluster, Engines};

const HOST: &str = "main-dms-acme.remote.localhost";

/// A client that reaches the remote host on `port` (one backend, or nginx).
fn remote_client(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve(HOST, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .expect("a client")
}

#[tokio::test]
async fn a_remote_request_on_any_backend_reaches_the_dms_through_the_one_holding_its_socket() {
    let Some(engines) = Engines::find("remote_access::any_backend") else {
        return;
    };
    let cluster = Cluster::start(&engines, 3).await;
    let (_, owner) = cluster.create_user("owner@acme.example").await;
    let organization = cluster.create_organization(&owner, "Acme").await;
    let dms = cluster
        .register_dms(&owner, &organization, "Main DMS")
        .await;
    let system = dms.system_id.clone();
    let gateway = tokio::spawn(run_dms(
        0,
        dms,
        Options {
            url: cluster.address(),
            scenario: Scenario::Steady,
            interval: Some(Duration::from_secs(crate::harness::HEARTBEAT_SECONDS)),
            phase: Duration::from_secs(3600),
            renew_before: chrono::TimeDelta::hours(1),
            http: reqwest::Client::new(),
            stagger: Duration::ZERO,
            source_addresses: Vec::new(),
            web_app: true,
            names: vec!["Main DMS".into()],
        },
        Arc::new(Stats::default()),
        None,
    ));
    let mut holder = None;
    for _ in 0..100 {
        holder = cluster.holders().await.get(&system).cloned().flatten();
        if holder.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let holder = holder.expect("the DMS's socket is marked held");
    let holder_index = cluster
        .backends
        .iter()
        .position(|backend| backend.name == holder)
        .expect("one of ours");
    let front = (holder_index + 1) % 3;

    // The ticket through nginx, posted to a backend that does not hold the socket.
    let ticket: RemoteTicket = cluster
        .post(
            &cluster.address(),
            Some(&owner),
            &format!("/api/systems/{system}/remote-access/tickets"),
            serde_json::json!({}),
        )
        .await
        .json()
        .await
        .expect("a ticket");
    let front_port = cluster.backends[front].port;
    let entered = remote_client(front_port)
        .post(format!("http://{HOST}:{front_port}/_stratus/enter"))
        .form(&[("ticket", ticket.ticket.as_str())])
        .send()
        .await
        .expect("an answer");
    assert_eq!(entered.status(), 303);
    let cookie = entered.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .split(';')
        .next()
        .expect("a cookie")
        .to_owned();

    // Every backend answers with the DMS's page: the holder through its tunnel, the others
    // by forwarding to it. A forged forwarding mark from outside changes nothing.
    for (index, backend) in cluster.backends.iter().enumerate() {
        let response = remote_client(backend.port)
            .get(format!("http://{HOST}:{}/", backend.port))
            .header("cookie", &cookie)
            .header("x-stratus-forwarded", "forged")
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 200, "through backend {index}");
        assert_eq!(
            response.headers()["x-stratus-backend"],
            backend.name.as_str()
        );
        assert!(response.text().await.expect("a page").contains("Main DMS"));
    }
    // A download streamed across the hop arrives whole.
    let download = remote_client(front_port)
        .get(format!(
            "http://{HOST}:{front_port}/download?bytes={}",
            8 << 20
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer")
        .bytes()
        .await
        .expect("the body");
    assert_eq!(download.len(), 8 << 20);

    // A WebSocket through the front backend streams the DMS's counter...
    let mut request = format!("ws://{HOST}:{front_port}/counter")
        .into_client_request()
        .expect("a request");
    request
        .headers_mut()
        .insert("cookie", cookie.parse().expect("a header"));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", front_port))
        .await
        .expect("the backend");
    let (mut socket, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("the WebSocket opens across backends");
    let mut ticks = 0;
    while ticks < 2 {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a tick in time")
            .expect("open")
            .expect("a frame");
        if message.is_text() {
            ticks += 1;
        }
    }
    // ...until remote access is switched off on yet another backend: the cut reaches both.
    let third = (holder_index + 2) % 3;
    let switched = cluster
        .client
        .patch(format!(
            "{}/api/systems/{system}/settings",
            cluster.backends[third].address()
        ))
        .bearer_auth(&owner)
        .json(&serde_json::json!({ "remote_access_enabled": false }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(switched.status(), 200);
    let cut = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "the WebSocket is cut across backends");
    let refused = remote_client(front_port)
        .get(format!("http://{HOST}:{front_port}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), 403);
    gateway.abort();
}
