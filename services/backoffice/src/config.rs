//! The back office's configuration: what it listens on, where it keeps its cases, which
//! certification centre and gateway it uses, who its head is, and which services are done
//! by people rather than the automatic policy.
//!
//! The keys every system shares, their loading and checks are `egov_system::system_settings!`'s;
//! this module names the back office's defaults and its own keys. Loaded through
//! `egov_core::config`: defaults, then the TOML file, then `EGOV_BACKOFFICE__<KEY>` env vars,
//! then CLI flags, then the checks.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use egov_system::config::{DEFAULT_RESPONSIBLE_IIN, DEFAULT_REVOCATION_FRESHNESS_SECS};
use egov_system::config::{check_at_least_one, check_iin};

use crate::policy::{Policies, Policy};

/// Default IIN of the back office's own head, whose HEAD certificate signs the results of D
/// (whose regulation names no head); each provider organisation's head signs its own.
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

egov_system::system_settings! {
    /// The back office's configuration: the keys every system shares, then its own.
    service: "backoffice",
    grpc: 7170,
    http: 7171,
    responsible_iin: DEFAULT_RESPONSIBLE_IIN,
    revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
    check: check_own,
    own {
        /// IIN of the back office's own head (басшы / руководитель): the HEAD certificate
        /// enrolled for this IIN and the back office's BIN signs the results of D; the provider
        /// organisations' heads are egov_core::providers'.
        head_iin: String = DEFAULT_HEAD_IIN.to_owned(),
        /// The head's surname, as the certificate carries it.
        head_surname: String = "БАСШЫ".to_owned(),
        /// The head's given name, as the certificate carries it.
        head_given_name: String = "ҚЫЗМЕТ БЕРУШІ".to_owned(),
        /// The one-time token the certification centre accepts for the head's HEAD certificate
        /// (`EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKEN`); the key and certificate are then kept in
        /// the data dir (`head.key`, `head.crt`). Never printed by `--dump-config`.
        #[serde(skip_serializing)]
        head_enrolment_token: Option<String> = None,
        /// A file holding the head's enrolment token.
        #[serde(skip_serializing_if = "Option::is_none")]
        head_enrolment_token_file: Option<PathBuf> = None,
        /// The one-time tokens of the provider organisations' heads (egov_core::providers),
        /// by organisation key, e.g.
        /// `EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__EMPLOYMENT_CENTRE`: each head's HEAD
        /// certificate carries its organisation's BIN and is kept as `head-<key>.key|crt`.
        /// Never printed by `--dump-config`.
        #[serde(skip_serializing)]
        head_enrolment_tokens: BTreeMap<String, String> = BTreeMap::new(),
        /// Files holding the organisations' heads' tokens, by organisation key.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        head_enrolment_token_files: BTreeMap<String, PathBuf> = BTreeMap::new(),
        /// Name of the office clerk the worklist's role picker signs in as (one person per
        /// role in the demo; EDS sign-in comes with the portal).
        clerk_name: String = DEFAULT_CLERK_NAME.to_owned(),
        /// Name of the responsible executor the worklist's role picker signs in as.
        executor_name: String = DEFAULT_EXECUTOR_NAME.to_owned(),
        /// Directory of extra catalogue files (`<code>.toml`); a file replaces the embedded
        /// service of its code, a new code adds a service.
        #[serde(skip_serializing_if = "Option::is_none")]
        catalogue_dir: Option<PathBuf> = None,
        /// Who does each service's steps, by service code: `auto` (the default for every
        /// service) or `manual` (people through the worklist), e.g. `policies = { B = "manual" }`.
        policies: BTreeMap<String, Policy> = BTreeMap::new(),
        /// Seconds before the first retry of an undelivered result, on the stack's clock.
        delivery_retry_initial_secs: u64 = DEFAULT_RETRY_INITIAL_SECS,
        /// Longest seconds between retries; the wait doubles up to it.
        delivery_retry_max_secs: u64 = DEFAULT_RETRY_MAX_SECS,
        /// A TOML file of the worklist's first accounts (`[[account]]` with login, name, roles
        /// and password_hash), added when their logins are absent; see `egov_signin::bootstrap`.
        #[serde(skip_serializing_if = "Option::is_none")]
        signin_bootstrap: Option<PathBuf> = None,
        /// Whether the worklist's session cookie is `Secure` (HTTPS only): on behind TLS.
        signin_secure_cookie: bool = false,
        /// Origins the worklist's forms may be posted from (`https://office.example`); empty
        /// means the request's own host.
        signin_origins: Vec<String> = Vec::new(),
        /// Minutes a worklist session may stay unused before it ends.
        signin_idle_minutes: u64 = DEFAULT_SIGNIN_IDLE_MINUTES,
        /// Hours after sign-in a worklist session ends, however busy.
        signin_absolute_hours: u64 = DEFAULT_SIGNIN_ABSOLUTE_HOURS,
    }
}

impl Config {
    /// Returns the policy of a service: its entry in `policies` (codes compared without
    /// case, since env vars arrive lower-cased), else [`Policy::Auto`].
    pub fn policy(&self, service_code: &str) -> Policy {
        Policies::new(&self.policies).of(service_code)
    }
}

/// Checks the back office's own keys, each refusal naming its key.
fn check_own(config: &Config) -> Result<(), String> {
    check_iin("head_iin", &config.head_iin)?;
    if config.head_surname.trim().is_empty() || config.head_given_name.trim().is_empty() {
        return Err("`head_surname` and `head_given_name` must not be empty".into());
    }
    // A key no signing organisation has is a typo that would leave its head without a token.
    for key in config
        .head_enrolment_tokens
        .keys()
        .chain(config.head_enrolment_token_files.keys())
    {
        if !egov_core::providers::SIGNING
            .iter()
            .any(|organisation| organisation.key == key)
        {
            return Err(format!(
                "`head_enrolment_tokens` / `head_enrolment_token_files`: no provider organisation \
                 signs under the key {key:?}; expected one of {:?}",
                egov_core::providers::SIGNING.map(|organisation| organisation.key)
            ));
        }
    }
    if config.clerk_name.trim().is_empty() || config.executor_name.trim().is_empty() {
        return Err("`clerk_name` and `executor_name` must not be empty".into());
    }
    check_at_least_one("signin_idle_minutes", config.signin_idle_minutes)?;
    check_at_least_one("signin_absolute_hours", config.signin_absolute_hours)?;
    check_at_least_one(
        "delivery_retry_initial_secs",
        config.delivery_retry_initial_secs,
    )?;
    if config.delivery_retry_max_secs < config.delivery_retry_initial_secs {
        return Err(format!(
            "`delivery_retry_max_secs` ({}) is below `delivery_retry_initial_secs` ({})",
            config.delivery_retry_max_secs, config.delivery_retry_initial_secs
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use egov_core::config::{ConfigError, owned_pairs};

    use super::*;

    fn load(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(None, owned_pairs(env), &owned_pairs(overrides))
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
        let config = Config::load(Some(&file), Vec::new(), &[]).expect("loads");
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
    fn each_organisations_head_token_comes_from_its_own_env_var_and_an_unknown_one_is_refused() {
        let config = load(
            &[(
                "EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__EMPLOYMENT_CENTRE",
                "t0ken",
            )],
            &[],
        )
        .expect("loads");
        assert_eq!(
            config
                .head_enrolment_tokens
                .get("employment_centre")
                .map(String::as_str),
            Some("t0ken")
        );
        let error = load(
            &[("EGOV_BACKOFFICE__HEAD_ENROLMENT_TOKENS__CITY_HALL", "x")],
            &[],
        )
        .expect_err("refused");
        assert!(error.to_string().contains("city_hall"), "{error}");
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
