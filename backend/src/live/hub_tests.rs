//! The hub's unit tests: states, publication (coalesced per flush), revocation, replacement
//! and resuming.

use super::*;
use stratus_shared::ConnectionState;

fn hub() -> (LiveHub, mpsc::UnboundedReceiver<PersistOp>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let hub = LiveHub::new(vec![], std::time::Duration::from_secs(30), tx, Utc::now());
    (hub, rx)
}

fn heartbeat(responding: bool) -> Report {
    Report {
        dms_responding: responding,
        dms_version: "10.5".into(),
        agent_count: 3,
    }
}

#[test]
fn a_dms_goes_through_its_states_and_each_change_is_published_once() {
    let (hub, _persist) = hub();
    let orgs: HashSet<String> = ["org".to_owned()].into();
    let now = Utc::now();
    hub.register("sys", "org", now);
    hub.flush();
    let (_, mut events) = hub.subscribe(&orgs, None);
    let (connection, _close) = hub.connect("sys", "org", 0, now).unwrap();
    hub.flush();
    hub.heartbeat("sys", connection, &heartbeat(true), now);
    hub.flush();
    hub.heartbeat("sys", connection, &heartbeat(true), now);
    assert_eq!(hub.flush(), 0, "no change, nothing sent");
    hub.heartbeat("sys", connection, &heartbeat(false), now);
    hub.flush();
    hub.tick(now + TimeDelta::seconds(31));
    hub.disconnect("sys", connection, now + TimeDelta::seconds(32));
    hub.flush();
    let mut states = vec![];
    while let Ok(batch) = events.try_recv() {
        states.extend(batch.iter().map(|event| event.event.state));
    }
    use ConnectionState::*;
    assert_eq!(
        states,
        vec![DmsNotResponding, Connected, DmsNotResponding, Disconnected]
    );
    assert_eq!(hub.view("sys").unwrap().last_online_at, Some(now));
}

#[test]
fn a_burst_becomes_one_batch_with_the_latest_change_of_each_dms() {
    let (hub, _persist) = hub();
    let orgs: HashSet<String> = ["org".to_owned()].into();
    let now = Utc::now();
    let (_, mut events) = hub.subscribe(&orgs, None);
    let (a, _close_a) = hub.connect("a", "org", 0, now).unwrap();
    let (b, _close_b) = hub.connect("b", "org", 0, now).unwrap();
    hub.connect("c", "org", 0, now).unwrap();
    hub.heartbeat("a", a, &heartbeat(true), now);
    hub.heartbeat("b", b, &heartbeat(false), now);
    hub.remove("c");
    assert_eq!(hub.flush(), 3);
    let batch = events.try_recv().unwrap();
    let changes: Vec<(&str, ConnectionState, bool)> = batch
        .iter()
        .map(|event| {
            (
                event.event.system_id.as_str(),
                event.event.state,
                event.removed,
            )
        })
        .collect();
    use ConnectionState::*;
    assert_eq!(
        changes,
        vec![
            ("a", Connected, false),
            ("b", DmsNotResponding, false),
            ("c", DmsNotResponding, true)
        ]
    );
    let sequences: Vec<u64> = batch.iter().map(|event| event.sequence).collect();
    assert_eq!(sequences, vec![1, 2, 3]);
    assert!(batch[2].json.contains(r#""system_id":"c""#) && !batch[2].json.contains("state"));
    assert!(events.try_recv().is_err(), "one batch");
}

#[test]
fn revoked_or_removed_dmss_cannot_connect_with_older_tokens() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    hub.register("sys", "org", now);
    hub.revoke("sys", 2, now);
    assert!(hub.connect("sys", "org", 1, now).is_none());
    assert!(hub.connect("sys", "org", 2, now).is_some());
    hub.remove("sys");
    assert!(hub.connect("sys", "org", 2, now).is_none());
    assert!(hub.view("sys").is_none());
}

#[test]
fn a_return_from_unknown_records_no_transition_twice() {
    let (hub, mut persist) = hub();
    let now = Utc::now();
    hub.register("sys", "org", now);
    let (connection, _close) = hub.connect("sys", "org", 0, now).unwrap();
    hub.heartbeat("sys", connection, &heartbeat(true), now);
    hub.set_source_healthy(false, now);
    assert_eq!(hub.view("sys").unwrap().state, ConnectionState::Unknown);
    hub.set_source_healthy(true, now);
    let mut recorded = vec![];
    while let Ok(operation) = persist.try_recv() {
        if let PersistOp::Transition { state, .. } = operation {
            recorded.push(state);
        }
    }
    use ConnectionState::*;
    assert_eq!(recorded, vec![DmsNotResponding, Connected]);
}

#[test]
fn a_new_connection_replaces_the_old_one() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    let (first, mut first_close) = hub.connect("sys", "org", 0, now).unwrap();
    let (second, _) = hub.connect("sys", "org", 0, now).unwrap();
    assert_eq!(
        first_close.try_recv(),
        Ok(stratus_shared::api::gateway::close_code::REPLACED)
    );
    // The old socket's late goodbye does not disconnect the new one.
    hub.disconnect("sys", first, now);
    hub.heartbeat("sys", second, &heartbeat(true), now);
    assert_eq!(hub.view("sys").unwrap().state, ConnectionState::Connected);
}

#[test]
fn resuming_replays_only_missed_events_of_my_organizations() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    let mine: HashSet<String> = ["mine".to_owned()].into();
    hub.register("a", "mine", now);
    hub.register("b", "theirs", now);
    hub.flush();
    let last = hub.last_sequence();
    hub.connect("a", "mine", 0, now);
    hub.connect("b", "theirs", 0, now);
    hub.flush();
    let (start, _) = hub.subscribe(&mine, Some(&hub.event_id(last)));
    let StreamStart::Resume(events) = start else {
        panic!("expected a resume");
    };
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.system_id, "a");
    let (start, _) = hub.subscribe(&mine, Some("other-epoch-1"));
    assert!(matches!(start, StreamStart::Snapshot(_, events) if events.len() == 1));
}

#[test]
fn a_snapshot_covers_the_changes_not_yet_flushed_so_they_do_not_arrive_again() {
    let (hub, _persist) = hub();
    let orgs: HashSet<String> = ["org".to_owned()].into();
    let now = Utc::now();
    let (connection, _close) = hub.connect("sys", "org", 0, now).unwrap();
    hub.heartbeat("sys", connection, &heartbeat(true), now);
    // Not flushed yet: the flusher pauses between batches.
    let (start, mut events) = hub.subscribe(&orgs, None);
    let StreamStart::Snapshot(sequence, snapshot) = start else {
        panic!("a new stream starts with a snapshot");
    };
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].state, ConnectionState::Connected);
    assert_eq!(sequence, hub.last_sequence());
    assert_eq!(hub.flush(), 0, "the subscription flushed them");
    assert!(events.try_recv().is_err(), "nothing after the snapshot");
    hub.remove("sys");
    hub.flush();
    let batch = events.try_recv().unwrap();
    assert!(batch.len() == 1 && batch[0].removed);
}

#[test]
fn the_tick_orders_sockets_silent_past_the_timeout_to_close_and_no_others() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    let (quiet, mut quiet_close) = hub.connect("quiet", "org", 0, now).unwrap();
    let (busy, mut busy_close) = hub.connect("busy", "org", 0, now).unwrap();
    hub.heartbeat("quiet", quiet, &heartbeat(true), now);
    hub.heartbeat("busy", busy, &heartbeat(true), now + TimeDelta::seconds(20));
    hub.tick(now + TimeDelta::seconds(29));
    assert!(quiet_close.try_recv().is_err(), "not yet");
    hub.tick(now + TimeDelta::seconds(30));
    assert_eq!(
        quiet_close.try_recv(),
        Ok(stratus_shared::api::gateway::close_code::IDLE)
    );
    assert!(busy_close.try_recv().is_err(), "heard from 10 s ago");
}

#[test]
fn a_flapping_dms_is_held_to_its_change_budget_and_then_shows_its_latest_state() {
    let (tx, mut persist) = mpsc::unbounded_channel();
    let hub = LiveHub::new(vec![], std::time::Duration::from_secs(30), tx, Utc::now())
        .with_change_limit(ChangeLimit::per_minute(12));
    let orgs: HashSet<String> = ["org".to_owned()].into();
    let now = Utc::now();
    let (_, mut events) = hub.subscribe(&orgs, None);
    let (connection, _close) = hub.connect("sys", "org", 0, now).unwrap();
    // Connecting is the first change; then 1,000 flips in one instant, each flushed.
    let mut published = hub.flush();
    for flip in 0..1_000 {
        hub.heartbeat("sys", connection, &heartbeat(flip % 2 == 0), now);
        published += hub.flush();
    }
    assert_eq!(published, 12, "the burst, then nothing");
    while persist.try_recv().is_ok() {}
    // The last flip said "not responding": once budget is back, the tick shows that.
    hub.heartbeat("sys", connection, &heartbeat(false), now);
    hub.tick(now + TimeDelta::seconds(1));
    assert_eq!(hub.flush(), 0, "no budget yet");
    hub.tick(now + TimeDelta::seconds(6));
    hub.flush();
    assert_eq!(
        hub.view("sys").unwrap().state,
        ConnectionState::DmsNotResponding
    );
    let mut last = None;
    while let Ok(batch) = events.try_recv() {
        last = batch.last().map(|event| event.event.state);
    }
    assert_eq!(last, Some(ConnectionState::DmsNotResponding));
}

#[test]
fn unknown_is_never_held_by_the_change_budget() {
    let (tx, _persist) = mpsc::unbounded_channel();
    let hub = LiveHub::new(vec![], std::time::Duration::from_secs(30), tx, Utc::now())
        .with_change_limit(ChangeLimit::per_minute(1));
    let now = Utc::now();
    let (connection, _close) = hub.connect("sys", "org", 0, now).unwrap();
    hub.heartbeat("sys", connection, &heartbeat(true), now);
    hub.set_source_healthy(false, now);
    assert_eq!(hub.view("sys").unwrap().state, ConnectionState::Unknown);
    hub.set_source_healthy(true, now);
    assert_eq!(hub.view("sys").unwrap().state, ConnectionState::Connected);
}

#[test]
fn a_flooding_organization_pushes_out_only_its_own_replay() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    let quiet: HashSet<String> = ["quiet".to_owned()].into();
    let noisy: HashSet<String> = ["noisy".to_owned()].into();
    let before = hub.last_sequence();
    let (connection, _close) = hub.connect("calm", "quiet", 0, now).unwrap();
    hub.flush();
    // Far more changes than any buffer keeps, from a hundred DMSs of another organization.
    let noisy_connections: Vec<(String, u64, _)> = (0..100)
        .map(|n| {
            let id = format!("noisy-{n}");
            let (connection, close) = hub.connect(&id, "noisy", 0, now).unwrap();
            (id, connection, close)
        })
        .collect();
    for flip in 0..400 {
        for (id, connection, _) in &noisy_connections {
            hub.heartbeat(id, *connection, &heartbeat(flip % 2 == 0), now);
        }
        hub.flush();
    }
    assert!(hub.last_sequence() - before > 40_000);

    match hub.subscribe(&quiet, Some(&hub.event_id(before))).0 {
        StreamStart::Resume(missed) => {
            let systems: Vec<&str> = missed.iter().map(|e| e.event.system_id.as_str()).collect();
            assert_eq!(
                systems,
                vec!["calm"],
                "the quiet organization's change is kept"
            );
        }
        StreamStart::Snapshot(..) => panic!("the quiet organization lost its replay"),
    }
    assert!(
        matches!(
            hub.subscribe(&noisy, Some(&hub.event_id(before))).0,
            StreamStart::Snapshot(..)
        ),
        "the noisy organization gave up its own oldest events"
    );
    let recent = hub.subscribe(&noisy, Some(&hub.event_id(hub.last_sequence() - 50)));
    match recent.0 {
        StreamStart::Resume(missed) => assert_eq!(missed.len(), 50),
        StreamStart::Snapshot(..) => panic!("recent events of the noisy organization are kept"),
    }
    let _ = connection;
}

#[test]
fn recent_events_stay_bounded_across_many_organizations() {
    let (hub, _persist) = hub();
    let now = Utc::now();
    let before = hub.last_sequence();
    for organization in 0..100 {
        let org = format!("org-{organization}");
        let (connection, _close) = hub
            .connect(&format!("sys-{organization}"), &org, 0, now)
            .unwrap();
        for flip in 0..300 {
            hub.heartbeat(
                &format!("sys-{organization}"),
                connection,
                &heartbeat(flip % 2 == 0),
                now,
            );
            hub.flush();
        }
    }
    assert!(hub.lock().recent.len() <= 16 * 1024);
    // The last organization's newest events are still there, the first one's oldest are not.
    let last: HashSet<String> = ["org-99".to_owned()].into();
    let first: HashSet<String> = ["org-0".to_owned()].into();
    assert!(matches!(
        hub.subscribe(&last, Some(&hub.event_id(hub.last_sequence() - 10))).0,
        StreamStart::Resume(missed) if missed.len() == 10
    ));
    assert!(matches!(
        hub.subscribe(&first, Some(&hub.event_id(before))).0,
        StreamStart::Snapshot(..)
    ));
}
