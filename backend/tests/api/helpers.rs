//! `spawn_app()`: the real server, a fresh database and a throwaway data directory per test.

use std::path::Path;

use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::distr::{Alphanumeric, SampleString};
use stratus_backend::config::{LogFormat, Settings};
use stratus_backend::startup::Application;
use stratus_shared::api::health::DatabaseBackend;

/// The inline start-up script of the test web app; its hash must be in the CSP.
pub const INLINE_SCRIPT: &str = "console.log('stratus test app');";
/// A fingerprinted asset of the test web app.
pub const HASHED_ASSET: &str = "frontend-0123456789abcdef.js";

/// A running server and what it stands on; everything is removed when it is dropped.
pub struct TestApp {
    pub address: String,
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
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let (database, database_url) = TestDatabase::create(data_dir.path());
    start(data_dir, database, database_url).await
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
    start(data_dir, database, database_url).await
}

async fn start(
    data_dir: tempfile::TempDir,
    database: TestDatabase,
    database_url: String,
) -> TestApp {
    // Server logs only on request (`TEST_LOG=1`): they drown the test output otherwise.
    if std::env::var_os("TEST_LOG").is_some() {
        stratus_backend::telemetry::init(LogFormat::Pretty);
    }
    let dist_dir = test_web_app();
    let settings = Settings {
        bind: "127.0.0.1:0".parse().expect("loopback address"),
        data_dir: data_dir.path().to_owned(),
        database_url,
        database_pool_size: 4,
        public_url: String::new(),
        dist_dir: dist_dir.path().to_owned(),
        log_format: LogFormat::Pretty,
        shutdown_timeout_seconds: 1,
        session_secret: None,
        gateway_secret: None,
        heartbeat_interval_seconds: 10,
        heartbeat_timeout_seconds: 0,
    };
    let application = Application::build(settings)
        .await
        .expect("the server starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
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
