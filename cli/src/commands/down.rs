//! `egov down`: stops the stack `egov up` started with this data dir.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::process::{self, STOP_GRACE};
use crate::state;

/// How long `egov up` gets to stop its children after SIGTERM.
const SUPERVISOR_GRACE: Duration = Duration::from_secs(30);

/// How often a stopping process is checked.
const POLL: Duration = Duration::from_millis(100);

/// Runs `egov down` for the stack recorded in `data_dir`.
pub async fn run(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let Some(state) = state::read(data_dir)? else {
        println!(
            "no stack is running from {} (no {})",
            data_dir.display(),
            state::STATE_FILE
        );
        return Ok(ExitCode::SUCCESS);
    };

    // The supervisor stops its children in order; ask it first.
    if process::runs(state.supervisor_pid, "egov") && process::terminate(state.supervisor_pid) {
        println!(
            "asked egov up (pid {}) to stop the stack…",
            state.supervisor_pid
        );
        stop_wait(state.supervisor_pid, SUPERVISOR_GRACE).await;
    }

    // Whatever it left behind (it may have been killed): stop directly, checking that
    // each pid still runs the recorded binary so a recycled pid is left alone.
    let leftovers = state
        .services
        .iter()
        .rev()
        .map(|s| (s.name.as_str(), s.binary.as_str(), s.pid))
        .chain([("nats", "nats-server", state.nats.pid)]);
    for (name, binary, pid) in leftovers {
        if process::runs(pid, binary) {
            println!("stopping {name} (pid {pid})");
            process::terminate(pid);
            if !stop_wait(pid, STOP_GRACE).await {
                process::kill(pid);
            }
        }
    }

    state::remove(data_dir)?;
    println!("stack stopped");
    Ok(ExitCode::SUCCESS)
}

/// Waits until `pid` is gone; returns whether it went within `grace`.
async fn stop_wait(pid: u32, grace: Duration) -> bool {
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if !process::is_alive(pid) {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}
