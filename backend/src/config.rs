//! Typed settings: defaults, then an optional TOML file, then `STRATUS_*` environment variables.
//!
//! Every setting has a default that needs nothing installed, so `stratus` alone serves the
//! portal from `./data/` with an embedded SQLite database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// All settings of a running server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address and port to listen on, e.g. `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// Folder for everything the server keeps: SQLite database, generated secrets, mail outbox.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; a file path or `sqlite://path` for SQLite.
    /// Empty means `<data_dir>/stratus.db`.
    pub database_url: String,
    /// Most connections the pool keeps open.
    pub database_pool_size: u32,
    /// The address people reach the portal at (used in mails and redirects).
    /// Empty means `http://<bind>`.
    pub public_url: String,
    /// Folder with the built web app (Trunk's output).
    pub dist_dir: PathBuf,
    /// `pretty` for people at a terminal, `json` for log collectors.
    pub log_format: LogFormat,
    /// Seconds the server waits for running requests when asked to stop.
    pub shutdown_timeout_seconds: u64,
    /// Key for people's session tokens; generated into the data dir when not given.
    pub session_secret: Option<String>,
    /// Key for DMS tokens; generated into the data dir when not given.
    pub gateway_secret: Option<String>,
    /// argon2id memory cost in KiB (OWASP: 19456 with 2 iterations).
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// SMTP server for outgoing mail; empty means mail is written to `<data_dir>/outbox/`.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls` (implicit TLS).
    pub smtp_tls: SmtpTls,
    /// SMTP user name, if the server wants one.
    pub smtp_username: Option<String>,
    /// SMTP password, if the server wants one.
    pub smtp_password: Option<String>,
    /// The sender of every mail.
    pub mail_from: String,
    /// Failed sign-ins allowed per account within `login_window_minutes`.
    pub login_attempts_per_account: u32,
    /// Failed sign-ins allowed per client address within `login_window_minutes`
    /// (higher: many people may share one address behind a company's NAT).
    pub login_attempts_per_address: u32,
    /// The sliding window for sign-in throttling.
    pub login_window_minutes: u32,
    /// Seconds between two heartbeats of a DMS's gateway (told to gateways when they connect).
    pub heartbeat_interval_seconds: u64,
    /// Seconds of silence after which a DMS counts as disconnected (or not responding, when only
    /// its reports stop); 0 means three heartbeat intervals.
    pub heartbeat_timeout_seconds: u64,
    /// Base domain under which DMSs are reached remotely (`https://<dms>-<org>.<domain>`);
    /// empty turns remote access off.
    pub remote_access_domain: String,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a server on the same machine or in tests.
    None,
    /// Upgrade with STARTTLS (port 587); refuses to send without it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl Default for Settings {
    /// Settings that need nothing installed: the portal on 127.0.0.1:8080 with SQLite in ./data.
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            database_pool_size: 8,
            public_url: String::new(),
            dist_dir: PathBuf::from("dist"),
            log_format: LogFormat::Pretty,
            shutdown_timeout_seconds: 10,
            session_secret: None,
            gateway_secret: None,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            mail_from: "Stratus <no-reply@stratus.localhost>".into(),
            login_attempts_per_account: 5,
            login_attempts_per_address: 20,
            login_window_minutes: 15,
            heartbeat_interval_seconds: 10,
            heartbeat_timeout_seconds: 0,
            remote_access_domain: String::new(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A database location, told apart by its scheme once, at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A libpq connection URL.
    Postgres(String),
    /// A path to an SQLite file (created when missing).
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Reads a configured URL; empty means the default SQLite file in `data_dir`.
    pub fn parse(raw: &str, data_dir: &Path) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(DatabaseUrl::Sqlite(data_dir.join("stratus.db")));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        if path.is_empty() {
            return Err("the SQLite database URL names no file".into());
        }
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in {raw:?}: use postgres://… or a file path"
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }
}

impl Settings {
    /// Loads settings from defaults, the file named by `config_file` (if any) and the
    /// environment (`STRATUS_BIND`, `STRATUS_DATA_DIR`, …).
    pub fn load(config_file: Option<&Path>) -> Result<Self, config::ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::Config::try_from(&Settings::default())?);
        if let Some(file) = config_file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        builder
            .add_source(config::Environment::with_prefix("STRATUS").try_parsing(true))
            .build()?
            .try_deserialize()
    }

    /// The database to use, resolved against the data directory.
    pub fn database(&self) -> Result<DatabaseUrl, String> {
        DatabaseUrl::parse(&self.database_url, &self.data_dir)
    }

    /// How long silence from a gateway is tolerated.
    pub fn heartbeat_timeout(&self) -> std::time::Duration {
        let seconds = match self.heartbeat_timeout_seconds {
            0 => self.heartbeat_interval_seconds.max(1).saturating_mul(3),
            seconds => seconds,
        };
        std::time::Duration::from_secs(seconds)
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            url.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_configuration() {
        let settings = Settings::load(None).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.public_url(), "http://127.0.0.1:8080");
        assert_eq!(
            settings.database().unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/stratus.db"))
        );
        assert!(settings.smtp_host.is_empty());
    }

    #[test]
    fn empty_database_url_means_sqlite_in_the_data_dir() {
        let url = DatabaseUrl::parse("  ", Path::new("/srv/stratus")).unwrap();
        assert_eq!(
            url,
            DatabaseUrl::Sqlite(PathBuf::from("/srv/stratus/stratus.db"))
        );
    }

    #[test]
    fn postgres_urls_are_recognised_by_scheme() {
        for raw in ["postgres://u@h/db", "postgresql://h:5432/db"] {
            assert_eq!(
                DatabaseUrl::parse(raw, Path::new(".")).unwrap(),
                DatabaseUrl::Postgres(raw.into())
            );
        }
    }

    #[test]
    fn sqlite_urls_and_plain_paths_give_a_file() {
        for (raw, path) in [
            ("sqlite://data/x.db", "data/x.db"),
            ("sqlite:x.db", "x.db"),
            ("/tmp/y.db", "/tmp/y.db"),
        ] {
            assert_eq!(
                DatabaseUrl::parse(raw, Path::new(".")).unwrap(),
                DatabaseUrl::Sqlite(PathBuf::from(path))
            );
        }
    }

    #[test]
    fn the_heartbeat_timeout_defaults_to_three_intervals() {
        let mut settings = Settings::load(None).unwrap();
        assert_eq!(settings.heartbeat_interval_seconds, 10);
        assert_eq!(
            settings.heartbeat_timeout(),
            std::time::Duration::from_secs(30)
        );
        settings.heartbeat_interval_seconds = 4;
        assert_eq!(
            settings.heartbeat_timeout(),
            std::time::Duration::from_secs(12)
        );
        settings.heartbeat_timeout_seconds = 7;
        assert_eq!(
            settings.heartbeat_timeout(),
            std::time::Duration::from_secs(7)
        );
    }

    #[test]
    fn unknown_schemes_are_refused_instead_of_becoming_a_file() {
        assert!(DatabaseUrl::parse("mysql://h/db", Path::new(".")).is_err());
        assert!(DatabaseUrl::parse("sqlite://", Path::new(".")).is_err());
    }
}
