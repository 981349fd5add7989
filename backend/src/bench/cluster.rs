//! `stratus bench cluster`: one configuration of a cluster (backends in cluster mode behind
//! nginx, started by `scripts/bench/cluster.sh`), measured through nginx as DMSs and people
//! reach it: how many gateways each backend holds, heartbeats per second, each backend's CPU
//! and memory, and the delay of a DMS's state change to every open live stream, split into
//! streams on the backend that holds the DMS's gateway and streams on another backend (whose
//! change crossed the NATS bus).
//!
//! The coordinator (this process) registers the data straight in the cluster's PostgreSQL
//! database, signs tokens with the cluster's shared keys, plays the probe DMSs itself (one
//! gateway socket each, through nginx) and starts workers of this same binary: one gateway
//! process (`fanout-gateways`, the simulator's steady scenario) and viewer processes
//! (`cluster-viewers`), so no single-threaded process carries two loads. Which backend holds a
//! gateway is read from the database (`systems.gateway_backend`, a `cluster_backends.id`);
//! which backend a live stream landed on from its `X-Stratus-Backend` response header.
//! Delays cross processes on the wall clock (CLOCK_REALTIME) of the one machine.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::prelude::*;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde::Deserialize;
use stratus_shared::api::gateway::{DmsCredentials, Heartbeat};
use stratus_shared::ConnectionState;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::fanout::viewers::state_code;
use super::setup::{now_micros, peak_rss_mib, percentile};
use super::{cpu_seconds, rss_mib, Target};
use crate::auth::tokens::AccessTokens;
use crate::config::Settings;
use crate::db::schema::{cluster_backends, systems};
use crate::db::Database;
use crate::domain::accounts;
use crate::simulator::SavedCredentials;

/// The organization the section registers its DMSs in.
const ORGANIZATION: &str = "Benchmark cluster";
/// Longest wait for one change to reach every viewer.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// A named process whose CPU and memory are reported: `NAME=PID`. Several with one name
/// (nginx's master and workers) are summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedProcess {
    /// What the report calls it (`backend-1`, `nginx`, `nats-server`).
    pub name: String,
    /// Its process id.
    pub pid: u32,
}

impl FromStr for NamedProcess {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, pid) = text
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=PID, got {text:?}"))?;
        let pid = pid
            .trim()
            .parse()
            .map_err(|_| format!("not a process id: {pid:?}"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err("a process needs a name".into());
        }
        Ok(Self {
            name: name.to_owned(),
            pid,
        })
    }
}

/// What to measure in one configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// nginx's base URL: every gateway, probe and viewer goes through it.
    #[arg(long)]
    pub url: String,
    /// What this configuration is called in the report ("3 backends").
    #[arg(long, default_value = "cluster")]
    pub label: String,
    /// A backend: `NAME=PID`, NAME as in its `STRATUS_BACKEND_NAME`. Repeat for each.
    #[arg(long = "backend", required = true)]
    pub backends: Vec<NamedProcess>,
    /// Another process of the configuration (nginx's master and workers, the NATS server):
    /// `NAME=PID`, summed by name. Repeat for each.
    #[arg(long = "process")]
    pub processes: Vec<NamedProcess>,
    /// Simulated gateways (besides the probes).
    #[arg(long, default_value_t = 3000)]
    pub gateways: usize,
    /// People watching the live stream, one account and stream each.
    #[arg(long, default_value_t = 1000)]
    pub viewers: usize,
    /// Processes the viewers are spread over.
    #[arg(long, default_value_t = 2)]
    pub viewer_processes: usize,
    /// Probe DMSs the coordinator plays; each change flips one of them, in turn.
    #[arg(long, default_value_t = 3)]
    pub probes: usize,
    /// State changes timed to every viewer.
    #[arg(long, default_value_t = 30)]
    pub changes: usize,
    /// Seconds between heartbeats of each gateway (the backends' own interval).
    #[arg(long, default_value_t = 10.0)]
    pub interval_seconds: f64,
    /// Seconds of the steady window that measures heartbeats, CPU and memory.
    #[arg(long, default_value_t = 20)]
    pub window_seconds: u64,
    /// Longest wait for any one phase.
    #[arg(long, default_value_t = 120)]
    pub timeout_seconds: u64,
    /// A file the configuration's one-line summary is appended to.
    #[arg(long)]
    pub summary_file: Option<PathBuf>,
}

/// One viewer process of `cluster` (started by it).
#[derive(Debug, Clone, clap::Args)]
pub struct ViewersArgs {
    /// nginx's base URL.
    #[arg(long)]
    pub url: String,
    /// One access token per line; viewer V uses line V.
    #[arg(long)]
    pub tokens_file: PathBuf,
    /// The probe DMSs' ids, one a line, in probe order.
    #[arg(long)]
    pub probes_file: PathBuf,
    /// The number of this process's first viewer.
    #[arg(long)]
    pub first: usize,
    /// How many viewers this process plays.
    #[arg(long)]
    pub count: usize,
    /// Viewers opening their stream (up to their first snapshot) at the same time.
    #[arg(long, default_value_t = 16)]
    pub opening: usize,
}

// ---------------------------------------------------------------------------------------------
// The coordinator.

/// Runs one configuration and prints its figures.
pub async fn run(settings: Settings, args: ClusterArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.probes >= 1, "at least one probe DMS");
    anyhow::ensure!(args.viewers >= 1, "at least one viewer");
    let target = Target::open(settings, Some(args.url.clone())).await?;
    let dir = target.settings.data_dir.join("bench-cluster");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let viewer_ids = insert_viewers(&target.database, args.viewers).await?;
    // Every account in the database (the viewers) becomes a member of the organization.
    let mut probes = super::fleet::register(&target, ORGANIZATION, args.probes + args.gateways)
        .await
        .context("cannot register the DMSs")?;
    let gateways = probes.split_off(args.probes);
    let gateways_file = dir.join("gateways.json");
    SavedCredentials { dmss: gateways }.save(&gateways_file)?;
    let probes_file = dir.join("probes.txt");
    let probe_ids: Vec<String> = probes.iter().map(|dms| dms.system_id.clone()).collect();
    std::fs::write(&probes_file, probe_ids.join("\n") + "\n")?;

    let mut workers = Workers::new(Tally::new(args.viewers));
    let started = Instant::now();
    workers.start(
        "gateways",
        &arguments(
            "fanout-gateways",
            &[
                ("url", args.url.clone()),
                ("credentials-file", gateways_file.display().to_string()),
                ("interval-seconds", args.interval_seconds.to_string()),
                ("spread-seconds", args.interval_seconds.to_string()),
            ],
        ),
    )?;
    wait_held(&target.database, &mut workers, &args, args.gateways).await?;
    println!(
        "{} gateways connected through nginx as a ramp over {:.0} s, all held after {:.1} s",
        args.gateways,
        args.interval_seconds,
        started.elapsed().as_secs_f64()
    );

    let mut probe_sockets = Vec::with_capacity(probes.len());
    for credentials in &probes {
        probe_sockets.push(Probe::open(&args.url, credentials, args.interval_seconds).await?);
    }
    let held = wait_held(
        &target.database,
        &mut workers,
        &args,
        args.gateways + args.probes,
    )
    .await?;
    let probe_backends: Vec<String> = probe_ids
        .iter()
        .map(|id| held.get(id).cloned().unwrap_or_else(|| "?".into()))
        .collect();

    // Viewers: tokens signed now live 15 minutes; the run takes a few.
    let tokens_file = write_tokens(&target, &viewer_ids, &dir)?;
    let processes = args.viewer_processes.clamp(1, args.viewers);
    let per_process = args.viewers.div_ceil(processes);
    let opened = Instant::now();
    for process in 0..processes {
        let first = process * per_process;
        let count = per_process.min(args.viewers.saturating_sub(first));
        workers.start(
            &format!("viewers-{process}"),
            &arguments(
                "cluster-viewers",
                &[
                    ("url", args.url.clone()),
                    ("tokens-file", tokens_file.display().to_string()),
                    ("probes-file", probes_file.display().to_string()),
                    ("first", first.to_string()),
                    ("count", count.to_string()),
                ],
            ),
        )?;
    }
    let ok = workers
        .until(timeout(&args), |tally| {
            tally.ready.iter().all(|ready| *ready)
                && tally.viewer_backend.iter().all(Option::is_some)
        })
        .await;
    let ready = workers.tally.ready.iter().filter(|ready| **ready).count();
    println!(
        "{ready} of {} viewers streaming through nginx in {:.1} s (first snapshot of {} DMSs each)",
        args.viewers,
        opened.elapsed().as_secs_f64(),
        args.gateways + args.probes
    );
    anyhow::ensure!(ok, "not every viewer got its snapshot in time");

    let layout = Layout::new(&args, &held, &workers.tally.viewer_backend, &probe_backends);
    let steady = measure_window(&mut workers, &args).await;
    layout.print(&args, &steady);
    let delays = time_changes(&mut workers, &args, &mut probe_sockets, &probe_backends).await?;
    delays.print(&args);
    for probe in probe_sockets {
        probe.close().await;
    }
    workers.drain();
    let [_, connections, failures, _] = workers.tally.gateways;
    println!(
        "gateways: {connections} connections, {failures} failures; viewers: {} streams lost",
        workers.tally.lost
    );
    if let Some(file) = &args.summary_file {
        append_summary(file, &summary(&args, &layout, &steady, &delays))?;
    }
    workers.stop_all().await;
    Ok(())
}

fn timeout(args: &ClusterArgs) -> Duration {
    Duration::from_secs(args.timeout_seconds.max(1))
}

/// Inserts the viewers' accounts (before the organization, which takes every account in).
async fn insert_viewers(database: &Database, count: usize) -> anyhow::Result<Vec<String>> {
    Ok(database
        .run(move |connection| {
            let now = crate::db::now().naive_utc();
            (0..count)
                .map(|n| {
                    let email = format!("cluster-viewer-{n:05}@bench.stratus.invalid");
                    Ok(accounts::find_or_insert_tool_account(
                        connection, &email, now,
                    )?)
                })
                .collect()
        })
        .await?)
}

/// Signs one access token per viewer into a file, one a line (the file is the bench's own, in
/// its data dir; tokens are never printed).
fn write_tokens(
    target: &Target,
    viewer_ids: &[String],
    dir: &std::path::Path,
) -> anyhow::Result<PathBuf> {
    let tokens = AccessTokens::new(&target.secrets.session_key, &target.settings.public_url());
    let now = crate::db::now();
    let lines: Vec<String> = viewer_ids
        .iter()
        .map(|user_id| tokens.issue(user_id, now).0)
        .collect();
    let file = dir.join("tokens.txt");
    std::fs::write(&file, lines.join("\n") + "\n")?;
    Ok(file)
}

/// Which backend holds each gateway: system id → backend name, from the database.
async fn held_by(database: &Database) -> anyhow::Result<HashMap<String, String>> {
    Ok(database
        .run(|connection| {
            let names: HashMap<String, String> = cluster_backends::table
                .select((cluster_backends::id, cluster_backends::name))
                .load::<(String, String)>(connection)?
                .into_iter()
                .collect();
            let held: Vec<(String, Option<String>)> = systems::table
                .filter(systems::gateway_backend.is_not_null())
                .select((systems::id, systems::gateway_backend))
                .load(connection)?;
            Ok(held
                .into_iter()
                .filter_map(|(system, backend)| {
                    let backend = backend?;
                    let name = names.get(&backend).cloned().unwrap_or(backend);
                    Some((system, name))
                })
                .collect())
        })
        .await?)
}

/// Waits until the database shows `count` gateways held; returns who holds which.
async fn wait_held(
    database: &Database,
    workers: &mut Workers,
    args: &ClusterArgs,
    count: usize,
) -> anyhow::Result<HashMap<String, String>> {
    let deadline = Instant::now() + timeout(args) + Duration::from_secs_f64(args.interval_seconds);
    loop {
        workers.pump(Duration::from_millis(500)).await;
        let held = held_by(database).await?;
        if held.len() >= count {
            return Ok(held);
        }
        if Instant::now() > deadline {
            let [connected, connections, failures, _] = workers.tally.gateways;
            anyhow::bail!(
                "{} of {count} gateways held after the timeout (gateway process: {connected} connected, {connections} connections, {failures} failures)",
                held.len()
            );
        }
    }
}

/// Where everything landed: per backend, gateways held and viewers.
struct Layout {
    /// Backend names in the order given, with their processes.
    backends: Vec<NamedProcess>,
    gateways: BTreeMap<String, usize>,
    viewers: BTreeMap<String, usize>,
    probes: BTreeMap<String, usize>,
}

impl Layout {
    fn new(
        args: &ClusterArgs,
        held: &HashMap<String, String>,
        viewer_backend: &[Option<String>],
        probe_backends: &[String],
    ) -> Self {
        let mut gateways = BTreeMap::new();
        for name in held.values() {
            *gateways.entry(name.clone()).or_insert(0) += 1;
        }
        let mut viewers = BTreeMap::new();
        for name in viewer_backend.iter().flatten() {
            *viewers.entry(name.clone()).or_insert(0) += 1;
        }
        let mut probes = BTreeMap::new();
        for name in probe_backends {
            *probes.entry(name.clone()).or_insert(0) += 1;
        }
        Self {
            backends: args.backends.clone(),
            gateways,
            viewers,
            probes,
        }
    }

    fn count(map: &BTreeMap<String, usize>, name: &str) -> usize {
        map.get(name).copied().unwrap_or(0)
    }

    /// Backend names seen in the data that were not given with `--backend` (a mistake in the
    /// script, or a stray backend on the database).
    fn strangers(&self) -> Vec<&str> {
        let known = |name: &str| self.backends.iter().any(|b| b.name == name);
        let mut names: Vec<&str> = self
            .gateways
            .keys()
            .chain(self.viewers.keys())
            .map(String::as_str)
            .filter(|name| !known(name))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    fn print(&self, args: &ClusterArgs, steady: &Steady) {
        println!(
            "{} in cluster mode behind nginx; per backend over the {:.0} s window (heartbeats/s: the gateways it holds ÷ {:.0} s; the client sent {:.0}/s in all):",
            args.label,
            steady.seconds,
            args.interval_seconds,
            steady.heartbeats_per_second,
        );
        for backend in &self.backends {
            let held = Self::count(&self.gateways, &backend.name);
            let usage = steady.usage.get(&backend.name);
            println!(
                "  {}: {held} gateways held (probes among them: {}), {} viewers, ≈{:.0} heartbeats/s, {}",
                backend.name,
                Self::count(&self.probes, &backend.name),
                Self::count(&self.viewers, &backend.name),
                held as f64 / args.interval_seconds.max(0.05),
                usage.map_or_else(|| "CPU and memory not measured".into(), Usage::text),
            );
        }
        for (name, usage) in &steady.usage {
            if !self.backends.iter().any(|b| &b.name == name) {
                println!("  {name}: {}", usage.text());
            }
        }
        println!("  bench client: {}", steady.client.text());
        let strangers = self.strangers();
        if !strangers.is_empty() {
            println!(
                "  WARNING: backends not given with --backend hold gateways or streams: {}",
                strangers.join(", ")
            );
        }
    }
}

/// CPU and memory of one process or a group of them.
#[derive(Debug, Clone, Default)]
struct Usage {
    processes: usize,
    /// Percent of one core over the window (None when a process ended).
    cpu: Option<f64>,
    rss_mib: f64,
    peak_mib: f64,
    /// Per member, for the client: name and percent.
    parts: Vec<(String, f64)>,
}

impl Usage {
    fn text(&self) -> String {
        let cpu = self.cpu.map_or_else(
            || "CPU not measured".into(),
            |cpu| format!("CPU {cpu:.1} %"),
        );
        let processes = if self.processes > 1 {
            format!(" ({} processes)", self.processes)
        } else {
            String::new()
        };
        let parts = if self.parts.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self
                .parts
                .iter()
                .map(|(name, cpu)| format!("{name} {cpu:.1} %"))
                .collect();
            format!(" [{}]", parts.join(", "))
        };
        format!(
            "{cpu} of one core{parts}, RSS {:.0} MiB (peak {:.0} MiB){processes}",
            self.rss_mib, self.peak_mib
        )
    }
}

/// CPU counters of named processes at the start of a window.
struct CpuStart {
    at: Instant,
    cpu: Vec<(NamedProcess, Option<f64>)>,
}

impl CpuStart {
    fn now(processes: &[NamedProcess]) -> Self {
        Self {
            at: Instant::now(),
            cpu: processes
                .iter()
                .map(|process| (process.clone(), cpu_seconds(process.pid)))
                .collect(),
        }
    }

    /// Usage per name since the start, members summed.
    fn usage(&self) -> BTreeMap<String, Usage> {
        let seconds = self.at.elapsed().as_secs_f64().max(1e-3);
        let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
        for (process, before) in &self.cpu {
            let spent = match (before, cpu_seconds(process.pid)) {
                (Some(before), Some(after)) => Some((after - before) / seconds * 100.0),
                _ => None,
            };
            let entry = usage.entry(process.name.clone()).or_default();
            entry.processes += 1;
            entry.cpu = match (entry.processes, entry.cpu, spent) {
                (1, _, spent) => spent,
                (_, Some(sum), Some(spent)) => Some(sum + spent),
                _ => None,
            };
            entry.rss_mib += rss_mib(process.pid).unwrap_or(0.0);
            entry.peak_mib += peak_rss_mib(process.pid).unwrap_or(0.0);
        }
        usage
    }
}

/// What the steady window measured.
struct Steady {
    seconds: f64,
    /// Heartbeats the gateway process sent per second (client side).
    heartbeats_per_second: f64,
    /// Per backend and other process.
    usage: BTreeMap<String, Usage>,
    /// The bench's own processes together.
    client: Usage,
}

/// The bench's own processes (coordinator and workers), named.
fn client_processes(workers: &Workers) -> Vec<NamedProcess> {
    workers
        .processes()
        .into_iter()
        .map(|(name, pid)| NamedProcess { name, pid })
        .collect()
}

/// Usage of all the client's processes as one, with each one's CPU listed.
fn client_usage(start: &CpuStart) -> Usage {
    let mut total = Usage::default();
    for (name, usage) in start.usage() {
        total.processes += usage.processes;
        total.cpu = Some(total.cpu.unwrap_or(0.0) + usage.cpu.unwrap_or(0.0));
        total.rss_mib += usage.rss_mib;
        total.peak_mib += usage.peak_mib;
        total.parts.push((name, usage.cpu.unwrap_or(f64::NAN)));
    }
    total
}

/// The steady window: gateways heartbeating, viewers connected, nothing changing.
async fn measure_window(workers: &mut Workers, args: &ClusterArgs) -> Steady {
    let servers: Vec<NamedProcess> = args
        .backends
        .iter()
        .chain(&args.processes)
        .cloned()
        .collect();
    workers.drain();
    let heartbeats_before = workers.tally.gateways[3];
    let server_start = CpuStart::now(&servers);
    let client_start = CpuStart::now(&client_processes(workers));
    workers
        .pump(Duration::from_secs(args.window_seconds.max(1)))
        .await;
    workers.drain();
    let seconds = server_start.at.elapsed().as_secs_f64();
    let heartbeats = workers.tally.gateways[3].saturating_sub(heartbeats_before);
    Steady {
        seconds,
        heartbeats_per_second: heartbeats as f64 / seconds.max(1e-3),
        usage: server_start.usage(),
        client: client_usage(&client_start),
    }
}

/// The delays of the timed changes.
struct Delays {
    /// Milliseconds, on the stream's backend = the probe's backend.
    same: Vec<f64>,
    /// Milliseconds, on another backend.
    other: Vec<f64>,
    missed: usize,
    /// Per backend and other process, during the changes.
    usage: BTreeMap<String, Usage>,
    client: Usage,
}

impl Delays {
    fn all(&self) -> Vec<f64> {
        let mut all: Vec<f64> = self.same.iter().chain(&self.other).copied().collect();
        all.sort_by(f64::total_cmp);
        all
    }

    fn figures(sorted: &[f64]) -> String {
        if sorted.is_empty() {
            return "none".into();
        }
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} deliveries)",
            percentile(sorted, 0.5),
            percentile(sorted, 0.99),
            sorted.last().copied().unwrap_or(f64::NAN),
            sorted.len()
        )
    }

    fn print(&self, args: &ClusterArgs) {
        println!(
            "{}: heartbeat → {} viewers' streams, {} changes over {} probes{}:",
            args.label,
            args.viewers,
            args.changes,
            args.probes,
            if self.missed > 0 {
                format!(", {} deliveries MISSED within 10 s", self.missed)
            } else {
                String::new()
            }
        );
        println!(
            "  all streams:                      {}",
            Self::figures(&self.all())
        );
        println!(
            "  on the gateway's backend:         {}",
            Self::figures(&self.same)
        );
        println!(
            "  on another backend (across NATS): {}",
            if args.backends.len() < 2 {
                "none (one backend)".into()
            } else {
                Self::figures(&self.other)
            }
        );
        let usage: Vec<String> = self
            .usage
            .iter()
            .map(|(name, usage)| {
                format!(
                    "{name} {}",
                    usage
                        .cpu
                        .map_or_else(|| "not measured".into(), |cpu| format!("{cpu:.1} %"))
                )
            })
            .collect();
        println!(
            "  CPU during the changes (% of one core): {}; bench client {}",
            usage.join(", "),
            self.client.text()
        );
    }
}

/// Flips the probes in turn `args.changes` times, 0.3–0.7 s apart (off the beat of the
/// heartbeats and the backends' 1 s tick), and times each change to every viewer.
async fn time_changes(
    workers: &mut Workers,
    args: &ClusterArgs,
    probes: &mut [Probe],
    probe_backends: &[String],
) -> anyhow::Result<Delays> {
    let servers: Vec<NamedProcess> = args
        .backends
        .iter()
        .chain(&args.processes)
        .cloned()
        .collect();
    let server_start = CpuStart::now(&servers);
    let client_start = CpuStart::now(&client_processes(workers));
    let mut delays = Delays {
        same: Vec::new(),
        other: Vec::new(),
        missed: 0,
        usage: BTreeMap::new(),
        client: Usage::default(),
    };
    let mut responding = vec![true; probes.len()];
    for change in 0..args.changes {
        let index = change % probes.len();
        let Some(probe) = probes.get_mut(index) else {
            break;
        };
        responding[index] = !responding[index];
        let state = if responding[index] {
            ConnectionState::Connected
        } else {
            ConnectionState::DmsNotResponding
        };
        let pause = rand::rng().random_range(300..700);
        workers.pump(Duration::from_millis(pause)).await;
        workers.tally.await_probe(index, state_code(state));
        let sent = probe.heartbeat(responding[index]).await?;
        workers
            .until(CHANGE_TIMEOUT, |tally| {
                tally.probe_at.iter().all(Option::is_some)
            })
            .await;
        let home = probe_backends.get(index).map(String::as_str);
        for (at, backend) in workers
            .tally
            .probe_at
            .iter()
            .zip(&workers.tally.viewer_backend)
        {
            let Some(at) = at else {
                delays.missed += 1;
                continue;
            };
            let delay = (at - sent) as f64 / 1000.0;
            if backend.as_deref() == home {
                delays.same.push(delay);
            } else {
                delays.other.push(delay);
            }
        }
    }
    delays.same.sort_by(f64::total_cmp);
    delays.other.sort_by(f64::total_cmp);
    delays.usage = server_start.usage();
    delays.client = client_usage(&client_start);
    Ok(delays)
}

/// One line for the comparison the script prints after every configuration ran.
fn summary(args: &ClusterArgs, layout: &Layout, steady: &Steady, delays: &Delays) -> String {
    let per_backend: Vec<String> = layout
        .backends
        .iter()
        .map(|backend| {
            let usage = steady.usage.get(&backend.name);
            format!(
                "{} {} gw {} CPU {:.0} MiB",
                backend.name,
                Layout::count(&layout.gateways, &backend.name),
                usage
                    .and_then(|u| u.cpu)
                    .map_or_else(|| "?".into(), |cpu| format!("{cpu:.1} %")),
                usage.map_or(0.0, |u| u.rss_mib)
            )
        })
        .collect();
    let backend_cpu: f64 = layout
        .backends
        .iter()
        .filter_map(|b| steady.usage.get(&b.name)?.cpu)
        .sum();
    let all = delays.all();
    let other = if layout.backends.len() < 2 {
        "n/a".to_owned()
    } else if delays.other.is_empty() {
        "none".to_owned()
    } else {
        format!(
            "p50 {:.1} / p99 {:.1} ms",
            percentile(&delays.other, 0.5),
            percentile(&delays.other, 0.99)
        )
    };
    format!(
        "{}: {:.0} heartbeats/s; backends' CPU {backend_cpu:.1} % in all ({}); client CPU {:.1} %; change → all viewers p50 {:.1} / p99 {:.1} ms, across backends {other}{}",
        args.label,
        steady.heartbeats_per_second,
        per_backend.join("; "),
        steady.client.cpu.unwrap_or(f64::NAN),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        if delays.missed > 0 {
            format!(", {} missed", delays.missed)
        } else {
            String::new()
        }
    )
}

fn append_summary(file: &std::path::Path, line: &str) -> anyhow::Result<()> {
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("cannot open {}", file.display()))?;
    writeln!(out, "{line}")?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Probes: gateways the coordinator plays itself, to know when a changing heartbeat left.

/// A heartbeat to send, and where to say when it left (µs since the epoch).
type ProbeCommand = (bool, oneshot::Sender<anyhow::Result<i64>>);

/// One probe DMS's gateway socket through nginx, run by a task of its own that also repeats
/// the last heartbeat every interval (a silent gateway would be closed) and reads what the
/// backend sends.
struct Probe {
    commands: mpsc::Sender<ProbeCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl Probe {
    /// Opens the socket and sends a first heartbeat (responding).
    async fn open(
        url: &str,
        credentials: &DmsCredentials,
        interval_seconds: f64,
    ) -> anyhow::Result<Self> {
        let mut request = super::gateway_ws_url(url).into_client_request()?;
        request.headers_mut().insert(
            "Authorization",
            format!("Bearer {}", credentials.token).parse()?,
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("the probe's gateway socket did not open")?;
        let (commands, receiver) = mpsc::channel(1);
        let interval = Duration::from_secs_f64(interval_seconds.max(0.05));
        let task = tokio::spawn(probe_task(socket, receiver, interval));
        let mut probe = Self { commands, task };
        probe.heartbeat(true).await?;
        Ok(probe)
    }

    /// Sends a heartbeat; returns when it left (wall clock, µs).
    async fn heartbeat(&mut self, dms_responding: bool) -> anyhow::Result<i64> {
        let (reply, sent) = oneshot::channel();
        self.commands
            .send((dms_responding, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the probe's socket closed"))?;
        sent.await
            .map_err(|_| anyhow::anyhow!("the probe's socket closed"))?
    }

    /// Closes the socket.
    async fn close(self) {
        drop(self.commands);
        let _ = self.task.await;
    }
}

async fn probe_task(
    mut socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    mut commands: mpsc::Receiver<ProbeCommand>,
    interval: Duration,
) {
    let mut responding = true;
    let mut repeat = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some((dms_responding, reply)) = command else { break };
                responding = dms_responding;
                let _ = reply.send(send_heartbeat(&mut socket, responding).await);
                repeat.reset();
            }
            _ = repeat.tick() => {
                if let Err(error) = send_heartbeat(&mut socket, responding).await {
                    tracing::warn!(%error, "the probe's repeated heartbeat failed");
                    return;
                }
            }
            message = socket.next() => match message {
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::warn!(%error, "the probe's socket failed");
                    return;
                }
                None => return,
            },
        }
    }
    let _ = socket.close(None).await;
}

async fn send_heartbeat(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    dms_responding: bool,
) -> anyhow::Result<i64> {
    let heartbeat = Heartbeat {
        dms_responding,
        dms_version: "bench-probe".into(),
        agent_count: 1,
        timestamp: crate::db::now(),
    };
    let text = serde_json::to_string(&heartbeat)?;
    let sent = now_micros();
    socket.send(Message::text(text)).await?;
    Ok(sent)
}

// ---------------------------------------------------------------------------------------------
// Workers: processes of this binary, and what they report on stdout.

/// One line a worker reported.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    /// The viewer's stream (again) landed on this backend.
    Backend { viewer: usize, name: String },
    /// The viewer applied its first snapshot.
    Ready(usize),
    /// The viewer saw probe `probe` change to `state` at `at` (µs since the epoch).
    Probe {
        viewer: usize,
        probe: usize,
        state: u8,
        at: i64,
    },
    /// The viewer's stream ended (it opens another).
    Lost(usize),
    /// The gateway process's DMSs connected once, connections, failures and heartbeats.
    Gateways([u64; 4]),
}

/// Reads a worker's line.
fn parse_report(line: &str) -> Option<Report> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |n: usize| -> Option<i64> { words.get(n)?.parse().ok() };
    let index = |n: usize| -> Option<usize> { words.get(n)?.parse().ok() };
    Some(match *words.first()? {
        "backend" => Report::Backend {
            viewer: index(1)?,
            name: (*words.get(2)?).to_owned(),
        },
        "ready" => Report::Ready(index(1)?),
        "lost" => Report::Lost(index(1)?),
        "probe" => Report::Probe {
            viewer: index(1)?,
            probe: index(2)?,
            state: u8::try_from(number(3)?).ok()?,
            at: number(4)?,
        },
        "gstats" => {
            let mut counts = [0; 4];
            for (n, count) in counts.iter_mut().enumerate() {
                *count = words.get(n + 1)?.parse().ok()?;
            }
            Report::Gateways(counts)
        }
        _ => return None,
    })
}

/// What the workers have reported so far.
struct Tally {
    /// Which backend each viewer's stream is on.
    viewer_backend: Vec<Option<String>>,
    ready: Vec<bool>,
    /// The probe and state awaited, since [`Tally::await_probe`].
    awaited: Option<(usize, u8)>,
    /// When each viewer saw the awaited probe state.
    probe_at: Vec<Option<i64>>,
    lost: u64,
    gateways: [u64; 4],
}

impl Tally {
    fn new(viewers: usize) -> Self {
        Self {
            viewer_backend: vec![None; viewers],
            ready: vec![false; viewers],
            awaited: None,
            probe_at: vec![None; viewers],
            lost: 0,
            gateways: [0; 4],
        }
    }

    /// Forgets when a probe was seen and waits for probe `probe` to reach `state`.
    fn await_probe(&mut self, probe: usize, state: u8) {
        self.awaited = Some((probe, state));
        self.probe_at.fill(None);
    }

    fn apply(&mut self, report: Report) {
        match report {
            Report::Backend { viewer, name } => {
                if let Some(slot) = self.viewer_backend.get_mut(viewer) {
                    *slot = Some(name);
                }
            }
            Report::Ready(viewer) => {
                if let Some(slot) = self.ready.get_mut(viewer) {
                    *slot = true;
                }
            }
            Report::Probe {
                viewer,
                probe,
                state,
                at,
            } => {
                if self.awaited == Some((probe, state)) {
                    if let Some(slot) = self.probe_at.get_mut(viewer) {
                        slot.get_or_insert(at);
                    }
                }
            }
            Report::Lost(_) => self.lost += 1,
            Report::Gateways(counts) => self.gateways = counts,
        }
    }
}

/// The worker processes and their reports.
struct Workers {
    reports: mpsc::UnboundedReceiver<Report>,
    sender: mpsc::UnboundedSender<Report>,
    tally: Tally,
    children: Vec<(String, Child)>,
}

impl Workers {
    fn new(tally: Tally) -> Self {
        let (sender, reports) = mpsc::unbounded_channel();
        Self {
            reports,
            sender,
            tally,
            children: Vec::new(),
        }
    }

    /// Starts `stratus bench <args…>` as worker `name`.
    fn start(&mut self, name: &str, args: &[String]) -> anyhow::Result<()> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("bench")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {name} process"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(report) = parse_report(&line) {
                    let _ = sender.send(report);
                }
            }
        });
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// The coordinator and the running workers: names and process ids.
    fn processes(&self) -> Vec<(String, u32)> {
        let mut processes = vec![("coordinator".to_owned(), std::process::id())];
        processes.extend(
            self.children
                .iter()
                .filter_map(|(name, child)| Some((name.clone(), child.id()?))),
        );
        processes
    }

    /// Applies reports until `done` holds or `timeout` passes; false on the timeout.
    async fn until(&mut self, timeout: Duration, done: impl Fn(&Tally) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.tally) {
                return true;
            }
            tokio::select! {
                report = self.reports.recv() => match report {
                    Some(report) => self.tally.apply(report),
                    None => return false,
                },
                () = tokio::time::sleep_until(deadline) => return done(&self.tally),
            }
        }
    }

    /// Applies reports for `duration`.
    async fn pump(&mut self, duration: Duration) {
        self.until(duration, |_| false).await;
    }

    /// Applies the reports that arrived so far.
    fn drain(&mut self) {
        while let Ok(report) = self.reports.try_recv() {
            self.tally.apply(report);
        }
    }

    /// Kills every worker and waits for them.
    async fn stop_all(&mut self) {
        for (_, mut child) in self.children.drain(..) {
            let _ = child.kill().await;
        }
    }
}

/// Worker arguments: the subcommand, then `--name value` pairs.
fn arguments(command: &str, pairs: &[(&str, String)]) -> Vec<String> {
    let mut args = vec![command.to_owned()];
    for (name, value) in pairs {
        args.push(format!("--{name}"));
        args.push(value.clone());
    }
    args
}

// ---------------------------------------------------------------------------------------------
// The viewers' process.

/// The fields of a [`stratus_shared::api::live::SystemStateEvent`] a viewer needs, borrowed.
#[derive(Deserialize)]
struct StateRef<'a> {
    #[serde(borrow)]
    system_id: std::borrow::Cow<'a, str>,
    state: ConnectionState,
}

/// [`stratus_shared::api::live::Snapshot`], borrowed.
#[derive(Deserialize)]
struct SnapshotRef<'a> {
    #[serde(borrow)]
    systems: Vec<StateRef<'a>>,
}

/// [`stratus_shared::api::live::StateChanges`], borrowed (removals do not concern probes).
#[derive(Deserialize)]
struct ChangesRef<'a> {
    #[serde(borrow, default)]
    states: Vec<StateRef<'a>>,
}

/// Plays `args.count` viewers until the process is stopped. Lines written: `backend V NAME`
/// (the stream's `X-Stratus-Backend`), `ready V` (first snapshot applied), `probe V P STATE
/// MICROS` (probe P's state changed, read at MICROS), `lost V` (the stream ended).
pub async fn run_viewers(args: ViewersArgs) -> anyhow::Result<()> {
    let probes = std::fs::read_to_string(&args.probes_file)
        .with_context(|| format!("cannot read {}", args.probes_file.display()))?;
    let probes: HashMap<String, usize> = probes
        .lines()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .enumerate()
        .map(|(n, id)| (id.to_owned(), n))
        .collect();
    let tokens = std::fs::read_to_string(&args.tokens_file)
        .with_context(|| format!("cannot read {}", args.tokens_file.display()))?;
    let tokens: Vec<String> = tokens
        .lines()
        .skip(args.first)
        .take(args.count)
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(tokens.len() == args.count, "not enough tokens in the file");
    let (out, lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || write_lines(lines));
    let probes = std::sync::Arc::new(probes);
    let http = reqwest::Client::new();
    let opening = std::sync::Arc::new(Semaphore::new(args.opening.max(1)));
    let url = format!("{}/api/live", args.url.trim_end_matches('/'));
    let mut tasks = Vec::with_capacity(tokens.len());
    for (offset, token) in tokens.into_iter().enumerate() {
        let viewer = Viewer {
            number: args.first + offset,
            token,
            url: url.clone(),
            http: http.clone(),
            probes: probes.clone(),
            out: out.clone(),
        };
        tasks.push(tokio::spawn(viewer.watch(opening.clone())));
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

/// Writes the viewers' lines to stdout, flushing whenever none is waiting.
fn write_lines(mut lines: mpsc::UnboundedReceiver<String>) {
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    while let Some(line) = lines.blocking_recv() {
        if writeln!(stdout, "{line}").is_err() {
            return;
        }
        if lines.is_empty() && stdout.flush().is_err() {
            return;
        }
    }
}

/// One person watching the live stream through nginx.
struct Viewer {
    number: usize,
    token: String,
    url: String,
    http: reqwest::Client,
    probes: std::sync::Arc<HashMap<String, usize>>,
    out: mpsc::UnboundedSender<String>,
}

/// A probe's state before a viewer saw any.
const UNSEEN: u8 = u8::MAX;

impl Viewer {
    /// Follows the stream, opening it again (after a second) whenever it ends.
    async fn watch(self, opening: std::sync::Arc<Semaphore>) {
        let mut states = vec![UNSEEN; self.probes.len()];
        let mut ready = false;
        loop {
            let Ok(permit) = opening.clone().acquire_owned().await else {
                return;
            };
            match self
                .http
                .get(&self.url)
                .bearer_auth(&self.token)
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => {
                    let backend = backend_name(response.headers());
                    self.tell(format!("backend {} {backend}", self.number));
                    self.follow(response, &mut states, &mut ready, permit).await;
                }
                Ok(response) => tracing::warn!(status = %response.status(), "live stream refused"),
                Err(error) => tracing::warn!(%error, "cannot open the live stream"),
            }
            self.tell(format!("lost {}", self.number));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    fn tell(&self, line: String) {
        let _ = self.out.send(line);
    }

    /// Reads frames until the stream ends; `permit` is given back after the first snapshot.
    async fn follow(
        &self,
        mut response: reqwest::Response,
        states: &mut [u8],
        ready: &mut bool,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) {
        let mut permit = Some(permit);
        let mut buffer = FrameBuffer::default();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = now_micros();
            buffer.push(&chunk);
            let mut snapshot = false;
            buffer.frames(|frame| {
                let Some((event, data)) = parse_frame(frame) else {
                    return;
                };
                snapshot |= event == "snapshot";
                for (probe, code) in probe_states(&event, &data, &self.probes) {
                    if let Some(slot) = states.get_mut(probe) {
                        if *slot != code {
                            *slot = code;
                            self.tell(format!("probe {} {probe} {code} {at}", self.number));
                        }
                    }
                }
            });
            if snapshot {
                permit = None;
                if !std::mem::replace(ready, true) {
                    self.tell(format!("ready {}", self.number));
                }
            }
        }
        drop(permit);
    }
}

/// The `X-Stratus-Backend` header as one word ("unnamed" when missing or empty).
fn backend_name(headers: &reqwest::header::HeaderMap) -> String {
    let name: String = headers
        .get("x-stratus-backend")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_");
    if name.is_empty() {
        "unnamed".into()
    } else {
        name
    }
}

/// The probes' states an event carries: (probe number, [`state_code`]).
fn probe_states(event: &str, data: &str, probes: &HashMap<String, usize>) -> Vec<(usize, u8)> {
    let pick = |systems: &[StateRef]| -> Vec<(usize, u8)> {
        systems
            .iter()
            .filter_map(|system| {
                let probe = probes.get(system.system_id.as_ref())?;
                Some((*probe, state_code(system.state)))
            })
            .collect()
    };
    match event {
        "snapshot" => serde_json::from_str::<SnapshotRef>(data)
            .map(|snapshot| pick(&snapshot.systems))
            .unwrap_or_default(),
        "changes" => serde_json::from_str::<ChangesRef>(data)
            .map(|changes| pick(&changes.states))
            .unwrap_or_default(),
        "state" => serde_json::from_str::<StateRef>(data)
            .map(|system| pick(std::slice::from_ref(&system)))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The event name and data of an SSE frame (`data:` lines joined by newlines); `None` for a
/// comment or a frame without data.
fn parse_frame(frame: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(frame).ok()?;
    let mut event = "message";
    let mut data: Option<String> = None;
    for line in text.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = value,
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Some((event.to_owned(), data?))
}

/// Bytes of the stream not yet cut into frames; each byte is scanned once for the blank line
/// that ends a frame.
#[derive(Default)]
struct FrameBuffer {
    bytes: Vec<u8>,
    /// Bytes already scanned without finding a frame's end.
    scanned: usize,
}

impl FrameBuffer {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
    }

    /// Hands every complete frame (without its blank line) to `handle`.
    fn frames(&mut self, mut handle: impl FnMut(&[u8])) {
        let mut start = 0;
        // A frame ends at "\n\n": look from one byte before what was scanned.
        let mut at = self.scanned.saturating_sub(1).max(start);
        while let Some(offset) = self
            .bytes
            .get(at..)
            .and_then(|rest| rest.windows(2).position(|pair| pair == b"\n\n"))
        {
            let end = at + offset;
            handle(&self.bytes[start..end]);
            start = end + 2;
            at = start;
        }
        self.bytes.drain(..start);
        self.scanned = self.bytes.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_processes_are_name_equals_pid() {
        assert_eq!(
            "backend-1=42".parse(),
            Ok(NamedProcess {
                name: "backend-1".into(),
                pid: 42
            })
        );
        assert!("backend-1".parse::<NamedProcess>().is_err());
        assert!("=42".parse::<NamedProcess>().is_err());
        assert!("nginx=x".parse::<NamedProcess>().is_err());
    }

    #[test]
    fn reads_what_the_workers_print() {
        assert_eq!(
            parse_report("backend 7 backend-2"),
            Some(Report::Backend {
                viewer: 7,
                name: "backend-2".into()
            })
        );
        assert_eq!(
            parse_report("probe 3 1 0 1700000000000000"),
            Some(Report::Probe {
                viewer: 3,
                probe: 1,
                state: 0,
                at: 1_700_000_000_000_000
            })
        );
        assert_eq!(
            parse_report("gstats 1 2 3 4"),
            Some(Report::Gateways([1, 2, 3, 4]))
        );
        assert_eq!(parse_report("gstats 1 2 3"), None);
        assert_eq!(parse_report("probe 3 x 0 1"), None);
        assert_eq!(parse_report("vstats 1 2 3 4"), None);
        assert_eq!(parse_report(""), None);
    }

    #[test]
    fn the_tally_keeps_the_first_sighting_of_the_awaited_probe_state() {
        let mut tally = Tally::new(2);
        tally.await_probe(1, 0);
        let probe = |viewer, probe, state, at| Report::Probe {
            viewer,
            probe,
            state,
            at,
        };
        tally.apply(probe(0, 0, 0, 5));
        tally.apply(probe(1, 1, 1, 6));
        assert_eq!(tally.probe_at, [None, None]);
        tally.apply(probe(1, 1, 0, 7));
        tally.apply(probe(1, 1, 0, 9));
        tally.apply(probe(5, 1, 0, 9));
        assert_eq!(tally.probe_at, [None, Some(7)]);
    }

    #[test]
    fn frames_are_cut_at_blank_lines_across_chunks() {
        let mut buffer = FrameBuffer::default();
        let mut frames = Vec::new();
        for chunk in [
            &b"event: snap"[..],
            b"shot\ndata: {}\n",
            b"\n: comment\n\nevent: changes\ndata: {\"states\":[]}\n\nevent: x",
        ] {
            buffer.push(chunk);
            buffer.frames(|frame| frames.push(String::from_utf8_lossy(frame).into_owned()));
        }
        assert_eq!(
            frames,
            [
                "event: snapshot\ndata: {}",
                ": comment",
                "event: changes\ndata: {\"states\":[]}"
            ]
        );
        assert_eq!(buffer.bytes, b"event: x");
    }

    #[test]
    fn probes_are_found_in_snapshots_changes_and_single_states() {
        let probes: HashMap<String, usize> = [("p0".to_owned(), 0), ("p1".to_owned(), 1)].into();
        let connected = state_code(ConnectionState::Connected);
        let not_responding = state_code(ConnectionState::DmsNotResponding);
        let snapshot = r#"{"systems":[{"system_id":"x","state":"connected"},{"system_id":"p1","state":"connected"}],"changed":false}"#;
        assert_eq!(
            probe_states("snapshot", snapshot, &probes),
            [(1, connected)]
        );
        let changes =
            r#"{"states":[{"system_id":"p0","state":"dms_not_responding"}],"removed":[]}"#;
        assert_eq!(
            probe_states("changes", changes, &probes),
            [(0, not_responding)]
        );
        let state = r#"{"system_id":"p0","state":"connected"}"#;
        assert_eq!(probe_states("state", state, &probes), [(0, connected)]);
        assert!(probe_states("changes", "not json", &probes).is_empty());
        assert!(probe_states("removed", state, &probes).is_empty());
        assert_eq!(
            parse_frame(b"event: state\ndata: a\ndata: b"),
            Some(("state".into(), "a\nb".into()))
        );
        assert_eq!(parse_frame(b": keep-alive"), None);
    }

    #[test]
    fn backend_names_are_one_word() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(backend_name(&headers), "unnamed");
        headers.insert("x-stratus-backend", "host 123".parse().unwrap());
        assert_eq!(backend_name(&headers), "host_123");
    }
}
