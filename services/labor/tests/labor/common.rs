//! The stack a Labour Market AIS test runs: a sandbox certification centre and gateway on a
//! virtual clock, the real citizens-DB, notary registry and back office started in-process on
//! port 0, and egov-labor itself, every service id routed as the stack's registry routes it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use egov_backoffice::{GET_CASE_SERVICE_ID, OPEN_CASE_SERVICE_ID};
use egov_citizens::fixtures::{PROVIDER_HEAD, STATE_CORPORATION_OPERATOR};
use egov_core::StatusCode;
use egov_core::clock::VirtualClock;
use egov_core::envelope::Signer;
use egov_core::pki::Role;
use egov_core::systems;
use egov_labor::{
    APPLY_SERVICE_ID, Config, DECIDED_SERVICE_ID, Listeners, Parts, RESULT_SERVICE_ID, Store,
};
use egov_proto::v1::{
    ApplicationRegistered, ApplyUnemployedCertificateRequest, AttachedDocument, Channel,
    GetApplicationResultRequest, ServiceApplication, ServiceResult,
};
use egov_system::caller::decode_answer;
use egov_system::{CallError, GatewayCaller};
use egov_testkit::Sandbox;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many rounds a poll for an asynchronous hop takes at most, and how long each waits.
const POLL_ROUNDS: u32 = 500;
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Installs quiet logs once: serve() reuses the first subscriber of the process.
fn quiet_telemetry() {
    let quiet = egov_bus::telemetry::TelemetryConfig {
        log_filter: "error".into(),
        json: false,
        otlp_endpoint: None,
    };
    egov_bus::telemetry::init_with("egov-labor-tests", &quiet).expect("telemetry");
}

/// Returns 09:00 in Astana on the first Monday after today: the sandbox's certificates are
/// valid around the real today, so virtual time starts near it, at a known working hour.
pub fn next_monday_morning() -> OffsetDateTime {
    let mut day = OffsetDateTime::now_utc().date();
    loop {
        day = day.next_day().expect("a next day");
        if day.weekday() == time::Weekday::Monday {
            return day.with_hms(4, 0, 0).expect("04:00").assume_utc();
        }
    }
}

/// Binds two loopback listeners on port 0.
async fn listeners() -> (TcpListener, TcpListener) {
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
    (grpc, http)
}

/// The running stack.
pub struct Stack {
    pub clock: VirtualClock,
    pub sandbox: Sandbox,
    /// The Labour Market AIS's store, read beside it.
    pub store: Store,
    /// The notary registry's store, to register powers of attorney in a test.
    pub notary: egov_notary::Store,
    /// The Labour Market AIS's HTTP address.
    pub http: SocketAddr,
    /// The Labour Market AIS's gRPC address (its direct contract).
    pub grpc: SocketAddr,
    pub portal: GatewayCaller,
    pub con: GatewayCaller,
}

impl Stack {
    /// Starts every service on a virtual clock at the next Monday morning.
    pub async fn start() -> Stack {
        quiet_telemetry();
        let clock = VirtualClock::new(next_monday_morning());
        let sandbox = Sandbox::start_with_clock(clock.shared()).await;
        let dir = sandbox.dir().to_owned();
        // Senders must be registered systems before a route may name them.
        let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
        let con = sandbox.caller(
            systems::STATE_CORPORATION.id,
            systems::STATE_CORPORATION.bin,
        );
        let labor_identity = sandbox.system(systems::LABOR.id, systems::LABOR.bin);

        // The citizens-DB: the fixtures over a small generated population.
        let citizens_config = egov_citizens::Config {
            population: 50,
            ..egov_citizens::Config::with_data_dir(dir.join("citizens"))
        };
        egov_citizens::load::prepare(&citizens_config, false)
            .await
            .expect("citizens-DB prepared");
        let registry = Arc::new(egov_citizens::Registry::new(
            egov_citizens::Store::open(&citizens_config.database_url())
                .await
                .expect("citizens-DB opens"),
        ));
        let (grpc, http) = listeners().await;
        let citizens_addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_citizens::serve(
            sandbox.system(systems::CITIZENS.id, systems::CITIZENS.bin),
            sandbox.verifier(),
            registry,
            clock.shared(),
            egov_citizens::Listeners { grpc, http },
            std::future::pending(),
        ));

        // The notary registry, with its fixture powers of attorney.
        let notary = egov_notary::Store::open(&format!(
            "sqlite://{}?mode=rwc",
            dir.join("notary.db").display()
        ))
        .await
        .expect("notary store opens");
        let (grpc, http) = listeners().await;
        let notary_addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_notary::serve(
            sandbox.system(systems::NOTARY.id, systems::NOTARY.bin),
            sandbox.verifier(),
            notary.clone(),
            clock.shared(),
            egov_notary::Listeners { grpc, http },
            std::future::pending(),
        ));

        // The back office, under its automatic policy, its head signing every result.
        let mut backoffice_config = egov_backoffice::Config::with_data_dir(dir.join("backoffice"));
        backoffice_config.gateway_endpoint = sandbox.gateway_endpoint();
        std::fs::create_dir_all(&backoffice_config.data_dir).expect("back office dir");
        let backoffice_store = egov_backoffice::Store::open(&backoffice_config.database_url())
            .await
            .expect("back office store opens");
        let (grpc, http) = listeners().await;
        let backoffice_addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_backoffice::serve(
            backoffice_config,
            egov_backoffice::Parts {
                identity: sandbox.system(systems::BACKOFFICE.id, systems::BACKOFFICE.bin),
                head: sandbox.person(PROVIDER_HEAD, Role::Head, Some(systems::BACKOFFICE.bin)),
                verifier: sandbox.verifier(),
                store: backoffice_store,
                clock: clock.shared(),
            },
            egov_backoffice::Listeners { grpc, http },
            std::future::pending(),
        ));

        // The Labour Market AIS.
        let mut config = Config::with_data_dir(dir.join("labor"));
        config.gateway_endpoint = sandbox.gateway_endpoint();
        std::fs::create_dir_all(&config.data_dir).expect("labor dir");
        let store = Store::open(&config.database_url())
            .await
            .expect("labor store opens");
        let (grpc, http) = listeners().await;
        let labor_addr = grpc.local_addr().expect("addr");
        let labor_http = http.local_addr().expect("addr");
        tokio::spawn(egov_labor::serve(
            config,
            Parts {
                identity: labor_identity,
                verifier: sandbox.verifier(),
                store: store.clone(),
                clock: clock.shared(),
            },
            Listeners { grpc, http },
            std::future::pending(),
        ));

        let labor = [systems::LABOR.id];
        for service in egov_citizens::SERVICE_IDS {
            sandbox.route(service, systems::CITIZENS.id, citizens_addr, &labor);
        }
        sandbox.route(
            egov_notary::GET_SERVICE_ID,
            systems::NOTARY.id,
            notary_addr,
            &labor,
        );
        for service in [OPEN_CASE_SERVICE_ID, GET_CASE_SERVICE_ID] {
            sandbox.route(service, systems::BACKOFFICE.id, backoffice_addr, &labor);
        }
        let front = [systems::PORTAL.id, systems::STATE_CORPORATION.id];
        for service in [APPLY_SERVICE_ID, RESULT_SERVICE_ID] {
            sandbox.route(service, systems::LABOR.id, labor_addr, &front);
        }
        sandbox.route(
            DECIDED_SERVICE_ID,
            systems::LABOR.id,
            labor_addr,
            &[systems::BACKOFFICE.id],
        );
        Stack {
            clock,
            sandbox,
            store,
            notary,
            http: labor_http,
            grpc: labor_addr,
            portal,
            con,
        }
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

    /// Sends `request` to `service_id` signed by `person` (its IIN in header user_iin) and
    /// countersigned by `front` (the portal or the State Corporation), as those systems do.
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
        let mut header = front.header::<Req>(service_id, systems::LABOR.id);
        header.user_iin = person
            .certificate()
            .iin
            .map(|iin| iin.to_string())
            .unwrap_or_default();
        let envelope = person.seal_message(&header, request).expect("signs");
        let answer = front.forward(envelope).await?;
        decode_answer(&answer)
    }

    /// Applies on the portal, signed by the citizen `iin`.
    pub async fn apply_on_portal(
        &self,
        iin: &str,
        application: ServiceApplication,
    ) -> Result<ApplicationRegistered, CallError> {
        let request = ApplyUnemployedCertificateRequest {
            application: Some(application),
        };
        self.send(&self.portal, &self.citizen(iin), APPLY_SERVICE_ID, &request)
            .await
    }

    /// Applies at the State Corporation, signed by its operator.
    pub async fn apply_at_state_corporation(
        &self,
        application: ServiceApplication,
    ) -> Result<ApplicationRegistered, CallError> {
        let request = ApplyUnemployedCertificateRequest {
            application: Some(application),
        };
        self.send(&self.con, &self.operator(), APPLY_SERVICE_ID, &request)
            .await
    }

    /// Asks for a result on the portal as the citizen `iin`.
    pub async fn result_on_portal(
        &self,
        iin: &str,
        number: &str,
    ) -> Result<ServiceResult, CallError> {
        let request = GetApplicationResultRequest {
            registration_number: number.into(),
        };
        self.send(
            &self.portal,
            &self.citizen(iin),
            RESULT_SERVICE_ID,
            &request,
        )
        .await
    }

    /// Asks for a result at the State Corporation.
    pub async fn result_at_state_corporation(
        &self,
        number: &str,
    ) -> Result<ServiceResult, CallError> {
        let request = GetApplicationResultRequest {
            registration_number: number.into(),
        };
        self.send(&self.con, &self.operator(), RESULT_SERVICE_ID, &request)
            .await
    }

    /// Moves the virtual clock timer by timer until the back office's result of `number`
    /// arrives (the case walks its steps, then the result crosses the gateway).
    pub async fn wait_for_result(&self, number: &str) -> ServiceResult {
        for _ in 0..POLL_ROUNDS {
            match self.result_at_state_corporation(number).await {
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

    /// Sends one HTTP/1.1 request to the Labour Market AIS and returns the status and body.
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.http).await.expect("connect HTTP");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: labor\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let response = String::from_utf8(response).expect("UTF-8 answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("end of headers");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status code");
        (status, body.to_owned())
    }

    /// Returns how many applications the Labour Market AIS registered.
    pub async fn registered(&self) -> u64 {
        self.store.count_applications().await.expect("count")
    }
}

/// Returns an attached item-9 document of a kind.
pub fn document(kind: &str) -> AttachedDocument {
    AttachedDocument {
        kind: kind.into(),
        file_name: format!("{kind}.pdf"),
        content_type: "application/pdf".into(),
        ..AttachedDocument::default()
    }
}

/// Returns a service-B application of `recipient` with the item-9 documents of `channel`.
pub fn application(recipient: &str, channel: Channel) -> ServiceApplication {
    let mut documents = vec![document("application")];
    if channel == Channel::StateCorporation {
        documents.push(document("identity_document"));
    }
    ServiceApplication {
        service_code: "B".into(),
        channel: channel as i32,
        recipient_iin: recipient.into(),
        documents,
        ..ServiceApplication::default()
    }
}

/// Asserts that a call was refused by the Labour Market AIS (a signed fault) with `code`,
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
