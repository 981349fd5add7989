//! One yamux session over a byte stream, driven by a task of its own: the cloud side opens
//! streams (one per tunnelled HTTP connection), the gateway side accepts them.
//!
//! yamux gives every stream its own flow-control window, so a download the browser reads
//! slowly holds back only its own stream: the session keeps reading, and the socket it runs
//! on keeps carrying heartbeats and other streams.

use std::future::poll_fn;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};

/// A stream of the session, as tokio I/O.
pub type TunnelStream = Compat<yamux::Stream>;

/// Most streams open at once on one session (a browser opens about six connections per
/// origin; the rest is room for WebSockets and parallel downloads).
pub const MAX_STREAMS: usize = 64;

/// The session's settings: at most [`MAX_STREAMS`] streams sharing a receive window of
/// 32 MiB (each stream starts at yamux's 256 KiB and grows with its throughput).
pub fn config() -> yamux::Config {
    let mut config = yamux::Config::default();
    // Streams first: the window must cover 256 KiB for each (yamux asserts it).
    config
        .set_max_num_streams(MAX_STREAMS)
        .set_max_connection_receive_window(Some(32 * 1024 * 1024));
    config
}

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the tunnel is closed")]
    Closed,
    #[error("the tunnel refused a new stream: {0}")]
    Refused(#[from] yamux::ConnectionError),
}

/// A request for a new outbound stream, answered once the session has opened it.
pub type OpenRequest = oneshot::Sender<Result<TunnelStream, OpenError>>;

/// Which end of the session this is: yamux numbers the streams each end opens apart.
#[derive(Debug, Clone, Copy)]
pub enum End {
    /// The cloud: opens streams.
    Cloud,
    /// The gateway: accepts streams.
    Gateway,
}

/// Runs the session over `io` until either side closes it: answers `opens` with new streams
/// and hands streams the peer opens to `inbound` (dropped, so refused, when there is none).
pub async fn drive<I>(
    io: I,
    end: End,
    mut opens: mpsc::Receiver<OpenRequest>,
    inbound: Option<mpsc::Sender<TunnelStream>>,
) -> Result<(), yamux::ConnectionError>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let mode = match end {
        End::Cloud => yamux::Mode::Client,
        End::Gateway => yamux::Mode::Server,
    };
    let mut connection = yamux::Connection::new(io.compat(), config(), mode);
    let mut waiting: Option<OpenRequest> = None;
    let mut opens_open = true;
    poll_fn(|cx| loop {
        if waiting.is_none() && opens_open {
            match opens.poll_recv(cx) {
                Poll::Ready(Some(request)) => waiting = Some(request),
                Poll::Ready(None) => opens_open = false,
                Poll::Pending => {}
            }
        }
        if let Some(request) = waiting.take() {
            if request.is_closed() {
                continue;
            }
            match connection.poll_new_outbound(cx) {
                Poll::Ready(result) => {
                    let _ = request.send(result.map(|s| s.compat()).map_err(OpenError::from));
                    continue;
                }
                Poll::Pending => waiting = Some(request),
            }
        }
        // Reading inbound frames is what drives the whole session (writes included).
        match connection.poll_next_inbound(cx) {
            Poll::Ready(Some(Ok(stream))) => {
                if let Some(inbound) = &inbound {
                    if inbound.try_send(stream.compat()).is_err() {
                        tracing::debug!("tunnel stream refused: no room to serve it");
                    }
                }
            }
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
            Poll::Ready(None) => return Poll::Ready(Ok(())),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Two ends over an in-memory pipe: the cloud opens, the gateway echoes; a large transfer
    /// on one stream does not keep a second stream's small exchange waiting for it to end.
    #[tokio::test]
    async fn streams_opened_by_the_cloud_reach_the_gateway_and_share_the_session() {
        let (cloud_io, gateway_io) = tokio::io::duplex(64 * 1024);
        let (open, opens) = mpsc::channel(4);
        let (_no_open, no_opens) = mpsc::channel(1);
        let (accepted, mut accepts) = mpsc::channel(4);
        tokio::spawn(drive(cloud_io, End::Cloud, opens, None));
        tokio::spawn(drive(gateway_io, End::Gateway, no_opens, Some(accepted)));
        tokio::spawn(async move {
            while let Some(mut stream) = accepts.recv().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = tokio::io::split(&mut stream);
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                    let _ = write.shutdown().await;
                });
            }
        });
        let open_stream = || async {
            let (answer, opened) = oneshot::channel();
            open.send(answer).await.unwrap();
            opened.await.unwrap().unwrap()
        };
        let mut big = open_stream().await;
        let mut small = open_stream().await;
        // 4 MiB written and not yet read back: the big stream's window is full.
        let payload = vec![7u8; 4 * 1024 * 1024];
        let writer = tokio::spawn(async move {
            big.write_all(&payload).await.unwrap();
            big
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        small.write_all(b"ping").await.unwrap();
        let mut echoed = [0u8; 4];
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            small.read_exact(&mut echoed),
        )
        .await
        .expect("the small stream is not held up by the big one")
        .unwrap();
        assert_eq!(&echoed, b"ping");
        // The big transfer is still stuck on its own window, not finished.
        assert!(!writer.is_finished());
        writer.abort();
    }
}
