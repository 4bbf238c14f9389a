//! The direct `egov.v1.BackOffice` gRPC service, for the provider's own workstations (the
//! worklist): moves requests between tonic and the [`Workflow`], and errors through the one
//! `From<BackOfficeError> for Status`.

use egov_proto::v1::back_office_server::{BackOffice, BackOfficeServer};
use egov_proto::v1::{
    BackOfficeRole, Case, GetCaseRequest, ListServicesRequest, ListServicesResponse,
    ListTasksRequest, ListTasksResponse, OpenCaseRequest, TakeActionRequest,
};
use tonic::{Request, Response, Status};

use crate::BackOfficeError;
use crate::catalogue::OfficeRole;
use crate::listing::list_services;
use crate::workflow::Workflow;

/// The tonic service over a shared [`Workflow`].
#[derive(Debug, Clone)]
pub struct BackOfficeService {
    workflow: Workflow,
}

impl BackOfficeService {
    /// Wraps a workflow.
    pub fn new(workflow: Workflow) -> BackOfficeService {
        BackOfficeService { workflow }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> BackOfficeServer<BackOfficeService> {
        BackOfficeServer::new(self)
    }
}

#[tonic::async_trait]
impl BackOffice for BackOfficeService {
    async fn open_case(&self, request: Request<OpenCaseRequest>) -> Result<Response<Case>, Status> {
        // A case opened at the provider's own desk: no requesting system.
        Ok(Response::new(
            self.workflow.open_case(request.into_inner(), "").await?,
        ))
    }

    async fn get_case(&self, request: Request<GetCaseRequest>) -> Result<Response<Case>, Status> {
        Ok(Response::new(
            self.workflow.case(&request.into_inner().id).await?,
        ))
    }

    async fn list_tasks(
        &self,
        request: Request<ListTasksRequest>,
    ) -> Result<Response<ListTasksResponse>, Status> {
        let asked = request.into_inner().role;
        let role = BackOfficeRole::try_from(asked)
            .ok()
            .and_then(OfficeRole::from_proto)
            .ok_or_else(|| {
                BackOfficeError::invalid("role", format!("{asked} is not clerk, head or executor"))
            })?;
        Ok(Response::new(ListTasksResponse {
            cases: self.workflow.tasks(role).await?,
        }))
    }

    async fn take_action(
        &self,
        request: Request<TakeActionRequest>,
    ) -> Result<Response<Case>, Status> {
        Ok(Response::new(
            self.workflow.take_action(&request.into_inner()).await?,
        ))
    }

    async fn list_services(
        &self,
        request: Request<ListServicesRequest>,
    ) -> Result<Response<ListServicesResponse>, Status> {
        Ok(Response::new(list_services(
            self.workflow.catalogue(),
            &request.into_inner(),
        )))
    }
}
