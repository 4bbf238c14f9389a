//! The stack a Labour Market AIS test runs: egov-test-stack's sandbox and neighbours (the
//! real citizens-DB, notary registry and back office), and egov-labor itself beside them,
//! every service id routed as the stack's registry routes it.

use std::net::SocketAddr;
use std::ops::Deref;

use egov_core::systems;
use egov_labor::{APPLY_SERVICE_ID, Config, DECIDED_SERVICE_ID, RESULT_SERVICE_ID, Store};
use egov_proto::v1::{
    ApplicationRegistered, ApplyUnemployedCertificateRequest, Channel, ServiceApplication,
    ServiceResult,
};
use egov_system::CallError;
use egov_test_stack::Neighbours;
pub use egov_test_stack::{assert_refused, assert_refused_by_gateway, document};

/// The running stack; the sandbox, the clock and the neighbours through [`Neighbours`].
pub struct Stack {
    neighbours: Neighbours,
    /// The Labour Market AIS's store, read beside it.
    pub store: Store,
    /// The Labour Market AIS's HTTP address.
    pub http: SocketAddr,
    /// The Labour Market AIS's gRPC address (its direct contract).
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
        let neighbours = Neighbours::start(&systems::LABOR, "egov-labor-tests").await;

        // The Labour Market AIS.
        let (store, labor_addr, labor_http) = neighbours
            .start_system::<egov_labor::Labor>(|data_dir, gateway| {
                let mut config = Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;

        neighbours.route(
            labor_addr,
            &[APPLY_SERVICE_ID, RESULT_SERVICE_ID],
            DECIDED_SERVICE_ID,
        );
        Stack {
            neighbours,
            store,
            http: labor_http,
            grpc: labor_addr,
        }
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
        self.result_on_portal_of(RESULT_SERVICE_ID, iin, number)
            .await
    }

    /// Asks for a result at the State Corporation.
    pub async fn result_at_state_corporation(
        &self,
        number: &str,
    ) -> Result<ServiceResult, CallError> {
        self.result_at_state_corporation_of(RESULT_SERVICE_ID, number)
            .await
    }

    /// Moves the virtual clock timer by timer until the back office's result of `number`
    /// arrives (the case walks its steps, then the result crosses the gateway).
    pub async fn wait_for_result(&self, number: &str) -> ServiceResult {
        self.wait_for_result_of(RESULT_SERVICE_ID, number).await
    }

    /// Sends one HTTP/1.1 request to the Labour Market AIS and returns the status and body.
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        egov_testkit::service::operator_request(self.http, "labor", method, path, body).await
    }

    /// Returns how many applications the Labour Market AIS registered.
    pub async fn registered(&self) -> u64 {
        self.store.count_applications().await.expect("count")
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
