//! The gateways' process (`stratus bench fanout-gateways`): plays the DMSs of a credentials
//! file, always connected and responding, and prints `gstats CONNECTED CONNECTIONS FAILURES
//! HEARTBEATS` every second.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::simulator::{self, Options, SavedCredentials, Scenario, Stats};

/// The gateways one process plays.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewaysArgs {
    /// The server's base URL.
    #[arg(long)]
    pub url: String,
    /// The DMSs' credentials (`stratus simulate --credentials-file` format).
    #[arg(long)]
    pub credentials_file: PathBuf,
    /// Seconds between heartbeats of each gateway.
    #[arg(long, default_value_t = 10.0)]
    pub interval_seconds: f64,
    /// First connections are spread evenly over this many seconds; 0 connects all at once.
    #[arg(long, default_value_t = 0.0)]
    pub spread_seconds: f64,
}

/// Plays the gateways until the process is stopped.
pub async fn run(args: GatewaysArgs) -> anyhow::Result<()> {
    let saved = SavedCredentials::load(&args.credentials_file)?;
    anyhow::ensure!(!saved.dmss.is_empty(), "no DMS in the credentials file");
    let count = u32::try_from(saved.dmss.len()).unwrap_or(u32::MAX);
    let interval = Duration::from_secs_f64(args.interval_seconds.max(0.05));
    let options = Options {
        url: args.url.trim_end_matches('/').to_owned(),
        scenario: Scenario::Steady,
        interval: Some(interval),
        phase: interval,
        renew_before: chrono::TimeDelta::hours(1),
        http: reqwest::Client::new(),
        stagger: Duration::from_secs_f64(args.spread_seconds.max(0.0)) / count,
        // Several loopback source addresses: a storm right after the previous one's sockets
        // (in TIME_WAIT) must not run out of ports.
        source_addresses: (2..6)
            .map(|n| std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, n)))
            .collect(),
        web_app: false,
        names: Vec::new(),
    };
    let stats = Arc::new(Stats::default());
    for (index, credentials) in saved.dmss.into_iter().enumerate() {
        tokio::spawn(simulator::run_dms(
            index,
            credentials,
            options.clone(),
            stats.clone(),
            None,
        ));
    }
    let mut report = tokio::time::interval(Duration::from_secs(1));
    loop {
        report.tick().await;
        println!(
            "gstats {} {} {} {}",
            stats.connected_dmss.load(Ordering::Relaxed),
            stats.connections.load(Ordering::Relaxed),
            stats.failures.load(Ordering::Relaxed),
            stats.heartbeats.load(Ordering::Relaxed)
        );
    }
}
