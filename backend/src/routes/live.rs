//! `GET /api/live`: Server-Sent Events of the DMS states a signed-in person may see.
//!
//! Authenticated with `Authorization: Bearer` (the web client reads the stream with fetch),
//! so no credential ever goes into a URL.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use stratus_shared::api::live::{Snapshot, StateChanges};
use tokio::sync::broadcast;

use crate::auth::CurrentUser;
use crate::db::Database;
use crate::domain::organizations;
use crate::error::AppError;
use crate::live::{LiveBatch, LiveEvent, LiveHub, StreamStart};

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The stream of DMS states: first `event: snapshot` (a [`Snapshot`] of every DMS of my
/// organizations), then `event: changes` ([`StateChanges`]): the DMSs whose state changed and
/// those removed, a burst of changes coalesced into one event. Each event has an `id`;
/// reconnecting with `Last-Event-ID` replays what was missed (as one `changes` event), or
/// starts with a fresh snapshot when that is no longer possible.
#[utoipa::path(
    tag = "live",
    security(("access_token" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "An event stream: a snapshot, then changes", content_type = "text/event-stream", body = Snapshot),
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
    let memberships = hub.membership_changes(&user.user_id);
    let ended_sessions = hub.revoked_sessions().subscribe();
    if let Some(session_id) = &user.session_id {
        // Ended between the token check and the subscription just made.
        if hub.revoked_sessions().contains(session_id) {
            return Err(AppError::Unauthorized);
        }
    }
    let organizations = organizations_of_member(&database, user.user_id.clone()).await?;
    let last_event_id = request
        .headers()
        .get("Last-Event-ID")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let resyncs = hub.resyncs();
    let (start, receiver) = hub.subscribe(&organizations, last_event_id.as_deref());
    let hub = hub.get_ref().clone();
    let mut pending = VecDeque::new();
    pending.extend(start_frame(&hub, start, false));
    let stream = EventStream {
        hub,
        database: database.get_ref().clone(),
        user_id: user.user_id,
        session_id: user.session_id,
        ended_sessions,
        memberships,
        resyncs,
        organizations,
        receiver,
        pending,
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        expiry: Box::pin(tokio::time::sleep_until(ends_at)),
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
    /// The session of the token that opened the stream: it closes when that session ends.
    session_id: Option<String>,
    ended_sessions: broadcast::Receiver<std::sync::Arc<str>>,
    memberships: tokio::sync::watch::Receiver<u64>,
    /// The hub asks every stream to start over (it lost or regained the ability to tell
    /// states, or rejoined the cluster's bus).
    resyncs: broadcast::Receiver<()>,
    organizations: HashSet<String>,
    receiver: broadcast::Receiver<LiveBatch>,
    pending: VecDeque<Bytes>,
    keep_alive: tokio::time::Interval,
    /// When the access token that opened the stream expires: the stream ends then, and the
    /// client reconnects with a fresh token (and `Last-Event-ID`), so a person who lost access
    /// stops receiving events within one token lifetime. Made once: a timer made anew for
    /// every event would register and cancel 1,000 timers per change with 1,000 streams open.
    expiry: std::pin::Pin<Box<tokio::time::Sleep>>,
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
                Ok(batch) => {
                    let organizations = &stream.organizations;
                    let mine = batch
                        .iter()
                        .filter(|event| organizations.contains(&event.event.organization_id));
                    stream.pending.extend(changes_frame(&stream.hub, mine));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow to follow: start over from a fresh snapshot.
                    let (start, receiver) = stream.hub.subscribe(&stream.organizations, None);
                    stream.receiver = receiver;
                    stream.pending.extend(start_frame(&stream.hub, start, true));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            changed = stream.memberships.changed() => {
                if changed.is_err() {
                    return None;
                }
                stream.memberships.borrow_and_update();
                // My organizations changed: follow the new set, from a fresh snapshot.
                match organizations_of_member(&stream.database, stream.user_id.clone()).await {
                    Ok(organizations) => {
                        stream.organizations = organizations;
                        let (start, receiver) = stream.hub.subscribe(&stream.organizations, None);
                        stream.receiver = receiver;
                        stream.pending.extend(start_frame(&stream.hub, start, true));
                    }
                    Err(error) => tracing::warn!(%error, "cannot re-read a stream's organizations"),
                }
            }
            resync = stream.resyncs.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = resync {
                    return None;
                }
                // A backend starts over when it can tell again (its bus or database is back);
                // a change of my organizations announced meanwhile may never have reached it.
                match organizations_of_member(&stream.database, stream.user_id.clone()).await {
                    Ok(organizations) => stream.organizations = organizations,
                    Err(error) => tracing::warn!(%error, "cannot re-read a stream's organizations"),
                }
                let (start, receiver) = stream.hub.subscribe(&stream.organizations, None);
                stream.receiver = receiver;
                stream.pending.extend(start_frame(&stream.hub, start, false));
            }
            ended = stream.ended_sessions.recv(), if stream.session_id.is_some() => {
                let session_id = stream.session_id.as_deref().unwrap_or_default();
                let mine = match ended {
                    Ok(ended) => &*ended == session_id,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        stream.hub.revoked_sessions().contains(session_id)
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        stream.ended_sessions = stream.hub.revoked_sessions().subscribe();
                        false
                    }
                };
                if mine {
                    return None;
                }
            }
            _ = stream.keep_alive.tick() => {
                stream.pending.push_back(Bytes::from_static(b": keep-alive\n\n"));
            }
            () = stream.expiry.as_mut() => return None,
        }
    }
}

/// The first frame of a stream: a snapshot, or the missed changes (none when nothing was
/// missed). `changed` tells the client that more than states changed (organizations, names),
/// so it reads the list again.
fn start_frame(hub: &LiveHub, start: StreamStart, changed: bool) -> Option<Bytes> {
    match start {
        StreamStart::Snapshot(sequence, systems) => Some(frame(
            hub,
            "snapshot",
            sequence,
            &Snapshot { systems, changed },
        )),
        StreamStart::Resume(events) => changes_frame(hub, latest_per_system(&events)),
    }
}

/// Of several events of one DMS (a resume spans many flushes), only the latest.
fn latest_per_system(events: &[LiveEvent]) -> impl Iterator<Item = &LiveEvent> {
    let mut latest = std::collections::HashMap::with_capacity(events.len());
    for (position, event) in events.iter().enumerate() {
        latest.insert(event.event.system_id.as_str(), position);
    }
    events
        .iter()
        .enumerate()
        .filter(move |(position, event)| {
            latest.get(event.event.system_id.as_str()) == Some(position)
        })
        .map(|(_, event)| event)
}

/// One `changes` event of the given events (at most one per DMS), `None` when there are none.
/// Each event's JSON was serialized once by the hub; here it is only copied.
fn changes_frame<'a>(hub: &LiveHub, events: impl Iterator<Item = &'a LiveEvent>) -> Option<Bytes> {
    let mut states = Vec::new();
    let mut removed = Vec::new();
    let mut last_sequence = None;
    for event in events {
        last_sequence = Some(event.sequence);
        if event.removed {
            removed.push(&*event.json);
        } else {
            states.push(&*event.json);
        }
    }
    let last_sequence = last_sequence?;
    let data = format!(
        r#"{{"states":[{}],"removed":[{}]}}"#,
        states.join(","),
        removed.join(",")
    );
    debug_assert!(serde_json::from_str::<StateChanges>(&data).is_ok());
    Some(Bytes::from(format!(
        "id: {}\nevent: changes\ndata: {data}\n\n",
        hub.event_id(last_sequence)
    )))
}

fn frame(hub: &LiveHub, name: &str, sequence: u64, data: &impl serde::Serialize) -> Bytes {
    // Serializing these plain structs cannot fail; an empty object keeps the stream valid.
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    Bytes::from(format!(
        "id: {}\nevent: {name}\ndata: {data}\n\n",
        hub.event_id(sequence)
    ))
}
