//! The back office's side of the gateway: [`BackOfficeHandler`] answers the requests the
//! gateway forwards to its `egov.v1.MessageReceiver` — a target system (labor, esobes, queue)
//! or the regional gateway's workstation (rshep) opening a case, and asking about it.

use egov_core::StatusCode;
use egov_proto::v1::{GetCaseRequest, ListServicesRequest, OpenCaseRequest};
use egov_system::{Fault, Handler, Reply, Request};

use crate::listing::{LIST_SERVICES_SERVICE_ID, list_services};
use crate::workflow::Workflow;

/// Service id that opens a case (OpenCaseRequest → Case).
pub const OPEN_CASE_SERVICE_ID: &str = "backoffice.case.open";

/// Service id that returns a case the sender opened (GetCaseRequest → Case).
pub const GET_CASE_SERVICE_ID: &str = "backoffice.case.get";

/// Every service id the back office answers through the gateway.
pub const SERVICE_IDS: [&str; 3] = [
    OPEN_CASE_SERVICE_ID,
    GET_CASE_SERVICE_ID,
    LIST_SERVICES_SERVICE_ID,
];

/// Dispatches a verified request by its service id to the [`Workflow`].
#[derive(Debug, Clone)]
pub struct BackOfficeHandler {
    workflow: Workflow,
}

impl BackOfficeHandler {
    /// Wraps a workflow.
    pub fn new(workflow: Workflow) -> BackOfficeHandler {
        BackOfficeHandler { workflow }
    }
}

impl Handler for BackOfficeHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        // The gateway admitted the sender by its seal's BIN, so the header's sender is proven.
        let sender = request.header().sender_system_id.clone();
        match request.header().service_id.as_str() {
            OPEN_CASE_SERVICE_ID => {
                let asked: OpenCaseRequest = request.decode()?;
                Ok(Reply::message(
                    &self.workflow.open_case(asked, &sender).await?,
                ))
            }
            GET_CASE_SERVICE_ID => {
                let asked: GetCaseRequest = request.decode()?;
                Ok(Reply::message(
                    &self.workflow.case_for_system(&asked.id, &sender).await?,
                ))
            }
            LIST_SERVICES_SERVICE_ID => {
                let asked: ListServicesRequest = request.decode()?;
                Ok(Reply::message(&list_services(
                    self.workflow.catalogue(),
                    &asked,
                )))
            }
            other => Err(Fault::new(
                StatusCode::UnknownService,
                format!("service {other:?} is not one of the back office's {SERVICE_IDS:?}"),
            )),
        }
    }
}
