//! One gateway's WebSocket after the upgrade: heartbeats in, pings answered, and the socket
//! closed with a code (never a panic) on a malformed or oversized frame, silence past the
//! heartbeat timeout, a newer connection of the same DMS, or revoked or expired credentials.
//!
//! The socket is a tungstenite stream over the bare TCP connection, not actix-web's: a
//! gateway idles for seconds between 120-byte frames, and actix's HTTP dispatcher would keep
//! 16 KiB of buffers per connection for all of that time (see `routes::upgrade`).
//!
//! A gateway that opened the socket with the tunnel subprotocol
//! ([`stratus_shared::api::gateway::TUNNEL_SUBPROTOCOL`]) also carries a yamux session in its
//! binary frames: remote access to the DMS's web server. It starts with the first stream the
//! cloud opens; from then on a task of its own writes the session's frames, so reading (and
//! with it every heartbeat) never waits for a write to the gateway.

use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use governor::DefaultDirectRateLimiter;
use stratus_shared::api::gateway::{
    close_code, LinkAccountRequest, LinkAccountResult, LinkAccountResultFrame,
};
use stratus_shared::gateway_frame::{parse_text_frame, FrameError, GatewayTextFrame};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::frame_limit::FrameLimit;
use super::heartbeat::{HeartbeatFrame, Report};
use super::LiveHub;
use crate::auth::extractor::AuthenticatedDms;
use crate::db::Database;
use crate::tunnel::mux::{self, OpenRequest};
use crate::tunnel::Tunnels;

/// The largest frame (or message of continuation frames) a gateway may send. A heartbeat is
/// about 120 bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// How the server side of a gateway's socket reads and writes: frames and messages of at most
/// [`MAX_FRAME_BYTES`], a read buffer sized for a heartbeat (it grows for a larger frame), and
/// every write sent at once (the server only writes pongs and the closing frame).
pub fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_frame_size(Some(MAX_FRAME_BYTES))
        .max_message_size(Some(MAX_FRAME_BYTES))
}

/// What one read takes from the socket: a dozen heartbeats (one is about 120 bytes), so a
/// gateway sending at full speed costs few reads, while 18,000 idle ones hold 36 MiB.
const READ_BUFFER_BYTES: usize = 2048;

/// Serves one gateway's socket until it closes; the DMS's observation goes to `hub`. With
/// `tunnels` (the gateway offered a tunnel), its tunnel is registered there while it lasts.
pub async fn run<S>(
    dms: AuthenticatedDms,
    mut socket: WebSocketStream<S>,
    hub: LiveHub,
    tunnels: Option<Tunnels>,
    database: Database,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = hub
        .heartbeat_timeout()
        .to_std()
        .unwrap_or(Duration::from_secs(30));
    let system_id = dms.system_id.as_str();
    let Some((connection_id, close_order)) = hub.connect(
        system_id,
        &dms.organization_id,
        dms.generation,
        crate::db::now(),
    ) else {
        tracing::info!(
            system_id,
            "DMS removed or re-keyed while its gateway connected"
        );
        close(
            &mut socket,
            Some((close_code::REVOKED, "credentials revoked")),
        )
        .await;
        return;
    };
    tracing::info!(
        system_id,
        connection_id,
        tunnel = tunnels.is_some(),
        "gateway connected"
    );
    let opens = tunnels
        .as_ref()
        .map(|tunnels| tunnels.register(system_id, connection_id));
    let (replies, mut reply_queue) = mpsc::channel(LINK_ATTEMPTS_PER_MINUTE);
    let mut gateway = Gateway {
        system_id,
        connection_id,
        hub: &hub,
        forwarded: None,
        refresh: (timeout / 4).min(REPORT_REFRESH),
        database,
        replies,
        link_attempts: Vec::new(),
        frame_limiter: hub.frame_limit().map(FrameLimit::limiter),
    };
    let (sink, mut frames) = socket.split();
    let mut link = Link::Direct(sink);
    let ending = gateway
        .serve(
            &mut frames,
            &mut link,
            opens,
            &mut reply_queue,
            close_order,
            &dms,
        )
        .await;
    if let Some(tunnels) = &tunnels {
        tunnels.unregister(system_id, connection_id);
    }
    hub.disconnect(system_id, connection_id, crate::db::now());
    if let Some(sink) = link.into_sink().await {
        if let Ok(mut socket) = frames.reunite(sink) {
            close(&mut socket, ending).await;
        }
    }
    tracing::info!(system_id, connection_id, "gateway disconnected");
}

type Sink<S> = SplitSink<WebSocketStream<S>, Message>;
type Frames<S> = SplitStream<WebSocketStream<S>>;

/// What the socket writes through: its sink, or (once the tunnel runs) the task that owns it.
enum Link<S> {
    Direct(Sink<S>),
    Tunnel(TunnelLink<S>),
}

/// A running tunnel: the pipe into the yamux session, where stream requests go, and the
/// task writing the session's frames to the gateway.
struct TunnelLink<S> {
    into_session: tokio::io::WriteHalf<DuplexStream>,
    opens: mpsc::Sender<OpenRequest>,
    /// Text frames (answers to the gateway) for the writer.
    texts: mpsc::Sender<String>,
    stop_writer: oneshot::Sender<()>,
    writer: tokio::task::JoinHandle<Option<Sink<S>>>,
}

/// Bytes buffered between the socket and the yamux session, each way.
const SESSION_PIPE_BYTES: usize = 256 * 1024;

impl<S> Link<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Starts the tunnel if it does not run yet: the yamux session in a task, and the task
    /// that writes its frames (moving the sink there).
    fn tunnel(&mut self, system_id: &str) -> &mut TunnelLink<S> {
        if let Link::Direct(_) = self {
            let (cloud_end, socket_end) = tokio::io::duplex(SESSION_PIPE_BYTES);
            let (from_session, into_session) = tokio::io::split(socket_end);
            let (opens, session_opens) = mpsc::channel(mux::MAX_STREAMS);
            let owner = system_id.to_owned();
            tokio::spawn(async move {
                if let Err(error) =
                    mux::drive(cloud_end, mux::End::Cloud, session_opens, None).await
                {
                    tracing::info!(system_id = owner, %error, "tunnel session ended");
                }
            });
            let (stop_writer, stop) = oneshot::channel();
            let (texts, text_queue) = mpsc::channel(LINK_ATTEMPTS_PER_MINUTE);
            let placeholder = std::mem::replace(
                self,
                Link::Tunnel(TunnelLink {
                    into_session,
                    opens,
                    texts,
                    stop_writer,
                    writer: tokio::spawn(async { None }),
                }),
            );
            if let (Link::Direct(sink), Link::Tunnel(tunnel)) = (placeholder, &mut *self) {
                tunnel.writer = tokio::spawn(write_session(sink, from_session, text_queue, stop));
            }
        }
        match self {
            Link::Tunnel(tunnel) => tunnel,
            Link::Direct(_) => unreachable!("the tunnel was started above"),
        }
    }

    /// Sends a text frame to the gateway (through the writer, once the tunnel runs).
    async fn send_text(&mut self, text: String) -> bool {
        match self {
            Link::Direct(sink) => sink.send(Message::text(text)).await.is_ok(),
            Link::Tunnel(tunnel) => tunnel.texts.send(text).await.is_ok(),
        }
    }

    /// The sink back, for the closing frame; `None` when the socket broke while writing.
    async fn into_sink(self) -> Option<Sink<S>> {
        match self {
            Link::Direct(sink) => Some(sink),
            Link::Tunnel(tunnel) => {
                let _ = tunnel.stop_writer.send(());
                drop(tunnel.into_session);
                tunnel.writer.await.ok().flatten()
            }
        }
    }
}

/// Writes what the yamux session sends as binary frames of at most [`MAX_FRAME_BYTES`], until
/// told to stop or the session ends; hands the sink back unless writing failed.
async fn write_session<S>(
    mut sink: Sink<S>,
    mut from_session: tokio::io::ReadHalf<DuplexStream>,
    mut texts: mpsc::Receiver<String>,
    mut stop: oneshot::Receiver<()>,
) -> Option<Sink<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; MAX_FRAME_BYTES];
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => return Some(sink),
            Some(text) = texts.recv() => {
                if sink.send(Message::text(text)).await.is_err() {
                    return None;
                }
            }
            read = from_session.read(&mut buffer) => match read {
                Ok(0) | Err(_) => {
                    // The session ended; wait for the socket's end to hand the sink back.
                    let _ = stop.await;
                    return Some(sink);
                }
                Ok(length) => {
                    if sink.send(Message::binary(buffer[..length].to_vec())).await.is_err() {
                        return None;
                    }
                }
            }
        }
    }
}

/// Whether a read brought a frame the [`FrameLimit`] counts.
fn is_control_frame(message: &Option<Result<Message, WsError>>) -> bool {
    matches!(
        message,
        Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_)))
    )
}

/// How a socket ends: with a close frame of this code and reason, or none (the peer closed
/// it, or is gone).
type Ending = Option<(u16, &'static str)>;

/// Sends the close frame, if any; otherwise flushes the reply to the peer's close, if one is
/// queued (the peer may be gone already: nothing to do then).
async fn close<S>(socket: &mut WebSocketStream<S>, ending: Ending)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = ending.map(|(code, reason)| CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    });
    let _ = socket.close(frame).await;
}

/// A repeated report is handed to the hub again after this long (or a quarter of the
/// heartbeat timeout, if shorter), so the hub's last-seen time lags the socket's by no more.
const REPORT_REFRESH: Duration = Duration::from_millis(500);

/// One connected gateway of one DMS.
struct Gateway<'a> {
    system_id: &'a str,
    connection_id: u64,
    hub: &'a LiveHub,
    /// The last report handed to the hub, and when. Frames that repeat it within `refresh`
    /// stay in the socket: no lock, no clock conversion, no timestamp parsing.
    forwarded: Option<(Report, Instant)>,
    refresh: Duration,
    database: Database,
    /// Answers to the gateway's requests (link confirmations), written by the socket.
    replies: mpsc::Sender<String>,
    /// When the last link confirmations arrived, to bound them.
    link_attempts: Vec<Instant>,
    /// Paces control frames (see [`FrameLimit`]).
    frame_limiter: Option<DefaultDirectRateLimiter>,
}

/// Link confirmations a gateway may send a minute: each tries a code, so they are bounded
/// like guesses.
const LINK_ATTEMPTS_PER_MINUTE: usize = 10;

impl Gateway<'_> {
    /// Reads frames until the socket must end: the peer leaves, breaks the protocol, falls
    /// silent, is replaced or revoked, or its token expires.
    async fn serve<S>(
        &mut self,
        frames: &mut Frames<S>,
        link: &mut Link<S>,
        mut opens: Option<mpsc::Receiver<OpenRequest>>,
        reply_queue: &mut mpsc::Receiver<String>,
        mut close_order: tokio::sync::oneshot::Receiver<u16>,
        dms: &AuthenticatedDms,
    ) -> Ending
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let offers_tunnel = opens.is_some();
        let system_id = self.system_id;
        let token_left = (dms.token_expires_at - crate::db::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let token_expiry = tokio::time::sleep(token_left);
        tokio::pin!(token_expiry);
        loop {
            tokio::select! {
                // Frames first: most wake-ups are frames, and the order costs nothing else.
                biased;
                message = frames.next() => {
                    if is_control_frame(&message) {
                        if let Some(limiter) = &self.frame_limiter {
                            // Waiting here leaves the next frames in the socket: backpressure.
                            limiter.until_ready().await;
                        }
                    }
                    match self.receive(message, offers_tunnel) {
                    Received::Alive => {}
                    Received::Tunnel(bytes) => {
                        let tunnel = link.tunnel(system_id);
                        if tunnel.into_session.write_all(&bytes).await.is_err() {
                            tracing::warn!(system_id, "tunnel session failed: closing the gateway socket");
                            return Some((close_code::MALFORMED, "tunnel protocol error"));
                        }
                    }
                    Received::Link(frame) => self.confirm_link(frame),
                    Received::End(ending) => return ending,
                    }
                }
                Some(reply) = reply_queue.recv() => {
                    if !link.send_text(reply).await {
                        return None;
                    }
                }
                // A remote-access request wants a stream to the DMS's web server.
                Some(request) = next_open(&mut opens) => {
                    let tunnel = link.tunnel(system_id);
                    let _ = tunnel.opens.send(request).await;
                }
                // The hub orders the close: a newer connection, revoked credentials, or
                // silence past the timeout (its 1 s tick checks every socket).
                code = &mut close_order => {
                    let connection_id = self.connection_id;
                    return match code {
                        Ok(close_code::REPLACED) => {
                            tracing::info!(system_id, connection_id, "gateway connection replaced by a newer one");
                            Some((close_code::REPLACED, "replaced by a newer connection"))
                        }
                        Ok(close_code::IDLE) => {
                            tracing::info!(system_id, connection_id, "gateway silent past the heartbeat timeout: closing its socket");
                            Some((close_code::IDLE, "no heartbeat within the timeout"))
                        }
                        _ => {
                            tracing::info!(system_id, connection_id, "gateway credentials revoked");
                            Some((close_code::REVOKED, "credentials revoked"))
                        }
                    };
                }
                () = &mut token_expiry => {
                    tracing::info!(system_id, "DMS token expired: closing the gateway socket");
                    return Some((close_code::REVOKED, "DMS token expired"));
                }
            }
        }
    }

    /// Handles one message (or the end of the stream). Pings are answered by tungstenite on
    /// the next read, and a peer's close frame is echoed back the same way.
    fn receive(
        &mut self,
        message: Option<Result<Message, WsError>>,
        offers_tunnel: bool,
    ) -> Received {
        let (system_id, connection_id) = (self.system_id, self.connection_id);
        match message {
            None => Received::End(None),
            Some(Ok(Message::Text(text))) => match parse_text_frame(text.as_str()) {
                Ok(GatewayTextFrame::Heartbeat(frame)) => match self.heartbeat(frame) {
                    Ok(()) => Received::Alive,
                    Err(error) => refused(system_id, &error),
                },
                Ok(GatewayTextFrame::LinkAccount(request)) => Received::Link(request),
                Err(error) => refused(system_id, &error),
            },
            Some(Ok(Message::Binary(bytes))) if offers_tunnel => Received::Tunnel(bytes),
            Some(Ok(Message::Binary(_))) => {
                tracing::warn!(system_id, "binary frame from a gateway: closing its socket");
                Received::End(Some((
                    close_code::MALFORMED,
                    "binary frames are not accepted",
                )))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                self.hub.seen(system_id, connection_id, crate::db::now());
                Received::Alive
            }
            Some(Ok(Message::Close(reason))) => {
                tracing::info!(system_id, ?reason, "gateway closed its socket");
                Received::End(None)
            }
            // Only produced when writing raw frames, which the server never reads.
            Some(Ok(Message::Frame(_))) => Received::Alive,
            Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                tracing::warn!(
                    system_id,
                    "oversized frame from a gateway: closing its socket"
                );
                Received::End(Some((close_code::TOO_LARGE, "frame too large")))
            }
            Some(Err(WsError::Io(error))) => {
                tracing::info!(system_id, %error, "gateway connection dropped");
                Received::End(None)
            }
            Some(Err(
                WsError::ConnectionClosed
                | WsError::AlreadyClosed
                | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake),
            )) => {
                tracing::info!(system_id, "gateway connection dropped");
                Received::End(None)
            }
            Some(Err(error)) => {
                tracing::warn!(system_id, %error, "WebSocket protocol error from a gateway: closing its socket");
                Received::End(Some((close_code::MALFORMED, "protocol error")))
            }
        }
    }

    /// Checks a link confirmation in a task of its own (a database write) and queues the
    /// answer to the gateway.
    fn confirm_link(&mut self, request: LinkAccountRequest) {
        let now = Instant::now();
        self.link_attempts
            .retain(|at| now.duration_since(*at) < Duration::from_secs(60));
        let replies = self.replies.clone();
        let request_id = request.request_id;
        let answer = move |linked: bool, account_email: Option<String>, message: &str| {
            serde_json::to_string(&LinkAccountResultFrame {
                link_account_result: LinkAccountResult {
                    request_id,
                    linked,
                    account_email,
                    message: message.to_owned(),
                },
            })
            .unwrap_or_default()
        };
        if self.link_attempts.len() >= LINK_ATTEMPTS_PER_MINUTE {
            let _ = replies.try_send(answer(
                false,
                None,
                "Too many link attempts from this DMS; wait a minute.",
            ));
            return;
        }
        self.link_attempts.push(now);
        let user = request.dms_user.trim().to_owned();
        if user.is_empty() || user.chars().count() > 100 || user.chars().any(char::is_control) {
            let _ = replies.try_send(answer(
                false,
                None,
                "The DMS user name must be 1 to 100 characters without control characters.",
            ));
            return;
        }
        let (database, system_id, code) = (
            self.database.clone(),
            self.system_id.to_owned(),
            request.code.clone(),
        );
        tokio::spawn(async move {
            let outcome = database
                .run_write(move |connection| {
                    Ok(crate::domain::system_access::confirm_link(
                        connection,
                        &system_id,
                        &code,
                        &user,
                        crate::db::now(),
                    )?)
                })
                .await;
            let text = match outcome {
                Ok(Some(confirmed)) => answer(
                    true,
                    Some(confirmed.email.clone()),
                    &format!("Linked to the Stratus account {}.", confirmed.email),
                ),
                Ok(None) => answer(
                    false,
                    None,
                    "This code is unknown, expired or already used. Get a new one in Stratus.",
                ),
                Err(error) => {
                    tracing::warn!(%error, "cannot record a DMS account link");
                    answer(false, None, "Stratus could not record the link; try again.")
                }
            };
            let _ = replies.send(text).await;
        });
    }

    /// Reads a heartbeat; hands its report to the hub unless it repeats the last one handed
    /// over less than `refresh` ago.
    fn heartbeat(&mut self, frame: HeartbeatFrame<'_>) -> Result<(), FrameError> {
        if let Some((report, at)) = &self.forwarded {
            if frame.repeats(report) && at.elapsed() < self.refresh {
                return Ok(());
            }
        }
        frame.check()?;
        let report = frame.report();
        self.hub.heartbeat(
            self.system_id,
            self.connection_id,
            &report,
            crate::db::now(),
        );
        self.forwarded = Some((report, Instant::now()));
        Ok(())
    }
}

/// Closes the socket on a text frame it cannot take.
fn refused(system_id: &str, error: &FrameError) -> Received {
    if let FrameError::MalformedLinkAccount(_) = error {
        tracing::warn!(system_id, %error, "malformed link confirmation: closing the gateway socket");
        Received::End(Some((
            close_code::MALFORMED,
            "malformed link_account frame",
        )))
    } else {
        tracing::warn!(system_id, %error, "malformed heartbeat: closing the gateway socket");
        Received::End(Some((close_code::MALFORMED, "malformed heartbeat")))
    }
}

/// What a frame did to the socket.
enum Received {
    /// The socket goes on (silence is judged by the hub's tick, not here).
    Alive,
    /// A DMS user entered a link code.
    Link(LinkAccountRequest),
    /// Bytes of the tunnel's yamux session.
    Tunnel(tokio_tungstenite::tungstenite::Bytes),
    /// The socket ends.
    End(Ending),
}

/// The next stream request, or never when the gateway offers no tunnel (or the registry
/// dropped its sender).
async fn next_open(opens: &mut Option<mpsc::Receiver<OpenRequest>>) -> Option<OpenRequest> {
    if let Some(receiver) = opens {
        if let Some(request) = receiver.recv().await {
            return Some(request);
        }
        *opens = None;
    }
    std::future::pending().await
}
