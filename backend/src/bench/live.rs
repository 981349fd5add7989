//! A `/api/live` subscriber that counts what it sees, to show the states did not flap while
//! the load ran. It reads every event format the stream has had: `snapshot` ([`Snapshot`]),
//! one `state` per change ([`SystemStateEvent`]), `removed`, and the coalesced `changes`
//! ([`StateChanges`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use stratus_shared::api::live::{Snapshot, StateChanges, SystemStateEvent};

use super::Target;
use crate::auth::AccessTokens;

/// What the subscriber has seen so far.
#[derive(Debug, Default)]
pub struct LiveCounts {
    /// `snapshot` events (the first one, then any "read the list again").
    pub snapshots: AtomicU64,
    /// DMS states changed: one per `state` event, one per entry of a `changes` event.
    pub state_changes: AtomicU64,
    /// DMSs removed.
    pub removed: AtomicU64,
    /// Events of a kind this reader does not know, or data it cannot read.
    pub unknown: AtomicU64,
    /// The stream ended (the server closed it or the connection broke).
    pub ended: AtomicBool,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveSample {
    pub snapshots: u64,
    pub state_changes: u64,
    pub removed: u64,
    pub unknown: u64,
}

impl LiveCounts {
    /// The counters now.
    pub fn sample(&self) -> LiveSample {
        LiveSample {
            snapshots: self.snapshots.load(Ordering::Relaxed),
            state_changes: self.state_changes.load(Ordering::Relaxed),
            removed: self.removed.load(Ordering::Relaxed),
            unknown: self.unknown.load(Ordering::Relaxed),
        }
    }

    /// Counts one SSE block (the lines between two blank lines).
    fn count(&self, block: &str) {
        let mut event = "message";
        let mut data = String::new();
        for line in block.lines() {
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim();
            } else if let Some(part) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(part.strip_prefix(' ').unwrap_or(part));
            }
        }
        if data.is_empty() {
            return; // a comment or a keep-alive
        }
        let counted = match event {
            "snapshot" => serde_json::from_str::<Snapshot>(&data)
                .map(|_| self.snapshots.fetch_add(1, Ordering::Relaxed))
                .is_ok(),
            "state" => serde_json::from_str::<SystemStateEvent>(&data)
                .map(|_| self.state_changes.fetch_add(1, Ordering::Relaxed))
                .is_ok(),
            "removed" => {
                self.removed.fetch_add(1, Ordering::Relaxed);
                true
            }
            "changes" => serde_json::from_str::<StateChanges>(&data)
                .map(|changes| {
                    self.state_changes
                        .fetch_add(changes.states.len() as u64, Ordering::Relaxed);
                    self.removed
                        .fetch_add(changes.removed.len() as u64, Ordering::Relaxed);
                })
                .is_ok(),
            _ => false,
        };
        if !counted {
            self.unknown.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Subscribes to `/api/live` as `user_id` and counts its events in the background. Returns once
/// the stream is open.
pub async fn subscribe(target: &Target, user_id: &str) -> anyhow::Result<Arc<LiveCounts>> {
    let (token, _) = AccessTokens::new(&target.secrets.session_key, &target.settings.public_url())
        .issue(user_id, crate::db::now());
    let response = reqwest::Client::new()
        .get(format!("{}/api/live", target.url))
        .bearer_auth(&token)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "the live stream refused the benchmark subscriber ({}): run bench with the server's settings",
        response.status()
    );
    let counts = Arc::new(LiveCounts::default());
    tokio::spawn(follow(response, counts.clone()));
    Ok(counts)
}

async fn follow(mut response: reqwest::Response, counts: Arc<LiveCounts>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        if buffer.contains('\r') {
            buffer = buffer.replace("\r\n", "\n");
        }
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            counts.count(&block);
        }
    }
    counts.ended.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = r#"{"system_id":"s1","organization_id":"o1","state":"connected","last_online_at":null,"at":"2026-12-03T00:00:00Z"}"#;

    #[test]
    fn every_event_format_is_counted() {
        let counts = LiveCounts::default();
        counts.count("id: 1\nevent: snapshot\ndata: {\"systems\":[]}\n");
        counts.count(&format!("id: 2\nevent: state\ndata: {STATE}\n"));
        counts.count(&format!(
            "id: 3\nevent: changes\ndata: {{\"states\":[{STATE},{STATE}],\"removed\":[{{\"system_id\":\"s2\",\"organization_id\":\"o1\"}}]}}\n"
        ));
        counts.count(": keep-alive\n");
        counts.count("event: state\ndata: not json\n");
        assert_eq!(
            counts.sample(),
            LiveSample {
                snapshots: 1,
                state_changes: 3,
                removed: 1,
                unknown: 1
            }
        );
    }
}
