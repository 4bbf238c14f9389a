//! The certification centre end to end: started in-process on loopback port 0
//! with a throw-away data dir, driven through its gRPC client and HTTP routes.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::{Clock, SystemClock, VirtualClock};
use egov_core::envelope::{
    IdentityRule, Signer, Verifier, VerifyError, VerifyPolicy, request_header,
};
use egov_core::pki::authority::{Holder, KeyMaterial};
use egov_core::pki::{CertificateInfo, KeyPurpose, Role};
use egov_core::{Bin, Iin};
use egov_pki::{Config, PkiError, RemoteRevocation};
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, CertificateStatus, GetCaCertificatesRequest, GetCertificateStatusRequest,
    IssueCertificateRequest, IssueCertificateResponse, KeyUsage, RevocationReason,
    RevokeCertificateRequest,
};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

const CITIZEN_IIN: &str = "850102300131";
const OTHER_IIN: &str = "900715400349";
const CHILD_IIN: &str = "190305600014";
const CLERK_IIN: &str = "881111300454";
const EMPLOYMENT_CENTRE_BIN: &str = "120140000057";
const OTHER_BIN: &str = "050840001233";
/// The registrar account every centre here starts with.
const REGISTRAR: &str = "registrar";
const REGISTRAR_PASSWORD: &str = "correct horse battery";

/// A centre running in this process.
struct Centre {
    grpc: SocketAddr,
    http: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), PkiError>>,
}

impl Centre {
    async fn start(data_dir: &Path) -> Centre {
        Centre::start_with(Config::with_data_dir(data_dir)).await
    }

    /// Starts a centre on `config`, with the [`REGISTRAR`] account added the way an operator
    /// adds it (`egov-pki accounts add`, the password on standard input).
    async fn start_with(config: Config) -> Centre {
        Centre::start_on(config, SystemClock::shared()).await
    }

    /// Starts a centre on `config` that judges time on `clock` (e.g. the stack's virtual one).
    async fn start_on(config: Config, clock: Arc<dyn Clock>) -> Centre {
        // Quiet logs: run() reuses the first subscriber installed in the process.
        let quiet = egov_bus::telemetry::TelemetryConfig {
            log_filter: "warn".into(),
            json: false,
            otlp_endpoint: None,
        };
        egov_bus::telemetry::init_with("egov-pki-tests", &quiet).expect("telemetry");
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let (grpc_addr, http_addr) = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        egov_pki::registrar::add_registrar(&config, REGISTRAR, REGISTRAR_PASSWORD)
            .await
            .expect("registrar added");
        let task = tokio::spawn(egov_pki::run_with_clock(config, clock, grpc, http, async {
            let _ = stopped.await;
        }));
        Centre {
            grpc: grpc_addr,
            http: http_addr,
            stop,
            task,
        }
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc))
            .expect("uri")
            .connect()
            .await
            .expect("connect to the centre")
    }

    async fn client(&self) -> CertificationCentreClient<Channel> {
        CertificationCentreClient::new(self.channel().await)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("join")
            .expect("centre stops cleanly");
    }

    /// GETs a path over plain HTTP/1.1, expecting 200, returning the content type and body.
    async fn get(&self, path: &str) -> (String, Vec<u8>) {
        let mut stream = TcpStream::connect(self.http).await.expect("connect HTTP");
        let request = format!("GET {path} HTTP/1.1\r\nHost: pki\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let content_type = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        (content_type, response[split + 4..].to_vec())
    }
}

/// A certificate the centre issued, with the key the holder made for it.
struct Issued {
    response: IssueCertificateResponse,
    key: KeyMaterial,
}

impl Deref for Issued {
    type Target = IssueCertificateResponse;

    fn deref(&self) -> &IssueCertificateResponse {
        &self.response
    }
}

/// Returns the holder a request's fields describe (valid fields only).
fn holder_of(request: &IssueCertificateRequest) -> Holder {
    let role = match CertificateRole::try_from(request.role) {
        Ok(CertificateRole::Employee) => Role::Employee,
        Ok(CertificateRole::RightToSign) => Role::RightToSign,
        Ok(CertificateRole::Head) => Role::Head,
        Ok(CertificateRole::LegalEntity) => Role::LegalEntity,
        _ => Role::Individual,
    };
    Holder {
        surname: request.surname.clone(),
        given_name: request.given_name.clone(),
        iin: Iin::parse(&request.iin).expect("a valid IIN"),
        bin: Bin::parse(&request.bin).ok(),
        organization: (!request.organization.is_empty()).then(|| request.organization.clone()),
        role,
        purpose: if request.key_usage == KeyUsage::Auth as i32 {
            KeyPurpose::Auth
        } else {
            KeyPurpose::Sign
        },
    }
}

/// Wraps `request` as the registrar sends it, with `csr` attached.
fn as_registrar(
    request: IssueCertificateRequest,
    csr: Vec<u8>,
) -> tonic::Request<IssueCertificateRequest> {
    let mut call = tonic::Request::new(IssueCertificateRequest {
        certification_request_der: csr,
        ..request
    });
    registrar_metadata(&mut call);
    call
}

/// Adds the registrar's credential to a call.
fn registrar_metadata<T>(call: &mut tonic::Request<T>) {
    let metadata = call.metadata_mut();
    metadata.insert(
        egov_pki::enrolment::REGISTRAR_LOGIN,
        REGISTRAR.parse().unwrap(),
    );
    metadata.insert(
        egov_pki::enrolment::REGISTRAR_PASSWORD,
        REGISTRAR_PASSWORD.parse().unwrap(),
    );
}

/// Has the registrar enrol `request`'s holder for a key the holder makes, which must succeed.
async fn issue(
    client: &mut CertificationCentreClient<Channel>,
    request: IssueCertificateRequest,
) -> Issued {
    let key = KeyMaterial::generate().expect("the holder's key");
    let csr = egov_core::pki::request::build(&holder_of(&request), &key).expect("request");
    let response = client
        .issue_certificate(as_registrar(request, csr))
        .await
        .expect("issued")
        .into_inner();
    Issued { response, key }
}

fn person(iin: &str, usage: KeyUsage) -> IssueCertificateRequest {
    IssueCertificateRequest {
        surname: "ЖАНБОТА".into(),
        given_name: "АЙГЕРІМ".into(),
        iin: iin.into(),
        role: CertificateRole::Individual.into(),
        key_usage: usage.into(),
        ..Default::default()
    }
}

fn employee(iin: &str, bin: &str, role: CertificateRole) -> IssueCertificateRequest {
    IssueCertificateRequest {
        surname: "СЕРІКОВ".into(),
        given_name: "НҰРЛАН".into(),
        iin: iin.into(),
        bin: bin.into(),
        organization: "Employment centre of Astana".into(),
        role: role.into(),
        key_usage: KeyUsage::Sign.into(),
        ..Default::default()
    }
}

fn signer(issued: &Issued) -> Signer {
    Signer::new(
        issued.key.pkcs8(),
        vec![issued.certificate_der.clone(), issued.chain_der[0].clone()],
    )
    .expect("signer")
}

fn verifier(issued: &IssueCertificateResponse, channel: Channel) -> Verifier<RemoteRevocation> {
    let root = CertificateInfo::from_der(&issued.chain_der[1]).expect("root parses");
    Verifier::new(vec![root], RemoteRevocation::new(channel))
}

fn envelope(signer: &Signer, user_iin: &str) -> egov_proto::v1::Envelope {
    let mut header = request_header(
        "citizens.person.get",
        "portal",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = user_iin.to_owned();
    signer.seal(&header, b"payload".to_vec()).expect("seal")
}

async fn revoke(
    client: &mut CertificationCentreClient<Channel>,
    serial: &str,
    reason: RevocationReason,
) -> Result<OffsetDateTime, tonic::Status> {
    let mut call = tonic::Request::new(RevokeCertificateRequest {
        serial: serial.to_owned(),
        reason: reason.into(),
    });
    registrar_metadata(&mut call);
    let response = client.revoke_certificate(call).await?.into_inner();
    Ok(
        egov_core::envelope::from_timestamp(&response.revoked_at.expect("revoked_at"))
            .expect("in range"),
    )
}

#[tokio::test]
async fn a_persons_sign_certificate_comes_with_a_chain_that_verifies_an_envelope() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;

    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;

    assert_eq!(issued.chain_der.len(), 2, "intermediate, then root");
    let certificate = CertificateInfo::from_der(&issued.certificate_der).expect("parses");
    assert_eq!(certificate.serial, issued.serial);
    assert_eq!(
        certificate.iin.map(|iin| iin.to_string()).as_deref(),
        Some(CITIZEN_IIN)
    );
    assert_eq!(certificate.roles, vec![Role::Individual]);
    assert_eq!(certificate.purpose, Some(KeyPurpose::Sign));
    assert!(certificate.bin.is_none());
    let policy = VerifyPolicy::any()
        .with_role(Role::Individual)
        .with_identity(IdentityRule::HeaderUserIin);
    let verified = verifier(&issued, centre.channel().await)
        .verify(&envelope(&signer(&issued), CITIZEN_IIN), &policy)
        .await
        .expect("the envelope verifies");
    assert_eq!(verified.signer.serial, issued.serial);

    centre.stop().await;
}

#[tokio::test]
async fn the_same_person_asked_twice_gets_a_new_serial_and_auth_keys_their_own_usage() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;

    let first = issue(&mut client, person(OTHER_IIN, KeyUsage::Sign)).await;
    let second = issue(&mut client, person(OTHER_IIN, KeyUsage::Sign)).await;
    let auth = issue(&mut client, person(OTHER_IIN, KeyUsage::Auth)).await;

    assert_ne!(first.serial, second.serial);
    let auth_info = CertificateInfo::from_der(&auth.certificate_der).unwrap();
    assert_eq!(auth_info.purpose, Some(KeyPurpose::Auth));
    assert_eq!(auth_info.spki_der, auth.key.public_key_der().unwrap());

    centre.stop().await;
}

#[tokio::test]
async fn the_holders_own_key_is_certified_for_the_validity_asked() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;

    let issued = issue(
        &mut client,
        IssueCertificateRequest {
            validity_days: 30,
            ..person(CHILD_IIN, KeyUsage::Sign)
        },
    )
    .await;
    let key = &issued.key;

    let certificate = CertificateInfo::from_der(&issued.certificate_der).unwrap();
    assert_eq!(certificate.spki_der, key.public_key_der().unwrap());
    assert_eq!(
        (certificate.not_after - certificate.not_before).whole_days(),
        30
    );
    let signer = Signer::new(
        key.pkcs8(),
        vec![issued.certificate_der.clone(), issued.chain_der[0].clone()],
    )
    .unwrap();
    verifier(&issued, centre.channel().await)
        .verify(&envelope(&signer, CHILD_IIN), &VerifyPolicy::any())
        .await
        .expect("verifies with the holder's own key");

    centre.stop().await;
}

#[tokio::test]
async fn an_employee_certificate_carries_the_bin_and_both_policy_roles() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;

    let issued = issue(
        &mut client,
        employee(
            CLERK_IIN,
            EMPLOYMENT_CENTRE_BIN,
            CertificateRole::RightToSign,
        ),
    )
    .await;

    let certificate = CertificateInfo::from_der(&issued.certificate_der).unwrap();
    assert_eq!(
        certificate.bin.map(|bin| bin.to_string()).as_deref(),
        Some(EMPLOYMENT_CENTRE_BIN)
    );
    assert_eq!(
        certificate.roles,
        vec![Role::LegalEntity, Role::RightToSign]
    );
    verifier(&issued, centre.channel().await)
        .verify(
            &envelope(&signer(&issued), CLERK_IIN),
            &VerifyPolicy::any().with_role(Role::RightToSign),
        )
        .await
        .expect("verifies with the right-to-sign role");

    centre.stop().await;
}

#[tokio::test]
async fn revoking_answers_revoked_with_time_and_reason_and_the_verifier_refuses() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;
    let verifier = verifier(&issued, centre.channel().await);
    let signed = envelope(&signer(&issued), CITIZEN_IIN);
    verifier
        .verify(&signed, &VerifyPolicy::any())
        .await
        .expect("good before revocation");
    let good = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: issued.serial.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(good.status(), CertificateStatus::Good);

    let revoked_at = revoke(&mut client, &issued.serial, RevocationReason::KeyCompromise)
        .await
        .expect("revoked");

    let status = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: issued.serial.to_uppercase(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), CertificateStatus::Revoked);
    assert_eq!(status.reason(), RevocationReason::KeyCompromise);
    let status_time = egov_core::envelope::from_timestamp(&status.revoked_at.unwrap()).unwrap();
    assert_eq!(status_time, revoked_at);
    assert!(status.produced_at.is_some());

    let error = verifier
        .verify(&signed, &VerifyPolicy::any())
        .await
        .expect_err("refused after revocation");
    match &error {
        VerifyError::Revoked {
            serial,
            revoked_at: at,
            reason,
        } => {
            assert_eq!(serial, &issued.serial);
            assert_eq!(*at, revoked_at);
            assert_eq!(reason, "keyCompromise");
        }
        other => panic!("expected Revoked, got {other}"),
    }
    assert_eq!(error.status(), StatusCode::CertificateRevoked);

    centre.stop().await;
}

#[tokio::test]
async fn revoking_twice_fails_the_precondition_naming_when() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Auth)).await;
    let first = revoke(&mut client, &issued.serial, RevocationReason::Superseded)
        .await
        .expect("first revocation");

    let error = revoke(&mut client, &issued.serial, RevocationReason::KeyCompromise)
        .await
        .expect_err("second revocation refused");

    assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    assert!(
        error.message().contains(&issued.serial),
        "{}",
        error.message()
    );
    assert!(
        error.message().contains(&first.year().to_string()),
        "{}",
        error.message()
    );
    centre.stop().await;
}

#[tokio::test]
async fn revoking_refuses_an_unknown_serial_a_malformed_one_and_no_reason() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;

    let unknown = revoke(&mut client, "0badc0de", RevocationReason::KeyCompromise)
        .await
        .expect_err("unknown serial");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    assert!(
        unknown.message().contains("0badc0de"),
        "{}",
        unknown.message()
    );

    let malformed = revoke(&mut client, "not-hex", RevocationReason::KeyCompromise)
        .await
        .expect_err("malformed serial");
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument);
    assert!(
        malformed.message().contains("serial"),
        "{}",
        malformed.message()
    );

    let no_reason = revoke(&mut client, &issued.serial, RevocationReason::Unspecified)
        .await
        .expect_err("no reason");
    assert_eq!(no_reason.code(), tonic::Code::InvalidArgument);
    assert!(
        no_reason.message().contains("reason"),
        "{}",
        no_reason.message()
    );

    centre.stop().await;
}

#[tokio::test]
async fn a_serial_never_issued_is_unknown_and_a_malformed_one_is_refused() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;

    let status = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: "7fffffffffffffff".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), CertificateStatus::Unknown);
    assert!(status.revoked_at.is_none());
    assert!(status.produced_at.is_some());

    let error = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: "serial-42".into(),
        })
        .await
        .expect_err("not hex");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    assert!(error.message().contains("serial"), "{}", error.message());

    centre.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_data_dir_keeps_the_ca_the_revocations_and_the_serials() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let ca_before = client
        .get_ca_certificates(GetCaCertificatesRequest {})
        .await
        .unwrap()
        .into_inner();
    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;
    let revoked_at = revoke(
        &mut client,
        &issued.serial,
        RevocationReason::CessationOfOperation,
    )
    .await
    .unwrap();
    drop(client);
    centre.stop().await;

    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let ca_after = client
        .get_ca_certificates(GetCaCertificatesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ca_after.root_der, ca_before.root_der);
    assert_eq!(ca_after.intermediate_der, ca_before.intermediate_der);
    let status = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: issued.serial.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), CertificateStatus::Revoked);
    assert_eq!(status.reason(), RevocationReason::CessationOfOperation);
    assert_eq!(
        egov_core::envelope::from_timestamp(&status.revoked_at.unwrap()),
        Some(revoked_at)
    );
    let next = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;
    assert_ne!(
        next.serial, issued.serial,
        "serials never repeat across restarts"
    );

    centre.stop().await;
}

#[tokio::test]
async fn the_crl_lists_the_revoked_serial_and_verifies_with_the_intermediate_key() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let revoked = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;
    let kept = issue(&mut client, person(OTHER_IIN, KeyUsage::Sign)).await;
    revoke(
        &mut client,
        &revoked.serial,
        RevocationReason::AffiliationChanged,
    )
    .await
    .unwrap();

    let (content_type, der) = centre.get("/crl").await;
    assert_eq!(content_type, "application/pkix-crl");
    let (rest, crl) = CertificateRevocationList::from_der(&der).expect("CRL parses");
    assert!(rest.is_empty());
    let serials: Vec<String> = crl
        .iter_revoked_certificates()
        .map(|entry| egov_core::pki::serial_hex(entry.raw_serial()))
        .collect();
    assert_eq!(serials, vec![revoked.serial.clone()]);
    assert!(!serials.contains(&kept.serial));

    let (_, intermediate_der) = centre.get("/ca/intermediate.der").await;
    assert_eq!(intermediate_der, revoked.chain_der[0]);
    let (_, intermediate) =
        x509_parser::parse_x509_certificate(&intermediate_der).expect("intermediate parses");
    crl.verify_signature(intermediate.public_key())
        .expect("the CRL is signed by the intermediate");
    let (_, root_der) = centre.get("/ca/root.der").await;
    assert_eq!(root_der, revoked.chain_der[1]);

    let first_number = crl.crl_number().cloned().expect("CRL number");
    let (_, again) = centre.get("/crl").await;
    let (_, again) = x509_parser::parse_x509_crl(&again).expect("second CRL parses");
    assert!(again.crl_number().cloned().expect("CRL number") > first_number);

    centre.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let cases = [
        (
            "IIN with letters",
            IssueCertificateRequest {
                iin: "85010230013A".into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "iin",
        ),
        (
            "IIN of wrong length",
            IssueCertificateRequest {
                iin: "8501023001".into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "iin",
        ),
        (
            "IIN with a wrong check digit",
            IssueCertificateRequest {
                iin: "850102300132".into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "iin",
        ),
        (
            "organisation role without BIN",
            employee(CLERK_IIN, "", CertificateRole::Employee),
            "bin",
        ),
        (
            "organisation role with a bad BIN",
            employee(CLERK_IIN, "120140000058", CertificateRole::Head),
            "bin",
        ),
        (
            "individual with a BIN",
            IssueCertificateRequest {
                bin: OTHER_BIN.into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "bin",
        ),
        (
            "unspecified role",
            IssueCertificateRequest {
                role: CertificateRole::Unspecified.into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "role",
        ),
        (
            "unknown role",
            IssueCertificateRequest {
                role: 42,
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "role",
        ),
        (
            "unspecified usage",
            person(CITIZEN_IIN, KeyUsage::Unspecified),
            "key_usage",
        ),
        (
            "empty surname",
            IssueCertificateRequest {
                surname: "  ".into(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "surname",
        ),
        (
            "empty given name",
            IssueCertificateRequest {
                given_name: String::new(),
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "given_name",
        ),
        (
            "validity beyond the CA",
            IssueCertificateRequest {
                validity_days: 100 * 365,
                ..person(CITIZEN_IIN, KeyUsage::Sign)
            },
            "validity_days",
        ),
    ];

    // A well-formed request for the valid person: the fields are checked before it.
    let key = KeyMaterial::generate().expect("key");
    let valid = person(CITIZEN_IIN, KeyUsage::Sign);
    let csr = egov_core::pki::request::build(&holder_of(&valid), &key).expect("request");
    for (case, request, field) in cases {
        let error = client
            .issue_certificate(as_registrar(request, csr.clone()))
            .await
            .expect_err(case);
        assert_eq!(
            error.code(),
            tonic::Code::InvalidArgument,
            "{case}: {error}"
        );
        assert!(
            error.message().contains(&format!("{field}: ")),
            "{case}: {}",
            error.message()
        );
        assert_eq!(
            StatusCode::from_grpc(&error),
            Some(StatusCode::InvalidRequest),
            "{case}"
        );
    }

    centre.stop().await;
}

#[tokio::test]
async fn an_unreachable_centre_is_a_revocation_error_not_an_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let issued = issue(
        &mut centre.client().await,
        person(CITIZEN_IIN, KeyUsage::Sign),
    )
    .await;
    centre.stop().await;

    let error = verifier(&issued, channel)
        .verify(
            &envelope(&signer(&issued), CITIZEN_IIN),
            &VerifyPolicy::any(),
        )
        .await
        .expect_err("no answer, no trust");
    assert!(
        matches!(error, VerifyError::RevocationUnavailable(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn health_reports_the_centre_serving_and_metrics_count_issued_certificates() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut health = HealthClient::new(centre.channel().await);
    for service in ["egov.v1.CertificationCentre", ""] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health answers")
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    issue(
        &mut centre.client().await,
        employee(CLERK_IIN, OTHER_BIN, CertificateRole::Head),
    )
    .await;

    let (_, body) = centre.get("/health").await;
    assert!(String::from_utf8_lossy(&body).contains("\"ok\""));
    let (_, metrics) = centre.get("/metrics").await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("pki_certificates_issued_total{role=\"head\""),
        "{metrics}"
    );

    centre.stop().await;
}

/// A legal entity's seal request (the form every system enrols with).
fn seal(bin: &str) -> IssueCertificateRequest {
    IssueCertificateRequest {
        surname: "LABOR".into(),
        given_name: "SEAL".into(),
        iin: CLERK_IIN.into(),
        bin: bin.into(),
        organization: "Labour market".into(),
        role: CertificateRole::LegalEntity.into(),
        key_usage: KeyUsage::Sign.into(),
        ..Default::default()
    }
}

/// Sends `request` with a request signed by a fresh key, and with `token` if any.
async fn enrol_with_token(
    client: &mut CertificationCentreClient<Channel>,
    request: IssueCertificateRequest,
    token: Option<&str>,
) -> Result<IssueCertificateResponse, tonic::Status> {
    let key = KeyMaterial::generate().expect("key");
    let csr = egov_core::pki::request::build(&holder_of(&request), &key).expect("request");
    let mut call = tonic::Request::new(IssueCertificateRequest {
        certification_request_der: csr,
        ..request
    });
    if let Some(token) = token {
        call.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    client.issue_certificate(call).await.map(|r| r.into_inner())
}

/// Opens the stopped centre's database and counts its certificates.
async fn certificates_stored(config: &Config) -> i64 {
    let store = egov_pki::store::Store::open(&config.database_url())
        .await
        .expect("store");
    let count = store.certificate_count().await.expect("count");
    store.close().await;
    count
}

fn refused_with(result: Result<IssueCertificateResponse, tonic::Status>, code: StatusCode) {
    let error = result.expect_err("refused");
    assert_eq!(StatusCode::from_grpc(&error), Some(code), "{error}");
}

#[tokio::test]
async fn enrolment_without_a_credential_is_refused_with_epki002_and_nothing_is_stored() {
    let dir = TempDir::new().unwrap();
    let config = Config::with_data_dir(dir.path());
    let centre = Centre::start_with(config.clone()).await;
    let mut client = centre.client().await;

    refused_with(
        enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), None).await,
        StatusCode::EnrolmentUnauthorized,
    );
    refused_with(
        enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), Some("guessed")).await,
        StatusCode::EnrolmentUnauthorized,
    );
    let mut wrong_password = tonic::Request::new(IssueCertificateRequest {
        certification_request_der: egov_core::pki::request::build(
            &holder_of(&seal(EMPLOYMENT_CENTRE_BIN)),
            &KeyMaterial::generate().unwrap(),
        )
        .unwrap(),
        ..seal(EMPLOYMENT_CENTRE_BIN)
    });
    wrong_password.metadata_mut().insert(
        egov_pki::enrolment::REGISTRAR_LOGIN,
        REGISTRAR.parse().unwrap(),
    );
    wrong_password.metadata_mut().insert(
        egov_pki::enrolment::REGISTRAR_PASSWORD,
        "not the password".parse().unwrap(),
    );
    refused_with(
        client
            .issue_certificate(wrong_password)
            .await
            .map(|r| r.into_inner()),
        StatusCode::EnrolmentUnauthorized,
    );

    centre.stop().await;
    assert_eq!(certificates_stored(&config).await, 0);
}

#[tokio::test]
async fn an_enrolment_token_enrols_its_own_bin_and_role_once() {
    let dir = TempDir::new().unwrap();
    let token = egov_pki::enrolment::IssuedToken::new(
        "EGOV_LABOR__ENROLMENT_TOKEN",
        Role::LegalEntity,
        EMPLOYMENT_CENTRE_BIN,
    )
    .expect("token");
    let other =
        egov_pki::enrolment::IssuedToken::new("X", Role::LegalEntity, OTHER_BIN).expect("token");
    let config = Config {
        enrolment_grants: format!("{},{}", token.grant.line(), other.grant.line()),
        ..Config::with_data_dir(dir.path())
    };
    let centre = Centre::start_with(config.clone()).await;
    let mut client = centre.client().await;

    // Bound to another BIN, or to the legal entity but asked for a head: refused, not consumed.
    refused_with(
        enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), Some(&other.token)).await,
        StatusCode::EnrolmentUnauthorized,
    );
    refused_with(
        enrol_with_token(
            &mut client,
            IssueCertificateRequest {
                role: CertificateRole::Head.into(),
                ..seal(EMPLOYMENT_CENTRE_BIN)
            },
            Some(&token.token),
        )
        .await,
        StatusCode::EnrolmentUnauthorized,
    );
    let issued = enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), Some(&token.token))
        .await
        .expect("the token enrols its BIN");
    let certificate = CertificateInfo::from_der(&issued.certificate_der).unwrap();
    assert_eq!(
        certificate.bin.map(|bin| bin.to_string()).as_deref(),
        Some(EMPLOYMENT_CENTRE_BIN)
    );
    refused_with(
        enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), Some(&token.token)).await,
        StatusCode::EnrolmentUnauthorized,
    );
    centre.stop().await;
    assert_eq!(certificates_stored(&config).await, 1);

    // A restart reads the same grants again: the used token stays used.
    let centre = Centre::start_with(config.clone()).await;
    refused_with(
        enrol_with_token(
            &mut centre.client().await,
            seal(EMPLOYMENT_CENTRE_BIN),
            Some(&token.token),
        )
        .await,
        StatusCode::EnrolmentUnauthorized,
    );
    centre.stop().await;
}

#[tokio::test]
async fn enrolment_is_refused_when_the_token_has_expired() {
    let dir = TempDir::new().unwrap();
    let issued_at = time::macros::datetime!(2026-12-07 09:00 UTC);
    let clock = VirtualClock::new(issued_at);
    let token = |bin| {
        egov_pki::enrolment::IssuedToken::issued_at(
            "X",
            Role::LegalEntity,
            bin,
            issued_at,
            time::Duration::hours(1),
        )
        .expect("token")
    };
    let (early, late) = (token(EMPLOYMENT_CENTRE_BIN), token(OTHER_BIN));
    let config = Config {
        enrolment_grants: format!("{},{}", early.grant.line(), late.grant.line()),
        ..Config::with_data_dir(dir.path())
    };
    let centre = Centre::start_on(config.clone(), clock.shared()).await;
    let mut client = centre.client().await;

    clock.advance(std::time::Duration::from_secs(59 * 60)).await;
    enrol_with_token(&mut client, seal(EMPLOYMENT_CENTRE_BIN), Some(&early.token))
        .await
        .expect("a minute before its expiry the token enrols");

    clock.advance(std::time::Duration::from_secs(60)).await;
    let error = enrol_with_token(&mut client, seal(OTHER_BIN), Some(&late.token))
        .await
        .expect_err("expired on the centre's clock");
    assert_eq!(
        StatusCode::from_grpc(&error),
        Some(StatusCode::EnrolmentUnauthorized),
        "{error}"
    );
    assert!(
        error
            .message()
            .contains("the enrolment token expired at 2026-12-07T10:00:00Z"),
        "{error}"
    );
    centre.stop().await;
    assert_eq!(
        certificates_stored(&config).await,
        1,
        "the refusal stored nothing"
    );
}

#[tokio::test]
async fn a_grant_written_before_expiries_expires_the_configured_lifetime_after_the_centre_first_read_it()
 {
    let dir = TempDir::new().unwrap();
    let first_read = time::macros::datetime!(2026-12-07 09:00 UTC);
    let clock = VirtualClock::new(first_read);
    let token =
        egov_pki::enrolment::IssuedToken::new("X", Role::LegalEntity, OTHER_BIN).expect("token");
    let old_entry = format!("legal_entity:{OTHER_BIN}:{}", token.grant.token_sha256);
    let config = Config {
        enrolment_grants: old_entry,
        enrolment_token_lifetime_hours: 2,
        ..Config::with_data_dir(dir.path())
    };
    // The centre reads the old entry, then restarts two hours later and reads it again.
    Centre::start_on(config.clone(), clock.shared())
        .await
        .stop()
        .await;
    clock
        .advance(std::time::Duration::from_secs(2 * 3600))
        .await;
    let centre = Centre::start_on(config.clone(), clock.shared()).await;

    let error = enrol_with_token(
        &mut centre.client().await,
        seal(OTHER_BIN),
        Some(&token.token),
    )
    .await
    .expect_err("the second reading does not extend the first");
    assert!(
        error
            .message()
            .contains("the enrolment token expired at 2026-12-07T11:00:00Z"),
        "{error}"
    );
    centre.stop().await;
}

#[tokio::test]
async fn a_grant_from_egov_up_enrols_for_one_lifetime_from_the_stacks_now_even_days_past_the_wall_clock()
 {
    let dir = TempDir::new().unwrap();
    // A data dir reused under the virtual clock: the stack's time is 30 days past the wall's.
    let stack_now = SystemClock.now() + time::Duration::days(30);
    let clock = VirtualClock::new(stack_now);
    let tokens = egov_pki::enrolment::stack_tokens().expect("tokens");
    let token_of = |system: &egov_core::systems::SystemInfo| {
        let env = egov_pki::enrolment::token_env(system);
        tokens
            .iter()
            .find(|token| token.env == env)
            .map(|token| token.token.clone())
            .expect("a token per system")
    };
    let config = Config {
        enrolment_grants: egov_pki::enrolment::grants_text(&tokens),
        ..Config::with_data_dir(dir.path())
    };
    let centre = Centre::start_on(config.clone(), clock.shared()).await;
    let mut client = centre.client().await;

    let labor = &egov_core::systems::LABOR;
    enrol_with_token(&mut client, seal(labor.bin), Some(&token_of(labor)))
        .await
        .expect("a fresh grant enrols at once, whatever the stack's time");

    clock
        .advance(std::time::Duration::from_secs(24 * 3600 - 60))
        .await;
    let notary = &egov_core::systems::NOTARY;
    enrol_with_token(&mut client, seal(notary.bin), Some(&token_of(notary)))
        .await
        .expect("a minute before one lifetime has passed on the stack's clock");

    clock.advance(std::time::Duration::from_secs(60)).await;
    let citizens = &egov_core::systems::CITIZENS;
    let error = enrol_with_token(&mut client, seal(citizens.bin), Some(&token_of(citizens)))
        .await
        .expect_err("one lifetime after the centre first read it, on the stack's clock");
    assert_eq!(
        StatusCode::from_grpc(&error),
        Some(StatusCode::EnrolmentUnauthorized),
        "{error}"
    );
    assert!(error.message().contains("expired"), "{error}");
    centre.stop().await;
    assert_eq!(certificates_stored(&config).await, 2);
}

#[tokio::test]
async fn a_malformed_or_forged_certification_request_is_refused_with_epki003() {
    let dir = TempDir::new().unwrap();
    let config = Config::with_data_dir(dir.path());
    let centre = Centre::start_with(config.clone()).await;
    let mut client = centre.client().await;
    let request = person(CITIZEN_IIN, KeyUsage::Sign);
    let mut forged =
        egov_core::pki::request::build(&holder_of(&request), &KeyMaterial::generate().unwrap())
            .unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 0x01;

    for (case, csr) in [
        ("no request", Vec::new()),
        ("garbage", b"definitely not a PKCS#10 request".to_vec()),
        ("signature broken", forged),
    ] {
        let error = client
            .issue_certificate(as_registrar(request.clone(), csr))
            .await
            .expect_err(case);
        assert_eq!(
            StatusCode::from_grpc(&error),
            Some(StatusCode::CertificationRequestInvalid),
            "{case}: {error}"
        );
    }
    centre.stop().await;
    assert_eq!(certificates_stored(&config).await, 0);
}

#[tokio::test]
async fn a_request_naming_another_subject_is_refused_with_epki004() {
    let dir = TempDir::new().unwrap();
    let config = Config::with_data_dir(dir.path());
    let centre = Centre::start_with(config.clone()).await;
    let mut client = centre.client().await;
    // The holder signs a request for its own BIN, then asks for another organisation's seal.
    let own = egov_core::pki::request::build(
        &holder_of(&seal(EMPLOYMENT_CENTRE_BIN)),
        &KeyMaterial::generate().unwrap(),
    )
    .unwrap();
    let error = client
        .issue_certificate(as_registrar(seal(OTHER_BIN), own))
        .await
        .expect_err("refused");
    assert_eq!(
        StatusCode::from_grpc(&error),
        Some(StatusCode::CertificationSubjectMismatch),
        "{error}"
    );
    centre.stop().await;
    assert_eq!(certificates_stored(&config).await, 0);
}

#[tokio::test]
async fn revocation_needs_a_registrar_and_a_refused_one_leaves_the_certificate_good() {
    let dir = TempDir::new().unwrap();
    let centre = Centre::start(dir.path()).await;
    let mut client = centre.client().await;
    let issued = issue(&mut client, person(CITIZEN_IIN, KeyUsage::Sign)).await;

    let error = client
        .revoke_certificate(RevokeCertificateRequest {
            serial: issued.serial.clone(),
            reason: RevocationReason::KeyCompromise.into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(
        StatusCode::from_grpc(&error),
        Some(StatusCode::EnrolmentUnauthorized),
        "{error}"
    );
    let status = client
        .get_certificate_status(GetCertificateStatusRequest {
            serial: issued.serial.clone(),
        })
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.status(), CertificateStatus::Good);

    centre.stop().await;
}

#[tokio::test]
async fn the_ca_comes_from_an_owner_only_generated_secret_not_a_default_seed() {
    let (one, two) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let first = Centre::start(one.path()).await;
    let second = Centre::start(two.path()).await;
    let root = |centre: &Centre| {
        let centre = centre.grpc;
        async move {
            let channel = Channel::from_shared(format!("http://{centre}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            CertificationCentreClient::new(channel)
                .get_ca_certificates(GetCaCertificatesRequest {})
                .await
                .unwrap()
                .into_inner()
                .root_der
        }
    };
    assert_ne!(
        root(&first).await,
        root(&second).await,
        "two centres share no key"
    );
    first.stop().await;
    second.stop().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["ca.secret", "pki.db"] {
            let mode = std::fs::metadata(one.path().join(file))
                .expect(file)
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{file} is readable by others: {mode:o}");
        }
    }
}

#[tokio::test]
async fn the_generator_step_writes_each_system_an_owner_only_token_that_enrols_its_seal() {
    let dir = TempDir::new().unwrap();
    let tokens = dir.path().join("enrolment");
    let config = Config {
        enrolment_tokens_dir: Some(tokens.clone()),
        ..Config::with_data_dir(dir.path().join("pki"))
    };
    let centre = Centre::start_with(config).await;
    let mut client = centre.client().await;
    // An answer means the centre has opened, and so written the tokens.
    client
        .get_ca_certificates(GetCaCertificatesRequest {})
        .await
        .expect("serving");
    let labor = std::fs::read_to_string(tokens.join("labor.token")).expect("labor's token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(tokens.join("labor.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let grants = std::fs::read_to_string(tokens.join("grants")).expect("grants");
    assert!(
        !grants.contains(labor.trim()),
        "the grants hold digests only"
    );
    let expiries = egov_pki::enrolment::Grant::parse_all(&grants).expect("grants read");
    assert!(
        expiries.iter().all(|grant| grant.expires_at.is_some()),
        "every generated token expires"
    );

    enrol_with_token(
        &mut client,
        IssueCertificateRequest {
            surname: "LABOR".into(),
            ..seal(egov_core::systems::LABOR.bin)
        },
        Some(labor.trim()),
    )
    .await
    .expect("labor's token enrols labor's seal");
    centre.stop().await;
}

/// Opens the centre's state on `dir` as the server does at start.
async fn open_centre(dir: &Path) -> Result<egov_pki::Centre, PkiError> {
    egov_pki::Centre::open(
        &Config::with_data_dir(dir),
        egov_core::clock::SystemClock::shared(),
    )
    .await
}

/// Reads the stored CA row of the centre on `dir`.
async fn stored_ca(dir: &Path) -> egov_pki::store::StoredCa {
    let store = egov_pki::store::Store::open(&Config::with_data_dir(dir).database_url())
        .await
        .expect("store");
    let ca = store.ca().await.expect("read").expect("a CA is stored");
    store.close().await;
    ca
}

#[tokio::test]
async fn the_database_holds_the_ca_certificates_but_never_its_private_keys() {
    let dir = TempDir::new().unwrap();
    drop(open_centre(dir.path()).await.expect("first start"));
    let ca = stored_ca(dir.path()).await;
    assert!(!ca.root_der.is_empty() && !ca.intermediate_der.is_empty());
    assert!(!ca.holds_keys(), "the keys derive from ca.secret");
    // A restart signs with the same CA, its keys derived again from the secret.
    drop(open_centre(dir.path()).await.expect("restart"));
    assert_eq!(stored_ca(dir.path()).await.root_der, ca.root_der);
}

#[tokio::test]
async fn a_centre_refuses_to_start_with_a_ca_secret_that_did_not_make_its_ca() {
    let dir = TempDir::new().unwrap();
    drop(open_centre(dir.path()).await.expect("first start"));
    let secret = dir.path().join("ca.secret");
    std::fs::write(&secret, "0".repeat(64)).expect("another secret");
    let Err(error) = open_centre(dir.path()).await else {
        panic!("a centre started with a secret that did not make its CA");
    };
    let error = error.to_string();
    assert!(
        error.contains(&format!(
            "{} did not make the CA in the database",
            secret.display()
        )),
        "{error}"
    );
}

#[tokio::test]
async fn ca_keys_an_older_centre_stored_are_removed_from_the_database_at_start() {
    let dir = TempDir::new().unwrap();
    // As an older centre left it: its secret, and the keys beside the certificates.
    let secret = "5ec7e7".repeat(11);
    std::fs::write(dir.path().join("ca.secret"), &secret).expect("secret");
    let older = egov_core::pki::authority::CaHierarchy::generate(
        secret.as_bytes(),
        OffsetDateTime::UNIX_EPOCH,
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(365 * 100),
    )
    .expect("hierarchy");
    let store = egov_pki::store::Store::open(&Config::with_data_dir(dir.path()).database_url())
        .await
        .expect("store");
    let row = egov_pki::store::StoredCa {
        root_der: older.root.certificate().der.to_vec(),
        root_key_pkcs8: older.root.key().pkcs8().to_vec(),
        intermediate_der: older.intermediate.certificate().der.to_vec(),
        intermediate_key_pkcs8: older.intermediate.key().pkcs8().to_vec(),
    };
    assert!(
        store
            .insert_ca(&row, OffsetDateTime::now_utc())
            .await
            .expect("stored")
    );
    store.close().await;

    drop(open_centre(dir.path()).await.expect("start"));
    let ca = stored_ca(dir.path()).await;
    assert!(!ca.holds_keys(), "the keys are gone from the database");
    assert_eq!(ca.root_der, row.root_der, "the same CA goes on");
}
