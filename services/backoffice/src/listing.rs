//! The catalogue as the front doors read it (`backoffice.catalogue.list`): the portal (ЭҮП)
//! and the State Corporation (ЦОН / ХҚО) list services A–F, their channels, item-9
//! documents and request-form fields from here, so the catalogue files stay the one source.

use egov_proto::v1::{
    CatalogueDocument, CatalogueService, Channel, FormField as WireField, ListServicesRequest,
    ListServicesResponse, LocalizedText,
};

use crate::catalogue::{Catalogue, Names, Service};

/// Service id that lists the catalogue (ListServicesRequest → ListServicesResponse).
pub const LIST_SERVICES_SERVICE_ID: &str = "backoffice.catalogue.list";

/// Returns the services of `catalogue` the request asks for: those offered on its channel,
/// or every one when the channel is unspecified.
pub fn list_services(catalogue: &Catalogue, request: &ListServicesRequest) -> ListServicesResponse {
    let channel = request.channel();
    ListServicesResponse {
        services: catalogue
            .services()
            .filter(|service| channel == Channel::Unspecified || service.offers(channel))
            .map(|service| to_wire(service))
            .collect(),
    }
}

fn text(names: &Names) -> Option<LocalizedText> {
    Some(LocalizedText {
        kk: names.kk.clone(),
        ru: names.ru.clone(),
        en: names.en.clone(),
    })
}

fn to_wire(service: &Service) -> CatalogueService {
    CatalogueService {
        code: service.code.clone(),
        name: text(&service.name),
        provider: text(&service.provider.name),
        channels: service.channels.iter().map(|c| *c as i32).collect(),
        documents: service
            .documents
            .iter()
            .map(|doc| CatalogueDocument {
                code: doc.code.clone(),
                name: text(&doc.name),
                required: doc.required,
                channels: doc.channels.iter().map(|c| *c as i32).collect(),
            })
            .collect(),
        fields: service
            .fields
            .iter()
            .map(|field| WireField {
                code: field.code.clone(),
                name: text(&field.name),
                kind: field.kind as i32,
                required: field.required,
                max_length: field.max_length,
            })
            .collect(),
        // Validation guarantees at least one result.
        result: service
            .results
            .first()
            .and_then(|result| text(&result.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_channel_lists_only_the_services_offered_on_the_portal() {
        let catalogue = Catalogue::embedded().expect("embedded catalogue is valid");
        let all = list_services(&catalogue, &ListServicesRequest::default());
        assert_eq!(all.services.len(), 6);
        let portal = list_services(
            &catalogue,
            &ListServicesRequest {
                channel: Channel::Portal as i32,
            },
        );
        let codes: Vec<&str> = portal.services.iter().map(|s| s.code.as_str()).collect();
        // E is given at the provider's office only (002, second regulation).
        assert_eq!(codes, ["A", "B", "C", "D", "F"]);
    }
}
