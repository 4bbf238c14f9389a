//! A back office behind a sandbox gateway on a virtual clock, the requesters that open cases
//! through the gateway (labor, esobes, queue, rshep), and their `<system>.application.decided`
//! endpoints: small real `MessageReceiver`s that record what the gateway brings them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_backoffice::policy::Policy;
use egov_backoffice::{
    BackOfficeError, CABINET_NOTIFY_SERVICE_ID, Config, GET_CASE_SERVICE_ID, Heads,
    LIST_SERVICES_SERVICE_ID, Listeners, OPEN_CASE_SERVICE_ID, Parts, Store, decided_service_id,
};
use egov_core::calendar::WorkingCalendar;
use egov_core::clock::{Clock, VirtualClock};
use egov_core::envelope::{StaticRevocation, from_timestamp};
use egov_core::pki::Role;
use egov_core::providers;
use egov_core::systems::{self, SystemInfo};
use egov_proto::v1::back_office_client::BackOfficeClient;
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{
    AttachedDocument, BackOfficeRole, Case, CaseStep, Channel, Envelope, GetCaseRequest,
    OpenCaseRequest, ServiceApplication, ServiceResult, TakeActionRequest,
};
use egov_system::{CallError, Fault, GatewayCaller, Handler, Receiver, Reply, Request};
use egov_testkit::Sandbox;
use egov_testkit::service::as_operator;
pub use egov_testkit::service::{document, next_monday_morning};
use prost::Message;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel as GrpcChannel;

/// IIN of the back office's own head, whose HEAD certificate signs the results of D.
pub const HEAD_IIN: &str = "680920400216";
/// IIN of the service recipient.
pub const RECIPIENT_IIN: &str = "850102300131";
/// IIN of a child the services concern.
pub const CHILD_IIN: &str = "190305600014";

/// The systems that open cases through the gateway, as the stack's registry should admit them.
pub const REQUESTERS: [SystemInfo; 4] = [
    systems::LABOR,
    systems::ESOBES,
    systems::QUEUE,
    systems::REGIONAL_GATEWAY,
];

/// How far polls wait for an asynchronous hop (a timer task, a gateway delivery).
const POLL_ROUNDS: u32 = 500;
const POLL_EVERY: Duration = Duration::from_millis(10);

/// What a test's stack starts with.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Services done by people.
    pub manual: Vec<&'static str>,
    /// Requesters whose `<system>.application.decided` gets no route at first.
    pub unrouted: Vec<&'static str>,
    /// Whether the citizen's cabinet (`portal.cabinet.notify`) is routed to a recorder.
    pub cabinet: bool,
}

/// The envelopes a recorder received, in order.
type Received = Arc<Mutex<Vec<Envelope>>>;

/// Answers every delivered message with a success status, as a requester acknowledges.
struct Ack;

impl Handler for Ack {
    async fn handle(&self, _request: Request) -> Result<Reply, Fault> {
        Ok(Reply::message(&egov_proto::v1::Status {
            code: "SCSS001".into(),
            message: "received".into(),
        }))
    }
}

/// A system's `MessageReceiver` that verifies like any system and records every envelope.
#[derive(Clone)]
struct Recorder {
    inner: Receiver<Ack, Arc<StaticRevocation>>,
    received: Received,
}

#[tonic::async_trait]
impl MessageReceiver for Recorder {
    async fn receive(
        &self,
        request: tonic::Request<Envelope>,
    ) -> Result<tonic::Response<Envelope>, tonic::Status> {
        let envelope = request.into_inner();
        let answer = self
            .inner
            .handle_envelope(envelope.clone())
            .await
            .map_err(|fault| fault.code.to_grpc(&fault.message))?;
        self.received.lock().unwrap().push(envelope);
        Ok(tonic::Response::new(answer))
    }
}

/// The password of every worklist account the stack bootstraps.
pub const WORKLIST_PASSWORD: &str = "worklist password";

/// The worklist's clerk: login and name.
pub const CLERK: (&str, &str) = ("aigul", "Айгүл Серікова");

/// The worklist's head: login and name.
pub const HEAD: (&str, &str) = ("bota", "Бота Басшы");

/// The worklist's executor: login and name.
pub const EXECUTOR: (&str, &str) = ("dauren", "Дәурен Омаров");

/// Writes the worklist's bootstrap file, one person per role, and returns its path.
fn worklist_accounts(dir: &std::path::Path) -> PathBuf {
    let file = dir.join("worklist-accounts.toml");
    let accounts: String = [(CLERK, "clerk"), (HEAD, "head"), (EXECUTOR, "executor")]
        .iter()
        .map(|((login, name), role)| {
            format!(
                "[[account]]\nlogin = \"{login}\"\nname = \"{name}\"\nroles = [\"{role}\"]\npassword = \"{WORKLIST_PASSWORD}\"\n\n"
            )
        })
        .collect();
    std::fs::write(&file, accounts).expect("write the worklist accounts");
    file
}

/// A running back office.
struct Running {
    grpc: SocketAddr,
    http: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), BackOfficeError>>,
}

/// The back office behind a sandbox gateway, on a virtual clock, with its requesters.
pub struct Stack {
    /// The stack's clock.
    pub clock: VirtualClock,
    /// The in-process certification centre and gateway.
    pub sandbox: Sandbox,
    /// The back office's data dir (survives a restart).
    pub data_dir: PathBuf,
    config: Config,
    running: Option<Running>,
    callers: HashMap<&'static str, GatewayCaller>,
    receivers: HashMap<&'static str, (SocketAddr, Received)>,
}

impl Stack {
    /// Starts everything at `start` on the virtual clock.
    pub async fn start(start: OffsetDateTime, options: Options) -> Stack {
        egov_testkit::service::quiet_logs("egov-backoffice-tests", "error");
        let clock = VirtualClock::new(start);
        let sandbox = Sandbox::start_with_clock(clock.shared()).await;
        let data_dir = sandbox.dir().join("backoffice");
        let mut config = Config::with_data_dir(&data_dir);
        config.gateway_endpoint = sandbox.gateway_endpoint();
        config.signin_bootstrap = Some(worklist_accounts(sandbox.dir()));
        for code in &options.manual {
            config.policies.insert((*code).to_owned(), Policy::Manual);
        }
        let mut stack = Stack {
            clock,
            sandbox,
            data_dir,
            config,
            running: None,
            callers: HashMap::new(),
            receivers: HashMap::new(),
        };
        // Registered first: the routes below name it as their sender.
        stack
            .sandbox
            .system(systems::BACKOFFICE.id, systems::BACKOFFICE.bin);
        for system in REQUESTERS {
            stack.recorder(system).await;
            if !options.unrouted.contains(&system.id) {
                stack.route_decided(system.id);
            }
            let caller = stack.sandbox.caller(system.id, system.bin);
            stack.callers.insert(system.id, caller);
        }
        // The front doors, which read the catalogue.
        for system in [systems::PORTAL, systems::STATE_CORPORATION] {
            let caller = stack.sandbox.caller(system.id, system.bin);
            stack.callers.insert(system.id, caller);
        }
        if options.cabinet {
            let addr = stack.recorder(systems::PORTAL).await;
            stack.sandbox.route(
                CABINET_NOTIFY_SERVICE_ID,
                systems::PORTAL.id,
                addr,
                &[systems::BACKOFFICE.id],
            );
        }
        stack.start_back_office().await;
        stack
    }

    /// Starts a recording receiver for a system and returns its address.
    async fn recorder(&mut self, system: SystemInfo) -> SocketAddr {
        let identity = self.sandbox.system(system.id, system.bin);
        let received = Arc::new(Mutex::new(Vec::new()));
        let recorder = Recorder {
            inner: Receiver::new(
                identity,
                self.sandbox.verifier(),
                Arc::new(Ack),
                self.clock.shared(),
            ),
            received: received.clone(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let routes =
            egov_bus::grpc::GrpcRoutes::new().add_service(MessageReceiverServer::new(recorder));
        tokio::spawn(egov_bus::grpc::serve(
            listener,
            routes,
            std::future::pending(),
        ));
        self.receivers.insert(system.id, (addr, received));
        addr
    }

    /// Routes `<system>.application.decided` to the system's recorder, from the back office.
    pub fn route_decided(&self, system: &str) {
        let (addr, _) = self.receivers[system];
        self.sandbox.route(
            &decided_service_id(system),
            system,
            addr,
            &[systems::BACKOFFICE.id],
        );
    }

    /// Returns the heads the back office signs with: its own (for D) and each signing
    /// organisation's under its organisation's BIN, but for `wrong`: (organisation key, BIN)
    /// gives that organisation's head another BIN.
    pub fn heads(&self, wrong: Option<(&str, &str)>) -> Heads {
        let own = self
            .sandbox
            .person(HEAD_IIN, Role::Head, Some(systems::BACKOFFICE.bin));
        let heads = providers::SIGNING.map(|organisation| {
            let bin = match wrong {
                Some((key, bin)) if key == organisation.key => bin,
                _ => organisation.bin,
            };
            let head = self
                .sandbox
                .person(organisation.head.iin, Role::Head, Some(bin));
            (organisation, head)
        });
        Heads::new(own, heads)
    }

    /// Starts the back office with `heads` after a stop, expecting it to refuse to serve;
    /// returns why.
    pub async fn start_refused(&mut self, heads: Heads) -> BackOfficeError {
        self.start_back_office_with(heads).await;
        let running = self.running.take().expect("running");
        tokio::time::timeout(Duration::from_secs(20), running.task)
            .await
            .expect("the back office ends instead of serving")
            .expect("join")
            .expect_err("the back office refuses to start")
    }

    /// Starts the back office on the data dir and routes its service ids to it.
    pub async fn start_back_office(&mut self) {
        self.start_back_office_with(self.heads(None)).await;
    }

    /// Starts the back office with `heads` and routes its service ids to it.
    async fn start_back_office_with(&mut self, heads: Heads) {
        let identity = self
            .sandbox
            .system(systems::BACKOFFICE.id, systems::BACKOFFICE.bin);
        std::fs::create_dir_all(&self.data_dir).expect("data dir");
        egov_testkit::service::write_operators_file(&self.data_dir);
        let store = Store::open(&self.config.database_url())
            .await
            .expect("open store");
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let grpc_addr = grpc.local_addr().expect("addr");
        let http_addr = http.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(egov_backoffice::serve(
            self.config.clone(),
            Parts {
                identity,
                heads,
                verifier: self.sandbox.verifier(),
                store,
                clock: self.clock.shared(),
            },
            Listeners { grpc, http },
            async {
                let _ = stopped.await;
            },
        ));
        let senders: Vec<&str> = REQUESTERS.iter().map(|system| system.id).collect();
        for service in [OPEN_CASE_SERVICE_ID, GET_CASE_SERVICE_ID] {
            self.sandbox
                .route(service, systems::BACKOFFICE.id, grpc_addr, &senders);
        }
        self.sandbox.route(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            grpc_addr,
            &[systems::PORTAL.id, systems::STATE_CORPORATION.id],
        );
        self.running = Some(Running {
            grpc: grpc_addr,
            http: http_addr,
            stop,
            task,
        });
    }

    /// Stops the back office and waits for it, expecting a clean stop.
    pub async fn stop_back_office(&mut self) {
        let running = self.running.take().expect("running");
        let _ = running.stop.send(());
        running
            .task
            .await
            .expect("join")
            .expect("back office stops cleanly");
    }

    /// Returns a client of the direct `BackOffice` contract (the provider's worklist).
    pub async fn client(&self) -> BackOfficeClient<GrpcChannel> {
        let addr = self.running.as_ref().expect("running").grpc;
        for _ in 0..POLL_ROUNDS {
            if let Ok(client) = BackOfficeClient::connect(format!("http://{addr}")).await {
                return client;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!("the back office does not answer on {addr}");
    }

    /// Returns the address of the back office's gRPC server (its `MessageReceiver`).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.running.as_ref().expect("running").grpc
    }

    /// Returns the address of the back office's HTTP server (the worklist, `/health`).
    pub fn http_addr(&self) -> SocketAddr {
        self.running.as_ref().expect("running").http
    }

    /// Returns the caller of a requester system.
    pub fn caller(&self, system: &str) -> &GatewayCaller {
        &self.callers[system]
    }

    /// Opens a case through the gateway as `system`.
    pub async fn open(
        &self,
        system: &str,
        application: ServiceApplication,
        registration_number: &str,
    ) -> Result<Case, CallError> {
        let request = OpenCaseRequest {
            application: Some(application),
            registration_number: registration_number.into(),
            reply_to_system_id: String::new(),
        };
        self.caller(system)
            .call(OPEN_CASE_SERVICE_ID, systems::BACKOFFICE.id, &request)
            .await
    }

    /// Opens a case at the provider's desk, through the direct contract.
    pub async fn open_at_desk(&self, application: ServiceApplication) -> Case {
        self.client()
            .await
            .open_case(as_operator(OpenCaseRequest {
                application: Some(application),
                ..OpenCaseRequest::default()
            }))
            .await
            .expect("opened at the desk")
            .into_inner()
    }

    /// Returns a case through the direct contract.
    pub async fn case(&self, id: &str) -> Case {
        self.client()
            .await
            .get_case(as_operator(GetCaseRequest { id: id.into() }))
            .await
            .expect("case")
            .into_inner()
    }

    /// Takes a step's action as a person through the direct contract.
    pub async fn act(
        &self,
        id: &str,
        role: BackOfficeRole,
        action: &str,
        refusal_ground: &str,
    ) -> Result<Case, tonic::Status> {
        self.client()
            .await
            .take_action(as_operator(TakeActionRequest {
                case_id: id.into(),
                role: role as i32,
                action: action.into(),
                refusal_ground: refusal_ground.into(),
                comment: String::new(),
            }))
            .await
            .map(tonic::Response::into_inner)
    }

    /// Polls the case until `done` holds; the timer tasks and the store are asynchronous.
    pub async fn wait_until(&self, id: &str, done: impl Fn(&Case) -> bool) -> Case {
        for _ in 0..POLL_ROUNDS {
            let case = self.case(id).await;
            if done(&case) {
                return case;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!(
            "case {id} did not reach the expected state: {:?}",
            self.case(id).await
        );
    }

    /// Waits until step `index` of a case has started.
    pub async fn wait_for_step(&self, id: &str, index: usize) -> Case {
        self.wait_until(id, |case| case.steps.len() > index).await
    }

    /// Advances the clock to each open step's due time until the case closes.
    pub async fn run_to_close(&self, id: &str) -> Case {
        for _ in 0..32 {
            let case = self.case(id).await;
            if case.closed {
                return case;
            }
            let open = case.steps.len();
            let due = case
                .steps
                .last()
                .and_then(|step| step.due_at.as_ref())
                .and_then(from_timestamp)
                .expect("an open step with a due time");
            self.clock.advance_to(due).await;
            self.wait_until(id, |case| case.closed || case.steps.len() > open)
                .await;
        }
        panic!("case {id} did not close");
    }

    /// Returns the envelopes a system received so far.
    pub fn received(&self, system: &str) -> Vec<Envelope> {
        self.receivers[system].1.lock().unwrap().clone()
    }

    /// Waits until a system received `n` envelopes (the delivery crosses the gateway).
    pub async fn wait_received(&self, system: &str, n: usize) -> Vec<Envelope> {
        for _ in 0..POLL_ROUNDS {
            let received = self.received(system);
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!(
            "{system} received {} envelopes, expected {n}",
            self.received(system).len()
        );
    }

    /// Opens the back office's database beside it, to read what the API does not show.
    pub async fn store(&self) -> Store {
        Store::open(&self.config.database_url())
            .await
            .expect("open the store")
    }
}

/// Decodes a delivered `ServiceResult`.
pub fn service_result(envelope: &Envelope) -> ServiceResult {
    ServiceResult::decode(&envelope.payload[..]).expect("a ServiceResult payload")
}

/// Returns an attached document valid until a date.
pub fn document_valid_until(kind: &str, until: time::Date) -> AttachedDocument {
    AttachedDocument {
        valid_until: Some(egov_proto::v1::Date {
            year: until.year(),
            month: i32::from(u8::from(until.month())),
            day: i32::from(until.day()),
        }),
        ..document(kind)
    }
}

/// Returns an application for a service with these documents.
pub fn application(code: &str, channel: Channel, documents: &[&str]) -> ServiceApplication {
    ServiceApplication {
        service_code: code.into(),
        channel: channel as i32,
        recipient_iin: RECIPIENT_IIN.into(),
        child_iin: CHILD_IIN.into(),
        documents: documents.iter().map(|kind| document(kind)).collect(),
        ..ServiceApplication::default()
    }
}

/// Returns a step's time field.
pub fn at(timestamp: Option<&prost_types::Timestamp>) -> OffsetDateTime {
    timestamp
        .and_then(from_timestamp)
        .expect("a representable time")
}

/// Walks a case under the automatic policy step by step, checking that each step records
/// the expected role and norm, starts when the previous one ended (the opening for the
/// first), is due by its norm on the clock, and ends at that due time; returns the closed case.
pub async fn walk(stack: &Stack, id: &str, expected: &[(BackOfficeRole, &str)]) -> Case {
    let calendar = WorkingCalendar::kazakhstan();
    let mut start = stack.clock.now();
    let mut dues = Vec::new();
    for (index, (role, norm)) in expected.iter().enumerate() {
        let case = stack.wait_for_step(id, index).await;
        let step: &CaseStep = &case.steps[index];
        assert_eq!(step.role(), *role, "role of step {index}");
        assert_eq!(step.norm, *norm, "norm of step {index}");
        assert_eq!(at(step.started_at.as_ref()), start, "start of step {index}");
        let due = norm
            .parse::<egov_backoffice::Norm>()
            .expect("norm")
            .due(start, calendar)
            .expect("due");
        assert_eq!(at(step.due_at.as_ref()), due, "due time of step {index}");
        assert!(step.ended_at.is_none(), "step {index} is open");
        stack.clock.advance_to(due).await;
        dues.push(due);
        start = due;
    }
    let case = stack.wait_until(id, |case| case.closed).await;
    assert_eq!(case.steps.len(), expected.len());
    for (index, step) in case.steps.iter().enumerate() {
        assert_eq!(
            at(step.ended_at.as_ref()),
            dues[index],
            "end of step {index}"
        );
        assert!(!step.late, "step {index} ended on its due time");
    }
    case
}

/// Heads under a CA of their own, for a workflow run without a sandbox: they sign the paper
/// results, which nothing here verifies.
pub fn standalone_heads() -> Heads {
    use egov_testkit::credentials::{holder, issue_valid, signer, test_ca};
    const SEED: &[u8] = b"backoffice-standalone-heads";
    let ca = test_ca(SEED);
    let head = |iin: &str, bin: &str, derivation: u8| {
        signer(&issue_valid(
            &ca,
            &holder(iin, Some(bin), Role::Head),
            SEED,
            &[derivation],
        ))
    };
    let mut derivation = 0u8;
    let heads = providers::SIGNING.map(|organisation| {
        derivation += 1;
        (
            organisation,
            head(organisation.head.iin, organisation.bin, derivation),
        )
    });
    Heads::new(head(HEAD_IIN, systems::BACKOFFICE.bin, 0), heads)
}
