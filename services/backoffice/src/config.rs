//! The back office's configuration: what it listens on, where it keeps its cases, which
//! certification centre and gateway it uses, who its head is, and which services are done
//! by people rather than the automatic policy.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_BACKOFFICE__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::collections::BTreeMap;
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

use crate::policy::{Policies, Policy};

/// The service name: the config loader's env prefix (`EGOV_BACKOFFICE__`) and the health and log name.
pub const SERVICE: &str = "backoffice";

/// Default gRPC listen address (`MessageReceiver`, `BackOffice`, health, reflection).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7170";

/// Default HTTP listen address (the worklist pages and API, `/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7171";

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/backoffice";

/// Default IIN of the provider's head, whose HEAD certificate signs every result.
pub const DEFAULT_HEAD_IIN: &str = "700416300127";

/// Default name of the demo's office clerk (кеңсе маманы / сотрудник канцелярии).
pub const DEFAULT_CLERK_NAME: &str = "Айгүл Серікова";

/// Default name of the demo's responsible executor (жауапты орындаушы / ответственный исполнитель).
pub const DEFAULT_EXECUTOR_NAME: &str = "Дәурен Омаров";

/// Default wait before the first retry of an undelivered message, on the stack's clock.
pub const DEFAULT_RETRY_INITIAL_SECS: u64 = 5;

/// Default longest wait between retries; the wait doubles up to it.
pub const DEFAULT_RETRY_MAX_SECS: u64 = 600;

/// Default minutes a worklist session may stay unused.
pub const DEFAULT_SIGNIN_IDLE_MINUTES: u64 = 30;

/// Default hours a worklist session lasts at most.
pub const DEFAULT_SIGNIN_ABSOLUTE_HOURS: u64 = 12;

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "backoffice.db";

/// The back office's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway,
    /// `egov.v1.BackOffice`, grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (the worklist pages and JSON API, `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the back office's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
    /// unset means `sqlite://<data_dir>/backoffice.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre the seal, the head's certificate and the
    /// revocation status of every sender come from.
    pub pki_endpoint: String,
    /// gRPC endpoint of the gateway results and notifications are sent through.
    pub gateway_endpoint: String,
    /// IIN of the person responsible for the back office's seal (its certificate's SERIALNUMBER).
    pub responsible_iin: String,
    /// IIN of the provider's head (басшы / руководитель): the HEAD certificate enrolled for
    /// this IIN and the back office's BIN signs every result.
    pub head_iin: String,
    /// The one-time token the certification centre accepts for this system's seal
    /// (`EGOV_BACKOFFICE__ENROLMENT_TOKEN`, as `egov up` hands it); needed only until the seal is
    /// kept in the data dir (`seal.key`, `seal.crt`). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token (the compose stack's generator writes one per system).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// The one-time token the certification centre accepts for the head's HEAD certificate
    /// (`EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKEN`); the key and certificate are then kept in the
    /// data dir (`head.key`, `head.crt`). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub head_enrolment_token: Option<String>,
    /// A file holding the head's enrolment token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_enrolment_token_file: Option<PathBuf>,
    /// The head's surname, as the certificate carries it.
    pub head_surname: String,
    /// The head's given name, as the certificate carries it.
    pub head_given_name: String,
    /// Name of the office clerk the worklist's role picker signs in as (one person per
    /// role in the demo; EDS sign-in comes with the portal).
    pub clerk_name: String,
    /// Name of the responsible executor the worklist's role picker signs in as.
    pub executor_name: String,
    /// Seconds a certificate's revocation status is trusted before the centre is asked again.
    pub revocation_freshness_secs: u64,
    /// Directory of extra catalogue files (`<code>.toml`); a file replaces the embedded
    /// service of its code, a new code adds a service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue_dir: Option<PathBuf>,
    /// Who does each service's steps, by service code: `auto` (the default for every
    /// service) or `manual` (people through the worklist), e.g. `policies = { B = "manual" }`.
    pub policies: BTreeMap<String, Policy>,
    /// Seconds before the first retry of an undelivered result, on the stack's clock.
    pub delivery_retry_initial_secs: u64,
    /// Longest seconds between retries; the wait doubles up to it.
    pub delivery_retry_max_secs: u64,
    /// NATS server URL of the async push inbox (`egov.sys.backoffice.inbox`); empty turns it
    /// off, and an unreachable server only logs a warning.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway, for the back office registered there
    /// with `delivery = "pull"`.
    pub async_pull: bool,
    /// A TOML file of the worklist's first accounts (`[[account]]` with login, name, roles
    /// and password_hash), added when their logins are absent; see `egov_signin::bootstrap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_bootstrap: Option<PathBuf>,
    /// Whether the worklist's session cookie is `Secure` (HTTPS only): on behind TLS.
    pub signin_secure_cookie: bool,
    /// Origins the worklist's forms may be posted from (`https://office.example`); empty
    /// means the request's own host.
    pub signin_origins: Vec<String>,
    /// Minutes a worklist session may stay unused before it ends.
    pub signin_idle_minutes: u64,
    /// Hours after sign-in a worklist session ends, however busy.
    pub signin_absolute_hours: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7170)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7171)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            head_iin: DEFAULT_HEAD_IIN.to_owned(),
            enrolment_token: None,
            enrolment_token_file: None,
            head_enrolment_token: None,
            head_enrolment_token_file: None,
            head_surname: "БАСШЫ".to_owned(),
            head_given_name: "ҚЫЗМЕТ БЕРУШІ".to_owned(),
            clerk_name: DEFAULT_CLERK_NAME.to_owned(),
            executor_name: DEFAULT_EXECUTOR_NAME.to_owned(),
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            catalogue_dir: None,
            policies: BTreeMap::new(),
            delivery_retry_initial_secs: DEFAULT_RETRY_INITIAL_SECS,
            delivery_retry_max_secs: DEFAULT_RETRY_MAX_SECS,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
            signin_bootstrap: None,
            signin_secure_cookie: false,
            signin_origins: Vec::new(),
            signin_idle_minutes: DEFAULT_SIGNIN_IDLE_MINUTES,
            signin_absolute_hours: DEFAULT_SIGNIN_ABSOLUTE_HOURS,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_BACKOFFICE__*` in `env`,
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

    /// Returns the policy of a service: its entry in `policies` (codes compared without
    /// case, since env vars arrive lower-cased), else [`Policy::Auto`].
    pub fn policy(&self, service_code: &str) -> Policy {
        Policies::new(&self.policies).of(service_code)
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        check_iin("responsible_iin", &self.responsible_iin)?;
        check_iin("head_iin", &self.head_iin)?;
        if self.head_surname.trim().is_empty() || self.head_given_name.trim().is_empty() {
            return Err("`head_surname` and `head_given_name` must not be empty".into());
        }
        if self.clerk_name.trim().is_empty() || self.executor_name.trim().is_empty() {
            return Err("`clerk_name` and `executor_name` must not be empty".into());
        }
        check_at_least_one("revocation_freshness_secs", self.revocation_freshness_secs)?;
        check_at_least_one("signin_idle_minutes", self.signin_idle_minutes)?;
        check_at_least_one("signin_absolute_hours", self.signin_absolute_hours)?;
        check_at_least_one(
            "delivery_retry_initial_secs",
            self.delivery_retry_initial_secs,
        )?;
        if self.delivery_retry_max_secs < self.delivery_retry_initial_secs {
            return Err(format!(
                "`delivery_retry_max_secs` ({}) is below `delivery_retry_initial_secs` ({})",
                self.delivery_retry_max_secs, self.delivery_retry_initial_secs
            ));
        }
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
    fn defaults_listen_on_loopback_with_sqlite_and_every_service_automatic() {
        let config = load(&[], &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
        assert_eq!(config.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
        assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
        assert!(!config.async_pull);
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/backoffice/backoffice.db?mode=rwc"
        );
        for code in ["A", "B", "C", "D", "E", "F"] {
            assert_eq!(config.policy(code), Policy::Auto);
        }
    }

    #[test]
    fn a_service_is_made_manual_by_a_file_or_an_env_var() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("backoffice.toml");
        std::fs::write(&file, "[policies]\nB = \"manual\"\n").expect("write");
        let config = Config::load(Some(&file), HashMap::new(), &[]).expect("loads");
        assert_eq!(config.policy("B"), Policy::Manual);
        assert_eq!(config.policy("C"), Policy::Auto);
        let config = load(&[("EGOV_BACKOFFICE__POLICIES__F", "manual")], &[]).expect("loads");
        assert_eq!(config.policy("F"), Policy::Manual);
    }

    #[test]
    fn an_unknown_policy_is_refused_naming_the_key() {
        let error =
            load(&[("EGOV_BACKOFFICE__POLICIES__B", "sometimes")], &[]).expect_err("refused");
        assert!(error.to_string().contains("policies"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgres://egov:s3cret@db:5432/backoffice";
        let config = load(&[("EGOV_BACKOFFICE__DATABASE_URL", url)], &[]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(
            &[(
                "EGOV_BACKOFFICE__DATABASE_URL",
                "mysql://egov:s3cret@db/backoffice",
            )],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_BACKOFFICE__HEAD_IINN", "x")], &[]).expect_err("typo refused");
        assert!(error.to_string().contains("head_iinn"), "{error}");
    }

    #[test]
    fn a_bad_head_iin_is_refused_naming_the_key() {
        let error = load(&[], &[("head_iin", "123")]).expect_err("refused");
        assert!(error.to_string().contains("head_iin"), "{error}");
    }

    #[test]
    fn sign_in_defaults_to_a_half_hour_idle_and_a_zero_idle_is_refused() {
        let config = load(&[], &[]).expect("defaults load");
        assert_eq!(config.signin_idle_minutes, DEFAULT_SIGNIN_IDLE_MINUTES);
        assert!(!config.signin_secure_cookie);
        let error = load(&[], &[("signin_idle_minutes", "0")]).expect_err("refused");
        assert!(error.to_string().contains("signin_idle_minutes"), "{error}");
    }

    #[test]
    fn async_pull_comes_from_the_environment() {
        let config = load(&[("EGOV_BACKOFFICE__ASYNC_PULL", "true")], &[]).expect("loads");
        assert!(config.async_pull);
    }
}
