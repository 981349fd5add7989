//! Section `tunnel`: remote access through a DMS's gateway connection against the same web app
//! reached directly, in the same run by the same client. A worker process (`bench tunnel-dms`)
//! plays the DMS: its gateway socket carries the tunnel to one instance of the simulator's web
//! app, and a second instance of the same app listens on loopback for the direct comparison,
//! so both paths end in the same code in the same process. The client opens the DMS remotely
//! as a person does (ticket from the API, posted to the DMS's host, its session cookie), then
//! measures large downloads (MiB/s) and small requests at a few concurrencies (latency
//! percentiles, requests/s), direct first then through Stratus, every round.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use stratus_shared::api::organizations::{RemoteTicket, SystemDetail};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::setup::{percentile, CpuWindow};
use super::{bench_user, Target};
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::simulator::{self, Options, SavedCredentials, Scenario, Stats};

/// What `stratus bench tunnel` measures.
#[derive(Debug, Clone, clap::Args)]
pub struct TunnelArgs {
    /// The Stratus server's base URL (default: the settings' public URL).
    #[arg(long)]
    pub url: Option<String>,
    /// The Stratus server's process id, for its CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// MiB of each download.
    #[arg(long, default_value_t = 256)]
    pub download_mib: u64,
    /// Seconds of each measurement (downloads one after another, or small requests), per
    /// path and round: long enough for CPU times read in 10 ms ticks to mean something.
    #[arg(long, default_value_t = 3)]
    pub seconds: u64,
    /// Concurrencies of the small requests (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub concurrency: Vec<usize>,
    /// How many times to measure both paths.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

/// The DMS side of `tunnel` (started by it): plays the DMS of the credentials file with the
/// web app behind its tunnel, starts a second instance of the web app and prints
/// `direct <address>` on stdout, then runs until killed.
#[derive(Debug, Clone, clap::Args)]
pub struct TunnelDmsArgs {
    /// The server's base URL.
    #[arg(long)]
    pub url: String,
    /// The credentials file the section wrote (one DMS).
    #[arg(long)]
    pub credentials_file: PathBuf,
    /// The DMS's name, shown by its web app.
    #[arg(long)]
    pub name: String,
}

/// The page both paths ask for in the small-request runs: the web app's home page (a few KiB
/// of HTML with the DMS's name and alarms).
const SMALL_PATH: &str = "/";

/// Runs the DMS side until killed.
pub async fn run_dms(args: TunnelDmsArgs) -> anyhow::Result<()> {
    let saved = SavedCredentials::load(&args.credentials_file)?;
    let credentials = saved
        .dmss
        .into_iter()
        .next()
        .context("the credentials file holds no DMS")?;
    // The receiver must live as long as the app: the direct instance confirms no links.
    let (links, _link_jobs) = tokio::sync::mpsc::channel(1);
    let direct = simulator::web_app::start(&args.name, links).await?;
    println!("direct {direct}");
    let options = Options {
        url: args.url.trim_end_matches('/').to_owned(),
        scenario: Scenario::Steady,
        interval: None,
        phase: Duration::from_secs(3600),
        renew_before: chrono::TimeDelta::hours(1),
        http: reqwest::Client::new(),
        stagger: Duration::ZERO,
        source_addresses: Vec::new(),
        web_app: true,
        names: vec![args.name],
    };
    simulator::run_dms(0, credentials, options, Arc::new(Stats::default()), None).await;
    anyhow::bail!("the DMS's credentials were refused")
}

/// Runs the section and prints its report.
pub async fn run(settings: Settings, args: TunnelArgs) -> anyhow::Result<()> {
    let target = Target::open(settings, args.url.clone()).await?;
    let user_id = bench_user(&target.database).await?;
    let name = "Bench DMS 000001";
    let credentials = super::fleet::register(&target, "Benchmark tunnel", 1).await?;
    let system_id = credentials
        .first()
        .context("no DMS was registered")?
        .system_id
        .clone();
    let file = target
        .settings
        .data_dir
        .join("bench-tunnel-credentials.json");
    SavedCredentials { dmss: credentials }.save(&file)?;

    let executable = std::env::current_exe().context("cannot find this program")?;
    let mut worker = tokio::process::Command::new(&executable)
        .args(["bench", "tunnel-dms", "--url", &target.url, "--name", name])
        .arg("--credentials-file")
        .arg(&file)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the DMS process")?;
    let worker_pid = worker.id().context("the DMS process ended at once")?;
    let stdout = worker
        .stdout
        .take()
        .context("no stdout of the DMS process")?;
    let mut lines = BufReader::new(stdout).lines();
    let direct: SocketAddr = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("the DMS process printed no address in 30 s")??
        .and_then(|line| line.strip_prefix("direct ").map(str::to_owned))
        .context("the DMS process printed no address")?
        .parse()?;

    let (token, _) = AccessTokens::new(&target.secrets.session_key, &target.settings.public_url())
        .issue(&user_id, crate::db::now());
    let api = reqwest::Client::new();
    wait_until_connected(&api, &target.url, &system_id, &token).await?;
    let (browser, remote_origin) = open_remotely(&api, &target.url, &system_id, &token).await?;
    let direct_origin = format!("http://{direct}");
    let plain = reqwest::Client::builder().no_proxy().build()?;
    println!(
        "one DMS ({name}) whose web app is reached directly at {direct_origin} and through Stratus at {remote_origin}; \
         DMS process pid {worker_pid}, client pid {}",
        std::process::id()
    );
    let processes = [
        ("client".to_owned(), std::process::id()),
        ("DMS".to_owned(), worker_pid),
    ];
    let paths = [
        ("direct", &plain, direct_origin.as_str()),
        ("tunnel", &browser, remote_origin.as_str()),
    ];

    let bytes = args.download_mib.max(1) * 1024 * 1024;
    let window = Duration::from_secs(args.seconds.max(1));
    println!(
        "\n-- downloads of {} MiB (GET /download, streamed, one after another for {} s)",
        args.download_mib,
        window.as_secs()
    );
    let mut ratios = Vec::new();
    for round in 1..=args.rounds.max(1) {
        let mut speeds = Vec::new();
        for (label, client, origin) in paths {
            let cpu = CpuWindow::start(args.server_pid, &processes);
            let started = Instant::now();
            let (mut received, mut downloads) = (0, 0);
            while started.elapsed() < window {
                let arrived = download(client, origin, bytes).await?;
                anyhow::ensure!(
                    arrived == bytes,
                    "{label}: {arrived} of {bytes} bytes arrived"
                );
                received += arrived;
                downloads += 1;
            }
            let seconds = started.elapsed().as_secs_f64();
            let speed = received as f64 / 1024.0 / 1024.0 / seconds;
            println!(
                "round {round}: {label} {speed:>8.1} MiB/s ({downloads} downloads in {seconds:.1} s); {}",
                cpu.report(args.server_pid, &processes)
            );
            speeds.push(speed);
        }
        let ratio = speeds[1] / speeds[0].max(f64::MIN_POSITIVE);
        println!("round {round}: tunnel / direct = {ratio:.2}×");
        ratios.push(ratio);
    }
    print_median("download tunnel / direct", &mut ratios);

    for &concurrency in &args.concurrency {
        let concurrency = concurrency.max(1);
        println!(
            "\n-- GET {SMALL_PATH} over {concurrency} connection(s) for {} s, each waiting for its answer",
            window.as_secs()
        );
        for round in 1..=args.rounds.max(1) {
            for (label, client, origin) in paths {
                let cpu = CpuWindow::start(args.server_pid, &processes);
                let started = Instant::now();
                let mut latencies = small_requests(client, origin, window, concurrency).await?;
                let seconds = started.elapsed().as_secs_f64();
                latencies.sort_by(f64::total_cmp);
                println!(
                    "round {round}: {label} {:>7.0} req/s  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms; {}",
                    latencies.len() as f64 / seconds,
                    percentile(&latencies, 0.5),
                    percentile(&latencies, 0.9),
                    percentile(&latencies, 0.99),
                    cpu.report(args.server_pid, &processes)
                );
            }
        }
    }
    let _ = worker.kill().await;
    Ok(())
}

/// Waits (30 s at most) until the DMS's gateway is connected.
async fn wait_until_connected(
    api: &reqwest::Client,
    url: &str,
    system_id: &str,
    token: &str,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let detail: SystemDetail = api
            .get(format!("{url}/api/systems/{system_id}"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if detail.system.state.as_str() == "connected" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the DMS did not connect in 30 s")
}

/// Opens the DMS remotely as the portal's button does: a ticket from the API, posted to the
/// DMS's host. Returns a client holding the host's session cookie (the DMS's host resolved to
/// the server, as `*.localhost` is in a browser) and the DMS's origin.
async fn open_remotely(
    api: &reqwest::Client,
    url: &str,
    system_id: &str,
    token: &str,
) -> anyhow::Result<(reqwest::Client, String)> {
    let ticket: RemoteTicket = api
        .post(format!(
            "{url}/api/systems/{system_id}/remote-access/tickets"
        ))
        .bearer_auth(token)
        .json(&serde_json::json!({}))
        .send()
        .await?
        .error_for_status()
        .context("no remote-access ticket")?
        .json()
        .await?;
    let enter = reqwest::Url::parse(&ticket.enter_url)?;
    let host = enter.host_str().context("the enter URL has no host")?;
    let server: SocketAddr = reqwest::Url::parse(url)?
        .socket_addrs(|| None)?
        .into_iter()
        .next()
        .context("the server's URL names no address")?;
    let server = SocketAddr::new(server.ip(), enter.port_or_known_default().unwrap_or(80));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(host, server)
        .no_proxy()
        .build()?;
    let entered = browser
        .post(enter.as_str())
        .form(&[("ticket", ticket.ticket.as_str())])
        .send()
        .await?;
    anyhow::ensure!(
        entered.status() == reqwest::StatusCode::SEE_OTHER,
        "posting the ticket answered {}",
        entered.status()
    );
    let origin = enter.origin().ascii_serialization();
    Ok((browser, origin))
}

/// Downloads `bytes` bytes from the web app at `origin`, counting what arrives.
async fn download(client: &reqwest::Client, origin: &str, bytes: u64) -> anyhow::Result<u64> {
    let mut response = client
        .get(format!("{origin}/download?bytes={bytes}"))
        .send()
        .await?
        .error_for_status()?;
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await? {
        received += chunk.len() as u64;
    }
    Ok(received)
}

/// Requests of [`SMALL_PATH`] for `window` from `concurrency` tasks (each its own keep-alive
/// connection in the client's pool), each timed from sending to the end of its body, in ms.
async fn small_requests(
    client: &reqwest::Client,
    origin: &str,
    window: Duration,
    concurrency: usize,
) -> anyhow::Result<Vec<f64>> {
    let url = format!("{origin}{SMALL_PATH}");
    let until = Instant::now() + window;
    let tasks = (0..concurrency).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let started = Instant::now();
                let response = client.get(&url).send().await?.error_for_status()?;
                response.bytes().await?;
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(latencies)
        })
    });
    let mut all = Vec::new();
    for latencies in futures_util::future::try_join_all(tasks).await? {
        all.extend(latencies?);
    }
    Ok(all)
}

fn print_median(what: &str, ratios: &mut [f64]) {
    if ratios.len() > 1 {
        ratios.sort_by(f64::total_cmp);
        println!(
            "{what} over {} rounds: median {:.2}× (min {:.2}×, max {:.2}×)",
            ratios.len(),
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}
