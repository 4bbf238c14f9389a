//! The certification centre itself: issuing, revoking, answering status and
//! publishing the revocation list, on top of the [`Store`] and the CA hierarchy.
//!
//! The gRPC messages are the centre's vocabulary (the contract is the domain
//! here); [`crate::grpc`] only moves them in and out of tonic.

use std::path::Path;
use std::sync::Arc;

use egov_core::clock::Clock;
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_core::pki::authority::{
    AuthorityError, CA_INTERMEDIATE_KEY_LABEL, CA_ROOT_KEY_LABEL, CaHierarchy,
    CertificateAuthority, Holder, KeyMaterial, RevokedEntry,
};
use egov_core::pki::request::{CertificationRequest, RequestError};
use egov_core::pki::{CertificateError, KeyPurpose, Role, serial_hex};
use egov_core::{Bin, Iin};
use egov_proto::v1::{
    CertificateRole, CertificateStatus, GetCaCertificatesResponse, GetCertificateStatusResponse,
    IssueCertificateRequest, IssueCertificateResponse, KeyUsage, RevocationReason,
    RevokeCertificateResponse,
};
use rcgen::PublicKeyData as _;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::PkiError;
use crate::config::Config;
use crate::enrolment::{CallerCredential, Grant, role_from_key, role_key};
use crate::store::{CertificateRecord, Counter, Store, StoredCa};

/// Start of the CA hierarchy's validity, generated on first start.
pub const CA_NOT_BEFORE: OffsetDateTime = datetime!(2020-01-01 0:00 UTC);

/// End of the CA hierarchy's validity; no certificate may outlive it.
pub const CA_NOT_AFTER: OffsetDateTime = datetime!(2045-01-01 0:00 UTC);

/// How far a default `not_before` lies behind now, so a verifier whose clock
/// runs a little behind the centre's still accepts a fresh certificate.
const CLOCK_SKEW: Duration = Duration::minutes(1);

/// How long a revocation list is current: its nextUpdate is this after thisUpdate.
const CRL_LIFETIME: Duration = Duration::days(1);

/// The first byte of every serial: non-zero so the DER INTEGER keeps its length
/// and its hex form, and below 0x80 so it stays positive.
const SERIAL_PREFIX: u8 = 0x01;

/// RFC 5280 allows serials of at most 20 octets.
const MAX_SERIAL_BYTES: usize = 20;

/// The national certification centre (ҰКО / НУЦ): its CA, its records and its clock.
#[derive(Debug)]
pub struct Centre {
    store: Store,
    ca: CaHierarchy,
    default_validity_days: u32,
    /// The lifetime of a grant entry that names no expiry, from when it was first read.
    token_lifetime: Duration,
    clock: Arc<dyn Clock>,
}

impl Centre {
    /// Opens the centre's database (owner-only when it is the data dir's SQLite file), loads
    /// its CA, generating the hierarchy from the data dir's `ca.secret` on first start, and
    /// adds the configured enrolment grants.
    pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Centre, PkiError> {
        crate::secret::create_private_dir(&config.data_dir)?;
        let secret = crate::secret::ca_secret(&config.ca_secret_path())?;
        if let Some(file) = config.default_database_file() {
            crate::secret::create_private_file(&file)?;
        }
        let store = Store::open(&config.database_url()).await?;
        let mut grants = Grant::parse_all(&config.enrolment_grants)?;
        let generated = config.enrolment_tokens_dir.as_ref().map(|dir| {
            let grants = dir.join(crate::registrar::GRANTS_FILE);
            if !grants.exists() {
                // Issued on the centre's clock, which judges them: the stack's, if it follows it.
                crate::enrolment::stack_tokens_at(clock.now(), config.enrolment_token_lifetime())
                    .and_then(|tokens| crate::registrar::write_tokens(dir, &tokens))?;
                tracing::info!(dir = %dir.display(), "wrote one enrolment token per system");
            }
            Ok::<_, PkiError>(grants)
        });
        for path in generated
            .transpose()?
            .iter()
            .chain(config.enrolment_grants_file.iter())
        {
            let text = std::fs::read_to_string(path).map_err(|source| PkiError::Io {
                action: format!("read enrolment grants {}", path.display()),
                source,
            })?;
            grants.extend(Grant::parse_all(&text)?);
        }
        let mut added = 0;
        for grant in &grants {
            let role = role_key(grant.role);
            if store
                .add_grant(
                    &grant.token_sha256,
                    role,
                    &grant.subject,
                    grant.expires_at,
                    clock.now(),
                )
                .await?
            {
                added += 1;
            }
        }
        tracing::info!(grants = grants.len(), added, "enrolment grants read");
        // The CA's keys derive from `ca.secret` and never go into the database: a copy or
        // dump of it (PostgreSQL's included) holds certificates, not the keys that sign them.
        let secret_path = config.ca_secret_path();
        let ca = match store.ca().await? {
            Some(stored) => {
                let ca = load_ca(&stored, secret.as_bytes(), &secret_path)?;
                if stored.holds_keys() && store.forget_ca_keys().await? {
                    tracing::info!(
                        "removed the CA's private keys from the database: they derive from ca.secret"
                    );
                }
                ca
            }
            None => {
                let generated =
                    CaHierarchy::generate(secret.as_bytes(), CA_NOT_BEFORE, CA_NOT_AFTER)?;
                let stored = StoredCa {
                    root_der: generated.root.certificate().der.to_vec(),
                    root_key_pkcs8: Vec::new(),
                    intermediate_der: generated.intermediate.certificate().der.to_vec(),
                    intermediate_key_pkcs8: Vec::new(),
                };
                if store.insert_ca(&stored, clock.now()).await? {
                    tracing::info!(root = %generated.root.certificate().subject, "generated the CA hierarchy");
                    generated
                } else {
                    // Another process stored its hierarchy first: use that one.
                    let stored = store.ca().await?.ok_or_else(|| PkiError::Corrupt {
                        what: "CA",
                        reason: "row vanished after a conflicting insert".into(),
                    })?;
                    load_ca(&stored, secret.as_bytes(), &secret_path)?
                }
            }
        };
        Ok(Centre {
            store,
            ca,
            default_validity_days: config.default_validity_days,
            token_lifetime: config.enrolment_token_lifetime(),
            clock,
        })
    }

    /// Returns the root CA, the trust anchor of every verifier.
    pub fn root(&self) -> &CertificateAuthority {
        &self.ca.root
    }

    /// Returns the intermediate CA that issues every end-entity certificate.
    pub fn intermediate(&self) -> &CertificateAuthority {
        &self.ca.intermediate
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Returns the centre's database, for the registrar commands and tests.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Issues a certificate for the holder's own key, proven by its PKCS#10 request, to a
    /// caller holding a registrar account or an unused enrolment token for this subject.
    /// A refused request stores and consumes nothing.
    pub async fn issue(
        &self,
        request: IssueCertificateRequest,
        credential: &CallerCredential,
    ) -> Result<IssueCertificateResponse, PkiError> {
        let holder = holder(&request)?;
        if request.certification_request_der.is_empty() {
            return Err(PkiError::BadRequest(
                "missing: the holder signs a PKCS#10 request with its own key".into(),
            ));
        }
        let csr = CertificationRequest::parse(&request.certification_request_der)
            .map_err(|error| PkiError::BadRequest(error.to_string()))?;
        csr.check_subject(&holder).map_err(|error| match error {
            RequestError::SubjectMismatch { .. } => PkiError::SubjectMismatch(error.to_string()),
            other => PkiError::BadRequest(other.to_string()),
        })?;
        check_public_key(&csr.public_key_der)?;
        let token = self.authorise_enrolment(&holder, credential).await?;
        let public_key_der = csr.public_key_der;
        let now = self.clock.now();
        let not_before = match &request.not_before {
            Some(ts) => from_timestamp(ts)
                .ok_or_else(|| PkiError::invalid("not_before", "timestamp is out of range"))?,
            None => whole_seconds(now) - CLOCK_SKEW,
        };
        let days = match request.validity_days {
            0 => self.default_validity_days,
            days => days,
        };
        let not_after = not_after(not_before, days, self.ca.intermediate.certificate())?;

        let serial = serial_bytes(self.store.next(Counter::Serial).await?);
        let certificate = self
            .ca
            .intermediate
            .issue(&holder, &public_key_der, &serial, not_before, not_after)
            .map_err(|error| match error {
                AuthorityError::BadPublicKey(reason)
                | AuthorityError::Certificate(CertificateError::UnsupportedKey(reason)) => {
                    PkiError::BadRequest(reason)
                }
                other => other.into(),
            })?;

        let record = CertificateRecord {
            serial: certificate.serial.clone(),
            surname: holder.surname.clone(),
            given_name: holder.given_name.clone(),
            iin: holder.iin.to_string(),
            bin: holder.bin.map(|bin| bin.to_string()),
            organization: holder.organization.clone(),
            role: role_key(holder.role).to_owned(),
            purpose: holder.purpose.to_string(),
            not_before: certificate.not_before,
            not_after: certificate.not_after,
            der: certificate.der.to_vec(),
            issued_at: now,
            revoked_at: None,
            revocation_reason: None,
        };
        if let Some(digest) = &token
            && !self.store.use_grant(digest, &record.serial, now).await?
        {
            return Err(PkiError::Unauthorized(
                "the enrolment token was used by another request".into(),
            ));
        }
        self.store.insert_certificate(&record).await?;
        metrics::counter!(
            "pki_certificates_issued_total",
            "role" => role_key(holder.role),
            "purpose" => purpose_key(holder.purpose),
        )
        .increment(1);
        tracing::info!(serial = %record.serial, role = %holder.role, purpose = %holder.purpose, "issued a certificate");

        Ok(IssueCertificateResponse {
            serial: record.serial,
            certificate_der: record.der,
            chain_der: vec![
                self.ca.intermediate.certificate().der.to_vec(),
                self.ca.root.certificate().der.to_vec(),
            ],
        })
    }

    /// Checks the caller may enrol `holder`; returns the token digest to consume on success.
    async fn authorise_enrolment(
        &self,
        holder: &Holder,
        credential: &CallerCredential,
    ) -> Result<Option<String>, PkiError> {
        match credential {
            CallerCredential::None => Err(PkiError::Unauthorized(
                "enrolment needs a one-time enrolment token (authorization: Bearer) or a registrar account".into(),
            )),
            CallerCredential::Registrar { .. } => {
                self.authorise_registrar(credential).await?;
                Ok(None)
            }
            CallerCredential::Token(token) => {
                let digest = egov_signin::secret::digest(token);
                let refused = || {
                    PkiError::Unauthorized(
                        "the enrolment token is unknown, used, or bound to another subject or role"
                            .into(),
                    )
                };
                let grant = self.store.open_grant(&digest).await?.ok_or_else(refused)?;
                let wanted = match &holder.bin {
                    Some(bin) => bin.to_string(),
                    None => holder.iin.to_string(),
                };
                if role_from_key(&grant.role) != Some(holder.role) || grant.subject != wanted {
                    return Err(refused());
                }
                // An entry from before expiries existed ends its lifetime after it was first read.
                let expires_at = grant
                    .expires_at
                    .unwrap_or_else(|| grant.added_at.saturating_add(self.token_lifetime));
                if self.clock.now() >= expires_at {
                    return Err(PkiError::EnrolmentTokenExpired {
                        expired_at: expires_at,
                    });
                }
                Ok(Some(digest))
            }
        }
    }

    /// Checks the caller is a registrar whose password verifies.
    async fn authorise_registrar(&self, credential: &CallerCredential) -> Result<(), PkiError> {
        let CallerCredential::Registrar { login, password } = credential else {
            return Err(PkiError::Unauthorized(
                "only a registrar account may do this".into(),
            ));
        };
        let refused =
            || PkiError::Unauthorized("the registrar's login or password is wrong".into());
        let phc = self.store.registrar(login).await?.ok_or_else(refused)?;
        let password = password.clone();
        // argon2 takes tens of milliseconds: off the async workers.
        let verified =
            tokio::task::spawn_blocking(move || egov_signin::password::verify(&password, &phc))
                .await
                .unwrap_or(false);
        if !verified {
            return Err(refused());
        }
        Ok(())
    }

    /// Revokes a certificate issued here, for a registrar only; revocation is final.
    pub async fn revoke(
        &self,
        serial: &str,
        reason: i32,
        credential: &CallerCredential,
    ) -> Result<RevokeCertificateResponse, PkiError> {
        self.authorise_registrar(credential).await?;
        let serial = parse_serial(serial)?;
        let reason = match RevocationReason::try_from(reason) {
            Ok(RevocationReason::Unspecified) => {
                return Err(PkiError::invalid(
                    "reason",
                    "REVOCATION_REASON_UNSPECIFIED is not a reason; name why the certificate is revoked",
                ));
            }
            Ok(reason) => reason,
            Err(_) => {
                return Err(PkiError::invalid(
                    "reason",
                    format!("{reason} is not a RevocationReason"),
                ));
            }
        };
        // Whole seconds: the revocation list carries no finer time, and the
        // status answer must agree with it.
        let revoked_at = whole_seconds(self.clock.now());
        let name = reason_name(reason);
        if !self.store.revoke(&serial, revoked_at, name).await? {
            return Err(match self.store.certificate(&serial).await? {
                None => PkiError::NotFound { serial },
                Some(CertificateRecord {
                    revoked_at: Some(revoked_at),
                    ..
                }) => PkiError::AlreadyRevoked { serial, revoked_at },
                Some(_) => PkiError::Corrupt {
                    what: "certificate",
                    reason: format!("{serial} is neither revocable nor revoked"),
                },
            });
        }
        metrics::counter!("pki_certificates_revoked_total", "reason" => name).increment(1);
        tracing::info!(%serial, reason = name, "revoked a certificate");
        Ok(RevokeCertificateResponse {
            revoked_at: Some(to_timestamp(revoked_at)),
        })
    }

    /// Answers a certificate's status, as an OCSP responder would.
    pub async fn status(&self, serial: &str) -> Result<GetCertificateStatusResponse, PkiError> {
        let serial = parse_serial(serial)?;
        let record = self.store.certificate(&serial).await?;
        let produced_at = Some(to_timestamp(self.clock.now()));
        let answer = match record {
            None => GetCertificateStatusResponse {
                status: CertificateStatus::Unknown.into(),
                produced_at,
                ..Default::default()
            },
            Some(CertificateRecord {
                revoked_at: Some(revoked_at),
                revocation_reason,
                ..
            }) => GetCertificateStatusResponse {
                status: CertificateStatus::Revoked.into(),
                revoked_at: Some(to_timestamp(revoked_at)),
                reason: revocation_reason
                    .as_deref()
                    .and_then(reason_from_name)
                    .unwrap_or(RevocationReason::Unspecified)
                    .into(),
                produced_at,
            },
            Some(_) => GetCertificateStatusResponse {
                status: CertificateStatus::Good.into(),
                produced_at,
                ..Default::default()
            },
        };
        let label = match answer.status() {
            CertificateStatus::Good => "good",
            CertificateStatus::Revoked => "revoked",
            _ => "unknown",
        };
        metrics::counter!("pki_status_queries_total", "status" => label).increment(1);
        Ok(answer)
    }

    /// Returns the root and intermediate certificates.
    pub fn ca_certificates(&self) -> GetCaCertificatesResponse {
        GetCaCertificatesResponse {
            root_der: self.ca.root.certificate().der.to_vec(),
            intermediate_der: self.ca.intermediate.certificate().der.to_vec(),
        }
    }

    /// Issues a fresh revocation list (DER) of every revoked certificate, signed
    /// by the intermediate, with the next CRL number.
    pub async fn revocation_list(&self) -> Result<Vec<u8>, PkiError> {
        let revoked = self.store.revoked().await?;
        let entries = revoked
            .into_iter()
            .map(|row| {
                let serial = hex::decode(&row.serial).map_err(|err| PkiError::Corrupt {
                    what: "certificate serial",
                    reason: format!("{}: {err}", row.serial),
                })?;
                let reason = reason_from_name(&row.revocation_reason)
                    .map(rcgen_reason)
                    .unwrap_or(rcgen::RevocationReason::Unspecified);
                Ok(RevokedEntry {
                    serial,
                    revoked_at: row.revoked_at,
                    reason,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let number = self.store.next(Counter::CrlNumber).await?;
        let this_update = whole_seconds(self.clock.now());
        let der = self.ca.intermediate.revocation_list(
            &entries,
            number,
            this_update,
            this_update + CRL_LIFETIME,
        )?;
        metrics::counter!("pki_crls_issued_total").increment(1);
        Ok(der)
    }
}

/// Restores the hierarchy from its stored certificates and keys.
/// Restores the stored CA with the keys `secret` derives (as [`CaHierarchy::generate`] made
/// them); a secret that did not make this CA is refused, naming its file.
fn load_ca(stored: &StoredCa, secret: &[u8], secret_path: &Path) -> Result<CaHierarchy, PkiError> {
    let authority = |der: &[u8], label: &str| {
        CertificateAuthority::from_parts(der, KeyMaterial::derive(secret, label)).map_err(|error| {
            match error {
                AuthorityError::KeyMismatch { subject } => PkiError::Config(format!(
                    "{} did not make the CA in the database ({subject}): start the centre \
                     with the ca.secret this CA was generated from",
                    secret_path.display()
                )),
                other => other.into(),
            }
        })
    };
    let root = authority(&stored.root_der, CA_ROOT_KEY_LABEL)?;
    let intermediate = authority(&stored.intermediate_der, CA_INTERMEDIATE_KEY_LABEL)?;
    if intermediate.certificate().issuer_raw != root.certificate().subject_raw {
        return Err(PkiError::Corrupt {
            what: "CA",
            reason: format!(
                "intermediate {} is not issued by root {}",
                intermediate.certificate().subject,
                root.certificate().subject
            ),
        });
    }
    Ok(CaHierarchy { root, intermediate })
}

/// Checks every holder field of a request and builds the holder, naming the first bad field.
fn holder(request: &IssueCertificateRequest) -> Result<Holder, PkiError> {
    let surname = non_empty("surname", &request.surname)?;
    let given_name = non_empty("given_name", &request.given_name)?;
    let iin = Iin::parse(&request.iin).map_err(|err| PkiError::invalid("iin", err.to_string()))?;
    let role = match CertificateRole::try_from(request.role) {
        Ok(CertificateRole::Individual) => Role::Individual,
        Ok(CertificateRole::Employee) => Role::Employee,
        Ok(CertificateRole::RightToSign) => Role::RightToSign,
        Ok(CertificateRole::Head) => Role::Head,
        Ok(CertificateRole::LegalEntity) => Role::LegalEntity,
        Ok(CertificateRole::Unspecified) => {
            return Err(PkiError::invalid(
                "role",
                "CERTIFICATE_ROLE_UNSPECIFIED is not a role; use INDIVIDUAL, EMPLOYEE, RIGHT_TO_SIGN, HEAD or LEGAL_ENTITY",
            ));
        }
        Err(_) => {
            return Err(PkiError::invalid(
                "role",
                format!("{} is not a CertificateRole", request.role),
            ));
        }
    };
    let purpose = match KeyUsage::try_from(request.key_usage) {
        Ok(KeyUsage::Sign) => KeyPurpose::Sign,
        Ok(KeyUsage::Auth) => KeyPurpose::Auth,
        Ok(KeyUsage::Unspecified) => {
            return Err(PkiError::invalid(
                "key_usage",
                "KEY_USAGE_UNSPECIFIED is not a usage; use SIGN or AUTH",
            ));
        }
        Err(_) => {
            return Err(PkiError::invalid(
                "key_usage",
                format!("{} is not a KeyUsage", request.key_usage),
            ));
        }
    };
    let bin = request.bin.trim();
    let organization = request.organization.trim();
    let (bin, organization) = if role == Role::Individual {
        if !bin.is_empty() {
            return Err(PkiError::invalid(
                "bin",
                "an individual's certificate carries no BIN; use an organisation role",
            ));
        }
        if !organization.is_empty() {
            return Err(PkiError::invalid(
                "organization",
                "an individual's certificate names no organisation; use an organisation role",
            ));
        }
        (None, None)
    } else {
        if bin.is_empty() {
            return Err(PkiError::invalid(
                "bin",
                format!(
                    "role {} needs the organisation's BIN",
                    role_proto_name(request.role)
                ),
            ));
        }
        let bin = Bin::parse(bin).map_err(|err| PkiError::invalid("bin", err.to_string()))?;
        (
            Some(bin),
            (!organization.is_empty()).then(|| organization.to_owned()),
        )
    };
    Ok(Holder {
        surname,
        given_name,
        iin,
        bin,
        organization,
        role,
        purpose,
    })
}

/// Returns the trimmed value, refusing an empty one.
fn non_empty(field: &'static str, value: &str) -> Result<String, PkiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(PkiError::invalid(field, "must not be empty"));
    }
    Ok(value.to_owned())
}

/// Refuses a public key that does not parse or that the stack cannot verify.
fn check_public_key(der: &[u8]) -> Result<(), PkiError> {
    let spki = rcgen::SubjectPublicKeyInfo::from_der(der).map_err(|err| {
        PkiError::BadRequest(format!("not a supported SubjectPublicKeyInfo: {err}"))
    })?;
    let algorithm = spki.algorithm();
    let key_len = spki.der_bytes().len();
    let fits = if algorithm == &rcgen::PKCS_ED25519 {
        key_len == 32
    } else if algorithm == &rcgen::PKCS_ECDSA_P256_SHA256 {
        key_len == 65
    } else if algorithm == &rcgen::PKCS_RSA_SHA256 {
        key_len > 0
    } else {
        return Err(PkiError::BadRequest(format!(
            "key algorithm {algorithm:?} is not supported; use Ed25519, ECDSA P-256 or RSA"
        )));
    };
    if !fits {
        return Err(PkiError::BadRequest(format!(
            "a {algorithm:?} key of {key_len} bytes is malformed"
        )));
    }
    Ok(())
}

/// Returns the end of validity, refusing a period the issuing CA does not cover.
fn not_after(
    not_before: OffsetDateTime,
    days: u32,
    issuer: &egov_core::pki::CertificateInfo,
) -> Result<OffsetDateTime, PkiError> {
    if not_before < issuer.not_before {
        return Err(PkiError::invalid(
            "not_before",
            format!(
                "{not_before} is before the issuing CA's validity starts ({})",
                issuer.not_before
            ),
        ));
    }
    let not_after = not_before
        .checked_add(Duration::days(i64::from(days)))
        .filter(|end| *end <= issuer.not_after)
        .ok_or_else(|| {
            PkiError::invalid(
                "validity_days",
                format!(
                    "{days} days from {not_before} outlive the issuing CA, valid until {}",
                    issuer.not_after
                ),
            )
        })?;
    Ok(not_after)
}

/// Drops the fraction of a second.
fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at - Duration::nanoseconds(i64::from(at.nanosecond()))
}

/// Encodes the n-th serial: the prefix byte, then n as 8 big-endian bytes.
fn serial_bytes(n: u64) -> Vec<u8> {
    let mut serial = Vec::with_capacity(9);
    serial.push(SERIAL_PREFIX);
    serial.extend_from_slice(&n.to_be_bytes());
    serial
}

/// Normalises a hex serial to the stored form (lowercase, no leading zero bytes).
fn parse_serial(input: &str) -> Result<String, PkiError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PkiError::invalid("serial", "must not be empty"));
    }
    // Tools print serials without a leading zero nibble; pad rather than refuse.
    let padded = if trimmed.len() % 2 == 1 {
        format!("0{trimmed}")
    } else {
        trimmed.to_owned()
    };
    let bytes = hex::decode(&padded).map_err(|err| {
        PkiError::invalid("serial", format!("{input:?} is not hexadecimal: {err}"))
    })?;
    let serial = serial_hex(&bytes);
    if serial.len() / 2 > MAX_SERIAL_BYTES {
        return Err(PkiError::invalid(
            "serial",
            format!("{input:?} is longer than {MAX_SERIAL_BYTES} bytes"),
        ));
    }
    Ok(serial)
}

/// Returns the metric name of a key purpose.
fn purpose_key(purpose: KeyPurpose) -> &'static str {
    match purpose {
        KeyPurpose::Sign => "sign",
        KeyPurpose::Auth => "auth",
    }
}

/// Returns the .proto name of a role number, for messages.
fn role_proto_name(role: i32) -> String {
    CertificateRole::try_from(role)
        .map(|role| role.as_str_name().to_owned())
        .unwrap_or_else(|_| role.to_string())
}

/// Returns the RFC 5280 name of a revocation reason, as stored and as
/// [`egov_core::envelope::RevocationStatus::Revoked`] carries it.
pub(crate) fn reason_name(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::Unspecified => "unspecified",
        RevocationReason::KeyCompromise => "keyCompromise",
        RevocationReason::AffiliationChanged => "affiliationChanged",
        RevocationReason::Superseded => "superseded",
        RevocationReason::CessationOfOperation => "cessationOfOperation",
        RevocationReason::CertificateHold => "certificateHold",
    }
}

/// Returns the reason an RFC 5280 name stands for.
fn reason_from_name(name: &str) -> Option<RevocationReason> {
    [
        RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
    ]
    .into_iter()
    .find(|reason| reason_name(*reason) == name)
}

/// Returns the CRL reason code of a reason.
fn rcgen_reason(reason: RevocationReason) -> rcgen::RevocationReason {
    match reason {
        RevocationReason::Unspecified => rcgen::RevocationReason::Unspecified,
        RevocationReason::KeyCompromise => rcgen::RevocationReason::KeyCompromise,
        RevocationReason::AffiliationChanged => rcgen::RevocationReason::AffiliationChanged,
        RevocationReason::Superseded => rcgen::RevocationReason::Superseded,
        RevocationReason::CessationOfOperation => rcgen::RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold => rcgen::RevocationReason::CertificateHold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_keep_a_non_zero_positive_first_byte() {
        let serial = serial_bytes(1);
        assert_eq!(serial_hex(&serial), "010000000000000001");
        assert_eq!(serial_hex(&serial_bytes(u64::MAX)), "01ffffffffffffffff");
    }

    #[test]
    fn serials_are_normalised_from_any_case_and_leading_zeros() {
        assert_eq!(parse_serial("00010A").ok().as_deref(), Some("010a"));
        assert_eq!(parse_serial("10A").ok().as_deref(), Some("010a"));
        assert!(matches!(
            parse_serial("xyz"),
            Err(PkiError::InvalidArgument {
                field: "serial",
                ..
            })
        ));
        assert!(matches!(
            parse_serial(""),
            Err(PkiError::InvalidArgument {
                field: "serial",
                ..
            })
        ));
    }

    #[test]
    fn every_reason_name_reads_back() {
        for reason in [
            RevocationReason::KeyCompromise,
            RevocationReason::AffiliationChanged,
            RevocationReason::Superseded,
            RevocationReason::CessationOfOperation,
            RevocationReason::CertificateHold,
        ] {
            assert_eq!(reason_from_name(reason_name(reason)), Some(reason));
        }
    }
}
