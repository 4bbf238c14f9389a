//! The gateway's sync channel end to end, in-process: a sender, the gateway
//! and a signed echo target on loopback. One test per status code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::clock::SystemClock;
use egov_core::envelope::{StaticRevocation, Verifier, request_header};
use egov_core::pki::Role;
use egov_core::pki::authority::{CaHierarchy, Credential, Holder};
use egov_gateway::exchange::STATUS_CODE_METADATA;
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{Envelope, Header, SendMessageRequest};
use egov_testkit::credentials::{holder, signer, start_echo_target, test_ca, valid_from, valid_to};
use prost::Message;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tonic::transport::Channel;

const SEED: &[u8] = b"gateway-sync-tests";
const PORTAL_BIN: &str = "120140000057";
const CITIZENS_BIN: &str = "050840001233";
const NOTARY_BIN: &str = "991240007774";
const CITIZEN_IIN: &str = "850102300131";
const OPERATOR_IIN: &str = "900715400349";
const OTHER_IIN: &str = "190305600014";

fn issue(
    ca: &CaHierarchy,
    holder: &Holder,
    serial: u8,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Credential {
    ca.issue_derived(holder, SEED, &[0x20, serial], from, to)
        .expect("credential")
}

/// Issues `holder` a credential valid from a month ago for a year.
fn issue_valid(ca: &CaHierarchy, holder: &Holder, serial: u8) -> Credential {
    issue(ca, holder, serial, valid_from(), valid_to())
}

/// A running gateway with its systems' credentials.
struct Stack {
    _dir: TempDir,
    registry_path: PathBuf,
    ca: CaHierarchy,
    portal: Credential,
    citizen: Credential,
    revocation: Arc<StaticRevocation>,
    client: GatewayClient<Channel>,
    channel: Channel,
    http: SocketAddr,
}

fn registry_text(echo: SocketAddr, slow: SocketAddr, dead: SocketAddr, senders: &str) -> String {
    format!(
        r#"
[systems.portal]
bin = "{PORTAL_BIN}"
[systems.citizens]
bin = "{CITIZENS_BIN}"
[systems.notary]
bin = "{NOTARY_BIN}"

[services."citizens.person.get"]
target = "citizens"
grpc = "http://{echo}"
timeout_ms = 2000
allowed_senders = [{senders}]

[services."citizens.slow"]
target = "citizens"
grpc = "http://{slow}"
timeout_ms = 200
allowed_senders = ["portal"]

[services."citizens.down"]
target = "citizens"
grpc = "http://{dead}"
timeout_ms = 2000
allowed_senders = ["portal"]

[services."notary.power-of-attorney.get"]
target = "notary"
grpc = "http://{echo}"
allowed_senders = ["portal"]
"#
    )
}

async fn start() -> Stack {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = test_ca(SEED);
    let portal = issue_valid(
        &ca,
        &holder(OPERATOR_IIN, Some(PORTAL_BIN), Role::LegalEntity),
        1,
    );
    let citizens = issue_valid(
        &ca,
        &holder(OPERATOR_IIN, Some(CITIZENS_BIN), Role::LegalEntity),
        2,
    );
    let citizen = issue_valid(&ca, &holder(CITIZEN_IIN, None, Role::Individual), 3);

    let echo = start_echo_target(signer(&citizens), Duration::ZERO).await;
    let slow = start_echo_target(signer(&citizens), Duration::from_secs(2)).await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let registry_path = dir.path().join("registry.toml");
    std::fs::write(
        &registry_path,
        registry_text(echo, slow, dead, "\"portal\""),
    )
    .expect("registry");

    let revocation = Arc::new(StaticRevocation::new());
    let gateway = Gateway::new(GatewayParts {
        system_id: "shep".into(),
        registry: Arc::new(RegistryHandle::open(registry_path.clone()).expect("registry")),
        verifier: Verifier::new(vec![ca.root.certificate().clone()], revocation.clone()),
        replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
        log: MessageLog::connect(&format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("log.db").display()
        ))
        .await
        .expect("log"),
        clock: SystemClock::shared(),
        max_message_bytes: 64 * 1024,
        nats: None,
    })
    .with_operators(egov_testkit::service::operators());
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_addr = grpc.local_addr().expect("addr");
    let http_addr = http.local_addr().expect("addr");
    tokio::spawn(egov_gateway::serve(
        Arc::new(gateway),
        Listeners { grpc, http },
        std::future::pending(),
    ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
        .expect("endpoint")
        .connect_lazy();
    Stack {
        _dir: dir,
        registry_path,
        ca,
        portal,
        citizen,
        revocation,
        client: GatewayClient::new(channel.clone()),
        channel,
        http: http_addr,
    }
}

/// A citizen's request, countersigned by the portal as the sending system.
fn portal_request(stack: &Stack, service_id: &str, receiver: &str) -> Envelope {
    let mut header = request_header(service_id, "portal", receiver, OffsetDateTime::now_utc());
    header.user_iin = CITIZEN_IIN.into();
    let mut envelope = signer(&stack.citizen)
        .seal(&header, b"GetPersonRequest bytes".to_vec())
        .expect("seal");
    signer(&stack.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    envelope
}

async fn send(stack: &Stack, envelope: Envelope) -> Result<Envelope, (StatusCode, String)> {
    let mut client = stack.client.clone();
    match client
        .send_message(SendMessageRequest {
            envelope: Some(envelope),
        })
        .await
    {
        Ok(answer) => {
            let answer = answer.into_inner();
            assert_eq!(answer.status.expect("status").code, "SCSS001");
            Ok(answer.envelope.expect("answer envelope"))
        }
        Err(status) => {
            let code = StatusCode::from_grpc(&status).expect("our code in the message");
            let meta = status
                .metadata()
                .get(STATUS_CODE_METADATA)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            assert_eq!(meta.as_deref(), Some(code.as_str()));
            assert_eq!(status.code(), code.grpc_code());
            Err((code, status.message().to_owned()))
        }
    }
}

async fn refused(stack: &Stack, envelope: Envelope) -> StatusCode {
    send(stack, envelope).await.expect_err("must be refused").0
}

#[tokio::test]
async fn sync_exchange_succeeds_with_scss001_and_the_targets_signed_answer() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    let request_header = Header::decode(&request.header[..]).expect("header");
    let answer = send(&stack, request).await.expect("answered");
    let header = Header::decode(&answer.header[..]).expect("answer header");
    assert_eq!(header.correlation_id, request_header.correlation_id);
    assert_eq!(header.in_reply_to, request_header.message_id);
    assert_eq!(answer.payload[..], b"GetPersonRequest bytes"[..]);
}

#[tokio::test]
async fn unknown_service_id_is_refused_with_esrv001() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.nothing.here", "citizens");
    assert_eq!(refused(&stack, request).await, StatusCode::UnknownService);
}

#[tokio::test]
async fn sender_not_allowed_on_the_route_is_refused_with_eacc001() {
    let stack = start().await;
    // notary is a known system, but no route lets it call citizens.person.get.
    let mut header = request_header(
        "citizens.person.get",
        "notary",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = CITIZEN_IIN.into();
    let notary = issue(
        &stack.ca,
        &holder(OPERATOR_IIN, Some(NOTARY_BIN), Role::LegalEntity),
        9,
        valid_from(),
        valid_to(),
    );
    let envelope = signer(&notary)
        .seal(
            &Header {
                user_iin: String::new(),
                ..header
            },
            vec![],
        )
        .expect("seal");
    assert_eq!(refused(&stack, envelope).await, StatusCode::AccessDenied);
}

#[tokio::test]
async fn unsigned_envelope_is_refused_with_esig001() {
    let stack = start().await;
    let mut request = portal_request(&stack, "citizens.person.get", "citizens");
    request.signatures.clear();
    assert_eq!(refused(&stack, request).await, StatusCode::SignatureMissing);
}

#[tokio::test]
async fn tampered_envelope_is_refused_with_esig002() {
    let stack = start().await;
    let mut request = portal_request(&stack, "citizens.person.get", "citizens");
    request.payload = bytes::Bytes::from_static(b"changed after signing");
    assert_eq!(refused(&stack, request).await, StatusCode::InvalidSignature);
}

#[tokio::test]
async fn expired_certificate_is_refused_with_esig003() {
    let stack = start().await;
    let now = OffsetDateTime::now_utc();
    let expired = issue(
        &stack.ca,
        &holder(CITIZEN_IIN, None, Role::Individual),
        10,
        now - time::Duration::days(400),
        now - time::Duration::days(1),
    );
    let mut header = request_header("citizens.person.get", "portal", "citizens", now);
    header.user_iin = CITIZEN_IIN.into();
    let mut envelope = signer(&expired).seal(&header, vec![]).expect("seal");
    signer(&stack.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    assert_eq!(
        refused(&stack, envelope).await,
        StatusCode::CertificateExpired
    );
}

#[tokio::test]
async fn revoked_certificate_is_refused_with_esig004() {
    let stack = start().await;
    stack.revocation.revoke(
        &stack.citizen.certificate.serial,
        OffsetDateTime::now_utc(),
        "key compromise",
    );
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    assert_eq!(
        refused(&stack, request).await,
        StatusCode::CertificateRevoked
    );
}

#[tokio::test]
async fn certificate_from_an_untrusted_centre_is_refused_with_esig005() {
    let stack = start().await;
    let foreign = test_ca(b"foreign");
    let impostor = issue_valid(
        &foreign,
        &holder(OPERATOR_IIN, Some(PORTAL_BIN), Role::LegalEntity),
        1,
    );
    let header = request_header(
        "citizens.person.get",
        "portal",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    let envelope = signer(&impostor).seal(&header, vec![]).expect("seal");
    assert_eq!(
        refused(&stack, envelope).await,
        StatusCode::CertificateUntrusted
    );
}

#[tokio::test]
async fn request_iin_differing_from_the_certificate_is_refused_with_esig007() {
    let stack = start().await;
    let mut header = request_header(
        "citizens.person.get",
        "portal",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = OTHER_IIN.into();
    let mut envelope = signer(&stack.citizen).seal(&header, vec![]).expect("seal");
    signer(&stack.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    assert_eq!(refused(&stack, envelope).await, StatusCode::IinMismatch);
}

#[tokio::test]
async fn sender_without_its_systems_bin_signature_is_refused_with_esig007() {
    let stack = start().await;
    let mut header = request_header(
        "citizens.person.get",
        "portal",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = CITIZEN_IIN.into();
    // Signed by the citizen only: nothing proves the portal sent it.
    let envelope = signer(&stack.citizen).seal(&header, vec![]).expect("seal");
    assert_eq!(refused(&stack, envelope).await, StatusCode::IinMismatch);
}

#[tokio::test]
async fn slow_target_is_refused_with_etrg001() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.slow", "citizens");
    assert_eq!(refused(&stack, request).await, StatusCode::TargetTimeout);
}

#[tokio::test]
async fn unreachable_target_is_refused_with_etrg002() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.down", "citizens");
    assert_eq!(
        refused(&stack, request).await,
        StatusCode::TargetUnavailable
    );
}

#[tokio::test]
async fn oversized_envelope_is_refused_with_emsg002() {
    let stack = start().await;
    let mut header = request_header(
        "citizens.person.get",
        "portal",
        "citizens",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = CITIZEN_IIN.into();
    let mut envelope = signer(&stack.citizen)
        // Over the 64 KiB limit, under the decoder's (the limit and a request's framing).
        .seal(&header, vec![0u8; 70 * 1024])
        .expect("seal");
    signer(&stack.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    assert_eq!(refused(&stack, envelope).await, StatusCode::MessageTooLarge);
}

#[tokio::test]
async fn replayed_message_id_is_refused_with_emsg003() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    send(&stack, request.clone()).await.expect("first time");
    assert_eq!(
        refused(&stack, request).await,
        StatusCode::DuplicateMessageId
    );
}

#[tokio::test]
async fn malformed_header_is_refused_with_emsg001_and_the_gateway_keeps_serving() {
    let stack = start().await;
    let mut request = portal_request(&stack, "citizens.person.get", "citizens");
    request.header = bytes::Bytes::from_static(&[0xff, 0xff, 0xff]);
    assert_eq!(refused(&stack, request).await, StatusCode::MalformedMessage);
    let mut client = stack.client.clone();
    let missing = client
        .send_message(SendMessageRequest { envelope: None })
        .await
        .expect_err("no envelope");
    assert_eq!(
        StatusCode::from_grpc(&missing),
        Some(StatusCode::MalformedMessage)
    );
    send(
        &stack,
        portal_request(&stack, "citizens.person.get", "citizens"),
    )
    .await
    .expect("still serving");
}

#[tokio::test]
async fn answer_signed_by_another_system_than_the_target_is_refused() {
    let stack = start().await;
    // The echo target signs as citizens, but this route's target is notary.
    let mut header = request_header(
        "notary.power-of-attorney.get",
        "portal",
        "notary",
        OffsetDateTime::now_utc(),
    );
    header.user_iin = CITIZEN_IIN.into();
    let mut envelope = signer(&stack.citizen).seal(&header, vec![]).expect("seal");
    signer(&stack.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    assert_eq!(refused(&stack, envelope).await, StatusCode::IinMismatch);
}

/// Sends `method path` with no body to the gateway's HTTP server.
async fn http(stack: &Stack, method: &str, path: &str) -> (u16, String) {
    egov_testkit::service::operator_request(stack.http, "localhost", method, path, "").await
}

#[tokio::test]
async fn registry_reload_opens_a_route_to_a_newly_allowed_sender() {
    let stack = start().await;
    let notary = issue(
        &stack.ca,
        &holder(OPERATOR_IIN, Some(NOTARY_BIN), Role::LegalEntity),
        11,
        valid_from(),
        valid_to(),
    );
    let request = || {
        let header = request_header(
            "citizens.person.get",
            "notary",
            "citizens",
            OffsetDateTime::now_utc(),
        );
        signer(&notary).seal(&header, vec![]).expect("seal")
    };
    assert_eq!(refused(&stack, request()).await, StatusCode::AccessDenied);

    let text = std::fs::read_to_string(&stack.registry_path).expect("read");
    let broken = text.replace(
        "allowed_senders = [\"portal\"]\n\n[services.\"citizens.slow\"]",
        "allowed_sendrs = [\"portal\"]\n\n[services.\"citizens.slow\"]",
    );
    std::fs::write(&stack.registry_path, &broken).expect("write");
    let (status, body) = http(&stack, "POST", "/admin/registry/reload").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("allowed_sendrs"), "{body}");
    send(
        &stack,
        portal_request(&stack, "citizens.person.get", "citizens"),
    )
    .await
    .expect("the old table stays in force");

    let opened = text.replacen(
        "allowed_senders = [\"portal\"]",
        "allowed_senders = [\"portal\", \"notary\"]",
        1,
    );
    std::fs::write(&stack.registry_path, opened).expect("write");
    let (status, body) = http(&stack, "POST", "/admin/registry/reload").await;
    assert_eq!(status, 200, "{body}");
    send(&stack, request())
        .await
        .expect("notary is now allowed");
}

#[tokio::test]
async fn two_hop_exchange_is_logged_and_drawn_as_a_mermaid_diagram() {
    let stack = start().await;
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    let correlation_id = Header::decode(&request.header[..])
        .expect("header")
        .correlation_id;
    send(&stack, request).await.expect("answered");
    // The log is written behind the hot path; poll until all four hops are in.
    let mut body = String::new();
    for _ in 0..50 {
        let (status, text) = http(&stack, "GET", &format!("/correlations/{correlation_id}")).await;
        if status == 200 && text.matches("\"direction\"").count() == 4 {
            body = text;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body.matches("\"direction\"").count(), 4, "{body}");
    let (status, diagram) = http(
        &stack,
        "GET",
        &format!("/correlations/{correlation_id}/diagram"),
    )
    .await;
    assert_eq!(status, 200);
    let expected_arrows = [
        "portal->>shep: citizens.person.get (REQUEST)",
        "shep->>citizens: citizens.person.get (REQUEST)",
        "citizens-->>shep: citizens.person.get (RESPONSE)",
        "shep-->>portal: citizens.person.get (RESPONSE)",
    ];
    let mut at = 0;
    for arrow in expected_arrows {
        let found = diagram[at..]
            .find(arrow)
            .unwrap_or_else(|| panic!("{arrow:?} missing or out of order in\n{diagram}"));
        at += found + arrow.len();
    }
    assert!(diagram.starts_with("sequenceDiagram"), "{diagram}");
    let (status, _) = http(&stack, "GET", "/correlations/no-such-id").await;
    assert_eq!(status, 404);
}

/// Puts the test operator's bearer token on a GatewayLog call.
#[allow(clippy::result_large_err)] // tonic's interceptor signature
fn as_operator(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    let bearer = format!("Bearer {}", egov_testkit::service::OPERATOR_TOKEN);
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("ascii"));
    Ok(request)
}

#[tokio::test]
async fn the_log_and_the_registry_reload_are_refused_without_an_operator() {
    use egov_proto::v1::gateway_log_client::GatewayLogClient;
    use egov_proto::v1::{GetDiagramRequest, GetMessagesRequest, get_messages_request::Key};
    use egov_testkit::service::{PLAIN_OPERATOR_TOKEN, http_request, http_request_as};

    let stack = start().await;
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    let header = Header::decode(&request.header[..]).expect("header");
    send(&stack, request).await.expect("answered");
    for path in [
        format!("/messages/{}", header.message_id),
        format!("/correlations/{}", header.correlation_id),
        format!("/correlations/{}/diagram", header.correlation_id),
    ] {
        let (status, body) = http_request(stack.http, "localhost", "GET", &path, "").await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(!body.contains("citizens.person.get"), "{body}");
        let (status, _) = http_request_as(
            stack.http,
            "localhost",
            "GET",
            &path,
            "",
            Some("egov_guess"),
        )
        .await;
        assert_eq!(status, 401, "{path} with an unknown token");
    }
    let before = std::fs::read_to_string(&stack.registry_path).expect("read");
    std::fs::write(&stack.registry_path, "not toml at all").expect("write");
    let reload = "/admin/registry/reload";
    let (status, _) = http_request(stack.http, "localhost", "POST", reload, "").await;
    assert_eq!(status, 401);
    let (status, _) = http_request_as(
        stack.http,
        "localhost",
        "POST",
        reload,
        "",
        Some(PLAIN_OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(status, 403, "an operator is not an administrator");
    std::fs::write(&stack.registry_path, before).expect("restore");
    send(
        &stack,
        portal_request(&stack, "citizens.person.get", "citizens"),
    )
    .await
    .expect("the table in force did not change");

    let mut log = GatewayLogClient::new(stack.channel.clone());
    let refused = log
        .get_messages(GetMessagesRequest {
            key: Some(Key::MessageId(header.message_id.clone())),
        })
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let refused = log
        .get_diagram(GetDiagramRequest {
            correlation_id: header.correlation_id.clone(),
        })
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

/// Replaces each hop's measured duration, the one part of a diagram that varies per run.
fn without_durations(diagram: &str) -> String {
    diagram
        .lines()
        .map(|line| match line.rfind(", ") {
            Some(at) if line.trim_start().starts_with("Note over") && line.ends_with(" ms") => {
                format!("{}, N ms", &line[..at])
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn two_hop_exchange_is_drawn_over_grpc_exactly_as_the_regulations_diagram() {
    use egov_proto::v1::GetDiagramRequest;
    use egov_proto::v1::gateway_log_client::GatewayLogClient;

    let stack = start().await;
    let request = portal_request(&stack, "citizens.person.get", "citizens");
    let correlation_id = Header::decode(&request.header[..])
        .expect("header")
        .correlation_id;
    send(&stack, request).await.expect("answered");
    let channel = stack.channel.clone();
    let mut log = GatewayLogClient::with_interceptor(channel, as_operator);
    let mut mermaid = String::new();
    for _ in 0..50 {
        if let Ok(answer) = log
            .get_diagram(GetDiagramRequest {
                correlation_id: correlation_id.clone(),
            })
            .await
        {
            mermaid = answer.into_inner().mermaid;
            if mermaid.matches("->>").count() + mermaid.matches("-->>").count() >= 4 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected = "\
sequenceDiagram
    participant portal as portal
    participant shep as ЭҮШ / ШЭП
    participant citizens as citizens
    portal->>shep: citizens.person.get (REQUEST)
    Note over portal,shep: SCSS001, N ms
    shep->>citizens: citizens.person.get (REQUEST)
    Note over shep,citizens: SCSS001, N ms
    citizens-->>shep: citizens.person.get (RESPONSE)
    Note over citizens,shep: SCSS001, N ms
    shep-->>portal: citizens.person.get (RESPONSE)
    Note over shep,portal: SCSS001, N ms";
    assert_eq!(without_durations(&mermaid), expected);

    let unknown = log
        .get_diagram(GetDiagramRequest {
            correlation_id: "no-such-exchange".into(),
        })
        .await
        .expect_err("unknown exchange");
    assert_eq!(
        StatusCode::from_grpc(&unknown),
        Some(StatusCode::UnknownMessage)
    );
}
