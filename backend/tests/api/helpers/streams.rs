//! Raw streams to the test server: a gateway's WebSocket and a `/api/live` SSE reader.

use std::collections::VecDeque;

use super::TestApp;

/// A gateway's WebSocket to the test server.
pub type GatewaySocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the gateway WebSocket with `token` (or none); the HTTP status on refusal.
pub async fn open_gateway(app: &TestApp, token: Option<&str>) -> Result<GatewaySocket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = app.gateway_ws_url().into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(error) => panic!("unexpected WebSocket error: {error}"),
    }
}

/// Sends a heartbeat frame.
pub async fn send_heartbeat(socket: &mut GatewaySocket, dms_responding: bool) {
    use futures_util::SinkExt;
    let heartbeat = stratus_shared::api::gateway::Heartbeat {
        dms_responding,
        dms_version: "10.5.2".into(),
        agent_count: 3,
        timestamp: chrono::Utc::now(),
    };
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::to_string(&heartbeat).unwrap(),
        ))
        .await
        .expect("send a heartbeat");
}

/// Reads frames until the server closes the socket; returns the close code (None when the
/// connection just ended). Bounded so a broken server fails the test instead of hanging it.
pub async fn close_code_of(socket: &mut GatewaySocket) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
        None
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read)
        .await
        .expect("the server closes the socket")
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: String,
    pub event: String,
    pub data: serde_json::Value,
}

/// Reads events from an open `text/event-stream` response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
    /// States of a `changes` event not yet handed out by [`SseReader::next_change`].
    states: VecDeque<serde_json::Value>,
}

impl SseReader {
    /// Opens `GET /api/live` as `token`, optionally resuming after `last_event_id`.
    pub async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = app
            .client
            .get(format!("{}/api/live", app.address))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the server answers");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            buffer: String::new(),
            states: VecDeque::new(),
        }
    }

    /// The next event (comments skipped). Bounded so a missing event fails instead of hanging.
    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.read())
            .await
            .expect("an event arrives")
    }

    async fn read(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id: ") {
                        id = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("event: ") {
                        event = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    }
                }
                if event.is_empty() {
                    continue; // a keep-alive comment
                }
                return SseEvent {
                    id,
                    event,
                    data: serde_json::from_str(&data).expect("event data is JSON"),
                };
            }
            let chunk = self
                .response
                .chunk()
                .await
                .expect("the stream stays readable")
                .expect("the stream stays open");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// Waits until the server ends the stream (events before the end are skipped).
    pub async fn ended(&mut self) {
        let read = async { while let Ok(Some(_)) = self.response.chunk().await {} };
        tokio::time::timeout(std::time::Duration::from_secs(20), read)
            .await
            .expect("the server ends the stream");
    }

    /// The next DMS state change's DMS id and state.
    pub async fn next_state(&mut self) -> (String, String) {
        let state = self.next_change().await;
        (
            state["system_id"].as_str().unwrap().to_owned(),
            state["state"].as_str().unwrap().to_owned(),
        )
    }

    /// The next DMS state change (a `SystemStateEvent`): a `changes` event may carry several,
    /// which come one by one.
    pub async fn next_change(&mut self) -> serde_json::Value {
        loop {
            if let Some(state) = self.states.pop_front() {
                return state;
            }
            let event = self.next().await;
            assert_eq!(event.event, "changes", "{event:?}");
            assert_eq!(event.data["removed"], serde_json::json!([]), "{event:?}");
            let states = event.data["states"].as_array().expect("states is a list");
            assert!(!states.is_empty(), "an event without changes: {event:?}");
            self.states.extend(states.iter().cloned());
        }
    }
}
