//! Section `throughput`: heartbeats at full speed, as a ratio to a bare actix-web WebSocket
//! server (`ws-echo`, same actix-web and actix-ws) measured in the same run by the same client.
//! Each of C connections sends batches of K heartbeat frames then a Ping and waits for the
//! Pong: both servers handle a connection's frames in order, so the Pong proves the batch was
//! handled (not merely buffered). Frames are counted over a window after a warm-up.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use stratus_shared::api::gateway::{DmsCredentials, Heartbeat};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{CpuWindow, Target};
use crate::config::Settings;
use crate::simulator::{open_gateway_socket, GatewaySocket};

/// What `stratus bench throughput` measures.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The Stratus server's base URL (default: the settings' public URL).
    #[arg(long)]
    pub url: Option<String>,
    /// The Stratus server's process id, for its CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The echo server's base URL (`ws-echo`); its socket is at `/api/gateway/ws` too.
    #[arg(long)]
    pub echo_url: String,
    /// The echo server's process id, for its CPU.
    #[arg(long)]
    pub echo_pid: Option<u32>,
    /// Connections (C), each a DMS of its own.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Heartbeat frames per batch (K), each batch followed by a Ping.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Seconds measured per server (T).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Seconds of load before the window opens.
    #[arg(long, default_value_t = 2)]
    pub warmup_seconds: u64,
    /// How many times to measure both servers (echo then Stratus each time).
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Threads of the client's runtime.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
}

/// One server's figures over the window.
#[derive(Debug, Clone, Copy)]
struct Measured {
    frames_per_second: f64,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
}

/// Runs the section and prints its report.
pub async fn run(settings: Settings, args: Args) -> anyhow::Result<()> {
    let target = Target::open(settings, args.url.clone()).await?;
    let credentials =
        super::fleet::register(&target, "Benchmark throughput", args.connections.max(1)).await?;
    let stratus_ws = target.gateway_ws_url();
    let echo_ws = super::gateway_ws_url(&args.echo_url);
    println!(
        "{} connections, batches of {} heartbeats + Ping/Pong, {} s per server after {} s of warm-up, client on {} threads",
        args.connections, args.batch, args.seconds, args.warmup_seconds, args.client_threads
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done.send(runtime.block_on(compare(args, credentials, echo_ws, stratus_ws)));
    });
    result.await.context("the client runtime stopped")?
}

async fn compare(
    args: Args,
    credentials: Vec<DmsCredentials>,
    echo_ws: String,
    stratus_ws: String,
) -> anyhow::Result<()> {
    let mut ratios = Vec::new();
    for round in 1..=args.rounds.max(1) {
        let echo = measure(&args, &credentials, &echo_ws, args.echo_pid).await?;
        print_line(round, "ws-echo", &echo, &args);
        let stratus = measure(&args, &credentials, &stratus_ws, args.server_pid).await?;
        print_line(round, "stratus", &stratus, &args);
        let ratio = stratus.frames_per_second / echo.frames_per_second.max(f64::MIN_POSITIVE);
        println!("round {round}: stratus / ws-echo = {ratio:.2}× (target ≥ 0.5×)");
        ratios.push(ratio);
    }
    if ratios.len() > 1 {
        ratios.sort_by(f64::total_cmp);
        println!(
            "ratio over {} rounds: median {:.2}× (min {:.2}×, max {:.2}×)",
            ratios.len(),
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
    Ok(())
}

fn print_line(round: usize, name: &str, measured: &Measured, args: &Args) {
    println!(
        "round {round}: {name:<8} {:>9.0} frames/s  server CPU {}  client CPU {} (of {} % its threads could use)",
        measured.frames_per_second,
        super::percent_text(measured.server_cpu),
        super::percent_text(measured.client_cpu),
        args.client_threads.max(1) * 100
    );
}

/// Loads one server with every connection and counts handled frames over the window.
async fn measure(
    args: &Args,
    credentials: &[DmsCredentials],
    ws_url: &str,
    server_pid: Option<u32>,
) -> anyhow::Result<Measured> {
    let sockets = futures_util::future::try_join_all(
        credentials
            .iter()
            .take(args.connections.max(1))
            .map(|dms| open_gateway_socket(ws_url, &dms.token, None)),
    )
    .await
    .with_context(|| format!("cannot connect to {ws_url}"))?;
    let payload: Utf8Bytes = serde_json::to_string(&Heartbeat {
        dms_responding: true,
        dms_version: "10.5.0.0-16046".into(),
        agent_count: 2,
        timestamp: crate::db::now(),
    })?
    .into();
    let frames = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|socket| {
            let (payload, frames, stop) = (payload.clone(), frames.clone(), stop.clone());
            tokio::spawn(drive(socket, payload, args.batch.max(1), frames, stop))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.warmup_seconds)).await;
    let server_cpu = server_pid.map(|pid| CpuWindow::start(&[pid]));
    let client_cpu = CpuWindow::start(&[std::process::id()]);
    let (before, started) = (frames.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(args.seconds.max(1))).await;
    let counted = frames.load(Ordering::Relaxed) - before;
    let seconds = started.elapsed().as_secs_f64();
    let measured = Measured {
        frames_per_second: counted as f64 / seconds,
        server_cpu: server_cpu.and_then(|cpu| cpu.percent()),
        client_cpu: client_cpu.percent(),
    };
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await
            .context("a client connection panicked")?
            .context("a connection failed under load")?;
    }
    Ok(measured)
}

/// Sends batches on one connection until `stop`, counting the frames of every batch the
/// server confirmed with a Pong.
async fn drive(
    mut socket: GatewaySocket,
    payload: Utf8Bytes,
    batch: usize,
    frames: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..batch {
            socket.feed(Message::Text(payload.clone())).await?;
        }
        socket.feed(Message::Ping(Default::default())).await?;
        socket.flush().await?;
        loop {
            match socket.next().await {
                Some(Ok(Message::Pong(_))) => break,
                Some(Ok(Message::Close(frame))) => anyhow::bail!("closed by the server: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(error)) => return Err(error.into()),
                None => anyhow::bail!("the server went away"),
            }
        }
        frames.fetch_add(batch as u64, Ordering::Relaxed);
    }
    let _ = socket.close(None).await;
    Ok(())
}
