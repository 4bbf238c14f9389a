//! A system's identity: the seal certificate (legal-entity role, OU=BIN…) it
//! signs every message with, and the root it trusts, both from the
//! certification centre.
//!
//! The system makes its own key pair and enrols with a PKCS#10 request and its one-time
//! enrolment token; the key (`seal.key`, mode 0600) and certificate (`seal.crt`) stay in its
//! data dir and are re-used on restart, so a used token is never needed again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use egov_core::envelope::{CachedRevocation, Signer, Verifier};
use egov_core::iin::{BinError, IinError};
use egov_core::pki::authority::{Credential, Holder, KeyMaterial};
use egov_core::pki::{CertificateInfo, KeyPurpose, Role};
use egov_core::systems::SystemInfo;
use egov_core::{Bin, Iin};
use egov_pki::client::RemoteRevocation;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, GetCaCertificatesRequest, IssueCertificateRequest, KeyUsage,
};
use time::OffsetDateTime;
use tonic::transport::{Channel, Endpoint};

/// The file name (without extension) of a system's seal key and certificate in its data dir.
pub const SEAL_FILES: &str = "seal";

/// Failures obtaining a system's identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The centre's endpoint is not a URL.
    #[error("certification centre endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// The centre did not answer (after retries) or refused.
    #[error("certification centre at {endpoint}: {reason}")]
    Centre {
        /// The endpoint.
        endpoint: String,
        /// What it said, or why it could not be reached.
        reason: String,
    },
    /// The issued certificate or key could not be used.
    #[error("issued credential is unusable: {0}")]
    Credential(String),
    /// The key or certificate file could not be read or written.
    #[error("could not {action}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// What a system asks the certification centre for.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The system id in the gateway registry.
    pub system_id: String,
    /// The operating organisation's BIN.
    pub bin: Bin,
    /// The organisation's name (O).
    pub organization: String,
    /// IIN of the person responsible for the system's seal.
    pub responsible_iin: Iin,
    /// The one-time enrolment token the certification centre accepts for this seal.
    pub token: Option<String>,
    /// The directory the seal's key and certificate are kept in and re-used from.
    pub key_dir: Option<PathBuf>,
    /// The time a kept certificate must be valid at to be re-used: the process clock's now
    /// (the stack's, in stack mode); `None` reads the wall clock.
    pub now: Option<OffsetDateTime>,
}

/// Why a system's [`Enrolment`] could not be put together from its registry entry and config.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// The registry's BIN of the system is malformed.
    #[error("{system} BIN: {source}")]
    Bin {
        /// The system id.
        system: String,
        /// Why the BIN was refused.
        #[source]
        source: BinError,
    },
    /// The config's `responsible_iin` is malformed.
    #[error("responsible_iin: {0}")]
    ResponsibleIin(#[source] IinError),
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Enrolment")
            .field("system_id", &self.system_id)
            .field("bin", &self.bin)
            .field("responsible_iin", &self.responsible_iin)
            .field("token", &self.token.as_ref().map(|_| ".."))
            .field("key_dir", &self.key_dir)
            .finish_non_exhaustive()
    }
}

impl Enrolment {
    /// Returns the enrolment of `system` as the registry lists it, its seal in the name of
    /// `responsible_iin`.
    pub fn of(system: &SystemInfo, responsible_iin: &str) -> Result<Enrolment, EnrolmentError> {
        Ok(Enrolment {
            system_id: system.id.to_owned(),
            bin: Bin::parse(system.bin).map_err(|source| EnrolmentError::Bin {
                system: system.id.to_owned(),
                source,
            })?,
            organization: system.name.to_owned(),
            responsible_iin: Iin::parse(responsible_iin).map_err(EnrolmentError::ResponsibleIin)?,
            token: None,
            key_dir: None,
            now: None,
        })
    }

    /// Returns the enrolment with the one-time token the centre accepts for it.
    pub fn with_token(self, token: Option<String>) -> Enrolment {
        Enrolment { token, ..self }
    }

    /// Returns the enrolment judging a kept certificate's validity at `now`, the process clock's
    /// time, so a seal kept from an earlier run is re-used only while the stack's time allows.
    pub fn judged_at(self, now: OffsetDateTime) -> Enrolment {
        Enrolment {
            now: Some(now),
            ..self
        }
    }

    /// Returns the enrolment keeping its key and certificate in `dir` (`seal.key`, `seal.crt`).
    pub fn keep_key_in(self, dir: impl Into<PathBuf>) -> Enrolment {
        Enrolment {
            key_dir: Some(dir.into()),
            ..self
        }
    }

    /// Returns the seal's holder: the system, its responsible person, its BIN, the legal-entity role.
    pub fn holder(&self) -> Holder {
        Holder {
            surname: self.system_id.to_uppercase(),
            given_name: "SEAL".into(),
            iin: self.responsible_iin,
            bin: Some(self.bin),
            organization: Some(self.organization.clone()),
            role: Role::LegalEntity,
            purpose: KeyPurpose::Sign,
        }
    }
}

/// Returns the enrolment token: `token` itself, or the trimmed contents of `file` (as the
/// compose stack hands it), or none.
pub fn read_token(
    token: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<String>, IdentityError> {
    egov_core::config::secret_or_file(token, file).map_err(|source| IdentityError::Io {
        action: format!(
            "read the enrolment token {}",
            file.map(|file| file.display().to_string())
                .unwrap_or_default()
        ),
        source,
    })
}

/// A system's signing identity and trust anchor.
#[derive(Debug)]
pub struct SystemIdentity {
    /// The system id.
    pub system_id: String,
    /// The organisation's BIN, in the seal's OU.
    pub bin: Bin,
    /// Signs with the seal.
    pub signer: Signer,
    /// The trusted root.
    pub root: CertificateInfo,
}

impl SystemIdentity {
    /// Builds an identity from an issued credential (tests, or keys kept on disk).
    pub fn from_credential(
        system_id: &str,
        bin: Bin,
        credential: &Credential,
        root: CertificateInfo,
    ) -> Result<SystemIdentity, IdentityError> {
        let signer = Signer::new(credential.key.pkcs8(), credential.chain.clone())
            .map_err(|err| IdentityError::Credential(err.to_string()))?;
        Ok(SystemIdentity {
            system_id: system_id.to_owned(),
            bin,
            signer,
            root,
        })
    }

    /// Enrolls with the certification centre: fetches its root, then re-uses the seal kept in
    /// `key_dir` or makes a key pair and asks for a certificate with a PKCS#10 request and the
    /// enrolment token; retries for a few seconds while the centre starts.
    pub async fn enroll(
        pki_endpoint: &str,
        enrolment: &Enrolment,
    ) -> Result<SystemIdentity, IdentityError> {
        let mut client = CertificationCentreClient::new(channel(pki_endpoint)?);
        let (root, intermediate_der) = ca_certificates(pki_endpoint, &mut client).await?;
        let files = enrolment
            .key_dir
            .as_deref()
            .map(|dir| KeyFiles::in_dir(dir, SEAL_FILES));
        let signer = enrol_holder(
            pki_endpoint,
            &mut client,
            &enrolment.holder(),
            enrolment.token.as_deref().map(EnrolmentProof::Token),
            files.as_ref(),
            &intermediate_der,
            enrolment.now.unwrap_or_else(OffsetDateTime::now_utc),
        )
        .await?;
        Ok(SystemIdentity {
            system_id: enrolment.system_id.clone(),
            bin: enrolment.bin,
            signer,
            root,
        })
    }

    /// Builds a verifier that trusts this identity's root and asks the
    /// centre for revocation, caching answers for `freshness`.
    pub fn remote_verifier(
        &self,
        pki_endpoint: &str,
        freshness: Duration,
    ) -> Result<Arc<Verifier<CachedRevocation<RemoteRevocation>>>, IdentityError> {
        let revocation =
            CachedRevocation::new(RemoteRevocation::new(channel(pki_endpoint)?), freshness);
        Ok(Arc::new(Verifier::new(vec![self.root.clone()], revocation)))
    }
}

/// Fetches the centre's root and intermediate, retrying for a few seconds while it starts.
pub async fn ca_certificates(
    pki_endpoint: &str,
    client: &mut CertificationCentreClient<Channel>,
) -> Result<(CertificateInfo, Vec<u8>), IdentityError> {
    let centre = |reason: String| IdentityError::Centre {
        endpoint: pki_endpoint.to_owned(),
        reason,
    };
    let mut last = String::new();
    for _ in 0..50 {
        match client
            .get_ca_certificates(GetCaCertificatesRequest {})
            .await
        {
            Ok(cas) => {
                let cas = cas.into_inner();
                let root = CertificateInfo::from_der(&cas.root_der)
                    .map_err(|err| centre(format!("root certificate: {err}")))?;
                return Ok((root, cas.intermediate_der));
            }
            Err(status) => last = status.message().to_owned(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(centre(last))
}

/// Where a holder keeps its key and certificate: `<name>.key` (PKCS#8, mode 0600) and
/// `<name>.crt` (DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    key: PathBuf,
    certificate: PathBuf,
}

impl KeyFiles {
    /// Returns the files `<dir>/<name>.key` and `<dir>/<name>.crt`.
    pub fn in_dir(dir: &Path, name: &str) -> KeyFiles {
        KeyFiles {
            key: dir.join(format!("{name}.key")),
            certificate: dir.join(format!("{name}.crt")),
        }
    }

    /// Returns the key file's path.
    pub fn key_path(&self) -> &Path {
        &self.key
    }

    /// Returns the kept key, or makes one and keeps it owner-only.
    fn key(&self) -> Result<KeyMaterial, IdentityError> {
        match std::fs::read(&self.key) {
            Ok(pkcs8) => KeyMaterial::from_pkcs8(&pkcs8).map_err(|error| {
                IdentityError::Credential(format!("{}: {error}", self.key.display()))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = KeyMaterial::generate()
                    .map_err(|error| IdentityError::Credential(error.to_string()))?;
                write_private(&self.key, key.pkcs8())?;
                Ok(key)
            }
            Err(source) => Err(IdentityError::Io {
                action: format!("read {}", self.key.display()),
                source,
            }),
        }
    }

    /// Returns the kept certificate, if there is one.
    fn certificate(&self) -> Option<Vec<u8>> {
        std::fs::read(&self.certificate).ok()
    }
}

/// Writes `bytes` to a new or truncated file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    use std::io::Write as _;
    let io = |source| IdentityError::Io {
        action: format!("write {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io)
}

/// What the certification centre is shown to issue a certificate (see `egov-pki`'s enrolment).
#[derive(Clone, Copy)]
pub enum EnrolmentProof<'a> {
    /// A one-time enrolment token, bound to one role and one BIN or IIN.
    Token(&'a str),
    /// A registrar account (регистратор), which may enrol anyone: the ЦОН's operators, the
    /// citizens whose keys the external signer makes.
    Registrar {
        /// The registrar's login.
        login: &'a str,
        /// The registrar's password.
        password: &'a str,
    },
}

impl std::fmt::Debug for EnrolmentProof<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrolmentProof::Token(_) => f.write_str("Token(…)"),
            EnrolmentProof::Registrar { login, .. } => write!(f, "Registrar({login})"),
        }
    }
}

pub use egov_core::pki::request::{REGISTRAR_LOGIN_METADATA, REGISTRAR_PASSWORD_METADATA};

/// Returns a signer for `holder`: the certificate kept in `files` when it still fits (same key,
/// same subject, issued by the centre's current intermediate, valid at `now`, the process
/// clock's time), otherwise a new one for the holder's own key, asked with a PKCS#10 request
/// and `credential`.
pub async fn enrol_holder(
    pki_endpoint: &str,
    client: &mut CertificationCentreClient<Channel>,
    holder: &Holder,
    proof: Option<EnrolmentProof<'_>>,
    files: Option<&KeyFiles>,
    intermediate_der: &[u8],
    now: OffsetDateTime,
) -> Result<Signer, IdentityError> {
    let credential = |error: String| IdentityError::Credential(error);
    let key = match files {
        Some(files) => files.key()?,
        None => KeyMaterial::generate().map_err(|error| credential(error.to_string()))?,
    };
    let intermediate = CertificateInfo::from_der(intermediate_der)
        .map_err(|error| credential(error.to_string()))?;
    if let Some(kept) = files.and_then(KeyFiles::certificate)
        && kept_certificate_fits(&kept, &key, holder, &intermediate, now)
    {
        return Signer::new(key.pkcs8(), vec![kept, intermediate_der.to_vec()])
            .map_err(|error| credential(error.to_string()));
    }
    let request = egov_core::pki::request::build(holder, &key)
        .map_err(|error| credential(error.to_string()))?;
    let mut call = tonic::Request::new(IssueCertificateRequest {
        surname: holder.surname.clone(),
        given_name: holder.given_name.clone(),
        iin: holder.iin.to_string(),
        bin: holder.bin.map(|bin| bin.to_string()).unwrap_or_default(),
        organization: holder.organization.clone().unwrap_or_default(),
        role: certificate_role(holder.role) as i32,
        key_usage: match holder.purpose {
            KeyPurpose::Sign => KeyUsage::Sign,
            KeyPurpose::Auth => KeyUsage::Auth,
        } as i32,
        certification_request_der: request,
        ..IssueCertificateRequest::default()
    });
    let header = |text: String, what: &str| {
        text.parse::<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>()
            .map_err(|_| IdentityError::Credential(format!("{what} is not a valid header value")))
    };
    match proof {
        Some(EnrolmentProof::Token(token)) => {
            let value = header(format!("Bearer {token}"), "the enrolment token")?;
            call.metadata_mut().insert("authorization", value);
        }
        Some(EnrolmentProof::Registrar { login, password }) => {
            let login = header(login.to_owned(), "the registrar's login")?;
            let password = header(password.to_owned(), "the registrar's password")?;
            call.metadata_mut().insert(REGISTRAR_LOGIN_METADATA, login);
            call.metadata_mut()
                .insert(REGISTRAR_PASSWORD_METADATA, password);
        }
        None => {}
    }
    let issued = client
        .issue_certificate(call)
        .await
        .map_err(|status| IdentityError::Centre {
            endpoint: pki_endpoint.to_owned(),
            reason: status.message().to_owned(),
        })?
        .into_inner();
    if let Some(files) = files {
        std::fs::write(&files.certificate, &issued.certificate_der).map_err(|source| {
            IdentityError::Io {
                action: format!("write {}", files.certificate.display()),
                source,
            }
        })?;
    }
    Signer::new(
        key.pkcs8(),
        vec![issued.certificate_der, intermediate_der.to_vec()],
    )
    .map_err(|error| credential(error.to_string()))
}

/// Whether a kept certificate can sign for `holder` with `key` at `now`.
fn kept_certificate_fits(
    der: &[u8],
    key: &KeyMaterial,
    holder: &Holder,
    intermediate: &CertificateInfo,
    now: OffsetDateTime,
) -> bool {
    let Ok(certificate) = CertificateInfo::from_der(der) else {
        return false;
    };
    key.public_key_der().ok().as_deref() == Some(certificate.spki_der.as_slice())
        && certificate.issuer_raw == intermediate.subject_raw
        && certificate.not_before <= now
        && now < certificate.not_after
        && certificate.iin == Some(holder.iin)
        && certificate.bin == holder.bin
        && certificate.has_role(holder.role)
}

/// Returns the contract's role of a profile role.
fn certificate_role(role: Role) -> CertificateRole {
    match role {
        Role::Individual => CertificateRole::Individual,
        Role::LegalEntity => CertificateRole::LegalEntity,
        Role::Head => CertificateRole::Head,
        Role::RightToSign => CertificateRole::RightToSign,
        Role::Employee => CertificateRole::Employee,
    }
}

fn channel(endpoint: &str) -> Result<Channel, IdentityError> {
    Ok(Endpoint::from_shared(endpoint.to_owned())
        .map_err(|err| IdentityError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: err.to_string(),
        })?
        .connect_lazy())
}

#[cfg(test)]
mod tests {
    use egov_core::systems;

    use super::*;

    #[test]
    fn an_enrolment_is_the_registry_entry_with_the_responsible_iin() {
        let enrolment = Enrolment::of(&systems::LABOR, "751204400013").expect("enrolment");
        assert_eq!(enrolment.system_id, systems::LABOR.id);
        assert_eq!(enrolment.organization, systems::LABOR.name);
        assert_eq!(enrolment.bin.to_string(), systems::LABOR.bin);
    }

    #[test]
    fn a_bad_responsible_iin_is_refused_naming_the_key() {
        let error = Enrolment::of(&systems::LABOR, "123").expect_err("refused");
        assert!(
            error.to_string().starts_with("responsible_iin: "),
            "{error}"
        );
    }
}
