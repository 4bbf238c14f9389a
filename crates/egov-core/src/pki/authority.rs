//! Issuing certificates of the profile and revocation lists: the certification
//! centre's signing side, used by the PKI service and by tests.
//!
//! Keys are Ed25519. Simulated people get key pairs derived from a seed, so a
//! test run is repeatable: the same seed and label give the same key.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SerialNumber, SubjectPublicKeyInfo,
};
use ring::digest;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use time::OffsetDateTime;

use super::{CertificateInfo, KeyPurpose, Role};
use crate::iin::{Bin, Iin};

/// Failures issuing a certificate or a revocation list.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// The key bytes are not a usable PKCS#8 key.
    #[error("key is not a valid PKCS#8 key: {0}")]
    BadKey(String),
    /// The public key bytes are not a SubjectPublicKeyInfo the stack supports.
    #[error("public key is not a supported SubjectPublicKeyInfo: {0}")]
    BadPublicKey(String),
    /// An organisation role was asked without a BIN.
    #[error("role {0} needs the organisation's BIN")]
    BinRequired(Role),
    /// The validity period is empty.
    #[error("not_after {not_after} is not after not_before {not_before}")]
    BadValidity {
        /// Start of validity.
        not_before: OffsetDateTime,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// rcgen refused the parameters.
    #[error("certificate could not be built: {0}")]
    Build(#[from] rcgen::Error),
    /// A certification request was malformed, unsigned or for another subject.
    #[error(transparent)]
    Request(#[from] super::request::RequestError),
    /// The operating system's random source failed.
    #[error("no randomness for a new key")]
    Random,
    /// The certificate rcgen built does not parse back.
    #[error(transparent)]
    Certificate(#[from] super::CertificateError),
    /// A CA's key is not the one its certificate certifies.
    #[error("the key is not the one certificate {subject} certifies")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
}

/// An Ed25519 key pair as PKCS#8 v2 DER, the form ring and rcgen both read.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print private key bytes.
        f.write_str("KeyMaterial(..)")
    }
}

impl KeyMaterial {
    /// Derives an Ed25519 key pair from a seed and a label (e.g. an IIN and a
    /// purpose): the same inputs always give the same key.
    pub fn derive(seed: &[u8], label: &str) -> KeyMaterial {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(b"egov-stack key derivation v1\0");
        ctx.update(&(seed.len() as u64).to_be_bytes());
        ctx.update(seed);
        ctx.update(label.as_bytes());
        let secret = ctx.finish();
        KeyMaterial::from_ed25519_seed(secret.as_ref())
    }

    /// Generates a fresh random Ed25519 key pair: how a holder makes its own key.
    pub fn generate() -> Result<KeyMaterial, AuthorityError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| AuthorityError::Random)?;
        KeyMaterial::from_pkcs8(pkcs8.as_ref())
    }

    /// Builds PKCS#8 v2 (RFC 8410, with the public key) from a 32-byte Ed25519 seed.
    fn from_ed25519_seed(secret: &[u8]) -> KeyMaterial {
        // from_seed_unchecked only fails on a wrong length, and a SHA-256 digest is 32 bytes.
        let public = Ed25519KeyPair::from_seed_unchecked(secret)
            .map(|pair| pair.public_key().as_ref().to_vec())
            .unwrap_or_default();
        let mut pkcs8 = Vec::with_capacity(83);
        pkcs8.extend_from_slice(&[
            0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ]);
        pkcs8.extend_from_slice(secret);
        pkcs8.extend_from_slice(&[0x81, 0x21, 0x00]);
        pkcs8.extend_from_slice(&public);
        KeyMaterial { pkcs8 }
    }

    /// Wraps existing PKCS#8 bytes, checking that they hold an Ed25519 key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<KeyMaterial, AuthorityError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|err| AuthorityError::BadKey(err.to_string()))?;
        Ok(KeyMaterial {
            pkcs8: pkcs8.to_vec(),
        })
    }

    /// Returns the PKCS#8 DER.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    fn rcgen_key(&self) -> Result<KeyPair, AuthorityError> {
        KeyPair::try_from(self.pkcs8.as_slice())
            .map_err(|err| AuthorityError::BadKey(err.to_string()))
    }

    /// Returns the SubjectPublicKeyInfo DER of the key.
    pub fn public_key_der(&self) -> Result<Vec<u8>, AuthorityError> {
        use rcgen::PublicKeyData;
        Ok(self.rcgen_key()?.subject_public_key_info())
    }
}

/// Who a certificate is issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Surname (SURNAME).
    pub surname: String,
    /// Given name (GIVENNAME).
    pub given_name: String,
    /// The holder's IIN (SERIALNUMBER=IIN…).
    pub iin: Iin,
    /// The organisation's BIN (OU=BIN…), for organisation roles.
    pub bin: Option<Bin>,
    /// The organisation's name (O), for organisation roles.
    pub organization: Option<String>,
    /// The holder's role.
    pub role: Role,
    /// SIGN or AUTH.
    pub purpose: KeyPurpose,
}

impl Holder {
    /// Returns the label that derives this holder's key from a seed.
    pub fn key_label(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.iin,
            self.bin.as_ref().map(Bin::as_str).unwrap_or("-"),
            self.role,
            self.purpose
        )
    }
}

/// A certification authority: its certificate and key, able to issue
/// end-entity or subordinate certificates and revocation lists.
pub struct CertificateAuthority {
    certificate: CertificateInfo,
    key: KeyMaterial,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("subject", &self.certificate.subject)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// Creates a self-signed root CA.
    pub fn new_root(
        common_name: &str,
        key: KeyMaterial,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<CertificateAuthority, AuthorityError> {
        let params = ca_params(common_name, None, not_before, not_after)?;
        let signing_key = key.rcgen_key()?;
        let der = params.self_signed(&signing_key)?.der().to_vec();
        Self::from_parts(&der, key)
    }

    /// Creates a subordinate CA signed by this one.
    pub fn new_subordinate(
        &self,
        common_name: &str,
        key: KeyMaterial,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<CertificateAuthority, AuthorityError> {
        let params = ca_params(common_name, Some(0), not_before, not_after)?;
        let der = params
            .signed_by(&key.rcgen_key()?, &self.issuer)?
            .der()
            .to_vec();
        Self::from_parts(&der, key)
    }

    /// Restores an authority from its stored certificate and key.
    pub fn from_parts(
        certificate_der: &[u8],
        key: KeyMaterial,
    ) -> Result<CertificateAuthority, AuthorityError> {
        let certificate = CertificateInfo::from_der(certificate_der)?;
        // A wrong key would issue certificates that fail every verification, far from here.
        if key.public_key_der()? != certificate.spki_der {
            return Err(AuthorityError::KeyMismatch {
                subject: certificate.subject,
            });
        }
        let issuer = Issuer::from_ca_cert_der(&certificate_der.into(), key.rcgen_key()?)?;
        Ok(CertificateAuthority {
            certificate,
            key,
            issuer,
        })
    }

    /// Returns the authority's own certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }

    /// Returns the authority's key.
    pub fn key(&self) -> &KeyMaterial {
        &self.key
    }

    /// Issues an end-entity certificate of the profile for a holder's public
    /// key (SubjectPublicKeyInfo DER), with the given serial number.
    pub fn issue(
        &self,
        holder: &Holder,
        public_key_der: &[u8],
        serial: &[u8],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<CertificateInfo, AuthorityError> {
        if not_after <= not_before {
            return Err(AuthorityError::BadValidity {
                not_before,
                not_after,
            });
        }
        let organisation_role = holder.role != Role::Individual;
        if organisation_role && holder.bin.is_none() {
            return Err(AuthorityError::BinRequired(holder.role));
        }
        let public_key = SubjectPublicKeyInfo::from_der(public_key_der)
            .map_err(|err| AuthorityError::BadPublicKey(err.to_string()))?;

        let name = super::request::subject_name(holder);

        let mut params = CertificateParams::default();
        params.distinguished_name = name;
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        match holder.purpose {
            KeyPurpose::Sign => {
                params.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::ContentCommitment,
                ];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
            }
            KeyPurpose::Auth => {
                params.key_usages = vec![
                    KeyUsagePurpose::DigitalSignature,
                    KeyUsagePurpose::KeyEncipherment,
                ];
                params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
        }
        params
            .custom_extensions
            .push(certificate_policies(&Role::policies_for(holder.role)));

        let der = params.signed_by(&public_key, &self.issuer)?.der().to_vec();
        Ok(CertificateInfo::from_der(&der)?)
    }

    /// Issues an end-entity certificate for a PKCS#10 request: the request's signature must
    /// verify with the key it carries and its subject must be exactly `holder`'s.
    pub fn issue_requested(
        &self,
        holder: &Holder,
        certification_request_der: &[u8],
        serial: &[u8],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<CertificateInfo, AuthorityError> {
        let request = super::request::CertificationRequest::parse(certification_request_der)?;
        request.check_subject(holder)?;
        self.issue(
            holder,
            &request.public_key_der,
            serial,
            not_before,
            not_after,
        )
    }

    /// Issues a revocation list (CRL) naming the revoked serials.
    pub fn revocation_list(
        &self,
        revoked: &[RevokedEntry],
        crl_number: u64,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<Vec<u8>, AuthorityError> {
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from_slice(&crl_number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|entry| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&entry.serial),
                    revocation_time: entry.revoked_at,
                    reason_code: Some(entry.reason),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }
}

/// One revoked certificate, as a revocation list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number bytes.
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: rcgen::RevocationReason,
}

fn ca_params(
    common_name: &str,
    path_len: Option<u8>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<CertificateParams, AuthorityError> {
    if not_after <= not_before {
        return Err(AuthorityError::BadValidity {
            not_before,
            not_after,
        });
    }
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, "KZ");
    name.push(DnType::CommonName, common_name);
    let mut params = CertificateParams::default();
    params.distinguished_name = name;
    params.not_before = not_before;
    params.not_after = not_after;
    params.is_ca = IsCa::Ca(match path_len {
        Some(len) => BasicConstraints::Constrained(len),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.use_authority_key_identifier_extension = path_len.is_some();
    let digest = digest::digest(&digest::SHA256, common_name.as_bytes());
    params.serial_number = Some(SerialNumber::from_slice(&digest.as_ref()[..16]));
    Ok(params)
}

/// Encodes the certificatePolicies extension (RFC 5280 4.2.1.4) for the roles.
fn certificate_policies(roles: &[Role]) -> CustomExtension {
    let content = yasna::construct_der(|writer| {
        writer.write_sequence_of(|writer| {
            for role in roles {
                writer.next().write_sequence(|writer| {
                    writer
                        .next()
                        .write_oid(&yasna::models::ObjectIdentifier::from_slice(role.oid()));
                });
            }
        });
    });
    CustomExtension::from_oid_content(&[2, 5, 29, 32], content)
}

/// The certification centre's two-level hierarchy: a root that signs only an
/// intermediate, which issues every end-entity certificate.
#[derive(Debug)]
pub struct CaHierarchy {
    /// The self-signed root, the trust anchor of every verifier.
    pub root: CertificateAuthority,
    /// The issuing intermediate.
    pub intermediate: CertificateAuthority,
}

/// An issued certificate with its key and the chain a signer attaches.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The certificate.
    pub certificate: CertificateInfo,
    /// The private key.
    pub key: KeyMaterial,
    /// DER chain for signing: the certificate, then the intermediate.
    pub chain: Vec<Vec<u8>>,
}

/// The label [`CaHierarchy::generate`] derives the root's key with from its seed.
pub const CA_ROOT_KEY_LABEL: &str = "ca/root";

/// The label [`CaHierarchy::generate`] derives the issuing intermediate's key with.
pub const CA_INTERMEDIATE_KEY_LABEL: &str = "ca/intermediate";

impl CaHierarchy {
    /// Generates a hierarchy whose keys derive from a seed, valid for the period.
    pub fn generate(
        seed: &[u8],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<CaHierarchy, AuthorityError> {
        let root = CertificateAuthority::new_root(
            "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (ROOT CA, egov-stack)",
            KeyMaterial::derive(seed, CA_ROOT_KEY_LABEL),
            not_before,
            not_after,
        )?;
        let intermediate = root.new_subordinate(
            "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (ISSUING CA, egov-stack)",
            KeyMaterial::derive(seed, CA_INTERMEDIATE_KEY_LABEL),
            not_before,
            not_after,
        )?;
        Ok(CaHierarchy { root, intermediate })
    }

    /// Issues a certificate for a holder whose key derives from `seed`, the way a holder
    /// enrols: the key is made on the holder's side and only its signed request reaches the CA.
    pub fn issue_derived(
        &self,
        holder: &Holder,
        seed: &[u8],
        serial: &[u8],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Credential, AuthorityError> {
        let key = KeyMaterial::derive(seed, &holder.key_label());
        let request = super::request::build(holder, &key)?;
        let certificate = self
            .intermediate
            .issue_requested(holder, &request, serial, not_before, not_after)?;
        let chain = vec![
            certificate.der.to_vec(),
            self.intermediate.certificate().der.to_vec(),
        ];
        Ok(Credential {
            certificate,
            key,
            chain,
        })
    }
}
