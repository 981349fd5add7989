//! The fan-out benchmark's data: viewer accounts and DMSs straight in the server's database,
//! the gateways' credentials (connect codes traded over HTTP), and the files the worker
//! processes read.

use std::path::PathBuf;
use std::time::Instant;

use futures_util::StreamExt;
use stratus_shared::api::gateway::DmsCredentials;

use crate::auth::tokens::AccessTokens;
use crate::bench::{bench_user, BENCH_EMAIL};
use crate::config::Settings;
use crate::demo::DemoSystem;
use crate::domain::accounts;
use crate::secrets::Secrets;
use crate::simulator::{self, SavedCredentials};

/// Where the worker processes find what they need.
pub struct Prepared {
    /// One DMS id per line: the probe first, then the gateways' DMSs.
    pub systems_file: PathBuf,
    /// The gateways' credentials.
    pub credentials_file: PathBuf,
    /// Whom the viewers sign in as (one account each), in viewer order.
    pub viewer_ids: Vec<String>,
    /// The probe DMS, played by the coordinator itself.
    pub probe: DemoSystem,
    /// The folder of the files.
    pub dir: PathBuf,
}

/// Registers `viewers` accounts and `dms` + 1 DMSs (the probe first) in one organization and
/// trades the gateways' connect codes for credentials.
pub async fn prepare(
    settings: &Settings,
    database: &crate::db::Database,
    url: &str,
    viewers: usize,
    dms: usize,
) -> anyhow::Result<Prepared> {
    let started = Instant::now();
    bench_user(database).await?;
    let viewer_ids = database
        .run(move |connection| {
            let now = crate::db::now().naive_utc();
            let mut ids = Vec::with_capacity(viewers);
            for n in 0..viewers {
                let email = format!("viewer-{n:05}@bench.stratus.invalid");
                ids.push(accounts::find_or_insert_tool_account(
                    connection, &email, now,
                )?);
            }
            Ok(ids)
        })
        .await?;
    // Every account in the database (the viewers) becomes a member of the organization.
    let names = (0..=dms).map(|n| format!("Fanout DMS {n:05}")).collect();
    let systems = crate::demo::prepare(database, "Fanout", names, Some(BENCH_EMAIL.into())).await?;
    let (probe, others) = systems
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no DMS registered"))?;
    println!(
        "registered {viewers} viewers and {} DMSs in {:.1} s",
        systems.len(),
        started.elapsed().as_secs_f64()
    );
    let dmss = credentials(url, others).await?;
    let dir = settings.data_dir.join("bench-fanout");
    std::fs::create_dir_all(&dir)?;
    let credentials_file = dir.join("credentials.json");
    SavedCredentials { dmss }.save(&credentials_file)?;
    let systems_file = dir.join("systems.txt");
    let ids: Vec<&str> = systems.iter().map(|s| s.system_id.as_str()).collect();
    std::fs::write(&systems_file, ids.join("\n") + "\n")?;
    Ok(Prepared {
        systems_file,
        credentials_file,
        viewer_ids,
        probe: probe.clone(),
        dir,
    })
}

/// Trades the connect codes of `systems` for gateway credentials, 16 at a time.
async fn credentials(url: &str, systems: &[DemoSystem]) -> anyhow::Result<Vec<DmsCredentials>> {
    let started = Instant::now();
    let http = reqwest::Client::new();
    let dmss: Vec<_> = futures_util::stream::iter(systems)
        .map(|system| simulator::connect(&http, url, &system.connect_code))
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    println!(
        "traded {} connect codes for credentials in {:.1} s",
        dmss.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(dmss)
}

/// Signs one access token per viewer (valid 15 minutes from now) into a file, one a line.
pub fn write_tokens(
    settings: &Settings,
    secrets: &Secrets,
    prepared: &Prepared,
) -> anyhow::Result<PathBuf> {
    let tokens = AccessTokens::new(&secrets.session_key, &settings.public_url());
    let now = crate::db::now();
    let lines: Vec<String> = prepared
        .viewer_ids
        .iter()
        .map(|user_id| tokens.issue(user_id, now).0)
        .collect();
    let file = prepared.dir.join("tokens.txt");
    std::fs::write(&file, lines.join("\n") + "\n")?;
    Ok(file)
}
