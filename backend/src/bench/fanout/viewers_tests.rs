use stratus_shared::api::live::{Snapshot, StateChanges, SystemRemovedEvent, SystemStateEvent};

use super::*;

fn event(system_id: &str, state: ConnectionState) -> SystemStateEvent {
    SystemStateEvent {
        system_id: system_id.into(),
        organization_id: "org".into(),
        state,
        last_online_at: None,
        at: chrono::Utc::now(),
    }
}

fn frame(name: &str, data: &impl serde::Serialize) -> Vec<u8> {
    format!(
        "id: 7\nevent: {name}\ndata: {}\n\n",
        serde_json::to_string(data).unwrap()
    )
    .into_bytes()
}

fn viewer(ids: &[&str]) -> (Viewer, mpsc::UnboundedReceiver<String>) {
    let (out, lines) = mpsc::unbounded_channel();
    let shared = Shared {
        index: ids
            .iter()
            .enumerate()
            .map(|(n, id)| (id.to_string(), n))
            .collect(),
        out,
        snapshots: AtomicU64::new(0),
        states: AtomicU64::new(0),
        changes: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    };
    let viewer = Viewer {
        number: 3,
        token: String::new(),
        url: String::new(),
        http: reqwest::Client::new(),
        shared: Arc::new(shared),
    };
    (viewer, lines)
}

#[test]
fn frames_are_cut_at_blank_lines_whatever_the_chunks() {
    let stream = b"event: a\ndata: 1\n\n: keep-alive\n\nevent: b\ndata: 2\ndata: 3\n\n";
    for size in 1..stream.len() {
        let mut buffer = FrameBuffer::default();
        let mut frames = Vec::new();
        for chunk in stream.chunks(size) {
            buffer.push(chunk);
            buffer.frames(|frame| frames.push(frame.to_vec()));
        }
        let parsed: Vec<_> = frames.iter().filter_map(|f| parse_frame(f)).collect();
        assert_eq!(
            parsed,
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2\n3".to_owned())
            ],
            "chunks of {size}"
        );
        assert!(buffer.bytes.is_empty());
    }
}

#[test]
fn snapshots_states_and_batches_of_changes_all_count() {
    let (viewer, _lines) = viewer(&["probe", "a", "b"]);
    let mut picture = Picture::new(3);
    let snapshot = Snapshot {
        systems: vec![
            event("probe", ConnectionState::Connected),
            event("a", ConnectionState::Connected),
            event("b", ConnectionState::Disconnected),
            event("elsewhere", ConnectionState::Connected),
        ],
        changed: false,
    };
    let frame_of = |bytes: Vec<u8>| bytes[..bytes.len() - 2].to_vec();
    assert!(viewer.apply(&frame_of(frame("snapshot", &snapshot)), &mut picture));
    assert_eq!(picture.connected, 1);
    assert_eq!(picture.new_level(), Some(Level::Some));
    let state = event("b", ConnectionState::Connected);
    assert!(!viewer.apply(&frame_of(frame("state", &state)), &mut picture));
    assert_eq!(picture.new_level(), Some(Level::All));
    assert_eq!(picture.new_level(), None, "told once");
    let changes = StateChanges {
        states: vec![
            event("a", ConnectionState::Disconnected),
            event("probe", ConnectionState::DmsNotResponding),
        ],
        removed: vec![SystemRemovedEvent {
            system_id: "b".into(),
            organization_id: "org".into(),
        }],
    };
    viewer.apply(&frame_of(frame("changes", &changes)), &mut picture);
    assert_eq!(picture.connected, 0);
    assert_eq!(picture.new_level(), Some(Level::None));
    assert_eq!(
        picture.states,
        [
            state_code(ConnectionState::DmsNotResponding),
            state_code(ConnectionState::Disconnected),
            GONE
        ]
    );
    assert_eq!(viewer.shared.snapshots.load(Ordering::Relaxed), 1);
    assert_eq!(viewer.shared.changes.load(Ordering::Relaxed), 1);
}

#[test]
fn every_state_has_its_own_code() {
    let codes: std::collections::HashSet<u8> =
        ConnectionState::ALL.into_iter().map(state_code).collect();
    assert_eq!(codes.len(), ConnectionState::ALL.len());
    assert_eq!(state_code(ConnectionState::Connected), CONNECTED);
    assert!(!codes.contains(&GONE));
}
