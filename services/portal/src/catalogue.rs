//! The catalogue as the back office keeps it (`backoffice.catalogue.list`), read through the
//! gateway on every page that needs it: one source of truth, no copy in the portal.

use egov_core::systems;
use egov_proto::v1::{CatalogueService, Channel, ListServicesRequest, ListServicesResponse};
use egov_system::GatewayCaller;

use crate::PortalError;

/// Service id of the back office's catalogue.
pub const LIST_SERVICES: &str = "backoffice.catalogue.list";

/// Returns the services offered on the portal.
pub async fn portal_services(caller: &GatewayCaller) -> Result<Vec<CatalogueService>, PortalError> {
    let listed: ListServicesResponse = caller
        .call(
            LIST_SERVICES,
            systems::BACKOFFICE.id,
            &ListServicesRequest {
                channel: Channel::Portal as i32,
            },
        )
        .await
        .map_err(|error| PortalError::Catalogue(error.to_string()))?;
    Ok(listed.services)
}

/// Returns one service offered on the portal, or `UnknownService`.
pub async fn portal_service(
    caller: &GatewayCaller,
    code: &str,
) -> Result<CatalogueService, PortalError> {
    portal_services(caller)
        .await?
        .into_iter()
        .find(|service| service.code == code)
        .ok_or_else(|| PortalError::UnknownService(code.chars().take(8).collect()))
}

/// Returns whether an item-9 document is asked for on the portal.
pub fn asked_on_portal(document: &egov_proto::v1::CatalogueDocument) -> bool {
    document.channels.is_empty() || document.channels.contains(&(Channel::Portal as i32))
}
