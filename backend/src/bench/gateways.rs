//! Section `gateways`: the most gateways one backend holds. Registers N DMSs, hands their
//! credentials (a file) to client processes of at most `--per-process` sockets each, which
//! connect from several loopback source addresses and send a heartbeat every interval. Once
//! every gateway's first connection succeeded it measures a window: heartbeats/s, the
//! server's CPU and memory, the clients' CPU, failures, reconnections and state changes seen by
//! a live subscriber (none expected), and projects the per-gateway cost to 100,000 gateways.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::live::{LiveCounts, LiveSample};
use super::{CpuWindow, Target};
use crate::config::Settings;
use crate::simulator::{self, Options, SavedCredentials, Scenario, Stats};

/// What `stratus bench gateways` measures.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's base URL (default: the settings' public URL).
    #[arg(long)]
    pub url: Option<String>,
    /// The server's process id, for its CPU and resident memory (Linux `/proc`).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// How many gateways.
    #[arg(long, default_value_t = 18_000)]
    pub gateways: usize,
    /// Seconds between heartbeats of each gateway (keep it under the server's timeout).
    #[arg(long, default_value_t = 10.0)]
    pub interval_seconds: f64,
    /// The first connections arrive as a ramp over this many seconds.
    #[arg(long, default_value_t = 20.0)]
    pub ramp_seconds: f64,
    /// Seconds to wait after the last first connection before the window opens.
    #[arg(long, default_value_t = 5)]
    pub settle_seconds: u64,
    /// Length of the measured window in seconds.
    #[arg(long, default_value_t = 60)]
    pub measure_seconds: u64,
    /// Give up when the gateways have not all connected after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub connect_timeout_seconds: u64,
    /// Most sockets per client process (each needs an open file; the cap here is 20,000).
    #[arg(long, default_value_t = 9_000)]
    pub per_process: usize,
    /// Loopback source addresses to connect from: 127.0.0.2, 127.0.0.3, … (this many).
    #[arg(long, default_value_t = 4)]
    pub source_addresses: u8,
    /// Where the credentials for the client processes go (default: in the data dir).
    #[arg(long)]
    pub credentials_file: Option<PathBuf>,
}

/// One client process of the section (started by it).
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// The server's base URL.
    #[arg(long)]
    pub url: String,
    /// The credentials file the section wrote.
    #[arg(long)]
    pub credentials_file: PathBuf,
    /// Play the gateways `first..first + count` of the file.
    #[arg(long)]
    pub first: usize,
    /// How many gateways this process plays.
    #[arg(long)]
    pub count: usize,
    /// Seconds between heartbeats of each gateway.
    #[arg(long)]
    pub interval_seconds: f64,
    /// This process's first connections arrive as a ramp over this many seconds.
    #[arg(long)]
    pub ramp_seconds: f64,
    /// Comma-separated local addresses to connect from.
    #[arg(long, value_delimiter = ',')]
    pub source_addresses: Vec<IpAddr>,
}

/// The counters a client process prints on stdout, one `stats …` line every 250 ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counters {
    /// Gateways whose first connection succeeded.
    first_connections: u64,
    /// Every WebSocket opened (first connections and reconnections).
    connections: u64,
    heartbeats: u64,
    failures: u64,
}

impl Counters {
    fn line(&self) -> String {
        format!(
            "stats {} {} {} {}",
            self.first_connections, self.connections, self.heartbeats, self.failures
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let mut numbers = line.strip_prefix("stats ")?.split(' ').map(str::parse);
        let mut next = || numbers.next()?.ok();
        Some(Self {
            first_connections: next()?,
            connections: next()?,
            heartbeats: next()?,
            failures: next()?,
        })
    }

    fn add(self, other: Self) -> Self {
        Self {
            first_connections: self.first_connections + other.first_connections,
            connections: self.connections + other.connections,
            heartbeats: self.heartbeats + other.heartbeats,
            failures: self.failures + other.failures,
        }
    }

    fn minus(self, earlier: Self) -> Self {
        Self {
            first_connections: self.first_connections - earlier.first_connections,
            connections: self.connections - earlier.connections,
            heartbeats: self.heartbeats - earlier.heartbeats,
            failures: self.failures - earlier.failures,
        }
    }
}

/// Plays a slice of the credentials file until killed, printing its counters.
pub async fn run_client(args: ClientArgs) -> anyhow::Result<()> {
    let saved = SavedCredentials::load(&args.credentials_file)?;
    let mine: Vec<_> = saved
        .dmss
        .into_iter()
        .skip(args.first)
        .take(args.count)
        .collect();
    anyhow::ensure!(!mine.is_empty(), "no gateways to play in this slice");
    let interval = Duration::from_secs_f64(args.interval_seconds.max(0.05));
    let options = Options {
        url: args.url.trim_end_matches('/').to_owned(),
        scenario: Scenario::Steady,
        interval: Some(interval),
        phase: interval,
        renew_before: chrono::TimeDelta::hours(1),
        http: reqwest::Client::new(),
        stagger: Duration::from_secs_f64(args.ramp_seconds.max(0.0) / mine.len() as f64),
        source_addresses: args.source_addresses,
        web_app: false,
        names: Vec::new(),
    };
    let stats = Arc::new(Stats::default());
    for (index, credentials) in mine.into_iter().enumerate() {
        tokio::spawn(simulator::run_dms(
            index,
            credentials,
            options.clone(),
            stats.clone(),
            None,
        ));
    }
    let mut report = tokio::time::interval(Duration::from_millis(250));
    loop {
        report.tick().await;
        let counters = Counters {
            first_connections: stats.connected_dmss.load(Ordering::Relaxed),
            connections: stats.connections.load(Ordering::Relaxed),
            heartbeats: stats.heartbeats.load(Ordering::Relaxed),
            failures: stats.failures.load(Ordering::Relaxed),
        };
        println!("{}", counters.line());
    }
}

/// The client processes and what they last reported.
struct Clients {
    children: Vec<tokio::process::Child>,
    pids: Vec<u32>,
    latest: Arc<Mutex<Vec<Counters>>>,
}

impl Clients {
    /// Starts `ceil(gateways / per_process)` client processes, this binary again.
    fn start(args: &Args, url: &str, credentials_file: &std::path::Path) -> anyhow::Result<Self> {
        let processes = args.gateways.div_ceil(args.per_process.max(1)).max(1);
        let per_process = args.gateways.div_ceil(processes);
        let sources: Vec<String> = (0..args.source_addresses.clamp(1, 250))
            .map(|n| format!("127.0.0.{}", n + 2))
            .collect();
        let executable = std::env::current_exe().context("cannot find this program")?;
        let latest = Arc::new(Mutex::new(vec![Counters::default(); processes]));
        let (mut children, mut pids) = (Vec::new(), Vec::new());
        for process in 0..processes {
            let first = process * per_process;
            let count = per_process.min(args.gateways - first);
            let mut child = tokio::process::Command::new(&executable)
                .args(["bench", "gateway-client", "--url", url])
                .arg("--credentials-file")
                .arg(credentials_file)
                .args(["--first", &first.to_string(), "--count", &count.to_string()])
                .args(["--interval-seconds", &args.interval_seconds.to_string()])
                .args(["--ramp-seconds", &args.ramp_seconds.to_string()])
                .args(["--source-addresses", &sources.join(",")])
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context("cannot start a client process")?;
            pids.push(child.id().context("a client process ended at once")?);
            let stdout = child.stdout.take().context("no stdout of a client")?;
            tokio::spawn(read_counters(stdout, process, latest.clone()));
            children.push(child);
        }
        println!(
            "{processes} client processes of up to {per_process} gateways, from {}",
            sources.join(", ")
        );
        Ok(Self {
            children,
            pids,
            latest,
        })
    }

    /// The sum of every process's latest counters.
    fn total(&self) -> Counters {
        self.latest
            .lock()
            .map(|latest| latest.iter().fold(Counters::default(), |a, b| a.add(*b)))
            .unwrap_or_default()
    }

    /// The first client process that has exited, if any.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.children
            .iter_mut()
            .find_map(|child| child.try_wait().ok().flatten())
    }
}

async fn read_counters(
    stdout: tokio::process::ChildStdout,
    process: usize,
    latest: Arc<Mutex<Vec<Counters>>>,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        match Counters::parse(&line) {
            Some(counters) => {
                if let Ok(mut latest) = latest.lock() {
                    latest[process] = counters;
                }
            }
            None => eprintln!("client {process}: {line}"),
        }
    }
}

/// Runs the section and prints its report.
pub async fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    let target = Target::open(settings, args.url.clone()).await?;
    let user_id = super::bench_user(&target.database).await?;
    let credentials = super::fleet::register(&target, "Benchmark gateways", args.gateways).await?;
    let file = args
        .credentials_file
        .clone()
        .unwrap_or_else(|| target.settings.data_dir.join("bench-gateways.json"));
    SavedCredentials { dmss: credentials }.save(&file)?;
    let idle_rss = args.server_pid.and_then(super::rss_kib);
    let live = super::live::subscribe(&target, &user_id).await?;
    let mut clients = Clients::start(&args, &target.url, &file)?;
    let ramp = wait_for_first_connections(&args, &mut clients).await?;
    tokio::time::sleep(Duration::from_secs(args.settle_seconds)).await;
    let window = measure(&args, &clients, &live).await?;
    report(&args, &ramp, &window, idle_rss);
    anyhow::ensure!(
        !live.ended.load(Ordering::Relaxed),
        "the live stream ended during the run"
    );
    Ok(())
}

/// How the gateways arrived.
struct Ramp {
    took: Duration,
    counters: Counters,
}

/// Waits until every gateway's first connection succeeded (reconnections do not count),
/// printing progress every 5 s.
async fn wait_for_first_connections(args: &Args, clients: &mut Clients) -> anyhow::Result<Ramp> {
    let started = Instant::now();
    let total = args.gateways as u64;
    let mut last_print = Instant::now();
    loop {
        let counters = clients.total();
        if counters.first_connections >= total {
            let took = started.elapsed();
            println!(
                "{total} gateways connected in {:.1} s ({} reconnections, {} failures on the way)",
                took.as_secs_f64(),
                counters.connections - counters.first_connections,
                counters.failures
            );
            return Ok(Ramp { took, counters });
        }
        if let Some(status) = clients.exited() {
            anyhow::bail!("a client process ended ({status}) before every gateway connected");
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(args.connect_timeout_seconds),
            "only {} of {total} gateways connected after {} s ({} failures)",
            counters.first_connections,
            args.connect_timeout_seconds,
            counters.failures
        );
        if last_print.elapsed() >= Duration::from_secs(5) {
            last_print = Instant::now();
            println!(
                "  {} of {total} connected ({} failures)",
                counters.first_connections, counters.failures
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the window measured.
struct Window {
    seconds: f64,
    counters: Counters,
    live: LiveSample,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    server_rss: Option<u64>,
    server_peak_rss: Option<u64>,
}

async fn measure(args: &Args, clients: &Clients, live: &LiveCounts) -> anyhow::Result<Window> {
    let mut client_pids = clients.pids.clone();
    client_pids.push(std::process::id());
    let server_cpu = args.server_pid.map(|pid| CpuWindow::start(&[pid]));
    let client_cpu = CpuWindow::start(&client_pids);
    let (counters, live_before) = (clients.total(), live.sample());
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.measure_seconds.max(1))).await;
    let seconds = started.elapsed().as_secs_f64();
    let live_after = live.sample();
    Ok(Window {
        seconds,
        counters: clients.total().minus(counters),
        live: LiveSample {
            snapshots: live_after.snapshots - live_before.snapshots,
            state_changes: live_after.state_changes - live_before.state_changes,
            removed: live_after.removed - live_before.removed,
            unknown: live_after.unknown - live_before.unknown,
        },
        server_cpu: server_cpu.and_then(|cpu| cpu.percent()),
        client_cpu: client_cpu.percent(),
        server_rss: args.server_pid.and_then(super::rss_kib),
        server_peak_rss: args
            .server_pid
            .and_then(|pid| super::status_kib(pid, "VmHWM")),
    })
}

/// Prints the window's figures, the cost per 1,000 gateways and the projection.
fn report(args: &Args, ramp: &Ramp, window: &Window, idle_rss: Option<u64>) {
    let gateways = args.gateways as f64;
    let counters = window.counters;
    println!(
        "window: {:.0} s, {} gateways, one heartbeat each per {} s (ramp {:.1} s, {} failures on the way)",
        window.seconds,
        args.gateways,
        args.interval_seconds,
        ramp.took.as_secs_f64(),
        ramp.counters.failures
    );
    println!(
        "  heartbeats/s       {:.0} (expected {:.0})",
        counters.heartbeats as f64 / window.seconds,
        gateways / args.interval_seconds
    );
    println!(
        "  server CPU         {}",
        super::percent_text(window.server_cpu)
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let per_gateway_kib = match (window.server_rss, idle_rss) {
        (Some(rss), Some(idle)) => {
            let per_gateway = rss.saturating_sub(idle) as f64 / gateways;
            println!(
                "  server RSS         {:.0} MiB (idle before the gateways: {:.0} MiB; peak {:.0} MiB) = {per_gateway:.1} KiB per gateway above idle, {:.1} KiB per gateway in all",
                mib(rss),
                mib(idle),
                mib(window.server_peak_rss.unwrap_or(rss)),
                rss as f64 / gateways
            );
            Some(per_gateway)
        }
        _ => {
            println!("  server RSS         not measured (give --server-pid)");
            None
        }
    };
    println!(
        "  client CPU         {} (sum over {} processes: the clients and this one)",
        super::percent_text(window.client_cpu),
        args.gateways.div_ceil(args.per_process.max(1)).max(1) + 1
    );
    println!(
        "  failures {}, reconnections {}, first connections {} (all expected 0)",
        counters.failures, counters.connections, counters.first_connections
    );
    println!(
        "  live subscriber    {} state changes, {} removals, {} snapshots, {} unreadable events (all expected 0)",
        window.live.state_changes, window.live.removed, window.live.snapshots, window.live.unknown
    );
    project(args, window.server_cpu, per_gateway_kib, idle_rss);
}

/// The cost per 1,000 gateways and, on paper, 100,000 gateways on one backend.
fn project(args: &Args, cpu: Option<f64>, per_gateway_kib: Option<f64>, idle_rss: Option<u64>) {
    let (Some(cpu), Some(per_gateway_kib), Some(idle)) = (cpu, per_gateway_kib, idle_rss) else {
        return;
    };
    let per_gateway_cpu = cpu / args.gateways as f64;
    println!(
        "  per 1,000 gateways {:.2} % of one core, {:.1} MiB",
        per_gateway_cpu * 1000.0,
        per_gateway_kib * 1000.0 / 1024.0
    );
    let target = 100_000.0;
    println!(
        "  on paper, 100,000 gateways: {:.0} % of one core and {:.0} MiB resident for {:.0} heartbeats/s \
         (linear in gateways from this run's per-gateway cost plus the idle server; needs `ulimit -n` above 100,000 \
         and client machines or source addresses for the sockets: not measured)",
        per_gateway_cpu * target,
        (idle as f64 + per_gateway_kib * target) / 1024.0,
        target / args.interval_seconds
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_travel_as_one_line() {
        let counters = Counters {
            first_connections: 1,
            connections: 2,
            heartbeats: 3,
            failures: 4,
        };
        assert_eq!(Counters::parse(&counters.line()), Some(counters));
        assert_eq!(Counters::parse("stats 1 2"), None);
        assert_eq!(Counters::parse("WARN something"), None);
    }
}
