//! The services the State Corporation files (FLOWS.md: B, C, D at the ЦОН) and where each
//! request goes: the target system, its service ids, its request message. Names and item-9
//! documents come from the back office's catalogue, the one source of truth; only the route
//! of each service is the workstation's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use egov_core::systems::{self, SystemInfo};
use egov_proto::v1::Channel;

use crate::ConError;

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
    /// The service id that takes the application.
    pub apply: &'static str,
    /// The service id that answers its result by registration number.
    pub result: &'static str,
}

/// Service B: the Labour Market AIS.
pub const ROUTE_B: Route = Route {
    target: systems::LABOR,
    apply: "labor.unemployed-certificate.apply",
    result: "labor.application.result",
};

/// Service C: E-sobes.
pub const ROUTE_C: Route = Route {
    target: systems::ESOBES,
    apply: "esobes.home-schooling.apply",
    result: "esobes.application.result",
};

/// Service D: the kindergarten queue register.
pub const ROUTE_D: Route = Route {
    target: systems::QUEUE,
    apply: "queue.place",
    result: "queue.application.result",
};

/// A service the workstation files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskService {
    /// `B`, `C`, `D`.
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
            _ => None,
        }
    }

    /// Reads the desk's services from the back office's catalogue: the services offered at
    /// the State Corporation that the workstation has a route for.
    pub fn from_catalogue(catalogue: &egov_backoffice::Catalogue) -> DeskServices {
        let services = catalogue
            .services()
            .filter(|service| service.offers(Channel::StateCorporation))
            .filter_map(|service| {
                let route = Self::route_of(&service.code)?;
                let names = |n: &egov_backoffice::catalogue::Names| Names {
                    kk: n.kk.clone(),
                    ru: n.ru.clone(),
                    en: n.en.clone(),
                };
                let documents = service
                    .documents
                    .iter()
                    .filter(|document| {
                        document.channels.is_empty()
                            || document.channels.contains(&Channel::StateCorporation)
                    })
                    .map(|document| DeskDocument {
                        code: document.code.clone(),
                        name: names(&document.name),
                        required: document.required_on(Channel::StateCorporation),
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

    /// Returns the services of the back office's catalogue as built into this binary.
    pub fn embedded() -> Result<DeskServices, ConError> {
        let catalogue = egov_backoffice::Catalogue::embedded().map_err(|error| {
            ConError::System(egov_system::SystemError::Config(format!(
                "catalogue: {error}"
            )))
        })?;
        Ok(Self::from_catalogue(&catalogue))
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
    fn the_desk_files_b_c_and_d_with_their_state_corporation_documents() {
        let services = DeskServices::embedded().expect("catalogue");
        let codes: Vec<&str> = services.all().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["B", "C", "D"]);
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
    }
}
