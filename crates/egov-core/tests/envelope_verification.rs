//! Envelope verification, one test per refusal: each failure is its own
//! typed error with its own status code.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use egov_core::envelope::{
    CachedRevocation, IdentityRule, RevocationSource, RevocationStatus, Signer, StaticRevocation,
    Verifier, VerifyError, VerifyPolicy, request_header, to_timestamp,
};
use egov_core::pki::authority::{CaHierarchy, Credential, Holder, KeyMaterial};
use egov_core::pki::{CertificateInfo, KeyPurpose, Role};
use egov_core::{Bin, Iin, StatusCode};
use egov_proto::v1::{Envelope, Header, SignatureAlgorithm};
use prost::Message;
use time::macros::datetime;
use time::{Duration as Span, OffsetDateTime};

const SEED: &[u8] = b"envelope-verification-tests";
const CITIZEN_IIN: &str = "850102300131";
const OTHER_IIN: &str = "900715400349";
const EMPLOYMENT_CENTRE_BIN: &str = "120140000057";
const OTHER_BIN: &str = "050840001233";

fn now() -> OffsetDateTime {
    datetime!(2026-03-02 10:00 UTC)
}

fn hierarchy(seed: &[u8]) -> CaHierarchy {
    CaHierarchy::generate(
        seed,
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    )
    .expect("hierarchy")
}

fn holder(role: Role, purpose: KeyPurpose) -> Holder {
    let organisation = role != Role::Individual;
    Holder {
        surname: "ЖАНБОТА".into(),
        given_name: "АЙГЕРІМ".into(),
        iin: Iin::parse(CITIZEN_IIN).expect("iin"),
        bin: organisation.then(|| Bin::parse(EMPLOYMENT_CENTRE_BIN).expect("bin")),
        organization: organisation.then(|| "Employment centre of Astana".to_owned()),
        role,
        purpose,
    }
}

fn credential(
    ca: &CaHierarchy,
    holder: &Holder,
    serial: u8,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Credential {
    ca.issue_derived(holder, SEED, &[0x10, serial], from, to)
        .expect("credential")
}

fn citizen(ca: &CaHierarchy) -> Credential {
    credential(
        ca,
        &holder(Role::Individual, KeyPurpose::Sign),
        1,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    )
}

fn signer(credential: &Credential) -> Signer {
    Signer::new(credential.key.pkcs8(), credential.chain.clone()).expect("signer")
}

fn verifier(ca: &CaHierarchy) -> Verifier<Arc<StaticRevocation>> {
    Verifier::new(
        vec![ca.root.certificate().clone()],
        Arc::new(StaticRevocation::new()),
    )
}

fn header(user_iin: &str) -> Header {
    let mut header = request_header("citizens.person.get", "portal", "citizens", now());
    header.user_iin = user_iin.to_owned();
    header
}

fn signed(credential: &Credential) -> Envelope {
    signer(credential)
        .seal(&header(CITIZEN_IIN), b"payload bytes".to_vec())
        .expect("seal")
}

async fn refusal(ca: &CaHierarchy, envelope: &Envelope, policy: VerifyPolicy) -> VerifyError {
    verifier(ca)
        .verify(envelope, &policy)
        .await
        .expect_err("envelope must be refused")
}

#[tokio::test]
async fn envelope_signed_by_citizen_verifies_with_header_and_signer() {
    let ca = hierarchy(SEED);
    let envelope = signed(&citizen(&ca));
    let verified = verifier(&ca)
        .verify(
            &envelope,
            &VerifyPolicy::any()
                .with_role(Role::Individual)
                .with_identity(IdentityRule::HeaderUserIin),
        )
        .await
        .expect("verifies");
    assert_eq!(verified.header.service_id, "citizens.person.get");
    assert_eq!(
        verified.signer.iin.as_ref().map(Iin::as_str),
        Some(CITIZEN_IIN)
    );
    assert_eq!(verified.message_time, now());
}

#[tokio::test]
async fn envelope_refused_when_signature_value_is_bad() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.signatures[0].value = flipped(&envelope.signatures[0].value, 10, 0x01);
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::BadSignatureValue { .. }),
        "{err}"
    );
    assert_eq!(err.status(), StatusCode::InvalidSignature);
}

#[tokio::test]
async fn envelope_refused_when_header_is_tampered() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    let mut header = Header::decode(&envelope.header[..]).expect("header");
    header.receiver_system_id = "notary".into();
    envelope.header = header.encode_to_vec().into();
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(err, VerifyError::TamperedHeader);
    assert_eq!(err.status(), StatusCode::InvalidSignature);
}

#[tokio::test]
async fn envelope_refused_when_payload_is_tampered() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.payload = Bytes::from_static(b"other payload");
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(err, VerifyError::TamperedPayload);
}

#[tokio::test]
async fn envelope_refused_when_certificate_not_yet_valid_at_message_time() {
    let ca = hierarchy(SEED);
    let future = credential(
        &ca,
        &holder(Role::Individual, KeyPurpose::Sign),
        2,
        now() + Span::days(1),
        now() + Span::days(365),
    );
    let err = refusal(&ca, &signed(&future), VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::CertificateNotYetValid { .. }),
        "{err}"
    );
    assert_eq!(err.status(), StatusCode::CertificateExpired);
}

#[tokio::test]
async fn envelope_refused_when_certificate_expired_at_message_time() {
    let ca = hierarchy(SEED);
    let expired = credential(
        &ca,
        &holder(Role::Individual, KeyPurpose::Sign),
        3,
        now() - Span::days(400),
        now() - Span::days(35),
    );
    let err = refusal(&ca, &signed(&expired), VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::CertificateExpired { .. }),
        "{err}"
    );
    assert_eq!(err.status(), StatusCode::CertificateExpired);
}

#[tokio::test]
async fn envelope_refused_when_chain_does_not_end_at_trusted_root() {
    let trusted = hierarchy(SEED);
    let foreign = hierarchy(b"a certification centre nobody trusts");
    let err = refusal(&trusted, &signed(&citizen(&foreign)), VerifyPolicy::any()).await;
    assert!(matches!(err, VerifyError::UntrustedChain(_)), "{err}");
    assert_eq!(err.status(), StatusCode::CertificateUntrusted);
}

#[tokio::test]
async fn envelope_refused_when_certificate_is_revoked() {
    let ca = hierarchy(SEED);
    let cred = citizen(&ca);
    let revocation = Arc::new(StaticRevocation::new());
    revocation.revoke(
        &cred.certificate.serial,
        now() - Span::hours(1),
        "key compromise",
    );
    let verifier = Verifier::new(vec![ca.root.certificate().clone()], revocation);
    let err = verifier
        .verify(&signed(&cred), &VerifyPolicy::any())
        .await
        .expect_err("revoked");
    assert!(matches!(err, VerifyError::Revoked { .. }), "{err}");
    assert_eq!(err.status(), StatusCode::CertificateRevoked);
}

#[tokio::test]
async fn envelope_refused_when_key_usage_is_auth_not_sign() {
    let ca = hierarchy(SEED);
    let auth = credential(
        &ca,
        &holder(Role::Individual, KeyPurpose::Auth),
        4,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    let err = refusal(&ca, &signed(&auth), VerifyPolicy::any()).await;
    assert!(matches!(err, VerifyError::KeyNotForSigning { .. }), "{err}");
    assert_eq!(err.status(), StatusCode::CertificateNotAuthorized);
}

#[tokio::test]
async fn envelope_refused_when_required_role_is_missing() {
    let ca = hierarchy(SEED);
    let employee = credential(
        &ca,
        &holder(Role::Employee, KeyPurpose::Sign),
        5,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    assert_eq!(
        employee.certificate.roles,
        vec![Role::LegalEntity, Role::Employee]
    );
    let err = refusal(
        &ca,
        &signed(&employee),
        VerifyPolicy::any().with_role(Role::Head),
    )
    .await;
    assert!(
        matches!(
            err,
            VerifyError::RoleMissing {
                required: Role::Head,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status(), StatusCode::CertificateNotAuthorized);
}

#[tokio::test]
async fn envelope_refused_when_request_iin_differs_from_certificate_serialnumber() {
    let ca = hierarchy(SEED);
    let envelope = signer(&citizen(&ca))
        .seal(&header(OTHER_IIN), b"payload".to_vec())
        .expect("seal");
    let err = refusal(
        &ca,
        &envelope,
        VerifyPolicy::any().with_identity(IdentityRule::HeaderUserIin),
    )
    .await;
    assert_eq!(
        err,
        VerifyError::IinMismatch {
            request: OTHER_IIN.into(),
            certificate: CITIZEN_IIN.into()
        }
    );
    assert_eq!(err.status(), StatusCode::IinMismatch);
}

#[tokio::test]
async fn envelope_refused_when_organisation_bin_differs_from_certificate_ou() {
    let ca = hierarchy(SEED);
    let head = credential(
        &ca,
        &holder(Role::Head, KeyPurpose::Sign),
        6,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    let policy =
        VerifyPolicy::any().with_identity(IdentityRule::Bin(Bin::parse(OTHER_BIN).expect("bin")));
    let err = refusal(&ca, &signed(&head), policy).await;
    assert!(matches!(err, VerifyError::BinMismatch { .. }), "{err}");
    assert_eq!(err.status(), StatusCode::IinMismatch);

    let right = VerifyPolicy::any()
        .with_role(Role::Head)
        .with_identity(IdentityRule::Bin(
            Bin::parse(EMPLOYMENT_CENTRE_BIN).expect("bin"),
        ));
    verifier(&ca)
        .verify(&signed(&head), &right)
        .await
        .expect("head of the right organisation");
}

#[tokio::test]
async fn envelope_refused_when_unsigned() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.signatures.clear();
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(err, VerifyError::SignatureMissing);
    assert_eq!(err.status(), StatusCode::SignatureMissing);
}

#[tokio::test]
async fn malformed_envelope_bytes_are_refused_not_panicked_on() {
    let ca = hierarchy(SEED);
    for bytes in [&[0xff, 0xff, 0xff][..], b"\x0a\x05abc", &[0x12; 1][..]] {
        let err = verifier(&ca)
            .verify_bytes(bytes, &VerifyPolicy::any())
            .await
            .expect_err("malformed");
        assert!(matches!(err, VerifyError::MalformedEnvelope(_)), "{err}");
        assert_eq!(err.status(), StatusCode::MalformedMessage);
    }
}

#[tokio::test]
async fn malformed_header_bytes_are_refused() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.header = Bytes::from_static(&[0xff, 0xff, 0xff]);
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert!(matches!(err, VerifyError::MalformedHeader(_)), "{err}");
}

#[tokio::test]
async fn truncated_signature_is_refused() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.signatures[0].value.truncate(40);
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(
        err,
        VerifyError::TruncatedSignature {
            expected: 64,
            found: 40
        }
    );
}

#[tokio::test]
async fn unknown_algorithm_is_refused() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.signatures[0].algorithm = 42;
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(
        err,
        VerifyError::UnknownAlgorithm {
            index: 0,
            value: 42
        }
    );
    envelope.signatures[0].algorithm = SignatureAlgorithm::EcdsaP256Sha256 as i32;
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::AlgorithmMismatch { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn certificate_that_does_not_parse_is_refused() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    envelope.signatures[0].certificate_chain[0] = Bytes::from_static(b"not a certificate");
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::CertificateParse { index: 0, .. }),
        "{err}"
    );
    assert_eq!(err.status(), StatusCode::CertificateUntrusted);
}

#[tokio::test]
async fn envelope_without_message_time_is_refused() {
    let ca = hierarchy(SEED);
    let mut header = header(CITIZEN_IIN);
    header.message_time = None;
    let envelope = signer(&citizen(&ca)).seal(&header, vec![]).expect("seal");
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert_eq!(err, VerifyError::MissingMessageTime);
}

#[tokio::test]
async fn every_signature_of_a_countersigned_envelope_is_verified() {
    let ca = hierarchy(SEED);
    let mut envelope = signed(&citizen(&ca));
    let operator = credential(
        &ca,
        &holder(Role::Employee, KeyPurpose::Sign),
        7,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    signer(&operator)
        .countersign(&mut envelope)
        .expect("countersign");
    verifier(&ca)
        .verify(&envelope, &VerifyPolicy::any())
        .await
        .expect("both verify");
    envelope.signatures[1].value = flipped(&envelope.signatures[1].value, 0, 0xff);
    let err = refusal(&ca, &envelope, VerifyPolicy::any()).await;
    assert!(
        matches!(err, VerifyError::BadSignatureValue { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn signer_refuses_a_key_that_is_not_the_certificates() {
    let ca = hierarchy(SEED);
    let one = citizen(&ca);
    let other = credential(
        &ca,
        &holder(Role::Employee, KeyPurpose::Sign),
        8,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    let err = Signer::new(other.key.pkcs8(), one.chain.clone()).expect_err("mismatch");
    assert!(err.to_string().contains("does not match"), "{err}");
}

/// Counts look-ups, to see what the cache saves.
#[derive(Default)]
struct CountingSource {
    calls: std::sync::atomic::AtomicUsize,
}

impl RevocationSource for CountingSource {
    async fn status(
        &self,
        _certificate: &egov_core::pki::CertificateInfo,
    ) -> Result<RevocationStatus, egov_core::envelope::RevocationError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(RevocationStatus::Good)
    }
}

#[tokio::test(start_paused = true)]
async fn revocation_answers_are_reused_until_the_freshness_limit() {
    let ca = hierarchy(SEED);
    let cred = citizen(&ca);
    let source = Arc::new(CountingSource::default());
    let cached = CachedRevocation::new(source.clone(), Duration::from_secs(3600));
    for _ in 0..3 {
        cached.status(&cred.certificate).await.expect("status");
    }
    assert_eq!(source.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(3601)).await;
    cached.status(&cred.certificate).await.expect("status");
    assert_eq!(source.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[test]
fn issued_certificate_carries_the_profile_fields() {
    let ca = hierarchy(SEED);
    let head = credential(
        &ca,
        &holder(Role::Head, KeyPurpose::Sign),
        9,
        datetime!(2025-01-01 0:00 UTC),
        datetime!(2027-01-01 0:00 UTC),
    );
    let cert = &head.certificate;
    assert_eq!(cert.iin.as_ref().map(Iin::as_str), Some(CITIZEN_IIN));
    assert_eq!(
        cert.bin.as_ref().map(Bin::as_str),
        Some(EMPLOYMENT_CENTRE_BIN)
    );
    assert!(cert.subject.contains("IIN850102300131"), "{}", cert.subject);
    assert!(cert.subject.contains("BIN120140000057"), "{}", cert.subject);
    assert_eq!(cert.roles, vec![Role::LegalEntity, Role::Head]);
    assert_eq!(cert.purpose, Some(KeyPurpose::Sign));
    assert_eq!(cert.serial, "1009");
    let _ = to_timestamp(now());
}

#[test]
fn derived_keys_are_repeatable() {
    let one = hierarchy(SEED);
    let two = hierarchy(SEED);
    assert_eq!(
        one.root.certificate().spki_der,
        two.root.certificate().spki_der
    );
    assert_eq!(citizen(&one).key, citizen(&two).key);
}

/// A root, a CA under it whose key usage lacks keyCertSign, and a leaf it
/// signed: the chain a verifier trusting the root must refuse.
fn chain_through_a_ca_without_key_cert_sign() -> (CertificateInfo, Signer) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let key = |label: &str| {
        let material = KeyMaterial::derive(SEED, label);
        let pair = KeyPair::try_from(material.pkcs8()).expect("key");
        (material, pair)
    };
    let named = |name: &str| {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.not_before = now() - Span::days(1);
        params.not_after = now() + Span::days(30);
        params
    };
    let (_, root_key) = key("nokcs/root");
    let mut root = named("ROOT WITH KEYCERTSIGN");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_der = root.self_signed(&root_key).expect("root").der().to_vec();
    let root_issuer = Issuer::new(root, root_key);

    let (_, ca_key) = key("nokcs/ca");
    let mut ca = named("CA WITHOUT KEYCERTSIGN");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let ca_der = ca
        .signed_by(&ca_key, &root_issuer)
        .expect("ca")
        .der()
        .to_vec();
    let ca_issuer = Issuer::new(ca, ca_key);

    let (leaf_material, leaf_key) = key("nokcs/leaf");
    let mut leaf = named("LEAF");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    let leaf_der = leaf
        .signed_by(&leaf_key, &ca_issuer)
        .expect("leaf")
        .der()
        .to_vec();
    let signer = Signer::new(leaf_material.pkcs8(), vec![leaf_der, ca_der]).expect("signer");
    (CertificateInfo::from_der(&root_der).expect("root"), signer)
}

#[tokio::test]
async fn issuer_without_key_cert_sign_is_refused_as_an_invalid_chain() {
    let (root, signer) = chain_through_a_ca_without_key_cert_sign();
    let verifier = Verifier::new(vec![root], StaticRevocation::new());
    let header = request_header("svc", "a", "b", now());
    let envelope = signer.seal(&header, b"x".to_vec()).expect("seal");
    let error = verifier
        .verify(&envelope, &VerifyPolicy::any())
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, VerifyError::InvalidChain(reason) if reason.contains("keyCertSign")),
        "{error:?}"
    );
    assert_eq!(error.status(), StatusCode::CertificateChainInvalid);
}

/// Returns the bytes with one byte XORed with `mask`.
fn flipped(bytes: &[u8], index: usize, mask: u8) -> Bytes {
    let mut bytes = bytes.to_vec();
    bytes[index] ^= mask;
    bytes.into()
}
