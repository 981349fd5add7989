//! The cluster under load through the loss of a part: a backend killed (`kill -9`), the NATS
//! server killed and started again, PostgreSQL stopped the hard way and started again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use stratus_backend::db::schema::cluster_backends;
use stratus_backend::simulator::{run_dms, Options, Scenario, Stats};
use stratus_shared::api::gateway::DmsCredentials;

use crate::harness::{eventually, Cluster, Engines, Gateway, OwnPostgres, Viewer, LEASE_SECONDS};

/// An owner's organization of `count` DMSs, each played by the simulator through nginx
/// (steady: connected and responding, a heartbeat a second, reconnecting when cut off).
struct Load {
    owner: String,
    systems: Vec<String>,
    stats: Arc<Stats>,
    tasks: Vec<tokio::task::JoinHandle<DmsCredentials>>,
}

impl Load {
    async fn start(cluster: &Cluster, count: usize) -> Self {
        let (_, owner) = cluster.create_user("owner@example.com").await;
        let organization = cluster.create_organization(&owner, "Acme").await;
        let mut credentials = Vec::with_capacity(count);
        for chunk in (0..count).collect::<Vec<_>>().chunks(10) {
            let registered = futures_util::future::join_all(chunk.iter().map(|index| {
                let (owner, organization) = (&owner, &organization);
                let name = format!("DMS {index:03}");
                async move { cluster.register_dms(owner, organization, &name).await }
            }))
            .await;
            credentials.extend(registered);
        }
        let options = Options {
            url: cluster.address(),
            scenario: Scenario::Steady,
            interval: Some(Duration::from_secs(crate::harness::HEARTBEAT_SECONDS)),
            phase: Duration::from_secs(60),
            renew_before: chrono::TimeDelta::hours(1),
            http: reqwest::Client::new(),
            stagger: Duration::from_millis(5),
            source_addresses: Vec::new(),
            web_app: false,
            names: Vec::new(),
        };
        let stats = Arc::new(Stats::default());
        let systems = credentials
            .iter()
            .map(|credentials| credentials.system_id.clone())
            .collect();
        let tasks = credentials
            .into_iter()
            .enumerate()
            .map(|(index, credentials)| {
                tokio::spawn(run_dms(
                    index,
                    credentials,
                    options.clone(),
                    stats.clone(),
                    None,
                ))
            })
            .collect();
        Self {
            owner,
            systems,
            stats,
            tasks,
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One viewer on each running backend (straight to it, not through nginx).
async fn viewers(cluster: &Cluster, token: &str, skip: Option<usize>) -> Vec<Viewer> {
    let mut viewers = Vec::new();
    for (index, backend) in cluster.backends.iter().enumerate() {
        if Some(index) != skip {
            viewers.push(Viewer::open(&cluster.client, &backend.address(), token, None).await);
        }
    }
    viewers
}

/// Every DMS's recorded history.
async fn histories(cluster: &Cluster, systems: &[String]) -> HashMap<String, Vec<String>> {
    let mut histories = HashMap::new();
    for system in systems {
        histories.insert(system.clone(), cluster.history(system).await);
    }
    histories
}

/// No state recorded twice in a row: a doubled transition would show as one.
fn assert_no_doubled_transitions(histories: &HashMap<String, Vec<String>>) {
    for (system, history) in histories {
        assert!(
            history.windows(2).all(|pair| pair[0] != pair[1]),
            "{system} has a state recorded twice in a row: {history:?}"
        );
    }
}

#[tokio::test]
async fn killing_a_backend_under_load_moves_its_gateways_and_records_each_outage_once() {
    let Some(engines) = Engines::find("faults::killing_a_backend") else {
        return;
    };
    const DMSS: usize = 150;
    let mut cluster = Cluster::start(&engines, 3).await;
    let load = Load::start(&cluster, DMSS).await;
    // Gateways that do not come back when their socket breaks (their site lost its network
    // with the backend): on the dead backend, each is recorded disconnected, once.
    let organization = organization_of(&cluster, &load.systems[0]).await;
    let mut stay_away = Vec::new();
    for index in 0..12 {
        let dms = cluster
            .register_dms(&load.owner, &organization, &format!("Remote site {index}"))
            .await;
        let gateway = Gateway::connect(&cluster.address(), &dms.token).await;
        stay_away.push((dms.system_id, gateway));
    }
    let watching = viewers(&cluster, &load.owner, None).await;
    let mut everything = load.systems.clone();
    everything.extend(stay_away.iter().map(|(system, _)| system.clone()));
    for viewer in &watching {
        viewer.wait_for_all(&everything, "connected", 90).await;
    }
    eventually(30, "every socket marked held", || async {
        cluster.holders().await.values().all(Option::is_some)
    })
    .await;

    // The backend holding the most gateways dies.
    let holders = cluster.holders().await;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for holder in holders.values().flatten() {
        *counts.entry(holder.clone()).or_default() += 1;
    }
    println!("gateways per backend before the kill: {counts:?}");
    let (victim_name, _) = counts
        .iter()
        .max_by_key(|(_, count)| **count)
        .expect("some backend holds gateways");
    let victim = cluster
        .backends
        .iter()
        .position(|backend| &backend.name == victim_name)
        .expect("the victim");
    let orphaned: Vec<String> = holders
        .iter()
        .filter(|(_, holder)| holder.as_deref() == Some(victim_name.as_str()))
        .map(|(system, _)| system.clone())
        .collect();
    let before = histories(&cluster, &everything).await;
    let killed_at = Instant::now();
    cluster.kill_backend(victim);

    // The survivors notice the lease run out, record the outage, and the gateways come back
    // through nginx.
    let victim_name = victim_name.clone();
    eventually(
        4 * LEASE_SECONDS + 10,
        "the dead backend's lease taken over",
        || async {
            let name = victim_name.clone();
            let left: i64 = cluster
                .query("read the leases", move |connection| {
                    Ok(cluster_backends::table
                        .filter(cluster_backends::name.eq(&name))
                        .count()
                        .get_result(connection)?)
                })
                .await;
            left == 0
        },
    )
    .await;
    println!(
        "dead backend taken over {:.1} s after kill -9 (lease {LEASE_SECONDS} s)",
        killed_at.elapsed().as_secs_f64()
    );
    let survivors: Vec<&Viewer> = watching
        .iter()
        .filter(|viewer| viewer.backend != cluster.backends[victim].name)
        .collect();
    assert_eq!(survivors.len(), 2);
    let (gone, stayed): (Vec<String>, Vec<String>) = stay_away
        .iter()
        .map(|(system, _)| system.clone())
        .partition(|system| orphaned.contains(system));
    assert!(
        !gone.is_empty(),
        "some stay-away gateway was on the dead backend"
    );
    for viewer in &survivors {
        viewer.wait_for_all(&load.systems, "connected", 60).await;
        viewer.wait_for_all(&stayed, "connected", 5).await;
        viewer.wait_for_all(&gone, "disconnected", 30).await;
    }
    eventually(30, "every returning gateway held by a survivor", || async {
        let holders = cluster.holders().await;
        load.systems.iter().all(|system| {
            holders[system]
                .as_ref()
                .is_some_and(|name| name != &victim_name)
        })
    })
    .await;
    // What is still on its way (a last flush, a write) settles.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let after = histories(&cluster, &everything).await;
    assert_no_doubled_transitions(&after);
    for system in &gone {
        let new = &after[system][before[system].len()..];
        assert_eq!(
            new,
            ["disconnected"],
            "{system}: its gateway did not come back"
        );
    }
    for system in &stayed {
        let new = &after[system][before[system].len()..];
        assert!(new.is_empty(), "{system} (on a survivor) recorded {new:?}");
    }
    let mut outages = 0;
    for system in &load.systems {
        let new = &after[system][before[system].len()..];
        if orphaned.contains(system) {
            assert!(
                new.is_empty() || new == ["disconnected", "connected"],
                "{system} (on the dead backend) recorded {new:?} for the outage"
            );
            outages += usize::from(!new.is_empty());
        } else {
            assert!(new.is_empty(), "{system} (on a survivor) recorded {new:?}");
        }
    }
    let stored = cluster.stored_states().await;
    for system in &everything {
        let expected = if gone.contains(system) {
            "disconnected"
        } else {
            "connected"
        };
        assert_eq!(stored[system], expected, "{system}");
    }
    for viewer in &survivors {
        assert!(!viewer.ended(), "a survivor's stream ended");
        for system in &gone {
            assert_eq!(
                viewer.shown(system).last().map(String::as_str),
                Some("disconnected")
            );
        }
        for system in &load.systems {
            let shown = viewer.shown(system);
            assert!(
                !shown.contains(&"unknown".to_owned()),
                "{system}: {shown:?}"
            );
            // What the stream showed after the first `connected` is what was recorded (a
            // burst may fold an outage's two changes into the last one).
            let first = shown
                .iter()
                .position(|state| state == "connected")
                .expect("shown connected");
            let tail = &shown[first + 1..];
            let new = &after[system][before[system].len()..];
            assert!(
                tail.is_empty() || new.ends_with(tail),
                "{system} shown {shown:?}, recorded {new:?}"
            );
        }
    }
    println!(
        "{} of {} gateways were on the dead backend ({} of them stayed away); {outages} outages \
         of returning gateways recorded; {} sockets opened by the simulator",
        orphaned.len(),
        everything.len(),
        gone.len(),
        load.stats
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    );
}

#[tokio::test]
async fn while_nats_is_away_every_backend_shows_unknown_and_recovers_with_nothing_lost_and_a_backend_started_meanwhile_joins(
) {
    let Some(engines) = Engines::find("faults::nats_restart") else {
        return;
    };
    let mut cluster = Cluster::start(&engines, 3).await;
    let load = Load::start(&cluster, 45).await;
    let flipping = cluster
        .register_dms(
            &load.owner,
            &organization_of(&cluster, &load.systems[0]).await,
            "Flipping DMS",
        )
        .await;
    let gateway = Gateway::connect(&cluster.address(), &flipping.token).await;
    let mut everything = load.systems.clone();
    everything.push(flipping.system_id.clone());
    let watching = viewers(&cluster, &load.owner, None).await;
    for viewer in &watching {
        viewer.wait_for_all(&everything, "connected", 90).await;
    }

    let before = histories(&cluster, &everything).await;
    cluster.nats.kill();
    for viewer in &watching {
        viewer.wait_for_all(&everything, "unknown", 20).await;
    }
    // Decided, recorded and not yet told to the other backends while the bus is away.
    gateway.set_responding(false);
    // A backend that starts now serves, and cannot tell: it shows unknown.
    let late = cluster.add_backend("backend-late").await;
    let late_viewer = Viewer::open(
        &cluster.client,
        &cluster.backends[late].address(),
        &load.owner,
        None,
    )
    .await;
    late_viewer.wait_for_all(&everything, "unknown", 20).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.nats.restart();
    // It joins when NATS is there, with the states as they are.
    late_viewer
        .wait_for_all(&load.systems, "connected", 60)
        .await;
    late_viewer
        .wait_for_state(&flipping.system_id, "dms_not_responding")
        .await;

    for viewer in &watching {
        viewer.wait_for_all(&load.systems, "connected", 60).await;
        viewer
            .wait_for_state(&flipping.system_id, "dms_not_responding")
            .await;
        assert!(!viewer.ended(), "streams stay open through a bus outage");
    }
    let after = histories(&cluster, &everything).await;
    assert_no_doubled_transitions(&after);
    for system in &load.systems {
        assert_eq!(
            after[system], before[system],
            "{system}: nothing changed but the bus"
        );
    }
    assert_eq!(
        after[&flipping.system_id][before[&flipping.system_id].len()..],
        ["dms_not_responding"]
    );
    assert_eq!(
        gateway.ending(),
        None,
        "gateways keep their sockets through a bus outage"
    );
}

#[tokio::test]
async fn while_postgresql_is_away_every_backend_shows_unknown_and_recovers_with_nothing_lost() {
    let Some(engines) = Engines::find("faults::postgres_restart") else {
        return;
    };
    let Some(postgres) = OwnPostgres::start("faults::postgres_restart") else {
        return;
    };
    let mut cluster = Cluster::start_on_own_postgres(&engines, 3, postgres).await;
    let load = Load::start(&cluster, 30).await;
    let flipping = cluster
        .register_dms(
            &load.owner,
            &organization_of(&cluster, &load.systems[0]).await,
            "Flipping DMS",
        )
        .await;
    let gateway = Gateway::connect(&cluster.address(), &flipping.token).await;
    let mut everything = load.systems.clone();
    everything.push(flipping.system_id.clone());
    let watching = viewers(&cluster, &load.owner, None).await;
    for viewer in &watching {
        viewer.wait_for_all(&everything, "connected", 90).await;
    }

    let before = histories(&cluster, &everything).await;
    cluster.own_postgres().expect("own PostgreSQL").stop();
    for viewer in &watching {
        viewer.wait_for_all(&everything, "unknown", 30).await;
    }
    // Decided while the database is away: recorded when it is back, not lost. Longer than a
    // lease, so every lease runs out meanwhile (and nobody is taken over for it).
    gateway.set_responding(false);
    tokio::time::sleep(Duration::from_secs(LEASE_SECONDS + 2)).await;
    cluster
        .own_postgres()
        .expect("own PostgreSQL")
        .start_again();

    for viewer in &watching {
        viewer.wait_for_all(&load.systems, "connected", 60).await;
        viewer
            .wait_for_state(&flipping.system_id, "dms_not_responding")
            .await;
    }
    // Longer than a lease and its renewals: a wrongful take-over would have happened by now.
    tokio::time::sleep(Duration::from_secs(2 * LEASE_SECONDS)).await;
    let after = histories(&cluster, &everything).await;
    assert_no_doubled_transitions(&after);
    for system in &load.systems {
        assert_eq!(
            after[system], before[system],
            "{system}: nothing changed but the database"
        );
    }
    assert_eq!(
        after[&flipping.system_id][before[&flipping.system_id].len()..],
        ["dms_not_responding"]
    );
    for viewer in &watching {
        viewer.wait_for_all(&load.systems, "connected", 5).await;
    }
    assert_eq!(
        gateway.ending(),
        None,
        "gateways keep their sockets through a database outage"
    );
}

async fn organization_of(cluster: &Cluster, system: &str) -> String {
    use stratus_backend::db::schema::systems;
    let system = system.to_owned();
    cluster
        .query("read the DMS's organization", move |connection| {
            Ok(systems::table
                .find(&system)
                .select(systems::organization_id)
                .get_result(connection)?)
        })
        .await
}

/// What one writer got acknowledged (2xx) before its backend died, and what it tried.
#[derive(Debug, Default)]
struct Acknowledged {
    attempted: usize,
    ids: Vec<String>,
}

/// Sends `request(n)` for n = 0, 1, … to `base` until a request fails to get an answer (the
/// backend is dead), keeping the id `acknowledged` reads from each 2xx answer.
async fn write_until_dead<B, A>(
    client: reqwest::Client,
    base: String,
    token: Option<String>,
    path: String,
    body: B,
    acknowledged: A,
) -> Acknowledged
where
    B: Fn(usize) -> serde_json::Value,
    A: Fn(&serde_json::Value) -> Option<String>,
{
    let mut written = Acknowledged::default();
    loop {
        let mut request = client
            .post(format!("{base}{path}"))
            .json(&body(written.attempted))
            .timeout(Duration::from_secs(10));
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        written.attempted += 1;
        let Ok(response) = request.send().await else {
            return written;
        };
        if !response.status().is_success() {
            continue;
        }
        let Ok(answer) = response.json::<serde_json::Value>().await else {
            return written;
        };
        if let Some(id) = acknowledged(&answer) {
            written.ids.push(id);
        }
    }
}

#[tokio::test]
async fn a_backend_killed_mid_write_loses_no_acknowledged_session_or_audit_entry() {
    let Some(engines) = Engines::find("faults::a_backend_killed_mid_write") else {
        return;
    };
    let mut cluster = Cluster::start(&engines, 2).await;
    let load = Load::start(&cluster, 40).await;
    let watching = viewers(&cluster, &load.owner, None).await;
    for viewer in &watching {
        viewer.wait_for_all(&load.systems, "connected", 60).await;
    }
    let organization = organization_of(&cluster, &load.systems[0]).await;
    let email = "writer@example.com";
    let password = "correct horse battery staple";
    let (writer, _) = cluster.create_user_with_password(email, password).await;

    // Two writers straight at the victim (not through nginx, which would retry elsewhere):
    // one signs in again and again, one creates projects (each with its audit entry).
    let victim = cluster.backends[0].address();
    let sign_ins = tokio::spawn(write_until_dead(
        cluster.client.clone(),
        victim.clone(),
        None,
        "/api/auth/login".to_owned(),
        move |_| serde_json::json!({ "email": email, "password": password }),
        |grant| grant["access_token"].as_str().map(str::to_owned),
    ));
    let projects = tokio::spawn(write_until_dead(
        cluster.client.clone(),
        victim,
        Some(load.owner.clone()),
        format!("/api/organizations/{organization}/projects"),
        |n| serde_json::json!({ "name": format!("Written before the crash {n}") }),
        |project| project["id"].as_str().map(str::to_owned),
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.kill_backend(0);
    let sign_ins = sign_ins.await.expect("the sign-in writer");
    let projects = projects.await.expect("the project writer");
    println!(
        "acknowledged before kill -9: {} of {} sign-ins, {} of {} projects",
        sign_ins.ids.len(),
        sign_ins.attempted,
        projects.ids.len(),
        projects.attempted
    );
    assert!(
        sign_ins.ids.len() >= 3 && projects.ids.len() >= 3,
        "the writers got going before the kill: {sign_ins:?} {projects:?}"
    );

    // Every acknowledged sign-in is a session of the writer's (signing in past the session
    // limit revokes the oldest, which stays a row); at most the attempted ones are.
    let user = writer.clone();
    let sessions: i64 = cluster
        .query("count the writer's sessions", move |connection| {
            use stratus_backend::db::schema::sessions;
            Ok(sessions::table
                .filter(sessions::user_id.eq(&user))
                .count()
                .get_result(connection)?)
        })
        .await;
    let sessions = usize::try_from(sessions).expect("a count");
    assert!(
        (sign_ins.ids.len()..=sign_ins.attempted).contains(&sessions),
        "{sessions} sessions for {} acknowledged and {} attempted sign-ins",
        sign_ins.ids.len(),
        sign_ins.attempted
    );

    // Every acknowledged project exists, each with its audit entry.
    let acknowledged = projects.ids.clone();
    let (stored, audited): (i64, i64) = cluster
        .query(
            "count the projects and their audit entries",
            move |connection| {
                use stratus_backend::db::schema::{audit_log, projects};
                let stored = projects::table
                    .filter(projects::id.eq_any(&acknowledged))
                    .count()
                    .get_result(connection)?;
                let audited = audit_log::table
                    .filter(audit_log::organization_id.eq(&organization))
                    .filter(audit_log::action.eq("project.created"))
                    .count()
                    .get_result(connection)?;
                Ok((stored, audited))
            },
        )
        .await;
    assert_eq!(
        usize::try_from(stored).expect("a count"),
        projects.ids.len(),
        "every acknowledged project survived the kill"
    );
    let audited = usize::try_from(audited).expect("a count");
    assert!(
        (projects.ids.len()..=projects.attempted).contains(&audited),
        "{audited} audit entries for {} acknowledged and {} attempted projects",
        projects.ids.len(),
        projects.attempted
    );

    // The survivor still serves the viewers' organization: the gateways of the dead backend
    // come back through nginx.
    let survivor = watching
        .iter()
        .find(|viewer| viewer.backend != cluster.backends[0].name)
        .expect("a viewer on the survivor");
    survivor
        .wait_for_all(&load.systems, "connected", 4 * LEASE_SECONDS + 30)
        .await;
}
