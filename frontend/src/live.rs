//! The live overview: every visible DMS as a row of fine-grained signals, kept current by the
//! `/api/live` Server-Sent Events stream.
//!
//! The stream is read with `fetch` (not `EventSource`) so the access token travels in the
//! `Authorization` header, never in a URL. When it drops, the overview says so and reconnects
//! with backoff, resuming from the last event id.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use js_sys::{Reflect, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use stratus_shared::api::live::{Snapshot, StateChanges, SystemStateEvent};
use stratus_shared::api::organizations::{Organization, System};
use stratus_shared::ConnectionState;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::session::Session;

/// The current time, from the browser's clock.
pub fn now_utc() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// One DMS on the overview. Only the parts that change are signals, so a state change
/// re-renders that row's icon, bar, tooltip and time, nothing else.
#[derive(Clone)]
pub struct SystemRow {
    pub id: String,
    pub organization_id: String,
    pub name: RwSignal<String>,
    pub state: RwSignal<ConnectionState>,
    pub last_online_at: RwSignal<Option<DateTime<Utc>>>,
    /// The DMS's own remote-access switch, as of the last list read.
    pub remote_access_enabled: bool,
}

impl SystemRow {
    fn from_system(system: System) -> Self {
        Self {
            id: system.id,
            organization_id: system.organization_id,
            name: RwSignal::new(system.name),
            state: RwSignal::new(system.state),
            last_online_at: RwSignal::new(system.last_online_at),
            remote_access_enabled: system.remote_access_enabled,
        }
    }

    fn apply(&self, event: &SystemStateEvent) {
        if self.state.get_untracked() != event.state {
            self.state.set(event.state);
        }
        if self.last_online_at.get_untracked() != event.last_online_at {
            self.last_online_at.set(event.last_online_at);
        }
    }
}

/// How the live stream is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// First connection under way.
    Connecting,
    /// Receiving changes.
    Live,
    /// Dropped; trying again.
    Reconnecting,
    /// The API cannot be reached at all: the states shown may be stale.
    Unreachable,
}

/// Everything the overview shows, shared by its components.
#[derive(Clone, Copy)]
pub struct Overview {
    pub rows: RwSignal<Vec<SystemRow>>,
    pub organizations: RwSignal<Vec<Organization>>,
    pub status: RwSignal<StreamStatus>,
    /// Ticks every 15 s so relative times ("3 minutes ago") stay true without a reload.
    pub now: RwSignal<DateTime<Utc>>,
    /// Whether the first list has arrived.
    pub loaded: RwSignal<bool>,
    /// The connect code just issued (DMS name, code): shown until dismissed, never stored.
    pub new_code: RwSignal<Option<(String, stratus_shared::api::organizations::ConnectCode)>>,
    by_id: StoredValue<HashMap<String, SystemRow>>,
    last_event_id: StoredValue<Option<String>>,
    /// Reloads run concurrently (the stream's and the connect form's): each takes a number when
    /// it starts, and one whose answer arrives after a later-started one was applied is dropped,
    /// so an older list never replaces a newer one.
    reloads_started: StoredValue<u64>,
    reload_applied: StoredValue<u64>,
    /// Set to false when the overview goes away, so its stream loop ends (see `is_open`).
    alive: StoredValue<bool>,
}

impl Overview {
    /// Starts loading and streaming for the signed-in session.
    pub fn start(session: Session) -> Self {
        let overview = Self {
            rows: RwSignal::new(Vec::new()),
            organizations: RwSignal::new(Vec::new()),
            status: RwSignal::new(StreamStatus::Connecting),
            now: RwSignal::new(now_utc()),
            loaded: RwSignal::new(false),
            new_code: RwSignal::new(None),
            by_id: StoredValue::new(HashMap::new()),
            last_event_id: StoredValue::new(None),
            reloads_started: StoredValue::new(0),
            reload_applied: StoredValue::new(0),
            alive: StoredValue::new(true),
        };
        let tick =
            set_interval_with_handle(move || overview.now.set(now_utc()), Duration::from_secs(15))
                .ok();
        on_cleanup(move || {
            overview.alive.set_value(false);
            if let Some(tick) = tick {
                tick.clear();
            }
        });
        spawn_local(async move { overview.run(session).await });
        overview
    }

    /// Whether the page showing the overview is still there. Once it is gone so are its
    /// values, yet the stream can still deliver an event (or a reload answer) after that: every
    /// step after an `await` asks this first.
    fn is_open(&self) -> bool {
        self.alive.try_get_value().unwrap_or(false)
    }

    async fn run(self, session: Session) {
        let mut backoff_ms: u32 = 500;
        while self.is_open() {
            let Ok(token) = session.token() else {
                return;
            };
            if !self.loaded.get_untracked() {
                if let Err(failure) = self.reload(&token).await {
                    if failure == api::ApiFailure::Unreachable {
                        self.status.set(StreamStatus::Unreachable);
                    }
                }
                if !self.is_open() {
                    return;
                }
            }
            match self.stream(&token).await {
                // The server ended the stream (e.g. it is restarting): reconnect at once.
                Ok(()) => backoff_ms = 500,
                Err(StreamError::Unauthorized) => {
                    // The access token expired under the stream: renew it, then go on.
                    match api::auth::refresh().await {
                        Ok(grant) => session.set(grant),
                        Err(_) => {
                            session.clear();
                            return;
                        }
                    }
                }
                Err(StreamError::Unreachable) => {
                    self.status.set(StreamStatus::Unreachable);
                }
                Err(StreamError::Dropped) => {}
            }
            if !self.is_open() {
                return;
            }
            if self.status.get_untracked() != StreamStatus::Unreachable {
                self.status.set(StreamStatus::Reconnecting);
            }
            sleep(backoff_ms).await;
            backoff_ms = (backoff_ms * 2).min(15_000);
        }
    }

    /// Loads the organizations and DMS list afresh.
    pub async fn reload(&self, token: &str) -> Result<(), api::ApiFailure> {
        self.reloads_started.update_value(|started| *started += 1);
        let this_reload = self.reloads_started.get_value();
        let organizations = api::organizations::list(token).await?;
        let systems = api::systems::list(token).await?;
        if !self.is_open() || self.reload_applied.get_value() > this_reload {
            return Ok(());
        }
        self.reload_applied.set_value(this_reload);
        self.organizations.set(organizations);
        let rows: Vec<SystemRow> = systems.into_iter().map(SystemRow::from_system).collect();
        self.by_id.set_value(
            rows.iter()
                .map(|row| (row.id.clone(), row.clone()))
                .collect(),
        );
        self.rows.set(rows);
        self.loaded.set(true);
        Ok(())
    }

    /// Reads one connection of the stream until it ends.
    async fn stream(&self, token: &str) -> Result<(), StreamError> {
        let reader = open_stream(token, self.last_event_id.get_value().as_deref()).await?;
        let mut buffer: Vec<u8> = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|_| StreamError::Dropped)?;
            if !self.is_open() {
                let _ = reader.cancel();
                return Ok(());
            }
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()
                .and_then(|value| value.as_bool())
                .unwrap_or(true);
            if done {
                return Err(StreamError::Dropped);
            }
            let bytes = Reflect::get(&chunk, &JsValue::from_str("value"))
                .ok()
                .and_then(|value| value.dyn_into::<Uint8Array>().ok())
                .map(|array| array.to_vec())
                .unwrap_or_default();
            buffer.extend_from_slice(&bytes);
            while let Some(end) = find_event_end(&buffer) {
                let raw: Vec<u8> = buffer.drain(..end + 2).collect();
                let event = parse_event(&String::from_utf8_lossy(&raw));
                self.handle(event, token).await;
                if !self.is_open() {
                    let _ = reader.cancel();
                    return Ok(());
                }
            }
        }
    }

    async fn handle(&self, event: SseEvent, token: &str) {
        if let Some(id) = event.id {
            self.last_event_id.set_value(Some(id));
        }
        self.status.set(StreamStatus::Live);
        match event.name.as_str() {
            "snapshot" => {
                if let Ok(snapshot) = serde_json::from_str::<Snapshot>(&event.data) {
                    // A snapshot may name DMSs this page has not listed yet: reload first.
                    let unknown = snapshot.systems.iter().any(|s| {
                        self.by_id
                            .with_value(|rows| !rows.contains_key(&s.system_id))
                    });
                    let listed = snapshot.systems.len() != self.rows.with_untracked(Vec::len);
                    if snapshot.changed || unknown || listed {
                        let _ = self.reload(token).await;
                        if !self.is_open() {
                            return;
                        }
                    }
                    for state in &snapshot.systems {
                        self.apply(state);
                    }
                }
            }
            "changes" => {
                if let Ok(changes) = serde_json::from_str::<StateChanges>(&event.data) {
                    self.apply_changes(&changes, token).await;
                }
            }
            _ => {}
        }
    }

    /// Applies a burst of changes in one pass: states first (reloading the list once if one
    /// names a DMS registered since it was loaded), then removals.
    async fn apply_changes(&self, changes: &StateChanges, token: &str) {
        let unknown = changes.states.iter().any(|state| {
            self.by_id
                .with_value(|rows| !rows.contains_key(&state.system_id))
        });
        if unknown {
            let _ = self.reload(token).await;
            if !self.is_open() {
                return;
            }
        }
        for state in &changes.states {
            self.apply(state);
        }
        if !changes.removed.is_empty() {
            let removed: HashSet<&str> = changes
                .removed
                .iter()
                .map(|removed| removed.system_id.as_str())
                .collect();
            self.by_id
                .update_value(|rows| rows.retain(|id, _| !removed.contains(id.as_str())));
            self.rows
                .update(|rows| rows.retain(|row| !removed.contains(row.id.as_str())));
        }
    }

    fn apply(&self, state: &SystemStateEvent) {
        if let Some(row) = self
            .by_id
            .with_value(|rows| rows.get(&state.system_id).cloned())
        {
            row.apply(state);
        }
    }
}

enum StreamError {
    Unauthorized,
    Unreachable,
    Dropped,
}

async fn open_stream(
    token: &str,
    last_event_id: Option<&str>,
) -> Result<web_sys::ReadableStreamDefaultReader, StreamError> {
    let window = web_sys::window().ok_or(StreamError::Unreachable)?;
    let headers = web_sys::Headers::new().map_err(|_| StreamError::Unreachable)?;
    let _ = headers.set("Accept", "text/event-stream");
    let _ = headers.set("Authorization", &format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        let _ = headers.set("Last-Event-ID", id);
    }
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init("/api/live", &init)
        .map_err(|_| StreamError::Unreachable)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| StreamError::Unreachable)?
        .dyn_into()
        .map_err(|_| StreamError::Unreachable)?;
    match response.status() {
        200 => {}
        401 => return Err(StreamError::Unauthorized),
        _ => return Err(StreamError::Dropped),
    }
    let body = response.body().ok_or(StreamError::Dropped)?;
    body.get_reader()
        .dyn_into::<web_sys::ReadableStreamDefaultReader>()
        .map_err(|_| StreamError::Dropped)
}

/// One Server-Sent Event.
#[derive(Debug, Default, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub name: String,
    pub data: String,
}

/// Where the first complete event in `buffer` ends (the index of its blank line).
fn find_event_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|pair| pair == b"\n\n")
}

/// Parses one event's lines (`id:`, `event:`, `data:`; comments start with `:`).
pub fn parse_event(raw: &str) -> SseEvent {
    let mut event = SseEvent {
        name: "message".into(),
        ..Default::default()
    };
    let mut data: Vec<&str> = Vec::new();
    for line in raw.lines() {
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.name = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    event.data = data.join("\n");
    event
}

async fn sleep(milliseconds: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                milliseconds as i32,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}
