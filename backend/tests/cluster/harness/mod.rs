//! A cluster of one test's own: `stratus serve` processes on a fresh PostgreSQL database,
//! a `nats-server` with JetStream and nginx (rendered from `deploy/nginx.conf`), all on free
//! loopback ports, all stopped when the [`Cluster`] is dropped. Nothing here touches the
//! machine's shared NATS or nginx; the database is a fresh one on `TEST_DATABASE_URL`'s
//! server, or on a PostgreSQL instance the test runs itself ([`OwnPostgres`]).

mod gateway;
mod postgres;
mod viewer;

pub use gateway::Gateway;
pub use postgres::OwnPostgres;
pub use viewer::Viewer;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use rand::distr::{Alphanumeric, SampleString};
use stratus_backend::auth::AccessTokens;
use stratus_backend::config::DatabaseUrl;
use stratus_backend::db::schema::{cluster_backends, system_state_transitions, systems, users};
use stratus_backend::db::{AnyConnection, Database, DatabaseError};
use stratus_backend::secrets::Secrets;
use stratus_shared::api::gateway::DmsCredentials;

/// How fast the cluster's clocks run in tests: heartbeats every second, silence tolerated for
/// three, leases of three seconds (renewed every second).
pub const HEARTBEAT_SECONDS: u64 = 1;
pub const LEASE_SECONDS: u64 = 3;

/// Where the engines are: `TEST_NATS_SERVER`, `TEST_NGINX` (scripts/test.sh sets both) or
/// the names on `PATH`, and `TEST_DATABASE_URL`'s PostgreSQL server.
pub struct Engines {
    pub nats_server: PathBuf,
    pub nginx: PathBuf,
    pub admin_url: String,
}

impl Engines {
    /// The engines, or `None` after saying loudly which one is missing (the test then
    /// passes without running: `.ci/run` provides all of them).
    pub fn find(test: &str) -> Option<Self> {
        let nats_server = find_program("TEST_NATS_SERVER", "nats-server");
        let nginx = find_program("TEST_NGINX", "nginx");
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.trim().is_empty());
        match (nats_server, nginx, admin_url) {
            (Some(nats_server), Some(nginx), Some(admin_url)) => Some(Self {
                nats_server,
                nginx,
                admin_url,
            }),
            (nats, nginx, url) => {
                eprintln!(
                    "\n*** cluster test {test} SKIPPED: it needs nats-server ({}), nginx ({}) \
                     and TEST_DATABASE_URL ({}); scripts/test.sh provides all three ***\n",
                    if nats.is_some() { "found" } else { "missing" },
                    if nginx.is_some() { "found" } else { "missing" },
                    if url.is_some() { "set" } else { "not set" },
                );
                None
            }
        }
    }
}

fn find_program(variable: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|path| !path.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn random_name(length: usize) -> String {
    Alphanumeric
        .sample_string(&mut rand::rng(), length)
        .to_lowercase()
}

/// A child process stopped (SIGKILL) when dropped, with its output in a log file.
struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    fn spawn(command: &mut Command, log: PathBuf) -> Self {
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("log file"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        Self {
            child: Some(child),
            log,
        }
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// `kill -9`: no clean-up of any kind.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    fn terminate(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(300)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `nats-server -js` of the test's own; its JetStream store survives [`Nats::restart`].
pub struct Nats {
    binary: PathBuf,
    pub port: u16,
    store: PathBuf,
    log: PathBuf,
    process: Option<Process>,
}

impl Nats {
    fn start(binary: &Path, dir: &Path) -> Self {
        let mut nats = Self {
            binary: binary.to_owned(),
            port: free_port(),
            store: dir.join("nats-store"),
            log: dir.join("nats.log"),
            process: None,
        };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `kill -9` of the NATS server: the bus is gone for every backend at once.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts it (again) on the same port and store, and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new(&self.binary);
        command
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store);
        self.process = Some(Process::spawn(&mut command, self.log.clone()));
        wait_for_port(self.port, "nats-server", self.process.as_mut());
    }
}

fn wait_for_port(port: u16, what: &str, mut process: Option<&mut Process>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(process) = process.as_deref_mut() {
            assert!(process.running(), "{what} ended:\n{}", process.log_tail());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One `stratus serve` process.
pub struct Backend {
    pub name: String,
    pub port: u16,
    process: Option<Process>,
    log: PathBuf,
}

impl Backend {
    /// The backend's own address (not through nginx).
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn running(&mut self) -> bool {
        self.process.as_mut().is_some_and(Process::running)
    }

    /// The end of its log, for failure messages.
    pub fn log_tail(&self) -> String {
        self.process
            .as_ref()
            .map(Process::log_tail)
            .unwrap_or_else(|| std::fs::read_to_string(&self.log).unwrap_or_default())
    }
}

/// Everything a test cluster's backends share.
struct BackendSettings {
    binary: PathBuf,
    database_url: String,
    public_url: String,
    dist_dir: PathBuf,
    session_secret: String,
    gateway_secret: String,
}

/// The cluster: backends behind nginx, on one database and one NATS.
pub struct Cluster {
    pub backends: Vec<Backend>,
    pub nats: Nats,
    nginx: Option<Process>,
    pub nginx_port: u16,
    settings: BackendSettings,
    /// The backends' database, to arrange data and look behind the API.
    pub pool: Database,
    pub access_tokens: AccessTokens,
    pub client: reqwest::Client,
    database: ClusterDatabase,
    pub dir: tempfile::TempDir,
}

enum ClusterDatabase {
    /// A fresh database on `TEST_DATABASE_URL`'s server, dropped afterwards.
    Shared { admin_url: String, name: String },
    /// A PostgreSQL instance of the test's own (it may stop and restart it).
    Own(OwnPostgres),
}

impl Cluster {
    /// `count` backends on a fresh database of `TEST_DATABASE_URL`'s server.
    pub async fn start(engines: &Engines, count: usize) -> Self {
        Self::start_serving(engines, count, None).await
    }

    /// Like [`Cluster::start`], the backends serving the built web app (`dist/`, which
    /// scripts/test.sh builds); `None` (said loudly) when it is not built.
    pub async fn start_with_web_app(engines: &Engines, count: usize, test: &str) -> Option<Self> {
        let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
        if !dist.join("index.html").is_file() {
            eprintln!(
                "\n*** cluster test {test} SKIPPED: the web app is not built (dist/index.html); \
                 scripts/test.sh builds it ***\n"
            );
            return None;
        }
        Some(Self::start_serving(engines, count, Some(dist)).await)
    }

    async fn start_serving(engines: &Engines, count: usize, web_app: Option<PathBuf>) -> Self {
        let name = format!("stratus_cluster_{}", random_name(12));
        let mut admin = stratus_backend::db::establish_postgres(&engines.admin_url)
            .expect("TEST_DATABASE_URL reaches PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the cluster's database");
        let (server, _) = engines
            .admin_url
            .rsplit_once('/')
            .expect("TEST_DATABASE_URL ends in /<database>");
        let url = format!("{server}/{name}");
        let database = ClusterDatabase::Shared {
            admin_url: engines.admin_url.clone(),
            name,
        };
        Self::start_on(engines, count, database, url, web_app).await
    }

    /// `count` backends on a PostgreSQL instance of the test's own.
    pub async fn start_on_own_postgres(
        engines: &Engines,
        count: usize,
        postgres: OwnPostgres,
    ) -> Self {
        let url = postgres.url();
        Self::start_on(engines, count, ClusterDatabase::Own(postgres), url, None).await
    }

    async fn start_on(
        engines: &Engines,
        count: usize,
        database: ClusterDatabase,
        database_url: String,
        web_app: Option<PathBuf>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        // nginx started as root runs its workers as nobody, who must reach its folders.
        make_reachable(dir.path());
        let dist_dir = web_app.unwrap_or_else(|| {
            let dist_dir = dir.path().join("dist");
            std::fs::create_dir_all(&dist_dir).expect("dist folder");
            std::fs::write(
                dist_dir.join("index.html"),
                "<!DOCTYPE html><html><head></head><body>cluster test</body></html>",
            )
            .expect("index.html");
            dist_dir
        });
        let nats = Nats::start(&engines.nats_server, dir.path());
        let nginx_port = free_port();
        let public_url = format!("http://127.0.0.1:{nginx_port}");
        let settings = BackendSettings {
            binary: PathBuf::from(env!("CARGO_BIN_EXE_stratus")),
            database_url: database_url.clone(),
            public_url: public_url.clone(),
            dist_dir,
            session_secret: random_name(48),
            gateway_secret: random_name(48),
        };
        let secrets = Secrets::load_or_generate(
            dir.path(),
            Some(&settings.session_secret),
            Some(&settings.gateway_secret),
        )
        .expect("the cluster's keys");
        let access_tokens = AccessTokens::new(&secrets.session_key, &public_url);
        let pool_url = database_url.clone();
        let pool = tokio::task::spawn_blocking(move || {
            let url = DatabaseUrl::parse(&pool_url, Path::new(".")).expect("a PostgreSQL URL");
            Database::connect(&url, 2)
        })
        .await
        .expect("connect")
        .expect("the cluster's database");
        let mut cluster = Self {
            backends: Vec::new(),
            nats,
            nginx: None,
            nginx_port,
            settings,
            pool,
            access_tokens,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            database,
            dir,
        };
        // All at once, as an orchestrator would start them: one migrates the fresh database
        // while the others wait for its lock.
        for number in 1..=count {
            let backend = cluster.spawn_backend(&format!("backend-{number}"));
            cluster.backends.push(backend);
        }
        for index in 0..count {
            cluster.wait_until_healthy(index).await;
        }
        // Healthy is not yet on the bus (a backend shows unknown until it joins): the tests
        // start from a cluster whose every backend can tell.
        for index in 0..count {
            cluster.wait_until_joined(index).await;
        }
        cluster.start_nginx(engines);
        cluster
    }

    fn spawn_backend(&self, name: &str) -> Backend {
        let port = free_port();
        let data_dir = self.dir.path().join(name);
        std::fs::create_dir_all(&data_dir).expect("a backend's data folder");
        let log = self.dir.path().join(format!("{name}.log"));
        let settings = &self.settings;
        let mut command = Command::new(&settings.binary);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            // TEST_CLUSTER_LOG=debug (any RUST_LOG filter) for more of the backends' logs.
            // The harness reads "joined the bus" from the log: that line is always kept.
            .env(
                "RUST_LOG",
                format!(
                    "{},stratus_backend::live::hub::cluster=info",
                    std::env::var("TEST_CLUSTER_LOG").unwrap_or_else(|_| "info".into())
                ),
            )
            .env("STRATUS_BIND", format!("127.0.0.1:{port}"))
            .env("STRATUS_DATA_DIR", &data_dir)
            .env("STRATUS_DATABASE_URL", &settings.database_url)
            .env("STRATUS_DATABASE_POOL_SIZE", "4")
            .env("STRATUS_PUBLIC_URL", &settings.public_url)
            .env("STRATUS_DIST_DIR", &settings.dist_dir)
            .env("STRATUS_SESSION_SECRET", &settings.session_secret)
            .env("STRATUS_GATEWAY_SECRET", &settings.gateway_secret)
            .env("STRATUS_NATS_URL", self.nats.url())
            .env("STRATUS_BACKEND_NAME", name)
            // nginx is on loopback: its X-Forwarded-For tells the client.
            .env("STRATUS_TRUSTED_PROXIES", "127.0.0.1")
            .env("STRATUS_BACKEND_LEASE_SECONDS", LEASE_SECONDS.to_string())
            .env(
                "STRATUS_HEARTBEAT_INTERVAL_SECONDS",
                HEARTBEAT_SECONDS.to_string(),
            )
            .env(
                "STRATUS_HEARTBEAT_TIMEOUT_SECONDS",
                (HEARTBEAT_SECONDS * 3).to_string(),
            )
            .env("STRATUS_SHUTDOWN_TIMEOUT_SECONDS", "1")
            .env("STRATUS_ARGON2_MEMORY_KIB", "1024")
            .env("STRATUS_ARGON2_ITERATIONS", "1");
        Backend {
            name: name.to_owned(),
            port,
            process: Some(Process::spawn(&mut command, log.clone())),
            log,
        }
    }

    async fn wait_until_healthy(&mut self, index: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let address = self.backends[index].address();
            if let Ok(response) = self
                .client
                .get(format!("{address}/api/health"))
                .send()
                .await
            {
                if response.status() == 200 {
                    return;
                }
            }
            let backend = &mut self.backends[index];
            assert!(
                backend.running(),
                "{} ended:\n{}",
                backend.name,
                backend.log_tail()
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} is not healthy after 60 s:\n{}",
                backend.name,
                backend.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_until_joined(&self, index: usize) {
        let backend = &self.backends[index];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&backend.log)
            .unwrap_or_default()
            .contains("joined the bus")
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} has not joined the bus after 30 s:\n{}",
                backend.name,
                backend.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn start_nginx(&mut self, engines: &Engines) {
        let prefix = self.dir.path().join("nginx");
        for folder in ["logs", "tmp"] {
            std::fs::create_dir_all(prefix.join(folder)).expect("nginx folders");
        }
        make_reachable(&prefix);
        let template = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf"),
        )
        .expect("deploy/nginx.conf");
        let upstreams: String = self
            .backends
            .iter()
            .map(|backend| {
                format!(
                    "server 127.0.0.1:{} max_fails=1 fail_timeout=5s;\n",
                    backend.port
                )
            })
            .collect();
        let config = template
            .replace("@UPSTREAMS@", &upstreams)
            .replace("@LISTEN@", &format!("127.0.0.1:{}", self.nginx_port))
            .replace("@PREFIX@", &prefix.to_string_lossy());
        let config_file = prefix.join("nginx.conf");
        std::fs::write(&config_file, config).expect("nginx.conf");
        let mut command = Command::new(&engines.nginx);
        command
            .arg("-e")
            .arg(prefix.join("logs/error.log"))
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&config_file)
            .args(["-g", "daemon off;"]);
        let mut process = Process::spawn(&mut command, self.dir.path().join("nginx.log"));
        wait_for_port(self.nginx_port, "nginx", Some(&mut process));
        self.nginx = Some(process);
    }

    /// nginx's address: where browsers and gateways go.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.nginx_port)
    }

    /// Starts one more backend (not behind nginx) and waits until it answers; its index.
    pub async fn add_backend(&mut self, name: &str) -> usize {
        let backend = self.spawn_backend(name);
        self.backends.push(backend);
        let index = self.backends.len() - 1;
        self.wait_until_healthy(index).await;
        index
    }

    /// `kill -9` of a backend.
    pub fn kill_backend(&mut self, index: usize) {
        if let Some(mut process) = self.backends[index].process.take() {
            process.kill();
        }
    }

    /// Logs of every backend, for failure messages.
    pub fn logs(&self) -> String {
        self.backends
            .iter()
            .map(|backend| format!("==== {} ====\n{}", backend.name, backend.log_tail()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Inserts a verified account and returns its id and an access token valid on every
    /// backend.
    pub async fn create_user(&self, email: &str) -> (String, String) {
        let id = uuid::Uuid::new_v4().to_string();
        let (user_id, email) = (id.clone(), email.to_owned());
        self.pool
            .run(move |connection| {
                let now = chrono::Utc::now().naive_utc();
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(&user_id),
                        users::email.eq(&email),
                        users::created_at.eq(now),
                        users::email_verified_at.eq(Some(now)),
                    ))
                    .execute(connection)?;
                Ok(())
            })
            .await
            .expect("insert a user");
        let (token, _) = self.access_tokens.issue(&id, chrono::Utc::now());
        (id, token)
    }

    /// Like [`Cluster::create_user`], with a password to sign in with in a browser.
    pub async fn create_user_with_password(&self, email: &str, password: &str) -> (String, String) {
        let (id, token) = self.create_user(email).await;
        let password = stratus_shared::password::NewPassword::parse(password, email)
            .expect("a strong enough password");
        let hash = stratus_backend::auth::password::Passwords::new(1024, 1, 1)
            .and_then(|passwords| passwords.hash(&password))
            .expect("hash the password");
        let user_id = id.clone();
        self.query("set the password", move |connection| {
            diesel::update(users::table.find(&user_id))
                .set(users::password_hash.eq(Some(&hash)))
                .execute(connection)?;
            Ok(())
        })
        .await;
        (id, token)
    }

    /// POSTs JSON to `base` + `path` as `token`.
    pub async fn post(
        &self,
        base: &str,
        token: Option<&str>,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self.client.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the cluster answers")
    }

    /// An organization made through nginx; its id.
    pub async fn create_organization(&self, token: &str, name: &str) -> String {
        let response = self
            .post(
                &self.address(),
                Some(token),
                "/api/organizations",
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// A DMS registered through nginx and its credentials (its connect code traded through
    /// nginx too).
    pub async fn register_dms(
        &self,
        token: &str,
        organization: &str,
        name: &str,
    ) -> DmsCredentials {
        let response = self
            .post(
                &self.address(),
                Some(token),
                &format!("/api/organizations/{organization}/systems"),
                serde_json::json!({ "name": name }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.expect("JSON");
        let code = created["connect_code"]["code"]
            .as_str()
            .expect("a code")
            .to_owned();
        let response = self
            .post(
                &self.address(),
                None,
                "/api/gateway/connect",
                serde_json::json!({ "connect_code": code }),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("credentials")
    }

    /// Runs `work` on the cluster's database, trying again for a few seconds when it fails
    /// (after a restart of PostgreSQL the pool's first tries find its old connections gone).
    pub async fn query<T, F>(&self, what: &str, work: F) -> T
    where
        F: Fn(&mut AnyConnection) -> Result<T, DatabaseError> + Clone + Send + 'static,
        T: Send + 'static,
    {
        let mut attempt = 0;
        loop {
            match self.pool.run(work.clone()).await {
                Ok(value) => return value,
                Err(error) if attempt < 20 => {
                    attempt += 1;
                    eprintln!("{what}: {error:?}; trying again");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(error) => panic!("{what}: {error:?}"),
            }
        }
    }

    /// Which backend (by name) holds each DMS's socket, as the database says.
    pub async fn holders(&self) -> std::collections::HashMap<String, Option<String>> {
        self.query("read the holders", |connection| {
            let names: std::collections::HashMap<String, String> = cluster_backends::table
                .select((cluster_backends::id, cluster_backends::name))
                .load::<(String, String)>(connection)?
                .into_iter()
                .collect();
            let held: Vec<(String, Option<String>)> = systems::table
                .select((systems::id, systems::gateway_backend))
                .load(connection)?;
            Ok(held
                .into_iter()
                .map(|(system, backend)| {
                    let name = backend.map(|id| names.get(&id).cloned().unwrap_or(id));
                    (system, name)
                })
                .collect())
        })
        .await
    }

    /// The states recorded for `system`, oldest first.
    pub async fn history(&self, system: &str) -> Vec<String> {
        let system = system.to_owned();
        self.query("read the history", move |connection| {
            Ok(system_state_transitions::table
                .filter(system_state_transitions::system_id.eq(&system))
                .order((system_state_transitions::at, system_state_transitions::id))
                .select(system_state_transitions::state)
                .load(connection)?)
        })
        .await
    }

    /// The stored state of every DMS.
    pub async fn stored_states(&self) -> std::collections::HashMap<String, String> {
        self.query("read the states", |connection| {
            let rows: Vec<(String, String)> = systems::table
                .select((systems::id, systems::state))
                .load(connection)?;
            Ok(rows.into_iter().collect())
        })
        .await
    }

    /// The PostgreSQL instance of the test's own, when the cluster runs on one.
    pub fn own_postgres(&mut self) -> Option<&mut OwnPostgres> {
        match &mut self.database {
            ClusterDatabase::Own(postgres) => Some(postgres),
            ClusterDatabase::Shared { .. } => None,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            nginx.terminate(Duration::from_secs(5));
        }
        for backend in &mut self.backends {
            if let Some(mut process) = backend.process.take() {
                process.kill();
            }
        }
        self.nats.kill();
        if std::thread::panicking() || std::env::var_os("TEST_CLUSTER_LOG").is_some() {
            eprintln!("{}", self.logs());
            let nginx_errors = self.dir.path().join("nginx/logs/error.log");
            eprintln!(
                "==== nginx ====\n{}",
                std::fs::read_to_string(nginx_errors).unwrap_or_default()
            );
        }
        if let ClusterDatabase::Shared { admin_url, name } = &self.database {
            if let Ok(mut admin) = stratus_backend::db::establish_postgres(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

fn make_reachable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

/// Waits until `check` is true, up to `seconds`; panics with `what` otherwise.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {seconds} s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
