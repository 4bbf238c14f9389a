//! The portal's configuration: the keys every system shares (listen addresses, data dir,
//! centre, gateway) and its own: where the external signer is, the public address of its
//! pages, and the upload limits. Loaded through `egov_core::config`: defaults, then the TOML
//! file, then `EGOV_PORTAL__<KEY>` env vars, then CLI flags, then `Validate::validate`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use egov_core::config::Validate;
use egov_system::InboxSettings;
use egov_system::config::{
    ClockSource, DEFAULT_GATEWAY_ENDPOINT, DEFAULT_NATS_URL, DEFAULT_PKI_ENDPOINT,
    DEFAULT_RESPONSIBLE_IIN, DEFAULT_REVOCATION_FRESHNESS_SECS, check_endpoint, check_iin,
    loopback,
};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix and the health and log name.
pub const SERVICE: &str = "portal";
/// Default address of the external signer (egov-signer's HTTP).
pub const DEFAULT_SIGNER_URL: &str = "http://127.0.0.1:7211";
/// Default public address of the portal's pages (where the signer sends the person back).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:7181";
/// Default largest item-9 upload, in bytes.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// The portal's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`MessageReceiver` for the cabinet's notifications).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (the pages).
    pub http_listen: SocketAddr,
    /// Directory of the portal's state; created on start.
    pub data_dir: PathBuf,
    /// Database URL; unset means `sqlite://<data_dir>/portal.db?mode=rwc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// gRPC endpoint of the certification centre.
    pub pki_endpoint: String,
    /// gRPC endpoint of the gateway.
    pub gateway_endpoint: String,
    /// IIN of the person responsible for the portal's seal.
    pub responsible_iin: String,
    /// The one-time token the certification centre accepts for the portal's seal
    /// (`EGOV_PORTAL__ENROLMENT_TOKEN`, as `egov up` hands it). Never printed by `--dump-config`.
    #[serde(skip_serializing)]
    pub enrolment_token: Option<String>,
    /// A file holding the enrolment token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolment_token_file: Option<PathBuf>,
    /// Seconds a revocation answer is trusted.
    pub revocation_freshness_secs: u64,
    /// NATS URL of the async push inbox; empty turns it off.
    pub nats_url: String,
    /// Whether to fetch async messages from the gateway.
    pub async_pull: bool,
    /// HTTP address of the external signer as the portal reaches it: its API, and the page
    /// the person signs on unless `signer_public_url` is set.
    pub signer_url: String,
    /// The signer's address as the person's browser reaches it, when that differs from
    /// `signer_url` (under compose: `http://signer:7211` from the portal's container,
    /// `http://127.0.0.1:7211` from the host); unset means `signer_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_public_url: Option<String>,
    /// The portal's own public address, where the signer sends the person back.
    pub public_url: String,
    /// The largest item-9 file accepted, in bytes.
    pub max_upload_bytes: usize,
    /// The clock the portal runs on: `real` (the default) or `stack`, the stack's one virtual
    /// clock followed from NATS at `nats_url` (`egov up --clock virtual` sets it).
    pub clock: ClockSource,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            grpc_listen: loopback(7180),
            http_listen: loopback(7181),
            data_dir: PathBuf::from(".egov/portal"),
            database_url: None,
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            gateway_endpoint: DEFAULT_GATEWAY_ENDPOINT.to_owned(),
            responsible_iin: DEFAULT_RESPONSIBLE_IIN.to_owned(),
            enrolment_token: None,
            enrolment_token_file: None,
            revocation_freshness_secs: DEFAULT_REVOCATION_FRESHNESS_SECS,
            nats_url: DEFAULT_NATS_URL.to_owned(),
            async_pull: false,
            signer_url: DEFAULT_SIGNER_URL.to_owned(),
            signer_public_url: None,
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            clock: ClockSource::Real,
        }
    }
}

impl Config {
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
            "portal.db",
        )
    }

    /// Returns the signer's address for the person's browser: `signer_public_url`, else
    /// `signer_url`.
    pub fn signer_public_url(&self) -> &str {
        self.signer_public_url
            .as_deref()
            .unwrap_or(&self.signer_url)
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        egov_store::check_location(&self.data_dir, self.database_url.as_deref())?;
        check_endpoint("pki_endpoint", &self.pki_endpoint)?;
        check_endpoint("gateway_endpoint", &self.gateway_endpoint)?;
        check_endpoint("signer_url", &self.signer_url)?;
        if let Some(url) = &self.signer_public_url {
            check_endpoint("signer_public_url", url)?;
        }
        check_endpoint("public_url", &self.public_url)?;
        check_iin("responsible_iin", &self.responsible_iin)?;
        if self.revocation_freshness_secs == 0 {
            return Err("`revocation_freshness_secs` must be at least 1, found 0".to_owned());
        }
        if self.max_upload_bytes == 0 {
            return Err("`max_upload_bytes` must be at least 1, found 0".to_owned());
        }
        self.clock.check(&self.nats_url)?;
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}

impl egov_system::runtime::Settings for Config {
    const SERVICE: &'static str = SERVICE;

    fn listen(&self) -> (SocketAddr, SocketAddr) {
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
        InboxSettings::new(&self.gateway_endpoint, &self.nats_url, self.async_pull)
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
    fn defaults_listen_on_7180_and_7181_and_a_bad_signer_url_is_refused() {
        let config: Config =
            egov_core::config::load(SERVICE, None, Vec::new(), &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.port(), 7180);
        assert_eq!(config.http_listen.port(), 7181);
        let env = [(
            "EGOV_PORTAL__SIGNER_URL".to_owned(),
            "127.0.0.1:7211".to_owned(),
        )];
        let refused =
            egov_core::config::load::<Config>(SERVICE, None, env, &[]).expect_err("not a URL");
        assert!(refused.to_string().contains("signer_url"), "{refused}");
    }

    #[test]
    fn the_browser_reaches_the_signer_at_its_public_url_when_one_is_set() {
        let config: Config =
            egov_core::config::load(SERVICE, None, Vec::new(), &[]).expect("defaults load");
        assert_eq!(config.signer_public_url(), DEFAULT_SIGNER_URL);
        let env = [
            (
                "EGOV_PORTAL__SIGNER_URL".to_owned(),
                "http://signer:7211".to_owned(),
            ),
            (
                "EGOV_PORTAL__SIGNER_PUBLIC_URL".to_owned(),
                "http://127.0.0.1:7211".to_owned(),
            ),
        ];
        let config: Config = egov_core::config::load(SERVICE, None, env, &[]).expect("loads");
        assert_eq!(config.signer_url, "http://signer:7211");
        assert_eq!(config.signer_public_url(), "http://127.0.0.1:7211");
        let env = [(
            "EGOV_PORTAL__SIGNER_PUBLIC_URL".to_owned(),
            "127.0.0.1:7211".to_owned(),
        )];
        let refused =
            egov_core::config::load::<Config>(SERVICE, None, env, &[]).expect_err("not a URL");
        assert!(
            refused.to_string().contains("signer_public_url"),
            "{refused}"
        );
    }
}
