//! The coordinator's side of the worker processes: starting them (this same binary), reading
//! what they report on stdout, and the tally that the benchmark's phases wait on.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One line a worker reported.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The viewer applied its first snapshot.
    Ready(usize),
    /// The viewer saw the probe DMS change to `state` at `at` (µs since the epoch).
    Probe { viewer: usize, state: u8, at: i64 },
    /// The viewer saw every DMS with a gateway connected.
    All { viewer: usize, at: i64 },
    /// The viewer saw no DMS with a gateway connected.
    None { viewer: usize, at: i64 },
    /// The viewer's stream ended (it opens another).
    Lost(usize),
    /// A viewer process's snapshots, `state` events, `changes` events and bytes so far.
    Viewers { process: usize, counts: [u64; 4] },
    /// The gateway process's DMSs connected once, connections, failures and heartbeats.
    Gateways([u64; 4]),
}

/// Reads a worker's line; `process` numbers the worker.
fn parse(process: usize, line: &str) -> Option<Report> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |n: usize| -> Option<i64> { words.get(n)?.parse().ok() };
    let viewer = || -> Option<usize> { words.get(1)?.parse().ok() };
    let four = || -> Option<[u64; 4]> {
        let mut counts = [0; 4];
        for (n, count) in counts.iter_mut().enumerate() {
            *count = words.get(n + 1)?.parse().ok()?;
        }
        Some(counts)
    };
    Some(match *words.first()? {
        "ready" => Report::Ready(viewer()?),
        "lost" => Report::Lost(viewer()?),
        "probe" => Report::Probe {
            viewer: viewer()?,
            state: u8::try_from(number(2)?).ok()?,
            at: number(3)?,
        },
        "all" => Report::All {
            viewer: viewer()?,
            at: number(2)?,
        },
        "none" => Report::None {
            viewer: viewer()?,
            at: number(2)?,
        },
        "vstats" => Report::Viewers {
            process,
            counts: four()?,
        },
        "gstats" => Report::Gateways(four()?),
        _ => return None,
    })
}

/// What the viewers and gateways have reported so far.
pub struct Tally {
    /// Which viewers applied their first snapshot.
    pub ready: Vec<bool>,
    /// When each viewer saw the probe reach the state awaited, since [`Tally::await_probe`].
    pub probe_at: Vec<Option<i64>>,
    awaited_probe: Option<u8>,
    /// When each viewer last saw every DMS connected.
    pub all_at: Vec<Option<i64>>,
    /// When each viewer last saw no DMS connected.
    pub none_at: Vec<Option<i64>>,
    /// Streams that ended.
    pub lost: u64,
    /// Per viewer process: snapshots, `state` events, `changes` events, bytes.
    pub viewer_counts: Vec<[u64; 4]>,
    /// Connected once, connections, failures, heartbeats (the running gateway process).
    pub gateways: [u64; 4],
}

impl Tally {
    /// A tally for `viewers` viewers in `processes` processes.
    pub fn new(viewers: usize, processes: usize) -> Self {
        Self {
            ready: vec![false; viewers],
            probe_at: vec![None; viewers],
            awaited_probe: None,
            all_at: vec![None; viewers],
            none_at: vec![None; viewers],
            lost: 0,
            viewer_counts: vec![[0; 4]; processes],
            gateways: [0; 4],
        }
    }

    /// Forgets when the probe was seen and waits for it to reach `state`.
    pub fn await_probe(&mut self, state: u8) {
        self.awaited_probe = Some(state);
        self.probe_at.fill(None);
    }

    fn apply(&mut self, report: Report) {
        let slot = |slots: &mut Vec<Option<i64>>, viewer: usize, at: i64| {
            if let Some(slot) = slots.get_mut(viewer) {
                *slot = Some(at);
            }
        };
        match report {
            Report::Ready(viewer) => {
                if let Some(ready) = self.ready.get_mut(viewer) {
                    *ready = true;
                }
            }
            Report::Probe { viewer, state, at } => {
                if self.awaited_probe == Some(state) {
                    slot(&mut self.probe_at, viewer, at);
                }
            }
            Report::All { viewer, at } => slot(&mut self.all_at, viewer, at),
            Report::None { viewer, at } => slot(&mut self.none_at, viewer, at),
            Report::Lost(_) => self.lost += 1,
            Report::Viewers { process, counts } => {
                if let Some(slot) = self.viewer_counts.get_mut(process) {
                    *slot = counts;
                }
            }
            Report::Gateways(counts) => self.gateways = counts,
        }
    }

    /// How many of `slots` are set at or after `since`.
    pub fn count_since(slots: &[Option<i64>], since: i64) -> usize {
        slots.iter().flatten().filter(|at| **at >= since).count()
    }
}

/// The worker processes and the reports they send.
pub struct Fleet {
    reports: mpsc::UnboundedReceiver<Report>,
    sender: mpsc::UnboundedSender<Report>,
    /// What the workers reported so far.
    pub tally: Tally,
    /// Running workers: name and process.
    children: Vec<(String, Child)>,
}

impl Fleet {
    /// No worker yet; reports go to `tally`.
    pub fn new(tally: Tally) -> Self {
        let (sender, reports) = mpsc::unbounded_channel();
        Self {
            reports,
            sender,
            tally,
            children: Vec::new(),
        }
    }

    /// Starts `stratus bench <args…>` as worker `name`, numbered `process` in its reports.
    pub fn start(&mut self, name: &str, process: usize, args: &[String]) -> anyhow::Result<()> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("bench")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the {name} process"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(report) = parse(process, &line) {
                    let _ = sender.send(report);
                }
            }
        });
        self.children.push((name.to_owned(), child));
        Ok(())
    }

    /// Kills the worker `name` (and waits for it to end).
    pub async fn stop(&mut self, name: &str) {
        if let Some(position) = self.children.iter().position(|(n, _)| n == name) {
            let (_, mut child) = self.children.remove(position);
            let _ = child.kill().await;
        }
    }

    /// The running workers' names and process ids, this coordinator included.
    pub fn processes(&self) -> Vec<(String, u32)> {
        let mut processes = vec![("coordinator".to_owned(), std::process::id())];
        processes.extend(
            self.children
                .iter()
                .filter_map(|(name, child)| Some((name.clone(), child.id()?))),
        );
        processes
    }

    /// Applies reports until `done` holds or `timeout` passes; false on the timeout. `watch`
    /// runs every 100 ms meanwhile (memory sampling).
    pub async fn until(
        &mut self,
        timeout: Duration,
        mut watch: impl FnMut(),
        done: impl Fn(&Tally) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut sampling = tokio::time::interval(Duration::from_millis(100));
        loop {
            if done(&self.tally) {
                return true;
            }
            tokio::select! {
                report = self.reports.recv() => match report {
                    Some(report) => self.tally.apply(report),
                    None => return false,
                },
                _ = sampling.tick() => watch(),
                () = tokio::time::sleep_until(deadline) => return done(&self.tally),
            }
        }
    }

    /// Applies the reports that arrived so far.
    pub fn drain(&mut self) {
        while let Ok(report) = self.reports.try_recv() {
            self.tally.apply(report);
        }
    }
}

/// Worker arguments: `--name value` pairs.
pub fn arguments(command: &str, pairs: &[(&str, String)]) -> Vec<String> {
    let mut args = vec![command.to_owned()];
    for (name, value) in pairs {
        args.push(format!("--{name}"));
        args.push(value.clone());
    }
    args
}

/// A path as a worker argument.
pub fn path_argument(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_workers_print() {
        assert_eq!(parse(0, "ready 12"), Some(Report::Ready(12)));
        assert_eq!(
            parse(0, "probe 3 1 1700000000000000"),
            Some(Report::Probe {
                viewer: 3,
                state: 1,
                at: 1_700_000_000_000_000
            })
        );
        assert_eq!(
            parse(1, "vstats 1 2 3 4"),
            Some(Report::Viewers {
                process: 1,
                counts: [1, 2, 3, 4]
            })
        );
        assert_eq!(parse(0, "gstats 1 2 3"), None);
        assert_eq!(parse(0, "probe 3 x 1"), None);
        assert_eq!(parse(0, ""), None);
    }

    #[test]
    fn the_tally_keeps_only_the_awaited_probe_state() {
        let mut tally = Tally::new(2, 1);
        tally.await_probe(1);
        tally.apply(Report::Probe {
            viewer: 0,
            state: 0,
            at: 5,
        });
        tally.apply(Report::Probe {
            viewer: 1,
            state: 1,
            at: 6,
        });
        assert_eq!(tally.probe_at, [None, Some(6)]);
        tally.apply(Report::All { viewer: 0, at: 9 });
        assert_eq!(Tally::count_since(&tally.all_at, 9), 1);
        assert_eq!(Tally::count_since(&tally.all_at, 10), 0);
    }
}
