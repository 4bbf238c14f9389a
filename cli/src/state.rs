//! The state file `egov up` writes, so `egov status` and `egov down` find a running stack.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The state file's name inside the data dir.
pub const STATE_FILE: &str = "stack.json";

/// Describes a stack started by `egov up`: who supervises it and what runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackState {
    /// The pid of the `egov up` process; SIGTERM to it stops the whole stack.
    pub supervisor_pid: u32,
    /// The nats-server process.
    pub nats: NatsProcess,
    /// The service processes, in start order.
    pub services: Vec<ServiceProcess>,
}

/// Describes the running nats-server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatsProcess {
    /// Its pid.
    pub pid: u32,
    /// Its client address.
    pub addr: SocketAddr,
    /// Its log file.
    pub log: PathBuf,
}

/// Describes one running service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProcess {
    /// The service's short name (the row of `stack::SERVICES`).
    pub name: String,
    /// The binary's file name, checked against the pid before signalling it.
    pub binary: String,
    /// Its pid.
    pub pid: u32,
    /// Its gRPC address.
    pub grpc: SocketAddr,
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its log file.
    pub log: PathBuf,
}

/// Returns the path of the state file in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATE_FILE)
}

/// Reads the state file; `None` when no stack was started in `data_dir`.
pub fn read(data_dir: &Path) -> anyhow::Result<Option<StackState>> {
    let path = path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let state = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid stack state file", path.display()))?;
    Ok(Some(state))
}

/// Writes the state file atomically, so a reader never sees half of it.
pub fn write(data_dir: &Path, state: &StackState) -> anyhow::Result<()> {
    let path = path(data_dir);
    let partial = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(state).context("cannot encode the stack state")?;
    std::fs::write(&partial, text)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// Removes the state file; a missing one is fine.
pub fn remove(data_dir: &Path) -> anyhow::Result<()> {
    let path = path(data_dir);
    match std::fs::remove_file(&path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_state_reads_back_equal_and_removes_cleanly() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        assert_eq!(read(dir.path())?, None);

        let state = StackState {
            supervisor_pid: 42,
            nats: NatsProcess {
                pid: 43,
                addr: "127.0.0.1:4222".parse()?,
                log: dir.path().join("logs/nats.log"),
            },
            services: vec![ServiceProcess {
                name: "pki".into(),
                binary: "egov-pki".into(),
                pid: 44,
                grpc: "127.0.0.1:7110".parse()?,
                http: "127.0.0.1:7111".parse()?,
                log: dir.path().join("logs/pki.log"),
            }],
        };
        write(dir.path(), &state)?;
        assert_eq!(read(dir.path())?, Some(state));

        remove(dir.path())?;
        remove(dir.path())?;
        assert_eq!(read(dir.path())?, None);
        Ok(())
    }

    #[test]
    fn a_corrupt_state_file_is_named_in_the_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        std::fs::write(path(dir.path()), "{not json")?;
        let error = read(dir.path()).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains(STATE_FILE)));
        Ok(())
    }
}
