//! `spawn_app()`: the real server, a fresh database and a throwaway data directory per test.

use std::path::Path;

use diesel::{Connection, PgConnection, RunQueryDsl};
use e2e::mailbox::Mailbox;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use stratus_backend::config::{LogFormat, OidcProviderSettings, Settings, SmtpTls};
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
    pub mailbox: Mailbox,
    pub access_tokens: stratus_backend::auth::AccessTokens,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    pub data_dir: tempfile::TempDir,
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

    /// GET `path` with an access token.
    pub async fn get_as(&self, access_token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("the server answers")
    }

    /// POST a JSON body to `path`.
    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, path))
            .json(body)
            .send()
            .await
            .expect("the server answers")
    }

    /// POST a JSON body to `path` with an access token.
    pub async fn post_json_as(
        &self,
        access_token: &str,
        path: &str,
        body: &impl Serialize,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, path))
            .bearer_auth(access_token)
            .json(body)
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
                "/api/auth/signup",
                &serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 202, "sign-up of {email}");
        let mail = self.mailbox.wait_for_message(email, 1).await;
        let token = mail
            .link_token("/verify-email")
            .expect("a verification link");
        let response = self
            .post_json(
                "/api/auth/verify-email",
                &serde_json::json!({"token": token, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "verification of {email}");
        SignedIn::from_response(response).await
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

/// Starts the server with test settings changed by `customize`.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let (database, database_url) = TestDatabase::create(data_dir.path());
    start(data_dir, database, database_url, customize).await
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
    start(data_dir, database, database_url, |_| {}).await
}

async fn start(
    data_dir: tempfile::TempDir,
    database: TestDatabase,
    database_url: String,
    customize: impl FnOnce(&mut Settings),
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
    customize(&mut settings);
    let mailbox = Mailbox::for_test(&data_dir.path().join("outbox"));
    let application = Application::build(settings)
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let access_tokens = application.access_tokens().clone();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        mailbox,
        access_tokens,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client"),
        database,
        data_dir,
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
