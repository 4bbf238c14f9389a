//! The kindergarten queue register's configuration: what it listens on, where it keeps the
//! queue, which certification centre it enrolls with and which gateway it calls the
//! citizens-DB, the notary registry and the back office through.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_QUEUE__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use egov_core::Iin;
use egov_core::config::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_QUEUE__`) and the health and log name.
pub const SERVICE: &str = "queue";

/// Default gRPC listen address (`MessageReceiver`, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7160";

/// Default HTTP listen address (`GET /places`, `POST /places`, `/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7161";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/queue";

/// Default gRPC endpoint of the certification centre (egov-pki's default listen address).
pub const DEFAULT_PKI_ENDPOINT: &str = "http://127.0.0.1:7110";

/// Default gRPC endpoint of the national gateway (egov-gateway's default listen address).
pub const DEFAULT_GATEWAY_ENDPOINT: &str = "http://127.0.0.1:7100";

/// Default IIN of the person responsible for the system's seal certificate.
pub const DEFAULT_RESPONSIBLE_IIN: &str = "751204400013";

/// Default time a certificate's revocation status is trusted before the centre is asked again.
pub const DEFAULT_REVOCATION_FRESHNESS_SECS: u64 = 300;

/// Default NATS URL, the one `egov up` starts.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "queue.db";

/// The queue register's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway,
    /// grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (`GET /places`, `POST /places`, `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the system's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
    /// unset means `sqlite://<data_dir>/queue.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre the seal certificate and the revocation
    /// status of every sender come from.
    pub pki_endpoint: String,
    /// gRPC endpoint of the gateway every call to another system goes through.
    pub gateway_endpoint: String,
    /// IIN of the person responsible for the system's seal (its certificate's SERIALNUMBER).
    pub responsible_iin: String,
    /// Seconds a certificate's revocation status is trusted before the centre is asked again.
    pub revocation_freshness_secs: u64,
    /// NATS server URL of the async push inbox (`egov.sys.queue.inbox`); empty turns it
    /// off, and an unreachable server only logs a warning.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway, for the register registered there
    /// with `delivery = "pull"`.
    pub async_pull: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7160)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7161)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_QUEUE__*` in `env`,
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
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(DATABASE_FILE).display()
            ),
        }
    }

    /// Returns how long a revocation answer is trusted.
    pub fn revocation_freshness(&self) -> Duration {
        Duration::from_secs(self.revocation_freshness_secs)
    }
}

/// Refuses an endpoint that is not an http(s) URL, naming the key.
fn check_endpoint(key: &str, value: &str) -> Result<(), String> {
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "`{key}` {value:?} must be an http:// or https:// URL"
        ))
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        if self.data_dir.as_os_str().is_empty() {
            return Err("`data_dir` must not be empty".into());
        }
        if let Some(url) = &self.database_url {
            // The error names the key and the scheme only: the URL may hold a password.
            egov_store::Backend::of("database_url", url).map_err(|error| error.to_string())?;
        }
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        if let Err(error) = Iin::parse(&self.responsible_iin) {
            return Err(format!("`responsible_iin`: {error}"));
        }
        if self.revocation_freshness_secs == 0 {
            return Err("`revocation_freshness_secs` must be at least 1, found 0".into());
        }
        if self.grpc_listen == self.http_listen && self.grpc_listen.port() != 0 {
            return Err(format!(
                "`grpc_listen` and `http_listen` are both {}",
                self.grpc_listen
            ));
        }
        Ok(())
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
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(!config.async_pull);
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/queue/queue.db?mode=rwc"
        );
    }

    #[test]
    fn env_and_flags_override_defaults() {
        let config = load(
            &[("EGOV_QUEUE__GATEWAY_ENDPOINT", "http://gw:7100")],
            &[("data_dir", "/tmp/x"), ("grpc_listen", "127.0.0.1:0")],
        )
        .expect("loads");
        assert_eq!(config.gateway_endpoint, "http://gw:7100");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.grpc_listen.port(), 0);
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_QUEUE__GATEWAY_ENDPIONT", "x")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("gateway_endpiont"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgresql://egov:s3cret@db:5432/queue";
        let config = load(&[("EGOV_QUEUE__DATABASE_URL", url)], &[]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[("EGOV_QUEUE__DATABASE_URL", "mysql://egov:s3cret@db/queue")],
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
        let config = load(&[("EGOV_QUEUE__ASYNC_PULL", "true")], &[]).expect("loads");
        assert!(config.async_pull);
    }
}
