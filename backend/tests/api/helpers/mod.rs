//! `spawn_app()`: the real server, a fresh database and a throwaway data directory per test.

mod database;
mod streams;

pub use database::TestDatabase;
pub use streams::*;

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use e2e::mailbox::Mailbox;
use rand::distr::{Alphanumeric, SampleString};
use stratus_backend::auth::AccessTokens;
use stratus_backend::config::{LogFormat, OidcProviderSettings, Settings, SmtpTls};
use stratus_backend::db::Database;
use stratus_backend::startup::Application;
use stratus_shared::api::auth::{SessionGrant, CLIENT_HEADER, REFRESH_COOKIE};

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
    /// The server's live hub, to announce changes arranged behind the API.
    pub live: stratus_backend::live::LiveHub,
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

    /// Records a link of `user_id` to `dms_username` on the DMS as links were made before the
    /// DMS had to confirm them (unconfirmed).
    pub async fn insert_dms_account_link(
        &self,
        system_id: &str,
        user_id: &str,
        dms_username: &str,
    ) {
        use stratus_backend::db::schema::dms_account_links;
        let (system_id, user_id, dms_username) = (
            system_id.to_owned(),
            user_id.to_owned(),
            dms_username.to_owned(),
        );
        self.pool
            .run(move |connection| {
                diesel::insert_into(dms_account_links::table)
                    .values((
                        dms_account_links::system_id.eq(&system_id),
                        dms_account_links::user_id.eq(&user_id),
                        dms_account_links::dms_username.eq(&dms_username),
                        dms_account_links::linked_at.eq(chrono::Utc::now().naive_utc()),
                    ))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .expect("insert a DMS account link");
    }

    /// Makes a person a member of an organization with `role` (`owner`, `admin`, `member`).
    pub async fn add_member(&self, organization_id: &str, user_id: &str, role: &str) {
        use stratus_backend::db::schema::memberships;
        let member = user_id.to_owned();
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
        // As every route that changes memberships does: streams and cached lists follow.
        self.live.membership_changed(&member);
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
    let live = application.live().clone();
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
        live,
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
