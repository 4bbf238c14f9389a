//! The citizens-DB's configuration: what it listens on, where it keeps its database,
//! which certification centre it enrolls with, what population it generates and how it
//! takes part in the gateway's async channel.
//!
//! The keys every system shares, their loading and checks are `egov_system::system_settings!`'s
//! (`responsible_iin` defaults to the fixture seal holder); this module names the citizens-DB's
//! defaults and its own keys. Loaded through `egov_core::config`: defaults, then the TOML
//! file, then `EGOV_CITIZENS__<KEY>` env vars, then CLI flags, then the checks.

/// Default seed of the synthetic population.
pub const DEFAULT_SEED: &str = "egov-stack";

/// Default number of generated persons (fixtures come on top).
pub const DEFAULT_POPULATION: usize = 10_000;

/// Largest population accepted: well inside the IIN serial space, and a load that
/// still fits a few minutes on a small machine.
pub const MAX_POPULATION: usize = 20_000_000;

/// Default time a revocation answer of the certification centre is trusted, in seconds.
pub const DEFAULT_REVOCATION_FRESHNESS_SECS: u64 = 60;

egov_system::system_settings! {
    /// The citizens-DB's configuration: the keys every system shares, then its own.
    service: "citizens",
    grpc: 7120,
    http: 7121,
    responsible_iin: crate::fixtures::CITIZENS_SEAL_HOLDER,
    revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
    check: check_own,
    own {
        /// Seed the synthetic population derives from: the same seed and size give the
        /// same persons, families and legal entities on every machine.
        seed: String = DEFAULT_SEED.to_owned(),
        /// Number of generated persons, loaded on first start when the database is empty.
        population: usize = DEFAULT_POPULATION,
    }
}

/// Checks the citizens-DB's own keys, each refusal naming its key.
fn check_own(config: &Config) -> Result<(), String> {
    if config.seed.is_empty() {
        return Err("`seed` must not be empty: the population derives from it".into());
    }
    if config.population > MAX_POPULATION {
        return Err(format!(
            "`population` {} is above the maximum of {MAX_POPULATION}",
            config.population
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use egov_core::config::{ConfigError, owned_pairs};

    use super::*;

    fn load(env: &[(&str, &str)], overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(None, owned_pairs(env), &owned_pairs(overrides))
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
