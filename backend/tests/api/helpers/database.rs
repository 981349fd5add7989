//! A database for one test: a fresh PostgreSQL database on `TEST_DATABASE_URL`'s server
//! (dropped afterwards), or else an SQLite file in the test's data directory.

use std::path::Path;

use diesel::RunQueryDsl;
use rand::distr::{Alphanumeric, SampleString};
use stratus_shared::api::health::DatabaseBackend;

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
    pub(super) fn create(data_dir: &Path) -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                let name = format!(
                    "stratus_test_{}",
                    Alphanumeric
                        .sample_string(&mut rand::rng(), 16)
                        .to_lowercase()
                );
                let mut admin = stratus_backend::db::establish_postgres(&admin_url)
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
            if let Ok(mut admin) = stratus_backend::db::establish_postgres(admin_url) {
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
