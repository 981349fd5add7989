//! A person's open `/api/live` stream on one backend, read in the background: what it shows
//! now and every state it showed, per DMS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One event as the stream sent it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: String,
    pub event: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Default)]
struct Seen {
    events: Vec<Shown>,
    /// What the stream shows now, per DMS.
    states: HashMap<String, String>,
    /// Every state shown per DMS since the stream opened (snapshots included), in order.
    shown: HashMap<String, Vec<String>>,
    ended: bool,
}

/// A stream read by a background task until dropped.
pub struct Viewer {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
    pub backend: String,
}

impl Viewer {
    /// Opens `base/api/live` as `token` (resuming after `last_event_id`).
    pub async fn open(
        client: &reqwest::Client,
        base: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Self {
        let mut request = client.get(format!("{base}/api/live")).bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200, "GET {base}/api/live");
        let backend = response
            .headers()
            .get("x-stratus-backend")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let task = tokio::spawn(read(response, seen.clone()));
        let viewer = Self {
            seen,
            task,
            backend,
        };
        viewer
            .wait(20, "the first event", |seen| !seen.events.is_empty())
            .await;
        viewer
    }

    async fn wait(&self, seconds: u64, what: &str, check: impl Fn(&Seen) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            {
                let seen = self.lock();
                if check(&seen) {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "viewer on {}: not within {seconds} s: {what}; last events: {:#?}",
                    self.backend,
                    &seen.events[seen.events.len().saturating_sub(5)..]
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until the stream shows `system` in `state`.
    pub async fn wait_for_state(&self, system: &str, state: &str) {
        self.wait(30, &format!("{system} shown {state}"), |seen| {
            seen.states.get(system).map(String::as_str) == Some(state)
        })
        .await;
    }

    /// Waits until the stream shows every DMS of `systems` in `state`.
    pub async fn wait_for_all(&self, systems: &[String], state: &str, seconds: u64) {
        self.wait(seconds, &format!("every DMS shown {state}"), |seen| {
            systems
                .iter()
                .all(|system| seen.states.get(system).map(String::as_str) == Some(state))
        })
        .await;
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<Shown> {
        self.lock().events.clone()
    }

    /// The id of the last event so far.
    pub fn last_event_id(&self) -> String {
        self.lock()
            .events
            .iter()
            .rev()
            .find(|event| !event.id.is_empty())
            .map(|event| event.id.clone())
            .unwrap_or_default()
    }

    /// The states `system` was shown in, in order, repetitions of one state folded.
    pub fn shown(&self, system: &str) -> Vec<String> {
        let mut shown = self.lock().shown.get(system).cloned().unwrap_or_default();
        shown.dedup();
        shown
    }

    /// What the stream shows now for `system`.
    pub fn state_of(&self, system: &str) -> Option<String> {
        self.lock().states.get(system).cloned()
    }

    /// Whether the server ended the stream.
    pub fn ended(&self) -> bool {
        self.lock().ended
    }

    /// How many snapshots the stream sent.
    pub fn snapshots(&self) -> usize {
        self.lock()
            .events
            .iter()
            .filter(|event| event.event == "snapshot")
            .count()
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read(mut response: reqwest::Response, seen: Arc<Mutex<Seen>>) {
    let mut buffer = String::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if let Some(event) = parse(&block) {
                let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                apply(&mut seen, event);
            }
        }
        match response.chunk().await {
            Ok(Some(chunk)) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            _ => {
                seen.lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .ended = true;
                return;
            }
        }
    }
}

fn parse(block: &str) -> Option<Shown> {
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
        return None; // a keep-alive comment
    }
    Some(Shown {
        id,
        event,
        data: serde_json::from_str(&data).expect("event data is JSON"),
    })
}

fn apply(seen: &mut Seen, event: Shown) {
    let states_of = |value: &serde_json::Value| -> Vec<(String, String)> {
        value
            .as_array()
            .map(|states| {
                states
                    .iter()
                    .filter_map(|state| {
                        Some((
                            state["system_id"].as_str()?.to_owned(),
                            state["state"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match event.event.as_str() {
        "snapshot" => {
            seen.states.clear();
            for (system, state) in states_of(&event.data["systems"]) {
                seen.shown
                    .entry(system.clone())
                    .or_default()
                    .push(state.clone());
                seen.states.insert(system, state);
            }
        }
        "changes" => {
            for (system, state) in states_of(&event.data["states"]) {
                seen.shown
                    .entry(system.clone())
                    .or_default()
                    .push(state.clone());
                seen.states.insert(system, state);
            }
            if let Some(removed) = event.data["removed"].as_array() {
                for gone in removed {
                    if let Some(system) = gone["system_id"].as_str() {
                        seen.states.remove(system);
                        seen.shown
                            .entry(system.to_owned())
                            .or_default()
                            .push("removed".into());
                    }
                }
            }
        }
        _ => {}
    }
    seen.events.push(event);
}
