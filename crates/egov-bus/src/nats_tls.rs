//! TLS for the stack's NATS connections, chosen by the NATS URL alone so that every process
//! gets it from the one setting it already has (`nats_url`, `EGOV_<SERVICE>__NATS_URL`):
//!
//! - `tls://host:port` requires TLS (the server's certificate verified against the system's
//!   roots unless a CA is named);
//! - `?tls_ca=<PEM file>` verifies the server against that CA only, and requires TLS whatever
//!   the scheme;
//! - `&tls_cert=<PEM file>&tls_key=<PEM file>` also presents a client certificate, for a
//!   server that verifies its clients (`verify: true`).
//!
//! The parameters are read once, in [`crate::nats_accounts::connect`]; paths in them are
//! percent-encoded where they hold `%`, `&`, `=`, `?`, `#`, `@` or spaces ([`tls_url`] does
//! it). For a local stack, [`LocalTls::create`] makes a CA and a server certificate for
//! nats-server on `127.0.0.1` / `localhost`, and [`LocalTls::config_block`] the `tls {}` block
//! of its config.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The URL parameter naming the CA file the server is verified against.
pub const CA_PARAM: &str = "tls_ca";
/// The URL parameter naming the client certificate (PEM) presented to the server.
pub const CERT_PARAM: &str = "tls_cert";
/// The URL parameter naming the client certificate's private key (PEM).
pub const KEY_PARAM: &str = "tls_key";

/// Why a NATS URL's TLS settings or the local TLS files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NatsTlsError {
    /// The URL's query names an unknown parameter, or one without a value.
    #[error("NATS URL: {0}")]
    Url(String),
    /// The CA or certificate could not be generated.
    #[error("cannot make the NATS TLS certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    /// A certificate or key file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The TLS settings a NATS URL carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// Whether TLS is required (`tls://`, or any `tls_*` parameter).
    pub required: bool,
    /// The CA file the server is verified against, instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// The client certificate and its key, if the client presents one.
    pub client: Option<(PathBuf, PathBuf)>,
}

impl TlsSettings {
    /// Returns `options` with these settings applied.
    pub fn apply(&self, mut options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
        if self.required {
            options = options.require_tls(true);
        }
        if let Some(ca) = &self.ca {
            options = options.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.client {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        options
    }
}

/// Splits the TLS parameters out of a NATS URL: returns the URL without its query and the
/// settings it asked for.
pub fn split_tls(url: &str) -> Result<(String, TlsSettings), NatsTlsError> {
    let (address, query) = match url.split_once('?') {
        Some((address, query)) => (address, Some(query)),
        None => (url, None),
    };
    let mut settings = TlsSettings {
        required: address.starts_with("tls://"),
        ..TlsSettings::default()
    };
    let (mut cert, mut key) = (None, None);
    for pair in query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter(|pair| !pair.is_empty())
    {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            NatsTlsError::Url(format!("parameter {name:?} has no value", name = pair))
        })?;
        let value = PathBuf::from(percent_decode(value)?);
        match name {
            CA_PARAM => settings.ca = Some(value),
            CERT_PARAM => cert = Some(value),
            KEY_PARAM => key = Some(value),
            _ => {
                return Err(NatsTlsError::Url(format!(
                    "unknown parameter {name:?}; known: {CA_PARAM}, {CERT_PARAM}, {KEY_PARAM}"
                )));
            }
        }
        settings.required = true;
    }
    settings.client = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(NatsTlsError::Url(format!(
                "{CERT_PARAM} and {KEY_PARAM} go together"
            )));
        }
    };
    Ok((address.to_owned(), settings))
}

/// Returns `url` (without a query) with the parameters that make a client verify the server
/// against `ca` over TLS, and present `client` (certificate, key) if given.
pub fn tls_url(url: &str, ca: &Path, client: Option<(&Path, &Path)>) -> String {
    let url = match url.split_once("://") {
        Some(("nats", rest)) => format!("tls://{rest}"),
        Some(_) => url.to_owned(),
        None => format!("tls://{url}"),
    };
    let mut url = format!("{url}?{CA_PARAM}={}", percent_encode(ca));
    if let Some((cert, key)) = client {
        let _ = write!(
            url,
            "&{CERT_PARAM}={}&{KEY_PARAM}={}",
            percent_encode(cert),
            percent_encode(key)
        );
    }
    url
}

fn percent_encode(path: &Path) -> String {
    let mut text = String::new();
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'%' | b'&' | b'=' | b'?' | b'#' | b'@' | b'+' => {
                let _ = write!(text, "%{byte:02X}");
            }
            byte if byte <= b' ' || byte >= 0x7f => {
                let _ = write!(text, "%{byte:02X}");
            }
            byte => text.push(char::from(byte)),
        }
    }
    text
}

fn percent_decode(text: &str) -> Result<String, NatsTlsError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| NatsTlsError::Url(format!("bad percent-escape in {text:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| NatsTlsError::Url(format!("{text:?} is not UTF-8")))
}

/// A CA and a server certificate for a nats-server on this machine, written as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTls {
    /// The CA's certificate: what clients verify the server against.
    pub ca: PathBuf,
    /// The server's certificate (for `127.0.0.1`, `::1` and `localhost`).
    pub cert: PathBuf,
    /// The server's private key (owner read and write only).
    pub key: PathBuf,
}

impl LocalTls {
    /// Makes a new CA and a server certificate signed by it in `dir` (created if missing):
    /// `nats-ca.pem`, `nats-server.pem` and `nats-server.key` (mode 0600). The CA's key is
    /// never written: a new CA each time, so nothing on disk can sign another server.
    pub fn create(dir: &Path) -> Result<LocalTls, NatsTlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };

        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "egov-stack local NATS CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "egov-stack nats-server");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;

        let files = LocalTls {
            ca: dir.join("nats-ca.pem"),
            cert: dir.join("nats-server.pem"),
            key: dir.join("nats-server.key"),
        };
        std::fs::create_dir_all(dir).map_err(|source| NatsTlsError::Write {
            path: dir.to_owned(),
            source,
        })?;
        write_file(&files.ca, &ca_cert.pem(), 0o644)?;
        write_file(&files.cert, &cert.pem(), 0o644)?;
        write_file(&files.key, &key.serialize_pem(), 0o600)?;
        Ok(files)
    }

    /// Returns the `tls {}` block of a nats-server config serving these files: every client
    /// must then speak TLS.
    pub fn config_block(&self) -> String {
        format!(
            "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n  timeout: 2\n}}\n",
            self.cert.display().to_string(),
            self.key.display().to_string()
        )
    }
}

/// Writes `text` to `path` with `mode`, replacing what was there (the mode applies also to a
/// file that existed before).
fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), NatsTlsError> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};

    let error = |source| NatsTlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(mode);
    let mut file = options.open(path).map_err(error)?;
    #[cfg(unix)]
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(error)?;
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(text.as_bytes()).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_url_asks_for_no_tls_and_a_tls_scheme_requires_it() {
        let (address, settings) = split_tls("nats://u:p@127.0.0.1:4222").expect("parses");
        assert_eq!(address, "nats://u:p@127.0.0.1:4222");
        assert_eq!(settings, TlsSettings::default());
        let (_, settings) = split_tls("tls://127.0.0.1:4222").expect("parses");
        assert!(settings.required);
        assert_eq!(settings.ca, None);
    }

    #[test]
    fn a_ca_parameter_requires_tls_and_names_the_ca_file() {
        let url = tls_url(
            "nats://u:p@127.0.0.1:4222",
            Path::new("/data/my dir/ca&1.pem"),
            None,
        );
        assert!(url.starts_with("tls://u:p@127.0.0.1:4222?tls_ca="), "{url}");
        let (address, settings) = split_tls(&url).expect("parses");
        assert_eq!(address, "tls://u:p@127.0.0.1:4222");
        assert!(settings.required);
        assert_eq!(settings.ca, Some(PathBuf::from("/data/my dir/ca&1.pem")));
        let (_, settings) = split_tls("nats://h:1?tls_ca=/ca.pem").expect("parses");
        assert!(settings.required, "a CA asks for TLS whatever the scheme");
    }

    #[test]
    fn a_client_certificate_needs_its_key_and_unknown_parameters_are_refused() {
        let url = tls_url(
            "tls://h:1",
            Path::new("/ca.pem"),
            Some((Path::new("/c.pem"), Path::new("/c.key"))),
        );
        let (_, settings) = split_tls(&url).expect("parses");
        assert_eq!(
            settings.client,
            Some((PathBuf::from("/c.pem"), PathBuf::from("/c.key")))
        );
        assert!(split_tls("tls://h:1?tls_cert=/c.pem").is_err());
        let error = split_tls("tls://h:1?tls_verify=no").expect_err("unknown");
        assert!(error.to_string().contains("tls_verify"), "{error}");
    }

    #[test]
    fn the_local_tls_files_keep_the_server_key_owner_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = LocalTls::create(dir.path()).expect("made");
        let pem = std::fs::read_to_string(&files.ca).expect("ca");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&files.key)
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let block = files.config_block();
        assert!(
            block.contains("cert_file") && block.contains("key_file"),
            "{block}"
        );
    }
}
