//! Child processes of `egov up`, and signalling processes of a stack started elsewhere.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// How long a process gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How many log lines an error quotes.
pub const LOG_TAIL_LINES: usize = 20;

/// Describes a child process `egov up` started.
#[derive(Debug)]
pub struct Managed {
    /// Its short name (`nats`, `pki`…).
    pub name: String,
    /// Its log file (stdout and stderr).
    pub log: PathBuf,
    child: Child,
}

impl Managed {
    /// Returns its pid (0 once it has been reaped).
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Returns its exit status if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// Holds the processes of one `egov up`, stopped in reverse start order.
#[derive(Debug, Default)]
pub struct Supervisor {
    children: Vec<Managed>,
}

impl Supervisor {
    /// Starts `program` with `args` and `env` added to its environment (where secrets go:
    /// unlike arguments, other users cannot read them in the process list), its output in
    /// `log`, and returns it.
    pub fn spawn(
        &mut self,
        name: &str,
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
    ) -> anyhow::Result<&mut Managed> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("cannot share the log file")?;
        let child = Command::new(program)
            .args(args)
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group: Ctrl-C in the terminal reaches only `egov up`,
            // which then stops the children in order instead of all at once.
            .process_group(0)
            // The last resort if `egov up` unwinds without stop_all.
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        self.children.push(Managed {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
        });
        let last = self.children.len() - 1;
        Ok(&mut self.children[last])
    }

    /// Returns the first child that has exited, with its status.
    pub fn first_exited(&mut self) -> Option<(&Managed, ExitStatus)> {
        let index = self
            .children
            .iter_mut()
            .position(|managed| managed.exited().is_some())?;
        let managed = &mut self.children[index];
        let status = managed.exited()?;
        Some((&self.children[index], status))
    }

    /// Returns the log file of the child called `name`.
    pub fn log_of(&self, name: &str) -> Option<PathBuf> {
        self.children
            .iter()
            .find(|managed| managed.name == name)
            .map(|managed| managed.log.clone())
    }

    /// Stops every child, newest first: SIGTERM, then SIGKILL after [`STOP_GRACE`].
    pub async fn stop_all(&mut self) {
        while let Some(mut managed) = self.children.pop() {
            if managed.exited().is_some() {
                continue;
            }
            if let Some(pid) = managed.child.id() {
                terminate(pid);
            }
            if tokio::time::timeout(STOP_GRACE, managed.child.wait())
                .await
                .is_err()
            {
                eprintln!(
                    "{} ignored SIGTERM for {STOP_GRACE:?}; killing it",
                    managed.name
                );
                let _ = managed.child.kill().await;
            }
        }
    }
}

/// Sends SIGTERM to `pid`; returns whether the signal was delivered.
pub fn terminate(pid: u32) -> bool {
    send_signal(pid, "TERM")
}

/// Sends SIGKILL to `pid`; returns whether the signal was delivered.
pub fn kill(pid: u32) -> bool {
    send_signal(pid, "KILL")
}

/// Returns whether a process with `pid` exists.
pub fn is_alive(pid: u32) -> bool {
    send_signal(pid, "0")
}

/// Returns whether `pid` still runs `binary`, so a recycled pid is never signalled.
///
/// Reads `/proc/<pid>/comm` (which the kernel truncates to 15 bytes); where /proc
/// is absent the check cannot be made and the pid is trusted.
pub fn runs(pid: u32, binary: &str) -> bool {
    const COMM_LEN: usize = 15;
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => {
            let expected = &binary.as_bytes()[..binary.len().min(COMM_LEN)];
            comm.trim_end().as_bytes() == expected
        }
        Err(_) => !Path::new("/proc/self").exists() && is_alive(pid),
    }
}

/// Signals through `kill(1)`: std can only SIGKILL its own children, and this keeps
/// `egov` free of `unsafe` libc calls.
fn send_signal(pid: u32, signal: &str) -> bool {
    if pid == 0 {
        return false;
    }
    std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Returns the last `lines` lines of a log file, or a note that it cannot be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(error) => format!("(cannot read {}: {error})", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_runs_its_own_binary() {
        let pid = std::process::id();
        assert!(is_alive(pid));
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
        if !comm.is_empty() {
            assert!(runs(pid, comm.trim_end()));
            assert!(!runs(pid, "nats-server"));
        }
    }

    #[test]
    fn pid_zero_is_never_signalled() {
        assert!(!is_alive(0));
        assert!(!terminate(0));
    }

    #[test]
    fn log_tail_keeps_the_last_lines() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.log");
        std::fs::write(&path, "a\nb\nc\n")?;
        assert_eq!(log_tail(&path, 2), "b\nc");
        assert!(log_tail(&dir.path().join("none"), 2).starts_with("(cannot read"));
        Ok(())
    }
}
