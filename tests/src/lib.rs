//! egov-tests: tests of the whole stack as operators run it, and their helpers.
//!
//! - [`docker`]: whether a Docker engine answers, which compose command to run, and a compose
//!   project that is taken down when dropped.
//! - [`repo_root`]: where `docker-compose.yml`, `deploy/` and the README are.
//!
//! The tests themselves are in `tests/`: `compose.rs` (the compose file, its images and the
//! stack answering a signed request), `manifests.rs` (the NATS cluster and Kubernetes
//! manifests), `nats_cluster.rs` (a three-node NATS cluster losing a node mid-burst), `stack_clock.rs` (one
//! advance of the stack clock moving the centre, the gateway and the back office).

pub mod docker;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

/// Returns the repository's root directory (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().map(PathBuf::from).unwrap_or(crate_dir)
}

/// Has `nats-server -t` check the config `config` (a path from the repository root) with
/// `env` set, failing with nats-server's own error; without nats-server it prints why the
/// check was skipped.
pub fn assert_nats_server_accepts<K, V>(config: &str, env: impl IntoIterator<Item = (K, V)>)
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let Ok(binary) = egov_testkit::find_nats_server() else {
        println!(
            "skipped `nats-server -t`: {}",
            egov_testkit::NATS_SERVER_INSTALL
        );
        return;
    };
    let output = Command::new(binary)
        .envs(env)
        .arg("--config")
        .arg(repo_root().join(config))
        .arg("-t")
        .output()
        .expect("nats-server -t");
    assert!(
        output.status.success(),
        "{config}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
