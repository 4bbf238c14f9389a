//! PKCS#10 certification requests (запрос на сертификат, CSR): the holder makes its own key
//! pair and asks for a certificate with a request signed by that key, so the private key never
//! leaves the holder. [`build`] is the holder's side; [`CertificationRequest::parse`] is the
//! centre's, which checks the request's signature and reads the subject it asks for.

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use super::authority::{AuthorityError, Holder, KeyMaterial};

/// OID of the X.520 countryName attribute.
const OID_COUNTRY: &[u64] = &[2, 5, 4, 6];
/// OID of the X.520 commonName attribute.
const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];
/// OID of the X.520 organizationName attribute.
const OID_ORGANIZATION: &[u64] = &[2, 5, 4, 10];
/// OID of the X.520 organizationalUnitName attribute, which carries `BIN<bin>`.
const OID_ORGANIZATIONAL_UNIT: &[u64] = &[2, 5, 4, 11];

/// Why a certification request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The bytes are not a DER PKCS#10 request.
    #[error("not a PKCS#10 certification request: {0}")]
    Malformed(String),
    /// The request is not signed by the key it carries.
    #[error("the request's signature does not verify with its own public key: {0}")]
    BadSignature(String),
    /// The request names a different subject from the one asked for.
    #[error("the request's subject {found} is not the holder asked for ({expected})")]
    SubjectMismatch {
        /// The subject the centre would issue to.
        expected: String,
        /// The subject the request carries.
        found: String,
    },
}

/// One attribute of a distinguished name: its OID arcs and its text.
pub type NameAttribute = (Vec<u64>, String);

/// Returns the subject attributes a certificate for `holder` carries, in the profile's order:
/// C=KZ, CN, SURNAME, SERIALNUMBER=IIN…, GIVENNAME, O, OU=BIN….
pub fn subject_attributes(holder: &Holder) -> Vec<NameAttribute> {
    let mut attributes = vec![
        (OID_COUNTRY.to_vec(), "KZ".to_owned()),
        (
            OID_COMMON_NAME.to_vec(),
            format!("{} {}", holder.surname, holder.given_name),
        ),
        (super::OID_SURNAME.to_vec(), holder.surname.clone()),
        (
            super::OID_SERIAL_NUMBER.to_vec(),
            format!("IIN{}", holder.iin),
        ),
        (super::OID_GIVEN_NAME.to_vec(), holder.given_name.clone()),
    ];
    if let Some(organization) = &holder.organization {
        attributes.push((OID_ORGANIZATION.to_vec(), organization.clone()));
    }
    if let Some(bin) = &holder.bin {
        attributes.push((OID_ORGANIZATIONAL_UNIT.to_vec(), format!("BIN{bin}")));
    }
    attributes
}

/// Returns the distinguished name of a holder, as certificates and requests carry it.
pub(crate) fn subject_name(holder: &Holder) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (oid, value) in subject_attributes(holder) {
        let kind = match oid.as_slice() {
            OID_COUNTRY => DnType::CountryName,
            OID_COMMON_NAME => DnType::CommonName,
            OID_ORGANIZATION => DnType::OrganizationName,
            OID_ORGANIZATIONAL_UNIT => DnType::OrganizationalUnitName,
            _ => DnType::CustomDnType(oid),
        };
        name.push(kind, value);
    }
    name
}

/// The gRPC metadata key of a registrar's login (регистратор), which may enrol anyone.
pub const REGISTRAR_LOGIN_METADATA: &str = "egov-registrar-login";
/// The gRPC metadata key of a registrar's password.
pub const REGISTRAR_PASSWORD_METADATA: &str = "egov-registrar-password";

/// Builds a DER certification request for `holder`, signed with the holder's own `key`.
pub fn build(holder: &Holder, key: &KeyMaterial) -> Result<Vec<u8>, AuthorityError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject_name(holder);
    let key_pair = KeyPair::try_from(key.pkcs8())
        .map_err(|error| AuthorityError::BadKey(error.to_string()))?;
    Ok(params.serialize_request(&key_pair)?.der().to_vec())
}

/// A certification request whose signature verified: the key it proves and the subject it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationRequest {
    /// The holder's public key, SubjectPublicKeyInfo DER.
    pub public_key_der: Vec<u8>,
    /// The subject's attributes, in the request's order.
    pub subject: Vec<NameAttribute>,
}

impl CertificationRequest {
    /// Parses a DER request and checks that its own key signed it.
    pub fn parse(der: &[u8]) -> Result<CertificationRequest, RequestError> {
        let (rest, request) = X509CertificationRequest::from_der(der)
            .map_err(|error| RequestError::Malformed(error.to_string()))?;
        if !rest.is_empty() {
            return Err(RequestError::Malformed(format!(
                "{} bytes follow the request",
                rest.len()
            )));
        }
        request
            .verify_signature()
            .map_err(|error| RequestError::BadSignature(error.to_string()))?;
        let info = &request.certification_request_info;
        let mut subject = Vec::new();
        for attribute in info.subject.iter_attributes() {
            let oid = attribute
                .attr_type()
                .iter()
                .map(|arcs| arcs.collect::<Vec<u64>>())
                .ok_or_else(|| RequestError::Malformed("a subject OID is too long".into()))?;
            let value = attribute.as_str().map_err(|error| {
                RequestError::Malformed(format!("subject attribute {oid:?}: {error}"))
            })?;
            subject.push((oid, value.to_owned()));
        }
        Ok(CertificationRequest {
            public_key_der: info.subject_pki.raw.to_vec(),
            subject,
        })
    }

    /// Refuses the request unless its subject is exactly the one `holder` gets.
    pub fn check_subject(&self, holder: &Holder) -> Result<(), RequestError> {
        let expected = subject_attributes(holder);
        let mut want = expected.clone();
        let mut found = self.subject.clone();
        want.sort();
        found.sort();
        if want != found {
            return Err(RequestError::SubjectMismatch {
                expected: describe(&expected),
                found: describe(&self.subject),
            });
        }
        Ok(())
    }
}

/// Renders a name as `2.5.4.6=KZ, …` for messages.
fn describe(name: &[NameAttribute]) -> String {
    name.iter()
        .map(|(oid, value)| {
            let oid = oid.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
            format!("{oid}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iin::{Bin, Iin};
    use crate::pki::{KeyPurpose, Role};

    fn seal() -> Holder {
        Holder {
            surname: "LABOR".into(),
            given_name: "SEAL".into(),
            iin: Iin::parse("751204400013").expect("iin"),
            bin: Some(Bin::parse("040340001075").expect("bin")),
            organization: Some("Labour market".into()),
            role: Role::LegalEntity,
            purpose: KeyPurpose::Sign,
        }
    }

    #[test]
    fn a_request_built_by_the_holder_parses_with_its_key_and_subject() {
        let key = KeyMaterial::generate().expect("key");
        let der = build(&seal(), &key).expect("request");
        let request = CertificationRequest::parse(&der).expect("verifies");
        assert_eq!(request.public_key_der, key.public_key_der().expect("spki"));
        request.check_subject(&seal()).expect("same subject");
    }

    #[test]
    fn a_request_for_another_bin_is_a_subject_mismatch() {
        let key = KeyMaterial::generate().expect("key");
        let der = build(&seal(), &key).expect("request");
        let other = Holder {
            bin: Some(Bin::parse("040340001085").expect("bin")),
            ..seal()
        };
        let request = CertificationRequest::parse(&der).expect("verifies");
        assert!(matches!(
            request.check_subject(&other),
            Err(RequestError::SubjectMismatch { .. })
        ));
    }

    #[test]
    fn a_request_with_a_flipped_byte_does_not_verify() {
        let key = KeyMaterial::generate().expect("key");
        let mut der = build(&seal(), &key).expect("request");
        let last = der.len() - 1;
        der[last] ^= 0x01;
        assert!(matches!(
            CertificationRequest::parse(&der),
            Err(RequestError::BadSignature(_))
        ));
        assert!(matches!(
            CertificationRequest::parse(b"not a request"),
            Err(RequestError::Malformed(_))
        ));
    }
}
