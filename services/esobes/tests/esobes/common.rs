//! The stack an E-sobes test runs: egov-test-stack's sandbox and neighbours (the real
//! citizens-DB, notary registry and back office), and egov-esobes itself beside them, every
//! service id routed as the stack's registry routes it.

use std::net::SocketAddr;
use std::ops::Deref;

use egov_core::systems;
use egov_esobes::{APPLY_SERVICE_ID, Config, DECIDED_SERVICE_ID, RESULT_SERVICE_ID, Store};
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest, Channel, ServiceApplication,
    ServiceResult,
};
use egov_system::CallError;
use egov_test_stack::Neighbours;
pub use egov_test_stack::{assert_refused, assert_refused_by_gateway, document};

/// The running stack; the sandbox, the clock and the neighbours through [`Neighbours`].
pub struct Stack {
    neighbours: Neighbours,
    /// E-sobes's store, read beside it.
    pub store: Store,
    /// E-sobes's HTTP address.
    pub http: SocketAddr,
    /// E-sobes's gRPC address (its `MessageReceiver`).
    pub grpc: SocketAddr,
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
        let neighbours = Neighbours::start(&systems::ESOBES, "egov-esobes-tests").await;

        // E-sobes.
        let (store, esobes_addr, esobes_http) = neighbours
            .start_system::<egov_esobes::Esobes>(|data_dir, gateway| {
                let mut config = Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;

        neighbours.route(
            esobes_addr,
            &[APPLY_SERVICE_ID, RESULT_SERVICE_ID],
            DECIDED_SERVICE_ID,
        );
        Stack {
            neighbours,
            store,
            http: esobes_http,
            grpc: esobes_addr,
        }
    }

    /// Applies on the portal, signed by the citizen `iin`.
    pub async fn apply_on_portal(
        &self,
        iin: &str,
        application: ServiceApplication,
    ) -> Result<ApplicationRegistered, CallError> {
        let request = ApplyHomeSchoolingCompensationRequest {
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
        let request = ApplyHomeSchoolingCompensationRequest {
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
        self.result_on_portal_of(RESULT_SERVICE_ID, iin, number)
            .await
    }

    /// Moves the virtual clock timer by timer until the back office's result of `number`
    /// arrives (the case walks its steps, then the result crosses the gateway).
    pub async fn wait_for_result(&self, number: &str) -> ServiceResult {
        self.wait_for_result_of(RESULT_SERVICE_ID, number).await
    }

    /// Sends one HTTP/1.1 request to E-sobes and returns the status and body.
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        egov_testkit::service::operator_request(self.http, "esobes", method, path, body).await
    }

    /// Returns how many applications E-sobes registered.
    pub async fn registered(&self) -> u64 {
        self.store.count_applications().await.expect("count")
    }
}

/// Returns a service-C application of `recipient` for `child`, schooled at home, with every
/// item-9 document.
pub fn application(recipient: &str, child: &str, channel: Channel) -> ServiceApplication {
    ServiceApplication {
        service_code: "C".into(),
        channel: channel as i32,
        recipient_iin: recipient.into(),
        child_iin: child.into(),
        documents: vec![
            document("application"),
            document("pmpc_conclusion"),
            document(egov_esobes::compensation::HOME_SCHOOLING_CERTIFICATE),
        ],
        fields: [(
            egov_esobes::compensation::FIELD_HOME_SCHOOLING.to_owned(),
            "true".to_owned(),
        )]
        .into(),
        ..ServiceApplication::default()
    }
}
