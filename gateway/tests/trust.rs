//! The trust around the signatures, one test per rule: message time bounded
//! by the gateway's clock, certificates judged at the gateway's time, the
//! whole chain checked, PKI calls bounded, durable replay protection, bounded
//! message ids, refusals kept by header digest only, bodies only where a
//! route says so, and async control calls proved by a signature.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    CITIZEN_IIN, MAX_MESSAGE_BYTES, OPERATOR_IIN, PERSON_GET, PERSON_GET_KEPT, PORTAL_BIN, Pki,
    Running, SEED, TO_CITIZENS, header_of, holder, send, signer, start_gateway, start_target,
    write_registry,
};
use egov_core::StatusCode;
use egov_core::envelope::{
    CachedRevocation, RevocationError, RevocationSource, RevocationStatus, Signer,
    StaticRevocation, TimeLimited, request_header, sha256, to_timestamp,
};
use egov_core::pki::authority::KeyMaterial;
use egov_core::pki::{CertificateInfo, Role};
use egov_gateway::exchange::MAX_REASON_CHARS;
use egov_proto::v1::{
    AcknowledgeMessagesRequest, CancelMessageRequest, DeliveryState, Envelope,
    GetMessageStatusRequest, SendAsyncMessageRequest, SendMessageRequest,
};
use egov_system::caller::{
    ACKNOWLEDGE_PROOF_SERVICE_ID, CANCEL_PROOF_SERVICE_ID, STATUS_PROOF_SERVICE_ID, caller_proof,
    proven,
};
use egov_testkit::NatsServer;
use prost::Message;
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;

/// A gateway on a fresh log, the echo target and the credentials.
struct Stack<R> {
    dir: TempDir,
    pki: Pki,
    running: Running<R>,
}

impl<R> Stack<R> {
    fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("log.db")
    }
}

async fn start_with<R: RevocationSource + 'static>(revocation: impl FnOnce(&Pki) -> R) -> Stack<R> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new();
    let echo = start_target(&pki).await;
    let registry = write_registry(dir.path(), echo);
    let verifier = pki.verifier(revocation(&pki));
    let running = start_gateway(&registry, &dir.path().join("log.db"), verifier, None).await;
    Stack { dir, pki, running }
}

async fn start() -> Stack<StaticRevocation> {
    start_with(|_| StaticRevocation::new()).await
}

/// Checks that a refused envelope left nothing in the message log under the
/// ids it claims, and one row in the refusal table under its header digest.
async fn assert_refusal_only<R: RevocationSource + 'static>(
    running: &Running<R>,
    envelope: &Envelope,
    code: StatusCode,
) {
    let log = running.gateway.log();
    log.flush().await.expect("flush");
    let header = header_of(envelope);
    assert!(
        log.by_message_id(&header.message_id)
            .await
            .expect("read")
            .is_empty(),
        "a refused message was logged under its message id"
    );
    let refusals = log
        .refusals_by_header(&sha256(&envelope.header))
        .await
        .expect("read refusals");
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].status_code, code.as_str());
}

async fn refused_with<R: RevocationSource + 'static>(
    stack: &Stack<R>,
    envelope: Envelope,
    code: StatusCode,
) {
    let (refused, reason) = send(&stack.running.client, envelope.clone())
        .await
        .expect_err("must be refused");
    assert_eq!(refused, code, "{reason}");
    assert_refusal_only(&stack.running, &envelope, code).await;
}

#[tokio::test]
async fn message_dated_far_ahead_of_the_gateways_clock_is_refused_with_emsg005() {
    let stack = start().await;
    let ahead = OffsetDateTime::now_utc() + time::Duration::days(300);
    let envelope = stack.pki.portal_request(PERSON_GET, |header| {
        header.message_time = Some(to_timestamp(ahead));
    });
    refused_with(&stack, envelope, StatusCode::MessageTimeOutOfWindow).await;
}

#[tokio::test]
async fn message_dated_before_the_window_is_refused_with_emsg005() {
    let stack = start().await;
    let hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let envelope = stack.pki.portal_request(PERSON_GET, |header| {
        header.message_time = Some(to_timestamp(hour_ago));
    });
    refused_with(&stack, envelope, StatusCode::MessageTimeOutOfWindow).await;
}

#[tokio::test]
async fn certificate_valid_only_at_the_senders_message_time_is_refused_with_esig003() {
    let stack = start().await;
    // Valid in January 2021 only, and the message dated then: the gateway
    // judges the certificate at its own time, not at the sender's word.
    let old = stack
        .pki
        .ca
        .issue_derived(
            &holder(CITIZEN_IIN, None, Role::Individual),
            SEED,
            &[0x31, 1],
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2021-02-01 0:00 UTC),
        )
        .expect("credential");
    let mut header = request_header(
        PERSON_GET,
        "portal",
        "citizens",
        datetime!(2021-01-15 0:00 UTC),
    );
    header.user_iin = CITIZEN_IIN.into();
    let mut envelope = signer(&old).seal(&header, b"old".to_vec()).expect("seal");
    signer(&stack.pki.portal)
        .countersign(&mut envelope)
        .expect("countersign");
    refused_with(&stack, envelope, StatusCode::CertificateExpired).await;
}

#[tokio::test]
async fn replay_to_a_restarted_gateway_on_the_same_log_is_refused_with_emsg003() {
    let stack = start().await;
    let envelope = stack.pki.portal_request(PERSON_GET, |_| {});
    send(&stack.running.client, envelope.clone())
        .await
        .expect("first time");
    // A new gateway process on the same database: its memory is empty, the
    // replay table is not (a replica on the same database is the same case).
    let registry = stack.dir.path().join("registry.toml");
    let restarted = start_gateway(
        &registry,
        &stack.log_path(),
        stack.pki.verifier(StaticRevocation::new()),
        None,
    )
    .await;
    let (code, reason) = send(&restarted.client, envelope.clone())
        .await
        .expect_err("a replay");
    assert_eq!(code, StatusCode::DuplicateMessageId, "{reason}");
    let refusals = restarted
        .gateway
        .log()
        .refusals_by_header(&sha256(&envelope.header))
        .await
        .expect("read");
    assert_eq!(refusals.len(), 1);
}

#[tokio::test]
async fn message_id_longer_than_128_characters_is_refused_with_emsg006() {
    let stack = start().await;
    let envelope = stack.pki.portal_request(PERSON_GET, |header| {
        header.message_id = "a".repeat(20_000);
    });
    refused_with(&stack, envelope, StatusCode::InvalidMessageId).await;
}

#[tokio::test]
async fn message_id_with_characters_outside_its_form_is_refused_with_emsg006() {
    let stack = start().await;
    let envelope = stack.pki.portal_request(PERSON_GET, |header| {
        header.message_id = "id with spaces\r\nand lines".into();
    });
    refused_with(&stack, envelope, StatusCode::InvalidMessageId).await;
}

#[tokio::test]
async fn refused_message_is_kept_by_header_digest_never_under_the_correlation_id_it_claims() {
    let stack = start().await;
    let real = stack.pki.portal_request(PERSON_GET, |_| {});
    let correlation_id = header_of(&real).correlation_id;
    send(&stack.running.client, real).await.expect("exchanged");
    let log = stack.running.gateway.log();
    log.flush().await.expect("flush");
    let before = log
        .by_correlation_id(&correlation_id)
        .await
        .expect("read")
        .len();

    // An unsigned envelope claiming the real exchange's correlation id.
    let mut header = request_header(PERSON_GET, "portal", "citizens", OffsetDateTime::now_utc());
    header.correlation_id = correlation_id.clone();
    let forged = Envelope {
        header: header.encode_to_vec().into(),
        payload: b"a citizen's name and address".to_vec().into(),
        signatures: Vec::new(),
    };
    refused_with(&stack, forged, StatusCode::SignatureMissing).await;
    assert_eq!(
        log.by_correlation_id(&correlation_id)
            .await
            .expect("read")
            .len(),
        before,
        "the forged envelope joined the real exchange's rows"
    );
}

#[tokio::test]
async fn envelope_over_the_decode_limit_is_refused_before_anything_is_stored() {
    let stack = start().await;
    let header = request_header(PERSON_GET, "portal", "citizens", OffsetDateTime::now_utc());
    let envelope = Envelope {
        header: header.encode_to_vec().into(),
        payload: vec![0u8; 4 * MAX_MESSAGE_BYTES].into(),
        signatures: Vec::new(),
    };
    let status = stack
        .running
        .client
        .clone()
        .send_message(SendMessageRequest {
            envelope: Some(envelope.clone()),
        })
        .await
        .expect_err("over the decoder's limit");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    let log = stack.running.gateway.log();
    log.flush().await.expect("flush");
    assert!(
        log.by_message_id(&header.message_id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        log.refusals_by_header(&sha256(&envelope.header))
            .await
            .expect("read")
            .is_empty()
    );
}

#[tokio::test]
async fn bodies_are_stored_only_on_routes_that_say_so() {
    let stack = start().await;
    let log = stack.running.gateway.log();
    for (service_id, kept) in [(PERSON_GET, false), (PERSON_GET_KEPT, true)] {
        let envelope = stack.pki.portal_request(service_id, |_| {});
        let message_id = header_of(&envelope).message_id;
        send(&stack.running.client, envelope)
            .await
            .expect("exchanged");
        log.flush().await.expect("flush");
        let rows = log.by_message_id(&message_id).await.expect("read");
        assert!(!rows.is_empty());
        assert_eq!(
            rows.iter().any(|row| row.body.is_some()),
            kept,
            "route {service_id}"
        );
    }
}

#[tokio::test]
async fn refusal_reason_quoting_a_long_header_field_is_clipped() {
    let stack = start().await;
    let envelope = stack.pki.portal_request(PERSON_GET, |header| {
        header.service_id = "x".repeat(40_000);
    });
    let (code, reason) = send(&stack.running.client, envelope.clone())
        .await
        .expect_err("unknown service");
    assert_eq!(code, StatusCode::UnknownService);
    assert!(reason.chars().count() <= MAX_REASON_CHARS + 16, "{reason}");
    assert_refusal_only(&stack.running, &envelope, StatusCode::UnknownService).await;
    let refusals = stack
        .running
        .gateway
        .log()
        .refusals_by_header(&sha256(&envelope.header))
        .await
        .expect("read");
    assert!(refusals[0].status_message.chars().count() <= MAX_REASON_CHARS + 1);
}

#[tokio::test]
async fn revocation_is_seen_once_the_cached_answer_is_stale_esig004() {
    let revocation = Arc::new(StaticRevocation::new());
    let source = revocation.clone();
    let stack = start_with(move |_| CachedRevocation::new(source, Duration::from_millis(50))).await;
    send(
        &stack.running.client,
        stack.pki.portal_request(PERSON_GET, |_| {}),
    )
    .await
    .expect("good before the revocation");
    revocation.revoke(
        &stack.pki.citizen.certificate.serial,
        OffsetDateTime::now_utc(),
        "key compromise",
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let envelope = stack.pki.portal_request(PERSON_GET, |_| {});
    refused_with(&stack, envelope, StatusCode::CertificateRevoked).await;
}

#[tokio::test]
async fn signer_whose_certificate_is_a_ca_is_refused_with_esig008() {
    let stack = start().await;
    let intermediate = &stack.pki.ca.intermediate;
    let ca_signer = Signer::new(
        intermediate.key().pkcs8(),
        vec![intermediate.certificate().der.to_vec()],
    )
    .expect("signer");
    let header = request_header(PERSON_GET, "portal", "citizens", OffsetDateTime::now_utc());
    let envelope = ca_signer.seal(&header, b"x".to_vec()).expect("seal");
    refused_with(&stack, envelope, StatusCode::CertificateChainInvalid).await;
}

#[tokio::test]
async fn chain_longer_than_an_issuers_path_length_is_refused_with_esig008() {
    let stack = start().await;
    let intermediate = &stack.pki.ca.intermediate;
    let from = OffsetDateTime::now_utc() - time::Duration::days(1);
    let to = OffsetDateTime::now_utc() + time::Duration::days(30);
    // The intermediate allows no CA below it (pathLenConstraint 0).
    let below = intermediate
        .new_subordinate(
            "SUBORDINATE OF THE ISSUING CA",
            KeyMaterial::derive(SEED, "ca/below"),
            from,
            to,
        )
        .expect("subordinate");
    let key = KeyMaterial::derive(SEED, "portal/below");
    let leaf: CertificateInfo = below
        .issue(
            &holder(OPERATOR_IIN, Some(PORTAL_BIN), Role::LegalEntity),
            &key.public_key_der().expect("key"),
            &[0x32, 1],
            from,
            to,
        )
        .expect("leaf");
    let portal = Signer::new(
        key.pkcs8(),
        vec![
            leaf.der.to_vec(),
            below.certificate().der.to_vec(),
            intermediate.certificate().der.to_vec(),
        ],
    )
    .expect("signer");
    let header = request_header(PERSON_GET, "portal", "citizens", OffsetDateTime::now_utc());
    let envelope = portal.seal(&header, b"x".to_vec()).expect("seal");
    refused_with(&stack, envelope, StatusCode::CertificateChainInvalid).await;
}

/// A certification centre that never answers.
struct Stalled;

impl RevocationSource for Stalled {
    async fn status(&self, _: &CertificateInfo) -> Result<RevocationStatus, RevocationError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn revocation_question_past_the_pki_timeout_is_refused_with_epki001() {
    let stack = start_with(|_| TimeLimited::new(Stalled, Duration::from_millis(100))).await;
    let envelope = stack.pki.portal_request(PERSON_GET, |_| {});
    refused_with(&stack, envelope, StatusCode::PkiUnavailable).await;
}

/// A gateway with the async channel on its own NATS server.
struct AsyncStack {
    stack: Stack<StaticRevocation>,
    // Last, so the gateway's connection sees it go only at the very end.
    _nats: NatsServer,
}

async fn start_async() -> AsyncStack {
    let nats = NatsServer::start().expect("nats-server");
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::new();
    let echo = start_target(&pki).await;
    let registry = write_registry(dir.path(), echo);
    let client = async_nats::connect(nats.url()).await.expect("nats");
    let running = start_gateway(
        &registry,
        &dir.path().join("log.db"),
        pki.verifier(StaticRevocation::new()),
        Some(client),
    )
    .await;
    AsyncStack {
        stack: Stack { dir, pki, running },
        _nats: nats,
    }
}

async fn send_async(
    stack: &Stack<StaticRevocation>,
    envelope: Envelope,
) -> Result<String, StatusCode> {
    stack
        .running
        .client
        .clone()
        .send_async_message(SendAsyncMessageRequest {
            envelope: Some(envelope),
        })
        .await
        .map(|answer| answer.into_inner().message_id)
        .map_err(|status| common::code_of(&status))
}

#[tokio::test]
async fn async_message_id_is_bounded_like_a_sync_one_emsg006() {
    let AsyncStack { stack, _nats } = start_async().await;
    let header = {
        let mut header =
            request_header(TO_CITIZENS, "portal", "citizens", OffsetDateTime::now_utc());
        header.message_id = "b".repeat(5_000);
        header
    };
    let envelope = signer(&stack.pki.portal)
        .seal(&header, b"x".to_vec())
        .expect("seal");
    assert_eq!(
        send_async(&stack, envelope.clone()).await,
        Err(StatusCode::InvalidMessageId)
    );
    assert_refusal_only(&stack.running, &envelope, StatusCode::InvalidMessageId).await;
}

fn proof_for<T: Message>(
    signer_of: &egov_core::pki::authority::Credential,
    system: &str,
    service_id: &str,
    request: &T,
) -> Envelope {
    caller_proof(
        &signer(signer_of),
        system,
        service_id,
        request.encode_to_vec(),
        OffsetDateTime::now_utc(),
    )
    .expect("proof")
}

#[tokio::test]
async fn async_control_calls_without_the_callers_signature_are_refused_and_change_nothing() {
    let AsyncStack { stack, _nats } = start_async().await;
    let header = request_header(TO_CITIZENS, "portal", "citizens", OffsetDateTime::now_utc());
    let envelope = signer(&stack.pki.portal)
        .seal(&header, b"x".to_vec())
        .expect("seal");
    let message_id = send_async(&stack, envelope).await.expect("stored");
    let client = || stack.running.client.clone();
    let cancel = CancelMessageRequest {
        message_id: message_id.clone(),
        system_id: "portal".into(),
    };

    // Naming the sender is not enough: no proof.
    let refused = client()
        .cancel_message(cancel.clone())
        .await
        .expect_err("no proof");
    assert_eq!(common::code_of(&refused), StatusCode::SignatureMissing);
    // The notary's real signature, naming itself, for the portal's message.
    let by_notary = CancelMessageRequest {
        system_id: "notary".into(),
        ..cancel.clone()
    };
    let proof = proof_for(
        &stack.pki.notary,
        "notary",
        CANCEL_PROOF_SERVICE_ID,
        &by_notary,
    );
    let refused = client()
        .cancel_message(proven(by_notary, &proof))
        .await
        .expect_err("not the sender");
    assert_eq!(common::code_of(&refused), StatusCode::AccessDenied);
    // The notary's key claiming to be the portal.
    let proof = proof_for(
        &stack.pki.notary,
        "portal",
        CANCEL_PROOF_SERVICE_ID,
        &cancel,
    );
    let refused = client()
        .cancel_message(proven(cancel.clone(), &proof))
        .await
        .expect_err("not the portal's key");
    assert_eq!(common::code_of(&refused), StatusCode::IinMismatch);
    // The portal's proof of another call does not carry over.
    let other = CancelMessageRequest {
        message_id: "another-message".into(),
        ..cancel.clone()
    };
    let proof = proof_for(&stack.pki.portal, "portal", CANCEL_PROOF_SERVICE_ID, &other);
    let refused = client()
        .cancel_message(proven(cancel.clone(), &proof))
        .await
        .expect_err("proof of another request");
    assert_eq!(common::code_of(&refused), StatusCode::InvalidSignature);
    // Acknowledging and asking the state need proof just the same.
    let refused = client()
        .acknowledge_messages(AcknowledgeMessagesRequest {
            system_id: "citizens".into(),
            message_ids: vec![message_id.clone()],
        })
        .await
        .expect_err("no proof");
    assert_eq!(common::code_of(&refused), StatusCode::SignatureMissing);
    let status = GetMessageStatusRequest {
        message_id: message_id.clone(),
    };
    let refused = client()
        .get_message_status(status.clone())
        .await
        .expect_err("no proof");
    assert_eq!(common::code_of(&refused), StatusCode::SignatureMissing);
    let proof = proof_for(
        &stack.pki.notary,
        "notary",
        STATUS_PROOF_SERVICE_ID,
        &status,
    );
    let refused = client()
        .get_message_status(proven(status.clone(), &proof))
        .await
        .expect_err("neither sender nor receiver");
    assert_eq!(common::code_of(&refused), StatusCode::AccessDenied);

    // Nothing changed: the message still waits for its receiver.
    let proof = proof_for(
        &stack.pki.portal,
        "portal",
        STATUS_PROOF_SERVICE_ID,
        &status,
    );
    let answer = client()
        .get_message_status(proven(status, &proof))
        .await
        .expect("the sender may ask")
        .into_inner();
    assert_eq!(answer.state(), DeliveryState::OnDelivery);
    // And the receiver's signed acknowledgement is accepted as a call (the
    // message was not fetched, so it is refused as such, not for its caller).
    let ack = AcknowledgeMessagesRequest {
        system_id: "citizens".into(),
        message_ids: vec![message_id],
    };
    let proof = proof_for(
        &stack.pki.citizens,
        "citizens",
        ACKNOWLEDGE_PROOF_SERVICE_ID,
        &ack,
    );
    let refused = client()
        .acknowledge_messages(proven(ack, &proof))
        .await
        .expect_err("not fetched");
    assert_eq!(common::code_of(&refused), StatusCode::UnknownMessage);
}
