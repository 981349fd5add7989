//! Builds the application from settings: database, keys, web app, HTTP server.
//! The binary and the tests both start Stratus through [`Application::build`].

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_http::HttpService;
use actix_service::{fn_service, map_config};
use actix_web::dev::{AppConfig, Server};
use actix_web::middleware::{from_fn, Compress, DefaultHeaders};
use actix_web::{web, App};
use anyhow::Context;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::service_config::ServiceConfig as OpenApiServiceConfig;

use crate::auth::dms_tokens::DmsTokens;
use crate::auth::oidc::IdentityProviders;
use crate::auth::password::Passwords;
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::db::Database;
use crate::domain::catalog::Catalog;
use crate::domain::remote_access::RemoteHosts;
use crate::domain::system_list::SystemListCache;
use crate::live::{self, LiveHub};
use crate::mail::Mailer;
use crate::remote::{self, RemoteAccess};
use crate::routes;
use crate::routes::upgrade::Upgrades;
use crate::secrets::Secrets;
use crate::spa::{self, WebApp};
use crate::state::{AppState, OpenApiDocument};
use crate::telemetry::RequestSpan;
use crate::tunnel::Tunnels;

/// The running server.
pub struct Application {
    port: u16,
    public_url: String,
    server: Server,
    database: Database,
    access_tokens: AccessTokens,
    live: LiveHub,
}

impl Application {
    /// Prepares the data dir, opens (and migrates) the database and binds the listener.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let secrets = Secrets::load_or_generate(
            &settings.data_dir,
            settings.session_secret.as_deref(),
            settings.gateway_secret.as_deref(),
        )?;
        let database_url = settings
            .database()
            .map_err(|error| anyhow::anyhow!("STRATUS_DATABASE_URL: {error}"))?;
        let pool_size = settings.database_pool_size;
        let database = web::block(move || Database::connect(&database_url, pool_size)).await??;
        tracing::info!(backend = ?database.backend(), "database ready");

        let web_app = WebApp::load(&settings.dist_dir);
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let local_address = listener.local_addr()?;
        let port = local_address.port();
        if settings.public_url.trim().is_empty() {
            // With port 0 only the bound listener knows the real port.
            settings.public_url = format!("http://{local_address}");
        }
        let access_tokens = AccessTokens::new(&secrets.session_key, &settings.public_url());
        let settings_public_url = settings.public_url();
        let mut cluster = live::cluster::ClusterSettings::from_settings(&settings)?;
        if let Some(cluster) = &mut cluster {
            if settings.backend_address.trim().is_empty() {
                // With port 0 only the bound listener knows where others reach this backend.
                cluster.backend_address = local_address.to_string();
            }
        }
        let labelled = database
            .run(|connection| {
                Ok(crate::domain::remote_access::assign_missing_labels(
                    connection,
                )?)
            })
            .await?;
        if labelled > 0 {
            tracing::info!(count = labelled, "remote-access host names given to DMSs");
        }
        let live = live::start(
            &database,
            settings.heartbeat_timeout(),
            live::Limits {
                state_changes: live::hub::ChangeLimit::per_minute(
                    settings.state_changes_per_dms_per_minute,
                ),
                gateway_frames: live::hub::FrameLimit::per_second(
                    settings.gateway_frames_per_second,
                ),
            },
            cluster,
        )
        .await?;
        let server = run(
            listener,
            settings,
            secrets,
            database.clone(),
            access_tokens.clone(),
            live.clone(),
            web_app,
        )?;
        Ok(Self {
            port,
            public_url: settings_public_url,
            server,
            database,
            access_tokens,
            live,
        })
    }

    /// The port actually bound (useful when binding port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address people reach this server at (its configured public URL, or the bound
    /// address when none is configured).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The database pool (tests use it to look behind the API).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The access-token issuer (tests use it to act as a signed-in user).
    pub fn access_tokens(&self) -> &AccessTokens {
        &self.access_tokens
    }

    /// The live DMS state hub.
    pub fn live(&self) -> &LiveHub {
        &self.live
    }

    /// Serves until SIGINT/SIGTERM, then lets running requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Cuts the open remote sessions that [`LiveHub::cut_remote_access`] announces, this
/// backend's and the others'.
fn cut_remote_sessions(hub: &LiveHub, tunnels: Tunnels) {
    let mut cuts = hub.remote_cuts();
    tokio::spawn(async move {
        loop {
            match cuts.recv().await {
                Ok(cut) => {
                    let count = tunnels.cut(&cut.system_ids, &cut.people);
                    if count > 0 {
                        tracing::info!(count, "remote sessions cut");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "remote-access cuts missed: sessions are re-checked at their next request"
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// How much response a connection buffers before it waits for the client to read (see `run`).
const LIVE_STREAM_WRITE_BUFFER: usize = 8 * 1024;

fn run(
    listener: TcpListener,
    settings: Settings,
    secrets: Secrets,
    database: Database,
    access_tokens: AccessTokens,
    live: LiveHub,
    web_app: WebApp,
) -> anyhow::Result<Server> {
    let document = routes::openapi_document();
    let api_routes = web::Data::new(routes::ApiRoutes::from_openapi(&document));
    let openapi = OpenApiDocument(
        document
            .to_json()
            .context("cannot serialize the OpenAPI document")?
            .into(),
    );
    let shutdown_timeout = settings.shutdown_timeout_seconds;
    let hsts = settings.public_url().starts_with("https://");
    // Which backend answered: a cluster's operators (and its tests) tell them apart by it.
    let backend_name = settings.backend_name();
    let passwords = Passwords::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
    )?
    .at_once(settings.password_hashes_at_once);
    let trusted_proxies: crate::auth::client_address::TrustedProxies = settings
        .trusted_proxies
        .parse()
        .map_err(|error| anyhow::anyhow!("STRATUS_TRUSTED_PROXIES: {error}"))?;
    let mailer = Mailer::from_settings(&settings)?;
    let identity_providers = web::Data::new(IdentityProviders::from_settings(&settings)?);
    let catalog = web::Data::new(Catalog::bundled().context("the bundled catalog is invalid")?);
    let state = AppState {
        access_tokens,
        passwords,
        mailer,
        dms_tokens: DmsTokens::new(&secrets.gateway_key, &settings.public_url()),
        trusted_proxies,
        settings: Arc::new(settings),
        secrets: Arc::new(secrets),
    };
    let remote_hosts = RemoteHosts::new(
        &state.settings.remote_access_domain,
        &state.settings.public_url(),
    );
    // The portal's ticket form posts to the DMSs' origins, and nowhere else.
    let content_security_policy = web_app.content_security_policy().replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", remote_hosts.csp_source()),
    );
    let database = web::Data::new(database);
    let state = web::Data::new(state);
    let openapi = web::Data::new(openapi);
    let live = web::Data::new(live);
    let system_lists = web::Data::new(SystemListCache::default());

    let tunnels = Tunnels::new(state.settings.remote_access_max_concurrent_requests);
    let remote = RemoteAccess::new(
        database.get_ref().clone(),
        tunnels.clone(),
        live.get_ref().clone(),
        remote_hosts,
        remote::Limits {
            max_request_bytes: state.settings.remote_access_max_request_bytes,
            response_timeout: Duration::from_secs(
                state.settings.remote_access_timeout_seconds.max(1),
            ),
            session_lifetime: chrono::TimeDelta::hours(i64::from(
                state.settings.remote_access_session_hours.max(1),
            )),
        },
        &state.settings.public_url(),
        live.backend_id()
            .map(|_| state.secrets.session_key.expose()),
    );
    cut_remote_sessions(live.get_ref(), tunnels);
    let upgrades = Upgrades::new(
        state.dms_tokens.clone(),
        database.get_ref().clone(),
        live.get_ref().clone(),
        remote.clone(),
        state.trusted_proxies.clone(),
    );
    let remote_hosts = remote.hosts().clone();
    let remote = web::Data::new(remote);
    let app = move || {
        let mut security_headers = DefaultHeaders::new()
            .add(("Content-Security-Policy", content_security_policy.as_str()))
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("Referrer-Policy", "same-origin"))
            .add(("X-Frame-Options", "DENY"))
            .add(("X-Stratus-Backend", backend_name.as_str()))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add((
                "Permissions-Policy",
                "camera=(), microphone=(), geolocation=(), payment=()",
            ));
        if hsts {
            // The DMSs' remote hosts are usually under the portal's domain: they are HTTPS
            // only too.
            security_headers = security_headers.add((
                "Strict-Transport-Security",
                "max-age=31536000; includeSubDomains",
            ));
        }
        App::new()
            .wrap(from_fn(spa::cache_headers_middleware))
            .wrap(security_headers)
            .wrap(Compress::default())
            .wrap(TracingLogger::<RequestSpan>::new())
            .app_data(database.clone())
            .app_data(state.clone())
            .app_data(openapi.clone())
            .app_data(api_routes.clone())
            .app_data(live.clone())
            .app_data(system_lists.clone())
            .app_data(identity_providers.clone())
            .app_data(catalog.clone())
            .app_data(remote.clone())
            .configure(routes::configure_extractors)
            // A DMS's remote host: everything there is the DMS's, nothing the portal's.
            .service({
                let remote_hosts = remote_hosts.clone();
                web::scope("")
                    .guard(actix_web::guard::fn_guard(move |context| {
                        context
                            .head()
                            .headers()
                            .get(actix_web::http::header::HOST)
                            .and_then(|host| host.to_str().ok())
                            .is_some_and(|host| remote_hosts.label_of(host).is_some())
                    }))
                    .default_service(web::to(routes::remote::serve))
            })
            .service(
                web::scope("/api")
                    .wrap(from_fn(routes::refuse_nul_characters))
                    .configure(|config| {
                        routes::api_services(&mut OpenApiServiceConfig::new(config))
                    })
                    .default_service(web::to(routes::api_not_found)),
            )
            .configure(|config| web_app.configure(config))
    };
    // actix-web's `HttpServer` cannot take an upgrade service, so the server is assembled
    // the way it assembles its own, with `Upgrades` added (see `routes::upgrade`).
    let local_address = listener.local_addr()?;
    let server = actix_server::Server::build()
        .shutdown_timeout(shutdown_timeout)
        .listen("stratus", listener, move || {
            let upgrades = upgrades.clone();
            HttpService::build()
                .client_request_timeout(Duration::from_secs(30))
                .client_disconnect_timeout(Duration::from_secs(1))
                // A connection's write buffer keeps its capacity up to 128 KiB between
                // responses, and a live stream whose reader lags fills it to this size plus
                // one event: at 32 KiB (the default) 1,000 open streams held 130 MiB.
                .h1_write_buffer_size(LIVE_STREAM_WRITE_BUFFER)
                .local_addr(local_address)
                .upgrade(fn_service(move |(request, framed)| {
                    upgrades.clone().serve(request, framed)
                }))
                // The App's config only feeds URL generation and the Host fallback of
                // HTTP/1.0 requests, neither of which the portal uses.
                .finish(map_config(app(), |_| AppConfig::default()))
                .tcp()
        })?
        .run();
    Ok(server)
}
