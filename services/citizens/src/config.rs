//! The citizens-DB's configuration: what it listens on, where it keeps its database,
//! which certification centre it enrolls with, what population it generates and how it
//! takes part in the gateway's async channel.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_CITIZENS__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use egov_core::config::{ConfigError, Validate};
pub use egov_system::config::{DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT};
use egov_system::config::{check_at_least_one, check_endpoint};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_CITIZENS__`) and the health and log name.
pub const SERVICE: &str = "citizens";

/// Default gRPC listen address (MessageReceiver, Citizens, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7120";

/// Default HTTP listen address (`/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7121";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/citizens";

/// Default seed of the synthetic population.
pub const DEFAULT_SEED: &str = "egov-stack";

/// Default number of generated persons (fixtures come on top).
pub const DEFAULT_POPULATION: usize = 10_000;

/// Largest population accepted: well inside the IIN serial space, and a load that
/// still fits a few minutes on a small machine.
pub const MAX_POPULATION: usize = 20_000_000;

/// Default time a revocation answer of the certification centre is trusted, in seconds.
pub const DEFAULT_REVOCATION_FRESHNESS_SECS: u64 = 60;

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "citizens.db";

/// The citizens-DB's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway,
    /// `egov.v1.Citizens` for direct callers, grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (`/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the database; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
    /// unset means `sqlite://<data_dir>/citizens.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Seed the synthetic population derives from: the same seed and size give the
    /// same persons, families and legal entities on every machine.
    pub seed: String,
    /// Number of generated persons, loaded on first start when the database is empty.
    pub population: usize,
    /// gRPC endpoint of the certification centre (enrolment and revocation status).
    pub pki_endpoint: String,
    /// The one-time token the certification centre accepts for this system's seal
    /// (`EGOV_CITIZENS__ENROLMENT_TOKEN`, as `egov up` hands it); needed only until the seal is
    /// kept in the data dir (`seal.key`, `seal.crt`). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token (the compose stack's generator writes one per system).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// How long a revocation answer is trusted before it is asked again, in seconds.
    pub revocation_freshness_secs: u64,
    /// gRPC endpoint of the gateway the answers to async requests are sent through
    /// (and async messages fetched from, with `async_pull`).
    pub gateway_endpoint: String,
    /// NATS server URL of the async push inbox (`egov.sys.citizens.inbox`); empty turns it
    /// off, and an unreachable server only logs a warning.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway, for a citizens-DB registered there
    /// with `delivery = "pull"`.
    pub async_pull: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7120)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7121)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            seed: DEFAULT_SEED.to_owned(),
            population: DEFAULT_POPULATION,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            enrolment_token: None,
            enrolment_token_file: None,
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_CITIZENS__*` in `env`,
    /// then `overrides` as `(key, value)` pairs from flags.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        egov_core::config::load(SERVICE, file, env, overrides)
    }

    /// Returns a config for tests and embedding: defaults with this data dir.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }

    /// Returns the database URL, derived from the data dir when unset.
    pub fn database_url(&self) -> String {
        egov_store::database_url_or_default(
            self.database_url.as_deref(),
            &self.data_dir,
            DATABASE_FILE,
        )
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        if self.seed.is_empty() {
            return Err("`seed` must not be empty: the population derives from it".into());
        }
        if self.population > MAX_POPULATION {
            return Err(format!(
                "`population` {} is above the maximum of {MAX_POPULATION}",
                self.population
            ));
        }
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        check_at_least_one("revocation_freshness_secs", self.revocation_freshness_secs)?;
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let overrides: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(None, env, &overrides)
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_the_data_dir() {
        let config = load(&[], &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
        assert_eq!(config.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/citizens/citizens.db?mode=rwc"
        );
        assert_eq!(config.population, 10_000);
        assert_eq!(config.seed, "egov-stack");
        assert_eq!(config.pki_endpoint, DEFAULT_PKI_ENDPOINT);
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(!config.async_pull);
    }

    #[test]
    fn async_pull_and_the_gateway_endpoint_come_from_the_environment() {
        let config = load(
            &[
                ("EGOV_CITIZENS__ASYNC_PULL", "true"),
                ("EGOV_CITIZENS__GATEWAY_ENDPOINT", "http://gw:7100"),
            ],
            &[],
        )
        .expect("loads");
        assert!(config.async_pull);
        assert_eq!(config.gateway_endpoint, "http://gw:7100");
    }

    #[test]
    fn a_gateway_endpoint_without_scheme_is_refused_naming_the_key() {
        let error = load(&[], &[("gateway_endpoint", "127.0.0.1:7100")]).expect_err("refused");
        assert!(error.to_string().contains("gateway_endpoint"), "{error}");
    }

    #[test]
    fn env_and_flags_override_defaults() {
        let config = load(
            &[("EGOV_CITIZENS__POPULATION", "500")],
            &[("data_dir", "/tmp/x"), ("seed", "other")],
        )
        .expect("loads");
        assert_eq!(config.population, 500);
        assert_eq!(config.seed, "other");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_CITIZENS__POPULATON", "5")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("populaton"), "{error}");
    }

    #[test]
    fn an_empty_seed_is_refused_naming_the_key() {
        let error = load(&[], &[("seed", "")]).expect_err("refused");
        assert!(error.to_string().contains("`seed`"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgresql://egov:s3cret@db:5432/citizens";
        let config = load(&[("EGOV_CITIZENS__DATABASE_URL", url)], &[]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[(
                "EGOV_CITIZENS__DATABASE_URL",
                "mysql://egov:s3cret@db/citizens",
            )],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
