//! The stack a workstation test runs: egov-test-stack's sandbox and neighbours (the real
//! citizens-DB, notary registry and back office), the Labour Market AIS (service B's target)
//! beside them, the regional gateway in front of the back office's workstation (service F), and
//! the workstation itself: its desk over the State Corporation's seal, its operator's employee
//! certificate, its receiver of the providers' results, and its pages served on a loopback port
//! behind sign-in.

use std::net::SocketAddr;
use std::ops::Deref;

use egov_bus::service::Listeners;
use egov_citizens::fixtures::STATE_CORPORATION_OPERATOR;
use egov_con::{Desk, Operators, Store};
use egov_core::systems;
use egov_labor::{APPLY_SERVICE_ID, DECIDED_SERVICE_ID, RESULT_SERVICE_ID};
use egov_proto::v1::ServiceResult;
use egov_signin::{Person, Signin};
use egov_system::Parts;
use egov_system::intake::{IntakeStore, Registration};
use egov_test_stack::{Neighbours, loopback_listeners};

/// The operator's login, name and password.
pub const OPERATOR: (&str, &str) = ("madina", "Әбілова Мадина");

/// The operator's password in the tests.
pub const PASSWORD: &str = "ЦОН-operator-2026";

/// The running stack.
pub struct Stack {
    neighbours: Neighbours,
    /// The workstation's desk.
    pub desk: Desk,
    /// The workstation's sign-in.
    pub signin: Signin,
    /// The workstation's HTTP address.
    pub http: SocketAddr,
    /// The Labour Market AIS's store.
    pub labor: egov_labor::Store,
    /// The regional gateway that relays F to the back office.
    pub regional: egov_testkit::sandbox::RegionalGateway,
}

impl Deref for Stack {
    type Target = Neighbours;

    fn deref(&self) -> &Neighbours {
        &self.neighbours
    }
}

impl Stack {
    /// Starts every service on a virtual clock at the next Monday morning.
    pub async fn start() -> Stack {
        let neighbours = Neighbours::start(&systems::LABOR, "egov-con-tests").await;

        // The Labour Market AIS, service B's target.
        let mut config = egov_labor::Config::with_data_dir(neighbours.sandbox.dir().join("labor"));
        config.gateway_endpoint = neighbours.sandbox.gateway_endpoint();
        std::fs::create_dir_all(&config.data_dir).expect("labor dir");
        let labor = egov_labor::Store::open(&config.database_url())
            .await
            .expect("labor store opens");
        let (grpc, http) = loopback_listeners().await;
        let labor_addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_system::runtime::serve::<egov_labor::Labor, _>(
            config,
            Parts {
                identity: neighbours.identity.clone(),
                verifier: neighbours.sandbox.verifier(),
                store: labor.clone(),
                clock: neighbours.clock.shared(),
            },
            Listeners { grpc, http },
            None,
            std::future::pending(),
        ));
        neighbours.route(
            labor_addr,
            &[APPLY_SERVICE_ID, RESULT_SERVICE_ID],
            DECIDED_SERVICE_ID,
        );
        neighbours.route_lookups_for(&[systems::STATE_CORPORATION.id]);

        // The workstation: its desk signs with the operator's employee certificate and has the
        // State Corporation's seal countersign.
        let dir = neighbours.sandbox.dir().join("con");
        std::fs::create_dir_all(&dir).expect("con dir");
        let config = egov_con::Config::with_data_dir(&dir);
        let store = Store::open(&config.database_url())
            .await
            .expect("con store opens");
        // F: through the regional gateway to the provider's workstation (the back office),
        // whose signed result comes back to the State Corporation's IS.
        let regional = neighbours
            .sandbox
            .start_regional_gateway(&[(
                egov_backoffice::GUARDIANSHIP_APPLY_SERVICE_ID,
                systems::BACKOFFICE.id,
                neighbours.backoffice_addr(),
                &[systems::STATE_CORPORATION.id],
            )])
            .await;
        neighbours
            .serve_state_corporation_inbox(store.clone())
            .await;

        let operators = Operators::new([(OPERATOR.0.to_owned(), neighbours.operator())]);
        let desk = Desk::new(
            store.clone(),
            neighbours.con.clone(),
            operators,
            neighbours.clock.shared(),
            neighbours.sandbox.verifier(),
        );
        let served = neighbours
            .serve_state_corporation_desk(&config, desk.clone(), OPERATOR, PASSWORD)
            .await;
        Stack {
            neighbours,
            desk,
            signin: served.signin,
            http: served.addr,
            labor,
            regional,
        }
    }

    /// Returns the operator as signed in.
    pub fn operator_person(&self) -> Person {
        Person {
            login: OPERATOR.0.to_owned(),
            name: OPERATOR.1.to_owned(),
            roles: vec![egov_con::OPERATOR_ROLE.to_owned()],
        }
    }

    /// Returns the operator's IIN.
    pub fn operator_iin(&self) -> &'static str {
        STATE_CORPORATION_OPERATOR
    }

    /// Takes a ticket at the kiosk and calls it to the operator's desk; returns its id.
    pub async fn called_ticket(&self) -> String {
        let taken = self.desk.take_ticket().await.expect("a ticket");
        let called = self
            .desk
            .call_next(&self.operator_person())
            .await
            .expect("called")
            .expect("a ticket waits");
        assert_eq!(called.id, taken.id);
        called.id
    }

    /// Returns how many rows the national gateway's message log holds, once written.
    pub async fn gateway_log_rows(&self) -> usize {
        let log = self.sandbox.gateway().log();
        log.flush().await.expect("log flushed");
        log.recent(&egov_gateway::message_log::RecentFilter::default(), 100_000)
            .await
            .expect("log read")
            .len()
    }

    /// Returns the application the Labour Market AIS registered under `number`.
    pub async fn labor_registration(&self, number: &str) -> Registration {
        self.labor
            .registration(number)
            .await
            .expect("labor store")
            .expect("registered")
    }

    /// Moves the clock until the provider's result of `number` is at the Labour Market AIS.
    pub async fn wait_for_labor_result(&self, number: &str) -> ServiceResult {
        self.wait_for_result_of(RESULT_SERVICE_ID, number).await
    }
}

/// An HTTP answer: status, header lines, body bytes.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The header block, lower-cased.
    pub headers: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Stack {
    /// Signs the operator in and returns the session's cookie and CSRF token.
    pub async fn session(&self) -> (String, String) {
        let (id, signed_in) = self
            .signin
            .sign_in(OPERATOR.0, PASSWORD, None)
            .await
            .expect("signed in");
        (
            format!("{}={id}", self.signin.settings().cookie_name()),
            signed_in.csrf,
        )
    }

    /// Sends one body-less JSON API call on a session, with its CSRF token in the header.
    pub async fn request_with_csrf(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        csrf: &str,
    ) -> Answer {
        self.send_raw(
            method,
            path,
            &[("Cookie", cookie), (egov_signin::CSRF_HEADER, csrf)],
            "",
        )
        .await
    }

    /// Sends one HTTP/1.1 request to the workstation with a cookie and a form body.
    pub async fn request(&self, method: &str, path: &str, cookie: &str, form: &str) -> Answer {
        self.send_raw(method, path, &[("Cookie", cookie)], form)
            .await
    }

    /// Sends one request with `headers` and a form body.
    async fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        form: &str,
    ) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.http)
            .await
            .expect("connect HTTP");
        let headers: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            self.http,
            form.len()
        );
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        let split = response
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("end of headers");
        let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status code");
        Answer {
            status,
            headers: head,
            body: response[split + 4..].to_vec(),
        }
    }
}
