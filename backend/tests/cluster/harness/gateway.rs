//! One DMS gateway played by the test: a WebSocket sending a heartbeat every second, saying
//! whether the DMS responds as the test decides, until the server closes it or it is dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use stratus_backend::simulator::{gateway_ws_url, open_gateway_socket};
use stratus_shared::api::gateway::Heartbeat;
use tokio_tungstenite::tungstenite::Message;

/// How a gateway's socket ended: the server's close code, or `None` without one.
type Ending = Option<Option<u16>>;

/// A connected gateway.
pub struct Gateway {
    responding: Arc<AtomicBool>,
    ending: Arc<Mutex<Ending>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Connects to `base` (nginx or one backend) with a DMS token and starts heartbeating.
    pub async fn connect(base: &str, token: &str) -> Self {
        match Self::try_connect(base, token).await {
            Ok(gateway) => gateway,
            Err(status) => panic!("the gateway socket is refused with {status}"),
        }
    }

    /// Like [`Gateway::connect`]; the HTTP status when the server refuses the socket.
    pub async fn try_connect(base: &str, token: &str) -> Result<Self, u16> {
        use tokio_tungstenite::tungstenite::Error;
        let mut socket = match open_gateway_socket(&gateway_ws_url(base), token, None).await {
            Ok(socket) => socket,
            Err(Error::Http(response)) => return Err(response.status().as_u16()),
            Err(error) => panic!("the gateway socket fails: {error}"),
        };
        let responding = Arc::new(AtomicBool::new(true));
        let ending = Arc::new(Mutex::new(None));
        let task = {
            let (responding, ending) = (responding.clone(), ending.clone());
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(Duration::from_secs(1));
                let code = loop {
                    tokio::select! {
                        _ = ticks.tick() => {
                            let heartbeat = Heartbeat {
                                dms_responding: responding.load(Ordering::SeqCst),
                                dms_version: "10.5.2".into(),
                                agent_count: 1,
                                timestamp: chrono::Utc::now(),
                            };
                            let text = serde_json::to_string(&heartbeat).expect("JSON");
                            if socket.send(Message::text(text)).await.is_err() {
                                break None;
                            }
                        }
                        message = socket.next() => match message {
                            Some(Ok(Message::Close(frame))) => {
                                break frame.map(|frame| u16::from(frame.code));
                            }
                            Some(Ok(_)) => {}
                            _ => break None,
                        },
                    }
                };
                *ending
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(code);
            })
        };
        Ok(Self {
            responding,
            ending,
            task,
        })
    }

    /// What the next heartbeats say about the DMS.
    pub fn set_responding(&self, responding: bool) {
        self.responding.store(responding, Ordering::SeqCst);
    }

    /// How the socket ended, `None` while it is open.
    pub fn ending(&self) -> Ending {
        *self
            .ending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits up to `seconds` for the server to close the socket; its close code.
    pub async fn closed_within(&self, seconds: u64) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(code) = self.ending() {
                return code;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not close the gateway's socket within {seconds} s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // The connection just ends, as when a gateway's machine loses its network.
        self.task.abort();
    }
}
