//! A fleet of benchmark DMSs with credentials, written straight to the server's database (no
//! connect-code round trip per DMS), and its credentials file for client processes.

use std::time::Instant;

use stratus_shared::api::gateway::DmsCredentials;

use super::Target;
use crate::auth::{one_time, DmsTokens};
use crate::domain::dms_credentials;

/// Registers `count` DMSs in the organization `organization` (created when missing; the
/// benchmark's person is its Owner) and grants each credentials as a connect code would,
/// in two write transactions. Prints how long each step took.
pub async fn register(
    target: &Target,
    organization: &str,
    count: usize,
) -> anyhow::Result<Vec<DmsCredentials>> {
    super::bench_user(&target.database).await?;
    let started = Instant::now();
    let names = (1..=count).map(|n| format!("Bench DMS {n:06}")).collect();
    let systems = crate::demo::prepare(
        &target.database,
        organization,
        names,
        Some(super::BENCH_EMAIL.into()),
    )
    .await?;
    let registered = started.elapsed();
    let now = crate::db::now();
    let code_hashes: Vec<String> = systems
        .iter()
        .map(|system| one_time::hash(&system.connect_code))
        .collect();
    let grants = target
        .database
        .run_write(move |connection| {
            code_hashes
                .iter()
                .map(|hash| dms_credentials::connect(connection, hash, now))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let tokens = DmsTokens::new(&target.secrets.gateway_key, &target.settings.public_url());
    let interval = target.settings.heartbeat_interval_seconds.max(1);
    let credentials: Vec<DmsCredentials> = grants
        .into_iter()
        .map(|grant| {
            let (token, token_expires_at) = tokens.issue(
                &grant.system_id,
                &grant.organization_id,
                grant.generation,
                now,
            );
            DmsCredentials {
                system_id: grant.system_id,
                organization_id: grant.organization_id,
                token,
                token_expires_at,
                refresh_key: grant.refresh_key,
                refresh_key_expires_at: grant.refresh_key_expires_at,
                heartbeat_interval_seconds: interval,
            }
        })
        .collect();
    println!(
        "registered {count} DMSs in {:.1} s, their credentials in {:.1} s (straight in the database)",
        registered.as_secs_f64(),
        (started.elapsed() - registered).as_secs_f64()
    );
    Ok(credentials)
}
