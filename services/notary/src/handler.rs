//! The registry's (БНАЖ / ЕНИС) side of the gateway: [`NotaryHandler`] answers the
//! requests the gateway forwards to its `egov.v1.MessageReceiver`, judged at each
//! request's message time (FLOWS.md, State Corporation flow, process 3 / condition 1).

use egov_core::StatusCode;
use egov_proto::v1::{FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest};
use egov_system::{Fault, Handler, Reply, Request};

use crate::power_of_attorney::local_date;
use crate::registry::Registry;

/// Service id of the look-up by number (GetPowerOfAttorneyRequest → PowerOfAttorneyResponse).
pub const GET_SERVICE_ID: &str = "notary.power-of-attorney.get";

/// Service id of the look-up by principal and representative
/// (FindPowerOfAttorneyRequest → PowerOfAttorneyResponse).
pub const FIND_SERVICE_ID: &str = "notary.power-of-attorney.find";

/// Every service id the registry answers through the gateway.
pub const SERVICE_IDS: [&str; 2] = [GET_SERVICE_ID, FIND_SERVICE_ID];

/// Dispatches a verified request by its service id to the [`Registry`].
#[derive(Debug, Clone)]
pub struct NotaryHandler {
    registry: Registry,
}

impl NotaryHandler {
    /// Wraps a registry.
    pub fn new(registry: Registry) -> NotaryHandler {
        NotaryHandler { registry }
    }
}

impl Handler for NotaryHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        // The date the request was made, not the date it is handled: a scenario on the
        // virtual clock, or a request delayed in transit, is judged as of its sending.
        let date = local_date(request.verified.message_time);
        match request.header().service_id.as_str() {
            GET_SERVICE_ID => {
                let asked: GetPowerOfAttorneyRequest = request.decode()?;
                Ok(Reply::message(&self.registry.get(&asked, date).await?))
            }
            FIND_SERVICE_ID => {
                let asked: FindPowerOfAttorneyRequest = request.decode()?;
                Ok(Reply::message(&self.registry.find(&asked, date).await?))
            }
            other => Err(Fault::new(
                StatusCode::UnknownService,
                format!("service {other:?} is not one of the notary registry's {SERVICE_IDS:?}"),
            )),
        }
    }
}
