//! One gateway's WebSocket after the upgrade: heartbeats in, pings answered, and the socket
//! closed with a code (never a panic) on a malformed or oversized frame, silence past the
//! heartbeat timeout, a newer connection of the same DMS, or revoked or expired credentials.
//!
//! The socket is a tungstenite stream over the bare TCP connection, not actix-web's: a
//! gateway idles for seconds between 120-byte frames, and actix's HTTP dispatcher would keep
//! 16 KiB of buffers per connection for all of that time (see `routes::upgrade`).

use std::time::Duration;

use futures_util::StreamExt;
use stratus_shared::api::gateway::close_code;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::heartbeat::{HeartbeatFrame, Report};
use super::LiveHub;
use crate::auth::extractor::AuthenticatedDms;

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

/// Serves one gateway's socket until it closes; the DMS's observation goes to `hub`.
pub async fn run<S>(dms: AuthenticatedDms, mut socket: WebSocketStream<S>, hub: LiveHub)
where
    S: AsyncRead + AsyncWrite + Unpin,
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
    tracing::info!(system_id, connection_id, "gateway connected");
    let mut gateway = Gateway {
        system_id,
        connection_id,
        hub: &hub,
        forwarded: None,
        refresh: (timeout / 4).min(REPORT_REFRESH),
    };
    let ending = gateway.serve(&mut socket, close_order, &dms).await;
    hub.disconnect(system_id, connection_id, crate::db::now());
    close(&mut socket, ending).await;
    tracing::info!(system_id, connection_id, "gateway disconnected");
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
}

impl Gateway<'_> {
    /// Reads frames until the socket must end: the peer leaves, breaks the protocol, falls
    /// silent, is replaced or revoked, or its token expires.
    async fn serve<S>(
        &mut self,
        socket: &mut WebSocketStream<S>,
        mut close_order: tokio::sync::oneshot::Receiver<u16>,
        dms: &AuthenticatedDms,
    ) -> Ending
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
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
                message = socket.next() => match self.receive(message) {
                    Received::Alive => {}
                    Received::End(ending) => return ending,
                },
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
    fn receive(&mut self, message: Option<Result<Message, WsError>>) -> Received {
        let (system_id, connection_id) = (self.system_id, self.connection_id);
        match message {
            None => Received::End(None),
            Some(Ok(Message::Text(text))) => match self.heartbeat(text.as_str()) {
                Ok(()) => Received::Alive,
                Err(error) => {
                    tracing::warn!(system_id, %error, "malformed heartbeat: closing the gateway socket");
                    Received::End(Some((close_code::MALFORMED, "malformed heartbeat")))
                }
            },
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

    /// Reads a heartbeat; hands its report to the hub unless it repeats the last one handed
    /// over less than `refresh` ago.
    fn heartbeat(&mut self, text: &str) -> Result<(), String> {
        let frame = HeartbeatFrame::read(text)?;
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

/// What a frame did to the socket.
enum Received {
    /// The socket goes on (silence is judged by the hub's tick, not here).
    Alive,
    /// The socket ends.
    End(Ending),
}
