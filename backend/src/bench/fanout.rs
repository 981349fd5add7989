//! `stratus bench fanout`: how fast one DMS's change reaches many people watching `/api/live`
//! while thousands of gateways heartbeat, what that costs in memory, and how long a storm of
//! gateways reconnecting at once takes to show on every viewer's screen.
//!
//! The coordinator (this process) registers the data, plays the probe DMS and starts workers of
//! this same binary: viewer processes (`fanout-viewers`) and a gateway process
//! (`fanout-gateways`), so neither load shares a single-threaded runtime with the other.
//! Latencies cross processes on the wall clock (CLOCK_REALTIME) of the one machine.

mod fleet;
pub mod gateways;
mod prepare;
mod probe;
pub mod viewers;

use std::time::{Duration, Instant};

use rand::Rng;
use stratus_shared::ConnectionState;

use super::setup::{self, now_micros, peak_rss_mib, percentile, CpuWindow};
use crate::config::Settings;
use fleet::{arguments, path_argument, Fleet, Tally};
use prepare::Prepared;
use viewers::state_code;

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct FanoutArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// DMSs with a simulated gateway (besides the probe DMS).
    #[arg(long, default_value_t = 10_000)]
    pub dms: usize,
    /// People watching the live stream, one account and stream each.
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Processes the viewers are spread over.
    #[arg(long, default_value_t = 2)]
    pub viewer_processes: usize,
    /// State changes of the probe DMS timed to every viewer.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Seconds between heartbeats of each gateway.
    #[arg(long, default_value_t = 10.0)]
    pub interval_seconds: f64,
    /// The server's process id, for its CPU and memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Longest wait for any one phase.
    #[arg(long, default_value_t = 120)]
    pub timeout_seconds: u64,
    /// Skip the reconnect storm.
    #[arg(long)]
    pub no_storm: bool,
}

/// Runs every phase and prints its figures.
pub async fn run(settings: Settings, args: FanoutArgs) -> anyhow::Result<()> {
    let url = args.url.trim_end_matches('/').to_owned();
    let (database, secrets) = setup::open(&settings).await?;
    let prepared = prepare::prepare(&settings, &database, &url, args.viewers, args.dms).await?;
    // Access tokens live 15 minutes and a stream ends with its token: the run must fit.
    let tokens_file = prepare::write_tokens(&settings, &secrets, &prepared)?;
    let tokens_issued = Instant::now();
    let processes = args.viewer_processes.clamp(1, args.viewers.max(1));
    let mut fleet = Fleet::new(Tally::new(args.viewers, processes));
    let per_process = args.viewers.div_ceil(processes);
    for process in 0..processes {
        let first = process * per_process;
        let count = per_process.min(args.viewers.saturating_sub(first));
        let worker = arguments(
            "fanout-viewers",
            &[
                ("url", url.clone()),
                ("tokens-file", path_argument(&tokens_file)),
                ("systems-file", path_argument(&prepared.systems_file)),
                ("first", first.to_string()),
                ("count", count.to_string()),
            ],
        );
        fleet.start(&format!("viewers-{process}"), process, &worker)?;
    }
    let started = Instant::now();
    let viewers = args.viewers;
    let ok = fleet
        .until(
            timeout(&args),
            || {},
            |tally| tally.ready.iter().all(|ready| *ready),
        )
        .await;
    println!(
        "{} of {viewers} viewers streaming in {:.1} s (first snapshot of {} DMSs each){}",
        fleet.tally.ready.iter().filter(|ready| **ready).count(),
        started.elapsed().as_secs_f64(),
        args.dms + 1,
        memory(args.server_pid),
    );
    anyhow::ensure!(ok, "not every viewer got its snapshot in time");
    steady(&mut fleet, &args, &url, &prepared).await?;
    if !args.no_storm {
        storm(&mut fleet, &args, &prepared).await?;
    }
    if tokens_issued.elapsed() > Duration::from_secs(14 * 60) {
        println!("WARNING: the run outlived the viewers' access tokens (15 min)");
    }
    print_counts(&mut fleet);
    Ok(())
}

fn timeout(args: &FanoutArgs) -> Duration {
    Duration::from_secs(args.timeout_seconds.max(1))
}

/// ", server 180 MiB resident (peak 240 MiB)", or nothing without the server's pid.
fn memory(server_pid: Option<u32>) -> String {
    let Some(pid) = server_pid else {
        return String::new();
    };
    match (super::rss_mib(pid), peak_rss_mib(pid)) {
        (Some(rss), Some(peak)) => {
            format!(", server {rss:.0} MiB resident (peak so far {peak:.0} MiB)")
        }
        _ => String::new(),
    }
}

fn gateway_worker(args: &FanoutArgs, url: &str, prepared: &Prepared, spread: f64) -> Vec<String> {
    arguments(
        "fanout-gateways",
        &[
            ("url", url.to_owned()),
            (
                "credentials-file",
                path_argument(&prepared.credentials_file),
            ),
            ("interval-seconds", args.interval_seconds.to_string()),
            ("spread-seconds", spread.to_string()),
        ],
    )
}

/// (a) Gateways connect as a ramp over one heartbeat interval; then the probe DMS changes
/// state `changes` times and each change is timed to every viewer.
async fn steady(
    fleet: &mut Fleet,
    args: &FanoutArgs,
    url: &str,
    prepared: &Prepared,
) -> anyhow::Result<()> {
    let since = now_micros();
    let worker = gateway_worker(args, url, prepared, args.interval_seconds);
    fleet.start("gateways", processes_of(fleet), &worker)?;
    let viewers = args.viewers;
    let ok = fleet
        .until(
            timeout(args),
            || {},
            |tally| Tally::count_since(&tally.all_at, since) == viewers,
        )
        .await;
    println!(
        "{} gateways connected as a ramp over {:.0} s: every viewer saw every DMS connected after {:.1} s{}",
        args.dms,
        args.interval_seconds,
        seconds_since(since, fleet.tally.all_at.iter().flatten().max()),
        memory(args.server_pid),
    );
    anyhow::ensure!(ok, "not every viewer saw every DMS connected in time");
    // Awaited before the probe connects: a viewer reports the probe's state once.
    fleet
        .tally
        .await_probe(state_code(ConnectionState::Connected));
    let mut probe = probe::Probe::connect(url, &prepared.probe).await?;
    probe.heartbeat(true).await?;
    fleet
        .until(
            timeout(args),
            || {},
            |tally| tally.probe_at.iter().all(Option::is_some),
        )
        .await;
    let window = CpuWindow::start(args.server_pid, &fleet.processes());
    let (latencies, missed) = time_changes(fleet, args, &mut probe).await?;
    let cpu = window.report(args.server_pid, &fleet.processes());
    probe.close().await;
    print_latencies(args, &latencies, missed);
    println!("fanout: during the changes: {cpu}");
    let client_rss: f64 = fleet
        .processes()
        .iter()
        .filter_map(|(_, pid)| super::rss_mib(*pid))
        .sum();
    println!(
        "fanout: with {} DMSs and {viewers} viewers{}; client processes {client_rss:.0} MiB",
        args.dms + 1,
        memory(args.server_pid)
    );
    Ok(())
}

/// The next worker's process number (viewer processes come first).
fn processes_of(fleet: &Fleet) -> usize {
    fleet.tally.viewer_counts.len()
}

/// Seconds from `since` (wall clock, µs) to `at`; NaN without `at`.
fn seconds_since(since: i64, at: Option<&i64>) -> f64 {
    at.map_or(f64::NAN, |at| (at - since) as f64 / 1e6)
}

/// Flips the probe between responding and not `args.changes` times; returns every viewer's
/// delay in milliseconds and how many viewers missed a change.
async fn time_changes(
    fleet: &mut Fleet,
    args: &FanoutArgs,
    probe: &mut probe::Probe,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut latencies = Vec::with_capacity(args.changes * args.viewers);
    let mut missed = 0;
    for change in 0..args.changes {
        let responding = change % 2 == 1;
        let state = if responding {
            ConnectionState::Connected
        } else {
            ConnectionState::DmsNotResponding
        };
        // Off the beat of the gateways' heartbeats and the server's one-second tick.
        let pause = rand::rng().random_range(300..700);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        fleet.drain();
        fleet.tally.await_probe(state_code(state));
        let sent = probe.heartbeat(responding).await?;
        let viewers = args.viewers;
        fleet
            .until(
                Duration::from_secs(10),
                || {},
                |tally| tally.probe_at.iter().all(Option::is_some),
            )
            .await;
        let seen: Vec<f64> = fleet
            .tally
            .probe_at
            .iter()
            .flatten()
            .map(|at| (at - sent) as f64 / 1000.0)
            .collect();
        missed += viewers - seen.len();
        latencies.extend(seen);
    }
    Ok((latencies, missed))
}

fn print_latencies(args: &FanoutArgs, latencies: &[f64], missed: usize) {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    println!(
        "fanout: heartbeat → {} viewers' streams, {} changes ({} deliveries{}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.viewers,
        args.changes,
        sorted.len(),
        if missed > 0 {
            format!(", {missed} MISSED within 10 s")
        } else {
            String::new()
        },
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(f64::NAN),
    );
}

/// (b) Every gateway drops at once (its process is killed); once every viewer shows them all
/// disconnected, all gateways reconnect at once: time until every viewer shows every DMS
/// connected, and the server's CPU meanwhile.
async fn storm(fleet: &mut Fleet, args: &FanoutArgs, prepared: &Prepared) -> anyhow::Result<()> {
    fleet.stop("gateways").await;
    let dropped = now_micros();
    let viewers = args.viewers;
    let ok = fleet
        .until(
            timeout(args),
            || {},
            |tally| Tally::count_since(&tally.none_at, dropped) == viewers,
        )
        .await;
    println!(
        "storm: {} gateways dropped: every viewer saw every DMS disconnected after {:.1} s",
        args.dms,
        seconds_since(dropped, fleet.tally.none_at.iter().flatten().max()),
    );
    anyhow::ensure!(ok, "not every viewer saw the DMSs disconnected in time");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let url = args.url.trim_end_matches('/');
    let worker = gateway_worker(args, url, prepared, 0.0);
    let started = now_micros();
    fleet.start("gateways", processes_of(fleet), &worker)?;
    let window = CpuWindow::start(args.server_pid, &fleet.processes());
    let mut peak_rss: f64 = 0.0;
    let server_pid = args.server_pid;
    let sample = || {
        if let Some(rss) = server_pid.and_then(super::rss_mib) {
            peak_rss = peak_rss.max(rss);
        }
    };
    let ok = fleet
        .until(timeout(args), sample, |tally| {
            Tally::count_since(&tally.all_at, started) == viewers
        })
        .await;
    let cpu = window.report(args.server_pid, &fleet.processes());
    let mut done: Vec<f64> = fleet
        .tally
        .all_at
        .iter()
        .flatten()
        .filter(|at| **at >= started)
        .map(|at| (at - started) as f64 / 1e6)
        .collect();
    done.sort_by(f64::total_cmp);
    println!(
        "storm: {} gateways at once: every DMS connected on {} of {viewers} viewers; all of them after {:.1} s (p50 viewer {:.1} s)",
        args.dms,
        done.len(),
        done.last().copied().unwrap_or(f64::NAN),
        percentile(&done, 0.5),
    );
    println!("storm: {cpu}; server peak {peak_rss:.0} MiB resident during the storm");
    anyhow::ensure!(ok, "the storm did not settle in time");
    Ok(())
}

fn print_counts(fleet: &mut Fleet) {
    fleet.drain();
    let tally = &fleet.tally;
    let total = |n: usize| -> u64 { tally.viewer_counts.iter().map(|counts| counts[n]).sum() };
    println!(
        "viewers received {} snapshots, {} state events, {} changes events, {:.0} MiB; {} streams lost",
        total(0),
        total(1),
        total(2),
        total(3) as f64 / 1_048_576.0,
        tally.lost
    );
    let [connected, connections, failures, heartbeats] = tally.gateways;
    println!(
        "last gateway process: {connected} DMSs connected, {connections} connections, {failures} failures, {heartbeats} heartbeats"
    );
}
