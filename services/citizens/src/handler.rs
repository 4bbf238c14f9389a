//! The citizens-DB's answers to the gateway: the [`Handler`] a [`egov_system::Receiver`]
//! calls with each verified request, dispatching on the header's service id.

use std::sync::Arc;

use egov_core::StatusCode;
use egov_proto::v1::{GetFamilyRequest, GetLegalEntityRequest, GetPersonRequest};
use egov_system::{Fault, Handler, Reply, Request};

use crate::registry::{Channel, Registry};
use crate::{FAMILY_GET, LEGAL_ENTITY_GET, PERSON_GET};

/// Answers `citizens.person.get`, `citizens.legal-entity.get` and `citizens.family.get`.
#[derive(Debug, Clone)]
pub struct CitizensHandler {
    registry: Arc<Registry>,
}

impl CitizensHandler {
    /// Creates the handler over a registry.
    pub fn new(registry: Arc<Registry>) -> CitizensHandler {
        CitizensHandler { registry }
    }
}

impl Handler for CitizensHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        match request.header().service_id.as_str() {
            PERSON_GET => {
                let asked: GetPersonRequest = request.decode()?;
                let answer = self.registry.person(&asked.iin, Channel::Gateway).await?;
                Ok(Reply::message(&answer))
            }
            LEGAL_ENTITY_GET => {
                let asked: GetLegalEntityRequest = request.decode()?;
                let answer = self
                    .registry
                    .legal_entity(&asked.bin, Channel::Gateway)
                    .await?;
                Ok(Reply::message(&answer))
            }
            FAMILY_GET => {
                let asked: GetFamilyRequest = request.decode()?;
                let answer = self.registry.family(&asked.iin, Channel::Gateway).await?;
                Ok(Reply::message(&answer))
            }
            other => Err(Fault::new(
                StatusCode::UnknownService,
                format!("service {other:?} is not answered by the citizens-DB"),
            )),
        }
    }
}
