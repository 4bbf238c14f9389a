//! The signer's configuration: where it listens, where it keeps the keys and which
//! certification centre certifies them. Loaded through `egov_core::config`: defaults, then the
//! TOML file, then `EGOV_SIGNER__<KEY>` env vars, then CLI flags, then `Validate::validate`.

use std::net::SocketAddr;
use std::path::PathBuf;

use egov_core::config::Validate;
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix and the health and log name.
pub const SERVICE: &str = "signer";
/// Default gRPC listen address (grpc.health.v1, reflection); 7190/7191 are the ЦОН's.
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:7210";
/// Default HTTP listen address (the pages, the portal's API, `/health`, `/metrics`).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:7211";
/// Default gRPC endpoint of the certification centre.
pub const DEFAULT_PKI_ENDPOINT: &str = "http://127.0.0.1:7110";

/// The signer's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (health and reflection only).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds.
    pub http_listen: SocketAddr,
    /// Directory of the kept keys (`keys/<IIN>.json`); created on start.
    pub data_dir: PathBuf,
    /// gRPC endpoint of the certification centre that certifies the public keys.
    pub pki_endpoint: String,
    /// Validity of a certificate asked for, in days.
    pub certificate_days: u32,
    /// The registrar account the signer enrols citizens' keys under (the centre issues only
    /// to a registrar or a one-time token; `egov-pki accounts add`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrar_login: Option<String>,
    /// That registrar's password (`EGOV_SIGNER__REGISTRAR_PASSWORD`). Never printed by
    /// `--dump-config`.
    #[serde(skip_serializing)]
    pub registrar_password: Option<String>,
    /// A file holding that password (trimmed), read when `registrar_password` is unset: the
    /// compose stack's certification centre writes it on first start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registrar_password_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            grpc_listen: DEFAULT_GRPC_LISTEN
                .parse()
                .unwrap_or(([127, 0, 0, 1], 7210).into()),
            http_listen: DEFAULT_HTTP_LISTEN
                .parse()
                .unwrap_or(([127, 0, 0, 1], 7211).into()),
            data_dir: PathBuf::from(".egov/signer"),
            pki_endpoint: DEFAULT_PKI_ENDPOINT.to_owned(),
            certificate_days: 365,
            registrar_login: None,
            registrar_password: None,
            registrar_password_file: None,
        }
    }
}

impl Config {
    /// Loads the config from the command line's file, the environment and its flags.
    pub fn from_args(
        args: &egov_bus::service::ServiceArgs,
    ) -> Result<Config, egov_core::config::ConfigError> {
        // `egov up` passes every service `--nats-url`; the signer takes no part in the bus.
        let overrides: Vec<(String, String)> = args
            .overrides()
            .into_iter()
            .filter(|(key, _)| key != "nats_url")
            .collect();
        egov_core::config::load(
            SERVICE,
            args.config.as_deref(),
            std::env::vars(),
            &overrides,
        )
    }

    /// Returns the registrar's password: `registrar_password`, else the trimmed contents of
    /// `registrar_password_file`, else none.
    pub fn registrar_password(&self) -> std::io::Result<Option<String>> {
        egov_core::config::secret_or_file(
            self.registrar_password.as_deref(),
            self.registrar_password_file.as_deref(),
        )
    }

    /// Returns a config for tests and embedding: defaults with this data dir.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            ..Config::default()
        }
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        if !(self.pki_endpoint.starts_with("http://") || self.pki_endpoint.starts_with("https://"))
        {
            return Err(format!(
                "`pki_endpoint` {:?} must be an http:// or https:// URL",
                self.pki_endpoint
            ));
        }
        if self.certificate_days == 0 {
            return Err("`certificate_days` must be at least 1, found 0".to_owned());
        }
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_7210_and_7211_and_a_bad_centre_is_refused() {
        let config: Config =
            egov_core::config::load(SERVICE, None, Vec::new(), &[]).expect("defaults load");
        assert_eq!(config.grpc_listen.port(), 7210);
        assert_eq!(config.http_listen.port(), 7211);
        let env = [(
            "EGOV_SIGNER__PKI_ENDPOINT".to_owned(),
            "pki:7110".to_owned(),
        )];
        let refused =
            egov_core::config::load::<Config>(SERVICE, None, env, &[]).expect_err("not a URL");
        assert!(refused.to_string().contains("pki_endpoint"), "{refused}");
    }

    #[test]
    fn the_registrar_password_is_read_from_its_file_when_not_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("registration-desk.password");
        std::fs::write(&file, "from-the-file-0123\n").expect("write");
        let mut config = Config::with_data_dir(dir.path());
        assert_eq!(config.registrar_password().expect("none"), None);
        config.registrar_password_file = Some(file);
        assert_eq!(
            config.registrar_password().expect("read"),
            Some("from-the-file-0123".to_owned())
        );
        config.registrar_password = Some("given-0123456".to_owned());
        assert_eq!(
            config.registrar_password().expect("given"),
            Some("given-0123456".to_owned())
        );
    }
}
