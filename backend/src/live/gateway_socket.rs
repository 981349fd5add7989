//! One gateway's WebSocket after the upgrade: heartbeats in, pings answered, and the socket
//! closed with a code (never a panic) on a malformed or oversized frame, silence past the
//! heartbeat timeout, a newer connection of the same DMS, or revoked or expired credentials.

use std::time::Duration;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use futures_util::StreamExt;
use stratus_shared::api::gateway::{close_code, Heartbeat};

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
    let socket = Socket {
        system_id,
        connection_id,
        hub: &hub,
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

/// One connected gateway of one DMS.
struct Socket<'a> {
    system_id: &'a str,
    connection_id: u64,
    hub: &'a LiveHub,
}

impl Socket<'_> {
    /// Reads frames until the socket must end: the peer leaves, breaks the protocol, falls
    /// silent, is replaced or revoked, or its token expires.
    async fn serve(
        &self,
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
        let idle = tokio::time::sleep(timeout);
        tokio::pin!(idle);
        loop {
            tokio::select! {
                message = messages.next() => match self.receive(message, &mut session).await {
                    Received::Alive => idle.as_mut().reset(tokio::time::Instant::now() + timeout),
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
        &self,
        message: Option<Result<AggregatedMessage, ProtocolError>>,
        session: &mut actix_ws::Session,
    ) -> Received {
        let (system_id, connection_id) = (self.system_id, self.connection_id);
        let now = crate::db::now();
        match message {
            None => Received::End(None),
            Some(Ok(AggregatedMessage::Text(text))) => match parse_heartbeat(&text) {
                Ok(heartbeat) => {
                    self.hub
                        .heartbeat(system_id, connection_id, &heartbeat, now);
                    Received::Alive
                }
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
                self.hub.seen(system_id, connection_id, now);
                if session.pong(&bytes).await.is_err() {
                    return Received::End(None);
                }
                Received::Alive
            }
            Some(Ok(AggregatedMessage::Pong(_))) => {
                self.hub.seen(system_id, connection_id, now);
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
}

/// What a frame did to the socket.
enum Received {
    /// A sign of life: the silence timer starts again.
    Alive,
    /// The socket ends.
    End(Ending),
}

/// The longest DMS version string accepted in a heartbeat.
const MAX_VERSION_LENGTH: usize = 64;

/// Reads a heartbeat frame: valid JSON of the right shape, with a plausible version.
fn parse_heartbeat(text: &str) -> Result<Heartbeat, String> {
    let heartbeat: Heartbeat = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let version = heartbeat.dms_version.trim();
    if version.is_empty()
        || version.len() > MAX_VERSION_LENGTH
        || version.chars().any(char::is_control)
    {
        return Err(format!(
            "dms_version must be 1 to {MAX_VERSION_LENGTH} characters without control characters"
        ));
    }
    Ok(heartbeat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_are_read_strictly() {
        let good = r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#;
        assert_eq!(parse_heartbeat(good).unwrap().agent_count, 2);
        for bad in [
            "",
            "null",
            "[]",
            r#"{"dms_responding":true}"#,
            r#"{"dms_responding":1,"dms_version":"10.5","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"","agent_count":2,"timestamp":"2026-11-24T00:00:00Z"}"#,
            r#"{"dms_responding":true,"dms_version":"10.5","agent_count":2,"timestamp":"yesterday"}"#,
        ] {
            assert!(parse_heartbeat(bad).is_err(), "{bad}");
        }
        // Newer gateways may send more.
        let newer = good.replace("}", r#","cpu_load":0.5}"#);
        assert!(parse_heartbeat(&newer).is_ok());
        let long = good.replace("10.5", &"9".repeat(65));
        assert!(parse_heartbeat(&long).is_err());
    }
}
