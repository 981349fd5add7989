//! What the browser tests stand on: the real `stratus` binary on a random port with a fresh
//! SQLite database, and headless Chromium driven through chromedriver.
//!
//! This crate builds nothing itself: `scripts/test.sh` builds the binary and the web app first.
//! `STRATUS_BIN` and `STRATUS_DIST_DIR` override where they are looked for.

pub mod account;
pub mod gateway;
pub mod mailbox;
pub mod oidc;
pub mod portal;
pub mod postgres;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

/// How long a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(15);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ sits in the workspace")
        .to_owned()
}

/// Where failure screenshots and console logs go.
pub fn artifacts_dir() -> PathBuf {
    workspace_root().join("target").join("e2e-artifacts")
}

/// A `stratus` process serving the built web app; killed on drop.
pub struct Server {
    /// Behind a lock so a journey holding `&Server` can stop and restart it.
    process: std::sync::Mutex<Child>,
    binary: PathBuf,
    dist: PathBuf,
    port: u16,
    /// Variables the server was started with beyond the defaults (kept for `start_again`).
    extra_env: Vec<(String, String)>,
    pub base_url: String,
    /// Where the mail this server sends can be read.
    pub mailbox: mailbox::Mailbox,
    _data_dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary on a random port against a temporary SQLite file and waits until it
    /// says where it listens.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`Server::start`], against the database at `database_url`.
    pub fn start_with_database(database_url: &str) -> Self {
        Self::start_with(&[("STRATUS_DATABASE_URL", database_url)])
    }

    /// Like [`Server::start`], with more `STRATUS_*` variables (they win over the defaults,
    /// e.g. a fixed `STRATUS_BIND` or a `STRATUS_CONFIG` file).
    pub fn start_with(extra_env: &[(&str, &str)]) -> Self {
        let extra_env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let root = workspace_root();
        let binary = std::env::var_os("STRATUS_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/debug/stratus"));
        let dist = std::env::var_os("STRATUS_DIST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("dist"));
        assert!(
            binary.exists(),
            "{} is missing: run `bash scripts/test.sh`, which builds it",
            binary.display()
        );
        assert!(
            dist.join("index.html").exists(),
            "{} has no built web app: run `bash scripts/test.sh`, which builds it",
            dist.display()
        );
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let (process, port) = spawn_server(&binary, &dist, data_dir.path(), 0, &extra_env);
        Self {
            process: std::sync::Mutex::new(process),
            binary,
            dist,
            port,
            extra_env,
            base_url: format!("http://127.0.0.1:{port}"),
            mailbox: mailbox::Mailbox::for_test(&data_dir.path().join("outbox")),
            _data_dir: data_dir,
        }
    }

    /// Stops the server (as a crash or a deploy would); `start_again` brings it back.
    pub fn stop(&self) {
        if let Ok(mut process) = self.process.lock() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same address, data directory and database.
    pub fn start_again(&self) {
        let (process, _) = spawn_server(
            &self.binary,
            &self.dist,
            self._data_dir.path(),
            self.port,
            &self.extra_env,
        );
        if let Ok(mut slot) = self.process.lock() {
            *slot = process;
        }
    }

    /// Runs `stratus <args>` with this server's data directory and settings (e.g.
    /// `staff grant <email>`); the command's error output when it fails.
    pub fn run_command(&self, args: &[&str]) -> Result<(), String> {
        let output = Command::new(&self.binary)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("STRATUS_DATA_DIR", self._data_dir.path())
            .env("STRATUS_DIST_DIR", &self.dist)
            .envs(self.extra_env.iter().map(|(name, value)| (name, value)))
            .output()
            .map_err(|error| format!("cannot run stratus: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// Starts `stratus <args>` with this server's data directory and settings in the
    /// background (e.g. `simulate …`); it is killed when the handle drops.
    pub fn spawn_command(&self, args: &[&str]) -> Result<BackgroundCommand, String> {
        Command::new(&self.binary)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("STRATUS_DATA_DIR", self._data_dir.path())
            .env("STRATUS_DIST_DIR", &self.dist)
            .envs(self.extra_env.iter().map(|(name, value)| (name, value)))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map(BackgroundCommand)
            .map_err(|error| format!("cannot run stratus: {error}"))
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `stratus` command running beside the server; killed on drop.
pub struct BackgroundCommand(Child);

impl Drop for BackgroundCommand {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A chromedriver process and one headless Chromium session; closed on drop of the driver.
pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
    chromedriver_url: String,
    /// Every console entry read so far: chromedriver hands out each entry only once.
    console: std::sync::Mutex<Vec<serde_json::Value>>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a fresh headless Chromium.
    pub async fn start() -> Self {
        let port = free_port();
        let chromedriver_bin = std::env::var("CHROMEDRIVER").unwrap_or("chromedriver".into());
        let chromedriver = Command::new(&chromedriver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("start {chromedriver_bin}: {error}"));
        let chromedriver_url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&format!("{chromedriver_url}/status")).await;

        let profile = tempfile::tempdir().expect("temporary browser profile");
        let mut caps = DesiredCapabilities::chrome();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ] {
            caps.add_arg(arg).expect("chrome argument");
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .expect("chrome argument");
        if let Ok(binary) = std::env::var("CHROMIUM") {
            caps.set_binary(&binary).expect("chrome binary");
        } else if Path::new("/usr/bin/chromium").exists() {
            caps.set_binary("/usr/bin/chromium").expect("chrome binary");
        }
        caps.set("goog:loggingPrefs", serde_json::json!({ "browser": "ALL" }))
            .expect("logging capability");
        let driver = WebDriver::new(&chromedriver_url, caps)
            .await
            .expect("open a Chromium session");
        Self {
            driver,
            chromedriver,
            chromedriver_url,
            console: std::sync::Mutex::new(Vec::new()),
            _profile: profile,
        }
    }

    /// The browser console so far, from the start of the session (wasm panics show only
    /// there).
    pub async fn console_log(&self) -> Vec<serde_json::Value> {
        let url = format!(
            "{}/session/{}/se/log",
            self.chromedriver_url,
            self.driver.session_id()
        );
        let answer: serde_json::Value = match reqwest::Client::new()
            .post(url)
            .json(&serde_json::json!({ "type": "browser" }))
            .send()
            .await
        {
            Ok(response) => response.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        let mut console = self
            .console
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        console.extend(answer["value"].as_array().cloned().unwrap_or_default());
        console.clone()
    }

    /// The page's visible text (its first 2,000 characters) and the states its icons show, for
    /// failure reports.
    pub async fn visible_text(&self) -> String {
        let text = match self.driver.find(By::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(error) => format!("(no body: {error})"),
        };
        let states = self
            .driver
            .execute(
                "return Array.from(document.querySelectorAll('.state-icon'), i => i.dataset.state);",
                vec![],
            )
            .await
            .map(|answer| answer.json().to_string())
            .unwrap_or_default();
        let text: String = text.chars().take(2_000).collect();
        format!("{text} [state icons: {states}]")
    }

    /// Saves a screenshot and the console log under `target/e2e-artifacts/<name>.*`.
    pub async fn save_artifacts(&self, name: &str) -> PathBuf {
        let dir = artifacts_dir();
        let _ = std::fs::create_dir_all(&dir);
        let _ = self
            .driver
            .screenshot(&dir.join(format!("{name}.png")))
            .await;
        let log = self.console_log().await;
        let _ = std::fs::write(
            dir.join(format!("{name}.console.json")),
            serde_json::to_string_pretty(&log).unwrap_or_default(),
        );
        dir.join(name)
    }

    /// Waits until an element matching `css` contains `text`; returns it.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> WebDriverResult<WebElement> {
        let deadline = Instant::now() + WAIT;
        let mut last_seen = String::new();
        loop {
            for element in self.driver.find_all(By::Css(css)).await? {
                let content = element.text().await.unwrap_or_default();
                if content.contains(text) {
                    return Ok(element);
                }
                last_seen = content;
            }
            if Instant::now() > deadline {
                return Err(WebDriverError::FatalError(format!(
                    "no `{css}` with text {text:?} within {WAIT:?}; last seen: {last_seen:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element matching `css` is there; returns it.
    pub async fn wait_for(&self, css: &str) -> WebDriverResult<WebElement> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.driver.find_all(By::Css(css)).await?.into_iter().next() {
                return Ok(element);
            }
            if Instant::now() > deadline {
                return Err(WebDriverError::FatalError(format!(
                    "no `{css}` within {WAIT:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the (emptied) input matching `css`, once it is there.
    pub async fn fill(&self, css: &str, text: &str) -> WebDriverResult<()> {
        let input = self.wait_for(css).await?;
        input.clear().await?;
        input.send_keys(text).await
    }

    /// Clicks the element matching `css`, once it is there.
    pub async fn click(&self, css: &str) -> WebDriverResult<()> {
        self.wait_for(css).await?.click().await
    }

    /// Waits until the address bar shows `path`.
    pub async fn wait_for_path(&self, path: &str) -> WebDriverResult<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.driver.current_url().await?;
            if url.path() == path {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(WebDriverError::FatalError(format!(
                    "expected to be at {path}, still at {url}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Console entries at level SEVERE (errors, CSP violations, wasm panics), except the one
    /// the browser logs by design: a signed-out visitor's page asks `/api/auth/refresh`
    /// whether a session can be restored, and the 401 answer is logged as a failed load.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console_log()
            .await
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .filter(|message| {
                !(message.contains("/api/auth/refresh") && message.contains("status of 401"))
            })
            .collect()
    }

    /// Ends the browser session and chromedriver.
    pub async fn quit(mut self) {
        let driver = self.driver.clone();
        let _ = driver.quit().await;
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// Runs a browser journey against a fresh server; on failure saves a screenshot and the
/// console log under `target/e2e-artifacts/`, then fails the test.
pub async fn journey(name: &str, body: impl AsyncFnOnce(&Server, &Browser) -> WebDriverResult<()>) {
    journey_on(name, Server::start(), body).await;
}

/// [`journey`] against a server started by the caller.
pub async fn journey_on(
    name: &str,
    server: Server,
    body: impl AsyncFnOnce(&Server, &Browser) -> WebDriverResult<()>,
) {
    let browser = Browser::start().await;
    let outcome = body(&server, &browser).await;
    if let Err(error) = outcome {
        let saved = browser.save_artifacts(name).await;
        // CI keeps only the log: say there what the page showed and what the console said.
        let page = browser.visible_text().await;
        let console = browser.console_errors().await;
        browser.quit().await;
        panic!(
            "journey {name} failed: {error}\npage text: {page:?}\nconsole errors: {console:?}\n\
             screenshot and console log: {}.{{png,console.json}}",
            saved.display()
        );
    }
    browser.quit().await;
}

/// Starts `stratus serve` on `port` (0: any) and waits until it says where it listens.
fn spawn_server(
    binary: &Path,
    dist: &Path,
    data_dir: &Path,
    port: u16,
    extra_env: &[(String, String)],
) -> (Child, u16) {
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("STRATUS_BIND", format!("127.0.0.1:{port}"))
        .env("STRATUS_DATA_DIR", data_dir)
        .env("STRATUS_DIST_DIR", dist)
        .env("STRATUS_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .envs(extra_env.iter().map(|(name, value)| (name, value)));
    // The test SMTP server of scripts/test.sh when there is one, else the outbox folder.
    if let Ok(port) = std::env::var("TEST_SMTP_PORT") {
        command
            .env("STRATUS_SMTP_HOST", "127.0.0.1")
            .env("STRATUS_SMTP_PORT", port)
            .env("STRATUS_SMTP_TLS", "none");
    }
    let mut process = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the stratus binary");
    let stdout = process.stdout.take().expect("piped stdout");
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    // Read the log on a thread of its own: it finds the port, then keeps the pipe drained.
    std::thread::spawn(move || {
        let mut port_tx = Some(port_tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(tx) = &port_tx {
                if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                    let is_ready_line = event["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("Stratus is running"));
                    if let Some(port) = event["port"].as_u64().filter(|_| is_ready_line) {
                        let _ = tx.send(port);
                        port_tx = None;
                    }
                }
            }
            if std::env::var_os("TEST_LOG").is_some() {
                eprintln!("[stratus] {line}");
            }
        }
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("stratus logs its port within 30 s");
    (process, u16::try_from(port).expect("a TCP port"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

async fn wait_until_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer within 20 s");
}
