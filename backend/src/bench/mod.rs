//! `stratus bench`: connects N simulated gateways to a running server and reports heartbeats
//! per second, the server's CPU and memory, and how long an outage takes to reach a live-event
//! subscriber. Run it beside the server with the same settings (it registers its DMSs and its
//! subscriber straight in the database and signs the subscriber's token with the same key).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use stratus_shared::api::gateway::Heartbeat;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::db::Database;
use crate::domain::accounts;
use crate::secrets::Secrets;
use crate::simulator::{self, Options, Scenario, Stats};

pub mod fanout;
pub mod overview;
mod setup;

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub url: String,
    /// Simulated gateways besides the probe.
    pub dms: usize,
    pub interval: Duration,
    /// How long heartbeats are counted once every gateway is connected.
    pub measure: Duration,
    /// The server's process id, for CPU and RSS (Linux `/proc`).
    pub server_pid: Option<u32>,
    /// Outages the probe DMS goes through.
    pub outages: usize,
}

pub(crate) const BENCH_EMAIL: &str = "bench@stratus.invalid";

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS)
}

pub(crate) fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the benchmark and prints its report.
pub async fn run(settings: Settings, options: BenchOptions) -> anyhow::Result<()> {
    let url = options.url.trim_end_matches('/').to_owned();
    let database_url = settings
        .database()
        .map_err(|error| anyhow::anyhow!("STRATUS_DATABASE_URL: {error}"))?;
    let pool_size = settings.database_pool_size;
    let database =
        actix_web::web::block(move || Database::connect(&database_url, pool_size)).await??;
    let secrets = Secrets::load_or_generate(
        &settings.data_dir,
        settings.session_secret.as_deref(),
        settings.gateway_secret.as_deref(),
    )?;
    let user_id = bench_user(&database).await?;
    let names = (0..=options.dms)
        .map(|n| format!("Bench DMS {n:05}"))
        .collect();
    let systems =
        crate::demo::prepare(&database, "Benchmark", names, Some(BENCH_EMAIL.into())).await?;
    let (probe, others) = systems
        .split_first()
        .context("no DMS registered for the benchmark")?;

    // The subscriber: a person of the benchmark organization on the live stream.
    let (token, _) = AccessTokens::new(&secrets.session_key, &settings.public_url())
        .issue(&user_id, crate::db::now());
    let (events, mut probe_states) = mpsc::unbounded_channel();
    let http = reqwest::Client::new();
    let stream = http
        .get(format!("{url}/api/live"))
        .bearer_auth(&token)
        .send()
        .await?;
    anyhow::ensure!(
        stream.status().is_success(),
        "the live stream refused the benchmark subscriber ({}): run bench with the server's settings",
        stream.status()
    );
    tokio::spawn(follow_stream(stream, probe.system_id.clone(), events));

    println!("connecting {} gateways…", others.len());
    let started = Instant::now();
    let credentials: Vec<_> = futures_util::stream::iter(others.iter().cloned())
        .map(|system| {
            let (http, url) = (http.clone(), url.clone());
            async move { simulator::connect(&http, &url, &system.connect_code).await }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let stats = Arc::new(Stats::default());
    let simulation = Options {
        url: url.clone(),
        scenario: Scenario::Steady,
        interval: Some(options.interval),
        phase: options.interval,
        renew_before: chrono::TimeDelta::hours(1),
        http: http.clone(),
        // The first connections arrive as a ramp over one heartbeat interval.
        stagger: options.interval / u32::try_from(others.len()).unwrap_or(u32::MAX).max(1),
    };
    for (index, credentials) in credentials.into_iter().enumerate() {
        tokio::spawn(simulator::run_dms(
            index,
            credentials,
            simulation.clone(),
            stats.clone(),
            None,
        ));
    }
    // Every DMS connected once: reconnections must not make "all connected" come early.
    while stats.connected_dmss.load(Ordering::Relaxed) < others.len() as u64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{} gateways connected in {:.1} s ({} reconnections, {} failures on the way)",
        others.len(),
        started.elapsed().as_secs_f64(),
        stats.connections.load(Ordering::Relaxed) - others.len() as u64,
        stats.failures.load(Ordering::Relaxed)
    );

    let cpu_before = options.server_pid.and_then(cpu_seconds);
    let heartbeats_before = stats.heartbeats.load(Ordering::Relaxed);
    let window = Instant::now();
    tokio::time::sleep(options.measure).await;
    let elapsed = window.elapsed().as_secs_f64();
    let heartbeats = stats.heartbeats.load(Ordering::Relaxed) - heartbeats_before;
    let cpu_after = options.server_pid.and_then(cpu_seconds);
    println!(
        "heartbeats: {:.0}/s over {elapsed:.0} s ({} gateways every {:.1} s)",
        heartbeats as f64 / elapsed,
        others.len(),
        options.interval.as_secs_f64()
    );
    match (cpu_before, cpu_after, options.server_pid) {
        (Some(before), Some(after), Some(pid)) => println!(
            "server: {:.1} % of one core, {:.0} MiB resident",
            (after - before) / elapsed * 100.0,
            rss_mib(pid).unwrap_or_default()
        ),
        _ => println!("server: CPU and memory not measured (give --server-pid)"),
    }

    // Outages of the probe DMS while the load runs: time until the subscriber sees them.
    let probe_credentials = simulator::connect(&http, &url, &probe.connect_code).await?;
    let ws_url = format!("{}/api/gateway/ws", url.replacen("http://", "ws://", 1));
    let mut request = ws_url.as_str().into_client_request()?;
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", probe_credentials.token).parse()?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let mut delays = Vec::with_capacity(options.outages);
    for _ in 0..options.outages {
        send(&mut socket, true).await?;
        wait_for(&mut probe_states, "connected").await?;
        let outage = Instant::now();
        send(&mut socket, false).await?;
        wait_for(&mut probe_states, "dms_not_responding").await?;
        delays.push(outage.elapsed());
    }
    delays.sort();
    if let (Some(min), Some(max)) = (delays.first(), delays.last()) {
        println!(
            "outage → event: median {:.1} ms (min {:.1} ms, max {:.1} ms, {} outages)",
            delays[delays.len() / 2].as_secs_f64() * 1000.0,
            min.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            delays.len()
        );
    }
    println!(
        "gateway failures: {}",
        stats.failures.load(Ordering::Relaxed)
    );
    Ok(())
}

async fn send(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    dms_responding: bool,
) -> anyhow::Result<()> {
    let heartbeat = Heartbeat {
        dms_responding,
        dms_version: "bench".into(),
        agent_count: 1,
        timestamp: crate::db::now(),
    };
    socket
        .send(Message::text(serde_json::to_string(&heartbeat)?))
        .await?;
    Ok(())
}

async fn wait_for(states: &mut mpsc::UnboundedReceiver<String>, state: &str) -> anyhow::Result<()> {
    loop {
        let seen = tokio::time::timeout(Duration::from_secs(60), states.recv())
            .await
            .context("no event within a minute")?
            .context("the live stream ended")?;
        if seen == state {
            return Ok(());
        }
    }
}

/// Reads the SSE stream and forwards the probe DMS's states.
async fn follow_stream(
    mut response: reqwest::Response,
    probe: String,
    states: mpsc::UnboundedSender<String>,
) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let Some(data) = block.lines().find_map(|line| line.strip_prefix("data: ")) else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<serde_json::Value>(data) else {
                continue;
            };
            if event["system_id"] == probe.as_str() {
                if let Some(state) = event["state"].as_str() {
                    let _ = states.send(state.to_owned());
                }
            }
        }
    }
}

pub(crate) async fn bench_user(database: &Database) -> anyhow::Result<String> {
    Ok(database
        .run(|connection| {
            Ok(accounts::find_or_insert_tool_account(
                connection,
                BENCH_EMAIL,
                crate::db::now().naive_utc(),
            )?)
        })
        .await?)
}
