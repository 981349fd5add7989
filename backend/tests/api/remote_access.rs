//! Remote access end to end: a simulated DMS (its own web app behind a real gateway socket
//! with the tunnel), tickets posted to the DMS's own host, the host-only session cookie,
//! every refusal page, the limits, sessions cut when access ends, and DMS-confirmed account
//! links.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use stratus_backend::simulator::{self, Options, Scenario, Stats};
use stratus_shared::api::organizations::{DmsLinkCode, RemoteTicket, SystemDetail};

use crate::helpers::{spawn_app_with, TestApp};

/// A member, their organization "Acme" and its DMS "Main DMS", connected through a simulated
/// gateway that serves the simulator's web app through its tunnel.
struct RemoteDms {
    app: TestApp,
    owner: String,
    owner_id: String,
    organization: String,
    system: String,
    gateway: tokio::task::JoinHandle<stratus_shared::api::gateway::DmsCredentials>,
}

impl RemoteDms {
    async fn start(configure: impl FnOnce(&mut stratus_backend::config::Settings)) -> Self {
        let app = spawn_app_with(configure).await;
        let (owner_id, owner) = app.create_user("owner@acme.example").await;
        let organization = app.create_organization(&owner, "Acme").await;
        let (system, code) = app.create_system(&owner, &organization, "Main DMS").await;
        let credentials = app.connect_dms(&code).await;
        let gateway = tokio::spawn(simulator::run_dms(
            0,
            credentials,
            Options {
                url: app.address.clone(),
                scenario: Scenario::Steady,
                interval: Some(Duration::from_millis(200)),
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
        let dms = Self {
            app,
            owner,
            owner_id,
            organization,
            system,
            gateway,
        };
        dms.wait_for_state("connected").await;
        dms
    }

    async fn detail(&self, token: &str) -> SystemDetail {
        self.app
            .read_as(token, &format!("/api/systems/{}", self.system))
            .await
    }

    async fn wait_for_state(&self, state: &str) {
        for _ in 0..200 {
            let detail = self.detail(&self.owner).await;
            if detail.system.state.as_str() == state {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the DMS never became {state}");
    }

    async fn ticket(&self, token: &str) -> reqwest::Response {
        self.app
            .post_json(
                Some(token),
                &format!("/api/systems/{}/remote-access/tickets", self.system),
                &serde_json::json!({}),
            )
            .await
    }

    /// The DMS's origin, e.g. `http://main-dms-acme.remote.localhost:PORT`.
    fn origin(&self) -> String {
        let port = reqwest::Url::parse(&self.app.address)
            .unwrap()
            .port()
            .unwrap();
        format!("http://main-dms-acme.remote.localhost:{port}")
    }

    /// A browser-like client: cookies kept, redirects not followed, every
    /// `*.remote.localhost` name resolved to the server (as Chromium does).
    fn browser(&self) -> reqwest::Client {
        let port = reqwest::Url::parse(&self.app.address)
            .unwrap()
            .port()
            .unwrap();
        let server = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .resolve("main-dms-acme.remote.localhost", server)
            .resolve("other-acme.remote.localhost", server)
            .build()
            .unwrap()
    }

    /// Opens the DMS remotely as `token` in `browser`, as the portal's form does.
    async fn open(&self, browser: &reqwest::Client, token: &str) -> reqwest::Response {
        let ticket: RemoteTicket = {
            let response = self.ticket(token).await;
            assert_eq!(response.status(), 201);
            response.json().await.unwrap()
        };
        assert_eq!(
            ticket.enter_url,
            format!("{}/_stratus/enter", self.origin())
        );
        browser
            .post(&ticket.enter_url)
            .form(&[("ticket", ticket.ticket.as_str())])
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, browser: &reqwest::Client, path: &str) -> reqwest::Response {
        browser
            .get(format!("{}{path}", self.origin()))
            .send()
            .await
            .unwrap()
    }
}

fn error_code(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-stratus-remote-error")
        .map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_member_opens_the_dms_remotely_and_uses_its_web_app() {
    let dms = RemoteDms::start(|_| {}).await;
    let detail = dms.detail(&dms.owner).await;
    assert_eq!(
        detail.remote_access_url.as_deref(),
        Some(dms.origin().as_str())
    );

    let browser = dms.browser();
    let entered = dms.open(&browser, &dms.owner).await;
    assert_eq!(entered.status(), 303);
    assert_eq!(entered.headers()["location"], "/");
    let cookie = entered.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("stratus_remote=srs_"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.to_ascii_lowercase().contains("domain="),
        "host-only: {cookie}"
    );

    let home = dms.get(&browser, "/").await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["content-encoding"], "identity");
    let page = home.text().await.unwrap();
    assert!(page.contains("<h1 id=\"dms-name\">Main DMS</h1>"), "{page}");
    assert!(page.contains("Input signal lost"));

    // A form that posts, through the tunnel both ways.
    let posted = browser
        .post(format!("{}/notes", dms.origin()))
        .form(&[("note", "Checked <the> uplink")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let page = dms.get(&browser, "/").await.text().await.unwrap();
    assert!(page.contains("Checked &lt;the&gt; uplink"), "{page}");

    // The DMS never sees Stratus's cookie, and learns where the request came from.
    let headers: serde_json::Value = dms.get(&browser, "/headers").await.json().await.unwrap();
    assert!(headers.get("cookie").is_none(), "{headers}");
    assert_eq!(
        headers["x-forwarded-host"],
        format!("{}", dms.origin().trim_start_matches("http://"))
    );
    assert_eq!(headers["x-forwarded-proto"], "http");
    // A DMS cannot set cookies for its neighbours' origins.
    let cookies = dms.get(&browser, "/set-cookie").await;
    let set: Vec<String> = cookies
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(set.len(), 2);
    assert!(
        set.iter().all(|cookie| !cookie.contains("domain=")),
        "{set:?}"
    );

    // The audit log says who opened it.
    let audit: serde_json::Value = dms
        .app
        .read_as(
            &dms.owner,
            &format!("/api/organizations/{}/audit-log", dms.organization),
        )
        .await;
    assert!(
        audit.to_string().contains("system.remote_opened"),
        "{audit}"
    );
    dms.gateway.abort();
}

#[tokio::test]
async fn a_ticket_is_single_use_and_for_its_own_host_only() {
    let dms = RemoteDms::start(|_| {}).await;
    let ticket: RemoteTicket = dms.ticket(&dms.owner).await.json().await.unwrap();
    let browser = dms.browser();
    // Posted to another host first: refused and spent.
    let port = reqwest::Url::parse(&dms.app.address)
        .unwrap()
        .port()
        .unwrap();
    let elsewhere = browser
        .post(format!(
            "http://other-acme.remote.localhost:{port}/_stratus/enter"
        ))
        .form(&[("ticket", ticket.ticket.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 401);
    assert_eq!(error_code(&elsewhere).as_deref(), Some("remote_bad_ticket"));
    let again = browser
        .post(&ticket.enter_url)
        .form(&[("ticket", ticket.ticket.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&again).as_deref(), Some("remote_bad_ticket"));
    // A good one works once.
    assert_eq!(dms.open(&browser, &dms.owner).await.status(), 303);
    let fresh: RemoteTicket = dms.ticket(&dms.owner).await.json().await.unwrap();
    for expected in [303, 401] {
        let response = dms
            .browser()
            .post(&fresh.enter_url)
            .form(&[("ticket", fresh.ticket.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    // Nothing without a session, and an unknown host looks the same (no probing).
    let stranger = dms.browser();
    for path in ["/", "/alarms"] {
        let response = dms.get(&stranger, path).await;
        assert_eq!(response.status(), 401);
        assert_eq!(error_code(&response).as_deref(), Some("remote_no_session"));
    }
    let unknown = stranger
        .get(format!("http://other-acme.remote.localhost:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&unknown).as_deref(), Some("remote_no_session"));
    // Tickets are for members only; strangers' requests learn nothing.
    let (_, outsider) = dms.app.create_user("outsider@example.com").await;
    assert_eq!(dms.ticket(&outsider).await.status(), 404);
    dms.gateway.abort();
}

#[tokio::test]
async fn switching_remote_access_off_refuses_tickets_and_cuts_open_sessions() {
    let dms = RemoteDms::start(|_| {}).await;
    let browser = dms.browser();
    dms.open(&browser, &dms.owner).await;
    // A download in progress and a WebSocket open when access is switched off.
    let mut download = dms.get(&browser, "/download?bytes=1073741824").await;
    assert_eq!(download.status(), 200);
    let first = download.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    let switched = dms
        .app
        .patch_as(
            &dms.owner,
            &format!("/api/systems/{}/settings", dms.system),
            serde_json::json!({ "remote_access_enabled": false }),
        )
        .await;
    assert_eq!(switched.status(), 200);
    let cut = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match download.chunk().await {
                Ok(Some(_)) => continue,
                Ok(None) => return "ended",
                Err(_) => return "broken",
            }
        }
    })
    .await
    .expect("the download is cut at once");
    assert_eq!(cut, "broken", "a cut download must not look complete");

    let refused = dms.get(&browser, "/").await;
    assert_eq!(refused.status(), 403, "the session's requests are refused");
    assert_eq!(error_code(&refused).as_deref(), Some("remote_access_off"));
    let ticket = dms.ticket(&dms.owner).await;
    assert_eq!(ticket.status(), 409);
    let body: serde_json::Value = ticket.json().await.unwrap();
    assert_eq!(body["code"], "remote_access_off");

    // Back on: a new ticket works; the organization's switch off refuses with its page.
    dms.app
        .patch_as(
            &dms.owner,
            &format!("/api/systems/{}/settings", dms.system),
            serde_json::json!({ "remote_access_enabled": true }),
        )
        .await;
    let browser = dms.browser();
    assert_eq!(dms.open(&browser, &dms.owner).await.status(), 303);
    assert_eq!(dms.get(&browser, "/").await.status(), 200);
    let off = dms
        .app
        .patch_as(
            &dms.owner,
            &format!("/api/organizations/{}", dms.organization),
            serde_json::json!({ "remote_access_enabled": false }),
        )
        .await;
    assert_eq!(off.status(), 200);
    let forced = dms.get(&browser, "/").await;
    assert_eq!(forced.status(), 403);
    assert!(forced
        .text()
        .await
        .unwrap()
        .contains("switched remote access off for all of its DMSs"));
    dms.gateway.abort();
}

#[tokio::test]
async fn every_request_rechecks_membership_and_the_switches() {
    let dms = RemoteDms::start(|_| {}).await;
    let (member_id, member) = dms.app.create_user("member@acme.example").await;
    dms.app
        .add_member(&dms.organization, &member_id, "member")
        .await;
    let browser = dms.browser();
    assert_eq!(dms.open(&browser, &member).await.status(), 303);
    assert_eq!(dms.get(&browser, "/").await.status(), 200);

    // Switched off behind the API's back (as another backend would): the check refuses,
    // naming who can switch it on.
    let system = dms.system.clone();
    dms.app
        .pool
        .run(move |connection| {
            use diesel::prelude::*;
            use stratus_backend::db::schema::systems;
            diesel::update(systems::table.find(&system))
                .set(systems::remote_access_enabled.eq(0))
                .execute(connection)?;
            Ok(())
        })
        .await
        .unwrap();
    let off = dms.get(&browser, "/").await;
    assert_eq!(off.status(), 403);
    assert_eq!(error_code(&off).as_deref(), Some("remote_access_off"));
    let page = off.text().await.unwrap();
    assert!(page.contains("owner@acme.example"), "{page}");
    let system = dms.system.clone();
    dms.app
        .pool
        .run(move |connection| {
            use diesel::prelude::*;
            use stratus_backend::db::schema::systems;
            diesel::update(systems::table.find(&system))
                .set(systems::remote_access_enabled.eq(1))
                .execute(connection)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(dms.get(&browser, "/").await.status(), 200);

    // An open WebSocket through the tunnel, then the member is removed: it is cut.
    let port = reqwest::Url::parse(&dms.app.address)
        .unwrap()
        .port()
        .unwrap();
    let cookie = {
        // Read the session cookie the way the browser holds it.
        let fresh = dms.browser();
        let entered = dms.open(&fresh, &member).await;
        let header = entered.headers()["set-cookie"].to_str().unwrap().to_owned();
        header.split(';').next().unwrap().to_owned()
    };
    let mut socket = remote_websocket(port, &cookie, &dms.origin()).await;
    let first = next_text(&mut socket).await;
    let second = next_text(&mut socket).await;
    assert!(second.parse::<u64>().unwrap() > first.parse::<u64>().unwrap());
    let removed = dms
        .app
        .delete_as(
            &dms.owner,
            &format!(
                "/api/organizations/{}/members/{member_id}",
                dms.organization
            ),
        )
        .await;
    assert_eq!(removed.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the WebSocket is cut when the member is removed"
    );
    let gone = dms.get(&browser, "/").await;
    assert_eq!(gone.status(), 401, "their sessions ended");
    dms.gateway.abort();
}

/// Opens the simulator's counter WebSocket through the remote host with `cookie`.
async fn remote_websocket(
    port: u16,
    cookie: &str,
    origin: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://main-dms-acme.remote.localhost:{port}/counter")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (socket, response) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await
            .expect("the remote WebSocket opens");
    assert_eq!(response.status(), 101);
    socket
}

async fn next_text(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a counter value in time")
            .expect("the socket is open")
            .expect("a frame");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            return text.to_string();
        }
    }
}

#[tokio::test]
async fn a_websocket_from_another_origin_is_refused() {
    let dms = RemoteDms::start(|_| {}).await;
    let entered = dms.open(&dms.browser(), &dms.owner).await;
    let cookie = entered.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let port = reqwest::Url::parse(&dms.app.address)
        .unwrap()
        .port()
        .unwrap();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://main-dms-acme.remote.localhost:{port}/counter")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let refused =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
            .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("a foreign origin's WebSocket must be refused: {other:?}"),
    }
    dms.gateway.abort();
}

#[tokio::test]
async fn the_limits_answer_with_pages_a_person_understands() {
    let dms = RemoteDms::start(|settings| {
        settings.remote_access_timeout_seconds = 1;
        settings.remote_access_max_request_bytes = 1024 * 1024;
        settings.remote_access_max_concurrent_requests = 2;
    })
    .await;
    let browser = dms.browser();
    dms.open(&browser, &dms.owner).await;

    let slow = dms.get(&browser, "/slow?ms=3000").await;
    assert_eq!(slow.status(), 504);
    assert_eq!(error_code(&slow).as_deref(), Some("remote_dms_too_slow"));

    // Declared too large: refused before anything is sent.
    let declared = browser
        .post(format!("{}/upload", dms.origin()))
        .body(vec![0u8; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    assert_eq!(
        error_code(&declared).as_deref(),
        Some("remote_request_too_large")
    );
    // Streamed without a length: cut off at the limit.
    let chunks =
        futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![0u8; 64 * 1024])));
    let streamed = browser
        .post(format!("{}/upload", dms.origin()))
        .body(reqwest::Body::wrap(http_body_util::StreamBody::new(
            chunks.map(|chunk| {
                chunk.map(|bytes| hyper::body::Frame::data(bytes::Bytes::from(bytes)))
            }),
        )))
        .send()
        .await;
    if let Ok(streamed) = streamed {
        assert_eq!(streamed.status(), 413);
    }
    // Within the limit it arrives whole.
    let fits: serde_json::Value = browser
        .post(format!("{}/upload", dms.origin()))
        .body(vec![1u8; 512 * 1024])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fits["bytes"], 512 * 1024);

    // Two requests in flight at most: the third waits for nobody.
    let in_flight: Vec<_> = (0..2)
        .map(|_| {
            let (browser, url) = (browser.clone(), format!("{}/slow?ms=800", dms.origin()));
            tokio::spawn(async move { browser.get(url).send().await.unwrap().status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = dms.get(&browser, "/").await;
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.headers()["retry-after"], "5");
    for request in in_flight {
        assert_eq!(request.await.unwrap(), 200);
    }
    assert_eq!(
        dms.get(&browser, "/").await.status(),
        200,
        "slots come back"
    );
    dms.gateway.abort();
}

#[tokio::test]
async fn an_offline_dms_shows_its_state_and_last_online_time() {
    let dms = RemoteDms::start(|_| {}).await;
    let browser = dms.browser();
    dms.open(&browser, &dms.owner).await;
    dms.gateway.abort();
    dms.wait_for_state("disconnected").await;
    let offline = dms.get(&browser, "/").await;
    assert_eq!(offline.status(), 502);
    assert_eq!(error_code(&offline).as_deref(), Some("remote_dms_offline"));
    let page = offline.text().await.unwrap();
    assert!(page.contains("Main DMS is not reachable"), "{page}");
    assert!(
        page.contains("its state is <strong>No connection</strong>"),
        "{page}"
    );
    assert!(page.contains("Last online: <strong>20"), "{page}");
}

// The gateway runs in the test's runtime: threads of its own keep the test's reading of the
// download from delaying its heartbeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_download_and_parallel_requests_leave_heartbeats_on_time() {
    let dms = RemoteDms::start(|settings| {
        // Heartbeats every 200 ms, judged after 2 s of silence: a heartbeat held up behind
        // the download for longer would flap the state.
        settings.heartbeat_timeout_seconds = 2;
    })
    .await;
    let browser = dms.browser();
    dms.open(&browser, &dms.owner).await;
    let before = dms.detail(&dms.owner).await.transitions.len();

    const SIZE: usize = 50 * 1024 * 1024;
    let big = {
        let browser = browser.clone();
        let url = format!("{}/download?bytes={SIZE}", dms.origin());
        tokio::spawn(async move {
            let mut response = browser.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            // The simulator's pattern: byte i is (i mod 64 KiB) mod 251.
            let pattern: Vec<u8> = (0..2 * 64 * 1024)
                .map(|i| ((i % (64 * 1024)) % 251) as u8)
                .collect();
            let mut received = 0usize;
            let mut intact = true;
            while let Some(chunk) = response.chunk().await.unwrap() {
                for piece in chunk.chunks(64 * 1024) {
                    let start = received % (64 * 1024);
                    intact &= piece == &pattern[start..start + piece.len()];
                    received += piece.len();
                }
            }
            (received, intact)
        })
    };
    let mut small = Vec::new();
    for _ in 0..40 {
        let (browser, url) = (browser.clone(), format!("{}/", dms.origin()));
        small.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let response = browser.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            assert!(response.text().await.unwrap().contains("Main DMS"));
            started.elapsed()
        }));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for request in small {
        request.await.unwrap();
    }
    let (received, intact) = big.await.unwrap();
    assert_eq!(received, SIZE, "the whole download arrives");
    assert!(intact, "and arrives intact");
    let detail = dms.detail(&dms.owner).await;
    assert_eq!(detail.system.state.as_str(), "connected");
    assert_eq!(
        detail.transitions.len(),
        before,
        "no state flapped while the tunnel was busy: {:?}",
        detail.transitions
    );
    dms.gateway.abort();
}

#[tokio::test]
async fn a_dms_account_link_needs_the_dms_confirmation() {
    let dms = RemoteDms::start(|_| {}).await;
    // Typing a name is no longer a way to link.
    let typed = dms
        .app
        .send(
            reqwest::Method::PUT,
            &dms.owner,
            &format!("/api/systems/{}/my-account", dms.system),
            Some(&serde_json::json!({ "dms_username": "SKYLINE\\owner" })),
        )
        .await;
    assert_eq!(typed.status(), 405);

    let code: DmsLinkCode = {
        let response = dms
            .app
            .post_json(
                Some(&dms.owner),
                &format!("/api/systems/{}/my-account/link-code", dms.system),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    };
    assert_eq!(code.code.len(), 9);
    assert_eq!(dms.detail(&dms.owner).await.my_dms_account, None);

    // The DMS user enters it on the DMS (here: the simulator's page, opened remotely).
    let browser = dms.browser();
    dms.open(&browser, &dms.owner).await;
    let wrong = browser
        .post(format!("{}/link", dms.origin()))
        .form(&[("user", "SKYLINE\\jdoe"), ("code", "AAAA-AAAA")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("unknown, expired or already used"));
    let typed_loosely = code.code.to_lowercase().replace('-', " ");
    let linked = browser
        .post(format!("{}/link", dms.origin()))
        .form(&[("user", "SKYLINE\\jdoe"), ("code", typed_loosely.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(linked.status(), 200);
    assert!(linked.text().await.unwrap().contains("owner@acme.example"));
    let link = dms.detail(&dms.owner).await.my_dms_account.expect("linked");
    assert_eq!(link.dms_username, "SKYLINE\\jdoe");
    assert!(link.confirmed_at.is_some());
    // The code was single use.
    let reused = browser
        .post(format!("{}/link", dms.origin()))
        .form(&[("user", "SKYLINE\\mallory"), ("code", code.code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), 422);
    assert_eq!(
        dms.detail(&dms.owner)
            .await
            .my_dms_account
            .unwrap()
            .dms_username,
        "SKYLINE\\jdoe"
    );
    // Unlinking is immediate.
    let unlinked = dms
        .app
        .delete_as(
            &dms.owner,
            &format!("/api/systems/{}/my-account", dms.system),
        )
        .await;
    assert_eq!(unlinked.status(), 204);
    assert_eq!(dms.detail(&dms.owner).await.my_dms_account, None);
    let _ = &dms.owner_id;
    dms.gateway.abort();
}

#[tokio::test]
async fn a_gateway_without_the_tunnel_gets_a_page_saying_so() {
    let app = spawn_app_with(|_| {}).await;
    let (_, owner) = app.create_user("owner@acme.example").await;
    let organization = app.create_organization(&owner, "Acme").await;
    let (system, code) = app.create_system(&owner, &organization, "Main DMS").await;
    let credentials = app.connect_dms(&code).await;
    let mut socket =
        simulator::open_gateway_socket(&app.gateway_ws_url(), &credentials.token, None)
            .await
            .unwrap();
    crate::helpers::send_heartbeat(&mut socket, true).await;
    let port = reqwest::Url::parse(&app.address).unwrap().port().unwrap();
    let server = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve("main-dms-acme.remote.localhost", server)
        .build()
        .unwrap();
    for _ in 0..100 {
        let detail: SystemDetail = app.read_as(&owner, &format!("/api/systems/{system}")).await;
        if detail.system.state.as_str() == "connected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ticket: RemoteTicket = app
        .post_json(
            Some(&owner),
            &format!("/api/systems/{system}/remote-access/tickets"),
            &serde_json::json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    browser
        .post(&ticket.enter_url)
        .form(&[("ticket", ticket.ticket.as_str())])
        .send()
        .await
        .unwrap();
    let page = browser
        .get(format!("http://main-dms-acme.remote.localhost:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 502);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("does not offer remote access"));
    let _ = socket.close(None).await;
}
