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

use std::path::PathBuf;

/// Returns the repository's root directory (this crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().map(PathBuf::from).unwrap_or(crate_dir)
}
