//! `stratus bench overview`: a person with N DMSs, the list of DMSs (`GET /api/systems`) asked
//! for by `wrk` over many connections as a browser asks (gzip): requests per second, p50 and
//! p99, response size, and the server's and wrk's CPU side by side.

use std::time::Duration;

use anyhow::Context;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};

use super::setup::{self, waited_children_cpu_seconds};
use super::{bench_user, BENCH_EMAIL};
use crate::auth::tokens::{AccessTokens, ACCESS_TOKEN_TTL};
use crate::config::Settings;

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct OverviewArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// DMSs of the person whose list is read.
    #[arg(long, default_value_t = 1000)]
    pub dms: usize,
    /// Concurrent connections (clients) of wrk.
    #[arg(long, default_value_t = 64)]
    pub connections: u32,
    /// wrk's threads.
    #[arg(long, default_value_t = 2)]
    pub threads: u32,
    /// How long wrk runs.
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    /// The server's process id, to report its CPU and resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Printed with the figures, e.g. the database the server runs on.
    #[arg(long, default_value = "")]
    pub label: String,
}

/// What wrk reported.
#[derive(Debug, Default, PartialEq)]
struct WrkFigures {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    /// Non-2xx/3xx answers and socket errors: any makes the run worthless.
    errors: Vec<String>,
}

/// Prepares the person and their DMSs, runs wrk and prints the figures.
pub async fn run(settings: Settings, args: OverviewArgs) -> anyhow::Result<()> {
    let url = args.url.trim_end_matches('/').to_owned();
    let (database, secrets) = setup::open(&settings).await?;
    let user_id = bench_user(&database).await?;
    let names = (1..=args.dms)
        .map(|n| format!("Overview DMS {n:05}"))
        .collect();
    crate::demo::prepare(&database, "Overview", names, Some(BENCH_EMAIL.into())).await?;
    // Access tokens live 15 minutes: one is enough for a run of seconds, checked here.
    anyhow::ensure!(
        Duration::from_secs(args.seconds + 60) < ACCESS_TOKEN_TTL.to_std()?,
        "a run longer than the access token's lifetime needs fresh tokens"
    );
    let (token, _) = AccessTokens::new(&secrets.session_key, &settings.public_url())
        .issue(&user_id, crate::db::now());
    let list_url = format!("{url}/api/systems");
    let (listed, gzip_bytes, plain_bytes) = response_sizes(&list_url, &token).await?;
    anyhow::ensure!(
        listed >= args.dms,
        "the list holds {listed} DMSs, not the {} registered: does the server use the same database?",
        args.dms
    );
    println!(
        "overview{}: GET /api/systems lists {listed} DMSs, {gzip_bytes} bytes gzipped ({plain_bytes} bytes plain)",
        label(&args.label)
    );
    let server_before = args.server_pid.and_then(super::cpu_seconds);
    let wrk_before = waited_children_cpu_seconds();
    let output = run_wrk(&args, &list_url, &token).await?;
    let wrk_cpu = match (wrk_before, waited_children_cpu_seconds()) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    let server_cpu = match (server_before, args.server_pid.and_then(super::cpu_seconds)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    print!("{output}");
    let figures = parse_wrk(&output).context("cannot read wrk's report")?;
    print_figures(&args, &figures, server_cpu, wrk_cpu);
    Ok(())
}

fn label(label: &str) -> String {
    if label.is_empty() {
        String::new()
    } else {
        format!(" ({label})")
    }
}

/// How many DMSs the list holds, and its body's size with and without gzip.
async fn response_sizes(list_url: &str, token: &str) -> anyhow::Result<(usize, usize, usize)> {
    // This client has no gzip support of its own: the body comes as the server sent it.
    let http = reqwest::Client::new();
    let gzipped = http
        .get(list_url)
        .bearer_auth(token)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await?
        .error_for_status()?;
    let encoding = gzipped.headers().get(CONTENT_ENCODING).cloned();
    let gzip_bytes = gzipped.bytes().await?.len();
    if encoding.as_ref().and_then(|value| value.to_str().ok()) != Some("gzip") {
        println!("note: the server answered without gzip ({encoding:?})");
    }
    let plain = http
        .get(list_url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let listed: Vec<serde_json::Value> =
        serde_json::from_slice(&plain).context("GET /api/systems did not answer a list")?;
    Ok((listed.len(), gzip_bytes, plain.len()))
}

/// Runs wrk to its end and returns what it printed.
async fn run_wrk(args: &OverviewArgs, list_url: &str, token: &str) -> anyhow::Result<String> {
    let output = tokio::process::Command::new("wrk")
        .arg(format!("--threads={}", args.threads.max(1)))
        .arg(format!("--connections={}", args.connections.max(1)))
        .arg(format!("--duration={}s", args.seconds.max(1)))
        .arg("--latency")
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .arg("--header")
        .arg("Accept-Encoding: gzip")
        .arg(list_url)
        .kill_on_drop(true)
        .output()
        .await
        .context("cannot run wrk (apt-get install wrk)")?;
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn print_figures(
    args: &OverviewArgs,
    figures: &WrkFigures,
    server_cpu: Option<f64>,
    wrk_cpu: Option<f64>,
) {
    let seconds = args.seconds.max(1) as f64;
    let share = |cpu: Option<f64>| {
        cpu.map_or("not measured".to_owned(), |cpu| {
            format!("{:.0} % of one core", cpu / seconds * 100.0)
        })
    };
    let rss = args
        .server_pid
        .and_then(super::rss_mib)
        .map_or(String::new(), |rss| format!(", {rss:.0} MiB resident"));
    println!(
        "overview{}: {} DMSs, {} connections, {} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        label(&args.label),
        args.dms,
        args.connections,
        args.seconds,
        figures.requests_per_second,
        figures.p50_ms,
        figures.p99_ms,
        figures.requests,
    );
    println!(
        "overview{}: server {}{rss}; wrk {}",
        label(&args.label),
        share(server_cpu),
        share(wrk_cpu)
    );
    for error in &figures.errors {
        println!("overview{}: WARNING wrk saw {error}", label(&args.label));
    }
}

/// Reads wrk's `--latency` report.
fn parse_wrk(output: &str) -> Option<WrkFigures> {
    let mut figures = WrkFigures::default();
    for line in output.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(value)) => {
                figures.requests_per_second = value.parse().ok()?
            }
            (Some("50%"), Some(value)) => figures.p50_ms = milliseconds(value)?,
            (Some("99%"), Some(value)) => figures.p99_ms = milliseconds(value)?,
            (Some(count), Some("requests")) => figures.requests = count.parse().ok()?,
            _ if line.starts_with("Non-2xx") || line.starts_with("Socket errors") => {
                figures.errors.push(line.to_owned());
            }
            _ => {}
        }
    }
    (figures.requests > 0).then_some(figures)
}

/// wrk's durations: `950.00us`, `1.23ms`, `1.02s`, `2.00m`.
fn milliseconds(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some(number * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 15s test @ http://127.0.0.1:8080/api/systems
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   210.57ms   30.12ms   1.02s    90.00%
    Req/Sec   150.12     20.00   200.00     70.00%
  Latency Distribution
     50%  205.00ms
     75%  215.00ms
     90%  225.00ms
     99%    1.02s
  4500 requests in 15.01s, 120.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    299.80
Transfer/sec:      7.99MB
";

    #[test]
    fn reads_wrk_latency_reports() {
        let figures = parse_wrk(REPORT).unwrap();
        assert_eq!(figures.requests, 4500);
        assert_eq!(figures.requests_per_second, 299.8);
        assert_eq!(figures.p50_ms, 205.0);
        assert_eq!(figures.p99_ms, 1020.0);
        assert_eq!(figures.errors, ["Non-2xx or 3xx responses: 3"]);
        assert!(parse_wrk("wrk: command failed").is_none());
    }

    #[test]
    fn reads_wrk_durations() {
        assert!((milliseconds("950.00us").unwrap() - 0.95).abs() < 1e-9);
        assert_eq!(milliseconds("1.50ms"), Some(1.5));
        assert_eq!(milliseconds("2.00m"), Some(120_000.0));
        assert_eq!(milliseconds("fast"), None);
    }
}
