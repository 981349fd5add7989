//! A DMS simulator: plays DMSs over the real gateway protocol (connect code → credentials,
//! heartbeat WebSocket, renewal) with a scripted or random schedule of outages, for demos,
//! tests and load. With `web_app`, each DMS also serves a small web app of its own
//! (`web_app`) through the remote-access tunnel, and confirms Stratus account links.

pub mod web_app;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde::{Deserialize, Serialize};
use stratus_shared::api::gateway::{
    ConnectRequest, DmsCredentials, Heartbeat, LinkAccountFrame, LinkAccountRequest,
    LinkAccountResultFrame, RefreshRequest, TUNNEL_SUBPROTOCOL,
};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// What the simulated DMSs do over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Always connected and responding.
    Steady,
    /// Every DMS cycles: responding → not responding → gateway gone → back, one phase per
    /// `phase` (staggered per DMS, so together they show every state at once).
    Cycle,
    /// Random outages: now and then the DMS stops responding or the gateway drops for a while.
    Random,
}

/// How to run the simulated DMSs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    pub scenario: Scenario,
    /// Seconds between heartbeats; `None` uses what the server says when connecting.
    pub interval: Option<Duration>,
    /// Length of one phase of the `cycle` scenario.
    pub phase: Duration,
    /// Renew the credentials this long before the token expires.
    pub renew_before: chrono::TimeDelta,
    /// The HTTP client for renewals, built once and shared: a client with native TLS loads
    /// the whole CA bundle (tens of milliseconds of CPU), which thousands of DMSs must not
    /// repeat.
    pub http: reqwest::Client,
    /// DMS `index` waits `index × stagger` before its first connection, so that thousands of
    /// gateways arrive as a ramp, not all in one instant.
    pub stagger: Duration,
    /// Local addresses to connect from, DMS `index` from `index % len` (empty: the system
    /// picks). One loopback address has about 28,000 ephemeral ports; a load test of tens of
    /// thousands of gateways spreads over 127.0.0.2, 127.0.0.3, …
    pub source_addresses: Vec<IpAddr>,
    /// Serve each DMS's web app through the tunnel (and confirm account links): for demos and
    /// remote-access tests; load tests leave it off.
    pub web_app: bool,
    /// The DMSs' names, by index, for their web apps' pages (`Simulated DMS <n>` otherwise).
    pub names: Vec<String>,
}

/// Counters shared by every simulated DMS.
#[derive(Debug, Default)]
pub struct Stats {
    pub heartbeats: AtomicU64,
    /// Every WebSocket opened, first connections and reconnections alike.
    pub connections: AtomicU64,
    /// DMSs that have connected at least once (a reconnection does not count again).
    pub connected_dmss: AtomicU64,
    pub renewals: AtomicU64,
    pub failures: AtomicU64,
}

/// Credentials of simulated DMSs, kept in a file so a later run reconnects without codes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SavedCredentials {
    pub dmss: Vec<DmsCredentials>,
}

impl SavedCredentials {
    pub fn load(path: &PathBuf) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a credentials file", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, path: &PathBuf) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Trades a connect code for credentials.
pub async fn connect(
    http: &reqwest::Client,
    url: &str,
    connect_code: &str,
) -> anyhow::Result<DmsCredentials> {
    let response = http
        .post(format!("{url}/api/gateway/connect"))
        .json(&ConnectRequest {
            connect_code: connect_code.to_owned(),
        })
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "connect code refused: {} {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    Ok(response.json().await?)
}

async fn renew(
    http: &reqwest::Client,
    url: &str,
    credentials: &DmsCredentials,
) -> anyhow::Result<DmsCredentials> {
    let response = http
        .post(format!("{url}/api/gateway/refresh"))
        .json(&RefreshRequest {
            refresh_key: credentials.refresh_key.clone(),
        })
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "renewal refused: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// The gateway WebSocket URL of the server at `url` (`http(s)://host:port`).
pub fn gateway_ws_url(url: &str) -> String {
    format!(
        "{}/api/gateway/ws",
        url.trim_end_matches('/')
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    )
}

/// A gateway's WebSocket to the server, as the simulator and the benchmarks open it.
pub type GatewaySocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a gateway WebSocket to `ws_url` (`ws://` or `wss://…/api/gateway/ws`) with `token`,
/// from `source` when given (plain `ws://` only). Its read buffer is small: a gateway only
/// ever receives pongs and a close frame, and thousands of sockets share one process.
pub async fn open_gateway_socket(
    ws_url: &str,
    token: &str,
    source: Option<IpAddr>,
) -> Result<GatewaySocket, tokio_tungstenite::tungstenite::Error> {
    open_socket_with(ws_url, token, source, false).await
}

/// Opens a gateway WebSocket that also carries the remote-access tunnel (it asks for
/// [`TUNNEL_SUBPROTOCOL`]).
pub async fn open_tunnel_socket(
    ws_url: &str,
    token: &str,
) -> Result<GatewaySocket, tokio_tungstenite::tungstenite::Error> {
    open_socket_with(ws_url, token, None, true).await
}

async fn open_socket_with(
    ws_url: &str,
    token: &str,
    source: Option<IpAddr>,
    tunnel: bool,
) -> Result<GatewaySocket, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::Error;
    let mut request = ws_url.into_client_request()?;
    let header =
        tokio_tungstenite::tungstenite::http::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|error| Error::HttpFormat(error.into()))?;
    request.headers_mut().insert("Authorization", header);
    if tunnel {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            tokio_tungstenite::tungstenite::http::HeaderValue::from_static(TUNNEL_SUBPROTOCOL),
        );
    }
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let Some(source) = source else {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        return Ok(socket);
    };
    let uri = request.uri();
    let host = uri.host().unwrap_or("127.0.0.1").trim_matches(['[', ']']);
    let port = uri.port_u16().unwrap_or(80);
    let server = tokio::net::lookup_host((host, port))
        .await?
        .find(|address| address.is_ipv4() == source.is_ipv4())
        .ok_or(Error::Url(
            tokio_tungstenite::tungstenite::error::UrlError::NoHostName,
        ))?;
    let tcp = if source.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    tcp.bind(std::net::SocketAddr::new(source, 0))?;
    let stream = tcp.connect(server).await?;
    stream.set_nodelay(true)?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(
        request,
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
        Some(config),
    )
    .await?;
    Ok(socket)
}

/// What one DMS does during the next stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Responding,
    NotResponding,
    GatewayDown,
}

fn phase_at(scenario: Scenario, index: usize, tick: u64, ticks_per_phase: u64) -> Phase {
    match scenario {
        Scenario::Steady => Phase::Responding,
        Scenario::Cycle => {
            let ticks_per_phase = ticks_per_phase.max(1);
            match (tick / ticks_per_phase + index as u64) % 3 {
                0 => Phase::Responding,
                1 => Phase::NotResponding,
                _ => Phase::GatewayDown,
            }
        }
        // Decided by `Schedule`, which keeps an outage going for a while.
        Scenario::Random => Phase::Responding,
    }
}

/// One DMS's phases over time.
struct Schedule {
    scenario: Scenario,
    index: usize,
    ticks_per_phase: u64,
    current: Phase,
    until: u64,
}

impl Schedule {
    fn new(scenario: Scenario, index: usize, ticks_per_phase: u64) -> Self {
        Self {
            scenario,
            index,
            ticks_per_phase,
            current: Phase::Responding,
            until: 0,
        }
    }

    /// The phase at `tick` (the same answer when asked twice for one tick).
    fn phase(&mut self, tick: u64) -> Phase {
        if self.scenario != Scenario::Random {
            return phase_at(self.scenario, self.index, tick, self.ticks_per_phase);
        }
        if tick >= self.until {
            let mut rng = rand::rng();
            let (phase, ticks) = if self.current != Phase::Responding {
                (Phase::Responding, rng.random_range(10..=60))
            } else {
                let roll: f64 = rng.random();
                if roll < 0.15 {
                    (Phase::GatewayDown, rng.random_range(3..=12))
                } else if roll < 0.30 {
                    (Phase::NotResponding, rng.random_range(3..=12))
                } else {
                    (Phase::Responding, rng.random_range(10..=60))
                }
            };
            self.current = phase;
            self.until = tick + ticks;
        }
        self.current
    }
}

/// Plays one DMS until its credentials are refused for good (it then needs a new connect
/// code) or the task is dropped. Returns the last credentials it held.
pub async fn run_dms(
    index: usize,
    mut credentials: DmsCredentials,
    options: Options,
    stats: Arc<Stats>,
    on_renewal: Option<tokio::sync::mpsc::UnboundedSender<(usize, DmsCredentials)>>,
) -> DmsCredentials {
    let delay = options
        .stagger
        .saturating_mul(u32::try_from(index).unwrap_or(u32::MAX));
    tokio::time::sleep(delay).await;
    let mut ever_connected = false;
    let interval = options.interval.unwrap_or(Duration::from_secs(
        credentials.heartbeat_interval_seconds.max(1),
    ));
    let ticks_per_phase = (options.phase.as_millis() / interval.as_millis().max(1)) as u64;
    let ws_url = gateway_ws_url(&options.url);
    let mut schedule = Schedule::new(options.scenario, index, ticks_per_phase);
    let mut tick: u64 = 0;
    let mut backoff = Duration::from_secs(1);
    let renewals = on_renewal.as_ref();
    let mut web = if options.web_app {
        let name = options
            .names
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("Simulated DMS {}", index + 1));
        let (links, link_jobs) = tokio::sync::mpsc::channel(8);
        match web_app::start(&name, links).await {
            Ok(address) => Some(WebApp { address, link_jobs }),
            Err(error) => {
                tracing::warn!(index, %error, "the simulated DMS's web app cannot start");
                None
            }
        }
    } else {
        None
    };
    loop {
        if !renew_if_due(index, &mut credentials, &options, &stats, renewals).await {
            return credentials;
        }
        if schedule.phase(tick) == Phase::GatewayDown {
            tick += 1;
            tokio::time::sleep(interval).await;
            continue;
        }
        let Some(socket) = open_socket(
            index,
            &ws_url,
            &mut credentials,
            &options,
            &mut backoff,
            &stats,
            web.is_some(),
        )
        .await
        else {
            continue;
        };
        backoff = Duration::from_secs(1);
        stats.connections.fetch_add(1, Ordering::Relaxed);
        if !std::mem::replace(&mut ever_connected, true) {
            stats.connected_dmss.fetch_add(1, Ordering::Relaxed);
        }
        let renew_at = credentials.token_expires_at - options.renew_before;
        match web.as_mut() {
            Some(web) => {
                play_tunnelled_socket(
                    socket,
                    index,
                    interval,
                    &mut schedule,
                    &mut tick,
                    renew_at,
                    &stats,
                    web,
                )
                .await
            }
            None => {
                play_socket(
                    socket,
                    index,
                    interval,
                    &mut schedule,
                    &mut tick,
                    renew_at,
                    &stats,
                )
                .await
            }
        }
    }
}

/// Renews the credentials when they are due. `false` when the renewal is refused: the DMS
/// needs a new connect code.
async fn renew_if_due(
    index: usize,
    credentials: &mut DmsCredentials,
    options: &Options,
    stats: &Stats,
    on_renewal: Option<&tokio::sync::mpsc::UnboundedSender<(usize, DmsCredentials)>>,
) -> bool {
    if credentials.token_expires_at - crate::db::now() >= options.renew_before {
        return true;
    }
    match renew(&options.http, &options.url, credentials).await {
        Ok(renewed) => {
            *credentials = renewed;
            stats.renewals.fetch_add(1, Ordering::Relaxed);
            if let Some(sender) = on_renewal {
                let _ = sender.send((index, credentials.clone()));
            }
            true
        }
        Err(error) => {
            tracing::warn!(index, %error, "simulated DMS cannot renew: it needs a new connect code");
            stats.failures.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// Opens DMS `index`'s socket. `None` after a failure (counted): when the server refused the
/// token it is marked for renewal, otherwise this waits `backoff` and doubles it (to 30 s).
async fn open_socket(
    index: usize,
    ws_url: &str,
    credentials: &mut DmsCredentials,
    options: &Options,
    backoff: &mut Duration,
    stats: &Stats,
    tunnel: bool,
) -> Option<GatewaySocket> {
    let source = (!options.source_addresses.is_empty())
        .then(|| options.source_addresses[index % options.source_addresses.len()]);
    match open_socket_with(ws_url, &credentials.token, source, tunnel).await {
        Ok(socket) => Some(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status() == 401 => {
            // Force a renewal on the next round; a refused renewal ends this DMS.
            credentials.token_expires_at = crate::db::now();
            stats.failures.fetch_add(1, Ordering::Relaxed);
            None
        }
        Err(error) => {
            tracing::debug!(index, %error, "simulated gateway cannot connect; retrying");
            stats.failures.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(*backoff).await;
            *backoff = (*backoff * 2).min(Duration::from_secs(30));
            None
        }
    }
}

/// Sends a heartbeat every `interval` on an open socket until it drops, the schedule takes the
/// gateway down, or `renew_at` passes (the token is due for renewal).
async fn play_socket(
    mut socket: GatewaySocket,
    index: usize,
    interval: Duration,
    schedule: &mut Schedule,
    tick: &mut u64,
    renew_at: chrono::DateTime<chrono::Utc>,
    stats: &Stats,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            message = socket.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
        }
        let phase = schedule.phase(*tick);
        *tick += 1;
        if phase == Phase::GatewayDown {
            let _ = socket.close(None).await;
            break;
        }
        let Some(text) = heartbeat_text(phase, index) else {
            break;
        };
        if socket.send(Message::text(text)).await.is_err() {
            break;
        }
        stats.heartbeats.fetch_add(1, Ordering::Relaxed);
        if crate::db::now() > renew_at {
            let _ = socket.close(None).await;
            break;
        }
    }
}

/// The heartbeat a simulated DMS sends in `phase`.
fn heartbeat_text(phase: Phase, index: usize) -> Option<String> {
    serde_json::to_string(&Heartbeat {
        dms_responding: phase == Phase::Responding,
        dms_version: "10.5.0.0-16046".into(),
        agent_count: 1 + (index % 4) as u32,
        timestamp: crate::db::now(),
    })
    .ok()
}

/// A simulated DMS's web app: where its tunnel's streams go, and the link requests its
/// users make.
struct WebApp {
    address: std::net::SocketAddr,
    link_jobs: tokio::sync::mpsc::Receiver<web_app::LinkJob>,
}

/// [`play_socket`] for a gateway that carries the tunnel: the yamux session in the binary
/// frames, link confirmations in text frames. One task writes the socket, heartbeats first:
/// at most one frame of tunnel data is ever ahead of a heartbeat.
#[allow(clippy::too_many_arguments)]
async fn play_tunnelled_socket(
    socket: GatewaySocket,
    index: usize,
    interval: Duration,
    schedule: &mut Schedule,
    tick: &mut u64,
    renew_at: chrono::DateTime<chrono::Utc>,
    stats: &Stats,
    web: &mut WebApp,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut sink, mut frames) = socket.split();
    let crate::tunnel::gateway::GatewayTunnel {
        mut into_session,
        mut from_session,
    } = crate::tunnel::gateway::start(web.address);
    let (urgent, mut urgent_queue) = tokio::sync::mpsc::channel::<Message>(16);
    let writer = tokio::spawn(async move {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            tokio::select! {
                biased;
                message = urgent_queue.recv() => match message {
                    Some(message) => {
                        let closing = matches!(message, Message::Close(_));
                        if sink.send(message).await.is_err() || closing {
                            return;
                        }
                    }
                    None => return,
                },
                read = from_session.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(length) => {
                        if sink.send(Message::binary(buffer[..length].to_vec())).await.is_err() {
                            return;
                        }
                    }
                },
            }
        }
    });
    let mut pending: std::collections::HashMap<u64, tokio::sync::oneshot::Sender<_>> =
        std::collections::HashMap::new();
    let mut next_request: u64 = 0;
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let phase = schedule.phase(*tick);
                *tick += 1;
                if phase == Phase::GatewayDown || crate::db::now() > renew_at {
                    let _ = urgent.send(Message::Close(None)).await;
                    break;
                }
                let Some(text) = heartbeat_text(phase, index) else { break };
                if urgent.send(Message::text(text)).await.is_err() {
                    break;
                }
                stats.heartbeats.fetch_add(1, Ordering::Relaxed);
            }
            message = frames.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    if into_session.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(frame) = serde_json::from_str::<LinkAccountResultFrame>(text.as_str()) {
                        if let Some(answer) = pending.remove(&frame.link_account_result.request_id) {
                            let _ = answer.send(frame.link_account_result);
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(job) = web.link_jobs.recv() => {
                next_request += 1;
                let frame = LinkAccountFrame {
                    link_account: LinkAccountRequest {
                        request_id: next_request,
                        code: job.code,
                        dms_user: job.dms_user,
                    },
                };
                pending.insert(next_request, job.answer);
                let Ok(text) = serde_json::to_string(&frame) else { continue };
                if urgent.send(Message::text(text)).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(urgent);
    drop(into_session);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycle_scenario_goes_through_every_phase_staggered_per_dms() {
        let phases: Vec<Phase> = (0..9)
            .map(|tick| phase_at(Scenario::Cycle, 0, tick, 3))
            .collect();
        assert_eq!(
            phases,
            [
                [Phase::Responding; 3],
                [Phase::NotResponding; 3],
                [Phase::GatewayDown; 3]
            ]
            .concat()
        );
        assert_eq!(phase_at(Scenario::Cycle, 1, 0, 3), Phase::NotResponding);
        assert_eq!(phase_at(Scenario::Steady, 5, 1_000, 3), Phase::Responding);
    }

    #[test]
    fn random_outages_last_several_ticks_and_are_followed_by_recovery() {
        let mut schedule = Schedule::new(Scenario::Random, 0, 1);
        let phases: Vec<Phase> = (0..20_000).map(|tick| schedule.phase(tick)).collect();
        assert_eq!(
            schedule.phase(19_999),
            phases[19_999],
            "stable within a tick"
        );
        let mut outages = 0;
        let runs: Vec<&[Phase]> = phases.chunk_by(|a, b| a == b).collect();
        // The last run may be cut short by the end of the sample.
        for run in &runs[..runs.len() - 1] {
            if run[0] != Phase::Responding {
                outages += 1;
                assert!((3..=12).contains(&run.len()), "{}", run.len());
            }
        }
        assert!(outages > 10, "{outages} outages");
        assert!(phases.contains(&Phase::GatewayDown) && phases.contains(&Phase::NotResponding));
    }
}
