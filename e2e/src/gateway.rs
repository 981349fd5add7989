//! A DMS's cloud gateway, played over the real protocol: trade a connect code for credentials,
//! open the WebSocket with the DMS token, send heartbeats.

use futures_util::SinkExt;
use stratus_shared::api::gateway::{DmsCredentials, Heartbeat};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One simulated gateway.
pub struct Gateway {
    base_url: String,
    pub credentials: DmsCredentials,
    socket: Option<Socket>,
}

impl Gateway {
    /// Trades `connect_code` for the DMS's credentials.
    pub async fn connect(base_url: &str, connect_code: &str) -> Result<Self, String> {
        let response = reqwest::Client::new()
            .post(format!("{base_url}/api/gateway/connect"))
            .json(&serde_json::json!({ "connect_code": connect_code }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("connect answered {}", response.status()));
        }
        let credentials = response.json().await.map_err(|error| error.to_string())?;
        Ok(Self {
            base_url: base_url.to_owned(),
            credentials,
            socket: None,
        })
    }

    /// Opens the WebSocket (replacing an open one).
    pub async fn open(&mut self) -> Result<(), String> {
        let url = format!(
            "{}/api/gateway/ws",
            self.base_url.replacen("http://", "ws://", 1)
        );
        let mut request = url.into_client_request().map_err(|e| e.to_string())?;
        let authorization = format!("Bearer {}", self.credentials.token)
            .parse()
            .map_err(|_| "token is not a header value".to_owned())?;
        request.headers_mut().insert("Authorization", authorization);
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|error| error.to_string())?;
        self.socket = Some(socket);
        Ok(())
    }

    /// Sends a heartbeat saying whether the DMS responds.
    pub async fn heartbeat(&mut self, dms_responding: bool) -> Result<(), String> {
        self.heartbeat_as(dms_responding, "10.5.2").await
    }

    /// Sends a heartbeat that reports `dms_version` as the DMS's version.
    pub async fn heartbeat_as(
        &mut self,
        dms_responding: bool,
        dms_version: &str,
    ) -> Result<(), String> {
        let socket = self.socket.as_mut().ok_or("the socket is not open")?;
        let heartbeat = Heartbeat {
            dms_responding,
            dms_version: dms_version.into(),
            agent_count: 3,
            timestamp: chrono::Utc::now(),
        };
        let text = serde_json::to_string(&heartbeat).map_err(|e| e.to_string())?;
        socket
            .send(Message::text(text))
            .await
            .map_err(|error| error.to_string())
    }

    /// Closes the WebSocket, as a gateway that loses its connection.
    pub async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
    }
}
