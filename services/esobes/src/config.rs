//! E-sobes's («Е-собес» АЖ) configuration: what it listens on, where it keeps its
//! applications, which certification centre it enrolls with and which gateway it calls the
//! citizens-DB, the notary registry and the back office through.
//!
//! The keys, their loading and checks are [`SystemConfig`]'s; this module names the system
//! and its defaults. Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_ESOBES__<KEY>` env vars, then CLI flags, then `Validate::validate`.

pub use egov_system::config::{
    DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT, DEFAULT_RESPONSIBLE_IIN,
    DEFAULT_REVOCATION_FRESHNESS_SECS,
};
use egov_system::config::{SystemConfig, SystemDefaults, loopback};

/// The service name: the config loader's env prefix (`EGOV_ESOBES__`) and the health and log name.
pub const SERVICE: &str = "esobes";

/// Default gRPC listen address (`MessageReceiver`, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7150";

/// Default HTTP listen address (`/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7151";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/esobes";

/// E-sobes's name and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Defaults;

impl SystemDefaults for Defaults {
    const SERVICE: &'static str = SERVICE;
    const GRPC_LISTEN: std::net::SocketAddr = loopback(7150);
    const HTTP_LISTEN: std::net::SocketAddr = loopback(7151);
    const DATA_DIR: &'static str = DEFAULT_DATA_DIR;
    const DATABASE_FILE: &'static str = "esobes.db";
}

/// E-sobes's configuration.
pub type Config = SystemConfig<Defaults>;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::PathBuf;

    use egov_core::config::ConfigError;

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
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(!config.async_pull);
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/esobes/esobes.db?mode=rwc"
        );
    }

    #[test]
    fn env_and_flags_override_defaults() {
        let config = load(
            &[("EGOV_ESOBES__GATEWAY_ENDPOINT", "http://gw:7100")],
            &[("data_dir", "/tmp/x"), ("grpc_listen", "127.0.0.1:0")],
        )
        .expect("loads");
        assert_eq!(config.gateway_endpoint, "http://gw:7100");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.grpc_listen.port(), 0);
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_ESOBES__GATEWAY_ENDPIONT", "x")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("gateway_endpiont"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgresql://egov:s3cret@db:5432/esobes";
        let config = load(&[("EGOV_ESOBES__DATABASE_URL", url)], &[]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[("EGOV_ESOBES__DATABASE_URL", "mysql://egov:s3cret@db/esobes")],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn a_gateway_endpoint_without_scheme_is_refused_naming_the_key() {
        let error = load(&[], &[("gateway_endpoint", "127.0.0.1:7100")]).expect_err("refused");
        assert!(error.to_string().contains("gateway_endpoint"), "{error}");
    }

    #[test]
    fn async_pull_comes_from_the_environment() {
        let config = load(&[("EGOV_ESOBES__ASYNC_PULL", "true")], &[]).expect("loads");
        assert!(config.async_pull);
    }
}
