//! One clock for the whole stack: the clock authority, the certification centre, the gateway
//! and the back office, each started as its binary starts it but with `clock = "stack"`, on
//! one nats-server whose users and permissions are those `egov up` writes. An advance through
//! the authority's gRPC moves every one of them: the back office's step timers fire in order
//! at their due times, the gateway judges message times on the stack's time, and every
//! follower reports the time reached.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egov_backoffice::LIST_SERVICES_SERVICE_ID;
use egov_bus::clock::{ClockMode, ClockSource, ClockStore, service_clock};
use egov_bus::nats_accounts::{NatsUser, authorization_block, stack_users};
use egov_core::StatusCode;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_core::pki::Role;
use egov_core::{providers, systems};
use egov_pki::enrolment::{
    DEFAULT_TOKEN_LIFETIME, HEAD_TOKEN_ENV, IssuedToken, grants_text, head_token_env, token_env,
};
use egov_proto::v1::back_office_client::BackOfficeClient;
use egov_proto::v1::stack_clock_client::StackClockClient;
use egov_proto::v1::{
    AdvanceRequest, AttachedDocument, Case, Channel, ClockState, GetCaseRequest, GetTimeRequest,
    ListServicesRequest, ListServicesResponse, OpenCaseRequest, ServiceApplication, SetTimeRequest,
};
use egov_system::{CallError, Enrolment, GatewayCaller, SystemIdentity};
use egov_testkit::NatsServer;
use egov_testkit::service::{as_operator, next_monday_morning, write_operators_file};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Channel as GrpcChannel;

/// The clock authority's operator token in this test.
const CLOCK_TOKEN: &str = "operator-token-of-the-stack-clock-test";

/// The IIN of the recipient of the case the back office works on.
const RECIPIENT_IIN: &str = "850102300131";

/// How long the services get to enrol and start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The processes of the stack, running in this test, and how to reach them.
struct Stack {
    /// Where the stack keeps its state.
    dir: tempfile::TempDir,
    /// The nats-server every service signs in to as its own user.
    nats: NatsServer,
    /// Every NATS user of the stack, with its password.
    users: Vec<NatsUser>,
    /// The clock authority's gRPC.
    clock: StackClockClient<GrpcChannel>,
    /// The certification centre's gRPC endpoint.
    pki_endpoint: String,
    /// The gateway's gRPC endpoint.
    gateway_endpoint: String,
    /// The back office's gRPC address (its direct contract).
    backoffice: SocketAddr,
    /// Labour Market's one-time enrolment token, granted when the centre started.
    labor_token: IssuedToken,
    /// Says stop to every service.
    stop: watch::Sender<bool>,
    /// The services' tasks, by name.
    tasks: Vec<(&'static str, tokio::task::JoinHandle<Result<(), String>>)>,
}

/// Returns a future that resolves when `stop` says stop.
fn stopped(stop: &watch::Sender<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.subscribe();
    async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }
}

async fn listeners() -> (TcpListener, TcpListener) {
    egov_testkit::service::loopback_listeners().await
}

/// A one-time enrolment token for `system`'s seal, issued at the stack's time `start`: the
/// centre judges its expiry on the stack clock, which may run days ahead of the wall clock.
fn seal_token(system: &systems::SystemInfo, start: OffsetDateTime) -> IssuedToken {
    token_at(&token_env(system), Role::LegalEntity, system.bin, start)
}

/// A one-time enrolment token issued at the stack's time `start`, for the default lifetime.
fn token_at(env: &str, role: Role, subject: &str, start: OffsetDateTime) -> IssuedToken {
    IssuedToken::issued_at(env, role, subject, start, DEFAULT_TOKEN_LIFETIME).expect("token")
}

/// The gateway's registry: the back office's catalogue, which Labour Market may read.
fn write_registry(dir: &Path, backoffice: SocketAddr) -> PathBuf {
    let system = |system: &systems::SystemInfo| {
        format!(
            "[systems.{}]\nname = \"{}\"\nbin = \"{}\"\n\n",
            system.id, system.id, system.bin
        )
    };
    let text = format!(
        "{}{}{}[services.\"{LIST_SERVICES_SERVICE_ID}\"]\ntarget = \"backoffice\"\n\
         grpc = \"http://{backoffice}\"\ntimeout_ms = 5000\nallowed_senders = [\"labor\"]\n",
        system(&systems::GATEWAY),
        system(&systems::LABOR),
        system(&systems::BACKOFFICE),
    );
    let path = dir.join("registry.toml");
    std::fs::write(&path, text).expect("registry");
    path
}

impl Stack {
    /// Starts nats-server with the stack's users, sets the stack's time to `start`, then the
    /// authority, the certification centre, the back office and the gateway, the last three
    /// with `clock = "stack"`; returns once each follows the stack clock and serves.
    async fn start(start: OffsetDateTime) -> Stack {
        egov_testkit::service::quiet_logs("egov-stack-clock-tests", "error");
        let dir = tempfile::tempdir().expect("temp dir");
        let users = stack_users(&[
            egov_pki::config::SERVICE,
            systems::BACKOFFICE.id,
            systems::LABOR.id,
        ]);
        let nats = NatsServer::start_with_config(&authorization_block(&users)).expect("nats");
        let url_of = |name: &str| {
            users
                .iter()
                .find(|user| user.name == name)
                .expect("a NATS user of the stack")
                .url(&nats.url())
        };
        // The stack's time, as an operator would have set it before.
        ClockStore::connect(&url_of(egov_bus::nats_accounts::CLOCK_USER))
            .await
            .expect("clock store")
            .init_now(start)
            .await
            .expect("the stack's first time");
        let (stop, _) = watch::channel(false);

        let (grpc, http) = listeners().await;
        let authority = grpc.local_addr().expect("addr");
        let config = egov_clock::Config {
            nats_url: url_of(egov_bus::nats_accounts::CLOCK_USER),
            operator_token: Some(CLOCK_TOKEN.to_owned()),
            ..egov_clock::Config::default()
        };
        let clock_task = tokio::spawn(egov_clock::run(config, grpc, http, stopped(&stop)));
        let clock = StackClockClient::connect(format!("http://{authority}"))
            .await
            .expect("the authority's gRPC");

        let (pki_grpc, pki_http) = listeners().await;
        // Bound first: the back office calls through the gateway, whose registry routes to it.
        let (gateway_grpc, gateway_http) = listeners().await;
        let (backoffice_grpc, backoffice_http) = listeners().await;
        let mut stack = Stack {
            pki_endpoint: format!("http://{}", pki_grpc.local_addr().expect("addr")),
            gateway_endpoint: format!("http://{}", gateway_grpc.local_addr().expect("addr")),
            backoffice: backoffice_grpc.local_addr().expect("addr"),
            dir,
            nats,
            users,
            clock,
            labor_token: seal_token(&systems::LABOR, start),
            stop,
            tasks: vec![(
                "clock",
                tokio::spawn(async move {
                    clock_task
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| e.to_string())
                }),
            )],
        };
        let mut tokens = vec![
            seal_token(&systems::GATEWAY, start),
            seal_token(&systems::BACKOFFICE, start),
            token_at(HEAD_TOKEN_ENV, Role::Head, systems::BACKOFFICE.bin, start),
            stack.labor_token.clone(),
        ];
        // Each provider organisation's head, under its own BIN.
        let heads: Vec<IssuedToken> = providers::SIGNING
            .iter()
            .map(|organisation| {
                token_at(
                    &head_token_env(organisation),
                    Role::Head,
                    organisation.bin,
                    start,
                )
            })
            .collect();
        tokens.extend(heads.iter().cloned());
        stack.start_pki(&tokens, pki_grpc, pki_http);
        stack.start_backoffice(
            &tokens[1],
            &tokens[2],
            &heads,
            backoffice_grpc,
            backoffice_http,
        );
        stack.start_gateway(&tokens[0], gateway_grpc, gateway_http);
        stack.wait_until_serving().await;
        stack
    }

    /// Returns the NATS URL of user `name`, password included.
    fn nats_url(&self, name: &str) -> String {
        self.users
            .iter()
            .find(|user| user.name == name)
            .expect("a NATS user of the stack")
            .url(&self.nats.url())
    }

    fn start_pki(&mut self, tokens: &[IssuedToken], grpc: TcpListener, http: TcpListener) {
        let config = egov_pki::Config {
            enrolment_grants: grants_text(tokens),
            nats_url: self.nats_url(egov_pki::config::SERVICE),
            clock: ClockSource::Stack,
            ..egov_pki::Config::with_data_dir(self.dir.path().join("pki"))
        };
        let stop = stopped(&self.stop);
        self.tasks.push((
            "pki",
            tokio::spawn(async move {
                egov_pki::run(config, grpc, http, stop)
                    .await
                    .map_err(|e| e.to_string())
            }),
        ));
    }

    fn start_backoffice(
        &mut self,
        seal: &IssuedToken,
        head: &IssuedToken,
        heads: &[IssuedToken],
        grpc: TcpListener,
        http: TcpListener,
    ) {
        let data_dir = self.dir.path().join("backoffice");
        std::fs::create_dir_all(&data_dir).expect("back office dir");
        write_operators_file(&data_dir);
        let config = egov_backoffice::Config {
            pki_endpoint: self.pki_endpoint.clone(),
            gateway_endpoint: self.gateway_endpoint.clone(),
            nats_url: self.nats_url(systems::BACKOFFICE.id),
            clock: ClockSource::Stack,
            enrolment_token: Some(seal.token.clone()),
            head_enrolment_token: Some(head.token.clone()),
            head_enrolment_tokens: providers::SIGNING
                .iter()
                .zip(heads)
                .map(|(organisation, token)| (organisation.key.to_owned(), token.token.clone()))
                .collect(),
            ..egov_backoffice::Config::with_data_dir(&data_dir)
        };
        let stop = stopped(&self.stop);
        self.tasks.push((
            "backoffice",
            tokio::spawn(async move {
                egov_backoffice::run(config, grpc, http, stop)
                    .await
                    .map_err(|e| e.to_string())
            }),
        ));
    }

    fn start_gateway(&mut self, seal: &IssuedToken, grpc: TcpListener, http: TcpListener) {
        let data_dir = self.dir.path().join("gateway");
        std::fs::create_dir_all(&data_dir).expect("gateway dir");
        let config = egov_gateway::Config {
            registry: Some(write_registry(self.dir.path(), self.backoffice)),
            pki_endpoint: self.pki_endpoint.clone(),
            nats_url: self.nats_url(egov_bus::nats_accounts::GATEWAY_USER),
            clock: ClockSource::Stack,
            enrolment_token: Some(seal.token.clone()),
            data_dir,
            ..egov_gateway::Config::default()
        };
        let stop = stopped(&self.stop);
        self.tasks.push((
            "gateway",
            tokio::spawn(async move {
                egov_gateway::run(config, egov_gateway::Listeners { grpc, http }, stop)
                    .await
                    .map_err(|e| e.to_string())
            }),
        ));
    }

    /// Waits until the back office answers and the centre, the gateway and the back office
    /// follow the stack clock; a service that ended meanwhile fails the test with its error.
    async fn wait_until_serving(&mut self) {
        let began = Instant::now();
        loop {
            for (name, task) in &mut self.tasks {
                if task.is_finished() {
                    let outcome = task.await.expect("joined");
                    panic!("{name} ended while starting: {outcome:?}");
                }
            }
            let followers = self.state().await.followers;
            let follows = |service: &str| {
                followers
                    .iter()
                    .any(|follower| follower.key.starts_with(&format!("{service}.")))
            };
            let serving = self.backoffice_client().await.is_some();
            if serving && follows("pki") && follows("shep") && follows("backoffice") {
                return;
            }
            assert!(
                began.elapsed() < START_TIMEOUT,
                "the stack did not start: followers {followers:?}, back office serving: {serving}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Returns the back office's direct client, once it answers.
    async fn backoffice_client(&self) -> Option<BackOfficeClient<GrpcChannel>> {
        let mut client = BackOfficeClient::connect(format!("http://{}", self.backoffice))
            .await
            .ok()?;
        client
            .list_services(as_operator(ListServicesRequest::default()))
            .await
            .ok()?;
        Some(client)
    }

    /// Returns the stack's time and its followers, as the authority knows them.
    async fn state(&mut self) -> ClockState {
        self.clock
            .get_time(GetTimeRequest {})
            .await
            .expect("the stack's time")
            .into_inner()
    }

    /// Waits until `service` has told the authority that its next deadline is `due`.
    async fn wait_for_next_deadline(&mut self, service: &str, due: OffsetDateTime) {
        for _ in 0..500 {
            let state = self.state().await;
            if state.followers.iter().any(|follower| {
                follower.key.starts_with(&format!("{service}."))
                    && at(follower.next_deadline.as_ref()) == Some(due)
            }) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "{service} did not report its next deadline {due}: {:?}",
            self.state().await
        );
    }

    /// Advances the stack's time by `step` as the operator does.
    async fn advance(&mut self, step: &str) -> ClockState {
        let mut request = tonic::Request::new(AdvanceRequest { step: step.into() });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {CLOCK_TOKEN}").parse().expect("ASCII"),
        );
        self.clock
            .advance(request)
            .await
            .expect("advanced")
            .into_inner()
    }

    /// Sets the stack's time to `to` as the operator does.
    async fn set(&mut self, to: OffsetDateTime) -> ClockState {
        let mut request = tonic::Request::new(SetTimeRequest {
            to: Some(to_timestamp(to)),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {CLOCK_TOKEN}").parse().expect("ASCII"),
        );
        self.clock
            .set_time(request)
            .await
            .expect("set")
            .into_inner()
    }

    /// Returns a case through the back office's direct contract.
    async fn case(&self, id: &str) -> Case {
        self.backoffice_client()
            .await
            .expect("the back office answers")
            .get_case(as_operator(GetCaseRequest { id: id.into() }))
            .await
            .expect("the case")
            .into_inner()
    }

    /// Polls a case until `done` holds: its steps are written by the back office's timer tasks.
    async fn wait_for_case(&self, id: &str, done: impl Fn(&Case) -> bool) -> Case {
        for _ in 0..500 {
            let case = self.case(id).await;
            if done(&case) {
                return case;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "case {id} did not reach the state: {:?}",
            self.case(id).await
        );
    }

    /// Enrols Labour Market's seal and returns its caller through the gateway on `clock`.
    async fn labor(&self, token: IssuedToken, clock: std::sync::Arc<dyn Clock>) -> GatewayCaller {
        let enrolment = Enrolment::of(&systems::LABOR, "751204400013")
            .expect("enrolment")
            .with_token(Some(token.token))
            .keep_key_in(self.dir.path().join("labor"));
        let identity = SystemIdentity::enroll(&self.pki_endpoint, &enrolment)
            .await
            .expect("Labour Market enrolled");
        GatewayCaller::new(identity.into(), &self.gateway_endpoint, clock).expect("caller")
    }

    /// Stops every service and waits for each.
    async fn stop(self) {
        self.stop.send_replace(true);
        for (name, task) in self.tasks {
            match tokio::time::timeout(Duration::from_secs(20), task).await {
                Ok(Ok(Ok(()))) => {}
                other => panic!("{name} did not stop cleanly: {other:?}"),
            }
        }
    }
}

/// Returns a step's time field.
fn at(timestamp: Option<&prost_types::Timestamp>) -> Option<OffsetDateTime> {
    timestamp.and_then(from_timestamp)
}

/// An application for guardianship (service F) at the provider's desk, every document given.
fn guardianship() -> ServiceApplication {
    let document = |kind: &str| AttachedDocument {
        kind: kind.into(),
        file_name: format!("{kind}.pdf"),
        content_type: "application/pdf".into(),
        ..AttachedDocument::default()
    };
    ServiceApplication {
        service_code: "F".into(),
        channel: Channel::Provider as i32,
        recipient_iin: RECIPIENT_IIN.into(),
        documents: [
            "application",
            "child_birth_certificate",
            "parental_care_loss_document",
            "health_certificate",
        ]
        .iter()
        .map(|kind| document(kind))
        .collect(),
        ..ServiceApplication::default()
    }
}

fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_stack_clock_28_days_moves_every_service_and_fires_due_steps_in_order() {
    let start = next_monday_morning();
    let mut stack = Stack::start(start).await;
    // Labour Market, as the test drives it: its own follower of the stack clock.
    let labor_clock = service_clock(ClockMode::Stack, &stack.nats_url("labor"), "labor")
        .await
        .expect("Labour Market follows the stack clock");
    let labor = stack
        .labor(stack.labor_token.clone(), labor_clock.shared())
        .await;
    assert_eq!(labor_clock.now(), start);

    // Guardianship at the provider's desk: clerk 30 min, head 20 min, executor 28 calendar
    // days, head 1 calendar day, clerk 30 min, each ended by the automatic policy when due.
    let opened = stack
        .backoffice_client()
        .await
        .expect("the back office answers")
        .open_case(as_operator(OpenCaseRequest {
            application: Some(guardianship()),
            ..OpenCaseRequest::default()
        }))
        .await
        .expect("opened at the desk")
        .into_inner();
    assert_eq!(
        at(opened.steps[0].started_at.as_ref()),
        Some(start),
        "opened at the stack's time"
    );

    // The clerk's step is the stack's next deadline: the authority stops there first.
    stack
        .wait_for_next_deadline("backoffice", start + minutes(30))
        .await;

    let wall = Instant::now();
    let moved = stack.advance("28d").await;
    let took = wall.elapsed();
    let now = start + days(28);
    assert_eq!(at(moved.now.as_ref()), Some(now));
    assert!(
        moved.stops >= 2,
        "stopped at the clerk's due time, then 28 days: {moved:?}"
    );
    println!(
        "28-day advance across {} followers: {} stops in {took:?}",
        moved.followers.len(),
        moved.stops
    );

    // Every process reports the stack's time: the centre, the gateway, the back office, Labour Market.
    let state = stack.state().await;
    for service in ["pki", "shep", "backoffice", "labor"] {
        let follower = state
            .followers
            .iter()
            .find(|follower| follower.key.starts_with(&format!("{service}.")))
            .unwrap_or_else(|| panic!("{service} follows the stack clock: {state:?}"));
        assert_eq!(at(follower.seen.as_ref()), Some(now), "{service}");
    }
    assert_eq!(labor_clock.now(), now);

    // The back office's timers fired in order: clerk, then head; the examination waits.
    let case = stack
        .wait_for_case(&opened.id, |case| {
            case.steps.len() >= 3 && case.steps[1].ended_at.is_some()
        })
        .await;
    let ended: Vec<_> = case.steps.iter().map(|s| at(s.ended_at.as_ref())).collect();
    assert_eq!(
        ended,
        [Some(start + minutes(30)), Some(start + minutes(50)), None],
        "{case:?}"
    );
    let examination_due = start + minutes(50) + days(28);
    assert_eq!(at(case.steps[2].due_at.as_ref()), Some(examination_due));
    // The examination's timer is now the back office's next deadline, known stack-wide.
    stack
        .wait_for_next_deadline("backoffice", examination_due)
        .await;

    // The gateway judges message times on the stack's time: Labour Market on the stack clock
    // is heard; the same seal on the wall clock, four weeks behind, is refused.
    let catalogue: ListServicesResponse = labor
        .call(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            &ListServicesRequest::default(),
        )
        .await
        .expect("a message stamped with the stack's time crosses the gateway");
    assert!(catalogue.services.iter().any(|service| service.code == "F"));
    let on_wall_clock = GatewayCaller::new(
        labor.identity().clone(),
        &stack.gateway_endpoint,
        SystemClock::shared(),
    )
    .expect("caller");
    match on_wall_clock
        .call::<_, ListServicesResponse>(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            &ListServicesRequest::default(),
        )
        .await
    {
        Err(CallError::Refused { code, .. }) => {
            assert_eq!(code, StatusCode::MessageTimeOutOfWindow)
        }
        other => panic!("a message on the wall clock should be refused, got {other:?}"),
    }

    // On to the last step's due time: every step ends at its due time, in order.
    let last = start + minutes(50) + days(29) + minutes(30);
    let moved = stack.set(last).await;
    assert_eq!(at(moved.now.as_ref()), Some(last));
    let case = stack.wait_for_case(&opened.id, |case| case.closed).await;
    let ended: Vec<_> = case.steps.iter().map(|s| at(s.ended_at.as_ref())).collect();
    assert_eq!(
        ended,
        [
            Some(start + minutes(30)),
            Some(start + minutes(50)),
            Some(start + minutes(50) + days(28)),
            Some(start + minutes(50) + days(29)),
            Some(last),
        ]
    );
    for pair in case.steps.windows(2) {
        assert_eq!(
            pair[1].started_at, pair[0].ended_at,
            "each step starts as the last ends"
        );
    }
    assert!(case.steps.iter().all(|step| !step.late), "{case:?}");

    drop(labor_clock);
    stack.stop().await;
}
