//! The direct `egov.v1.Labor` gRPC contract, for teams that call the Labour Market IS
//! without the gateway: each call carries its signed envelope in metadata and takes the
//! same path as a message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::labor_server::{Labor, LaborServer};
use egov_proto::v1::{
    ApplicationRegistered, ApplyUnemployedCertificateRequest, GetApplicationResultRequest,
    ServiceResult,
};
use egov_system::{EnvelopeReceiver, direct};
use tonic::{Request, Response, Status};

use crate::certificate::{APPLY_SERVICE_ID, RESULT_SERVICE_ID};

/// The tonic service over the system's receiver.
#[derive(Debug, Clone)]
pub struct LaborService<E> {
    receiver: E,
}

impl<E: EnvelopeReceiver> LaborService<E> {
    /// Wraps the receiver the gateway's messages go to.
    pub fn new(receiver: E) -> LaborService<E> {
        LaborService { receiver }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> LaborServer<LaborService<E>> {
        LaborServer::new(self)
    }
}

#[tonic::async_trait]
impl<E: EnvelopeReceiver> Labor for LaborService<E> {
    async fn apply_unemployed_certificate(
        &self,
        request: Request<ApplyUnemployedCertificateRequest>,
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
