//! Faults injected at run time, each kind's effect on a flow through a real gateway (the
//! testkit's sandbox): sync exchanges to a signed echo target, async deliveries to a system
//! whose real inbox (`egov_system::Inbox`) answers them, and the admin API's sign-in.
//! The citizens-DB down and the Labour Market AIS slow are tested at the State Corporation's
//! desk (`services/con/tests/desk/faults.rs`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use egov_core::StatusCode;
use egov_core::envelope::StaticRevocation;
use egov_core::pki::Role;
use egov_faults::{Fault, FaultKind, Latency, Party};
use egov_gateway::message_log::LogRecord;
use egov_proto::v1::{DeliveryState, Envelope, Header, Status};
use egov_system::inbox::reply_service_id;
use egov_system::{
    CallError, Fault as SystemFault, GatewayCaller, Handler, Inbox, InboxSettings, Receiver, Reply,
    Request, RunningInbox, SystemIdentity,
};
use egov_testkit::credentials::{holder, signer, start_echo_target};
use egov_testkit::sandbox::{AsyncSettings, SEAL_HOLDER_IIN};
use egov_testkit::service::{OPERATOR_TOKEN, PLAIN_OPERATOR_TOKEN};
use egov_testkit::{NatsServer, Sandbox, poll};
use prost::Message;

const PORTAL: &str = "portal";
const PORTAL_BIN: &str = "040340001035";
const NOTARY: &str = "notary";
const NOTARY_BIN: &str = "040340001065";

/// The service the notary answers: it echoes a `Status` message.
const ECHO: &str = "notary.echo";

/// The longest any wait polls for.
const WAIT: Duration = Duration::from_secs(10);
const STEP: Duration = Duration::from_millis(20);

/// Async routes never use their gRPC address; the registry requires one.
const UNUSED: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9);

fn status(text: &str) -> Status {
    Status {
        code: String::new(),
        message: text.into(),
    }
}

fn header_of(envelope: &Envelope) -> Header {
    Header::decode(&envelope.header[..]).expect("header")
}

/// A sandbox gateway, the portal, and the notary as a signed echo target on the sync channel.
struct SyncStack {
    sandbox: Sandbox,
    portal: GatewayCaller,
}

async fn sync_stack() -> SyncStack {
    let sandbox = Sandbox::start().await;
    sandbox.system(NOTARY, NOTARY_BIN);
    let portal = sandbox.caller(PORTAL, PORTAL_BIN);
    // The echo target seals its answers with a certificate of the notary's BIN.
    let seal = sandbox.credential(&holder(
        SEAL_HOLDER_IIN,
        Some(NOTARY_BIN),
        Role::LegalEntity,
    ));
    let echo = start_echo_target(signer(&seal), Duration::ZERO).await;
    sandbox.route(ECHO, NOTARY, echo, &[PORTAL]);
    SyncStack { sandbox, portal }
}

impl SyncStack {
    /// Sends `text` to the echo target through the gateway; returns what came back.
    async fn call(&self, text: &str) -> Result<Status, CallError> {
        let header = self.portal.header::<Status>(ECHO, NOTARY);
        let envelope = self
            .portal
            .identity()
            .signer
            .seal_message(&header, &status(text))
            .expect("seal");
        let answer = self.portal.send(envelope).await?;
        Ok(Status::decode(&answer.payload[..]).expect("the echoed Status"))
    }

    async fn add(&self, fault: Fault) -> Fault {
        self.sandbox
            .gateway()
            .faults()
            .add(fault)
            .await
            .expect("fault set")
    }

    /// Returns the gateway's newest hops (those of the last exchange).
    async fn hops_of_last_exchange(&self) -> Vec<LogRecord> {
        let log = self.sandbox.gateway().log();
        log.flush().await.expect("log flushed");
        log.recent(&Default::default(), 4).await.expect("log")
    }

    async fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        http(self.sandbox.gateway_http(), method, path, token, body).await
    }
}

/// Sends one HTTP/1.1 request and returns the status and body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{authorization}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("end of headers");
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    (code, body.to_owned())
}

fn refused_code(outcome: Result<Status, CallError>) -> (StatusCode, String) {
    match outcome.expect_err("refused") {
        CallError::Refused { code, message } => (code, message),
        other => panic!("expected the gateway's refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_injected_error_answers_its_status_code() {
    let stack = sync_stack().await;
    stack
        .add(
            Fault::on_service(
                ECHO,
                FaultKind::Error {
                    code: StatusCode::DataNotFound,
                    message: "no such deed".into(),
                },
            )
            .with_id("no-deed"),
        )
        .await;

    let (code, message) = refused_code(stack.call("deed 7").await);

    assert_eq!(code, StatusCode::DataNotFound);
    assert!(
        message.contains("no such deed (injected fault no-deed)"),
        "{message}"
    );
    let hops = stack.hops_of_last_exchange().await;
    assert!(
        hops.iter().any(|hop| hop.status_code == "EDAT001"
            && hop.status_message == "no such deed (injected fault no-deed)"),
        "{hops:?}"
    );
}

#[tokio::test]
async fn added_latency_delays_the_answer() {
    let stack = sync_stack().await;
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::Latency(Latency::Fixed { ms: 400 }))
                .with_id("notary-slow"),
        )
        .await;

    let started = Instant::now();
    let answer = stack.call("deed 7").await.expect("answered");

    assert_eq!(answer.message, "deed 7");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "the answer came after the added latency"
    );
    let hops = stack.hops_of_last_exchange().await;
    assert!(
        hops.iter().any(|hop| hop.status_code == "SCSS001"
            && hop.status_message == "latency 400 ms (injected fault notary-slow)"),
        "the forwarded hop names the fault: {hops:?}"
    );
}

#[tokio::test]
async fn an_injected_timeout_answers_the_timeout_code() {
    let stack = sync_stack().await;
    stack
        .sandbox
        .route_timeout(ECHO, Duration::from_millis(300));
    stack
        .add(Fault::on_system(NOTARY, FaultKind::Timeout).with_id("notary-silent"))
        .await;

    let (code, message) = refused_code(stack.call("deed 7").await);

    assert_eq!(code, StatusCode::TargetTimeout);
    assert!(
        message
            .contains("target notary did not answer within 300 ms (injected fault notary-silent)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_system_down_answers_target_unavailable() {
    let stack = sync_stack().await;
    stack
        .add(Fault::on_system(NOTARY, FaultKind::Down).with_id("notary-down"))
        .await;

    let (code, message) = refused_code(stack.call("deed 7").await);

    assert_eq!(code, StatusCode::TargetUnavailable);
    assert!(
        message.contains("target notary refused the connection (injected fault notary-down)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_fault_with_a_limit_hits_only_the_next_messages() {
    let stack = sync_stack().await;
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::Down)
                .with_id("one-outage")
                .with_limit(1),
        )
        .await;

    let (code, _) = refused_code(stack.call("first").await);
    assert_eq!(code, StatusCode::TargetUnavailable);
    assert_eq!(
        stack.call("second").await.expect("answered").message,
        "second"
    );
    assert!(
        stack.sandbox.gateway().faults().list().is_empty(),
        "a spent fault leaves the table"
    );
}

#[tokio::test]
async fn a_certificate_revoked_mid_flow_is_refused() {
    let stack = sync_stack().await;
    assert_eq!(
        stack.call("before").await.expect("answered").message,
        "before"
    );

    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::RevokeCertificate(Party::Sender))
                .with_id("portal-revoked"),
        )
        .await;
    let (code, message) = refused_code(stack.call("after").await);

    assert_eq!(code, StatusCode::CertificateRevoked);
    assert!(
        message.contains(
            "the certificate of sender portal was revoked (injected fault portal-revoked)"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn a_target_certificate_revoked_mid_flow_refuses_its_answer() {
    let stack = sync_stack().await;
    assert_eq!(
        stack.call("before").await.expect("answered").message,
        "before"
    );

    stack
        .add(
            Fault::on_service(ECHO, FaultKind::RevokeCertificate(Party::Target))
                .with_id("notary-revoked"),
        )
        .await;
    let (code, message) = refused_code(stack.call("after").await);

    assert_eq!(code, StatusCode::CertificateRevoked);
    assert!(
        message.contains(
            "the certificate of target notary was revoked (injected fault notary-revoked)"
        ),
        "{message}"
    );
}

#[tokio::test]
async fn the_fault_api_refuses_callers_without_an_administrator_token() {
    let stack = sync_stack().await;
    let body = r#"{"system":"notary","kind":"down"}"#;

    let (code, _) = stack.http("POST", "/admin/faults", None, body).await;
    assert_eq!(code, 401, "no token");
    let (code, _) = stack
        .http("POST", "/admin/faults", Some("egov_not_a_token"), body)
        .await;
    assert_eq!(code, 401, "an unknown token");
    let (code, _) = stack
        .http("POST", "/admin/faults", Some(PLAIN_OPERATOR_TOKEN), body)
        .await;
    assert_eq!(code, 403, "an operator without the ADMIN role");
    let (code, _) = stack.http("GET", "/admin/faults", None, "").await;
    assert_eq!(code, 401, "the list too");
    let (code, _) = stack.http("DELETE", "/admin/faults", None, "").await;
    assert_eq!(code, 401, "clearing too");

    assert!(stack.sandbox.gateway().faults().list().is_empty());
    assert_eq!(
        stack.call("untouched").await.expect("answered").message,
        "untouched"
    );
}

#[tokio::test]
async fn a_bad_fault_is_refused_with_400_naming_the_field() {
    let stack = sync_stack().await;
    let cases = [
        (r#"{"system":"notary","kind":"sideways"}"#, "kind"),
        (
            r#"{"system":"notary","kind":{"error":{"code":"E42"}}}"#,
            "kind.error.code",
        ),
        (r#"{"system":"notary","kind":"down","limit":0}"#, "limit"),
        (r#"{"kind":"down"}"#, "system"),
        (
            r#"{"id":"no spaces","system":"notary","kind":"down"}"#,
            "id",
        ),
        ("not json", "fault"),
    ];
    for (body, field) in cases {
        let (code, answer) = stack
            .http("POST", "/admin/faults", Some(OPERATOR_TOKEN), body)
            .await;
        assert_eq!(code, 400, "{body}: {answer}");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON error");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    assert!(stack.sandbox.gateway().faults().list().is_empty());
}

#[tokio::test]
async fn clearing_a_fault_restores_the_flow() {
    let stack = sync_stack().await;
    let (code, set) = stack
        .http(
            "POST",
            "/admin/faults",
            Some(OPERATOR_TOKEN),
            r#"{"system":"notary","kind":"down"}"#,
        )
        .await;
    assert_eq!(code, 201, "{set}");
    let set = Fault::from_json(set.as_bytes()).expect("the fault as set");
    assert!(set.id.starts_with("f-"), "the gateway named it: {}", set.id);
    let (code, list) = stack
        .http("GET", "/admin/faults", Some(OPERATOR_TOKEN), "")
        .await;
    assert_eq!(code, 200);
    let listed: Vec<Fault> = serde_json::from_str(&list).expect("a list of faults");
    assert_eq!(listed, vec![set.clone()]);
    assert_eq!(
        refused_code(stack.call("while down").await).0,
        StatusCode::TargetUnavailable
    );

    let path = format!("/admin/faults/{}", set.id);
    let (code, _) = stack.http("DELETE", &path, Some(OPERATOR_TOKEN), "").await;
    assert_eq!(code, 204);

    assert_eq!(stack.call("back").await.expect("answered").message, "back");
    let (code, _) = stack.http("DELETE", &path, Some(OPERATOR_TOKEN), "").await;
    assert_eq!(code, 404, "cleared already");
}

#[tokio::test]
async fn faults_set_on_one_replica_apply_on_every_replica_sharing_nats() {
    let nats = NatsServer::start().expect("nats-server");
    let first = Sandbox::start_with_nats(&nats.url(), AsyncSettings::default()).await;
    let second = Sandbox::start_with_nats(&nats.url(), AsyncSettings::default()).await;
    // The gateways share their table once their async channels are up.
    wait_until(|| first.gateway().faults().is_shared() && second.gateway().faults().is_shared())
        .await;

    first
        .gateway()
        .faults()
        .add(Fault::on_system(NOTARY, FaultKind::Down).with_id("shared-outage"))
        .await
        .expect("fault set");
    wait_until(|| second.gateway().faults().get("shared-outage").is_some()).await;

    second
        .gateway()
        .faults()
        .remove("shared-outage")
        .await
        .expect("fault cleared");
    wait_until(|| first.gateway().faults().list().is_empty()).await;

    // A limit counts messages on every replica: the one use is spent by the second.
    first
        .gateway()
        .faults()
        .add(
            Fault::on_system(NOTARY, FaultKind::Down)
                .with_id("one-shared-outage")
                .with_limit(1),
        )
        .await
        .expect("fault set");
    wait_until(|| second.gateway().faults().get("one-shared-outage").is_some()).await;
    let down = |kind: &FaultKind| *kind == FaultKind::Down;
    assert!(
        second
            .gateway()
            .faults()
            .take(NOTARY, ECHO, down)
            .await
            .is_some()
    );
    assert!(
        first
            .gateway()
            .faults()
            .take(NOTARY, ECHO, down)
            .await
            .is_none(),
        "spent on the other replica"
    );
    wait_until(|| first.gateway().faults().list().is_empty()).await;
}

async fn wait_until(done: impl Fn() -> bool) {
    poll::until("the condition", WAIT, async || {
        done().then_some(()).ok_or("not met")
    })
    .await
}

/// Echoes a `Status` message's text; counts its calls.
#[derive(Default)]
struct Echo {
    calls: AtomicUsize,
}

impl Handler for Echo {
    async fn handle(&self, request: Request) -> Result<Reply, SystemFault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let asked: Status = request.decode()?;
        Ok(Reply::message(&Status {
            code: StatusCode::Success.as_str().into(),
            message: format!("echo: {}", asked.message),
        }))
    }
}

/// A NATS server, a sandbox gateway running its async channel, the portal, and the notary
/// taking pushed messages on its inbox.
struct AsyncStack {
    sandbox: Sandbox,
    portal: GatewayCaller,
    notary: Arc<SystemIdentity>,
    echo: Arc<Echo>,
    // Last, so the gateway's connection sees it go only at the very end.
    nats: NatsServer,
}

/// Starts the stack; the notary takes pushes on its inbox when `push`, else it fetches.
async fn async_stack_delivering(push: bool) -> AsyncStack {
    let nats = NatsServer::start().expect("nats-server");
    let settings = AsyncSettings {
        max_deliveries: 100,
        // Room for a slow attempt on a loaded machine: a timed-out push would be offered again.
        push_timeout: Duration::from_secs(3),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        registry_poll: Duration::from_millis(50),
        ..AsyncSettings::default()
    };
    let sandbox = Sandbox::start_with_nats(&nats.url(), settings).await;
    let notary = sandbox.system(NOTARY, NOTARY_BIN);
    if push {
        sandbox.deliver_by_push(NOTARY);
    }
    let portal = sandbox.caller(PORTAL, PORTAL_BIN);
    sandbox.route(ECHO, NOTARY, UNUSED, &[PORTAL]);
    sandbox.route(&reply_service_id(PORTAL), PORTAL, UNUSED, &[NOTARY]);
    AsyncStack {
        sandbox,
        portal,
        notary,
        echo: Arc::new(Echo::default()),
        nats,
    }
}

async fn async_stack() -> AsyncStack {
    async_stack_delivering(true).await
}

impl AsyncStack {
    fn receiver(&self) -> Receiver<Echo, Arc<StaticRevocation>> {
        Receiver::new(
            self.notary.clone(),
            self.sandbox.verifier(),
            self.echo.clone(),
            self.sandbox.clock(),
        )
    }

    /// The notary's inbox as a pull-mode system has it: each `pull_once` fetches, handles
    /// and acknowledges.
    fn pulling_notary(&self) -> Inbox<Receiver<Echo, Arc<StaticRevocation>>> {
        let caller = GatewayCaller::new(
            self.notary.clone(),
            &self.sandbox.gateway_endpoint(),
            self.sandbox.clock(),
        )
        .expect("caller");
        Inbox::new(self.receiver(), caller)
    }

    /// Starts the notary's push inbox, as its service's `run` does.
    async fn start_notary(&self) -> RunningInbox {
        let settings =
            InboxSettings::new(&self.sandbox.gateway_endpoint(), &self.nats.url(), false);
        let running = Inbox::launch(
            self.receiver(),
            self.notary.clone(),
            self.sandbox.clock(),
            Some(&settings),
        )
        .await;
        assert!(running.is_pushing());
        running
    }

    async fn add(&self, fault: Fault) {
        self.sandbox
            .gateway()
            .faults()
            .add(fault)
            .await
            .expect("fault set");
    }

    /// The portal's signed async request to echo `text`; returns its message id.
    async fn send_echo(&self, text: &str) -> String {
        let header = self.portal.header::<Status>(ECHO, NOTARY);
        let envelope = self
            .portal
            .identity()
            .signer
            .seal_message(&header, &status(text))
            .expect("seal");
        self.portal.send_async(envelope).await.expect("stored")
    }

    /// Polls the portal's queue until an answer arrives, acknowledges and returns it.
    async fn fetch_answer(&self) -> Envelope {
        poll::one_answer(&self.portal, WAIT).await
    }

    async fn message_status(&self, message_id: &str) -> egov_proto::v1::GetMessageStatusResponse {
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

    /// Polls until the message reaches `wanted`; returns its delivery attempts.
    async fn wait_for_state(&self, message_id: &str, wanted: DeliveryState) -> u32 {
        let what = format!("message {message_id} to be {wanted:?}");
        poll::until(what, WAIT, async || {
            let status = self.message_status(message_id).await;
            if status.state() == wanted {
                Ok(status.attempts)
            } else {
                Err(status)
            }
        })
        .await
    }

    /// Polls until the gateway tried to deliver the message at least `attempts` times.
    async fn wait_for_attempts(&self, message_id: &str, attempts: u32) {
        let what = format!("message {message_id} to be offered {attempts} times");
        poll::until(what, WAIT, async || {
            let status = self.message_status(message_id).await;
            if status.attempts >= attempts {
                Ok(())
            } else {
                Err(status)
            }
        })
        .await
    }

    /// Returns the gateway's hops of one message.
    async fn hops(&self, message_id: &str) -> Vec<LogRecord> {
        let log = self.sandbox.gateway().log();
        log.flush().await.expect("log flushed");
        log.by_message_id(message_id).await.expect("log")
    }

    fn calls(&self) -> usize {
        self.echo.calls.load(Ordering::SeqCst)
    }
}

fn echoed(answer: &Envelope) -> String {
    egov_system::caller::decode_answer::<Status>(answer)
        .expect("echo answer")
        .message
}

#[tokio::test]
async fn an_async_receiver_down_gets_its_message_after_it_comes_back() {
    let stack = async_stack().await;
    let notary = stack.start_notary().await;
    stack
        .add(Fault::on_system(NOTARY, FaultKind::Down).with_id("notary-down"))
        .await;

    let request_id = stack.send_echo("sent while down").await;
    stack.wait_for_attempts(&request_id, 2).await;
    assert_eq!(
        stack.message_status(&request_id).await.state(),
        DeliveryState::OnDelivery
    );
    assert_eq!(stack.calls(), 0, "nothing reached the notary while down");

    stack
        .sandbox
        .gateway()
        .faults()
        .remove("notary-down")
        .await
        .expect("fault cleared");
    let answer = stack.fetch_answer().await;

    assert_eq!(echoed(&answer), "echo: sent while down");
    assert_eq!(header_of(&answer).in_reply_to, request_id);
    stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    assert_eq!(stack.calls(), 1);
    let hops = stack.hops(&request_id).await;
    assert!(
        hops.iter().any(|hop| hop.status_code == "ETRG002"
            && hop.status_message == "notary is down (injected fault notary-down)"),
        "{hops:?}"
    );
    notary.stop().await;
}

#[tokio::test]
async fn a_duplicated_delivery_is_handled_once() {
    let stack = async_stack().await;
    let notary = stack.start_notary().await;
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::DuplicateDeliveries)
                .with_id("twice")
                .with_limit(1),
        )
        .await;

    let request_id = stack.send_echo("once only").await;
    let answer = stack.fetch_answer().await;

    assert_eq!(echoed(&answer), "echo: once only");
    assert_eq!(
        stack
            .wait_for_state(&request_id, DeliveryState::Delivered)
            .await,
        1,
        "both copies went out in one delivery"
    );
    let hops = stack.hops(&request_id).await;
    assert!(
        hops.iter().any(|hop| hop.status_message
            == "delivery to notary duplicated (injected fault twice)"),
        "the second copy really went out: {hops:?}"
    );
    // The inbox recognised the second copy by its message id: one handling, one answer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stack.calls(), 1);
    assert!(
        stack.portal.fetch(0).await.expect("fetch").is_empty(),
        "no second answer"
    );
    notary.stop().await;
}

#[tokio::test]
async fn a_dropped_delivery_is_redelivered() {
    let stack = async_stack().await;
    let notary = stack.start_notary().await;
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::DropDeliveries)
                .with_id("lost-once")
                .with_limit(1),
        )
        .await;

    let request_id = stack.send_echo("lost on the way").await;
    let answer = stack.fetch_answer().await;

    assert_eq!(echoed(&answer), "echo: lost on the way");
    // At least the second attempt: on a loaded machine a slow attempt may be offered once more.
    let attempts = stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    assert!(
        attempts >= 2,
        "delivered on attempt {attempts}, not after the drop"
    );
    assert_eq!(stack.calls(), 1);
    let hops = stack.hops(&request_id).await;
    assert!(
        hops.iter().any(|hop| hop.status_code == "ETRG001"
            && hop.status_message == "delivery to notary dropped (injected fault lost-once)"),
        "{hops:?}"
    );
    notary.stop().await;
}

#[tokio::test]
async fn a_dropped_delivery_to_a_pull_system_is_fetched_again() {
    let stack = async_stack_delivering(false).await;
    let notary = stack.pulling_notary();
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::DropDeliveries)
                .with_id("lost-fetch")
                .with_limit(1),
        )
        .await;
    let request_id = stack.send_echo("fetched twice").await;

    assert_eq!(
        notary.pull_once().await.expect("fetch"),
        0,
        "the first fetch lost it"
    );
    let mut fetched = 0;
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        fetched = notary.pull_once().await.expect("fetch");
        if fetched > 0 {
            break;
        }
        tokio::time::sleep(STEP).await;
    }
    assert_eq!(fetched, 1, "offered again after the back-off");

    assert_eq!(echoed(&stack.fetch_answer().await), "echo: fetched twice");
    assert_eq!(
        stack
            .wait_for_state(&request_id, DeliveryState::Delivered)
            .await,
        2
    );
    assert_eq!(stack.calls(), 1);
    let hops = stack.hops(&request_id).await;
    assert!(
        hops.iter()
            .any(|hop| hop.status_message
                == "delivery to notary dropped (injected fault lost-fetch)"),
        "{hops:?}"
    );
}

#[tokio::test]
async fn a_duplicated_fetch_is_handled_once() {
    let stack = async_stack_delivering(false).await;
    let notary = stack.pulling_notary();
    stack
        .add(Fault::on_system(NOTARY, FaultKind::DuplicateDeliveries).with_id("fetched-twice"))
        .await;
    let request_id = stack.send_echo("one of two").await;

    assert_eq!(
        notary.pull_once().await.expect("fetch"),
        2,
        "the fetch handed over two copies"
    );

    assert_eq!(echoed(&stack.fetch_answer().await), "echo: one of two");
    stack
        .wait_for_state(&request_id, DeliveryState::Delivered)
        .await;
    assert_eq!(stack.calls(), 1, "the inbox handled one copy");
    assert!(
        stack.portal.fetch(0).await.expect("fetch").is_empty(),
        "no second answer"
    );
}

#[tokio::test]
async fn added_latency_delays_an_async_delivery() {
    let stack = async_stack().await;
    let notary = stack.start_notary().await;
    stack
        .add(
            Fault::on_system(NOTARY, FaultKind::Latency(Latency::Fixed { ms: 300 }))
                .with_id("slow-inbox"),
        )
        .await;

    let started = Instant::now();
    let request_id = stack.send_echo("in a while").await;
    assert_eq!(
        stack
            .wait_for_state(&request_id, DeliveryState::Delivered)
            .await,
        1,
        "delivered on its first attempt, only later"
    );

    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(echoed(&stack.fetch_answer().await), "echo: in a while");
    let hops = stack.hops(&request_id).await;
    assert!(
        hops.iter()
            .any(|hop| hop.status_message == "delivery delayed 300 ms (injected fault slow-inbox)"),
        "{hops:?}"
    );
    notary.stop().await;
}
