//! `stratus`: the Stratus server binary.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use stratus_backend::config::Settings;
use stratus_backend::db::Database;
use stratus_backend::simulator::{self, SavedCredentials, Scenario, Stats};
use stratus_backend::startup::Application;
use stratus_backend::telemetry;

/// Stratus: the cloud portal DataMiner Systems connect to.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML settings file; `STRATUS_*` environment variables override it.
    #[arg(long, env = "STRATUS_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal and its API (the default).
    Serve {
        /// Also create a "Demo" organization (every existing person becomes a member) with a
        /// handful of simulated DMSs that cycle through every state.
        #[arg(long)]
        demo: bool,
    },
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Play DMSs against a running server over the real gateway protocol.
    Simulate(SimulateArgs),
    /// Measure a running server (run beside it with the same settings; see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(stratus_backend::bench::BenchCommand),
    /// Make an account platform staff, or stop it being staff (never possible through the API).
    Staff {
        #[command(subcommand)]
        change: StaffChange,
    },
}

#[derive(Subcommand)]
enum StaffChange {
    /// Make the account with this email platform staff.
    Grant { email: String },
    /// Take platform staff away from the account with this email.
    Revoke { email: String },
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// A connect code to play a DMS with (repeat for several DMSs).
    #[arg(long = "connect-code")]
    connect_codes: Vec<String>,
    /// Register this many new DMSs directly in the configured database (same settings as
    /// `serve`, so run it beside the server) and play them.
    #[arg(long, default_value_t = 0)]
    register: usize,
    /// The organization `--register` puts DMSs in (created when missing).
    #[arg(long, default_value = "Simulated")]
    organization: String,
    /// With `--register`: the person (by email) who becomes the organization's Owner.
    #[arg(long)]
    owner_email: Option<String>,
    /// Keep credentials here: DMSs saved in it are played again without connect codes, and
    /// renewed credentials are written back.
    #[arg(long)]
    credentials_file: Option<PathBuf>,
    /// What the DMSs do.
    #[arg(long, value_enum, default_value = "random")]
    scenario: Scenario,
    /// Seconds between heartbeats (default: what the server says).
    #[arg(long)]
    interval_seconds: Option<f64>,
    /// Seconds per phase of the `cycle` scenario.
    #[arg(long, default_value_t = 30.0)]
    phase_seconds: f64,
    /// Print counters every this many seconds.
    #[arg(long, default_value_t = 10)]
    report_seconds: u64,
    /// Serve no web app through the remote-access tunnel (by default each DMS serves one
    /// when at most 100 are played: a page with its name, alarms, a form, a live counter,
    /// and the page where a DMS user enters a Stratus link code).
    #[arg(long)]
    no_web_app: bool,
    /// The names the web apps show, in order of the DMSs played (repeat; `--register` names
    /// its own).
    #[arg(long = "name")]
    names: Vec<String>,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Openapi => {
            println!(
                "{}",
                stratus_backend::routes::openapi_document().to_pretty_json()?
            );
            Ok(())
        }
        Command::Serve { demo } => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(settings.log_format);
            let application = Application::build(settings).await?;
            let public_url = application.public_url().to_owned();
            tracing::info!(
                url = %public_url,
                port = application.port(),
                "Stratus is running: open {public_url} in your browser"
            );
            if demo {
                start_demo(&application).await?;
            }
            application.run_until_stopped().await?;
            tracing::info!("Stratus stopped");
            Ok(())
        }
        Command::Staff { change } => {
            let settings = Settings::load(cli.config.as_deref())?;
            let (email, is_staff) = match change {
                StaffChange::Grant { email } => (email, true),
                StaffChange::Revoke { email } => (email, false),
            };
            let url = settings
                .database()
                .map_err(|error| anyhow::anyhow!("STRATUS_DATABASE_URL: {error}"))?;
            let database = stratus_backend::db::Database::connect(&url, 1)?;
            stratus_backend::domain::accounts::set_staff(&database, &email, is_staff).await?;
            println!(
                "{email} is {} platform staff",
                if is_staff { "now" } else { "no longer" }
            );
            Ok(())
        }
        Command::Bench(command) => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(settings.log_format);
            stratus_backend::bench::run(settings, command).await
        }
        Command::Simulate(args) => {
            let settings = Settings::load(cli.config.as_deref())?;
            telemetry::init(settings.log_format);
            simulate(settings, args).await
        }
    }
}

/// Registers the demo DMSs and plays them against this server, staggered so that every state
/// shows at once.
async fn start_demo(application: &Application) -> anyhow::Result<()> {
    let names = [
        "Demo Headend",
        "Demo Satellite Uplink",
        "Demo Broadcast Center",
        "Demo Edge Site",
        "Demo Lab",
        "Demo Disaster Recovery",
    ]
    .map(String::from)
    .to_vec();
    let systems =
        stratus_backend::demo::prepare(application.database(), "Demo", names, None).await?;
    stratus_backend::demo::seed_apps(application.database(), &systems).await?;
    let url = format!("http://127.0.0.1:{}", application.port());
    let options = simulator::Options {
        url: url.clone(),
        scenario: Scenario::Cycle,
        interval: Some(Duration::from_secs(5)),
        phase: Duration::from_secs(20),
        renew_before: chrono::TimeDelta::days(1),
        http: reqwest::Client::new(),
        stagger: Duration::ZERO,
        source_addresses: Vec::new(),
        // Each demo DMS serves its web app through the tunnel: "Open remotely" shows it.
        web_app: true,
        names: systems.iter().map(|system| system.name.clone()).collect(),
    };
    let stats = Arc::new(Stats::default());
    let http = options.http.clone();
    // The last demo DMS never connects, so that state shows too.
    let playing = systems.len().saturating_sub(1);
    for (index, system) in systems.into_iter().enumerate() {
        application.live().register(
            &system.system_id,
            &system.organization_id,
            stratus_backend::db::now(),
        );
        if index >= playing {
            continue;
        }
        let (options, stats, http) = (options.clone(), stats.clone(), http.clone());
        tokio::spawn(async move {
            match simulator::connect(&http, &options.url, &system.connect_code).await {
                Ok(credentials) => {
                    simulator::run_dms(index, credentials, options, stats, None).await;
                }
                Err(error) => tracing::warn!(%error, name = system.name, "demo DMS cannot connect"),
            }
        });
    }
    tracing::info!(
        "demo: {playing} simulated DMSs in the \"Demo\" organization cycle through every state"
    );
    Ok(())
}

async fn simulate(settings: Settings, args: SimulateArgs) -> anyhow::Result<()> {
    let url = args.url.trim_end_matches('/').to_owned();
    let mut connect_codes = args.connect_codes.clone();
    let mut registered_names = Vec::new();
    if args.register > 0 {
        let database_url = settings
            .database()
            .map_err(|error| anyhow::anyhow!("STRATUS_DATABASE_URL: {error}"))?;
        let pool_size = settings.database_pool_size;
        let database =
            actix_web::web::block(move || Database::connect(&database_url, pool_size)).await??;
        let names = (1..=args.register)
            .map(|n| format!("Simulated DMS {n:05}"))
            .collect();
        let systems = stratus_backend::demo::prepare(
            &database,
            &args.organization,
            names,
            args.owner_email.clone(),
        )
        .await?;
        registered_names = systems.iter().map(|system| system.name.clone()).collect();
        connect_codes.extend(systems.into_iter().map(|system| system.connect_code));
    }
    let mut saved = match &args.credentials_file {
        Some(path) => SavedCredentials::load(path)?,
        None => SavedCredentials::default(),
    };
    let http = reqwest::Client::new();
    for code in &connect_codes {
        saved
            .dmss
            .push(simulator::connect(&http, &url, code).await?);
    }
    anyhow::ensure!(
        !saved.dmss.is_empty(),
        "nothing to simulate: give --connect-code, --register N or a --credentials-file with DMSs"
    );
    if let Some(path) = &args.credentials_file {
        saved.save(path)?;
    }
    let options = simulator::Options {
        url,
        scenario: args.scenario,
        interval: args
            .interval_seconds
            .filter(|seconds| *seconds > 0.0)
            .map(Duration::from_secs_f64),
        phase: Duration::from_secs_f64(args.phase_seconds.max(0.1)),
        renew_before: chrono::TimeDelta::days(1),
        http,
        // Spread the first connections over one heartbeat interval (at most 10 s).
        stagger: Duration::from_secs(10)
            / u32::try_from(saved.dmss.len()).unwrap_or(u32::MAX).max(1),
        source_addresses: Vec::new(),
        web_app: !args.no_web_app && saved.dmss.len() <= 100,
        names: if registered_names.is_empty() {
            args.names.clone()
        } else {
            registered_names
        },
    };
    let stats = Arc::new(Stats::default());
    let (renewals, mut renewed) = tokio::sync::mpsc::unbounded_channel();
    let count = saved.dmss.len();
    for (index, credentials) in saved.dmss.iter().cloned().enumerate() {
        let (options, stats, renewals) = (options.clone(), stats.clone(), renewals.clone());
        tokio::spawn(simulator::run_dms(
            index,
            credentials,
            options,
            stats,
            Some(renewals),
        ));
    }
    drop(renewals);
    println!(
        "simulating {count} DMSs ({:?}); Ctrl+C stops",
        args.scenario
    );
    let mut report = tokio::time::interval(Duration::from_secs(args.report_seconds.max(1)));
    report.tick().await;
    let mut last_heartbeats = 0;
    loop {
        tokio::select! {
            _ = report.tick() => {
                let heartbeats = stats.heartbeats.load(Ordering::Relaxed);
                println!(
                    "heartbeats {heartbeats} (+{:.0}/s), connections {}, renewals {}, failures {}",
                    (heartbeats - last_heartbeats) as f64 / args.report_seconds.max(1) as f64,
                    stats.connections.load(Ordering::Relaxed),
                    stats.renewals.load(Ordering::Relaxed),
                    stats.failures.load(Ordering::Relaxed),
                );
                last_heartbeats = heartbeats;
            }
            Some((index, credentials)) = renewed.recv() => {
                if let (Some(path), Some(slot)) = (&args.credentials_file, saved.dmss.get_mut(index)) {
                    *slot = credentials;
                    if let Err(error) = saved.save(path) {
                        tracing::warn!(%error, "cannot save renewed credentials");
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => {
                println!("stopped");
                return Ok(());
            }
        }
    }
}
