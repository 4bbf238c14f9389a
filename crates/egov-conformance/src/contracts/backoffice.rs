//! The provider back office's contract: `backoffice.catalogue.list` (services A–F for the
//! front doors), `backoffice.case.open` (a target system opening a case for an application)
//! and `backoffice.case.get` (a case the caller opened).

use egov_backoffice::{GET_CASE_SERVICE_ID, LIST_SERVICES_SERVICE_ID, OPEN_CASE_SERVICE_ID};
use egov_citizens::fixtures::UNEMPLOYED_ADULT;
use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::{
    Case, Channel, GetCaseRequest, ListServicesRequest, ListServicesResponse, OpenCaseRequest,
    ServiceApplication,
};

use super::{Contract, Signatory, Via, unknown_service};
use crate::check::Check;

/// The catalogue lists services A–F.
pub const CATALOGUE: &str =
    "the catalogue lists services A to F, each named with its provider and channels";
/// A valid application opens a case.
pub const OPENED: &str = "an application for service B opens a case at its first step";
/// An unknown case id is not found.
pub const UNKNOWN_CASE: &str = "a case id the caller never opened is refused with EDAT001";
/// An open without an application is refused.
pub const NO_APPLICATION: &str = "an open without an application is refused with EDAT002";
/// An unknown service code is refused.
pub const UNKNOWN_CODE: &str =
    "an application for a service code not in the catalogue is refused with EDAT002";
/// A channel that is not one is refused.
pub const NO_CHANNEL: &str = "an application without a channel is refused with EDAT002";
/// A malformed recipient IIN is refused.
pub const BAD_RECIPIENT: &str =
    "an application with a malformed recipient IIN is refused with EDAT002";
/// A payload of another type is refused.
pub const WRONG_PAYLOAD: &str = "a payload of another type is refused with EDAT002";

/// The registration number the kit's case is opened under: asking again returns the same case.
pub const REGISTRATION_NUMBER: &str = "LM-CONFORMANCE-1";

/// The back office's contract, called as the Labour Market AIS opens its cases.
pub fn contract() -> Contract {
    let application = |code: &str, channel: Channel, recipient: &str| ServiceApplication {
        service_code: code.into(),
        channel: channel as i32,
        recipient_iin: recipient.into(),
        ..ServiceApplication::default()
    };
    let open = |application: Option<ServiceApplication>| OpenCaseRequest {
        application,
        registration_number: REGISTRATION_NUMBER.into(),
        reply_to_system_id: String::new(),
    };
    let valid = || Some(application("B", Channel::Portal, UNEMPLOYED_ADULT));
    Contract {
        system: systems::BACKOFFICE,
        caller: systems::LABOR,
        signatory: Signatory::Seal,
        via: Via::Receiver,
        checks: vec![
            Check::call(
                LIST_SERVICES_SERVICE_ID,
                CATALOGUE,
                &ListServicesRequest::default(),
            )
            .answered_with(|answer: &ListServicesResponse, shape| {
                let mut codes: Vec<&str> =
                    answer.services.iter().map(|s| s.code.as_str()).collect();
                codes.sort_unstable();
                shape.equals("services[].code", codes, vec!["A", "B", "C", "D", "E", "F"]);
                for service in &answer.services {
                    let path = format!("services[{}]", service.code);
                    shape
                        .present(
                            &format!("{path}.name"),
                            service
                                .name
                                .as_ref()
                                .is_some_and(|n| !n.kk.is_empty() && !n.ru.is_empty()),
                        )
                        .present(&format!("{path}.provider"), service.provider.is_some())
                        .present(&format!("{path}.channels"), !service.channels.is_empty());
                }
            }),
            Check::call(OPEN_CASE_SERVICE_ID, OPENED, &open(valid())).answered_with(
                |case: &Case, shape| {
                    shape
                        .text("id", &case.id)
                        .equals("service_code", case.service_code.as_str(), "B")
                        .equals(
                            "registration_number",
                            case.registration_number.as_str(),
                            REGISTRATION_NUMBER,
                        )
                        .present("steps", !case.steps.is_empty())
                        .equals("closed", case.closed, false);
                },
            ),
            Check::call(
                GET_CASE_SERVICE_ID,
                UNKNOWN_CASE,
                &GetCaseRequest {
                    id: "00000000-0000-7000-8000-000000000000".into(),
                },
            )
            .refused_with(StatusCode::DataNotFound),
            Check::call(OPEN_CASE_SERVICE_ID, NO_APPLICATION, &open(None))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(
                OPEN_CASE_SERVICE_ID,
                UNKNOWN_CODE,
                &open(Some(application("Z", Channel::Portal, UNEMPLOYED_ADULT))),
            )
            .refused_with(StatusCode::InvalidRequest),
            Check::call(
                OPEN_CASE_SERVICE_ID,
                NO_CHANNEL,
                &open(Some(application(
                    "B",
                    Channel::Unspecified,
                    UNEMPLOYED_ADULT,
                ))),
            )
            .refused_with(StatusCode::InvalidRequest),
            Check::call(
                OPEN_CASE_SERVICE_ID,
                BAD_RECIPIENT,
                &open(Some(application("B", Channel::Portal, "950703390124"))),
            )
            .refused_with(StatusCode::InvalidRequest),
            Check::call(
                OPEN_CASE_SERVICE_ID,
                WRONG_PAYLOAD,
                &ListServicesRequest::default(),
            )
            .refused_with(StatusCode::InvalidRequest),
            unknown_service(systems::BACKOFFICE),
        ],
    }
}
