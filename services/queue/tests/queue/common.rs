//! The stack a queue register test runs: egov-test-stack's sandbox and neighbours (the real
//! citizens-DB, notary registry and back office), and egov-queue itself beside them, every
//! service id routed as the stack's registry routes it.

use std::net::SocketAddr;
use std::ops::Deref;

use egov_core::systems;
use egov_proto::v1::{
    Channel, GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse,
    ServiceApplication, ServiceResult,
};
use egov_queue::{
    Config, DECIDED_SERVICE_ID, PLACE_SERVICE_ID, POSITION_SERVICE_ID, RESULT_SERVICE_ID, Store,
};
use egov_system::CallError;
use egov_test_stack::Neighbours;
pub use egov_test_stack::{assert_refused, assert_refused_by_gateway, document};

/// The running stack; the sandbox, the clock and the neighbours through [`Neighbours`].
pub struct Stack {
    neighbours: Neighbours,
    /// The queue register's store, read beside it.
    pub store: Store,
    /// The queue register's HTTP address.
    pub http: SocketAddr,
    /// The queue register's gRPC address (its `MessageReceiver`).
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
        let neighbours = Neighbours::start(&systems::QUEUE, "egov-queue-tests").await;

        // The queue register, with its fixture kindergartens.
        let (store, queue_addr, queue_http) = neighbours
            .start_system::<egov_queue::Queue>(|data_dir, gateway| {
                let mut config = Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;

        neighbours.route(
            queue_addr,
            &[PLACE_SERVICE_ID, POSITION_SERVICE_ID, RESULT_SERVICE_ID],
            DECIDED_SERVICE_ID,
        );
        Stack {
            neighbours,
            store,
            http: queue_http,
            grpc: queue_addr,
        }
    }

    /// Places a child on the portal, signed by the citizen `iin`.
    pub async fn place_on_portal(
        &self,
        iin: &str,
        request: PlaceInQueueRequest,
    ) -> Result<PlaceInQueueResponse, CallError> {
        self.send(&self.portal, &self.citizen(iin), PLACE_SERVICE_ID, &request)
            .await
    }

    /// Places a child at the State Corporation, signed by its operator.
    pub async fn place_at_state_corporation(
        &self,
        request: PlaceInQueueRequest,
    ) -> Result<PlaceInQueueResponse, CallError> {
        self.send(&self.con, &self.operator(), PLACE_SERVICE_ID, &request)
            .await
    }

    /// Asks where a child stands, on the portal as the citizen `iin`.
    pub async fn position_on_portal(
        &self,
        iin: &str,
        child: &str,
    ) -> Result<PlaceInQueueResponse, CallError> {
        let request = GetQueuePositionRequest {
            child_iin: child.into(),
        };
        self.send(
            &self.portal,
            &self.citizen(iin),
            POSITION_SERVICE_ID,
            &request,
        )
        .await
    }

    /// Moves the virtual clock timer by timer until the back office's result of `number`
    /// arrives (the case walks its steps, then the result crosses the gateway).
    pub async fn wait_for_result(&self, number: &str) -> ServiceResult {
        self.wait_for_result_of(RESULT_SERVICE_ID, number).await
    }

    /// Sends one HTTP/1.1 request to the queue register and returns the status and body.
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        egov_testkit::service::operator_request(self.http, "queue", method, path, body).await
    }

    /// Returns how many applications the queue register registered.
    pub async fn registered(&self) -> u64 {
        self.store.count_applications().await.expect("count")
    }
}

/// Returns a service-D request of `recipient` for `child` in `district` (and the kindergarten
/// `kindergarten`, or any when empty), with the item-9 documents asked off the portal.
pub fn request(
    recipient: &str,
    child: &str,
    district: &str,
    kindergarten: &str,
    channel: Channel,
) -> PlaceInQueueRequest {
    let documents = if channel == Channel::Portal {
        Vec::new()
    } else {
        vec![
            document("child_birth_certificate"),
            document("parent_identity_document"),
        ]
    };
    PlaceInQueueRequest {
        application: Some(ServiceApplication {
            service_code: "D".into(),
            channel: channel as i32,
            recipient_iin: recipient.into(),
            child_iin: child.into(),
            documents,
            ..ServiceApplication::default()
        }),
        district: district.into(),
        kindergarten_bin: kindergarten.into(),
    }
}
