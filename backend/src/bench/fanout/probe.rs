//! The probe DMS: a gateway the coordinator plays itself, so it knows to the microsecond when
//! the heartbeat that changes the DMS's state left.

use futures_util::SinkExt;
use stratus_shared::api::gateway::Heartbeat;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::bench::setup::now_micros;
use crate::demo::DemoSystem;
use crate::simulator;

/// The probe's open gateway socket.
pub struct Probe {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Probe {
    /// Trades the probe's connect code and opens its gateway socket.
    pub async fn connect(url: &str, system: &DemoSystem) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        let credentials = simulator::connect(&http, url, &system.connect_code).await?;
        let ws_url = format!("{}/api/gateway/ws", url.replacen("http://", "ws://", 1));
        let mut request = ws_url.as_str().into_client_request()?;
        request.headers_mut().insert(
            "Authorization",
            format!("Bearer {}", credentials.token).parse()?,
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { socket })
    }

    /// Sends a heartbeat and returns when it left (wall clock, microseconds).
    pub async fn heartbeat(&mut self, dms_responding: bool) -> anyhow::Result<i64> {
        let heartbeat = Heartbeat {
            dms_responding,
            dms_version: "bench-probe".into(),
            agent_count: 1,
            timestamp: crate::db::now(),
        };
        let text = serde_json::to_string(&heartbeat)?;
        let sent = now_micros();
        self.socket.send(Message::text(text)).await?;
        Ok(sent)
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
