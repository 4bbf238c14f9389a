//! The notary registry's configuration (БНАЖ / ЕНИС): what it listens on, where it keeps
//! its powers of attorney, which certification centre it enrolls with and how it takes
//! part in the gateway's async channel.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_NOTARY__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use egov_core::config::{ConfigError, Validate};
pub use egov_system::config::{
    DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT, DEFAULT_RESPONSIBLE_IIN,
    DEFAULT_REVOCATION_FRESHNESS_SECS,
};
use egov_system::config::{check_at_least_one, check_endpoint, check_iin};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_NOTARY__`) and the health and log name.
pub const SERVICE: &str = "notary";

/// Default gRPC listen address (`MessageReceiver`, `Notary`, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7130";

/// Default HTTP listen address (`POST /powers-of-attorney`, `/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7131";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/notary";

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "notary.db";

/// The notary registry's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway,
    /// `egov.v1.Notary`, grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (`POST /powers-of-attorney`, `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the registry's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://…`; unset means
    /// `sqlite://<data_dir>/notary.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre the seal certificate and the
    /// revocation status of every sender come from.
    pub pki_endpoint: String,
    /// IIN of the person responsible for the registry's seal (its certificate's SERIALNUMBER).
    pub responsible_iin: String,
    /// Seconds a certificate's revocation status is trusted before the centre is asked again.
    pub revocation_freshness_secs: u64,
    /// gRPC endpoint of the gateway the answers to async requests are sent through
    /// (and async messages fetched from, with `async_pull`).
    pub gateway_endpoint: String,
    /// NATS server URL of the async push inbox (`egov.sys.notary.inbox`); empty turns it
    /// off, and an unreachable server only logs a warning.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway, for a registry registered there
    /// with `delivery = "pull"`.
    pub async_pull: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7130)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7131)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_NOTARY__*` in `env`,
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

    /// Returns how long a revocation answer is trusted.
    pub fn revocation_freshness(&self) -> Duration {
        Duration::from_secs(self.revocation_freshness_secs)
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        check_iin("responsible_iin", &self.responsible_iin)?;
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
        assert_eq!(config.pki_endpoint, DEFAULT_PKI_ENDPOINT);
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(!config.async_pull);
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/notary/notary.db?mode=rwc"
        );
    }

    #[test]
    fn async_pull_and_the_gateway_endpoint_come_from_the_environment() {
        let config = load(
            &[
                ("EGOV_NOTARY__ASYNC_PULL", "true"),
                ("EGOV_NOTARY__GATEWAY_ENDPOINT", "http://gw:7100"),
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
            &[("EGOV_NOTARY__DATABASE_URL", "postgres://db/notary")],
            &[
                ("data_dir", "/tmp/x"),
                ("grpc_listen", "127.0.0.1:0"),
                ("pki_endpoint", "http://pki:7110"),
            ],
        )
        .expect("loads");
        assert_eq!(config.database_url(), "postgres://db/notary");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.grpc_listen.port(), 0);
        assert_eq!(config.pki_endpoint, "http://pki:7110");
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_NOTARY__DATABASE_ULR", "x")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("database_ulr"), "{error}");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[("EGOV_NOTARY__DATABASE_URL", "mysql://egov:s3cret@db/notary")],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn a_malformed_responsible_iin_is_refused_naming_the_key() {
        let error =
            load(&[("EGOV_NOTARY__RESPONSIBLE_IIN", "850102300132")], &[]).expect_err("refused");
        assert!(error.to_string().contains("responsible_iin"), "{error}");
    }

    #[test]
    fn a_pki_endpoint_without_scheme_is_refused_naming_the_key() {
        let error = load(&[], &[("pki_endpoint", "127.0.0.1:7110")]).expect_err("refused");
        assert!(error.to_string().contains("pki_endpoint"), "{error}");
    }
}
