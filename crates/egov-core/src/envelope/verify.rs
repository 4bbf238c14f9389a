//! Verifying envelopes: signature value, digests, validity at the message
//! time, issuer chain to a trusted root, key usage, revocation, role and the
//! identity rule of the flow. Each failure is its own [`VerifyError`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use egov_proto::v1::{Envelope, Header, Signature, SignatureAlgorithm};
use prost::Message;
use ring::{digest, signature};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::batch::{self, Ed25519Batcher};
use super::revocation::{RevocationError, RevocationSource, RevocationStatus};
use super::{from_timestamp, sha256, signed_bytes};
use crate::iin::{Bin, Iin};
use crate::pki::{CertificateError, CertificateInfo, KeyAlgorithm, KeyPurpose, Role};
use crate::status::StatusCode;

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The envelope bytes do not decode.
    #[error("envelope does not decode: {0}")]
    MalformedEnvelope(String),
    /// The header bytes do not decode.
    #[error("header does not decode: {0}")]
    MalformedHeader(String),
    /// The header has no message time (certificates are checked at it).
    #[error("header has no valid message_time")]
    MissingMessageTime,
    /// The envelope carries no signature.
    #[error("envelope carries no signature")]
    SignatureMissing,
    /// The signature names an algorithm the stack does not know.
    #[error("signature {index} has unknown algorithm {value}")]
    UnknownAlgorithm {
        /// Position of the signature.
        index: usize,
        /// The algorithm number found.
        value: i32,
    },
    /// The signature's algorithm does not fit the certificate's key.
    #[error("signature algorithm {algorithm} does not fit the certificate's {key:?} key")]
    AlgorithmMismatch {
        /// The algorithm named.
        algorithm: String,
        /// The certificate's key algorithm.
        key: KeyAlgorithm,
    },
    /// The signature carries no certificate.
    #[error("signature {index} carries no certificate")]
    MissingCertificate {
        /// Position of the signature.
        index: usize,
    },
    /// A certificate of the chain does not parse.
    #[error("certificate {index} of the chain: {source}")]
    CertificateParse {
        /// Position in the chain (0 = signer).
        index: usize,
        /// What failed.
        source: CertificateError,
    },
    /// A digest field is not 32 bytes.
    #[error("{field} is {len} bytes, expected 32")]
    MalformedDigest {
        /// Which digest.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// The signature value has the wrong length for its algorithm.
    #[error("signature value is {found} bytes, expected {expected}")]
    TruncatedSignature {
        /// Length the algorithm needs.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The signature value does not verify with the certificate's key.
    #[error("signature value does not verify with the key of certificate {serial}")]
    BadSignatureValue {
        /// Serial of the signer's certificate.
        serial: String,
    },
    /// The header bytes differ from the ones signed.
    #[error("header was changed after signing (digest differs)")]
    TamperedHeader,
    /// The payload bytes differ from the ones signed.
    #[error("payload was changed after signing (digest differs)")]
    TamperedPayload,
    /// A certificate of the chain is not yet valid at the time it is judged at.
    #[error("certificate {subject} is not valid before {not_before}, judged at {at}")]
    CertificateNotYetValid {
        /// Subject of the certificate.
        subject: String,
        /// Start of its validity.
        not_before: OffsetDateTime,
        /// The time it was judged at.
        at: OffsetDateTime,
    },
    /// A certificate of the chain has expired at the time it is judged at.
    #[error("certificate {subject} expired at {not_after}, judged at {at}")]
    CertificateExpired {
        /// Subject of the certificate.
        subject: String,
        /// End of its validity.
        not_after: OffsetDateTime,
        /// The time it was judged at.
        at: OffsetDateTime,
    },
    /// The chain does not end at a trusted root.
    #[error("certificate chain is not trusted: {0}")]
    UntrustedChain(String),
    /// The chain breaks the profile: an issuer that is not a CA or lacks
    /// keyCertSign, a path longer than an issuer's pathLenConstraint, or a
    /// signer that is itself a CA.
    #[error("certificate chain is invalid: {0}")]
    InvalidChain(String),
    /// The signer's certificate is revoked.
    #[error("certificate {serial} was revoked at {revoked_at}: {reason}")]
    Revoked {
        /// Serial of the certificate.
        serial: String,
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: String,
    },
    /// The certification centre does not know the certificate.
    #[error("certificate {serial} is unknown to the certification centre")]
    RevocationUnknown {
        /// Serial of the certificate.
        serial: String,
    },
    /// The revocation status could not be had.
    #[error(transparent)]
    RevocationUnavailable(#[from] RevocationError),
    /// The key is an authentication (AUTH) key, not a signing key.
    #[error("certificate {serial} is an AUTH key, not a signing (SIGN) key")]
    KeyNotForSigning {
        /// Serial of the certificate.
        serial: String,
    },
    /// The certificate lacks the role the flow requires.
    #[error("certificate lacks the {required} role (has: {found})")]
    RoleMissing {
        /// The role required.
        required: Role,
        /// The roles found, comma separated.
        found: String,
    },
    /// The IIN in the request differs from the certificate's SERIALNUMBER.
    #[error("IIN in request {request} does not match the certificate's SERIALNUMBER {certificate}")]
    IinMismatch {
        /// The IIN the request names.
        request: String,
        /// The IIN the certificate names (or "none").
        certificate: String,
    },
    /// The organisation's BIN differs from the certificate's OU.
    #[error("BIN {expected} does not match the certificate's OU {certificate}")]
    BinMismatch {
        /// The BIN expected.
        expected: String,
        /// The BIN the certificate names (or "none").
        certificate: String,
    },
}

impl VerifyError {
    /// Returns the status code this refusal is reported with.
    pub fn status(&self) -> StatusCode {
        use VerifyError::*;
        match self {
            MalformedEnvelope(_) | MalformedHeader(_) | MissingMessageTime => {
                StatusCode::MalformedMessage
            }
            SignatureMissing => StatusCode::SignatureMissing,
            UnknownAlgorithm { .. }
            | AlgorithmMismatch { .. }
            | MalformedDigest { .. }
            | TruncatedSignature { .. }
            | BadSignatureValue { .. }
            | TamperedHeader
            | TamperedPayload => StatusCode::InvalidSignature,
            MissingCertificate { .. }
            | CertificateParse { .. }
            | UntrustedChain(_)
            | RevocationUnknown { .. } => StatusCode::CertificateUntrusted,
            CertificateNotYetValid { .. } | CertificateExpired { .. } => {
                StatusCode::CertificateExpired
            }
            Revoked { .. } => StatusCode::CertificateRevoked,
            InvalidChain(_) => StatusCode::CertificateChainInvalid,
            RevocationUnavailable(_) => StatusCode::PkiUnavailable,
            KeyNotForSigning { .. } | RoleMissing { .. } => StatusCode::CertificateNotAuthorized,
            IinMismatch { .. } | BinMismatch { .. } => StatusCode::IinMismatch,
        }
    }
}

/// Whose identity the signer's certificate must prove.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IdentityRule {
    /// No identity check beyond a trusted chain.
    #[default]
    Any,
    /// The header's `user_iin` must equal the certificate's IIN (the portal rule).
    HeaderUserIin,
    /// The certificate's IIN must be this one.
    Iin(Iin),
    /// The certificate's OU must carry this BIN (an organisation's system or employee).
    Bin(Bin),
}

/// What a receiver requires of the sender's signature beyond its validity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyPolicy {
    /// A role the sender's certificate must carry.
    pub required_role: Option<Role>,
    /// The identity rule.
    pub identity: IdentityRule,
}

impl VerifyPolicy {
    /// Requires only a valid signature with a trusted, unrevoked SIGN certificate.
    pub fn any() -> VerifyPolicy {
        VerifyPolicy::default()
    }

    /// Requires a role.
    pub fn with_role(mut self, role: Role) -> VerifyPolicy {
        self.required_role = Some(role);
        self
    }

    /// Requires an identity.
    pub fn with_identity(mut self, identity: IdentityRule) -> VerifyPolicy {
        self.identity = identity;
        self
    }
}

/// A verified envelope's header and its sender's certificate.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The decoded header.
    pub header: Header,
    /// The message time.
    pub message_time: OffsetDateTime,
    /// The first (author's) signature's certificate.
    pub signer: Arc<CertificateInfo>,
    /// Every signature's certificate, in order (the author first, then countersigners).
    pub signers: Vec<Arc<CertificateInfo>>,
}

impl Verified {
    /// Returns whether any signer's certificate carries this BIN (the sending system's seal).
    pub fn signed_by_bin(&self, bin: &Bin) -> bool {
        self.signers
            .iter()
            .any(|signer| signer.bin.as_ref() == Some(bin))
    }
}

/// A chain checked once and cached: leaf first, up to and including the root.
#[derive(Debug)]
struct TrustedChain {
    certificates: Vec<Arc<CertificateInfo>>,
    /// The signer's Ed25519 key, decompressed once for the chain's lifetime in the cache.
    ed25519: Option<Ed25519Key>,
}

/// A decompressed Ed25519 key and whether its signatures may be batched.
#[derive(Debug)]
struct Ed25519Key {
    key: ed25519_dalek::VerifyingKey,
    /// Decided once per key, as the check costs a scalar multiplication.
    batchable: bool,
}

impl TrustedChain {
    fn new(certificates: Vec<Arc<CertificateInfo>>) -> TrustedChain {
        let ed25519 = certificates
            .first()
            .filter(|leaf| leaf.key_algorithm == KeyAlgorithm::Ed25519)
            .and_then(|leaf| <[u8; 32]>::try_from(leaf.public_key.as_slice()).ok())
            .and_then(|key| ed25519_dalek::VerifyingKey::from_bytes(&key).ok())
            .map(|key| Ed25519Key {
                batchable: batch::batchable(&key),
                key,
            });
        TrustedChain {
            certificates,
            ed25519,
        }
    }
}

/// Verifies envelopes against a set of trusted roots and a revocation source.
///
/// Chains are checked once and cached by the digest of their bytes, so the
/// per-message cost is the signature value, two digests and a cache look-up.
#[derive(Debug)]
pub struct Verifier<R> {
    roots: Vec<CertificateInfo>,
    revocation: R,
    // A std RwLock: held for a look-up or an insert only, never across an await.
    chains: RwLock<HashMap<[u8; 32], Arc<TrustedChain>>>,
    max_chains: usize,
    ed25519: Ed25519Batcher,
}

impl<R: RevocationSource> Verifier<R> {
    /// Creates a verifier that trusts these root certificates.
    pub fn new(roots: Vec<CertificateInfo>, revocation: R) -> Verifier<R> {
        Verifier {
            roots,
            revocation,
            chains: RwLock::new(HashMap::new()),
            max_chains: 10_000,
            ed25519: Ed25519Batcher::default(),
        }
    }

    /// Returns the revocation source.
    pub fn revocation(&self) -> &R {
        &self.revocation
    }

    /// Decodes envelope bytes and verifies them.
    pub async fn verify_bytes(
        &self,
        bytes: &[u8],
        policy: &VerifyPolicy,
    ) -> Result<(Envelope, Verified), VerifyError> {
        let envelope = Envelope::decode(bytes)
            .map_err(|err| VerifyError::MalformedEnvelope(err.to_string()))?;
        let verified = self.verify(&envelope, policy).await?;
        Ok((envelope, verified))
    }

    /// Verifies every signature of an envelope, then applies the policy to the
    /// first (the sender's); certificates are judged at the message time.
    pub async fn verify(
        &self,
        envelope: &Envelope,
        policy: &VerifyPolicy,
    ) -> Result<Verified, VerifyError> {
        self.verify_judged(envelope, policy, None).await
    }

    /// Verifies like [`Verifier::verify`], judging the certificates' validity
    /// at `at` (the verifier's own clock) instead of the sender's message time,
    /// which the sender chose.
    pub async fn verify_at(
        &self,
        envelope: &Envelope,
        policy: &VerifyPolicy,
        at: OffsetDateTime,
    ) -> Result<Verified, VerifyError> {
        self.verify_judged(envelope, policy, Some(at)).await
    }

    async fn verify_judged(
        &self,
        envelope: &Envelope,
        policy: &VerifyPolicy,
        at: Option<OffsetDateTime>,
    ) -> Result<Verified, VerifyError> {
        if envelope.signatures.is_empty() {
            return Err(VerifyError::SignatureMissing);
        }
        let header = Header::decode(&envelope.header[..])
            .map_err(|err| VerifyError::MalformedHeader(err.to_string()))?;
        let message_time = header
            .message_time
            .as_ref()
            .and_then(from_timestamp)
            .ok_or(VerifyError::MissingMessageTime)?;

        let judged_at = at.unwrap_or(message_time);
        let mut signers = Vec::with_capacity(envelope.signatures.len());
        for (index, sig) in envelope.signatures.iter().enumerate() {
            signers.push(
                self.verify_signature(index, sig, envelope, judged_at)
                    .await?,
            );
        }
        let signer = signers
            .first()
            .cloned()
            .ok_or(VerifyError::SignatureMissing)?;
        check_policy(&signer, &header, policy)?;
        Ok(Verified {
            header,
            message_time,
            signer,
            signers,
        })
    }

    async fn verify_signature(
        &self,
        index: usize,
        sig: &Signature,
        envelope: &Envelope,
        at: OffsetDateTime,
    ) -> Result<Arc<CertificateInfo>, VerifyError> {
        let algorithm = SignatureAlgorithm::try_from(sig.algorithm)
            .ok()
            .filter(|alg| *alg != SignatureAlgorithm::Unspecified)
            .ok_or(VerifyError::UnknownAlgorithm {
                index,
                value: sig.algorithm,
            })?;
        if sig.certificate_chain.is_empty() {
            return Err(VerifyError::MissingCertificate { index });
        }
        for (field, digest) in [
            ("header_sha256", &sig.header_sha256),
            ("payload_sha256", &sig.payload_sha256),
        ] {
            if digest.len() != 32 {
                return Err(VerifyError::MalformedDigest {
                    field,
                    len: digest.len(),
                });
            }
        }

        let chain = self.trusted_chain(&sig.certificate_chain)?;
        let leaf = chain.certificates[0].clone();

        check_signature_value(algorithm, &leaf, chain.ed25519.as_ref(), sig, &self.ed25519).await?;
        if sha256(&envelope.header) != sig.header_sha256[..] {
            return Err(VerifyError::TamperedHeader);
        }
        if sha256(&envelope.payload) != sig.payload_sha256[..] {
            return Err(VerifyError::TamperedPayload);
        }
        for cert in &chain.certificates {
            if at < cert.not_before {
                return Err(VerifyError::CertificateNotYetValid {
                    subject: cert.subject.clone(),
                    not_before: cert.not_before,
                    at,
                });
            }
            if at > cert.not_after {
                return Err(VerifyError::CertificateExpired {
                    subject: cert.subject.clone(),
                    not_after: cert.not_after,
                    at,
                });
            }
        }
        if leaf.purpose != Some(KeyPurpose::Sign) {
            return Err(VerifyError::KeyNotForSigning {
                serial: leaf.serial.clone(),
            });
        }
        match self.revocation.status(&leaf).await? {
            RevocationStatus::Good => {}
            RevocationStatus::Revoked { revoked_at, reason } => {
                return Err(VerifyError::Revoked {
                    serial: leaf.serial.clone(),
                    revoked_at,
                    reason,
                });
            }
            RevocationStatus::Unknown => {
                return Err(VerifyError::RevocationUnknown {
                    serial: leaf.serial.clone(),
                });
            }
        }
        Ok(leaf)
    }

    /// Returns the chain from the cache, or checks it up to a trusted root and caches it.
    fn trusted_chain(&self, chain_der: &[Bytes]) -> Result<Arc<TrustedChain>, VerifyError> {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for der in chain_der {
            ctx.update(&(der.len() as u64).to_be_bytes());
            ctx.update(der);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(ctx.finish().as_ref());
        if let Some(chain) = self.chains.read().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(chain);
        }
        let chain = Arc::new(self.check_chain(chain_der)?);
        if let Ok(mut chains) = self.chains.write() {
            if chains.len() >= self.max_chains {
                chains.clear();
            }
            chains.insert(key, chain.clone());
        }
        Ok(chain)
    }

    fn check_chain(&self, chain_der: &[Bytes]) -> Result<TrustedChain, VerifyError> {
        let mut parsed = Vec::with_capacity(chain_der.len());
        for (index, der) in chain_der.iter().enumerate() {
            let (rest, cert) =
                X509Certificate::from_der(der).map_err(|err| VerifyError::CertificateParse {
                    index,
                    source: CertificateError::Parse(err.to_string()),
                })?;
            if !rest.is_empty() {
                return Err(VerifyError::CertificateParse {
                    index,
                    source: CertificateError::TrailingBytes(rest.len()),
                });
            }
            let info = CertificateInfo::from_parsed(der, &cert)
                .map_err(|source| VerifyError::CertificateParse { index, source })?;
            parsed.push((cert, info));
        }

        if let Some((_, signer)) = parsed.first()
            && signer.is_ca
        {
            return Err(VerifyError::InvalidChain(format!(
                "signer {} is a CA, whose key signs certificates, not messages",
                signer.subject
            )));
        }
        let mut certificates = Vec::with_capacity(parsed.len() + 1);
        for (index, (cert, info)) in parsed.iter().enumerate() {
            if let Some(root) = self.roots.iter().find(|root| *root.der == *info.der) {
                // The sender attached a trusted root itself: the chain ends here.
                check_issuer(root, index)?;
                certificates.push(Arc::new(root.clone()));
                return Ok(TrustedChain::new(certificates));
            }
            if index > 0 {
                check_issuer(info, index)?;
            }
            let issuer_spki_der = match parsed.get(index + 1) {
                Some((_, issuer)) if issuer.subject_raw == info.issuer_raw => {
                    issuer.spki_der.clone()
                }
                Some((_, issuer)) => {
                    return Err(VerifyError::UntrustedChain(format!(
                        "certificate {} is not issued by the next one, {}",
                        info.subject, issuer.subject
                    )));
                }
                None => {
                    let root = self
                        .roots
                        .iter()
                        .find(|root| root.subject_raw == info.issuer_raw)
                        .ok_or_else(|| {
                            VerifyError::UntrustedChain(format!(
                                "no trusted root named {}",
                                info.issuer
                            ))
                        })?;
                    certificates.push(Arc::new(info.clone()));
                    verify_issued_by(cert, &root.spki_der, &info.subject)?;
                    check_issuer(root, index + 1)?;
                    certificates.push(Arc::new(root.clone()));
                    return Ok(TrustedChain::new(certificates));
                }
            };
            verify_issued_by(cert, &issuer_spki_der, &info.subject)?;
            certificates.push(Arc::new(info.clone()));
        }
        Err(VerifyError::UntrustedChain(
            "chain does not reach a trusted root".into(),
        ))
    }
}

/// Checks a certificate at `position` in the chain (the signer is 0) as an
/// issuer: a CA allowed to sign certificates, with a pathLenConstraint that
/// admits the `position - 1` intermediate CAs below it.
fn check_issuer(issuer: &CertificateInfo, position: usize) -> Result<(), VerifyError> {
    if !issuer.is_ca {
        return Err(VerifyError::InvalidChain(format!(
            "issuer {} is not a CA (basicConstraints)",
            issuer.subject
        )));
    }
    if !issuer.key_cert_sign {
        return Err(VerifyError::InvalidChain(format!(
            "issuer {} may not sign certificates (no keyCertSign)",
            issuer.subject
        )));
    }
    let below = position.saturating_sub(1);
    if let Some(limit) = issuer.path_len
        && below > usize::try_from(limit).unwrap_or(usize::MAX)
    {
        return Err(VerifyError::InvalidChain(format!(
            "issuer {} allows {limit} CAs below it, the chain has {below}",
            issuer.subject
        )));
    }
    Ok(())
}

fn verify_issued_by(
    cert: &X509Certificate<'_>,
    issuer_spki_der: &[u8],
    subject: &str,
) -> Result<(), VerifyError> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(issuer_spki_der)
        .map_err(|err| VerifyError::UntrustedChain(format!("issuer key does not parse: {err}")))?;
    cert.verify_signature(Some(&spki)).map_err(|_| {
        VerifyError::UntrustedChain(format!(
            "signature on certificate {subject} does not verify with its issuer's key"
        ))
    })
}

async fn check_signature_value(
    algorithm: SignatureAlgorithm,
    leaf: &CertificateInfo,
    ed25519: Option<&Ed25519Key>,
    sig: &Signature,
    batcher: &Ed25519Batcher,
) -> Result<(), VerifyError> {
    let (verification, expected_len): (&dyn signature::VerificationAlgorithm, Option<usize>) =
        match (algorithm, leaf.key_algorithm) {
            (SignatureAlgorithm::Ed25519, KeyAlgorithm::Ed25519) => (&signature::ED25519, Some(64)),
            (SignatureAlgorithm::EcdsaP256Sha256, KeyAlgorithm::EcdsaP256) => {
                (&signature::ECDSA_P256_SHA256_FIXED, Some(64))
            }
            (SignatureAlgorithm::RsaPkcs1Sha256, KeyAlgorithm::Rsa) => {
                (&signature::RSA_PKCS1_2048_8192_SHA256, None)
            }
            (alg, key) => {
                return Err(VerifyError::AlgorithmMismatch {
                    algorithm: alg.as_str_name().to_owned(),
                    key,
                });
            }
        };
    if let Some(expected) = expected_len
        && sig.value.len() != expected
    {
        return Err(VerifyError::TruncatedSignature {
            expected,
            found: sig.value.len(),
        });
    }
    let message = signed_bytes(&sig.header_sha256, &sig.payload_sha256);
    let bad_value = || VerifyError::BadSignatureValue {
        serial: leaf.serial.clone(),
    };
    if algorithm == SignatureAlgorithm::Ed25519 {
        // ed25519-dalek verifies about a third faster than ring here; strict
        // verification refuses the malleable encodings ring refuses too.
        let key = ed25519.ok_or_else(bad_value)?;
        let value = <[u8; 64]>::try_from(&sig.value[..]).map_err(|_| bad_value())?;
        let value = ed25519_dalek::Signature::from_bytes(&value);
        let valid = if key.batchable {
            batcher.verify(&key.key, message, value).await
        } else {
            key.key.verify_strict(&message, &value).is_ok()
        };
        return if valid { Ok(()) } else { Err(bad_value()) };
    }
    signature::UnparsedPublicKey::new(verification, &leaf.public_key)
        .verify(&message, &sig.value)
        .map_err(|_| VerifyError::BadSignatureValue {
            serial: leaf.serial.clone(),
        })
}

fn check_policy(
    signer: &CertificateInfo,
    header: &Header,
    policy: &VerifyPolicy,
) -> Result<(), VerifyError> {
    if let Some(required) = policy.required_role
        && !signer.has_role(required)
    {
        let found: Vec<String> = signer.roles.iter().map(Role::to_string).collect();
        return Err(VerifyError::RoleMissing {
            required,
            found: if found.is_empty() {
                "none".into()
            } else {
                found.join(", ")
            },
        });
    }
    let certificate_iin = || {
        signer
            .iin
            .as_ref()
            .map_or_else(|| "none".to_owned(), Iin::to_string)
    };
    match &policy.identity {
        IdentityRule::Any => Ok(()),
        IdentityRule::HeaderUserIin => {
            if signer.iin.as_ref().map(Iin::as_str) == Some(header.user_iin.as_str()) {
                Ok(())
            } else {
                Err(VerifyError::IinMismatch {
                    request: header.user_iin.clone(),
                    certificate: certificate_iin(),
                })
            }
        }
        IdentityRule::Iin(expected) => {
            if signer.iin.as_ref() == Some(expected) {
                Ok(())
            } else {
                Err(VerifyError::IinMismatch {
                    request: expected.to_string(),
                    certificate: certificate_iin(),
                })
            }
        }
        IdentityRule::Bin(expected) => {
            if signer.bin.as_ref() == Some(expected) {
                Ok(())
            } else {
                Err(VerifyError::BinMismatch {
                    expected: expected.to_string(),
                    certificate: signer
                        .bin
                        .as_ref()
                        .map_or_else(|| "none".to_owned(), Bin::to_string),
                })
            }
        }
    }
}
