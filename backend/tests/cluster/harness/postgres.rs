//! A PostgreSQL instance of one test's own (`initdb` in a temporary folder, on a free port),
//! which the test may stop and start again without touching the machine's shared server.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL instance; stopped and removed when dropped.
pub struct OwnPostgres {
    bin_dir: PathBuf,
    pub port: u16,
    folder: tempfile::TempDir,
    /// Run as `postgres` when the tests run as root (PostgreSQL refuses root).
    as_postgres: bool,
}

impl OwnPostgres {
    /// `initdb` and start; `None` (said loudly) when PostgreSQL's programs are not here.
    pub fn start(test: &str) -> Option<Self> {
        let Some(bin_dir) = find_bin_dir() else {
            eprintln!(
                "\n*** cluster test {test} SKIPPED: PostgreSQL's initdb and pg_ctl are not on \
                 this machine (Debian's postgresql package, which scripts/test.sh installs) ***\n"
            );
            return None;
        };
        let folder = tempfile::tempdir().expect("a temporary folder");
        let as_postgres = running_as_root();
        let postgres = Self {
            bin_dir,
            port: super::free_port(),
            folder,
            as_postgres,
        };
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(postgres.folder.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the PostgreSQL folder");
        }
        let data = postgres.data_dir();
        postgres.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        postgres.start_again();
        Some(postgres)
    }

    fn data_dir(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the instance (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir().to_string_lossy(),
                "-o",
                &options,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops it the hard way (`-m immediate`: no checkpoint, clients cut off), as a crash
    /// would.
    pub fn stop(&self) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir().to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    fn run(&self, program: &str, arguments: &[&str]) {
        let output = self
            .command(program)
            .args(arguments)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
        assert!(
            output.status.success(),
            "{program} {arguments:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `program` of PostgreSQL's, run as `postgres` when the tests run as root.
    fn command(&self, program: &str) -> Command {
        let binary = self.bin_dir.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&binary);
            command
        } else {
            Command::new(&binary)
        };
        command.current_dir(self.folder.path());
        command
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `TEST_POSTGRES_BIN`, else the folder of `initdb` on `PATH`, else Debian's newest
/// `/usr/lib/postgresql/<version>/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("TEST_POSTGRES_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|dir| has_tools(dir)) {
        return Some(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|dir| has_tools(dir))
        .collect();
    versions.sort();
    versions.pop()
}
