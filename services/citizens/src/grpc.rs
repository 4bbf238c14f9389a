//! The direct `egov.v1.Citizens` gRPC contract, for teams that call the citizens-DB
//! without the gateway: the same look-ups as the gateway's service ids, errors through
//! the one `From<CitizensError> for Status` (the message starts with the wire code).

use std::sync::Arc;

use egov_proto::v1::citizens_server::{Citizens, CitizensServer};
use egov_proto::v1::{
    GetFamilyRequest, GetFamilyResponse, GetLegalEntityRequest, GetLegalEntityResponse,
    GetPersonRequest, GetPersonResponse,
};
use tonic::{Request, Response, Status};

use crate::registry::{Channel, Registry};

/// The tonic service over a shared [`Registry`].
#[derive(Debug, Clone)]
pub struct CitizensService {
    registry: Arc<Registry>,
}

impl CitizensService {
    /// Wraps a registry.
    pub fn new(registry: Arc<Registry>) -> CitizensService {
        CitizensService { registry }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> CitizensServer<CitizensService> {
        CitizensServer::new(self)
    }
}

#[tonic::async_trait]
impl Citizens for CitizensService {
    async fn get_person(
        &self,
        request: Request<GetPersonRequest>,
    ) -> Result<Response<GetPersonResponse>, Status> {
        let asked = request.into_inner();
        Ok(Response::new(
            self.registry.person(&asked.iin, Channel::Direct).await?,
        ))
    }

    async fn get_legal_entity(
        &self,
        request: Request<GetLegalEntityRequest>,
    ) -> Result<Response<GetLegalEntityResponse>, Status> {
        let asked = request.into_inner();
        Ok(Response::new(
            self.registry
                .legal_entity(&asked.bin, Channel::Direct)
                .await?,
        ))
    }

    async fn get_family(
        &self,
        request: Request<GetFamilyRequest>,
    ) -> Result<Response<GetFamilyResponse>, Status> {
        let asked = request.into_inner();
        Ok(Response::new(
            self.registry.family(&asked.iin, Channel::Direct).await?,
        ))
    }
}
