//! `stratus bench <section>`: measurements of a running server for `scripts/bench.sh`. A section
//! prints figures and never asserts timings; every figure stands next to the CPU the client
//! spent, read from `/proc` like the server's, so a reader can tell the client was not the
//! bottleneck. Run a section beside the server with the same settings (`STRATUS_DATA_DIR`,
//! `STRATUS_BIND`): it registers its DMSs straight in the database and signs tokens with the
//! server's keys.

pub mod cluster;
pub mod fanout;
pub mod fleet;
pub mod gateways;
pub mod live;
pub mod overview;
mod setup;
pub mod throughput;
pub mod tunnel;

use std::time::Instant;

use crate::config::Settings;
use crate::db::Database;
use crate::domain::accounts;
use crate::secrets::Secrets;

/// The sections of `stratus bench`.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// The most gateways one backend holds: N gateways at their heartbeat interval, spread over
    /// client processes and loopback source addresses, measured over a window.
    Gateways(gateways::Args),
    /// One client process of `gateways` (started by it): plays a slice of a credentials file
    /// and prints its counters on stdout.
    #[command(hide = true)]
    GatewayClient(gateways::ClientArgs),
    /// Heartbeats at full speed, as a ratio to a bare actix-web WebSocket echo server.
    Throughput(throughput::Args),
    /// A person's list of DMSs (`GET /api/systems`) under wrk: requests/s, p50, p99, CPU.
    Overview(overview::OverviewArgs),
    /// One DMS's change reaching many live streams, memory, and a reconnect storm.
    Fanout(fanout::FanoutArgs),
    /// A worker of `fanout`: people watching the live stream.
    #[command(hide = true)]
    FanoutViewers(fanout::viewers::ViewersArgs),
    /// A worker of `fanout`: simulated gateways.
    #[command(hide = true)]
    FanoutGateways(fanout::gateways::GatewaysArgs),
    /// One configuration of a cluster behind nginx: gateways held, heartbeats, CPU and memory
    /// per backend, and a state change's delay to viewers on the same and on other backends.
    Cluster(cluster::ClusterArgs),
    /// A worker of `cluster`: people watching the live stream through nginx.
    #[command(hide = true)]
    ClusterViewers(cluster::ViewersArgs),
    /// Remote access through the gateway's tunnel against the same web app reached directly:
    /// download MiB/s and request latency, in one run.
    Tunnel(tunnel::TunnelArgs),
    /// A worker of `tunnel`: the DMS, its gateway socket and its web app.
    #[command(hide = true)]
    TunnelDms(tunnel::TunnelDmsArgs),
}

/// Runs one section.
pub async fn run(settings: Settings, command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Gateways(args) => gateways::run(settings, args).await,
        BenchCommand::GatewayClient(args) => gateways::run_client(args).await,
        BenchCommand::Throughput(args) => throughput::run(settings, args).await,
        BenchCommand::Overview(args) => overview::run(settings, args).await,
        BenchCommand::Fanout(args) => fanout::run(settings, args).await,
        BenchCommand::FanoutViewers(args) => fanout::viewers::run(args).await,
        BenchCommand::FanoutGateways(args) => fanout::gateways::run(args).await,
        BenchCommand::Cluster(args) => cluster::run(settings, args).await,
        BenchCommand::ClusterViewers(args) => cluster::run_viewers(args).await,
        BenchCommand::Tunnel(args) => tunnel::run(settings, args).await,
        BenchCommand::TunnelDms(args) => tunnel::run_dms(args).await,
    }
}

/// What a section needs of the server it measures: its database, its keys and its URL.
pub struct Target {
    pub settings: Settings,
    pub database: Database,
    pub secrets: Secrets,
    /// The server's base URL without a trailing slash.
    pub url: String,
}

impl Target {
    /// Opens the server's database and keys; `url` defaults to the settings' public URL.
    pub async fn open(settings: Settings, url: Option<String>) -> anyhow::Result<Self> {
        let (database, secrets) = setup::open(&settings).await?;
        let url = url
            .unwrap_or_else(|| settings.public_url())
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            settings,
            database,
            secrets,
            url,
        })
    }

    /// The `ws://…/api/gateway/ws` URL of the server.
    pub fn gateway_ws_url(&self) -> String {
        gateway_ws_url(&self.url)
    }
}

pub use crate::simulator::gateway_ws_url;

/// The benchmark's person: Owner of the organizations the sections register, and the live
/// subscriber.
pub const BENCH_EMAIL: &str = "bench@stratus.invalid";

/// Finds or creates the benchmark's person; returns its id.
pub async fn bench_user(database: &Database) -> anyhow::Result<String> {
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

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on every Linux build
/// that matters here).
const CLOCK_TICKS: f64 = 100.0;

/// CPU time (user + system, all threads) a process has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / CLOCK_TICKS)
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`, …).
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// CPU of a set of processes over a stretch of time, as a percentage of one core (200 % is two
/// cores busy).
pub struct CpuWindow {
    pids: Vec<u32>,
    started: Instant,
    cpu: f64,
}

impl CpuWindow {
    /// Starts counting for these processes (the sum of their CPU times).
    pub fn start(pids: &[u32]) -> Self {
        Self {
            pids: pids.to_vec(),
            started: Instant::now(),
            cpu: pids.iter().filter_map(|pid| cpu_seconds(*pid)).sum(),
        }
    }

    /// Percent of one core used since `start` (`None` when a process is gone).
    pub fn percent(&self) -> Option<f64> {
        let now: Option<Vec<f64>> = self.pids.iter().map(|pid| cpu_seconds(*pid)).collect();
        let spent = now?.iter().sum::<f64>() - self.cpu;
        Some(spent / self.started.elapsed().as_secs_f64() * 100.0)
    }
}

/// A percentage of one core for a report, or "not measured".
pub fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(
        || "not measured".into(),
        |p| format!("{p:.1} % of one core"),
    )
}

/// Resident memory of a process in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    rss_kib(pid).map(|kib| kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_cpu_time_and_a_resident_size() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        assert!(rss_kib(pid).is_some_and(|kib| kib > 0));
        assert!(status_kib(pid, "VmHWM").is_some());
        assert!(status_kib(pid, "NoSuchField").is_none());
    }

    #[test]
    fn gateway_urls_follow_the_server_url() {
        assert_eq!(
            gateway_ws_url("http://127.0.0.1:8080/"),
            "ws://127.0.0.1:8080/api/gateway/ws"
        );
        assert_eq!(
            gateway_ws_url("https://example.com"),
            "wss://example.com/api/gateway/ws"
        );
    }
}
