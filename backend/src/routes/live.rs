//! `GET /api/live`: Server-Sent Events of the DMS states a signed-in person may see.
//!
//! Authenticated with `Authorization: Bearer` (the web client reads the stream with fetch),
//! so no credential ever goes into a URL.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use stratus_shared::api::live::{Snapshot, SystemRemovedEvent};
use tokio::sync::broadcast;

use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::organizations;
use crate::error::AppError;
use crate::live::{LiveEvent, LiveHub, StreamStart};

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The stream of DMS states: first `event: snapshot` (a [`Snapshot`] of every DMS of my
/// organizations), then one `event: state` ([`stratus_shared::api::live::SystemStateEvent`])
/// per change, in order, and `event: removed` ([`SystemRemovedEvent`]) when a DMS is removed. Each event has an `id`; reconnecting with `Last-Event-ID` replays
/// what was missed, or starts with a fresh snapshot when that is no longer possible.
#[utoipa::path(
    tag = "live",
    security(("access_token" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream", body = Snapshot),
        (status = 401, description = "Not signed in", body = stratus_shared::ApiError),
    )
)]
#[get("/live")]
pub async fn live_events(
    request: HttpRequest,
    user: CurrentUser,
    database: web::Data<Database>,
    hub: web::Data<LiveHub>,
) -> Result<HttpResponse, AppError> {
    let ends_at = instant_of(user.expires_at);
    // Listen before reading the organizations, so no change falls in between.
    let memberships = hub.membership_changes();
    let organizations = organizations_of_member(&database, user.user_id.clone()).await?;
    let last_event_id = request
        .headers()
        .get("Last-Event-ID")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (start, receiver) = hub.subscribe(&organizations, last_event_id.as_deref());
    let hub = hub.get_ref().clone();
    let mut pending = VecDeque::new();
    match start {
        StreamStart::Snapshot(sequence, events) => {
            pending.push_back(snapshot_frame(&hub, sequence, events, false))
        }
        StreamStart::Resume(events) => {
            pending.extend(events.iter().map(|event| state_frame(&hub, event)))
        }
    }
    let stream = EventStream {
        hub,
        database: database.get_ref().clone(),
        user_id: user.user_id,
        memberships,
        organizations,
        receiver,
        pending,
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        ends_at,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        // Compression would buffer events; this also tells the Compress middleware to skip.
        .insert_header(("Content-Encoding", "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(stream, next_frame)))
}

async fn organizations_of_member(
    database: &Database,
    user_id: String,
) -> Result<HashSet<String>, crate::db::DatabaseError> {
    Ok(database
        .run(move |connection| Ok(organizations::ids_of(connection, &user_id)?))
        .await?
        .into_iter()
        .collect())
}

struct EventStream {
    hub: LiveHub,
    database: Database,
    user_id: String,
    memberships: broadcast::Receiver<String>,
    organizations: HashSet<String>,
    receiver: broadcast::Receiver<LiveEvent>,
    pending: VecDeque<Bytes>,
    keep_alive: tokio::time::Interval,
    /// When the access token that opened the stream expires: the stream ends then, and the
    /// client reconnects with a fresh token (and `Last-Event-ID`), so a person who lost access
    /// stops receiving events within one token lifetime.
    ends_at: tokio::time::Instant,
}

/// The monotonic instant of a wall-clock time (now, when it has passed).
fn instant_of(at: chrono::DateTime<chrono::Utc>) -> tokio::time::Instant {
    let left = (at - crate::db::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::Instant::now() + left
}

async fn next_frame(mut stream: EventStream) -> Option<(Result<Bytes, Infallible>, EventStream)> {
    loop {
        if let Some(frame) = stream.pending.pop_front() {
            return Some((Ok(frame), stream));
        }
        tokio::select! {
            received = stream.receiver.recv() => match received {
                Ok(event) => {
                    if stream.organizations.contains(&event.event.organization_id) {
                        stream.pending.push_back(state_frame(&stream.hub, &event));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow to follow: start over from a fresh snapshot.
                    let (start, receiver) = stream.hub.subscribe(&stream.organizations, None);
                    stream.receiver = receiver;
                    if let StreamStart::Snapshot(sequence, events) = start {
                        stream.pending.push_back(snapshot_frame(&stream.hub, sequence, events, true));
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            changed = stream.memberships.recv() => {
                let mine = match changed {
                    Ok(user_id) => user_id == stream.user_id,
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                if !mine {
                    continue;
                }
                // My organizations changed: follow the new set, from a fresh snapshot.
                match organizations_of_member(&stream.database, stream.user_id.clone()).await {
                    Ok(organizations) => {
                        stream.organizations = organizations;
                        let (start, receiver) = stream.hub.subscribe(&stream.organizations, None);
                        stream.receiver = receiver;
                        if let StreamStart::Snapshot(sequence, events) = start {
                            stream.pending.push_back(snapshot_frame(&stream.hub, sequence, events, true));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot re-read a stream's organizations"),
                }
            }
            _ = stream.keep_alive.tick() => {
                stream.pending.push_back(Bytes::from_static(b": keep-alive\n\n"));
            }
            () = tokio::time::sleep_until(stream.ends_at) => return None,
        }
    }
}

/// A snapshot; `changed` tells the client that more than states changed (organizations,
/// names), so it reads the list again.
fn snapshot_frame(hub: &LiveHub, sequence: u64, events: Vec<LiveEvent>, changed: bool) -> Bytes {
    let snapshot = Snapshot {
        systems: events.into_iter().map(|event| event.event).collect(),
        changed,
    };
    frame(hub, "snapshot", sequence, &snapshot)
}

fn state_frame(hub: &LiveHub, event: &LiveEvent) -> Bytes {
    if event.removed {
        let removed = SystemRemovedEvent {
            system_id: event.event.system_id.clone(),
            organization_id: event.event.organization_id.clone(),
        };
        frame(hub, "removed", event.sequence, &removed)
    } else {
        frame(hub, "state", event.sequence, &event.event)
    }
}

fn frame(hub: &LiveHub, name: &str, sequence: u64, data: &impl serde::Serialize) -> Bytes {
    // Serializing these plain structs cannot fail; an empty object keeps the stream valid.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!(
        "id: {}\nevent: {name}\ndata: {data}\n\n",
        hub.event_id(sequence)
    ))
}
