//! The configuration every information system behind the gateway shares: where it listens,
//! where it keeps its state, which certification centre it enrolls with and which gateway it
//! calls and takes async messages from.
//!
//! [`SystemConfig`] is the whole config of a target system that has no keys of its own (the
//! Labour Market AIS, E-sobes, the queue register), parameterised by the system's
//! [`SystemDefaults`]; systems with more keys keep their own struct and reuse the checks here.
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_<SERVICE>__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::marker::PhantomData;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `clock` key's values, re-exported so a system's config names them through this crate.
pub use egov_bus::clock::ClockSource;
use egov_core::Iin;
use egov_core::config::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// Default gRPC endpoint of the certification centre (egov-pki's default listen address).
pub const DEFAULT_PKI_ENDPOINT: &str = "http://127.0.0.1:7110";

/// Default gRPC endpoint of the national gateway (egov-gateway's default listen address).
pub const DEFAULT_GATEWAY_ENDPOINT: &str = "http://127.0.0.1:7100";

/// Default IIN of the person responsible for a system's seal certificate.
pub const DEFAULT_RESPONSIBLE_IIN: &str = "751204400013";

/// Default time a certificate's revocation status is trusted before the centre is asked again.
pub const DEFAULT_REVOCATION_FRESHNESS_SECS: u64 = 300;

/// Default NATS URL, the one `egov up` starts.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// Returns the loopback address on `port`, where every service listens by default.
pub const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// What sets one system's [`SystemConfig`] apart: its name and its defaults.
pub trait SystemDefaults {
    /// The service name: the config loader's env prefix (`EGOV_<SERVICE>__`).
    const SERVICE: &'static str;
    /// Default gRPC listen address.
    const GRPC_LISTEN: SocketAddr;
    /// Default HTTP listen address.
    const HTTP_LISTEN: SocketAddr;
    /// Default data directory, relative to the working directory.
    const DATA_DIR: &'static str;
    /// The name of the SQLite file inside the data dir when no `database_url` is set.
    const DATABASE_FILE: &'static str;
}

/// The configuration of a target system with the shared keys only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, bound = "S: SystemDefaults")]
pub struct SystemConfig<S> {
    /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway, the
    /// system's direct contract, grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (the system's routes, `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the system's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
    /// unset means `sqlite://<data_dir>/<service>.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre the seal certificate and the revocation
    /// status of every sender come from.
    pub pki_endpoint: String,
    /// gRPC endpoint of the gateway every call to another system goes through.
    pub gateway_endpoint: String,
    /// IIN of the person responsible for the system's seal (its certificate's SERIALNUMBER).
    pub responsible_iin: String,
    /// The one-time token the certification centre accepts for this system's seal
    /// (`EGOV_<SERVICE>__ENROLMENT_TOKEN`, as `egov up` hands it); needed only until the seal
    /// is kept in the data dir. Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token (the compose stack's generator writes one per system).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// Seconds a certificate's revocation status is trusted before the centre is asked again.
    pub revocation_freshness_secs: u64,
    /// NATS server URL of the async push inbox (`egov.sys.<service>.inbox`); empty turns it
    /// off, and an unreachable server only logs a warning.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway, for the system registered there
    /// with `delivery = "pull"`.
    pub async_pull: bool,
    /// The clock the system runs on: `real` (the default) or `stack`, the stack's one virtual
    /// clock followed from NATS at `nats_url` (`egov up --clock virtual` sets it).
    pub clock: ClockSource,
    /// Which system's defaults these are; not a key.
    #[serde(skip)]
    system: PhantomData<S>,
}

impl<S: SystemDefaults> Default for SystemConfig<S> {
    fn default() -> Self {
        SystemConfig {
            grpc_listen: S::GRPC_LISTEN,
            http_listen: S::HTTP_LISTEN,
            data_dir: PathBuf::from(S::DATA_DIR),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            enrolment_token: None,
            enrolment_token_file: None,
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
            clock: ClockSource::Real,
            system: PhantomData,
        }
    }
}

impl<S: SystemDefaults> SystemConfig<S> {
    /// Loads the config through every layer: defaults, `file`, `EGOV_<SERVICE>__*` in `env`,
    /// then `overrides` as `(key, value)` pairs from flags.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        egov_core::config::load(S::SERVICE, file, env, overrides)
    }

    /// Returns a config for tests and embedding: defaults with this data dir.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        SystemConfig {
            data_dir: data_dir.into(),
            ..Self::default()
        }
    }

    /// Returns the database URL, derived from the data dir when unset.
    pub fn database_url(&self) -> String {
        egov_store::database_url_or_default(
            self.database_url.as_deref(),
            &self.data_dir,
            S::DATABASE_FILE,
        )
    }

    /// Returns how long a revocation answer is trusted.
    pub fn revocation_freshness(&self) -> Duration {
        Duration::from_secs(self.revocation_freshness_secs)
    }
}

impl<S: SystemDefaults> Validate for SystemConfig<S> {
    fn validate(&self) -> Result<(), String> {
        check_shared(&SharedKeys {
            grpc_listen: self.grpc_listen,
            http_listen: self.http_listen,
            data_dir: &self.data_dir,
            database_url: self.database_url.as_deref(),
            pki_endpoint: &self.pki_endpoint,
            gateway_endpoint: &self.gateway_endpoint,
            responsible_iin: &self.responsible_iin,
            revocation_freshness_secs: self.revocation_freshness_secs,
            nats_url: &self.nats_url,
            clock: self.clock,
        })
    }
}

/// Declares a system's names: `SERVICE` (the `EGOV_<SERVICE>__` env prefix, the health and
/// log name) and its default listen addresses (loopback on the given ports) and data dir
/// (`.egov/<service>`); the shared defaults are re-exported beside them.
#[doc(hidden)]
#[macro_export]
macro_rules! system_names {
    ($service:literal, $grpc:literal, $http:literal) => {
        pub use $crate::config::{
            DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT,
        };

        /// The service name: the config loader's env prefix and the health and log name.
        pub const SERVICE: &str = $service;
        /// Default gRPC listen address (`MessageReceiver`, the direct contract, health,
        /// reflection).
        pub const DEFAULT_GRPC_LISTEN: &str = concat!("127.0.0.1:", $grpc);
        /// Default HTTP listen address (the system's routes, `/health`, `/metrics`).
        pub const DEFAULT_HTTP_LISTEN: &str = concat!("127.0.0.1:", $http);
        /// Default data directory, relative to the working directory.
        pub const DEFAULT_DATA_DIR: &str = concat!(".egov/", $service);
    };
}

/// Declares the config of a system with the shared keys only: its `SERVICE` name (the
/// `EGOV_<SERVICE>__` env prefix), its default listen addresses (loopback on the given
/// ports), data dir (`.egov/<service>`) and SQLite file (`<service>.db`), and `Config`,
/// its [`SystemConfig`].
#[macro_export]
macro_rules! system_config {
    ($(#[$doc:meta])* service: $service:literal, grpc: $grpc:literal, http: $http:literal $(,)?) => {
        $crate::system_names!($service, $grpc, $http);
        pub use $crate::config::{DEFAULT_RESPONSIBLE_IIN, DEFAULT_REVOCATION_FRESHNESS_SECS};

        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct Defaults;

        impl $crate::config::SystemDefaults for Defaults {
            const SERVICE: &'static str = SERVICE;
            const GRPC_LISTEN: std::net::SocketAddr = $crate::config::loopback($grpc);
            const HTTP_LISTEN: std::net::SocketAddr = $crate::config::loopback($http);
            const DATA_DIR: &'static str = DEFAULT_DATA_DIR;
            const DATABASE_FILE: &'static str = concat!($service, ".db");
        }

        /// The system's configuration: the shared keys under its name and defaults.
        pub type Config = $crate::config::SystemConfig<Defaults>;
    };
}

/// Declares the config of a system with keys of its own: the names [`system_config!`]
/// declares, and `Config`, a struct of the shared keys (those of [`SystemConfig`], with the
/// system's defaults of `responsible_iin` and `revocation_freshness_secs`) followed by the
/// system's own, each `name: Type = default`. `check` names a `fn(&Config) -> Result<(),
/// String>` run before the shared checks. `Config` gets `load`, `with_data_dir`,
/// `database_url`, `revocation_freshness`, `Default`, `Validate` and the runtime's
/// `Settings`; `SystemConfig`'s tests cover the shared keys for every system.
#[macro_export]
macro_rules! system_settings {
    (
        $(#[$doc:meta])*
        service: $service:literal, grpc: $grpc:literal, http: $http:literal,
        responsible_iin: $iin:expr,
        revocation_freshness_secs: $freshness:expr,
        check: $check:path,
        own {
            $(
                $(#[$field_meta:meta])*
                $field:ident: $type:ty = $default:expr
            ),* $(,)?
        } $(,)?
    ) => {
        $crate::system_names!($service, $grpc, $http);

        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Config {
            /// Address the gRPC server binds (`egov.v1.MessageReceiver` for the gateway, the
            /// system's direct contract, grpc.health.v1, reflection).
            pub grpc_listen: std::net::SocketAddr,
            /// Address the HTTP server binds (the system's routes, `/health`, `/metrics`).
            pub http_listen: std::net::SocketAddr,
            /// Directory of the system's state; created on start if missing.
            pub data_dir: std::path::PathBuf,
            /// Database URL: `sqlite://…` or `postgres://user:password@host/db` (PostgreSQL);
            /// unset means `sqlite://<data_dir>/<service>.db?mode=rwc`.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub database_url: Option<String>,
            /// gRPC endpoint of the certification centre the seal certificate and the
            /// revocation status of every sender come from.
            pub pki_endpoint: String,
            /// gRPC endpoint of the gateway every call and async answer goes through.
            pub gateway_endpoint: String,
            /// IIN of the person responsible for the system's seal (its certificate's
            /// SERIALNUMBER).
            pub responsible_iin: String,
            /// The one-time token the certification centre accepts for this system's seal
            /// (`EGOV_<SERVICE>__ENROLMENT_TOKEN`, as `egov up` hands it); needed only until
            /// the seal is kept in the data dir. Never printed by `--dump-config`.
            #[serde(skip_serializing)]
            pub enrolment_token: Option<String>,
            /// A file holding the enrolment token (the compose stack's generator writes one
            /// per system).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub enrolment_token_file: Option<std::path::PathBuf>,
            /// Seconds a certificate's revocation status is trusted before the centre is
            /// asked again.
            pub revocation_freshness_secs: u64,
            /// NATS server URL of the async push inbox (`egov.sys.<service>.inbox`); empty
            /// turns it off, and an unreachable server only logs a warning.
            pub nats_url: String,
            /// Whether to fetch async messages from the gateway, for the system registered
            /// there with `delivery = "pull"`.
            pub async_pull: bool,
            /// The clock the system runs on: `real` (the default) or `stack`, the stack's one
            /// virtual clock followed from NATS at `nats_url` (`egov up --clock virtual`).
            pub clock: $crate::config::ClockSource,
            $(
                $(#[$field_meta])*
                pub $field: $type,
            )*
        }

        impl Default for Config {
            fn default() -> Config {
                Config {
                    grpc_listen: $crate::config::loopback($grpc),
                    http_listen: $crate::config::loopback($http),
                    data_dir: std::path::PathBuf::from(DEFAULT_DATA_DIR),
                    database_url: None,
                    pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
                    gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
                    responsible_iin: ($iin).to_owned(),
                    enrolment_token: None,
                    enrolment_token_file: None,
                    revocation_freshness_secs: $freshness,
                    nats_url: DEFAULT_NATS_URL.to_owned(),
                    async_pull: false,
                    clock: $crate::config::ClockSource::Real,
                    $($field: $default,)*
                }
            }
        }

        impl Config {
            /// Loads the config through every layer: defaults, `file`, `EGOV_<SERVICE>__*`
            /// in `env`, then `overrides` as `(key, value)` pairs from flags.
            pub fn load(
                file: Option<&std::path::Path>,
                env: impl IntoIterator<Item = (String, String)>,
                overrides: &[(String, String)],
            ) -> Result<Config, egov_core::config::ConfigError> {
                egov_core::config::load(SERVICE, file, env, overrides)
            }

            /// Returns a config for tests and embedding: defaults with this data dir.
            pub fn with_data_dir(data_dir: impl Into<std::path::PathBuf>) -> Config {
                Config {
                    data_dir: data_dir.into(),
                    ..Config::default()
                }
            }

            /// Returns the database URL, derived from the data dir when unset.
            pub fn database_url(&self) -> String {
                $crate::config::default_database_url(
                    self.database_url.as_deref(),
                    &self.data_dir,
                    concat!($service, ".db"),
                )
            }

            /// Returns how long a revocation answer is trusted.
            pub fn revocation_freshness(&self) -> std::time::Duration {
                std::time::Duration::from_secs(self.revocation_freshness_secs)
            }
        }

        impl egov_core::config::Validate for Config {
            fn validate(&self) -> Result<(), String> {
                $check(self)?;
                $crate::config::check_shared(&$crate::config::SharedKeys {
                    grpc_listen: self.grpc_listen,
                    http_listen: self.http_listen,
                    data_dir: &self.data_dir,
                    database_url: self.database_url.as_deref(),
                    pki_endpoint: &self.pki_endpoint,
                    gateway_endpoint: &self.gateway_endpoint,
                    responsible_iin: &self.responsible_iin,
                    revocation_freshness_secs: self.revocation_freshness_secs,
                    nats_url: &self.nats_url,
                    clock: self.clock,
                })
            }
        }

        impl $crate::runtime::Settings for Config {
            const SERVICE: &'static str = SERVICE;

            fn listen(&self) -> (std::net::SocketAddr, std::net::SocketAddr) {
                (self.grpc_listen, self.http_listen)
            }

            fn data_dir(&self) -> &std::path::Path {
                &self.data_dir
            }

            fn pki_endpoint(&self) -> &str {
                &self.pki_endpoint
            }

            fn responsible_iin(&self) -> &str {
                &self.responsible_iin
            }

            fn enrolment_token(&self) -> Result<Option<String>, $crate::IdentityError> {
                $crate::identity::read_token(
                    self.enrolment_token.as_deref(),
                    self.enrolment_token_file.as_deref(),
                )
            }

            fn revocation_freshness(&self) -> std::time::Duration {
                Config::revocation_freshness(self)
            }

            fn inbox(&self) -> $crate::InboxSettings {
                $crate::InboxSettings::new(&self.gateway_endpoint, &self.nats_url, self.async_pull)
            }

            fn clock(&self) -> $crate::config::ClockSource {
                self.clock
            }

            fn nats_url(&self) -> &str {
                &self.nats_url
            }
        }
    };
}

/// The shared keys of a system's config, borrowed for [`check_shared`].
#[derive(Debug, Clone, Copy)]
pub struct SharedKeys<'a> {
    /// `grpc_listen`.
    pub grpc_listen: SocketAddr,
    /// `http_listen`.
    pub http_listen: SocketAddr,
    /// `data_dir`.
    pub data_dir: &'a Path,
    /// `database_url`.
    pub database_url: Option<&'a str>,
    /// `pki_endpoint`.
    pub pki_endpoint: &'a str,
    /// `gateway_endpoint`.
    pub gateway_endpoint: &'a str,
    /// `responsible_iin`.
    pub responsible_iin: &'a str,
    /// `revocation_freshness_secs`.
    pub revocation_freshness_secs: u64,
    /// `nats_url`.
    pub nats_url: &'a str,
    /// `clock`.
    pub clock: ClockSource,
}

/// Checks the keys every system shares, each refusal naming its key.
pub fn check_shared(keys: &SharedKeys<'_>) -> Result<(), String> {
    egov_store::check_location(keys.data_dir, keys.database_url)?;
    check_endpoint("pki_endpoint", keys.pki_endpoint)?;
    check_endpoint("gateway_endpoint", keys.gateway_endpoint)?;
    check_iin("responsible_iin", keys.responsible_iin)?;
    check_at_least_one("revocation_freshness_secs", keys.revocation_freshness_secs)?;
    keys.clock.check(keys.nats_url)?;
    egov_bus::service::check_listeners(keys.grpc_listen, keys.http_listen)
}

/// Returns `database_url`, or the SQLite file `file` in `data_dir` when unset; for
/// [`system_settings!`], so a system's crate needs no store crate for it.
pub fn default_database_url(database_url: Option<&str>, data_dir: &Path, file: &str) -> String {
    egov_store::database_url_or_default(database_url, data_dir, file)
}

/// Refuses an endpoint that is not an http(s) URL, naming the key.
pub fn check_endpoint(key: &str, value: &str) -> Result<(), String> {
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "`{key}` {value:?} must be an http:// or https:// URL"
        ))
    }
}

/// Refuses a value that is not a valid IIN, naming the key.
pub fn check_iin(key: &str, value: &str) -> Result<(), String> {
    Iin::parse(value)
        .map(|_| ())
        .map_err(|error| format!("`{key}`: {error}"))
}

/// Refuses a count of seconds (or retries) of 0 where at least 1 is needed, naming the key.
pub fn check_at_least_one(key: &str, value: u64) -> Result<(), String> {
    if value == 0 {
        Err(format!("`{key}` must be at least 1, found 0"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system for the tests: the shared keys under its own name and defaults.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Sample;

    impl SystemDefaults for Sample {
        const SERVICE: &'static str = "sample";
        const GRPC_LISTEN: SocketAddr = loopback(7990);
        const HTTP_LISTEN: SocketAddr = loopback(7991);
        const DATA_DIR: &'static str = ".egov/sample";
        const DATABASE_FILE: &'static str = "sample.db";
    }

    fn load(env: &[(&str, &str)]) -> Result<SystemConfig<Sample>, ConfigError> {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        SystemConfig::load(None, env, &[])
    }

    #[test]
    fn defaults_come_from_the_system() {
        let config = load(&[]).expect("defaults load");
        assert_eq!(config.grpc_listen.to_string(), "127.0.0.1:7990");
        assert_eq!(config.http_listen.to_string(), "127.0.0.1:7991");
        assert_eq!(
            config.database_url(),
            "sqlite://.egov/sample/sample.db?mode=rwc"
        );
        assert_eq!(config.revocation_freshness(), Duration::from_secs(300));
    }

    #[test]
    fn env_vars_carry_the_system_prefix() {
        let config = load(&[("EGOV_SAMPLE__ASYNC_PULL", "true")]).expect("loads");
        assert!(config.async_pull);
        let error = load(&[("EGOV_SAMPLE__SYSTEM", "x")]).expect_err("not a key");
        assert!(error.to_string().contains("system"), "{error}");
    }

    #[test]
    fn every_check_names_its_key() {
        for (key, value, needle) in [
            (
                "EGOV_SAMPLE__PKI_ENDPOINT",
                "127.0.0.1:7110",
                "pki_endpoint",
            ),
            ("EGOV_SAMPLE__RESPONSIBLE_IIN", "123", "responsible_iin"),
            (
                "EGOV_SAMPLE__REVOCATION_FRESHNESS_SECS",
                "0",
                "revocation_freshness_secs",
            ),
            ("EGOV_SAMPLE__HTTP_LISTEN", "127.0.0.1:7990", "http_listen"),
        ] {
            let error = load(&[(key, value)]).expect_err("refused");
            assert!(error.to_string().contains(needle), "{error}");
        }
    }

    #[test]
    fn env_and_flags_override_defaults() {
        let env = [("EGOV_SAMPLE__GATEWAY_ENDPOINT", "http://gw:7100")];
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        let overrides = [("data_dir", "/tmp/x"), ("grpc_listen", "127.0.0.1:0")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>();
        let config: SystemConfig<Sample> =
            SystemConfig::load(None, env, &overrides).expect("loads");
        assert_eq!(config.gateway_endpoint, "http://gw:7100");
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.grpc_listen.port(), 0);
    }

    #[test]
    fn the_clock_is_real_by_default_and_stack_when_set() {
        assert_eq!(load(&[]).expect("defaults").clock, ClockSource::Real);
        let config = load(&[("EGOV_SAMPLE__CLOCK", "stack")]).expect("loads");
        assert_eq!(config.clock, ClockSource::Stack);
    }

    #[test]
    fn a_clock_other_than_real_or_stack_is_refused_naming_the_key() {
        let error = load(&[("EGOV_SAMPLE__CLOCK", "virtual")]).expect_err("refused");
        assert!(error.to_string().contains("clock"), "{error}");
    }

    #[test]
    fn the_stack_clock_without_a_nats_url_is_refused_naming_both_keys() {
        let error = load(&[
            ("EGOV_SAMPLE__CLOCK", "stack"),
            ("EGOV_SAMPLE__NATS_URL", ""),
        ])
        .expect_err("refused");
        assert!(error.to_string().contains("`clock`"), "{error}");
        assert!(error.to_string().contains("`nats_url`"), "{error}");
    }

    #[test]
    fn an_unknown_key_stops_the_start() {
        let error = load(&[("EGOV_SAMPLE__GATEWAY_ENDPIONT", "x")]).expect_err("typo refused");
        assert!(error.to_string().contains("gateway_endpiont"), "{error}");
    }

    #[test]
    fn a_postgres_url_is_accepted() {
        let url = "postgresql://egov:s3cret@db:5432/sample";
        let config = load(&[("EGOV_SAMPLE__DATABASE_URL", url)]).expect("accepted");
        assert_eq!(config.database_url(), url);
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_naming_the_key_not_the_password() {
        let error = load(&[("EGOV_SAMPLE__DATABASE_URL", "mysql://egov:s3cret@db/sample")])
            .expect_err("refused");
        assert!(error.to_string().contains("database_url"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn a_gateway_endpoint_without_scheme_is_refused_naming_the_key() {
        let error =
            load(&[("EGOV_SAMPLE__GATEWAY_ENDPOINT", "127.0.0.1:7100")]).expect_err("refused");
        assert!(error.to_string().contains("gateway_endpoint"), "{error}");
    }

    mod declared {
        crate::system_config! {
            /// A system declared with the macro.
            service: "declared",
            grpc: 7992,
            http: 7993,
        }

        #[test]
        fn the_macro_derives_every_default_from_the_name_and_ports() {
            let config = Config::default();
            assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
            assert_eq!(DEFAULT_HTTP_LISTEN, "127.0.0.1:7993");
            assert_eq!(
                config.database_url(),
                "sqlite://.egov/declared/declared.db?mode=rwc"
            );
        }

        #[test]
        fn the_macro_names_the_shared_defaults_for_the_system() {
            let config = Config::default();
            assert_eq!(config.pki_endpoint, DEFAULT_PKI_ENDPOINT);
            assert_eq!(config.gateway_endpoint, DEFAULT_GATEWAY_ENDPOINT);
            assert_eq!(config.nats_url, DEFAULT_NATS_URL);
            assert_eq!(config.responsible_iin, DEFAULT_RESPONSIBLE_IIN);
            assert_eq!(
                config.revocation_freshness_secs,
                DEFAULT_REVOCATION_FRESHNESS_SECS
            );
        }
    }

    mod settings {
        crate::system_settings! {
            /// A system with a key of its own.
            service: "owned",
            grpc: 7994,
            http: 7995,
            responsible_iin: "870412300159",
            revocation_freshness_secs: 60,
            check: check_own,
            own {
                /// How many things it keeps.
                things: u64 = 3,
            }
        }

        fn check_own(config: &Config) -> Result<(), String> {
            crate::config::check_at_least_one("things", config.things)
        }

        fn load(env: &[(&str, &str)]) -> Result<Config, egov_core::config::ConfigError> {
            let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
            Config::load(None, env, &[])
        }

        #[test]
        fn own_keys_load_beside_the_shared_ones_under_the_system_prefix() {
            let config = load(&[("EGOV_OWNED__THINGS", "7")]).expect("loads");
            assert_eq!(config.things, 7);
            assert_eq!(config.grpc_listen.to_string(), DEFAULT_GRPC_LISTEN);
            let embedded = Config::with_data_dir("elsewhere");
            assert_eq!(embedded.http_listen.to_string(), DEFAULT_HTTP_LISTEN);
            assert_eq!(embedded.things, 3);
            assert_eq!(config.responsible_iin, "870412300159");
            assert_eq!(config.revocation_freshness_secs, 60);
            assert_eq!(
                config.database_url(),
                "sqlite://.egov/owned/owned.db?mode=rwc"
            );
        }

        #[test]
        fn the_own_check_and_the_shared_checks_both_run() {
            let error = load(&[("EGOV_OWNED__THINGS", "0")]).expect_err("own check");
            assert!(error.to_string().contains("things"), "{error}");
            let error = load(&[("EGOV_OWNED__RESPONSIBLE_IIN", "1")]).expect_err("shared check");
            assert!(error.to_string().contains("responsible_iin"), "{error}");
        }
    }
}
