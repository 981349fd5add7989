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
    /// Sign-ups (and thus argon2 hashes) allowed per client address an hour.
    pub signups_per_address_per_hour: u32,
    /// Invitations one organization may send a day (each mails an address; withdrawn ones
    /// count too, so invite/withdraw loops cannot flood a mailbox).
    pub invitations_per_organization_per_day: u32,
    /// Password hashes (argon2, `argon2_memory_kib` each) computed at once at most; more wait
    /// their turn, so parallel sign-ups cannot exhaust memory. 0 means one per CPU core.
    pub password_hashes_at_once: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or networks, comma-
    /// separated, e.g. `127.0.0.1,10.0.0.0/8`). Empty: none, the peer address is the client.
    pub trusted_proxies: String,
    /// Seconds between two heartbeats of a DMS's gateway (told to gateways when they connect).
    pub heartbeat_interval_seconds: u64,
    /// Seconds of silence after which a DMS counts as disconnected (or not responding, when only
    /// its reports stop); 0 means three heartbeat intervals.
    pub heartbeat_timeout_seconds: u64,
    /// How often one DMS's state may change a minute (as many in a row); a DMS flapping
    /// faster shows its latest state at this pace. 0: no limit.
    pub state_changes_per_dms_per_minute: u32,
    /// Control frames (heartbeats, link confirmations, pings) one gateway may send a second,
    /// twice as many in a row; faster ones wait in the socket, so a flooding gateway slows
    /// itself down instead of the server. Tunnel data is not counted. 0: no limit.
    pub gateway_frames_per_second: u32,
    /// Sessions (signed-in browsers) one account keeps; signing in beyond ends the least
    /// recently used. 0: no limit.
    pub sessions_per_account: u32,
    /// Organizations one account may belong to through its own creations and accepted
    /// invitations (staff links are not counted). 0: no limit.
    pub organizations_per_account: u32,
    /// DMSs one organization may register. 0: no limit.
    pub systems_per_organization: u32,
    /// Collaboration projects one organization may have. 0: no limit.
    pub projects_per_organization: u32,
    /// Tasks one project may have. 0: no limit.
    pub tasks_per_project: u32,
    /// Dashboards one organization may share. 0: no limit.
    pub dashboards_per_organization: u32,
    /// Invitations an organization's Owners and Admins may have waiting for an answer at
    /// once. 0: no limit.
    pub pending_invitations_per_organization: u32,
    /// Base domain under which DMSs are reached remotely (`<dms>-<org>.<domain>`, with the
    /// portal's scheme and port); empty means `remote.localhost`, which browsers resolve to
    /// this machine. In production: a wildcard DNS name and certificate for `*.<domain>`.
    pub remote_access_domain: String,
    /// The largest request body remote access carries to a DMS (413 beyond).
    pub remote_access_max_request_bytes: u64,
    /// Seconds a DMS's web server may take to start answering a remote request (504 beyond).
    pub remote_access_timeout_seconds: u64,
    /// Remote requests (and WebSockets) in flight per DMS at most (503 beyond).
    pub remote_access_max_concurrent_requests: usize,
    /// Hours a remote session lasts once opened from the portal.
    pub remote_access_session_hours: u32,
    /// Cluster mode: the address (`host:port`) the other backends reach this one at, to
    /// forward remote requests for the DMSs whose sockets it holds; empty means `bind`.
    pub backend_address: String,
    /// Preset: Microsoft (personal and work accounts) — shown when id and secret are set.
    pub oidc_microsoft_client_id: Option<String>,
    pub oidc_microsoft_client_secret: Option<String>,
    /// The Microsoft tenant: `common` (personal and work), `organizations` (work only) or one
    /// tenant's id.
    pub oidc_microsoft_tenant: String,
    /// Preset: Google.
    pub oidc_google_client_id: Option<String>,
    pub oidc_google_client_secret: Option<String>,
    /// Preset: LinkedIn (OpenID Connect product).
    pub oidc_linkedin_client_id: Option<String>,
    pub oidc_linkedin_client_secret: Option<String>,
    /// Preset: Login with Amazon (OAuth 2.0 with a profile endpoint).
    pub oidc_amazon_client_id: Option<String>,
    pub oidc_amazon_client_secret: Option<String>,
    /// More providers, from the config file's `[[oidc_providers]]` tables.
    pub oidc_providers: Vec<OidcProviderSettings>,
    /// NATS server(s) of the bus between backends, e.g. `nats://127.0.0.1:4222` (several
    /// comma-separated). Empty: this process is the only backend and the bus is in-process.
    pub nats_url: String,
    /// Prefix of the bus's subjects and of its JetStream stream's name, so that several
    /// clusters can share one NATS.
    pub nats_prefix: String,
    /// A NATS credentials file (JWT and NKey seed), when the NATS server wants one.
    pub nats_credentials_file: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for NATS over TLS (`tls://` URLs).
    pub nats_tls_ca_file: Option<PathBuf>,
    /// Require TLS for the NATS connection even when the URL does not say `tls://`.
    pub nats_require_tls: bool,
    /// This backend's name in logs and in the `X-Stratus-Backend` response header; empty means
    /// the host name and process id.
    pub backend_name: String,
    /// Seconds a backend's lease lasts without renewal (renewed every third of it): after
    /// that, the survivors record its DMSs disconnected.
    pub backend_lease_seconds: u64,
}

/// One identity provider. OpenID Connect providers need `issuer` (discovery); OAuth 2.0
/// providers with a profile endpoint (Login with Amazon's shape) set `authorization_url`,
/// `token_url` and `profile_url` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OidcProviderSettings {
    /// Short lower-case id, part of the redirect URI: `{public_url}/api/auth/oidc/{id}/callback`.
    pub id: String,
    /// What the sign-in button says.
    pub name: String,
    /// The issuer; `{issuer}/.well-known/openid-configuration` is read for the endpoints.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// The issuer is a multi-tenant template (Microsoft `common`): the ID token's `iss` is the
    /// user's own tenant, `https://login.microsoftonline.com/{tenantid}/v2.0`.
    pub multi_tenant: bool,
    /// Send the client secret in the token request's body instead of HTTP Basic.
    pub client_secret_post: bool,
    /// OAuth 2.0 shape: the authorization endpoint.
    pub authorization_url: String,
    /// OAuth 2.0 shape: the token endpoint.
    pub token_url: String,
    /// OAuth 2.0 shape: a JSON profile endpoint read with the access token; it answers
    /// `user_id` (or `sub`) and `email`.
    pub profile_url: String,
    /// OAuth 2.0 shape: the provider only hands out addresses it verified (Amazon does).
    pub profile_email_verified: bool,
}

impl Default for OidcProviderSettings {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            multi_tenant: false,
            client_secret_post: false,
            authorization_url: String::new(),
            token_url: String::new(),
            profile_url: String::new(),
            profile_email_verified: false,
        }
    }
}

impl OidcProviderSettings {
    /// Whether this provider uses a profile endpoint instead of an ID token.
    pub fn is_oauth2_profile(&self) -> bool {
        self.issuer.trim().is_empty() && !self.profile_url.trim().is_empty()
    }
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
            signups_per_address_per_hour: 10,
            invitations_per_organization_per_day: 50,
            password_hashes_at_once: 0,
            trusted_proxies: String::new(),
            heartbeat_interval_seconds: 10,
            heartbeat_timeout_seconds: 0,
            state_changes_per_dms_per_minute: 12,
            gateway_frames_per_second: 10,
            sessions_per_account: 20,
            organizations_per_account: 50,
            systems_per_organization: 2000,
            projects_per_organization: 500,
            tasks_per_project: 1000,
            dashboards_per_organization: 500,
            pending_invitations_per_organization: 500,
            remote_access_domain: String::new(),
            remote_access_max_request_bytes: 64 * 1024 * 1024,
            remote_access_timeout_seconds: 30,
            remote_access_max_concurrent_requests: 32,
            remote_access_session_hours: 8,
            backend_address: String::new(),
            oidc_microsoft_client_id: None,
            oidc_microsoft_client_secret: None,
            oidc_microsoft_tenant: "common".into(),
            oidc_google_client_id: None,
            oidc_google_client_secret: None,
            oidc_linkedin_client_id: None,
            oidc_linkedin_client_secret: None,
            oidc_amazon_client_id: None,
            oidc_amazon_client_secret: None,
            oidc_providers: Vec::new(),
            nats_url: String::new(),
            nats_prefix: "stratus".into(),
            nats_credentials_file: None,
            nats_tls_ca_file: None,
            nats_require_tls: false,
            backend_name: String::new(),
            backend_lease_seconds: 10,
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

    /// This backend's name: the configured one, else the host name and process id.
    pub fn backend_name(&self) -> String {
        let configured = self.backend_name.trim();
        if !configured.is_empty() {
            return configured.to_owned();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_default();
        let host = if host.is_empty() {
            "stratus"
        } else {
            host.as_str()
        };
        format!("{host}-{}", std::process::id())
    }

    /// The identity providers to show: presets with credentials, then configured ones with
    /// credentials. Providers without a client id and secret are left out.
    pub fn identity_providers(&self) -> Vec<OidcProviderSettings> {
        fn credentials(id: &Option<String>, secret: &Option<String>) -> Option<(String, String)> {
            let id = id.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            let secret = secret.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            Some((id.to_owned(), secret.to_owned()))
        }
        let mut providers = Vec::new();
        if let Some((client_id, client_secret)) = credentials(
            &self.oidc_microsoft_client_id,
            &self.oidc_microsoft_client_secret,
        ) {
            let tenant = self.oidc_microsoft_tenant.trim();
            providers.push(OidcProviderSettings {
                id: "microsoft".into(),
                name: "Microsoft".into(),
                issuer: format!("https://login.microsoftonline.com/{tenant}/v2.0"),
                multi_tenant: matches!(tenant, "common" | "organizations" | "consumers"),
                client_id,
                client_secret,
                ..OidcProviderSettings::default()
            });
        }
        if let Some((client_id, client_secret)) =
            credentials(&self.oidc_google_client_id, &self.oidc_google_client_secret)
        {
            providers.push(OidcProviderSettings {
                id: "google".into(),
                name: "Google".into(),
                issuer: "https://accounts.google.com".into(),
                client_id,
                client_secret,
                ..OidcProviderSettings::default()
            });
        }
        if let Some((client_id, client_secret)) = credentials(
            &self.oidc_linkedin_client_id,
            &self.oidc_linkedin_client_secret,
        ) {
            providers.push(OidcProviderSettings {
                id: "linkedin".into(),
                name: "LinkedIn".into(),
                issuer: "https://www.linkedin.com/oauth".into(),
                client_secret_post: true,
                client_id,
                client_secret,
                ..OidcProviderSettings::default()
            });
        }
        if let Some((client_id, client_secret)) =
            credentials(&self.oidc_amazon_client_id, &self.oidc_amazon_client_secret)
        {
            providers.push(OidcProviderSettings {
                id: "amazon".into(),
                name: "Amazon".into(),
                authorization_url: "https://www.amazon.com/ap/oa".into(),
                token_url: "https://api.amazon.com/auth/o2/token".into(),
                profile_url: "https://api.amazon.com/user/profile".into(),
                profile_email_verified: true,
                scopes: vec!["profile".into()],
                client_secret_post: true,
                client_id,
                client_secret,
                ..OidcProviderSettings::default()
            });
        }
        for provider in &self.oidc_providers {
            if provider.client_id.trim().is_empty() || provider.client_secret.trim().is_empty() {
                continue;
            }
            if providers.iter().any(|known| known.id == provider.id) {
                continue;
            }
            providers.push(provider.clone());
        }
        providers
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
    fn providers_without_credentials_do_not_show() {
        let mut settings = Settings {
            oidc_google_client_id: Some("google-id".into()),
            oidc_microsoft_client_id: Some("ms-id".into()),
            oidc_microsoft_client_secret: Some("  ".into()),
            ..Settings::default()
        };
        assert!(settings.identity_providers().is_empty());
        settings.oidc_google_client_secret = Some("google-secret".into());
        settings.oidc_providers.push(OidcProviderSettings {
            id: "corp".into(),
            name: "Corp".into(),
            issuer: "https://id.corp.example".into(),
            client_id: "corp-id".into(),
            ..OidcProviderSettings::default()
        });
        let ids: Vec<String> = settings
            .identity_providers()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, ["google"]);
    }

    #[test]
    fn providers_come_from_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stratus.toml");
        std::fs::write(
            &file,
            "oidc_microsoft_client_id = \"ms\"\noidc_microsoft_client_secret = \"s\"\n\
             oidc_microsoft_tenant = \"organizations\"\n\
             [[oidc_providers]]\nid = \"corp\"\nname = \"Corp ID\"\n\
             issuer = \"https://id.corp.example\"\nclient_id = \"c\"\nclient_secret = \"t\"\n",
        )
        .unwrap();
        let providers = Settings::load(Some(&file)).unwrap().identity_providers();
        assert_eq!(providers.len(), 2);
        assert_eq!(
            providers[0].issuer,
            "https://login.microsoftonline.com/organizations/v2.0"
        );
        assert!(providers[0].multi_tenant);
        assert_eq!(providers[1].name, "Corp ID");
        assert_eq!(providers[1].scopes, ["openid", "email", "profile"]);
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
