//! The direct `egov.v1.QueueRegister` gRPC contract, for teams that call the queue register
//! without the gateway: each call carries its signed envelope in metadata and takes the
//! same path as a message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::queue_register_server::{QueueRegister, QueueRegisterServer};
use egov_proto::v1::{GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse};
use egov_system::{EnvelopeReceiver, direct};
use tonic::{Request, Response, Status};

use crate::placement::{PLACE_SERVICE_ID, POSITION_SERVICE_ID};

/// The tonic service over the register's receiver.
#[derive(Debug, Clone)]
pub struct QueueRegisterService<E> {
    receiver: E,
}

impl<E: EnvelopeReceiver> QueueRegisterService<E> {
    /// Wraps the receiver the gateway's messages go to.
    pub fn new(receiver: E) -> QueueRegisterService<E> {
        QueueRegisterService { receiver }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> QueueRegisterServer<QueueRegisterService<E>> {
        QueueRegisterServer::new(self)
    }
}

#[tonic::async_trait]
impl<E: EnvelopeReceiver> QueueRegister for QueueRegisterService<E> {
    async fn place_in_queue(
        &self,
        request: Request<PlaceInQueueRequest>,
    ) -> Result<Response<PlaceInQueueResponse>, Status> {
        direct::serve(&self.receiver, PLACE_SERVICE_ID, request).await
    }

    async fn get_queue_position(
        &self,
        request: Request<GetQueuePositionRequest>,
    ) -> Result<Response<PlaceInQueueResponse>, Status> {
        direct::serve(&self.receiver, POSITION_SERVICE_ID, request).await
    }
}
