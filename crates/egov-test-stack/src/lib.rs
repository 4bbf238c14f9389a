//! egov-test-stack: the stack a target system's end-to-end tests run (the Labour Market AIS,
//! E-sobes, the queue register): a sandbox certification centre and gateway on a virtual
//! clock, and the real citizens-DB, notary registry and back office started in-process on
//! port 0, routed to the system under test as the stack's registry routes them.
//!
//! A test's own `common.rs` starts [`Neighbours`], then the system under test beside them,
//! and routes the system's own service ids; the calls and checks here work for any of them.
//! [`fronts`] adds the real portal, the State Corporation's receiver of results and its desk on
//! the web, for tests that follow a request to its recipient.

pub mod fronts;

pub use fronts::{ServedDesk, StartedPortal};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use egov_backoffice::config::DEFAULT_HEAD_IIN as BACK_OFFICE_HEAD;
use egov_backoffice::{GET_CASE_SERVICE_ID, LIST_SERVICES_SERVICE_ID, OPEN_CASE_SERVICE_ID};
use egov_citizens::fixtures::STATE_CORPORATION_OPERATOR;
use egov_core::StatusCode;
use egov_core::clock::{Clock, VirtualClock};
use egov_core::envelope::{Signer, VerifyPolicy};
use egov_core::pki::CertificateInfo;
use egov_core::pki::Role;
use egov_core::providers;
use egov_core::systems::{self, SystemInfo};
use egov_proto::v1::{Envelope, GetApplicationResultRequest, ServiceResult};
use egov_system::caller::decode_answer;
use egov_system::intake::IntakeStore;
use egov_system::{CallError, GatewayCaller, SystemIdentity};
use egov_testkit::Sandbox;
pub use egov_testkit::service::{document, loopback_listeners, next_monday_morning};
use prost::Message as _;

/// How many rounds a poll for an asynchronous hop takes at most, and how long each waits.
const POLL_ROUNDS: u32 = 500;
const POLL_EVERY: Duration = Duration::from_millis(10);

/// The citizens-DB (ГБД ФЛ / ЮЛ) served on loopback beside a sandbox: its fixtures over a
/// small generated population, signing with a seal of the sandbox's centre.
pub struct CitizensDb {
    /// Its seal.
    pub identity: Arc<SystemIdentity>,
    /// Its gRPC address (`MessageReceiver` and its direct contract).
    pub grpc: SocketAddr,
    /// Its HTTP address (health, metrics).
    pub http: SocketAddr,
    /// Its database, for a test that changes a record.
    pub database_url: String,
}

impl CitizensDb {
    /// Prepares the database in `dir` (the fixtures plus `population` generated persons) and
    /// serves it on port 0 over `sandbox`'s verifier, on `clock`. Routes are the test's to add.
    pub async fn start(
        sandbox: &Sandbox,
        dir: &Path,
        population: usize,
        clock: Arc<dyn Clock>,
    ) -> CitizensDb {
        let config = egov_citizens::Config {
            population,
            ..egov_citizens::Config::with_data_dir(dir)
        };
        egov_citizens::load::prepare(&config, false)
            .await
            .expect("citizens-DB prepared");
        let database_url = config.database_url();
        let registry = Arc::new(egov_citizens::Registry::new(
            egov_citizens::Store::open(&database_url)
                .await
                .expect("citizens-DB opens"),
        ));
        let identity = sandbox.system(systems::CITIZENS.id, systems::CITIZENS.bin);
        let (grpc, http) = loopback_listeners().await;
        let (grpc_addr, http_addr) = (
            grpc.local_addr().expect("addr"),
            http.local_addr().expect("addr"),
        );
        tokio::spawn(egov_citizens::serve(
            identity.clone(),
            sandbox.verifier(),
            registry,
            clock,
            egov_citizens::Listeners { grpc, http },
            std::future::pending(),
        ));
        CitizensDb {
            identity,
            grpc: grpc_addr,
            http: http_addr,
            database_url,
        }
    }
}

/// A target system's routes: its own service ids at its address.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The system.
    pub system: &'static SystemInfo,
    /// Its gRPC address.
    pub addr: SocketAddr,
    /// The service ids the front doors (the portal, the State Corporation) call.
    pub front: &'a [&'a str],
    /// The service id the back office delivers its decisions to.
    pub decided: &'a str,
}

/// The system under test's neighbours, running: the sandbox and the systems it calls.
pub struct Neighbours {
    /// The stack's virtual clock, starting at the next Monday morning (or the one given to
    /// [`Neighbours::start_on`]).
    pub clock: VirtualClock,
    /// The sandbox certification centre and gateway.
    pub sandbox: Sandbox,
    /// The system under test.
    pub system: &'static SystemInfo,
    /// The seal of the system under test, registered before any route names it.
    pub identity: Arc<SystemIdentity>,
    /// The notary registry's store, to register powers of attorney in a test.
    pub notary: egov_notary::Store,
    /// The portal, a front system.
    pub portal: GatewayCaller,
    /// The State Corporation (ЦОН), a front system.
    pub con: GatewayCaller,
    citizens_addr: SocketAddr,
    notary_addr: SocketAddr,
    backoffice_addr: SocketAddr,
}

impl Neighbours {
    /// Starts the sandbox on a virtual clock at the next Monday morning, with quiet logs
    /// named `log_name`, and the citizens-DB, the notary registry and the back office beside it.
    pub async fn start(system: &'static SystemInfo, log_name: &str) -> Neighbours {
        Neighbours::start_on(system, log_name, VirtualClock::new(next_monday_morning())).await
    }

    /// Starts them as [`Neighbours::start`] does, on `clock` (e.g. this process's view of the
    /// stack clock, which a clock authority moves).
    pub async fn start_on(
        system: &'static SystemInfo,
        log_name: &str,
        clock: VirtualClock,
    ) -> Neighbours {
        egov_testkit::service::quiet_logs(log_name, "error");
        let sandbox = Sandbox::start_with_clock(clock.shared()).await;
        let dir = sandbox.dir().to_owned();
        // Senders must be registered systems before a route may name them.
        let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
        let con = sandbox.caller(
            systems::STATE_CORPORATION.id,
            systems::STATE_CORPORATION.bin,
        );
        let identity = sandbox.system(system.id, system.bin);

        // The citizens-DB: the fixtures over a small generated population.
        let citizens_addr = CitizensDb::start(&sandbox, &dir.join("citizens"), 50, clock.shared())
            .await
            .grpc;

        // The notary registry, with its fixture powers of attorney.
        let notary = egov_notary::Store::open(&format!(
            "sqlite://{}?mode=rwc",
            dir.join("notary.db").display()
        ))
        .await
        .expect("notary store opens");
        let (grpc, http) = loopback_listeners().await;
        let notary_addr = grpc.local_addr().expect("addr");
        // Its own data dir (not the default, relative to the test's working dir), with the
        // test operator admitted.
        let notary_config = egov_notary::Config::with_data_dir(dir.join("notary"));
        egov_testkit::service::write_operators_file(&notary_config.data_dir);
        tokio::spawn(egov_system::runtime::serve::<egov_notary::Notary, _>(
            notary_config,
            egov_system::Parts {
                identity: sandbox.system(systems::NOTARY.id, systems::NOTARY.bin),
                verifier: sandbox.verifier(),
                store: notary.clone(),
                clock: clock.shared(),
            },
            egov_bus::service::Listeners { grpc, http },
            None,
            std::future::pending(),
        ));

        // The back office, under its automatic policy, each provider organisation's head
        // signing its results (D's the back office's own head, as its config names it).
        let mut backoffice_config = egov_backoffice::Config::with_data_dir(dir.join("backoffice"));
        backoffice_config.gateway_endpoint = sandbox.gateway_endpoint();
        std::fs::create_dir_all(&backoffice_config.data_dir).expect("back office dir");
        egov_testkit::service::write_operators_file(&backoffice_config.data_dir);
        let backoffice_store = egov_backoffice::Store::open(&backoffice_config.database_url())
            .await
            .expect("back office store opens");
        let (grpc, http) = loopback_listeners().await;
        let backoffice_addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_backoffice::serve(
            backoffice_config,
            egov_backoffice::Parts {
                identity: sandbox.system(systems::BACKOFFICE.id, systems::BACKOFFICE.bin),
                heads: egov_backoffice::Heads::new(
                    sandbox.person(BACK_OFFICE_HEAD, Role::Head, Some(systems::BACKOFFICE.bin)),
                    egov_core::providers::SIGNING.map(|organisation| {
                        let head = sandbox.person(
                            organisation.head.iin,
                            Role::Head,
                            Some(organisation.bin),
                        );
                        (organisation, head)
                    }),
                ),
                verifier: sandbox.verifier(),
                store: backoffice_store,
                clock: clock.shared(),
            },
            egov_backoffice::Listeners { grpc, http },
            std::future::pending(),
        ));

        Neighbours {
            clock,
            sandbox,
            system,
            identity,
            notary,
            portal,
            con,
            citizens_addr,
            notary_addr,
            backoffice_addr,
        }
    }

    /// Serves the system under test `S` on loopback port 0 with its seal, the sandbox's
    /// verifier and the stack's clock, over `config` and `store` (the async channel off),
    /// until the test ends; returns its gRPC and HTTP addresses.
    pub async fn serve<S: egov_system::System>(
        &self,
        config: S::Config,
        store: S::Store,
    ) -> (SocketAddr, SocketAddr) {
        self.serve_as::<S>(self.identity.clone(), config, store)
            .await
    }

    /// Serves `S` as [`Neighbours::serve`] does, sealing with `identity`.
    async fn serve_as<S: egov_system::System>(
        &self,
        identity: Arc<SystemIdentity>,
        config: S::Config,
        store: S::Store,
    ) -> (SocketAddr, SocketAddr) {
        let (grpc, http) = loopback_listeners().await;
        let addrs = (
            grpc.local_addr().expect("addr"),
            http.local_addr().expect("addr"),
        );
        tokio::spawn(egov_system::runtime::serve::<S, _>(
            config,
            egov_system::Parts {
                identity,
                verifier: self.sandbox.verifier(),
                store,
                clock: self.clock.shared(),
            },
            egov_bus::service::Listeners { grpc, http },
            None,
            std::future::pending(),
        ));
        addrs
    }

    /// Registers in the notary registry (ЕНИС) a notarised power of attorney `number` by
    /// which `representative` acts for `principal` in service `code`, issued ten days ago and
    /// valid for a year.
    pub async fn notarise(&self, number: &str, principal: &str, representative: &str, code: &str) {
        let now = egov_core::clock::Clock::now(&self.clock);
        let today = egov_system::intake::local_date(now);
        self.notary
            .insert(
                &egov_notary::PowerOfAttorney {
                    number: number.into(),
                    principal_iin: egov_core::Iin::parse(principal).expect("principal's IIN"),
                    representative_iin: egov_core::Iin::parse(representative)
                        .expect("representative's IIN"),
                    service_ids: vec![code.into()],
                    notary_name: "Жумабекова Айгерим Нурлановна".into(),
                    issue_date: today - time::Duration::days(10),
                    expiry_date: today + time::Duration::days(355),
                    revoked: false,
                },
                now,
            )
            .await
            .expect("registered in the notary registry");
    }

    /// Starts the system under test `S` beside the neighbours, as its tests and the front
    /// doors' tests run it: its config from `config` (given its data dir in the sandbox and
    /// the sandbox gateway's endpoint), the test operators' file, its store opened and
    /// migrated. Returns the store (to read beside it) and its gRPC and HTTP addresses.
    pub async fn start_system<S: egov_system::System>(
        &self,
        config: impl FnOnce(PathBuf, String) -> S::Config,
    ) -> (S::Store, SocketAddr, SocketAddr) {
        self.start_with_seal::<S>(self.identity.clone(), config)
            .await
    }

    /// Starts another target system `S` beside the system under test, as
    /// [`Neighbours::start_system`] does but sealing with its own seal (`S::ENTRY`), for a
    /// stack that runs several target systems (the flow matrix).
    pub async fn start_system_beside<S: egov_system::System>(
        &self,
        config: impl FnOnce(PathBuf, String) -> S::Config,
    ) -> (S::Store, SocketAddr, SocketAddr) {
        let identity = self.sandbox.system(S::ENTRY.id, S::ENTRY.bin);
        self.start_with_seal::<S>(identity, config).await
    }

    async fn start_with_seal<S: egov_system::System>(
        &self,
        identity: Arc<SystemIdentity>,
        config: impl FnOnce(PathBuf, String) -> S::Config,
    ) -> (S::Store, SocketAddr, SocketAddr) {
        use egov_system::runtime::Settings as _;
        let id = S::ENTRY.id;
        let config = config(self.sandbox.dir().join(id), self.sandbox.gateway_endpoint());
        std::fs::create_dir_all(config.data_dir())
            .unwrap_or_else(|error| panic!("{id} data dir: {error}"));
        egov_testkit::service::write_operators_file(config.data_dir());
        let store = S::open_store(&config)
            .await
            .unwrap_or_else(|error| panic!("{id} store opens: {error}"));
        let (grpc, http) = self.serve_as::<S>(identity, config, store.clone()).await;
        (store, grpc, http)
    }

    /// Sends `request` on `service_id` of the system under test from the portal for the
    /// citizen `iin` twice, and asserts the gateway refuses both: unsigned (ESIG001), then
    /// signed by the citizen `impostor` rather than `iin` (ESIG007).
    pub async fn assert_unsigned_and_impostor_refused<Req: prost::Message + prost::Name>(
        &self,
        service_id: &str,
        iin: &str,
        impostor: &str,
        request: &Req,
    ) {
        let mut header = self.portal.header::<Req>(service_id, self.system.id);
        header.user_iin = iin.into();
        let unsigned = egov_proto::v1::Envelope {
            header: prost::Message::encode_to_vec(&header).into(),
            payload: request.encode_to_vec().into(),
            signatures: Vec::new(),
        };
        assert_refused_by_gateway(
            self.portal.send(unsigned).await,
            StatusCode::SignatureMissing,
        );
        let envelope = self
            .citizen(impostor)
            .seal_message(&header, request)
            .expect("signs");
        assert_refused_by_gateway(self.portal.forward(envelope).await, StatusCode::IinMismatch);
    }

    /// Routes what the system under test calls (the citizens-DB, the notary registry's
    /// lookup, the back office's cases) for it, the back office's catalogue for the front doors, and its own service ids at `addr`: `front`
    /// ones for the portal and the State Corporation, `decided` for the back office.
    pub fn route(&self, addr: SocketAddr, front: &[&str], decided: &str) {
        self.route_targets(&[Target {
            system: self.system,
            addr,
            front,
            decided,
        }]);
    }

    /// Routes as [`Neighbours::route`] does for several target systems at once (the system
    /// under test and those started beside it): every one of them may call the neighbours.
    pub fn route_targets(&self, targets: &[Target<'_>]) {
        let caller: Vec<&str> = targets.iter().map(|target| target.system.id).collect();
        // The front doors ask the citizens-DB and the notary registry too (the portal's
        // registration, the State Corporation desk's look-ups before it sends a request), as
        // the stack's registry lets them.
        let with_fronts: Vec<&str> = caller
            .iter()
            .copied()
            .chain([systems::PORTAL.id, systems::STATE_CORPORATION.id])
            .collect();
        for service in egov_citizens::SERVICE_IDS {
            self.sandbox.route(
                service,
                systems::CITIZENS.id,
                self.citizens_addr,
                &with_fronts,
            );
        }
        self.sandbox.route(
            egov_notary::GET_SERVICE_ID,
            systems::NOTARY.id,
            self.notary_addr,
            &with_fronts,
        );
        for service in [OPEN_CASE_SERVICE_ID, GET_CASE_SERVICE_ID] {
            self.sandbox.route(
                service,
                systems::BACKOFFICE.id,
                self.backoffice_addr,
                &caller,
            );
        }
        let fronts = [systems::PORTAL.id, systems::STATE_CORPORATION.id];
        // The front doors read the catalogue, as the stack's registry lets them.
        self.sandbox.route(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            self.backoffice_addr,
            &fronts,
        );
        for target in targets {
            for service in target.front {
                self.sandbox
                    .route(service, target.system.id, target.addr, &fronts);
            }
            self.sandbox.route(
                target.decided,
                target.system.id,
                target.addr,
                &[systems::BACKOFFICE.id],
            );
        }
    }

    /// Returns the back office's gRPC address (the workstation behind the regional gateway).
    pub fn backoffice_addr(&self) -> SocketAddr {
        self.backoffice_addr
    }

    /// Routes the citizens-DB's and the notary registry's look-ups for the system under test
    /// and for `fronts` as well: the State Corporation's workstation (ЦОН) asks them itself
    /// before it sends a request (FLOWS.md, State Corporation process 3).
    pub fn route_lookups_for(&self, fronts: &[&str]) {
        let callers: Vec<&str> = std::iter::once(self.system.id)
            .chain(fronts.iter().copied())
            .collect();
        for service in egov_citizens::SERVICE_IDS {
            self.sandbox
                .route(service, systems::CITIZENS.id, self.citizens_addr, &callers);
        }
        self.sandbox.route(
            egov_notary::GET_SERVICE_ID,
            systems::NOTARY.id,
            self.notary_addr,
            &callers,
        );
    }

    /// Returns a citizen's signer (an individual's SIGN certificate).
    pub fn citizen(&self, iin: &str) -> Signer {
        self.sandbox.person(iin, Role::Individual, None)
    }

    /// Returns the State Corporation operator's signer (an employee's certificate, its BIN).
    pub fn operator(&self) -> Signer {
        self.sandbox.person(
            STATE_CORPORATION_OPERATOR,
            Role::Employee,
            Some(systems::STATE_CORPORATION.bin),
        )
    }

    /// Sends `request` to `service_id` of the system under test signed by `person` (its IIN
    /// in header user_iin) and countersigned by `front` (the portal or the State
    /// Corporation), as those systems do.
    pub async fn send<
        Req: prost::Message + prost::Name,
        Resp: prost::Message + prost::Name + Default,
    >(
        &self,
        front: &GatewayCaller,
        person: &Signer,
        service_id: &str,
        request: &Req,
    ) -> Result<Resp, CallError> {
        let mut header = front.header::<Req>(service_id, self.system.id);
        header.user_iin = person
            .certificate()
            .iin
            .map(|iin| iin.to_string())
            .unwrap_or_default();
        let envelope = person.seal_message(&header, request).expect("signs");
        let answer = front.forward(envelope).await?;
        decode_answer(&answer)
    }

    /// Returns a signer for the head of a provider organisation, under the organisation's BIN,
    /// issued by the sandbox's centre as the back office's are.
    pub fn provider_head(&self, organisation: &providers::Organisation) -> Signer {
        self.sandbox
            .person(organisation.head.iin, Role::Head, Some(organisation.bin))
    }

    /// Delivers `result` to `decided_service_id` of the system under test as the back office
    /// does (authored by `head`, countersigned by the back office's seal), and returns the
    /// system's acknowledgement.
    pub async fn deliver_result_as(
        &self,
        head: &Signer,
        decided_service_id: &str,
        result: &ServiceResult,
    ) -> Result<egov_proto::v1::Status, CallError> {
        let back_office = self
            .sandbox
            .caller(systems::BACKOFFICE.id, systems::BACKOFFICE.bin);
        self.send(&back_office, head, decided_service_id, result)
            .await
    }

    /// Asks `result_service_id` for the result of `number` on the portal as the citizen `iin`.
    pub async fn result_on_portal_of(
        &self,
        result_service_id: &str,
        iin: &str,
        number: &str,
    ) -> Result<ServiceResult, CallError> {
        let request = GetApplicationResultRequest {
            registration_number: number.into(),
            with_evidence: false,
        };
        self.send(
            &self.portal,
            &self.citizen(iin),
            result_service_id,
            &request,
        )
        .await
    }

    /// Asks `result_service_id` for the result of `number` at the State Corporation.
    pub async fn result_at_state_corporation_of(
        &self,
        result_service_id: &str,
        number: &str,
    ) -> Result<ServiceResult, CallError> {
        let request = GetApplicationResultRequest {
            registration_number: number.into(),
            with_evidence: false,
        };
        self.send(&self.con, &self.operator(), result_service_id, &request)
            .await
    }

    /// Moves the virtual clock timer by timer until the back office's result of `number`
    /// arrives at `result_service_id` (the case walks its steps, then the result crosses
    /// the gateway).
    pub async fn wait_for_result_of(&self, result_service_id: &str, number: &str) -> ServiceResult {
        for _ in 0..POLL_ROUNDS {
            match self
                .result_at_state_corporation_of(result_service_id, number)
                .await
            {
                Ok(result) => return result,
                Err(error) => assert_eq!(
                    error.code(),
                    StatusCode::DataNotFound,
                    "undecided is EDAT001: {error}"
                ),
            }
            if let Some(deadline) = self.clock.next_deadline() {
                self.clock.advance_to(deadline).await;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!("no result of {number} arrived");
    }

    /// Returns the signer of the result of `number` as `store` kept it, once its signed
    /// envelope, kept exactly as received, verifies again.
    pub async fn kept_result_signer<St: IntakeStore>(
        &self,
        store: &St,
        number: &str,
    ) -> Arc<CertificateInfo> {
        let stored = store
            .result(number)
            .await
            .unwrap_or_else(|error| panic!("the result of {number} reads: {error}"))
            .unwrap_or_else(|| panic!("the result of {number} is kept"));
        let envelope = Envelope::decode(stored.envelope.as_slice()).expect("an envelope");
        self.sandbox
            .verifier()
            .verify(&envelope, &VerifyPolicy::any())
            .await
            .expect("the kept envelope still verifies")
            .signer
    }
}

/// Asserts that a call was refused by the system under test (a signed fault) with `code`,
/// and that the reason names `needle`.
pub fn assert_refused(
    outcome: Result<impl std::fmt::Debug, CallError>,
    code: StatusCode,
    needle: &str,
) {
    match outcome {
        Err(CallError::Fault(fault)) => {
            assert_eq!(fault.code, code, "{fault}");
            assert!(
                fault.message.contains(needle),
                "{fault} should name {needle:?}"
            );
        }
        other => panic!("expected a {code} fault naming {needle:?}, got {other:?}"),
    }
}

/// Asserts that the gateway itself refused a call with `code`.
pub fn assert_refused_by_gateway(
    outcome: Result<impl std::fmt::Debug, CallError>,
    code: StatusCode,
) {
    match outcome {
        Err(CallError::Refused { code: got, message }) => assert_eq!(got, code, "{message}"),
        other => panic!("expected the gateway to refuse with {code}, got {other:?}"),
    }
}

/// Asserts that a result was refused `ESIG009` (signed by a head of another organisation than
/// the service's provider), the refusal naming both organisations' BINs.
pub fn assert_refused_as_not_the_providers<T: std::fmt::Debug>(
    answer: Result<T, CallError>,
    signer: &providers::Organisation,
    provider: &providers::Organisation,
) {
    match answer {
        Err(CallError::Fault(fault)) => {
            assert_eq!(fault.code, StatusCode::SignerNotProvider, "{fault}");
            for bin in [signer.bin, provider.bin] {
                assert!(fault.message.contains(bin), "{fault} names {bin}");
            }
        }
        other => panic!("expected ESIG009, got {other:?}"),
    }
}
