//! The services the State Corporation files (FLOWS.md: B, C, D at the ЦОН, F at the ХҚО) and where each
//! request goes: the target system, its service ids. Names and item-9 documents come from the
//! back office's catalogue (`backoffice.catalogue.list` through the gateway), the one source of
//! truth; only the route of each service is the workstation's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use egov_core::systems::{self, SystemInfo};
use egov_proto::v1::{Channel, ListServicesRequest, ListServicesResponse, LocalizedText};
use egov_system::{CallError, GatewayCaller};

/// The back office's catalogue call (ListServicesRequest → ListServicesResponse).
pub const LIST_SERVICES: &str = "backoffice.catalogue.list";

/// A text in the three languages of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    /// Kazakh.
    pub kk: String,
    /// Russian.
    pub ru: String,
    /// English.
    pub en: String,
}

/// An item-9 document the State Corporation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskDocument {
    /// The code an `AttachedDocument.kind` carries.
    pub code: String,
    /// Its name.
    pub name: Names,
    /// Whether the package is incomplete without it at the State Corporation.
    pub required: bool,
}

/// Where a service's request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The target system.
    pub target: SystemInfo,
    /// The system the application is addressed to: the target, or the regional gateway that
    /// relays it there.
    pub apply_to: &'static str,
    /// The service id that takes the application.
    pub apply: &'static str,
    /// The service id that answers its result by registration number; `None` where the
    /// provider sends its result to the State Corporation's IS itself
    /// ([`DECIDED_SERVICE_ID`]).
    pub result: Option<&'static str>,
}

/// The State Corporation IS's own service id: a provider's signed result of an application
/// the State Corporation filed (seed `004_…` annex 2, the ХҚО reference: «… нәтижесін ХҚО АЖ
/// жолдайды»).
pub const DECIDED_SERVICE_ID: &str = "con.application.decided";

/// Service B: the Labour Market AIS.
pub const ROUTE_B: Route = Route {
    target: systems::LABOR,
    apply_to: systems::LABOR.id,
    apply: "labor.unemployed-certificate.apply",
    result: Some("labor.application.result"),
};

/// Service C: E-sobes.
pub const ROUTE_C: Route = Route {
    target: systems::ESOBES,
    apply_to: systems::ESOBES.id,
    apply: "esobes.home-schooling.apply",
    result: Some("esobes.application.result"),
};

/// Service D: the kindergarten queue register, through the regional gateway (seed `002_…`
/// item 7: «электрондық үкіметтің шлюзі / өңірлік шлюзі арқылы»).
pub const ROUTE_D: Route = Route {
    target: systems::QUEUE,
    apply_to: systems::REGIONAL_GATEWAY.id,
    apply: "queue.place",
    result: Some("queue.application.result"),
};

/// Service F: the provider's workstation (the back office) through the regional gateway
/// (seed `004_…` annex 2, the ХҚО reference: «Электрондық құжатты ЭҮАШ АЖО-ға тіркеу (30
/// секунд)»); the provider sends the result back to the State Corporation's IS.
pub const ROUTE_F: Route = Route {
    target: systems::BACKOFFICE,
    apply_to: systems::REGIONAL_GATEWAY.id,
    apply: "backoffice.guardianship.apply",
    result: None,
};

/// A service the workstation files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskService {
    /// `B`, `C`, `D`, `F`.
    pub code: String,
    /// Its name.
    pub name: Names,
    /// The item-9 documents asked at the State Corporation.
    pub documents: Vec<DeskDocument>,
    /// Where its request goes.
    pub route: Route,
}

impl DeskService {
    /// Returns whether the service concerns a child (`child_iin` is asked).
    pub fn concerns_child(&self) -> bool {
        matches!(self.code.as_str(), "C" | "D")
    }

    /// Returns whether the citizen's consent to the use of legally protected secrets must be
    /// taken before any query (`002_…` item 9, service D at the State Corporation).
    pub fn needs_consent(&self) -> bool {
        self.code == "D"
    }

    /// Returns whether an incomplete package is refused at the desk with a receipt
    /// (`002_…` item 9.2: D at the State Corporation); for B and C the provider checks it.
    pub fn refuses_incomplete_at_desk(&self) -> bool {
        self.code == "D"
    }
}

/// The services of the desk, by code.
#[derive(Debug, Clone, Default)]
pub struct DeskServices {
    services: BTreeMap<String, Arc<DeskService>>,
}

impl DeskServices {
    /// Returns the route of a service code the State Corporation files.
    pub fn route_of(code: &str) -> Option<Route> {
        match code {
            "B" => Some(ROUTE_B),
            "C" => Some(ROUTE_C),
            "D" => Some(ROUTE_D),
            "F" => Some(ROUTE_F),
            _ => None,
        }
    }

    /// Reads the desk's services from the back office's catalogue as listed for the State
    /// Corporation: those the workstation has a route for.
    pub fn from_listing(listing: &ListServicesResponse) -> DeskServices {
        let names = |text: &Option<LocalizedText>| {
            let text = text.clone().unwrap_or_default();
            Names {
                kk: text.kk,
                ru: text.ru,
                en: text.en,
            }
        };
        let services = listing
            .services
            .iter()
            .filter(|service| {
                service
                    .channels
                    .contains(&(Channel::StateCorporation as i32))
            })
            .filter_map(|service| {
                let route = Self::route_of(&service.code)?;
                let documents = service
                    .documents
                    .iter()
                    .filter(|document| {
                        document.channels.is_empty()
                            || document
                                .channels
                                .contains(&(Channel::StateCorporation as i32))
                    })
                    .map(|document| DeskDocument {
                        code: document.code.clone(),
                        name: names(&document.name),
                        required: document.required,
                    })
                    .collect();
                Some((
                    service.code.clone(),
                    Arc::new(DeskService {
                        code: service.code.clone(),
                        name: names(&service.name),
                        documents,
                        route,
                    }),
                ))
            })
            .collect();
        DeskServices { services }
    }

    /// Asks the back office's catalogue (`backoffice.catalogue.list`) through the gateway.
    pub async fn fetch(caller: &GatewayCaller) -> Result<DeskServices, CallError> {
        let request = ListServicesRequest {
            channel: Channel::StateCorporation as i32,
        };
        let listing: ListServicesResponse = caller
            .call(LIST_SERVICES, systems::BACKOFFICE.id, &request)
            .await?;
        Ok(Self::from_listing(&listing))
    }

    /// Returns a service.
    pub fn get(&self, code: &str) -> Option<&Arc<DeskService>> {
        self.services.get(code)
    }

    /// Returns every service, by code.
    pub fn all(&self) -> impl Iterator<Item = &Arc<DeskService>> {
        self.services.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desk_files_b_c_d_and_f_with_their_state_corporation_documents() {
        let catalogue = egov_backoffice::Catalogue::embedded().expect("catalogue");
        let listing = egov_backoffice::listing::list_services(
            &catalogue,
            &ListServicesRequest {
                channel: Channel::StateCorporation as i32,
            },
        );
        let services = DeskServices::from_listing(&listing);
        let codes: Vec<&str> = services.all().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["B", "C", "D", "F"]);
        let d = services.get("D").expect("D");
        let required: Vec<&str> = d
            .documents
            .iter()
            .filter(|doc| doc.required)
            .map(|doc| doc.code.as_str())
            .collect();
        assert_eq!(
            required,
            ["child_birth_certificate", "parent_identity_document"]
        );
        assert_eq!(d.route.target.id, "queue");
        assert_eq!(d.route.apply_to, "rshep", "through the regional gateway");
    }
}
