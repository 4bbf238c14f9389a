//! Runs the `egov` binary against a stack that is not running.

use std::path::Path;
use std::process::{Command, Output};

use egov_testkit::free_port;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn egov(data_dir: &Path, command: &str) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_egov"))
        .args([command, "--data-dir"])
        .arg(data_dir)
        .env_remove("EGOV_DATA_DIR")
        .output()
}

/// Writes a state file whose processes listen on ports nothing uses.
fn write_stale_state(data_dir: &Path) -> std::io::Result<()> {
    let state = serde_json::json!({
        "supervisor_pid": 0,
        "nats": { "pid": 0, "addr": format!("127.0.0.1:{}", free_port()), "log": "nats.log" },
        "services": [{
            "name": "pki",
            "binary": "egov-pki",
            "pid": 0,
            "grpc": format!("127.0.0.1:{}", free_port()),
            "http": format!("127.0.0.1:{}", free_port()),
            "log": "pki.log",
        }],
    });
    std::fs::write(data_dir.join("stack.json"), state.to_string())
}

#[test]
fn status_reports_down_and_fails_when_nothing_runs() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_stale_state(dir.path())?;

    let output = egov(dir.path(), "status")?;
    let stdout = String::from_utf8(output.stdout)?;
    assert!(!output.status.success(), "{stdout}");
    let pki = stdout
        .lines()
        .find(|l| l.contains("pki"))
        .unwrap_or_default();
    assert!(pki.contains("DOWN"), "{stdout}");
    let nats = stdout
        .lines()
        .find(|l| l.contains("nats"))
        .unwrap_or_default();
    assert!(nats.contains("DOWN"), "{stdout}");
    Ok(())
}

#[test]
fn down_without_a_state_file_says_nothing_is_running() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = egov(dir.path(), "down")?;
    assert!(output.status.success());
    assert!(String::from_utf8(output.stdout)?.contains("no stack is running"));
    Ok(())
}

#[test]
fn down_clears_the_state_of_a_stack_that_already_died() -> TestResult {
    let dir = tempfile::tempdir()?;
    write_stale_state(dir.path())?;

    let output = egov(dir.path(), "down")?;
    assert!(output.status.success(), "{output:?}");
    assert!(!dir.path().join("stack.json").exists());
    Ok(())
}
