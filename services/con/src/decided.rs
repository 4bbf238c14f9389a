//! The State Corporation IS's inbox for providers' results (`con.application.decided`): the
//! provider's EDS-signed result of an application the State Corporation filed, kept on the
//! filing for the operator to hand over (seed `004_…` annex 2, the ХҚО reference: the result
//! «ХҚО АЖ жолдайды … 1 минут ішінде», then «… нәтижесін беру (5 минут)»). The receiver
//! verified every signature before this handler runs; a result signed by the head of an
//! organisation that does not decide the filing's service is refused (`ESIG009`).

use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_proto::v1::ServiceResult;
use egov_system::provider::check_result_signer;
use egov_system::{Fault, Handler, Reply, Request};

use crate::services::DECIDED_SERVICE_ID;
use crate::store::{ReceivedResult, Store};

/// Keeps what arrives at [`DECIDED_SERVICE_ID`] on its filing.
#[derive(Clone)]
pub struct DecidedHandler {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DecidedHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecidedHandler").finish_non_exhaustive()
    }
}

impl DecidedHandler {
    /// Keeps results in `store`, stamped by `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> DecidedHandler {
        DecidedHandler { store, clock }
    }
}

impl Handler for DecidedHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        let service = request.header().service_id.clone();
        if service != DECIDED_SERVICE_ID {
            return Err(Fault::new(
                StatusCode::UnknownService,
                format!(
                    "service {service:?} is not the State Corporation's {DECIDED_SERVICE_ID:?}"
                ),
            ));
        }
        let result: ServiceResult = request.decode()?;
        let number = result.registration_number.trim();
        if number.is_empty() {
            return Err(Fault::new(
                StatusCode::InvalidRequest,
                "the result names no registration number",
            ));
        }
        // Only the system a filing was sent to answers it: the gateway proved the sender.
        let sender = request.header().sender_system_id.clone();
        let filing = self
            .store
            .filing_sent(&sender, number)
            .await
            .map_err(|error| Fault::new(StatusCode::Internal, format!("filings: {error}")))?;
        // The filing's service, not the document's claim, names who must have signed it.
        if let Some(filing) = &filing {
            check_result_signer(&filing.service_code, &request.verified.signer)?;
        }
        let received = ReceivedResult {
            kind: result.kind().as_str_name(),
            text: &result.text,
            signer: &request.verified.signer.subject,
        };
        let filing = self
            .store
            .receive_result(&sender, number, received, self.clock.now())
            .await
            .map_err(|error| Fault::new(StatusCode::Internal, format!("filings: {error}")))?;
        match filing {
            Some(id) => {
                tracing::info!(filing = %id, registration_number = number, sender = %sender, "result received");
                metrics::counter!("con_results_received_total").increment(1);
                Ok(Reply::message(&StatusCode::Success.to_proto(format!(
                    "kept on filing {id} for the operator to hand over"
                ))))
            }
            None => Err(Fault::not_found(format!(
                "the State Corporation filed nothing with {sender} under {number}"
            ))),
        }
    }
}
