//! The certification centre's configuration: what it listens on, where it keeps
//! its state and who may enrol. The CA keys come from `ca.secret`, generated in the data
//! dir on first start (owner-only), never from a configured or default seed.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_PKI__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use egov_bus::clock::ClockSource;
use egov_core::config::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_PKI__`) and the health and log name.
pub const SERVICE: &str = "pki";

/// Default gRPC listen address (`CertificationCentre`, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7110";

/// Default HTTP listen address (`/crl`, `/ca/*.der`, `/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7111";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/pki";

/// Default validity of an issued certificate, in days.
pub const DEFAULT_VALIDITY_DAYS: u32 = 365;

/// Default lifetime of an enrolment token, in hours (see `enrolment::DEFAULT_TOKEN_LIFETIME`).
pub const DEFAULT_ENROLMENT_TOKEN_LIFETIME_HOURS: u32 = 24;

/// Default NATS URL, the one `egov up` starts.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "pki.db";

/// The name of the CA secret inside the data dir: 32 random bytes, hex, mode 0600.
pub const CA_SECRET_FILE: &str = "ca.secret";

/// The certification centre's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`CertificationCentre`, grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (`/crl`, `/ca/root.der`, `/ca/intermediate.der`,
    /// `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the centre's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
    /// unset means `sqlite://<data_dir>/pki.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// One-time enrolment grants: `<role>:<BIN or IIN>:<sha256 of the token>` entries,
    /// separated by commas or newlines (`EGOV_PKI__ENROLMENT_GRANTS`, as `egov up` sets it).
    pub enrolment_grants: String,
    /// A file of enrolment grants in the same form, one a line (the compose generator's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_grants_file: Option<PathBuf>,
    /// A directory the centre fills on first start with one enrolment token per system of the
    /// stack (`<service>.token`, mode 0600) and their `grants`, which it then reads: the
    /// compose stack's generator step, for deployments without `egov up`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_tokens_dir: Option<PathBuf>,
    /// How long an enrolment token enrols, in hours: the lifetime of the tokens the generator
    /// step (`enrolment_tokens_dir`) and `egov-pki tokens` make, and of a grant entry written
    /// before expiries existed, counted from when the centre first read it.
    pub enrolment_token_lifetime_hours: u32,
    /// Validity of a certificate when the request asks for 0 days.
    pub default_validity_days: u32,
    /// NATS server URL: where the stack clock is followed when `clock = "stack"`.
    pub nats_url: String,
    /// The clock the centre issues, revokes and answers on: `real` (the default) or `stack`,
    /// the stack's one virtual clock followed from NATS at `nats_url` (`egov up --clock
    /// virtual` sets it), so certificates are valid from the stack's time.
    pub clock: ClockSource,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7110)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7111)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            enrolment_grants: String::new(),
            enrolment_grants_file: None,
            enrolment_tokens_dir: None,
            enrolment_token_lifetime_hours: DEFAULT_ENROLMENT_TOKEN_LIFETIME_HOURS,
            default_validity_days: DEFAULT_VALIDITY_DAYS,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            clock: ClockSource::Real,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_PKI__*` in `env`,
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

    /// Returns how long an enrolment token enrols.
    pub fn enrolment_token_lifetime(&self) -> time::Duration {
        time::Duration::hours(i64::from(self.enrolment_token_lifetime_hours))
    }

    /// Returns the path of the CA secret inside the data dir.
    pub fn ca_secret_path(&self) -> PathBuf {
        self.data_dir.join(CA_SECRET_FILE)
    }

    /// Returns the SQLite file the centre keeps in its data dir when no `database_url` is set.
    pub fn default_database_file(&self) -> Option<PathBuf> {
        self.database_url
            .is_none()
            .then(|| self.data_dir.join(DATABASE_FILE))
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
        crate::enrolment::Grant::parse_all(&self.enrolment_grants)
            .map_err(|error| format!("`enrolment_grants`: {error}"))?;
        if self.enrolment_token_lifetime_hours == 0 {
            return Err("`enrolment_token_lifetime_hours` must be at least 1, found 0".into());
        }
        if self.default_validity_days == 0 {
            return Err("`default_validity_days` must be at least 1, found 0".into());
        }
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        self.clock.check(&self.nats_url)?;
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}

#[cfg(test)]
mod tests {

    use egov_core::config::owned_pairs;

    use super::*;

    fn load(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(None, owned_pairs(env), &owned_pairs(overrides))
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_the_data_dir() {
        let config = load(&[], &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
        assert_eq!(config.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(config.database_url(), "sqlite://.egov/pki/pki.db?mode=rwc");
        assert_eq!(config.default_validity_days, 365);
        assert_eq!(config.enrolment_token_lifetime(), time::Duration::hours(24));
    }

    #[test]
    fn an_enrolment_token_lifetime_of_zero_is_refused() {
        let error =
            load(&[("EGOV_PKI__ENROLMENT_TOKEN_LIFETIME_HOURS", "0")], &[]).expect_err("refused");
        assert!(
            error.to_string().contains("enrolment_token_lifetime_hours"),
            "{error}"
        );
    }

    #[test]
    fn env_and_flags_override_defaults() {
        let config = load(
            &[("EGOV_PKI__DATABASE_URL", "sqlite://other.db?mode=rwc")],
            &[("data_dir", "/tmp/x"), ("grpc_listen", "127.0.0.1:0")],
        )
        .expect("loads");
        assert_eq!(config.database_url(), "sqlite://other.db?mode=rwc");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.grpc_listen.port(), 0);
    }

    #[test]
    fn an_unknown_key_such_as_the_old_seed_stops_the_start() {
        let error = load(&[("EGOV_PKI__SEED", "x")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("seed"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgresql://egov:s3cret@db:5432/pki";
        let config = load(&[("EGOV_PKI__DATABASE_URL", url)], &[]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[("EGOV_PKI__DATABASE_URL", "mysql://egov:s3cret@db/pki")],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
