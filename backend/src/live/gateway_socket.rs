//! One gateway's WebSocket after the upgrade: heartbeats in, pings answered, and the socket
//! closed with a code (never a panic) on a malformed or oversized frame, silence past the
//! heartbeat timeout, a newer connection of the same DMS, or revoked or expired credentials.

use std::time::Duration;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use futures_util::StreamExt;
use stratus_shared::api::gateway::close_code;
use tokio::time::Instant;

use super::heartbeat::{HeartbeatFrame, Report};
use super::LiveHub;
use crate::auth::extractor::AuthenticatedDms;

/// The largest frame (or message of continuation frames) a gateway may send. A heartbeat is
/// about 120 bytes.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Serves one gateway's socket until it closes; the DMS's observation goes to `hub`.
pub async fn run(
    dms: AuthenticatedDms,
    session: actix_ws::Session,
    messages: actix_ws::MessageStream,
    hub: LiveHub,
) {
    let messages = messages
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
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
        close(session, Some((close_code::REVOKED, "credentials revoked"))).await;
        return;
    };
    tracing::info!(system_id, connection_id, "gateway connected");
    let mut socket = Socket {
        system_id,
        connection_id,
        hub: &hub,
        forwarded: None,
        refresh: (timeout / 4).min(REPORT_REFRESH),
    };
    let ending = socket
        .serve(session.clone(), messages, close_order, &dms, timeout)
        .await;
    hub.disconnect(system_id, connection_id, crate::db::now());
    close(session, ending).await;
    tracing::info!(system_id, connection_id, "gateway disconnected");
}

/// How a socket ends: with a close frame of this code and reason, or none (the peer is gone).
type Ending = Option<(u16, &'static str)>;

/// Sends the close frame, if any (the peer may be gone already: nothing to do then).
async fn close(session: actix_ws::Session, ending: Ending) {
    if let Some((code, description)) = ending {
        let _ = session
            .close(Some(CloseReason {
                code: CloseCode::from(code),
                description: Some(description.to_owned()),
            }))
            .await;
    }
}

/// A repeated report is handed to the hub again after this long (or a quarter of the
/// heartbeat timeout, if shorter), so the hub's last-seen time lags the socket's by no more.
const REPORT_REFRESH: Duration = Duration::from_millis(500);

/// One connected gateway of one DMS.
struct Socket<'a> {
    system_id: &'a str,
    connection_id: u64,
    hub: &'a LiveHub,
    /// The last report handed to the hub, and when. Frames that repeat it within `refresh`
    /// stay in the socket: no lock, no clock conversion, no timestamp parsing.
    forwarded: Option<(Report, Instant)>,
    refresh: Duration,
}

impl Socket<'_> {
    /// Reads frames until the socket must end: the peer leaves, breaks the protocol, falls
    /// silent, is replaced or revoked, or its token expires.
    async fn serve(
        &mut self,
        mut session: actix_ws::Session,
        mut messages: actix_ws::AggregatedMessageStream,
        mut close_order: tokio::sync::oneshot::Receiver<u16>,
        dms: &AuthenticatedDms,
        timeout: Duration,
    ) -> Ending {
        let system_id = self.system_id;
        let token_left = (dms.token_expires_at - crate::db::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let token_expiry = tokio::time::sleep(token_left);
        tokio::pin!(token_expiry);
        // Silence is checked when the timer fires, against the last frame's time, rather than
        // by resetting the timer on every frame.
        let mut last_frame = Instant::now();
        let idle = tokio::time::sleep(timeout);
        tokio::pin!(idle);
        loop {
            tokio::select! {
                // Frames first: most wake-ups are frames, and the order costs nothing else.
                biased;
                message = messages.next() => match self.receive(message, &mut session).await {
                    Received::Alive => last_frame = Instant::now(),
                    Received::End(ending) => return ending,
                },
                code = &mut close_order => {
                    return if code == Ok(close_code::REPLACED) {
                        tracing::info!(system_id, connection_id = self.connection_id, "gateway connection replaced by a newer one");
                        Some((close_code::REPLACED, "replaced by a newer connection"))
                    } else {
                        tracing::info!(system_id, connection_id = self.connection_id, "gateway credentials revoked");
                        Some((close_code::REVOKED, "credentials revoked"))
                    };
                }
                () = &mut idle => {
                    if last_frame + timeout > Instant::now() {
                        idle.as_mut().reset(last_frame + timeout);
                        continue;
                    }
                    tracing::info!(system_id, "gateway silent past the heartbeat timeout: closing its socket");
                    return Some((close_code::IDLE, "no heartbeat within the timeout"));
                }
                () = &mut token_expiry => {
                    tracing::info!(system_id, "DMS token expired: closing the gateway socket");
                    return Some((close_code::REVOKED, "DMS token expired"));
                }
            }
        }
    }

    /// Handles one frame (or the end of the stream).
    async fn receive(
        &mut self,
        message: Option<Result<AggregatedMessage, ProtocolError>>,
        session: &mut actix_ws::Session,
    ) -> Received {
        let (system_id, connection_id) = (self.system_id, self.connection_id);
        match message {
            None => Received::End(None),
            Some(Ok(AggregatedMessage::Text(text))) => match self.heartbeat(&text) {
                Ok(()) => Received::Alive,
                Err(error) => {
                    tracing::warn!(system_id, %error, "malformed heartbeat: closing the gateway socket");
                    Received::End(Some((close_code::MALFORMED, "malformed heartbeat")))
                }
            },
            Some(Ok(AggregatedMessage::Binary(_))) => {
                tracing::warn!(system_id, "binary frame from a gateway: closing its socket");
                Received::End(Some((
                    close_code::MALFORMED,
                    "binary frames are not accepted",
                )))
            }
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                self.hub.seen(system_id, connection_id, crate::db::now());
                if session.pong(&bytes).await.is_err() {
                    return Received::End(None);
                }
                Received::Alive
            }
            Some(Ok(AggregatedMessage::Pong(_))) => {
                self.hub.seen(system_id, connection_id, crate::db::now());
                Received::Alive
            }
            Some(Ok(AggregatedMessage::Close(reason))) => {
                tracing::info!(system_id, ?reason, "gateway closed its socket");
                Received::End(Some((1000, "goodbye")))
            }
            Some(Err(ProtocolError::Overflow)) => {
                tracing::warn!(
                    system_id,
                    "oversized frame from a gateway: closing its socket"
                );
                Received::End(Some((close_code::TOO_LARGE, "frame too large")))
            }
            Some(Err(ProtocolError::Io(error))) => {
                tracing::info!(system_id, %error, "gateway connection dropped");
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
    /// A sign of life: silence is counted from now.
    Alive,
    /// The socket ends.
    End(Ending),
}
