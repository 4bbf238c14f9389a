//! The async inbox end to end, in-process: a real nats-server with JetStream,
//! a sandbox gateway running its async channel, a requester that sends with
//! `SendAsyncMessage` and fetches its answers, and a system whose [`Inbox`]
//! hands what the gateway pushes (or what it fetches) to a [`Receiver`] with
//! a real handler. Waits poll briefly and give up after a few seconds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::envelope::{StaticRevocation, VerifyPolicy};
use egov_gateway::AsyncSettings;
use egov_proto::v1::{
    DeliveryState, Envelope, GetMessageStatusResponse, Header, MessageType, Status,
};
use egov_system::caller::decode_answer;
use egov_system::inbox::reply_service_id;
use egov_system::{
    Fault, GatewayCaller, Handler, Inbox, InboxSettings, Receiver, Reply, Request, RunningInbox,
    SystemIdentity,
};
use egov_testkit::{NatsServer, Sandbox, poll};
use prost::Message;
use time::OffsetDateTime;
use tracing::Instrument as _;

const PORTAL: &str = "portal";
const PORTAL_BIN: &str = "040340001035";
const NOTARY: &str = "notary";
const NOTARY_BIN: &str = "040340001065";

/// The service the notary answers here: it echoes a `Status` message.
const ECHO: &str = "notary.echo";

/// The longest any wait polls for.
const WAIT: Duration = Duration::from_secs(10);

/// Async routes never use their gRPC address; the registry requires one.
const UNUSED: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9);

/// Echoes a `Status` message's text; refuses an empty one. Counts its calls and
/// keeps the `traceparent` each was handled in.
#[derive(Default)]
struct Echo {
    calls: AtomicUsize,
    traceparents: std::sync::Mutex<Vec<String>>,
}

impl Handler for Echo {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.traceparents
            .lock()
            .expect("traceparents")
            .push(egov_bus::trace_context::current_traceparent());
        if request.header().service_id != ECHO {
            return Err(Fault::new(StatusCode::UnknownService, "not served here"));
        }
        let asked: Status = request.decode()?;
        if asked.message.is_empty() {
            return Err(Fault::invalid("nothing to echo"));
        }
        Ok(Reply::message(&Status {
            code: StatusCode::Success.as_str().into(),
            message: format!("echo: {}", asked.message),
        }))
    }
}

/// A NATS server, a sandbox gateway on it, the portal (pull) and the notary.
struct Stack {
    sandbox: Sandbox,
    portal: GatewayCaller,
    notary: Arc<SystemIdentity>,
    echo: Arc<Echo>,
    // Last, so the gateway's connection sees it go only at the very end.
    nats: NatsServer,
}

fn test_settings() -> AsyncSettings {
    AsyncSettings {
        max_deliveries: 10,
        push_timeout: Duration::from_millis(500),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        registry_poll: Duration::from_millis(50),
        ..AsyncSettings::default()
    }
}

/// Starts the stack; the notary is push-mode when `push`, else it fetches.
async fn start(push: bool) -> Stack {
    let nats = NatsServer::start().expect("nats-server");
    let sandbox = Sandbox::start_with_nats(&nats.url(), test_settings()).await;
    let notary = sandbox.system(NOTARY, NOTARY_BIN);
    if push {
        sandbox.deliver_by_push(NOTARY);
    }
    let portal = sandbox.caller(PORTAL, PORTAL_BIN);
    sandbox.route(ECHO, NOTARY, UNUSED, &[PORTAL]);
    sandbox.route(&reply_service_id(PORTAL), PORTAL, UNUSED, &[NOTARY]);
    Stack {
        sandbox,
        portal,
        notary,
        echo: Arc::new(Echo::default()),
        nats,
    }
}

impl Stack {
    fn receiver(&self) -> Receiver<Echo, Arc<StaticRevocation>> {
        Receiver::new(
            self.notary.clone(),
            self.sandbox.verifier(),
            self.echo.clone(),
            self.sandbox.clock(),
        )
    }

    /// Starts the notary's inbox as a service's `run` does: push on NATS, or the pull loop.
    async fn start_notary(&self, push: bool) -> RunningInbox {
        let nats_url = if push { self.nats.url() } else { String::new() };
        let settings = InboxSettings::new(&self.sandbox.gateway_endpoint(), &nats_url, !push);
        let running = Inbox::launch(
            self.receiver(),
            self.notary.clone(),
            self.sandbox.clock(),
            Some(&settings),
        )
        .await;
        assert_eq!(running.is_pushing(), push);
        assert_eq!(running.is_pulling(), !push);
        running
    }

    /// The portal's signed async request to echo `text`; returns its message id.
    async fn send_echo(&self, text: &str) -> String {
        let header = self.portal.header::<Status>(ECHO, NOTARY);
        let request = Status {
            code: String::new(),
            message: text.into(),
        };
        let envelope = self
            .portal
            .identity()
            .signer
            .seal_message(&header, &request)
            .expect("seal");
        let message_id = self.portal.send_async(envelope).await.expect("stored");
        assert_eq!(message_id, header.message_id);
        message_id
    }

    /// Asks a message's state as its receiver, the notary (the portal's key
    /// may be revoked by then, and a revoked key proves no caller).
    async fn status(&self, message_id: &str) -> GetMessageStatusResponse {
        GatewayCaller::new(
            self.notary.clone(),
            &self.sandbox.gateway_endpoint(),
            self.sandbox.clock(),
        )
        .expect("caller")
        .message_status(message_id)
        .await
        .expect("known message")
    }

    /// Polls until the message reaches `wanted`.
    async fn wait_for_state(&self, message_id: &str, wanted: DeliveryState) -> u32 {
        let what = format!("message {message_id} to be {wanted:?}");
        poll::until(what, WAIT, async || {
            let status = self.status(message_id).await;
            if status.state() == wanted {
                Ok(status.attempts)
            } else {
                Err(status)
            }
        })
        .await
    }

    /// Polls until the gateway has tried to deliver the message at least once.
    async fn wait_for_attempt(&self, message_id: &str) {
        let what = format!("message {message_id} to be offered to its receiver");
        poll::until(what, WAIT, async || {
            let status = self.status(message_id).await;
            if status.attempts >= 1 {
                Ok(())
            } else {
                Err(status)
            }
        })
        .await
    }

    /// Polls the portal's queue until one answer arrives, acknowledges it and returns it.
    async fn fetch_answer(&self) -> Envelope {
        poll::one_answer(&self.portal, WAIT).await
    }

    /// Checks that an answer answers `request_id`, comes sealed by the notary and echoes `text`.
    async fn assert_echo(&self, answer: &Envelope, request_id: &str, text: &str) {
        let verified = self
            .sandbox
            .verifier()
            .verify(answer, &VerifyPolicy::any())
            .await
            .expect("answer verifies");
        assert!(verified.signed_by_bin(&self.notary.bin), "sealed by notary");
        let header = &verified.header;
        assert_eq!(header.message_type, MessageType::Response as i32);
        assert_eq!(
            header.correlation_id, request_id,
            "request's correlation id"
        );
        assert_eq!(header.in_reply_to, request_id);
        assert_eq!(header.sender_system_id, NOTARY);
        assert_eq!(header.receiver_system_id, PORTAL);
        assert_eq!(header.service_id, reply_service_id(PORTAL));
        let echoed: Status = decode_answer(answer).expect("echo answer");
        assert_eq!(echoed.message, format!("echo: {text}"));
    }

    fn calls(&self) -> usize {
        self.echo.calls.load(Ordering::SeqCst)
    }
}

fn header_of(envelope: &Envelope) -> Header {
    Header::decode(&envelope.header[..]).expect("header")
}

#[tokio::test]
async fn async_request_to_a_push_system_is_answered_through_the_async_channel() {
    let stack = start(true).await;
    let notary = stack.start_notary(true).await;

    let request_id = stack.send_echo("power of attorney 42").await;
    let answer = stack.fetch_answer().await;
    stack
        .assert_echo(&answer, &request_id, "power of attorney 42")
        .await;

    // The inbox's reply made the request DELIVERED at the first push.
    assert_eq!(
        stack
            .wait_for_state(&request_id, DeliveryState::Delivered)
            .await,
        1
    );
    assert_eq!(stack.calls(), 1);

    // A handler's refusal is an answer too: a signed Fault on the same route.
    let refused_id = stack.send_echo("").await;
    let answer = stack.fetch_answer().await;
    assert_eq!(header_of(&answer).in_reply_to, refused_id);
    let fault = decode_answer::<Status>(&answer).expect_err("a fault");
    assert_eq!(fault.code(), StatusCode::InvalidRequest);
    notary.stop().await;
}

#[tokio::test]
async fn system_that_is_down_when_an_async_request_is_sent_answers_it_after_it_starts() {
    let stack = start(true).await;
    let request_id = stack.send_echo("sent while down").await;
    // Nobody listens on the inbox yet: the gateway schedules a redelivery.
    stack.wait_for_attempt(&request_id).await;
    assert_eq!(
        stack.status(&request_id).await.state(),
        DeliveryState::OnDelivery
    );

    let notary = stack.start_notary(true).await;
    let answer = stack.fetch_answer().await;
    stack
        .assert_echo(&answer, &request_id, "sent while down")
        .await;
    stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    assert_eq!(stack.calls(), 1);
    notary.stop().await;
}

#[tokio::test]
async fn pull_mode_system_that_is_down_fetches_the_request_after_it_starts_and_acknowledges_it() {
    let stack = start(false).await;
    let request_id = stack.send_echo("fetched later").await;
    assert_eq!(
        stack.status(&request_id).await.state(),
        DeliveryState::OnDelivery
    );

    let notary = stack.start_notary(false).await;
    let answer = stack.fetch_answer().await;
    stack
        .assert_echo(&answer, &request_id, "fetched later")
        .await;
    // Acknowledged after handling: DELIVERED at the first fetch, not offered again.
    assert_eq!(
        stack
            .wait_for_state(&request_id, DeliveryState::Delivered)
            .await,
        1
    );
    notary.stop().await;
    assert_eq!(stack.calls(), 1);
}

/// Returns the trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
fn trace_id_of(traceparent: &str) -> &str {
    traceparent.split('-').nth(1).unwrap_or_default()
}

#[tokio::test]
async fn pulled_message_is_handled_in_the_senders_trace() {
    // The services' telemetry: every info span gets a trace id, exported or not.
    egov_testkit::service::quiet_logs("egov-system-inbox-tests", "error");
    let stack = start(false).await;
    let send = tracing::info_span!("portal.send");
    let sender = send.in_scope(egov_bus::trace_context::current_traceparent);
    assert!(!trace_id_of(&sender).is_empty(), "the sender is traced");
    let request_id = stack
        .send_echo("traced through a fetch")
        .instrument(send)
        .await;

    let notary = stack.start_notary(false).await;
    stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    notary.stop().await;
    let handled = stack
        .echo
        .traceparents
        .lock()
        .expect("traceparents")
        .clone();
    let [handled] = handled.as_slice() else {
        panic!("handled once expected, got {handled:?}");
    };
    assert_eq!(trace_id_of(handled), trace_id_of(&sender), "{handled}");
    assert_ne!(handled, &sender, "handled in a span of its own");
}

#[tokio::test]
async fn unsigned_async_message_is_refused_by_the_system_and_not_redelivered() {
    let stack = start(true).await;
    let notary = stack.start_notary(true).await;
    let client = async_nats::connect(stack.nats.url()).await.expect("nats");
    let inbox = egov_bus::subjects::inbox(NOTARY).expect("inbox subject");

    // Pushed straight to the inbox, past the gateway: no signature at all.
    let header = stack.portal.header::<Status>(ECHO, NOTARY);
    let unsigned = Envelope {
        header: header.encode_to_vec().into(),
        payload: Status {
            code: String::new(),
            message: "forged".into(),
        }
        .encode_to_vec()
        .into(),
        signatures: Vec::new(),
    };
    // Each is answered at once, so a gateway would settle it, not deliver it again.
    let reply = client
        .request(inbox.clone(), unsigned.encode_to_vec().into())
        .await
        .expect("unsigned message is answered");
    assert_eq!(
        reply.payload.as_ref(),
        StatusCode::SignatureMissing.as_str().as_bytes()
    );
    let reply = client
        .request(inbox, b"\xff\xffnot an envelope".to_vec().into())
        .await
        .expect("bad bytes are answered");
    assert_eq!(
        reply.payload.as_ref(),
        StatusCode::MalformedMessage.as_str().as_bytes()
    );
    assert_eq!(stack.calls(), 0, "nothing reached the handler");
    assert!(
        stack.portal.fetch(0).await.expect("fetch").is_empty(),
        "no answer to a refused message"
    );
    notary.stop().await;
}

#[tokio::test]
async fn message_that_fails_the_systems_verification_is_settled_once_without_an_answer() {
    let stack = start(true).await;
    let request_id = stack.send_echo("signed, then revoked").await;
    stack.wait_for_attempt(&request_id).await;
    // The gateway admitted it; by the time the notary sees it, the key is revoked.
    stack.sandbox.revocation().revoke(
        &stack.portal.identity().signer.certificate().serial,
        OffsetDateTime::now_utc(),
        "key compromise",
    );

    let notary = stack.start_notary(true).await;
    let attempts = stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    // Settled for good: a few backoffs later it is still DELIVERED with the same attempts.
    tokio::time::sleep(test_settings().backoff_max * 3).await;
    let status = stack.status(&request_id).await;
    assert_eq!(status.state(), DeliveryState::Delivered);
    assert_eq!(status.attempts, attempts);
    assert_eq!(stack.calls(), 0, "refused before the handler");
    notary.stop().await;
}

#[tokio::test]
async fn nats_down_at_start_leaves_the_push_inbox_waiting_and_nothing_fails() {
    let stack = start(true).await;
    // A port nothing listens on.
    let port = egov_testkit::free_port();
    let settings = InboxSettings::new(
        &stack.sandbox.gateway_endpoint(),
        &format!("nats://127.0.0.1:{port}"),
        false,
    );
    let running = Inbox::launch(
        stack.receiver(),
        stack.notary.clone(),
        stack.sandbox.clock(),
        Some(&settings),
    )
    .await;
    assert!(!running.is_pushing());
    assert!(!running.is_pulling());
    running.stop().await;
}

#[tokio::test]
async fn push_inbox_subscribes_once_a_nats_that_was_down_at_start_comes_up() {
    let stack = start(true).await;
    let port = egov_testkit::free_port();
    let url = format!("nats://127.0.0.1:{port}");
    let settings = InboxSettings::new(&stack.sandbox.gateway_endpoint(), &url, false);
    let running = Inbox::launch(
        stack.receiver(),
        stack.notary.clone(),
        stack.sandbox.clock(),
        Some(&settings),
    )
    .await;
    assert!(!running.is_pushing(), "NATS is not up yet");

    let _late = NatsServer::start_on(port).expect("nats-server comes up");
    let mut subscribed = false;
    for _ in 0..200 {
        if running.is_pushing() {
            subscribed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(subscribed, "the inbox subscribed once NATS answered");

    // The subscription answers: bytes that are no envelope are settled as EMSG001.
    let client = async_nats::connect(&url).await.expect("connect");
    let reply = client
        .request(
            egov_bus::subjects::inbox(NOTARY).expect("subject"),
            "not an envelope".into(),
        )
        .await
        .expect("the inbox replies");
    assert_eq!(reply.payload.as_ref(), b"EMSG001");
    running.stop().await;
}
