//! The gateway's configuration: what it is (national or regional, its system
//! id), where it listens, and where its registry, store, NATS and PKI are.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which gateway this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GatewayRole {
    /// The national e-government gateway (ЭҮШ / ШЭП).
    #[default]
    National,
    /// A regional gateway (ЭҮАШ / РШЭП) fronting local executive bodies' workstations.
    Regional,
}

/// The gateway's configuration, loaded by `egov_core::config::load`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// National or regional.
    pub role: GatewayRole,
    /// This gateway's own system id in the registry (`shep`, `rshep`).
    pub system_id: String,
    /// Address of the gRPC server (Gateway service, health, reflection).
    pub grpc_listen: SocketAddr,
    /// Address of the HTTP server (message log JSON, diagrams, admin, metrics).
    pub http_listen: SocketAddr,
    /// Directory for the default SQLite store.
    pub data_dir: PathBuf,
    /// Message log store URL; defaults to SQLite in `data_dir`. `postgres://…` for PostgreSQL.
    pub database_url: Option<String>,
    /// The registry file (routes and systems); defaults to `registry.toml` in `data_dir`.
    pub registry: Option<PathBuf>,
    /// NATS server URL for the async channel and NATS-routed services.
    pub nats_url: String,
    /// The certification centre's gRPC endpoint, for trust roots and revocation status.
    pub pki_endpoint: String,
    /// How long a revocation answer is reused, in seconds (default five minutes).
    pub revocation_freshness_secs: u64,
    /// How long one call to the certification centre may take, in milliseconds;
    /// a revocation question past it is refused with `EPKI001`.
    pub pki_timeout_ms: u64,
    /// How far a message's `message_time` may lie from the gateway's clock, in
    /// seconds, either way; beyond it the message is refused with `EMSG005`.
    pub message_time_window_secs: u64,
    /// Largest envelope accepted, in bytes.
    pub max_message_bytes: usize,
    /// How long a message id is remembered in memory, in front of the durable
    /// replay table in the message log's database, in seconds.
    pub replay_window_secs: u64,
    /// Most message ids remembered in memory for replay protection.
    pub replay_capacity: usize,
    /// Delivery attempts of an async message before it is NOT_DELIVERED.
    pub max_deliveries: u32,
    /// Copies JetStream keeps of the async channel's streams and state bucket: 1 on one
    /// nats-server, 3 on a three-node cluster so that losing a node loses nothing.
    pub jetstream_replicas: usize,
    /// BIN of the gateway's seal, which countersigns relayed answers; defaults
    /// to the BIN the stack's system table gives `system_id`.
    pub bin: Option<String>,
    /// IIN of the person responsible for the gateway's seal certificate.
    pub seal_holder_iin: String,
    /// The operator console's accounts and sessions; defaults to SQLite `console.db` in the data dir.
    pub console_database_url: Option<String>,
    /// A TOML file of the console's first accounts (see `egov_signin::bootstrap`).
    pub console_bootstrap: Option<PathBuf>,
    /// Whether the console's session cookie is `Secure` (on behind TLS).
    pub console_secure_cookie: bool,
    /// Origins a console form may be posted from; empty means the request's own host.
    pub console_origins: Vec<String>,
    /// The one-time token the certification centre accepts for this system's seal
    /// (`EGOV_GATEWAY__ENROLMENT_TOKEN`, as `egov up` hands it); needed only until the seal is
    /// kept in the data dir (`seal.key`, `seal.crt`). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token (the compose stack's generator writes one per system).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// The clock that judges message times, certificate validity and console sessions: `real`
    /// (the default) or `stack`, the stack's one virtual clock followed from NATS at
    /// `nats_url` (`egov up --clock virtual` sets it).
    pub clock: egov_bus::clock::ClockSource,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            role: GatewayRole::National,
            system_id: "shep".into(),
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7100)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7101)),
            data_dir: PathBuf::from(".egov/gateway"),
            database_url: None,
            registry: None,
            nats_url: "nats://127.0.0.1:4222".into(),
            pki_endpoint: "http://127.0.0.1:7110".into(),
            revocation_freshness_secs: 300,
            pki_timeout_ms: 2000,
            message_time_window_secs: 300,
            max_message_bytes: 4 * 1024 * 1024,
            replay_window_secs: 600,
            replay_capacity: 1_000_000,
            max_deliveries: 5,
            jetstream_replicas: 1,
            bin: None,
            seal_holder_iin: "900715400349".into(),
            console_database_url: None,
            console_bootstrap: None,
            console_secure_cookie: false,
            console_origins: Vec::new(),
            enrolment_token: None,
            enrolment_token_file: None,
            clock: egov_bus::clock::ClockSource::Real,
        }
    }
}

impl Config {
    /// Returns the message log URL, defaulting to SQLite in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("gateway.db").display()
            )
        })
    }

    /// Returns the console's database URL, defaulting to SQLite in the data dir.
    pub fn console_database_url(&self) -> String {
        self.console_database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("console.db").display()
            )
        })
    }

    /// Returns the PKI timeout.
    pub fn pki_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.pki_timeout_ms)
    }

    /// Returns the seal's BIN: the configured one, else the system table's.
    pub fn seal_bin(&self) -> Option<String> {
        self.bin.clone().or_else(|| {
            egov_core::systems::by_id(&self.system_id).map(|system| system.bin.to_owned())
        })
    }

    /// Returns the registry path, defaulting to `registry.toml` in the data dir.
    pub fn registry_path(&self) -> PathBuf {
        self.registry
            .clone()
            .unwrap_or_else(|| self.data_dir.join("registry.toml"))
    }
}

impl egov_core::config::Validate for Config {
    fn validate(&self) -> Result<(), String> {
        if self.system_id.trim().is_empty() {
            return Err("system_id must not be empty".into());
        }
        if self.max_message_bytes < 1024 {
            return Err(format!(
                "max_message_bytes {} is below the 1024-byte minimum",
                self.max_message_bytes
            ));
        }
        if let Some(bin) = &self.bin {
            egov_core::Bin::parse(bin).map_err(|err| format!("bin: {err}"))?;
        }
        egov_core::Iin::parse(&self.seal_holder_iin)
            .map_err(|err| format!("seal_holder_iin: {err}"))?;
        if self.pki_timeout_ms == 0 {
            return Err("pki_timeout_ms must be at least 1".into());
        }
        if self.message_time_window_secs == 0 {
            return Err("message_time_window_secs must be at least 1".into());
        }
        if self.max_deliveries == 0 {
            return Err("max_deliveries must be at least 1".into());
        }
        // JetStream's own bounds on a stream's replicas.
        if !(1..=5).contains(&self.jetstream_replicas) {
            return Err(format!(
                "jetstream_replicas {} is outside 1..=5",
                self.jetstream_replicas
            ));
        }
        self.clock.check(&self.nats_url)
    }
}

#[cfg(test)]
mod tests {
    use egov_core::config::Validate as _;

    use super::*;

    #[test]
    fn jetstream_replicas_must_be_within_jetstreams_bounds() {
        for replicas in [1, 3, 5] {
            let config = Config {
                jetstream_replicas: replicas,
                ..Config::default()
            };
            assert_eq!(config.validate(), Ok(()), "{replicas}");
        }
        for replicas in [0, 6] {
            let config = Config {
                jetstream_replicas: replicas,
                ..Config::default()
            };
            let err = config.validate().expect_err("out of bounds");
            assert!(err.contains("jetstream_replicas"), "{err}");
        }
    }
}
