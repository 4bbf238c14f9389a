//! The back office's side of the gateway: [`BackOfficeHandler`] answers the requests the
//! gateway forwards to its `egov.v1.MessageReceiver` — a target system (labor, esobes, queue)
//! or the regional gateway's workstation (rshep) opening a case, and asking about it — and the
//! front doors' applications for the services the provider's workstation behind the regional
//! gateway (РШЭП АРМ) takes itself: A and F.

use egov_core::StatusCode;
use egov_proto::v1::{GetCaseRequest, ListServicesRequest, OpenCaseRequest, ServiceApplication};
use egov_system::{Fault, Handler, Reply, Request};

use crate::listing::{LIST_SERVICES_SERVICE_ID, list_services};
use crate::workflow::Workflow;

/// Service id that opens a case (OpenCaseRequest → Case).
pub const OPEN_CASE_SERVICE_ID: &str = "backoffice.case.open";

/// Service id that returns a case the sender opened (GetCaseRequest → Case).
pub const GET_CASE_SERVICE_ID: &str = "backoffice.case.get";

/// Service id of service A's application, signed by the citizen on the portal and sent
/// through the national gateway to the regional gateway's workstation (seed `003_…` item 9,
/// process 5: «через ШЭП в РШЭП АРМ»). Answers `ApplicationRegistered`.
pub const ADOPTION_APPLY_SERVICE_ID: &str = "backoffice.adoption-candidate.apply";

/// Service id of service F's application, registered in the regional gateway's workstation
/// (seed `004_…` annex 2: «Электрондық құжатты ЭҮАШ АЖО-ға тіркеу»). Answers
/// `ApplicationRegistered`.
pub const GUARDIANSHIP_APPLY_SERVICE_ID: &str = "backoffice.guardianship.apply";

/// The applications the back office takes through the regional gateway, with their service code.
pub const REGIONAL_APPLICATIONS: [(&str, &str); 2] = [
    (ADOPTION_APPLY_SERVICE_ID, "A"),
    (GUARDIANSHIP_APPLY_SERVICE_ID, "F"),
];

/// Every service id the back office answers through the gateway.
pub const SERVICE_IDS: [&str; 5] = [
    OPEN_CASE_SERVICE_ID,
    GET_CASE_SERVICE_ID,
    LIST_SERVICES_SERVICE_ID,
    ADOPTION_APPLY_SERVICE_ID,
    GUARDIANSHIP_APPLY_SERVICE_ID,
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
            other => {
                let Some((_, code)) = REGIONAL_APPLICATIONS
                    .iter()
                    .find(|(service_id, _)| *service_id == other)
                else {
                    return Err(unknown(other));
                };
                let application: ServiceApplication = request.decode()?;
                Ok(Reply::message(
                    &self
                        .workflow
                        .register_application(application, code, &sender)
                        .await?,
                ))
            }
        }
    }
}

fn unknown(other: &str) -> Fault {
    Fault::new(
        StatusCode::UnknownService,
        format!("service {other:?} is not one of the back office's {SERVICE_IDS:?}"),
    )
}
