//! The direct `egov.v1.Esobes` gRPC contract, for teams that call E-sobes
//! without the gateway: each call carries its signed envelope in metadata and takes the
//! same path as a message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::esobes_server::{Esobes, EsobesServer};
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest, GetApplicationResultRequest,
    ServiceResult,
};
use egov_system::{EnvelopeReceiver, direct};
use tonic::{Request, Response, Status};

use crate::compensation::{APPLY_SERVICE_ID, RESULT_SERVICE_ID};

/// The tonic service over the system's receiver.
#[derive(Debug, Clone)]
pub struct EsobesService<E> {
    receiver: E,
}

impl<E: EnvelopeReceiver> EsobesService<E> {
    /// Wraps the receiver the gateway's messages go to.
    pub fn new(receiver: E) -> EsobesService<E> {
        EsobesService { receiver }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> EsobesServer<EsobesService<E>> {
        EsobesServer::new(self)
    }
}

#[tonic::async_trait]
impl<E: EnvelopeReceiver> Esobes for EsobesService<E> {
    async fn apply_home_schooling_compensation(
        &self,
        request: Request<ApplyHomeSchoolingCompensationRequest>,
    ) -> Result<Response<ApplicationRegistered>, Status> {
        direct::serve(&self.receiver, APPLY_SERVICE_ID, request).await
    }

    async fn get_application_result(
        &self,
        request: Request<GetApplicationResultRequest>,
    ) -> Result<Response<ServiceResult>, Status> {
        direct::serve(&self.receiver, RESULT_SERVICE_ID, request).await
    }
}
