//! `spawn_app()`: the real server, a fresh database and a throwaway data directory per test.

use std::path::Path;

use diesel::{Connection, ExpressionMethods, PgConnection, QueryDsl, RunQueryDsl};
use e2e::mailbox::Mailbox;
use rand::distr::{Alphanumeric, SampleString};
use stratus_backend::auth::AccessTokens;
use stratus_backend::config::{LogFormat, OidcProviderSettings, Settings, SmtpTls};
use stratus_backend::db::Database;
use stratus_backend::startup::Application;
use stratus_shared::api::auth::{SessionGrant, CLIENT_HEADER, REFRESH_COOKIE};
use stratus_shared::api::health::DatabaseBackend;

/// The inline start-up script of the test web app; its hash must be in the CSP.
pub const INLINE_SCRIPT: &str = "console.log('stratus test app');";
/// A fingerprinted asset of the test web app.
pub const HASHED_ASSET: &str = "frontend-0123456789abcdef.js";

/// A running server and what it stands on; everything is removed when it is dropped.
pub struct TestApp {
    pub address: String,
    /// The server's public URL: the issuer of its tokens, kept across `restart`.
    pub public_url: String,
    pub mailbox: Mailbox,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    pub data_dir: tempfile::TempDir,
    /// The server's own pool, to arrange data and look behind the API.
    pub pool: Database,
    /// Issues access tokens as the server would.
    pub access_tokens: AccessTokens,
    // Kept alive for the server's lifetime.
    _dist_dir: tempfile::TempDir,
}

impl TestApp {
    /// GET `path` (e.g. `/api/health`).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("the server answers")
    }

    /// GET `path` with `Authorization: Bearer token`.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers")
    }

    /// POST to a cookie-authenticated endpoint (`/api/auth/refresh`, `/api/auth/logout`) the
    /// way the web app does: refresh cookie plus the client header.
    pub async fn post_with_refresh_cookie(
        &self,
        path: &str,
        refresh_token: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, path))
            .header(CLIENT_HEADER, "web")
            .header("Cookie", format!("{REFRESH_COOKIE}={refresh_token}"))
            .send()
            .await
            .expect("the server answers")
    }

    /// Signs up, follows the mailed link and verifies: a ready account.
    pub async fn signed_up(&self, email: &str, password: &str) -> SignedIn {
        let response = self
            .post_json(
                None,
                "/api/auth/signup",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 202, "sign-up of {email}");
        let mail = self
            .mailbox
            .wait_for_message(email, 1)
            .await
            .expect("the mail arrives");
        let token = mail
            .link_token("/verify-email")
            .expect("a verification link");
        let response = self
            .post_json(
                None,
                "/api/auth/verify-email",
                &serde_json::json!({"token": token, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "verification of {email}");
        SignedIn::from_response(response).await
    }

    /// POST JSON to `path`, with `Authorization: Bearer token` when given.
    pub async fn post_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{}", self.address, path))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the server answers")
    }

    /// GETs `path` as `token`, asserts a 200 and returns the JSON body.
    pub async fn read_as<T: serde::de::DeserializeOwned>(&self, token: &str, path: &str) -> T {
        let response = self.get_as(token, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("the expected JSON")
    }

    /// Sends `method` to `path` as `token`, with a JSON body when given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        self.send_with(method, Some(token), path, body).await
    }

    /// Sends `method` to `path` without any `Authorization` header, with a JSON body when given.
    pub async fn send_anonymously(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        self.send_with(method, None, path, body).await
    }

    /// PATCH JSON to `path` as `token`.
    pub async fn patch_as(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.send(reqwest::Method::PATCH, token, path, Some(&body))
            .await
    }

    /// DELETE `path` as `token`.
    pub async fn delete_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.send(reqwest::Method::DELETE, token, path, None).await
    }

    async fn send_with(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("the server answers")
    }

    /// Inserts a person straight into the database (sign-up is another feature) and returns
    /// their id and an access token.
    pub async fn create_user(&self, email: &str) -> (String, String) {
        use stratus_backend::db::schema::users;
        let id = uuid::Uuid::new_v4().to_string();
        let (user_id, email) = (id.clone(), email.to_owned());
        self.pool
            .run(move |connection| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(&user_id),
                        users::email.eq(&email),
                        users::created_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .expect("insert a user");
        let (token, _) = self.access_tokens.issue(&id, chrono::Utc::now());
        (id, token)
    }

    /// Inserts an account whose address is verified (pending links to it apply at once).
    pub async fn create_verified_user(&self, email: &str) -> (String, String) {
        use stratus_backend::db::schema::users;
        let (id, token) = self.create_user(email).await;
        let user_id = id.clone();
        self.pool
            .run(move |connection| {
                diesel::update(users::table.find(&user_id))
                    .set(users::email_verified_at.eq(Some(chrono::Utc::now().naive_utc())))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .expect("verify a user");
        (id, token)
    }

    /// Inserts a verified account and makes it platform staff, as `stratus staff grant` does.
    pub async fn create_staff(&self, email: &str) -> (String, String) {
        let created = self.create_verified_user(email).await;
        stratus_backend::domain::accounts::set_staff(&self.pool, email, true)
            .await
            .expect("grant staff");
        created
    }

    /// Makes a person a member of an organization with `role` (`owner`, `admin`, `member`).
    pub async fn add_member(&self, organization_id: &str, user_id: &str, role: &str) {
        use stratus_backend::db::schema::memberships;
        let (organization_id, user_id, role) = (
            organization_id.to_owned(),
            user_id.to_owned(),
            role.to_owned(),
        );
        self.pool
            .run(move |connection| {
                diesel::insert_into(memberships::table)
                    .values((
                        memberships::organization_id.eq(&organization_id),
                        memberships::user_id.eq(&user_id),
                        memberships::role.eq(&role),
                        memberships::created_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .expect("insert a membership");
    }

    /// Creates an organization through the API as `token`'s owner; returns its id.
    pub async fn create_organization(&self, token: &str, name: &str) -> String {
        let response = self
            .post_json(
                Some(token),
                "/api/organizations",
                &serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let organization: serde_json::Value = response.json().await.unwrap();
        organization["id"].as_str().unwrap().to_owned()
    }

    /// Registers a DMS through the API; returns its id and connect code.
    pub async fn create_system(
        &self,
        token: &str,
        organization_id: &str,
        name: &str,
    ) -> (String, String) {
        let response = self
            .post_json(
                Some(token),
                &format!("/api/organizations/{organization_id}/systems"),
                &serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.unwrap();
        (
            created["system"]["id"].as_str().unwrap().to_owned(),
            created["connect_code"]["code"].as_str().unwrap().to_owned(),
        )
    }

    /// Trades a connect code for DMS credentials.
    pub async fn connect_dms(
        &self,
        connect_code: &str,
    ) -> stratus_shared::api::gateway::DmsCredentials {
        let response = self
            .post_json(
                None,
                "/api/gateway/connect",
                &serde_json::json!({ "connect_code": connect_code }),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The WebSocket URL of the gateway endpoint.
    pub fn gateway_ws_url(&self) -> String {
        format!(
            "{}/api/gateway/ws",
            self.address.replacen("http://", "ws://", 1)
        )
    }
}

/// What a successful sign-in gives: the body and the refresh cookie.
pub struct SignedIn {
    pub grant: SessionGrant,
    pub refresh_token: String,
}

impl SignedIn {
    /// Reads a 200 sign-in answer.
    pub async fn from_response(response: reqwest::Response) -> Self {
        let refresh_token = refresh_cookie(&response).expect("a refresh cookie");
        let grant: SessionGrant = response.json().await.expect("a session grant");
        Self {
            grant,
            refresh_token,
        }
    }
}

/// The refresh token in a response's `Set-Cookie`, if it sets one (empty when it removes it).
pub fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let (pair, _) = value.split_once(';').unwrap_or((value, ""));
            pair.strip_prefix(&format!("{REFRESH_COOKIE}="))
                .map(str::to_owned)
        })
}

/// A unique address for one test.
pub fn unique_email(domain: &str) -> String {
    format!(
        "{}@{domain}",
        Alphanumeric
            .sample_string(&mut rand::rng(), 12)
            .to_lowercase()
    )
}

/// A database that exists for one test only.
pub enum TestDatabase {
    Sqlite,
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    /// Creates a fresh database: on the PostgreSQL server named by `TEST_DATABASE_URL`, or else
    /// an SQLite file inside `data_dir`.
    fn create(data_dir: &Path) -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!(
                    "stratus_test_{}",
                    Alphanumeric
                        .sample_string(&mut rand::rng(), 16)
                        .to_lowercase()
                );
                let mut admin = PgConnection::establish(&admin_url)
                    .expect("TEST_DATABASE_URL must reach a PostgreSQL server");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                let (server, _) = admin_url
                    .rsplit_once('/')
                    .expect("TEST_DATABASE_URL ends in /<database>");
                let url = format!("{server}/{name}");
                (
                    TestDatabase::Postgres {
                        admin_url,
                        name,
                        url: url.clone(),
                    },
                    url,
                )
            }
            _ => (
                TestDatabase::Sqlite,
                data_dir.join("stratus.db").to_string_lossy().into_owned(),
            ),
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        match self {
            TestDatabase::Sqlite => DatabaseBackend::Sqlite,
            TestDatabase::Postgres { .. } => DatabaseBackend::Postgres,
        }
    }

    /// Removes a PostgreSQL test database even while the server still holds connections.
    pub fn drop_now(&self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }

    /// The server URL of this test database.
    pub fn url(&self) -> Option<&str> {
        match self {
            TestDatabase::Sqlite => None,
            TestDatabase::Postgres { url, .. } => Some(url),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// Starts the server with test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the server with test settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let (database, database_url) = TestDatabase::create(data_dir.path());
    start(data_dir, database, database_url, configure).await
}

/// The id of the test OpenID provider in [`spawn_app_with_identity_provider`].
pub const TEST_PROVIDER: &str = "test";

/// Starts the server with the test OpenID provider (oidc-provider) configured as `test`: a
/// client registered at it for this server's exact redirect URI.
pub async fn spawn_app_with_identity_provider() -> TestApp {
    spawn_app_with_identity_provider_at(e2e::oidc::issuer()).await
}

/// Like [`spawn_app_with_identity_provider`], with the provider at `issuer`.
pub async fn spawn_app_with_identity_provider_at(issuer: String) -> TestApp {
    // The redirect URI must be registered before the server starts, so the port is chosen here.
    let port = e2e::oidc::free_port();
    let redirect_uri = format!("http://127.0.0.1:{port}/api/auth/oidc/{TEST_PROVIDER}/callback");
    let client = e2e::oidc::register_client(&issuer, &redirect_uri).await;
    spawn_app_with(move |settings| {
        settings.bind = format!("127.0.0.1:{port}").parse().expect("address");
        settings.oidc_providers = vec![OidcProviderSettings {
            id: TEST_PROVIDER.into(),
            name: "Test ID".into(),
            issuer,
            client_id: client.client_id,
            client_secret: client.client_secret,
            ..OidcProviderSettings::default()
        }];
    })
    .await
}

/// Starts a second server on the same data directory and database, as after a restart.
pub async fn restart(app: TestApp) -> TestApp {
    let TestApp {
        public_url,
        data_dir,
        database,
        _dist_dir,
        ..
    } = app;
    let database_url = match &database {
        TestDatabase::Sqlite => data_dir
            .path()
            .join("stratus.db")
            .to_string_lossy()
            .into_owned(),
        TestDatabase::Postgres { url, .. } => url.clone(),
    };
    // Same public URL as before: it is the issuer of the access tokens the test holds.
    start(data_dir, database, database_url, move |settings| {
        settings.public_url = public_url
    })
    .await
}

async fn start(
    data_dir: tempfile::TempDir,
    database: TestDatabase,
    database_url: String,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    // Server logs only on request (`TEST_LOG=1`): they drown the test output otherwise.
    if std::env::var_os("TEST_LOG").is_some() {
        stratus_backend::telemetry::init(LogFormat::Pretty);
    }
    let dist_dir = test_web_app();
    let mut settings = Settings {
        bind: "127.0.0.1:0".parse().expect("loopback address"),
        data_dir: data_dir.path().to_owned(),
        database_url,
        database_pool_size: 4,
        dist_dir: dist_dir.path().to_owned(),
        shutdown_timeout_seconds: 1,
        // Cheap hashing: the tests exercise the logic, not the cost.
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Settings::default()
    };
    // The real SMTP server that scripts/test.sh runs; without it, mail goes to the outbox.
    if let Some(port) = std::env::var("TEST_SMTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        settings.smtp_host = "127.0.0.1".into();
        settings.smtp_port = port;
        settings.smtp_tls = SmtpTls::None;
    }
    configure(&mut settings);
    let configured_public_url = settings.public_url.clone();
    let mailbox = Mailbox::for_test(&data_dir.path().join("outbox"));
    let application = Application::build(settings)
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let public_url = if configured_public_url.is_empty() {
        address.clone()
    } else {
        configured_public_url
    };
    let pool = application.database().clone();
    let access_tokens = application.access_tokens().clone();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        public_url,
        mailbox,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        database,
        data_dir,
        pool,
        access_tokens,
        _dist_dir: dist_dir,
    }
}

/// A minimal built web app, shaped like Trunk's output.
fn test_web_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary dist dir");
    let index = format!(
        "<!DOCTYPE html><html><head><script type=\"module\">{INLINE_SCRIPT}</script>\
         <link rel=\"modulepreload\" href=\"/{HASHED_ASSET}\"></head><body></body></html>"
    );
    std::fs::write(dir.path().join("index.html"), index).expect("write index.html");
    std::fs::write(dir.path().join(HASHED_ASSET), "export {};").expect("write asset");
    dir
}

/// A gateway's WebSocket to the test server.
pub type GatewaySocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the gateway WebSocket with `token` (or none); the HTTP status on refusal.
pub async fn open_gateway(app: &TestApp, token: Option<&str>) -> Result<GatewaySocket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.gateway_ws_url().into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("unexpected WebSocket error: {error}"),
    }
}

/// Sends a heartbeat frame.
pub async fn send_heartbeat(socket: &mut GatewaySocket, dms_responding: bool) {
    use futures_util::SinkExt;
    let heartbeat = stratus_shared::api::gateway::Heartbeat {
        dms_responding,
        dms_version: "10.5.2".into(),
        agent_count: 3,
        timestamp: chrono::Utc::now(),
    };
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::to_string(&heartbeat).unwrap(),
        ))
        .await
        .expect("send a heartbeat");
}

/// Reads frames until the server closes the socket; returns the close code (None when the
/// connection just ended). Bounded so a broken server fails the test instead of hanging it.
pub async fn close_code_of(socket: &mut GatewaySocket) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read)
        .await
        .expect("the server closes the socket")
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: String,
    pub event: String,
    pub data: serde_json::Value,
}

/// Reads events from an open `text/event-stream` response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    /// Opens `GET /api/live` as `token`, optionally resuming after `last_event_id`.
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = app
            .client
            .get(format!("{}/api/live", app.address))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the server answers");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped). Bounded so a missing event fails instead of hanging.
    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.read())
            .await
            .expect("an event arrives")
    }

    async fn read(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id: ") {
                        id = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("event: ") {
                        event = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    }
                }
                if event.is_empty() {
                    continue; // a keep-alive comment
                }
                return SseEvent {
                    id,
                    event,
                    data: serde_json::from_str(&data).expect("event data is JSON"),
                };
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream stays readable")
                .expect("the stream stays open");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Waits until the server ends the stream (events before the end are skipped).
    pub async fn ended(&mut self) {
        let read = async { while let Ok(Some(_)) = self.response.chunk().await {} };
        tokio::time::timeout(std::time::Duration::from_secs(20), read)
            .await
            .expect("the server ends the stream");
    }

    /// The next `state` event's DMS id and state.
    pub async fn next_state(&mut self) -> (String, String) {
        let event = self.next().await;
        assert_eq!(event.event, "state", "{event:?}");
        (
            event.data["system_id"].as_str().unwrap().to_owned(),
            event.data["state"].as_str().unwrap().to_owned(),
        )
    }
}
