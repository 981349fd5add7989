//! The viewers' process (`stratus bench fanout-viewers`): many people watching `/api/live`,
//! each keeping every DMS's state in a byte per DMS, and telling the coordinator on stdout when
//! the probe DMS changes and when all DMSs became connected (or none).
//!
//! Lines written: `ready V` (first snapshot applied), `probe V STATE MICROS`, `all V MICROS`,
//! `none V MICROS`, `lost V` (the stream ended), `vstats SNAPSHOTS STATES CHANGES BYTES`;
//! V is the viewer's number, STATE a [`state_code`], MICROS the wall clock in microseconds.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use stratus_shared::ConnectionState;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::bench::setup::now_micros;

/// The viewers one process plays.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewersArgs {
    /// The server's base URL.
    #[arg(long)]
    pub url: String,
    /// One access token per line; viewer V uses line V.
    #[arg(long)]
    pub tokens_file: std::path::PathBuf,
    /// One DMS id per line: the probe first, then the gateways' DMSs.
    #[arg(long)]
    pub systems_file: std::path::PathBuf,
    /// The number of this process's first viewer.
    #[arg(long)]
    pub first: usize,
    /// How many viewers this process plays.
    #[arg(long)]
    pub count: usize,
    /// Viewers opening their stream (up to their first snapshot) at the same time.
    #[arg(long, default_value_t = 16)]
    pub opening: usize,
}

/// A DMS's state as one byte; [`GONE`] for a removed DMS.
pub fn state_code(state: ConnectionState) -> u8 {
    ConnectionState::ALL
        .iter()
        .position(|known| *known == state)
        .map_or(u8::MAX, |index| index as u8)
}

const GONE: u8 = u8::MAX - 1;
const CONNECTED: u8 = 0;
/// The probe DMS's index in the systems file; every other DMS has a gateway.
const PROBE: usize = 0;

/// The fields of a [`stratus_shared::api::live::SystemStateEvent`] a viewer needs, borrowed
/// from the frame (tens of thousands per snapshot: no allocation per DMS).
#[derive(Deserialize)]
struct StateRef<'a> {
    #[serde(borrow)]
    system_id: Cow<'a, str>,
    state: ConnectionState,
}

#[derive(Deserialize)]
struct RemovedRef<'a> {
    #[serde(borrow)]
    system_id: Cow<'a, str>,
}

/// [`stratus_shared::api::live::Snapshot`], borrowed.
#[derive(Deserialize)]
struct SnapshotRef<'a> {
    #[serde(borrow)]
    systems: Vec<StateRef<'a>>,
}

/// [`stratus_shared::api::live::StateChanges`], borrowed.
#[derive(Deserialize)]
struct ChangesRef<'a> {
    #[serde(borrow, default)]
    states: Vec<StateRef<'a>>,
    #[serde(borrow, default)]
    removed: Vec<RemovedRef<'a>>,
}

/// What every viewer of the process shares.
struct Shared {
    index: HashMap<String, usize>,
    out: mpsc::UnboundedSender<String>,
    snapshots: AtomicU64,
    states: AtomicU64,
    changes: AtomicU64,
    bytes: AtomicU64,
}

/// Whether all DMSs with a gateway are connected, none is, or some.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    None,
    Some,
    All,
}

/// One viewer's picture of the DMSs.
struct Picture {
    states: Vec<u8>,
    /// Connected DMSs other than the probe.
    connected: usize,
    level: Option<Level>,
}

impl Picture {
    fn new(systems: usize) -> Self {
        Self {
            states: vec![state_code(ConnectionState::NeverConnected); systems],
            connected: 0,
            level: None,
        }
    }

    fn set(&mut self, index: usize, code: u8) {
        let Some(slot) = self.states.get_mut(index) else {
            return;
        };
        if index != PROBE {
            match (*slot == CONNECTED, code == CONNECTED) {
                (false, true) => self.connected += 1,
                (true, false) => self.connected -= 1,
                _ => {}
            }
        }
        *slot = code;
    }

    fn reset(&mut self) {
        for index in 0..self.states.len() {
            self.set(index, state_code(ConnectionState::NeverConnected));
        }
    }

    /// The level now, when it differs from the one last told.
    fn new_level(&mut self) -> Option<Level> {
        let gateways = self.states.len().saturating_sub(1);
        let level = match self.connected {
            0 => Level::None,
            n if n == gateways => Level::All,
            _ => Level::Some,
        };
        (self.level.replace(level) != Some(level)).then_some(level)
    }
}

/// Plays `args.count` viewers until the process is stopped.
pub async fn run(args: ViewersArgs) -> anyhow::Result<()> {
    let systems = std::fs::read_to_string(&args.systems_file)
        .with_context(|| format!("cannot read {}", args.systems_file.display()))?;
    let index: HashMap<String, usize> = systems
        .lines()
        .enumerate()
        .map(|(n, id)| (id.trim().to_owned(), n))
        .collect();
    let tokens = std::fs::read_to_string(&args.tokens_file)
        .with_context(|| format!("cannot read {}", args.tokens_file.display()))?;
    let tokens: Vec<String> = tokens
        .lines()
        .skip(args.first)
        .take(args.count)
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(tokens.len() == args.count, "not enough tokens in the file");
    let (out, lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || write_lines(lines));
    let shared = Arc::new(Shared {
        index,
        out,
        snapshots: AtomicU64::new(0),
        states: AtomicU64::new(0),
        changes: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    });
    let http = reqwest::Client::new();
    let opening = Arc::new(Semaphore::new(args.opening.max(1)));
    let url = format!("{}/api/live", args.url.trim_end_matches('/'));
    for (offset, token) in tokens.into_iter().enumerate() {
        let viewer = Viewer {
            number: args.first + offset,
            token,
            url: url.clone(),
            http: http.clone(),
            shared: shared.clone(),
        };
        tokio::spawn(viewer.watch(opening.clone()));
    }
    let mut report = tokio::time::interval(Duration::from_secs(1));
    loop {
        report.tick().await;
        let count = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let _ = shared.out.send(format!(
            "vstats {} {} {} {}",
            count(&shared.snapshots),
            count(&shared.states),
            count(&shared.changes),
            count(&shared.bytes)
        ));
    }
}

/// Writes the viewers' lines to stdout, flushing whenever none is waiting.
fn write_lines(mut lines: mpsc::UnboundedReceiver<String>) {
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    while let Some(line) = lines.blocking_recv() {
        if writeln!(stdout, "{line}").is_err() {
            return;
        }
        if lines.is_empty() && stdout.flush().is_err() {
            return;
        }
    }
}

/// One person watching the live stream.
struct Viewer {
    number: usize,
    token: String,
    url: String,
    http: reqwest::Client,
    shared: Arc<Shared>,
}

impl Viewer {
    /// Follows the stream, opening it again (after a second) whenever it ends.
    async fn watch(self, opening: Arc<Semaphore>) {
        let mut picture = Picture::new(self.shared.index.len());
        let mut ready = false;
        loop {
            let Ok(permit) = opening.clone().acquire_owned().await else {
                return;
            };
            match self
                .http
                .get(&self.url)
                .bearer_auth(&self.token)
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => {
                    self.follow(response, &mut picture, &mut ready, permit)
                        .await;
                }
                Ok(response) => tracing::warn!(status = %response.status(), "live stream refused"),
                Err(error) => tracing::warn!(%error, "cannot open the live stream"),
            }
            let _ = self.shared.out.send(format!("lost {}", self.number));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Reads frames until the stream ends; `permit` is given back after the first snapshot.
    async fn follow(
        &self,
        mut response: reqwest::Response,
        picture: &mut Picture,
        ready: &mut bool,
        permit: OwnedSemaphorePermit,
    ) {
        let mut permit = Some(permit);
        let mut buffer = FrameBuffer::default();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = now_micros();
            self.shared
                .bytes
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            buffer.push(&chunk);
            let mut snapshot_seen = false;
            buffer.frames(|frame| {
                let probe_before = picture.states.get(PROBE).copied();
                snapshot_seen |= self.apply(frame, picture);
                let probe_after = picture.states.get(PROBE).copied();
                if let (true, Some(code)) = (probe_before != probe_after, probe_after) {
                    self.tell(format!("probe {} {code} {at}", self.number));
                }
                match picture.new_level() {
                    Some(Level::All) => self.tell(format!("all {} {at}", self.number)),
                    Some(Level::None) => self.tell(format!("none {} {at}", self.number)),
                    _ => {}
                }
            });
            if snapshot_seen {
                permit = None;
                if !std::mem::replace(ready, true) {
                    self.tell(format!("ready {}", self.number));
                }
            }
        }
        drop(permit);
    }

    fn tell(&self, line: String) {
        let _ = self.shared.out.send(line);
    }

    /// Applies one frame; true when it was a snapshot.
    fn apply(&self, frame: &[u8], picture: &mut Picture) -> bool {
        let Some((event, data)) = parse_frame(frame) else {
            return false;
        };
        let shared = &self.shared;
        let index_of = |id: &str| shared.index.get(id).copied();
        match event.as_str() {
            "snapshot" => {
                shared.snapshots.fetch_add(1, Ordering::Relaxed);
                let Ok(snapshot) = serde_json::from_str::<SnapshotRef>(&data) else {
                    tracing::warn!("malformed snapshot");
                    return false;
                };
                picture.reset();
                for system in &snapshot.systems {
                    if let Some(index) = index_of(&system.system_id) {
                        picture.set(index, state_code(system.state));
                    }
                }
                true
            }
            "state" => {
                shared.states.fetch_add(1, Ordering::Relaxed);
                if let Ok(system) = serde_json::from_str::<StateRef>(&data) {
                    if let Some(index) = index_of(&system.system_id) {
                        picture.set(index, state_code(system.state));
                    }
                }
                false
            }
            "changes" => {
                shared.changes.fetch_add(1, Ordering::Relaxed);
                if let Ok(changes) = serde_json::from_str::<ChangesRef>(&data) {
                    for system in &changes.states {
                        if let Some(index) = index_of(&system.system_id) {
                            picture.set(index, state_code(system.state));
                        }
                    }
                    for removed in &changes.removed {
                        if let Some(index) = index_of(&removed.system_id) {
                            picture.set(index, GONE);
                        }
                    }
                }
                false
            }
            "removed" => {
                if let Ok(removed) = serde_json::from_str::<RemovedRef>(&data) {
                    if let Some(index) = index_of(&removed.system_id) {
                        picture.set(index, GONE);
                    }
                }
                false
            }
            _ => false,
        }
    }
}

/// The event name and data of an SSE frame (`data:` lines joined by newlines); `None` for a
/// comment or a frame without data.
fn parse_frame(frame: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(frame).ok()?;
    let mut event = "message";
    let mut data: Option<String> = None;
    for line in text.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = value,
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Some((event.to_owned(), data?))
}

/// Bytes of the stream not yet cut into frames; each byte is scanned once for the blank line
/// that ends a frame, so a snapshot of megabytes in many chunks costs no more than one pass.
#[derive(Default)]
struct FrameBuffer {
    bytes: Vec<u8>,
    scanned: usize,
}

impl FrameBuffer {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
    }

    /// Hands every complete frame (without its blank line) to `handle`.
    fn frames(&mut self, mut handle: impl FnMut(&[u8])) {
        let mut start = 0;
        let mut from = self.scanned.max(1);
        while from < self.bytes.len() {
            let Some(offset) = self.bytes[from..].iter().position(|byte| *byte == b'\n') else {
                from = self.bytes.len();
                break;
            };
            let end = from + offset;
            if self.bytes[end - 1] == b'\n' {
                handle(&self.bytes[start..end - 1]);
                start = end + 1;
                from = start + 1;
            } else {
                from = end + 1;
            }
        }
        self.bytes.drain(..start);
        self.scanned = from.saturating_sub(start).min(self.bytes.len());
    }
}

#[cfg(test)]
#[path = "viewers_tests.rs"]
mod tests;
