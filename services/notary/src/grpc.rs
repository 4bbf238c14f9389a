//! The `egov.v1.Notary` gRPC service of the registry (БНАЖ / ЕНИС), for callers inside the
//! registry's own network: the same answers as through the gateway, judged on today's date.

use egov_proto::v1::notary_server::{Notary, NotaryServer};
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyResponse,
};
use tonic::{Request, Response, Status};

use crate::registry::Registry;

/// The tonic service over the [`Registry`].
#[derive(Debug, Clone)]
pub struct NotaryService {
    registry: Registry,
}

impl NotaryService {
    /// Wraps a registry.
    pub fn new(registry: Registry) -> NotaryService {
        NotaryService { registry }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> NotaryServer<NotaryService> {
        NotaryServer::new(self)
    }
}

#[tonic::async_trait]
impl Notary for NotaryService {
    async fn get_power_of_attorney(
        &self,
        request: Request<GetPowerOfAttorneyRequest>,
    ) -> Result<Response<PowerOfAttorneyResponse>, Status> {
        let today = self.registry.today();
        Ok(Response::new(
            self.registry.get(request.get_ref(), today).await?,
        ))
    }

    async fn find_power_of_attorney(
        &self,
        request: Request<FindPowerOfAttorneyRequest>,
    ) -> Result<Response<PowerOfAttorneyResponse>, Status> {
        let today = self.registry.today();
        Ok(Response::new(
            self.registry.find(request.get_ref(), today).await?,
        ))
    }
}
