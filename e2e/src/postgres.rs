//! A PostgreSQL database of one journey's own, on the server named by `TEST_DATABASE_URL`,
//! made and dropped with `psql` (the client that comes with the server).

use std::process::Command;

/// A fresh database; dropped (connections and all) when this value is.
pub struct TestPostgres {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestPostgres {
    /// `None` when `TEST_DATABASE_URL` is not set.
    pub fn create() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let (server, _) = admin_url.rsplit_once('/')?;
        let name = format!("stratus_e2e_{}", std::process::id());
        let url = format!("{server}/{name}");
        let database = Self {
            admin_url: admin_url.clone(),
            name,
            url,
        };
        database.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            database.name
        ));
        assert!(
            database.psql(&format!("CREATE DATABASE {}", database.name)),
            "cannot create a database on TEST_DATABASE_URL"
        );
        Some(database)
    }

    /// Takes the database away under a running server, as an outage would.
    pub fn drop_now(&self) -> bool {
        self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
    }

    fn psql(&self, sql: &str) -> bool {
        Command::new("psql")
            .args([self.admin_url.as_str(), "-q", "-c", sql])
            .status()
            .map(|status| status.success())
            .unwrap_or(false)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.drop_now();
    }
}
