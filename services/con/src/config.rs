//! The State Corporation workstation's configuration (ХҚО / ЦОН): what it listens on, where it
//! keeps its queue and filings, which certification centre and gateway it uses, its operators'
//! IINs (each operator signs with an employee's certificate in that IIN and the State
//! Corporation's BIN) and how its sign-in behaves.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then `EGOV_CON__<KEY>`
//! env vars, then CLI flags, then [`Validate::validate`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use egov_core::config::{ConfigError, Validate};
use egov_system::InboxSettings;
use egov_system::config::{ClockSource, check_at_least_one, check_endpoint, check_iin, loopback};
pub use egov_system::config::{
    DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT, DEFAULT_RESPONSIBLE_IIN,
    DEFAULT_REVOCATION_FRESHNESS_SECS,
};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_CON__`) and the log name.
pub const SERVICE: &str = "con";

/// Default gRPC listen port (health, reflection).
pub const DEFAULT_GRPC_PORT: u16 = 7190;

/// Default HTTP listen port (the workstation, the kiosk, `/health`, `/metrics`).
pub const DEFAULT_HTTP_PORT: u16 = 7191;

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".egov/con";

/// The demo's operator: login `madina`, the citizens-DB's fixture operator of the State
/// Corporation (Әбілова Мадина Ғалымқызы).
pub const DEFAULT_OPERATOR: (&str, &str) = ("madina", "930909490166");

/// The name of the SQLite file inside the data dir when no `database_url` is set.
const DATABASE_FILE: &str = "con.db";

/// The workstation's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (grpc.health.v1, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (the workstation pages, the queue kiosk, `/health`,
    /// `/metrics`).
    pub http_listen: SocketAddr,
    /// Directory of the workstation's state; created on start if missing.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://…` or `postgres://…`; unset means
    /// `sqlite://<data_dir>/con.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre the seal, the operators' certificates and the
    /// revocation status of every answer come from.
    pub pki_endpoint: String,
    /// gRPC endpoint of the gateway every look-up and request goes through.
    pub gateway_endpoint: String,
    /// IIN of the person responsible for the State Corporation's seal.
    pub responsible_iin: String,
    /// The one-time token the certification centre accepts for the seal
    /// (`EGOV_CON__ENROLMENT_TOKEN`, as `egov up` hands it). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// The registrar account (регистратор) the operators' certificates are enrolled under;
    /// without one, an operator whose certificate is not kept yet cannot be enrolled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrar_login: Option<String>,
    /// That registrar's password (`EGOV_CON__REGISTRAR_PASSWORD`). Never printed by
    /// `--dump-config`.
    #[serde(skip_serializing)]
    pub registrar_password: Option<String>,
    /// A file holding that password (trimmed), read when `registrar_password` is unset: the
    /// compose stack's certification centre writes it on first start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrar_password_file: Option<PathBuf>,
    /// Seconds a certificate's revocation status is trusted before the centre is asked again.
    pub revocation_freshness_secs: u64,
    /// The operators: sign-in login → IIN. Each gets an employee's certificate in that IIN
    /// with the State Corporation's BIN, and signs the requests they file with it.
    pub operators: BTreeMap<String, String>,
    /// A TOML file of the first accounts (`[[account]]` with login, name, roles =
    /// ["operator"] and password_hash), added when their logins are absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin_bootstrap: Option<PathBuf>,
    /// Whether the session cookie is `Secure` (HTTPS only): on behind TLS.
    pub signin_secure_cookie: bool,
    /// Origins the forms may be posted from; empty means the request's own host.
    pub signin_origins: Vec<String>,
    /// Minutes a session may stay unused before it ends.
    pub signin_idle_minutes: u64,
    /// Hours after sign-in a session ends, however busy.
    pub signin_absolute_hours: u64,
    /// NATS server URL, accepted with the flags every service of `egov up` gets; the
    /// workstation calls synchronously and runs no inbox, but follows the stack clock there.
    pub nats_url: String,
    /// The clock the workstation runs on: `real` (the default) or `stack`, the stack's one
    /// virtual clock followed from NATS at `nats_url` (`egov up --clock virtual` sets it).
    pub clock: ClockSource,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: loopback(DEFAULT_GRPC_PORT),
            http_listen: loopback(DEFAULT_HTTP_PORT),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            enrolment_token: None,
            enrolment_token_file: None,
            registrar_login: None,
            registrar_password: None,
            registrar_password_file: None,
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            operators: BTreeMap::from([(
                DEFAULT_OPERATOR.0.to_owned(),
                DEFAULT_OPERATOR.1.to_owned(),
            )]),
            signin_bootstrap: None,
            signin_secure_cookie: false,
            signin_origins: Vec::new(),
            signin_idle_minutes: 30,
            signin_absolute_hours: 12,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            clock: ClockSource::Real,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_CON__*` in `env`, then
    /// `overrides` as `(key, value)` pairs from flags.
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

    /// Returns the registrar's password: `registrar_password`, else the trimmed contents of
    /// `registrar_password_file`, else none.
    pub fn registrar_password(&self) -> Result<Option<String>, String> {
        let file = self.registrar_password_file.as_deref();
        egov_core::config::secret_or_file(self.registrar_password.as_deref(), file).map_err(
            |error| {
                let file = file
                    .map(|file| file.display().to_string())
                    .unwrap_or_default();
                format!("cannot read {file}: {error}")
            },
        )
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        check_iin("responsible_iin", &self.responsible_iin)?;
        for (login, iin) in &self.operators {
            egov_signin::check_login(login).map_err(|error| format!("`operators`: {error}"))?;
            check_iin(&format!("operators.{login}"), iin)?;
        }
        check_at_least_one("revocation_freshness_secs", self.revocation_freshness_secs)?;
        check_at_least_one("signin_idle_minutes", self.signin_idle_minutes)?;
        check_at_least_one("signin_absolute_hours", self.signin_absolute_hours)?;
        self.clock.check(&self.nats_url)?;
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}

impl egov_system::runtime::Settings for Config {
    const SERVICE: &'static str = SERVICE;

    fn listen(&self) -> (SocketAddr, SocketAddr) {
        (self.grpc_listen, self.http_listen)
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn pki_endpoint(&self) -> &str {
        &self.pki_endpoint
    }

    fn responsible_iin(&self) -> &str {
        &self.responsible_iin
    }

    fn enrolment_token(&self) -> Result<Option<String>, egov_system::IdentityError> {
        egov_system::identity::read_token(
            self.enrolment_token.as_deref(),
            self.enrolment_token_file.as_deref(),
        )
    }

    fn revocation_freshness(&self) -> Duration {
        Duration::from_secs(self.revocation_freshness_secs)
    }

    fn inbox(&self) -> InboxSettings {
        // Every call of the workstation is synchronous, and providers' results reach its gRPC
        // receiver on the sync route `con.application.decided`: no inbox to run.
        InboxSettings::new(&self.gateway_endpoint, "", false)
    }

    fn clock(&self) -> ClockSource {
        self.clock
    }

    fn nats_url(&self) -> &str {
        &self.nats_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_7190_and_7191_and_an_operator_iin_is_checked() {
        let config = Config::load(None, Vec::new(), &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.port(), 7190);
        assert_eq!(config.http_listen.port(), 7191);
        assert_eq!(config.database_url(), "sqlite://.egov/con/con.db?mode=rwc");
        let env = [("EGOV_CON__OPERATORS__MADINA".to_owned(), "123".to_owned())];
        let error = Config::load(None, env, &[]).expect_err("a bad IIN is refused");
        assert!(error.to_string().contains("operators.madina"), "{error}");
    }

    #[test]
    fn the_registrar_password_is_read_from_its_file_when_not_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("registration-desk.password");
        std::fs::write(&file, "from-the-file-0123\n").expect("write");
        let mut config = Config::with_data_dir(dir.path());
        assert_eq!(config.registrar_password(), Ok(None));
        config.registrar_password_file = Some(file);
        assert_eq!(
            config.registrar_password(),
            Ok(Some("from-the-file-0123".to_owned()))
        );
        config.registrar_password = Some("given-0123456".to_owned());
        assert_eq!(
            config.registrar_password(),
            Ok(Some("given-0123456".to_owned()))
        );
        config.registrar_password = None;
        config.registrar_password_file = Some(dir.path().join("missing"));
        let error = config.registrar_password().expect_err("no such file");
        assert!(error.contains("missing"), "{error}");
    }
}
