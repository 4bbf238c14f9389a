//! The gateway's async channel end to end, in-process: a real nats-server with
//! JetStream, the gateway, and its systems' credentials on loopback. Each test
//! checks one delivery rule with exact codes and states; waits poll briefly.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use egov_core::StatusCode;
use egov_core::clock::SystemClock;
use egov_core::envelope::{StaticRevocation, Verifier, request_header, response_header};
use egov_core::pki::Role;
use egov_core::pki::authority::{CaHierarchy, Credential};
use egov_gateway::exchange::STATUS_CODE_METADATA;
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{AsyncSettings, Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{
    AcknowledgeMessagesRequest, CancelMessageRequest, CancelMessageResponse, DeliveryNotification,
    DeliveryState, Envelope, FetchMessagesRequest, GetMessageStatusRequest,
    GetMessageStatusResponse, Header, MessageType, SendAsyncMessageRequest,
    SendAsyncMessagesRequest,
};
use egov_system::caller::{
    ACKNOWLEDGE_PROOF_SERVICE_ID, CANCEL_PROOF_SERVICE_ID, STATUS_PROOF_SERVICE_ID, caller_proof,
    proven,
};
use egov_testkit::credentials::{holder, issue_valid, signer, test_ca};
use egov_testkit::{NatsServer, poll};
use futures::StreamExt;
use prost::Message;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tonic::transport::Channel;

const SEED: &[u8] = b"gateway-async-tests";
const PORTAL_BIN: &str = "120140000057";
const CITIZENS_BIN: &str = "050840001233";
const NOTARY_BIN: &str = "991240007774";
const OPERATOR_IIN: &str = "900715400349";

/// citizens fetches (pull), notary has an inbox (push), portal sends and fetches replies.
const TO_CITIZENS: &str = "citizens.person.notify";
const TO_NOTARY: &str = "notary.deed.register";
const REPLY_TO_PORTAL: &str = "portal.async.reply";

/// The longest any wait polls for.
const WAIT: Duration = Duration::from_secs(5);
const STEP: Duration = Duration::from_millis(20);

fn registry_text() -> String {
    // Async routes never use their transport; the registry requires one.
    format!(
        r#"
[systems.portal]
bin = "{PORTAL_BIN}"
[systems.citizens]
bin = "{CITIZENS_BIN}"
[systems.notary]
bin = "{NOTARY_BIN}"
delivery = "push"

[services."{TO_CITIZENS}"]
target = "citizens"
grpc = "http://127.0.0.1:9"
allowed_senders = ["portal"]

[services."{TO_NOTARY}"]
target = "notary"
grpc = "http://127.0.0.1:9"
allowed_senders = ["portal"]

[services."{REPLY_TO_PORTAL}"]
target = "portal"
grpc = "http://127.0.0.1:9"
allowed_senders = ["citizens", "notary"]
"#
    )
}

fn system_credential(ca: &CaHierarchy, bin: &str, serial: u8) -> Credential {
    let holder = holder(OPERATOR_IIN, Some(bin), Role::LegalEntity);
    issue_valid(ca, &holder, SEED, &[0x30, serial])
}

/// A NATS server, the systems' credentials and one or more gateways on it.
struct Stack {
    dir: TempDir,
    ca: CaHierarchy,
    portal: Credential,
    citizens: Credential,
    notary: Credential,
    settings: AsyncSettings,
    client: GatewayClient<Channel>,
    http: SocketAddr,
    /// The test's own connection: receivers' inboxes and stream inspection.
    nats: async_nats::Client,
    // Last, so the gateways' connections see it go only at the very end.
    server: NatsServer,
}

fn test_settings() -> AsyncSettings {
    AsyncSettings {
        max_deliveries: 3,
        push_timeout: Duration::from_millis(300),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..AsyncSettings::default()
    }
}

async fn start() -> Stack {
    start_with(test_settings()).await
}

/// Starts a stack whose stream offers a message twice, 300 ms apart, then gives up.
async fn start_giving_up_after_two_deliveries() -> Stack {
    start_with(AsyncSettings {
        max_deliveries: 2,
        ack_wait: Duration::from_millis(300),
        ..test_settings()
    })
    .await
}

async fn start_with(settings: AsyncSettings) -> Stack {
    let server = NatsServer::start().expect("nats-server");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = test_ca(SEED);
    let portal = system_credential(&ca, PORTAL_BIN, 1);
    let citizens = system_credential(&ca, CITIZENS_BIN, 2);
    let notary = system_credential(&ca, NOTARY_BIN, 3);
    std::fs::write(dir.path().join("registry.toml"), registry_text()).expect("registry");
    let nats = async_nats::connect(server.url()).await.expect("nats");
    let mut stack = Stack {
        dir,
        ca,
        portal,
        citizens,
        notary,
        settings,
        client: GatewayClient::new(
            tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy(),
        ),
        http: SocketAddr::from(([127, 0, 0, 1], 9)),
        nats,
        server,
    };
    let (client, http) = start_gateway(&stack, "shep").await;
    stack.client = client;
    stack.http = http;
    stack
}

/// Starts a gateway (a replica, when called again) on the stack's NATS and registry.
async fn start_gateway(stack: &Stack, name: &str) -> (GatewayClient<Channel>, SocketAddr) {
    let nats = async_nats::connect(stack.server.url()).await.expect("nats");
    serve_gateway(
        stack.dir.path(),
        &stack.ca,
        stack.settings.clone(),
        name,
        nats,
    )
    .await
}

/// Serves a gateway on `nats` with the registry in `dir`, its log there under `name`.
async fn serve_gateway(
    dir: &std::path::Path,
    ca: &CaHierarchy,
    settings: AsyncSettings,
    name: &str,
    nats: async_nats::Client,
) -> (GatewayClient<Channel>, SocketAddr) {
    let revocation = Arc::new(StaticRevocation::new());
    let gateway = Gateway::new(GatewayParts {
        system_id: "shep".into(),
        registry: Arc::new(RegistryHandle::open(dir.join("registry.toml")).expect("registry")),
        verifier: Verifier::new(vec![ca.root.certificate().clone()], revocation),
        replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
        log: MessageLog::connect(&format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{name}.db")).display()
        ))
        .await
        .expect("log"),
        clock: SystemClock::shared(),
        // Room for a burst of 1 001 small envelopes in one call (the decoder bounds a call like one envelope).
        max_message_bytes: 4 * 1024 * 1024,
        nats: Some(nats),
    })
    .with_operators(egov_testkit::service::operators());
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_addr = grpc.local_addr().expect("addr");
    let http_addr = http.local_addr().expect("addr");
    tokio::spawn(egov_gateway::serve_with(
        Arc::new(gateway),
        settings,
        Listeners { grpc, http },
        std::future::pending(),
    ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
        .expect("endpoint")
        .connect_lazy();
    (GatewayClient::new(channel), http_addr)
}

/// A message from the portal system, sealed with its BIN certificate.
fn portal_message(stack: &Stack, service_id: &str, receiver: &str, body: &[u8]) -> Envelope {
    let header = request_header(service_id, "portal", receiver, OffsetDateTime::now_utc());
    signer(&stack.portal)
        .seal(&header, body.to_vec())
        .expect("seal")
}

fn header_of(envelope: &Envelope) -> Header {
    Header::decode(&envelope.header[..]).expect("header")
}

/// A proof that the caller is `system`: a NOTIFICATION it sent to the gateway.
fn proof(credential: &Credential, system: &str) -> Envelope {
    let mut header = request_header("egov.gw.fetch", system, "shep", OffsetDateTime::now_utc());
    header.message_type = MessageType::Notification as i32;
    signer(credential).seal(&header, Vec::new()).expect("seal")
}

/// Recovers our status code from a refusal, checking its metadata and gRPC code agree.
fn code_of(status: &tonic::Status) -> StatusCode {
    let code = StatusCode::from_grpc(status).expect("our code in the message");
    let meta = status
        .metadata()
        .get(STATUS_CODE_METADATA)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(meta.as_deref(), Some(code.as_str()), "{status:?}");
    assert_eq!(status.code(), code.grpc_code(), "{status:?}");
    code
}

async fn send_via(
    client: &GatewayClient<Channel>,
    envelope: Envelope,
) -> Result<String, StatusCode> {
    let expected_id = header_of(&envelope).message_id;
    match client
        .clone()
        .send_async_message(SendAsyncMessageRequest {
            envelope: Some(envelope),
        })
        .await
    {
        Ok(answer) => {
            let answer = answer.into_inner();
            assert_eq!(answer.status.as_ref().expect("status").code, "SCSS001");
            assert_eq!(answer.message_id, expected_id);
            Ok(answer.message_id)
        }
        Err(status) => Err(code_of(&status)),
    }
}

async fn send(stack: &Stack, envelope: Envelope) -> Result<String, StatusCode> {
    send_via(&stack.client, envelope).await
}

/// Sends `body` from the portal to the citizens-DB (pull delivery); returns the message id.
async fn send_to_citizens(stack: &Stack, body: &[u8]) -> String {
    send(stack, portal_message(stack, TO_CITIZENS, "citizens", body))
        .await
        .expect("accepted")
}

/// The credential a system proves its calls with.
fn credential_of<'a>(stack: &'a Stack, system: &str) -> &'a Credential {
    match system {
        "portal" => &stack.portal,
        "citizens" => &stack.citizens,
        // A system outside the registry signs with a real key of another one.
        _ => &stack.notary,
    }
}

/// A control call's request with `system`'s proof of it in its metadata.
fn proven_by<T: Message>(
    stack: &Stack,
    system: &str,
    service_id: &str,
    request: T,
) -> tonic::Request<T> {
    let proof = caller_proof(
        &signer(credential_of(stack, system)),
        system,
        service_id,
        request.encode_to_vec(),
        OffsetDateTime::now_utc(),
    )
    .expect("proof");
    proven(request, &proof)
}

/// Asks a message's state as its sender, the portal.
async fn status(stack: &Stack, message_id: &str) -> Result<GetMessageStatusResponse, StatusCode> {
    stack
        .client
        .clone()
        .get_message_status(proven_by(
            stack,
            "portal",
            STATUS_PROOF_SERVICE_ID,
            GetMessageStatusRequest {
                message_id: message_id.to_owned(),
            },
        ))
        .await
        .map(|answer| answer.into_inner())
        .map_err(|status| code_of(&status))
}

async fn state(stack: &Stack, message_id: &str) -> DeliveryState {
    let answer = status(stack, message_id).await.expect("known message");
    assert_eq!(answer.status.as_ref().expect("status").code, "SCSS001");
    answer.state()
}

/// Polls until the message reaches `wanted`, failing after a few seconds.
async fn wait_for_state(stack: &Stack, message_id: &str, wanted: DeliveryState) {
    let what = format!("message {message_id} to be {wanted:?}");
    poll::until(what, WAIT, async || match state(stack, message_id).await {
        seen if seen == wanted => Ok(()),
        seen => Err(seen),
    })
    .await
}

async fn fetch(
    stack: &Stack,
    system: &str,
    proof: Option<Envelope>,
    max_messages: u32,
) -> Result<Vec<Envelope>, StatusCode> {
    stack
        .client
        .clone()
        .fetch_messages(FetchMessagesRequest {
            system_id: system.to_owned(),
            max_messages,
            proof,
        })
        .await
        .map(|answer| {
            let answer = answer.into_inner();
            assert_eq!(answer.status.as_ref().expect("status").code, "SCSS001");
            answer.envelopes
        })
        .map_err(|status| code_of(&status))
}

/// Fetches the citizens-DB's pending messages as the citizens-DB.
async fn fetch_as_citizens(stack: &Stack) -> Vec<Envelope> {
    fetch_as(stack, &stack.citizens, "citizens")
        .await
        .expect("fetch")
}

async fn fetch_as(
    stack: &Stack,
    credential: &Credential,
    system: &str,
) -> Result<Vec<Envelope>, StatusCode> {
    fetch(stack, system, Some(proof(credential, system)), 0).await
}

async fn acknowledge(stack: &Stack, system: &str, ids: Vec<String>) -> Result<(), StatusCode> {
    stack
        .client
        .clone()
        .acknowledge_messages(proven_by(
            stack,
            system,
            ACKNOWLEDGE_PROOF_SERVICE_ID,
            AcknowledgeMessagesRequest {
                system_id: system.to_owned(),
                message_ids: ids,
            },
        ))
        .await
        .map(|answer| {
            assert_eq!(answer.into_inner().status.expect("status").code, "SCSS001");
        })
        .map_err(|status| code_of(&status))
}

async fn cancel(
    stack: &Stack,
    message_id: &str,
    system: &str,
) -> Result<CancelMessageResponse, StatusCode> {
    stack
        .client
        .clone()
        .cancel_message(proven_by(
            stack,
            system,
            CANCEL_PROOF_SERVICE_ID,
            CancelMessageRequest {
                message_id: message_id.to_owned(),
                system_id: system.to_owned(),
            },
        ))
        .await
        .map(|answer| answer.into_inner())
        .map_err(|status| code_of(&status))
}

/// Answers every envelope pushed to a system's inbox and reports it to the test.
async fn start_inbox(
    stack: &Stack,
    system: &str,
) -> tokio::sync::mpsc::UnboundedReceiver<Envelope> {
    let mut inbox = stack
        .nats
        .subscribe(egov_bus::subjects::inbox(system).expect("inbox subject"))
        .await
        .expect("subscribe");
    stack.nats.flush().await.expect("flush");
    let nats = stack.nats.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = inbox.next().await {
            if let Some(reply) = message.reply.clone() {
                let _ = nats.publish(reply, "received".into()).await;
            }
            if let Ok(envelope) = Envelope::decode(message.payload.as_ref()) {
                let _ = tx.send(envelope);
            }
        }
    });
    rx
}

fn jetstream(stack: &Stack) -> jetstream::Context {
    jetstream::new(stack.nats.clone())
}

#[tokio::test]
async fn gateway_started_while_nats_is_down_takes_async_messages_once_nats_is_up() {
    let port = egov_testkit::free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = test_ca(SEED);
    let portal = system_credential(&ca, PORTAL_BIN, 1);
    std::fs::write(dir.path().join("registry.toml"), registry_text()).expect("registry");
    // As the gateway's binary connects when NATS does not answer: in the background.
    let nats = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(&url)
        .await
        .expect("a client that connects later");
    let (client, _) = serve_gateway(dir.path(), &ca, test_settings(), "shep", nats).await;
    let message = || {
        let header = request_header(TO_CITIZENS, "portal", "citizens", OffsetDateTime::now_utc());
        signer(&portal)
            .seal(&header, b"late".to_vec())
            .expect("seal")
    };

    poll::until(
        "the async calls to be refused as unavailable",
        WAIT,
        async || match send_via(&client, message()).await {
            Err(StatusCode::TargetUnavailable) => Ok(()),
            other => Err(other),
        },
    )
    .await;

    let _server = NatsServer::start_on(port).expect("nats-server on the reserved port");
    let stored = poll::until(
        "the async channel to start once NATS is up",
        Duration::from_secs(30),
        async || send_via(&client, message()).await,
    )
    .await;
    assert!(!stored.is_empty());
}

#[tokio::test]
async fn async_message_is_acknowledged_only_after_it_is_stored() {
    let stack = start().await;
    let envelope = portal_message(&stack, TO_CITIZENS, "citizens", b"benefit decided");
    let message_id = send(&stack, envelope.clone()).await.expect("accepted");

    // No waiting: by the time SCSS001 arrived the stream held the message, on
    // its own subject, which is what ON_DELIVERY is.
    let stream = jetstream(&stack)
        .get_stream("EGOV_DELIVER")
        .await
        .expect("stream");
    let stored = stream
        .get_last_raw_message_by_subject(&format!("egov.gw.deliver.citizens.{message_id}"))
        .await
        .expect("stored message");
    assert_eq!(
        stored.headers.get("Egov-Message-Id").map(|v| v.as_str()),
        Some(message_id.as_str())
    );
    assert_eq!(
        stored.headers.get("Egov-Sender").map(|v| v.as_str()),
        Some("portal")
    );
    assert_eq!(
        Envelope::decode(stored.payload.as_ref()).expect("envelope"),
        envelope
    );
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.state(), DeliveryState::OnDelivery);
    assert_eq!(answer.attempts, 0);
    assert!(answer.changed_at.is_some());
}

#[tokio::test]
async fn receiver_that_is_down_while_messages_are_sent_gets_every_one_after_it_starts() {
    let stack = start().await;
    let mut sent = Vec::new();
    for n in 0..20 {
        let body = format!("message {n}");
        let envelope = portal_message(&stack, TO_CITIZENS, "citizens", body.as_bytes());
        sent.push(send(&stack, envelope).await.expect("accepted"));
    }
    for id in &sent {
        assert_eq!(state(&stack, id).await, DeliveryState::OnDelivery);
    }

    // citizens comes up now and drains its queue.
    let mut received = Vec::new();
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        let batch = fetch_as_citizens(&stack).await;
        received.extend(batch.iter().map(|e| header_of(e).message_id));
        if received.len() >= sent.len() {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(received, sent, "every message, oldest first, once");
    acknowledge(&stack, "citizens", received)
        .await
        .expect("ack");
    for id in &sent {
        let answer = status(&stack, id).await.expect("known");
        assert_eq!(answer.state(), DeliveryState::Delivered);
        assert_eq!(answer.attempts, 1);
    }
    assert!(
        fetch_as_citizens(&stack).await.is_empty(),
        "acknowledged messages are not offered again"
    );
}

#[tokio::test]
async fn push_receiver_that_starts_after_the_sends_gets_every_one() {
    let stack = start_with(AsyncSettings {
        max_deliveries: 1_000,
        ..test_settings()
    })
    .await;
    let mut sent = BTreeSet::new();
    for n in 0..20 {
        let body = format!("deed {n}");
        let envelope = portal_message(&stack, TO_NOTARY, "notary", body.as_bytes());
        sent.insert(send(&stack, envelope).await.expect("accepted"));
    }

    // notary's inbox appears only now; the gateway keeps retrying until it answers.
    let mut inbox = start_inbox(&stack, "notary").await;
    let mut received = BTreeSet::new();
    while received.len() < sent.len() {
        let envelope = tokio::time::timeout(WAIT, inbox.recv())
            .await
            .expect("every message within the wait")
            .expect("inbox open");
        received.insert(header_of(&envelope).message_id);
    }
    assert_eq!(received, sent);
    for id in &sent {
        wait_for_state(&stack, id, DeliveryState::Delivered).await;
    }
}

#[tokio::test]
async fn delivery_is_not_delivered_after_bounded_redeliveries() {
    let stack = start().await;
    // notary's inbox takes every message and never answers.
    let mut silent = stack
        .nats
        .subscribe(egov_bus::subjects::inbox("notary").expect("inbox subject"))
        .await
        .expect("subscribe");
    stack.nats.flush().await.expect("flush");
    let envelope = portal_message(&stack, TO_NOTARY, "notary", b"deed");
    let message_id = send(&stack, envelope).await.expect("accepted");

    wait_for_state(&stack, &message_id, DeliveryState::NotDelivered).await;
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.attempts, stack.settings.max_deliveries);
    let mut copies = 0;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), silent.next()).await {
        copies += 1;
    }
    assert_eq!(
        copies, stack.settings.max_deliveries,
        "bounded redeliveries"
    );
}

#[tokio::test]
async fn sender_can_stop_delivery_before_it_happens() {
    let stack = start().await;
    let pulled = send_to_citizens(&stack, b"withdrawn").await;
    let answer = cancel(&stack, &pulled, "portal").await.expect("cancelled");
    assert_eq!(answer.status.as_ref().expect("status").code, "SCSS001");
    assert_eq!(answer.state(), DeliveryState::DeliveryStopped);
    assert_eq!(state(&stack, &pulled).await, DeliveryState::DeliveryStopped);
    assert!(
        fetch_as_citizens(&stack).await.is_empty(),
        "a stopped message is never handed over"
    );

    // A delivered message keeps its state.
    let delivered = send_to_citizens(&stack, b"kept").await;
    let fetched = fetch_as_citizens(&stack).await;
    assert_eq!(fetched.len(), 1);
    acknowledge(&stack, "citizens", vec![delivered.clone()])
        .await
        .expect("ack");
    let answer = cancel(&stack, &delivered, "portal")
        .await
        .expect("answered");
    assert_eq!(answer.state(), DeliveryState::Delivered);
    assert_eq!(state(&stack, &delivered).await, DeliveryState::Delivered);
}

#[tokio::test]
async fn sender_can_stop_a_push_delivery_before_the_inbox_answers() {
    let stack = start_with(AsyncSettings {
        max_deliveries: 1_000,
        ..test_settings()
    })
    .await;
    let message_id = send(&stack, portal_message(&stack, TO_NOTARY, "notary", b"deed"))
        .await
        .expect("accepted");
    let answer = cancel(&stack, &message_id, "portal")
        .await
        .expect("cancelled");
    assert_eq!(answer.state(), DeliveryState::DeliveryStopped);
    let control = send(
        &stack,
        portal_message(&stack, TO_NOTARY, "notary", b"deed 2"),
    )
    .await
    .expect("accepted");

    let mut inbox = start_inbox(&stack, "notary").await;
    let first = tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("the other message arrives")
        .expect("inbox open");
    assert_eq!(header_of(&first).message_id, control);
    wait_for_state(&stack, &control, DeliveryState::Delivered).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), inbox.recv())
            .await
            .is_err(),
        "the stopped message never reaches the inbox"
    );
    assert_eq!(
        state(&stack, &message_id).await,
        DeliveryState::DeliveryStopped
    );
}

#[tokio::test]
async fn only_the_sender_may_cancel_a_message() {
    let stack = start().await;
    let message_id = send_to_citizens(&stack, b"request").await;
    assert_eq!(
        cancel(&stack, &message_id, "citizens").await.err(),
        Some(StatusCode::AccessDenied)
    );
    assert_eq!(
        cancel(&stack, &message_id, "notary").await.err(),
        Some(StatusCode::AccessDenied)
    );
    assert_eq!(state(&stack, &message_id).await, DeliveryState::OnDelivery);
    assert_eq!(
        cancel(&stack, &uuid_like(), "portal").await.err(),
        Some(StatusCode::UnknownMessage)
    );
    let answer = cancel(&stack, &message_id, "portal")
        .await
        .expect("the sender may");
    assert_eq!(answer.state(), DeliveryState::DeliveryStopped);
}

fn uuid_like() -> String {
    request_header("x", "x", "x", OffsetDateTime::now_utc()).message_id
}

#[tokio::test]
async fn unknown_message_id_status_is_refused_with_emsg004() {
    let stack = start().await;
    assert_eq!(
        status(&stack, &uuid_like()).await.err(),
        Some(StatusCode::UnknownMessage)
    );
    for odd in ["", "not a key", "a.b.c", "egov.gw.deliver.*"] {
        assert_eq!(
            status(&stack, odd).await.err(),
            Some(StatusCode::UnknownMessage),
            "{odd:?}"
        );
    }
}

#[tokio::test]
async fn sender_is_notified_of_each_delivery_state_change() {
    let stack = start().await;
    let delivered = send_to_citizens(&stack, b"to deliver").await;
    assert_eq!(fetch_as_citizens(&stack).await.len(), 1);
    acknowledge(&stack, "citizens", vec![delivered.clone()])
        .await
        .expect("ack");
    let stopped = send_to_citizens(&stack, b"to stop").await;
    cancel(&stack, &stopped, "portal").await.expect("cancel");
    // Nobody listens on notary's inbox: it runs out of deliveries.
    let undelivered = send(
        &stack,
        portal_message(&stack, TO_NOTARY, "notary", b"to nobody"),
    )
    .await
    .expect("accepted");
    wait_for_state(&stack, &undelivered, DeliveryState::NotDelivered).await;

    // The portal reads its notifications only now, from the stream.
    let stream = jetstream(&stack)
        .get_stream("EGOV_NOTIFY")
        .await
        .expect("notification stream");
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            filter_subject: "egov.gw.notify.portal.*".into(),
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut batch = consumer
        .fetch()
        .max_messages(10)
        .messages()
        .await
        .expect("fetch");
    let mut states = HashMap::new();
    while let Some(message) = batch.next().await {
        let message = message.expect("message");
        let notification =
            DeliveryNotification::decode(message.payload.as_ref()).expect("notification");
        let headers = message.headers.as_ref().expect("headers");
        assert_eq!(
            headers.get("Egov-Message-Id").map(|v| v.as_str()),
            Some(notification.message_id.as_str())
        );
        assert_eq!(notification.correlation_id, notification.message_id);
        assert!(notification.changed_at.is_some());
        let previous = states.insert(notification.message_id.clone(), notification.state());
        assert_eq!(previous, None, "one notification per change");
    }
    let expected = HashMap::from([
        (delivered, DeliveryState::Delivered),
        (stopped, DeliveryState::DeliveryStopped),
        (undelivered, DeliveryState::NotDelivered),
    ]);
    assert_eq!(states, expected);
}

/// Polls the log until `path` lists `hops` records; the log is written behind the hot path.
async fn wait_for_log(http: SocketAddr, path: &str, hops: usize) -> String {
    poll::log_lists(http, path, hops, WAIT).await
}

#[tokio::test]
async fn reply_correlates_to_the_request_by_correlation_id() {
    let stack = start().await;
    let request = portal_message(&stack, TO_CITIZENS, "citizens", b"GetPersonRequest");
    let request_id = send(&stack, request).await.expect("accepted");

    let fetched = fetch_as_citizens(&stack).await;
    let [received] = fetched.as_slice() else {
        panic!("one request expected, got {}", fetched.len());
    };
    let request_header = header_of(received);
    acknowledge(&stack, "citizens", vec![request_id.clone()])
        .await
        .expect("ack");

    // A reply that claims the request but another exchange is refused.
    let mut forged = response_header(&request_header, OffsetDateTime::now_utc());
    forged.service_id = REPLY_TO_PORTAL.into();
    forged.correlation_id = uuid_like();
    let forged_correlation = forged.correlation_id.clone();
    let forged = signer(&stack.citizens)
        .seal(&forged, b"wrong exchange".to_vec())
        .expect("seal");
    assert_eq!(
        send(&stack, forged).await,
        Err(StatusCode::MalformedMessage)
    );

    let mut reply = response_header(&request_header, OffsetDateTime::now_utc());
    reply.service_id = REPLY_TO_PORTAL.into();
    let reply = signer(&stack.citizens)
        .seal(&reply, b"GetPersonResponse".to_vec())
        .expect("seal");
    let reply_id = send(&stack, reply).await.expect("reply accepted");

    let answers = fetch_as(&stack, &stack.portal, "portal")
        .await
        .expect("portal fetches its replies");
    let [answer] = answers.as_slice() else {
        panic!("one reply expected, got {}", answers.len());
    };
    let answer_header = header_of(answer);
    assert_eq!(answer_header.message_id, reply_id);
    assert_eq!(answer_header.correlation_id, request_header.correlation_id);
    assert_eq!(answer_header.in_reply_to, request_id);
    assert_eq!(answer_header.message_type, MessageType::Response as i32);
    assert_eq!(answer.payload[..], b"GetPersonResponse"[..]);
    acknowledge(&stack, "portal", vec![reply_id.clone()])
        .await
        .expect("ack");
    assert_eq!(state(&stack, &reply_id).await, DeliveryState::Delivered);

    // The log holds both messages under the one correlation id, in and out;
    // the forged reply sits under its own, refused at the door.
    let path = format!("/correlations/{}", request_header.correlation_id);
    let body = wait_for_log(stack.http, &path, 4).await;
    assert_eq!(body.matches("\"ASYNC\"").count(), 4, "{body}");
    assert_eq!(body.matches("\"SCSS001\"").count(), 4, "{body}");
    let forged = wait_for_log(
        stack.http,
        &format!("/correlations/{forged_correlation}"),
        1,
    )
    .await;
    assert_eq!(forged.matches("\"EMSG001\"").count(), 1, "{forged}");
}

#[tokio::test]
async fn fetch_without_a_valid_proof_is_refused() {
    let stack = start().await;
    let waiting = send_to_citizens(&stack, b"private").await;

    assert_eq!(
        fetch(&stack, "citizens", None, 0).await,
        Err(StatusCode::SignatureMissing)
    );
    // The portal claims to be citizens, but signs with its own BIN.
    assert_eq!(
        fetch(
            &stack,
            "citizens",
            Some(proof(&stack.portal, "citizens")),
            0
        )
        .await,
        Err(StatusCode::IinMismatch)
    );
    // A valid proof of another system.
    assert_eq!(
        fetch(&stack, "citizens", Some(proof(&stack.portal, "portal")), 0).await,
        Err(StatusCode::AccessDenied)
    );
    let mut tampered = proof(&stack.citizens, "citizens");
    tampered.payload = bytes::Bytes::from_static(b"changed after signing");
    assert_eq!(
        fetch(&stack, "citizens", Some(tampered), 0).await,
        Err(StatusCode::InvalidSignature)
    );
    let request = {
        let header = request_header(
            "egov.gw.fetch",
            "citizens",
            "shep",
            OffsetDateTime::now_utc(),
        );
        signer(&stack.citizens)
            .seal(&header, Vec::new())
            .expect("seal")
    };
    assert_eq!(
        fetch(&stack, "citizens", Some(request), 0).await,
        Err(StatusCode::MalformedMessage)
    );
    let stale = {
        let hour_ago = OffsetDateTime::now_utc() - time::Duration::hours(1);
        let mut header = request_header("egov.gw.fetch", "citizens", "shep", hour_ago);
        header.message_type = MessageType::Notification as i32;
        signer(&stack.citizens)
            .seal(&header, Vec::new())
            .expect("seal")
    };
    assert_eq!(
        fetch(&stack, "citizens", Some(stale), 0).await,
        Err(StatusCode::MessageTimeOutOfWindow)
    );
    let mut unknown = request_header("egov.gw.fetch", "nobody", "shep", OffsetDateTime::now_utc());
    unknown.message_type = MessageType::Notification as i32;
    let unknown = signer(&stack.notary)
        .seal(&unknown, Vec::new())
        .expect("seal");
    assert_eq!(
        fetch(&stack, "nobody", Some(unknown), 0).await,
        Err(StatusCode::AccessDenied)
    );

    // None of the refused calls consumed a delivery.
    assert_eq!(state(&stack, &waiting).await, DeliveryState::OnDelivery);
    assert_eq!(status(&stack, &waiting).await.expect("known").attempts, 0);
    let fetched = fetch_as(&stack, &stack.citizens, "citizens")
        .await
        .expect("a valid proof");
    assert_eq!(fetched.len(), 1);
    assert_eq!(status(&stack, &waiting).await.expect("known").attempts, 1);
}

#[tokio::test]
async fn duplicate_message_id_is_refused_with_emsg003_on_the_async_channel() {
    let stack = start().await;
    let envelope = portal_message(&stack, TO_CITIZENS, "citizens", b"once");
    let message_id = send(&stack, envelope.clone()).await.expect("first time");
    assert_eq!(
        send(&stack, envelope.clone()).await,
        Err(StatusCode::DuplicateMessageId)
    );

    // A second gateway replica has its own replay memory but shares the states.
    let (replica, _) = start_gateway(&stack, "replica").await;
    assert_eq!(
        send_via(&replica, envelope).await,
        Err(StatusCode::DuplicateMessageId)
    );
    let answer = replica
        .clone()
        .get_message_status(proven_by(
            &stack,
            "portal",
            STATUS_PROOF_SERVICE_ID,
            GetMessageStatusRequest {
                message_id: message_id.clone(),
            },
        ))
        .await
        .expect("the replica knows the message")
        .into_inner();
    assert_eq!(answer.state(), DeliveryState::OnDelivery);

    let mut stream = jetstream(&stack)
        .get_stream("EGOV_DELIVER")
        .await
        .expect("stream");
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
}

#[tokio::test]
async fn acknowledging_messages_not_fetched_by_the_caller_is_refused() {
    let stack = start().await;
    let message_id = send_to_citizens(&stack, b"not yet fetched").await;
    assert_eq!(
        acknowledge(&stack, "citizens", vec![message_id.clone()]).await,
        Err(StatusCode::UnknownMessage)
    );
    assert_eq!(
        acknowledge(&stack, "citizens", vec![uuid_like()]).await,
        Err(StatusCode::UnknownMessage)
    );
    fetch_as_citizens(&stack).await;
    assert_eq!(
        acknowledge(&stack, "portal", vec![message_id.clone()]).await,
        Err(StatusCode::AccessDenied)
    );
    assert_eq!(
        acknowledge(&stack, "nobody", vec![message_id.clone()]).await,
        Err(StatusCode::AccessDenied)
    );
    assert_eq!(state(&stack, &message_id).await, DeliveryState::OnDelivery);
    acknowledge(&stack, "citizens", vec![message_id.clone()])
        .await
        .expect("the receiver may");
    // A repeated acknowledgement is harmless.
    acknowledge(&stack, "citizens", vec![message_id.clone()])
        .await
        .expect("repeat");
    assert_eq!(state(&stack, &message_id).await, DeliveryState::Delivered);
}

#[tokio::test]
async fn unacknowledged_pull_message_is_not_delivered_after_its_last_fetch_expires() {
    let stack = start_giving_up_after_two_deliveries().await;
    let message_id = send_to_citizens(&stack, b"ignored").await;
    let mut fetches = 0;
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        let batch = fetch_as_citizens(&stack).await;
        fetches += batch.len();
        if state(&stack, &message_id).await == DeliveryState::NotDelivered {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(
        fetches, 2,
        "offered max_deliveries times, never acknowledged"
    );
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.state(), DeliveryState::NotDelivered);
    assert_eq!(answer.attempts, 2);
}

#[tokio::test]
async fn message_jetstream_gives_up_on_by_itself_is_not_delivered() {
    let stack = start_giving_up_after_two_deliveries().await;
    let message_id = send_to_citizens(&stack, b"lost with a replica").await;
    // The first delivery goes through the gateway and is never acknowledged.
    let first = fetch_as_citizens(&stack).await;
    assert_eq!(first.len(), 1);

    // The last one is taken straight from the consumer, as by a gateway replica
    // that then stopped: no gateway timer watches it, only JetStream.
    let consumer: jetstream::consumer::PullConsumer = jetstream(&stack)
        .get_stream("EGOV_DELIVER")
        .await
        .expect("stream")
        .get_consumer("deliver-citizens")
        .await
        .expect("consumer");
    let mut taken = 0;
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .messages()
            .await
            .expect("fetch");
        while let Some(message) = batch.next().await {
            message.expect("message");
            taken += 1;
        }
        if taken > 0 {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(taken, 1, "the second and last delivery");

    // JetStream reports the exhausted message once a receiver asks again.
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        let batch = fetch_as_citizens(&stack).await;
        assert!(batch.is_empty(), "never offered a third time");
        if state(&stack, &message_id).await == DeliveryState::NotDelivered {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.state(), DeliveryState::NotDelivered);
    assert_eq!(answer.attempts, 2);
}

/// Reads a message's final state straight from the state stream: its notification
/// and its stored attempts, or `None` while it has none.
async fn stored_final_state(
    stack: &Stack,
    sender: &str,
    message_id: &str,
) -> Option<(DeliveryNotification, u32)> {
    let stream = jetstream(stack)
        .get_stream("EGOV_NOTIFY")
        .await
        .expect("state stream");
    let stored = stream
        .get_last_raw_message_by_subject(&format!("egov.gw.notify.{sender}.{message_id}"))
        .await
        .ok()?;
    let attempts = stored
        .headers
        .get("Egov-Attempts")
        .expect("attempts header")
        .as_str()
        .parse()
        .expect("a count");
    let notification = DeliveryNotification::decode(stored.payload.as_ref()).expect("notification");
    Some((notification, attempts))
}

/// Returns how many messages a stream holds.
async fn messages_in(stack: &Stack, stream: &str) -> u64 {
    let mut stream = jetstream(stack).get_stream(stream).await.expect("stream");
    stream.info().await.expect("info").state.messages
}

#[tokio::test]
async fn first_pull_attempt_is_reported_at_once_and_stored_with_the_final_state() {
    let stack = start().await;
    let message_id = send_to_citizens(&stack, b"counted").await;
    let fetched = fetch_as_citizens(&stack).await;
    assert_eq!(fetched.len(), 1);

    // A first fetch writes nothing; the gateway holding the fetch reports the
    // attempt all the same.
    assert_eq!(
        stored_final_state(&stack, "portal", &message_id).await,
        None
    );
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.state(), DeliveryState::OnDelivery);
    assert_eq!(answer.attempts, 1);

    // The final state is stored with the attempt, in one write.
    acknowledge(&stack, "citizens", vec![message_id.clone()])
        .await
        .expect("ack");
    let (notification, attempts) = stored_final_state(&stack, "portal", &message_id)
        .await
        .expect("a final state");
    assert_eq!(notification.state(), DeliveryState::Delivered);
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn a_message_costs_two_stored_writes_from_send_to_its_final_state() {
    let stack = start().await;
    let mut sent = Vec::new();
    for n in 0..10 {
        sent.push(send_to_citizens(&stack, format!("message {n}").as_bytes()).await);
    }
    let fetched: Vec<String> = fetch_as_citizens(&stack)
        .await
        .iter()
        .map(|envelope| header_of(envelope).message_id)
        .collect();
    assert_eq!(fetched, sent);
    acknowledge(&stack, "citizens", fetched).await.expect("ack");

    // One stored message each in the delivery stream (ON_DELIVERY), one final state
    // each in the state stream (also the sender's notification), nothing else.
    assert_eq!(messages_in(&stack, "EGOV_DELIVER").await, 10);
    assert_eq!(messages_in(&stack, "EGOV_NOTIFY").await, 10);
    assert_eq!(
        messages_in(&stack, "KV_EGOV_DELIVERY_ATTEMPTS").await,
        0,
        "a first delivery records no attempt of its own"
    );
    for id in &sent {
        assert_eq!(state(&stack, id).await, DeliveryState::Delivered);
    }
}

#[tokio::test]
async fn of_racing_final_states_exactly_one_is_stored_and_reported() {
    let stack = start().await;
    let mut sent = Vec::new();
    for n in 0..20 {
        sent.push(send_to_citizens(&stack, format!("raced {n}").as_bytes()).await);
    }
    assert_eq!(fetch_as_citizens(&stack).await.len(), sent.len());

    // The receiver acknowledges each message while the sender cancels it.
    let acknowledging = sent.iter().map(|id| {
        let stack = &stack;
        async move { acknowledge(stack, "citizens", vec![id.clone()]).await }
    });
    let cancelling = sent.iter().map(|id| {
        let stack = &stack;
        async move {
            cancel(stack, id, "portal")
                .await
                .map(|answer| answer.state())
        }
    });
    let (acks, cancels) = tokio::join!(
        futures::future::join_all(acknowledging),
        futures::future::join_all(cancelling)
    );
    assert!(acks.iter().all(Result::is_ok), "{acks:?}");

    for (id, cancelled) in sent.iter().zip(cancels) {
        let answered = cancelled.expect("the sender may cancel");
        let (stored, _) = stored_final_state(&stack, "portal", id)
            .await
            .expect("a final state");
        let kept = stored.state();
        assert!(
            matches!(
                kept,
                DeliveryState::Delivered | DeliveryState::DeliveryStopped
            ),
            "{kept:?}"
        );
        assert_eq!(answered, kept, "the cancellation answers the state kept");
        assert_eq!(state(&stack, id).await, kept);
    }
    assert_eq!(
        messages_in(&stack, "EGOV_NOTIFY").await,
        20,
        "one final state per message, whichever came first"
    );
}

#[tokio::test]
async fn a_redelivery_is_counted_while_the_message_is_on_delivery() {
    // Offered again 300 ms after a fetch, up to three times.
    let stack = start_with(AsyncSettings {
        ack_wait: Duration::from_millis(300),
        ..test_settings()
    })
    .await;
    let message_id = send_to_citizens(&stack, b"offered twice").await;
    assert_eq!(fetch_as_citizens(&stack).await.len(), 1);

    // The first fetch expires unacknowledged; the second is a redelivery.
    let mut again = Vec::new();
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        again = fetch_as_citizens(&stack).await;
        if !again.is_empty() {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(again.len(), 1, "offered again after ack_wait");
    let answer = status(&stack, &message_id).await.expect("known");
    assert_eq!(answer.state(), DeliveryState::OnDelivery);
    assert_eq!(answer.attempts, 2);

    // A replica that does not hold the fetch reads the stored count.
    let (replica, _) = start_gateway(&stack, "replica").await;
    let answer = replica
        .clone()
        .get_message_status(proven_by(
            &stack,
            "portal",
            STATUS_PROOF_SERVICE_ID,
            GetMessageStatusRequest {
                message_id: message_id.clone(),
            },
        ))
        .await
        .expect("the replica knows the message")
        .into_inner();
    assert_eq!(answer.state(), DeliveryState::OnDelivery);
    assert_eq!(answer.attempts, 2);
}

#[tokio::test]
async fn batch_send_stores_each_message_and_refuses_only_the_bad_one_with_its_code() {
    let stack = start().await;
    let first = portal_message(&stack, TO_CITIZENS, "citizens", b"first");
    let mut unsigned = portal_message(&stack, TO_CITIZENS, "citizens", b"unsigned");
    unsigned.signatures.clear();
    let last = portal_message(&stack, TO_CITIZENS, "citizens", b"last");
    let ids: Vec<String> = [&first, &unsigned, &last]
        .iter()
        .map(|envelope| header_of(envelope).message_id)
        .collect();

    let answer = stack
        .client
        .clone()
        .send_async_messages(SendAsyncMessagesRequest {
            envelopes: vec![first, unsigned, last],
        })
        .await
        .expect("the call is answered")
        .into_inner();

    let outcomes: Vec<(&str, &str)> = answer
        .results
        .iter()
        .map(|result| {
            (
                result.status.as_ref().expect("status").code.as_str(),
                result.message_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("SCSS001", ids[0].as_str()),
            ("ESIG001", ids[1].as_str()),
            ("SCSS001", ids[2].as_str()),
        ]
    );
    assert_eq!(state(&stack, &ids[0]).await, DeliveryState::OnDelivery);
    assert_eq!(state(&stack, &ids[2]).await, DeliveryState::OnDelivery);
    assert_eq!(
        status(&stack, &ids[1]).await.err(),
        Some(StatusCode::UnknownMessage)
    );
    let fetched: BTreeSet<String> = fetch_as(&stack, &stack.citizens, "citizens")
        .await
        .expect("fetched")
        .iter()
        .map(|envelope| header_of(envelope).message_id)
        .collect();
    assert_eq!(fetched, BTreeSet::from([ids[0].clone(), ids[2].clone()]));
}

#[tokio::test]
async fn batch_send_of_more_than_a_thousand_envelopes_is_refused_whole_with_emsg002() {
    let stack = start().await;
    let envelope = portal_message(&stack, TO_CITIZENS, "citizens", b"one of many");
    let refused = stack
        .client
        .clone()
        .send_async_messages(SendAsyncMessagesRequest {
            envelopes: vec![envelope.clone(); 1001],
        })
        .await
        .expect_err("refused");
    assert_eq!(code_of(&refused), StatusCode::MessageTooLarge);
    assert!(refused.message().contains("1001 envelopes"), "{refused:?}");

    // Nothing of the refused call was stored: the envelope is still new.
    send(&stack, envelope).await.expect("accepted on its own");
}
