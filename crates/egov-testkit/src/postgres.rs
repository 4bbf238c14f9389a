//! A throw-away PostgreSQL cluster for one test, like [`NatsServer`](crate::NatsServer): its
//! data dir and unix socket in a temp dir, trust auth on a free loopback port, stopped and
//! removed when dropped.
//!
//! ```no_run
//! let postgres = egov_testkit::PostgresServer::start()?;
//! let url = postgres.create_database("labor")?;
//! println!("connect to {url}");
//! # Ok::<(), egov_testkit::TestkitError>(())
//! ```
//!
//! PostgreSQL refuses to run as root, so under root (CI's fresh Debian machine) `initdb` and
//! `postgres` run as the `postgres` system user the Debian package creates. The cluster
//! `initdb` makes is cached once per machine and copied for each server: nextest runs every
//! test in its own process, so each PostgreSQL test starts a cluster of its own.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::TestkitError;
use crate::ports::free_port;

/// The command that installs PostgreSQL on Debian / Ubuntu.
pub const POSTGRES_INSTALL: &str = "apt-get install postgresql";

/// The variable that names the directory of `initdb` and `postgres` explicitly.
pub const POSTGRES_BIN_ENV: &str = "EGOV_POSTGRES_BIN";

/// The superuser `initdb` creates; every URL connects as it (trust auth, loopback only).
pub const SUPERUSER: &str = "postgres";

/// The system user the servers run as when the test runs as root.
const SYSTEM_USER: &str = "postgres";

/// How long one start attempt waits for the server to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stop waits for the server to exit before killing it.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ports are tried: another process can take a free port before postgres binds it.
const START_ATTEMPTS: u32 = 3;

/// A running PostgreSQL cluster on `127.0.0.1`, its files in a temp dir.
///
/// Dropping it stops the server (an immediate shutdown), waits for it and deletes the files.
#[derive(Debug)]
pub struct PostgresServer {
    child: Child,
    port: u16,
    bin: PathBuf,
    // Declared last so it is removed after the server is gone (Drop runs first).
    dir: TempDir,
}

impl PostgresServer {
    /// Starts a private cluster on a free loopback port and waits until it accepts.
    pub fn start() -> Result<PostgresServer, TestkitError> {
        let bin = find_postgres()?;
        let runner = Runner::current()?;
        let dir = tempfile::Builder::new()
            .prefix("egov-pg-")
            .tempdir()
            .map_err(io_error("create a temp dir for postgres"))?;
        let data = dir.path().join("data");
        let socket = dir.path().join("socket");
        std::fs::create_dir(&socket).map_err(io_error("create the socket dir"))?;
        let template = template_cluster(&bin, &runner)?;
        copy_dir(&template, &data)?;
        runner.give(dir.path())?;

        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let mut child = runner.spawn(
                Command::new(bin.join("postgres"))
                    .arg("-D")
                    .arg(&data)
                    .arg("-k")
                    .arg(&socket)
                    .args(["-p", &port.to_string()])
                    .args(["-c", "listen_addresses=127.0.0.1"])
                    // A test's data is thrown away: never wait for the disk.
                    .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                    .args(["-c", "full_page_writes=off"])
                    .args(["-c", "dynamic_shared_memory_type=mmap"])
                    .args(["-c", "max_connections=50"]),
                &log_path(dir.path()),
            )?;
            match wait_ready(&bin, &mut child, port) {
                Ok(()) => {
                    tracing::debug!(port, "postgres ready");
                    return Ok(PostgresServer {
                        child,
                        port,
                        bin,
                        dir,
                    });
                }
                Err(reason) => {
                    stop(&mut child);
                    tracing::debug!(port, %reason, "postgres attempt failed, retrying");
                    last_failure = reason;
                }
            }
        }
        Err(TestkitError::PostgresNotReady {
            attempts: START_ATTEMPTS,
            reason: last_failure,
            log_tail: crate::nats::log_tail(&log_path(dir.path()), 20),
        })
    }

    /// Returns the port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the URL of `database` on this server (which may not exist yet).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database named `name` (letters, digits, `_`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, TestkitError> {
        let output = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
            ])
            .arg(name)
            .stdin(Stdio::null())
            .output()
            .map_err(io_error("run createdb"))?;
        if !output.status.success() {
            return Err(TestkitError::PostgresCommand {
                command: format!("createdb {name}"),
                output: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(self.url(name))
    }

    /// Returns the file the server logs to.
    pub fn log_path(&self) -> PathBuf {
        log_path(self.dir.path())
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Returns the directory holding `initdb` and `postgres`.
///
/// Looks at `$EGOV_POSTGRES_BIN`, then the newest `/usr/lib/postgresql/<version>/bin` (where
/// Debian puts them, off PATH), then PATH.
pub fn find_postgres() -> Result<PathBuf, TestkitError> {
    let has_binaries = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(explicit) = std::env::var_os(POSTGRES_BIN_ENV) {
        let explicit = PathBuf::from(explicit);
        return if has_binaries(&explicit) {
            Ok(explicit)
        } else {
            Err(TestkitError::PostgresMissing)
        };
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_binaries(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_binaries(dir))
        .ok_or(TestkitError::PostgresMissing)
}

/// Who runs the server's processes: this user, or `postgres` when this is root.
#[derive(Debug)]
enum Runner {
    Me,
    SystemUser { uid: u32, gid: u32 },
}

impl Runner {
    fn current() -> Result<Runner, TestkitError> {
        use std::os::unix::fs::MetadataExt as _;
        // /proc/self belongs to the process's effective user.
        let root = std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0);
        if !root {
            return Ok(Runner::Me);
        }
        let passwd =
            std::fs::read_to_string("/etc/passwd").map_err(io_error("read /etc/passwd"))?;
        passwd
            .lines()
            .map(|line| line.split(':').collect::<Vec<_>>())
            .find(|fields| fields.first() == Some(&SYSTEM_USER))
            .and_then(|fields| {
                Some(Runner::SystemUser {
                    uid: fields.get(2)?.parse().ok()?,
                    gid: fields.get(3)?.parse().ok()?,
                })
            })
            .ok_or(TestkitError::PostgresUserMissing)
    }

    /// Hands `dir` and everything in it to the runner.
    fn give(&self, dir: &Path) -> Result<(), TestkitError> {
        let Runner::SystemUser { uid, gid } = self else {
            return Ok(());
        };
        let mut pending = vec![dir.to_path_buf()];
        while let Some(path) = pending.pop() {
            std::os::unix::fs::lchown(&path, Some(*uid), Some(*gid))
                .map_err(io_error(&format!("chown {}", path.display())))?;
            if path.is_dir() && !path.is_symlink() {
                for entry in std::fs::read_dir(&path).map_err(io_error("list a postgres dir"))? {
                    pending.push(entry.map_err(io_error("list a postgres dir"))?.path());
                }
            }
        }
        Ok(())
    }

    /// Spawns `command` as the runner, its output appended to `log`.
    fn spawn(&self, command: &mut Command, log: &Path) -> Result<Child, TestkitError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(io_error("open the postgres log"))?;
        let log_err = log.try_clone().map_err(io_error("open the postgres log"))?;
        let mut command = self.wrap(command);
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io_error("spawn postgres"))
    }

    /// Returns `command` run as the runner: `setpriv` execs in place (no parent left
    /// between us and postgres), so the child we hold is the postmaster itself.
    fn wrap(&self, command: &Command) -> Command {
        match self {
            Runner::Me => {
                let mut plain = Command::new(command.get_program());
                plain.args(command.get_args());
                plain
            }
            Runner::SystemUser { uid, gid } => {
                let mut wrapped = Command::new("setpriv");
                wrapped
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(command.get_program())
                    .args(command.get_args());
                wrapped
            }
        }
    }
}

/// Returns a cluster `initdb` made, cached per machine, user and PostgreSQL build under the
/// temp dir: initdb takes seconds, a copy of its result a fraction of one.
fn template_cluster(bin: &Path, runner: &Runner) -> Result<PathBuf, TestkitError> {
    let key: String = bin
        .to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let owner = match runner {
        Runner::Me => "user",
        Runner::SystemUser { .. } => "postgres",
    };
    let template = std::env::temp_dir().join(format!("egov-pg-template-{owner}{key}"));
    if template.join("PG_VERSION").is_file() {
        return Ok(template);
    }
    // Built aside and renamed into place, so a concurrent test never copies half a cluster.
    let building = tempfile::Builder::new()
        .prefix("egov-pg-initdb-")
        .tempdir()
        .map_err(io_error("create a temp dir for initdb"))?;
    runner.give(building.path())?;
    let data = building.path().join("data");
    let log = building.path().join("initdb.log");
    let status = runner
        .spawn(
            Command::new(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["--no-sync", "--auth=trust", "-U", SUPERUSER])
                .args(["-E", "UTF8", "--locale=C"]),
            &log,
        )?
        .wait()
        .map_err(io_error("wait for initdb"))?;
    if !status.success() {
        return Err(TestkitError::PostgresCommand {
            command: "initdb".into(),
            output: crate::nats::log_tail(&log, 20),
        });
    }
    // Losing the race to another test is fine: its template is as good as ours.
    if std::fs::rename(&data, &template).is_err() && !template.join("PG_VERSION").is_file() {
        return Err(TestkitError::PostgresCommand {
            command: format!("move the initdb cluster to {}", template.display()),
            output: String::new(),
        });
    }
    Ok(template)
}

/// Copies a cluster directory (PostgreSQL insists on mode 0700 for it).
fn copy_dir(from: &Path, to: &Path) -> Result<(), TestkitError> {
    let output = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .map_err(io_error("run cp"))?;
    if !output.status.success() {
        return Err(TestkitError::PostgresCommand {
            command: format!("cp -a {} {}", from.display(), to.display()),
            output: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("postgres.log")
}

/// Waits until the server on `port` accepts connections; says why not otherwise.
fn wait_ready(bin: &Path, child: &mut Child, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("exited with {status} on port {port}")),
            Ok(None) => {}
            Err(error) => return Err(format!("cannot poll the process: {error}")),
        }
        // The port opens before recovery ends; pg_isready asks whether it takes sessions.
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            && Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .status()
                .is_ok_and(|status| status.success())
        {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!(
        "port {port} did not accept within {}s",
        READY_TIMEOUT.as_secs()
    ))
}

/// Stops the postmaster with an immediate shutdown (SIGQUIT), which releases its shared
/// memory as SIGKILL would not; kills it if it lingers.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_)) | Err(_)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn io_error(action: &str) -> impl FnOnce(std::io::Error) -> TestkitError {
    let action = action.to_owned();
    move |source| TestkitError::Io { action, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_postgres_error_names_the_install_command() {
        let message = TestkitError::PostgresMissing.to_string();
        assert!(message.contains("apt-get install postgresql"), "{message}");
    }

    #[test]
    fn a_started_server_creates_databases_it_serves() -> Result<(), TestkitError> {
        let postgres = PostgresServer::start()?;
        let url = postgres.create_database("first")?;
        assert_eq!(
            url,
            format!("postgres://postgres@127.0.0.1:{}/first", postgres.port())
        );
        let taken = postgres.create_database("first").expect_err("exists");
        assert!(taken.to_string().contains("first"), "{taken}");
        let data = postgres.dir.path().to_path_buf();
        drop(postgres);
        assert!(!data.exists(), "the cluster's files outlived the server");
        Ok(())
    }
}
