//! What the benchmark sections share: the server's database and keys opened beside it, a clock
//! every process agrees on, percentiles and CPU read from `/proc`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::config::Settings;
use crate::db::Database;
use crate::secrets::Secrets;

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

/// The server's database and signing keys, read with the server's own settings.
pub(crate) async fn open(settings: &Settings) -> anyhow::Result<(Database, Secrets)> {
    let database_url = settings
        .database()
        .map_err(|error| anyhow::anyhow!("STRATUS_DATABASE_URL: {error}"))?;
    let pool_size = settings.database_pool_size;
    let database =
        actix_web::web::block(move || Database::connect(&database_url, pool_size)).await??;
    let secrets = Secrets::load_or_generate(
        &settings.data_dir,
        settings.session_secret.as_deref(),
        settings.gateway_secret.as_deref(),
    )?;
    Ok((database, secrets))
}

/// Microseconds since the epoch (CLOCK_REALTIME): comparable between processes of one machine.
pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
        })
}

/// The `fraction` percentile (0.5 = median) of sorted values, nearest rank.
pub(crate) fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU seconds of this process's children that have ended and been waited for.
pub(crate) fn waited_children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime: fields 16 and 17 of stat(5), 14 and 15 after the command name.
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some((cutime + cstime) / CLOCK_TICKS)
}

/// The most memory the process ever had resident (VmHWM), in MiB.
pub(crate) fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU use of the server and of the benchmark's own processes over a stretch of time.
pub(crate) struct CpuWindow {
    started: Instant,
    server: Option<f64>,
    client: Vec<(String, Option<f64>)>,
}

impl CpuWindow {
    /// Starts counting for the server `server_pid` and the client processes `client`
    /// (name, pid).
    pub(crate) fn start(server_pid: Option<u32>, client: &[(String, u32)]) -> Self {
        Self {
            started: Instant::now(),
            server: server_pid.and_then(super::cpu_seconds),
            client: client
                .iter()
                .map(|(name, pid)| (name.clone(), super::cpu_seconds(*pid)))
                .collect(),
        }
    }

    /// "server 93 % of one core, client 71 % (viewers 40 %, …)" since the start; the client
    /// processes must be the ones given to [`CpuWindow::start`], still running.
    pub(crate) fn report(&self, server_pid: Option<u32>, client: &[(String, u32)]) -> String {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let percent = |before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(before), Some(after)) => Some((after - before) / seconds * 100.0),
            _ => None,
        };
        let server = match percent(self.server, server_pid.and_then(super::cpu_seconds)) {
            Some(server) => format!("server {server:.0} % of one core"),
            None => "server CPU not measured (give --server-pid)".to_owned(),
        };
        let mut total = 0.0;
        let parts: Vec<String> = self
            .client
            .iter()
            .zip(client)
            .map(|((name, before), (_, pid))| {
                let used = percent(*before, super::cpu_seconds(*pid)).unwrap_or(0.0);
                total += used;
                format!("{name} {used:.0} %")
            })
            .collect();
        format!(
            "{server}, client {total:.0} % ({}) over {seconds:.1} s",
            parts.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&values, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
