//! Kazakhstan's PKI certificate profile (ҰКО / НУЦ): who a certificate names,
//! which role it carries and what its key may do.
//!
//! A person's certificate carries `SERIALNUMBER=IIN<iin>`; an organisation
//! employee's also carries `OU=BIN<bin>`. Roles are certificate policy OIDs
//! under 1.2.398.3.3.4.1, and a signing (SIGN) key has nonRepudiation where an
//! authentication (AUTH) key has keyEncipherment instead.
//!
//! # Layout
//! - [`Role`], [`KeyPurpose`]: the profile's vocabulary and its OIDs.
//! - [`CertificateInfo`]: an owned, parsed certificate with the profile's fields.
//! - [`authority`]: issuing certificates and revocation lists, deriving key pairs.
//! - [`request`]: PKCS#10 certification requests, built by the holder and checked by the centre.

pub mod authority;
pub mod request;

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::iin::{Bin, Iin};

/// OID of the individual role (физическое лицо).
pub const OID_INDIVIDUAL: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 1];
/// OID of the legal-entity role (юридическое лицо).
pub const OID_LEGAL_ENTITY: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2];
/// OID of the head of a legal entity (первый руководитель).
pub const OID_HEAD: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2, 1];
/// OID of an employee with the right to sign (право подписи).
pub const OID_RIGHT_TO_SIGN: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2, 2];
/// OID of an employee (сотрудник организации).
pub const OID_EMPLOYEE: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2, 5];
/// OID of the X.520 serialNumber attribute, which carries `IIN<iin>`.
pub const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// OID of the X.520 surname attribute.
pub const OID_SURNAME: &[u64] = &[2, 5, 4, 4];
/// OID of the X.520 givenName attribute.
pub const OID_GIVEN_NAME: &[u64] = &[2, 5, 4, 42];

/// A holder role, as a certificate policy OID marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An individual acting for themself (1.2.398.3.3.4.1.1).
    Individual,
    /// Any holder acting for a legal entity (1.2.398.3.3.4.1.2).
    LegalEntity,
    /// The head of the legal entity (1.2.398.3.3.4.1.2.1).
    Head,
    /// An employee with the right to sign (1.2.398.3.3.4.1.2.2).
    RightToSign,
    /// An employee (1.2.398.3.3.4.1.2.5).
    Employee,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Individual,
        Role::LegalEntity,
        Role::Head,
        Role::RightToSign,
        Role::Employee,
    ];

    /// Returns the policy OID arcs of the role.
    pub const fn oid(self) -> &'static [u64] {
        match self {
            Role::Individual => OID_INDIVIDUAL,
            Role::LegalEntity => OID_LEGAL_ENTITY,
            Role::Head => OID_HEAD,
            Role::RightToSign => OID_RIGHT_TO_SIGN,
            Role::Employee => OID_EMPLOYEE,
        }
    }

    /// Returns the role a policy OID marks, if it is one of the profile's.
    pub fn from_oid(arcs: &[u64]) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.oid() == arcs)
    }

    /// Returns the policy roles a certificate issued for `holder` carries:
    /// organisation roles always come with [`Role::LegalEntity`].
    pub fn policies_for(holder: Role) -> Vec<Role> {
        match holder {
            Role::Individual => vec![Role::Individual],
            Role::LegalEntity => vec![Role::LegalEntity],
            other => vec![Role::LegalEntity, other],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Individual => "individual",
            Role::LegalEntity => "legal entity",
            Role::Head => "head",
            Role::RightToSign => "right to sign",
            Role::Employee => "employee",
        })
    }
}

/// What a certificate's key may be used for, as Kazakhstan's PKI issues keys in pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// A signing key (RSA_… / GOST_… "SIGN"): digitalSignature + nonRepudiation.
    Sign,
    /// An authentication key ("AUTH"): digitalSignature + keyEncipherment.
    Auth,
}

impl fmt::Display for KeyPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyPurpose::Sign => "SIGN",
            KeyPurpose::Auth => "AUTH",
        })
    }
}

/// The public key algorithms the profile supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA on P-256.
    EcdsaP256,
    /// RSA (verification only, for interoperability).
    Rsa,
}

/// Failures reading a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate.
    #[error("certificate does not parse: {0}")]
    Parse(String),
    /// The certificate has bytes after its end.
    #[error("certificate has {0} trailing bytes")]
    TrailingBytes(usize),
    /// The subject key is of an algorithm the stack does not verify.
    #[error("unsupported public key algorithm {0}")]
    UnsupportedKey(String),
    /// SERIALNUMBER does not hold a valid `IIN<12 digits>`.
    #[error("SERIALNUMBER {value:?} is not a valid IIN: {reason}")]
    BadSerialNumber {
        /// The attribute's value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// OU starts with `BIN` but does not hold a valid BIN.
    #[error("OU {value:?} is not a valid BIN: {reason}")]
    BadOrganizationalUnit {
        /// The attribute's value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

/// A parsed certificate: the fields of Kazakhstan's profile, owned, so it can
/// be cached and shared between messages without re-parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// The DER bytes.
    pub der: Arc<[u8]>,
    /// Serial number, lowercase hex without leading zero bytes.
    pub serial: String,
    /// Subject common name.
    pub common_name: String,
    /// Subject as an RFC 4514 string, for messages and logs.
    pub subject: String,
    /// Issuer as an RFC 4514 string.
    pub issuer: String,
    /// Raw DER of the subject name (chain building compares it with issuers).
    pub subject_raw: Vec<u8>,
    /// Raw DER of the issuer name.
    pub issuer_raw: Vec<u8>,
    /// The holder's IIN from `SERIALNUMBER=IIN…`, if present.
    pub iin: Option<Iin>,
    /// The organisation's BIN from `OU=BIN…`, if present.
    pub bin: Option<Bin>,
    /// The policy roles.
    pub roles: Vec<Role>,
    /// SIGN when the key usage has nonRepudiation, AUTH otherwise (or none).
    pub purpose: Option<KeyPurpose>,
    /// Whether basicConstraints marks a CA.
    pub is_ca: bool,
    /// Whether the key usage allows signing certificates (keyCertSign); a CA needs it.
    pub key_cert_sign: bool,
    /// basicConstraints' pathLenConstraint: how many CAs may follow this one below it.
    pub path_len: Option<u32>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The public key algorithm.
    pub key_algorithm: KeyAlgorithm,
    /// The raw public key as ring verifies it (Ed25519 point, SEC1 point or RSAPublicKey DER).
    pub public_key: Vec<u8>,
    /// The SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
}

impl CertificateInfo {
    /// Parses a DER certificate and reads the profile's fields.
    pub fn from_der(der: &[u8]) -> Result<CertificateInfo, CertificateError> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|err| CertificateError::Parse(err.to_string()))?;
        if !rest.is_empty() {
            return Err(CertificateError::TrailingBytes(rest.len()));
        }
        Self::from_parsed(der, &cert)
    }

    /// Reads the profile's fields from an already parsed certificate.
    pub fn from_parsed(
        der: &[u8],
        cert: &X509Certificate<'_>,
    ) -> Result<CertificateInfo, CertificateError> {
        let subject = cert.subject();
        let iin = subject
            .iter_attributes()
            .filter(|attr| has_arcs(attr.attr_type(), OID_SERIAL_NUMBER))
            .filter_map(|attr| attr.as_str().ok())
            .find_map(|value| value.strip_prefix("IIN").map(|rest| (value, rest)))
            .map(|(value, digits)| {
                Iin::parse(digits).map_err(|err| CertificateError::BadSerialNumber {
                    value: value.to_owned(),
                    reason: err.to_string(),
                })
            })
            .transpose()?;
        let bin = subject
            .iter_organizational_unit()
            .filter_map(|attr| attr.as_str().ok())
            .find_map(|value| value.strip_prefix("BIN").map(|rest| (value, rest)))
            .map(|(value, digits)| {
                Bin::parse(digits).map_err(|err| CertificateError::BadOrganizationalUnit {
                    value: value.to_owned(),
                    reason: err.to_string(),
                })
            })
            .transpose()?;
        let common_name = subject
            .iter_common_name()
            .find_map(|attr| attr.as_str().ok())
            .unwrap_or_default()
            .to_owned();

        let mut roles = Vec::new();
        let mut purpose = None;
        let mut is_ca = false;
        let mut key_cert_sign = false;
        let mut path_len = None;
        for ext in cert.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::CertificatePolicies(policies) => {
                    for policy in policies {
                        if let Some(role) = Role::ALL
                            .into_iter()
                            .find(|role| has_arcs(&policy.policy_id, role.oid()))
                        {
                            roles.push(role);
                        }
                    }
                }
                ParsedExtension::KeyUsage(usage) => {
                    key_cert_sign = usage.key_cert_sign();
                    purpose = Some(if usage.non_repudiation() {
                        KeyPurpose::Sign
                    } else {
                        KeyPurpose::Auth
                    });
                }
                ParsedExtension::BasicConstraints(constraints) => {
                    is_ca = constraints.ca;
                    path_len = constraints.path_len_constraint;
                }
                _ => {}
            }
        }
        roles.sort();
        roles.dedup();

        let spki = cert.public_key();
        let key_oid = spki.algorithm.algorithm.to_id_string();
        let key_algorithm = match key_oid.as_str() {
            "1.3.101.112" => KeyAlgorithm::Ed25519,
            "1.2.840.10045.2.1" => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string());
                if curve.as_deref() != Some("1.2.840.10045.3.1.7") {
                    return Err(CertificateError::UnsupportedKey(format!(
                        "EC key on curve {}",
                        curve.unwrap_or_else(|| "(none)".into())
                    )));
                }
                KeyAlgorithm::EcdsaP256
            }
            "1.2.840.113549.1.1.1" => KeyAlgorithm::Rsa,
            other => return Err(CertificateError::UnsupportedKey(other.to_owned())),
        };

        Ok(CertificateInfo {
            der: Arc::from(der),
            serial: serial_hex(cert.raw_serial()),
            common_name,
            subject: subject.to_string(),
            issuer: cert.issuer().to_string(),
            subject_raw: subject.as_raw().to_vec(),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            iin,
            bin,
            roles,
            purpose,
            is_ca,
            key_cert_sign,
            path_len,
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            key_algorithm,
            public_key: spki.subject_public_key.data.to_vec(),
            spki_der: spki.raw.to_vec(),
        })
    }

    /// Returns whether the certificate carries a role.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Returns whether the certificate is valid at an instant.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

/// Formats a certificate serial as lowercase hex without leading zero bytes.
pub fn serial_hex(raw: &[u8]) -> String {
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    let trimmed = &raw[start..];
    if trimmed.is_empty() {
        "00".to_owned()
    } else {
        hex::encode(trimmed)
    }
}

/// Returns whether an OID has exactly these arcs.
fn has_arcs(oid: &Oid<'_>, arcs: &[u64]) -> bool {
    oid.iter().is_some_and(|it| it.eq(arcs.iter().copied()))
}
