//! The gateway's end of a tunnel: the yamux session the cloud opens streams on, each stream
//! connected to the DMS's local web server and copied both ways, untouched. This is all a
//! gateway needs to serve remote access (`docs/gateway-protocol.md`); the simulator uses it.

use std::net::SocketAddr;

use tokio::io::{DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use super::mux;

/// Bytes buffered between the socket and the session, each way.
const PIPE_BYTES: usize = 256 * 1024;

/// The socket's side of a running gateway tunnel: binary frames received go into
/// `into_session`; what `from_session` yields goes out as binary frames.
pub struct GatewayTunnel {
    pub into_session: WriteHalf<DuplexStream>,
    pub from_session: ReadHalf<DuplexStream>,
}

/// Starts the session (on the current runtime); every stream the cloud opens is connected to
/// `web_server`. It ends when `into_session` is dropped.
pub fn start(web_server: SocketAddr) -> GatewayTunnel {
    let (gateway_end, socket_end) = tokio::io::duplex(PIPE_BYTES);
    let (from_session, into_session) = tokio::io::split(socket_end);
    let (accepted, mut streams) = mpsc::channel(mux::MAX_STREAMS);
    let (_no_opens, opens) = mpsc::channel(1);
    tokio::spawn(async move {
        if let Err(error) = mux::drive(gateway_end, mux::End::Gateway, opens, Some(accepted)).await
        {
            tracing::debug!(%error, "gateway tunnel session ended");
        }
    });
    tokio::spawn(async move {
        while let Some(mut stream) = streams.recv().await {
            tokio::spawn(async move {
                match tokio::net::TcpStream::connect(web_server).await {
                    Ok(mut local) => {
                        let _ = local.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut stream, &mut local).await;
                    }
                    Err(error) => {
                        tracing::warn!(%web_server, %error, "the DMS's web server is unreachable");
                    }
                }
            });
        }
    });
    GatewayTunnel {
        into_session,
        from_session,
    }
}
