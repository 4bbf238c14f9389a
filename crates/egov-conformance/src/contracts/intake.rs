//! The checks every application intake answers alike (`egov_system::intake`: the Labour
//! Market AIS, E-sobes): an application at the State Corporation, signed by its operator and
//! countersigned by its seal, is checked before anyone is asked — a missing application, a
//! wrong service code, a malformed IIN are `EDAT002` — a result is asked by number, and only
//! the back office may deliver one.

use egov_core::StatusCode;
use egov_proto::v1::{
    Channel, GetApplicationResultRequest, ResultKind, ServiceApplication, ServiceResult,
};
use egov_system::intake::Profile;
use prost::Message;

use crate::check::Check;

/// An apply without an application is refused.
pub const NO_APPLICATION: &str = "an apply without an application is refused with EDAT002";
/// An application for another service is refused.
pub const WRONG_CODE: &str = "an application for another service code is refused with EDAT002";
/// A malformed recipient IIN is refused.
pub const BAD_RECIPIENT: &str =
    "an application with a malformed recipient IIN is refused with EDAT002";
/// A representative without a power of attorney is refused.
pub const NO_POWER: &str =
    "a representative without a power of attorney number is refused with EDAT002";
/// An empty registration number is refused.
pub const EMPTY_NUMBER: &str =
    "a result asked with an empty registration number is refused with EDAT002";
/// An unknown registration number is not found.
pub const UNKNOWN_NUMBER: &str =
    "a result of a registration number never given is refused with EDAT001";
/// A result from another system than the back office is refused.
pub const FOREIGN_DECISION: &str =
    "a result delivered by another system than the back office is refused with EACC001";
/// A payload of another type is refused.
pub const WRONG_PAYLOAD: &str = "a payload of another type is refused with EDAT002";

/// A recipient IIN with a wrong check digit.
const MALFORMED_IIN: &str = "950703390124";

/// The intake's checks for `profile`: `apply` wraps an application as the system's apply
/// request, `valid` is an application that passes the checks made before anyone is asked.
pub fn checks<A: Message + prost::Name>(
    profile: &Profile,
    apply: impl Fn(Option<ServiceApplication>) -> A,
    valid: &ServiceApplication,
) -> Vec<Check> {
    let with = |change: &dyn Fn(&mut ServiceApplication)| {
        let mut application = valid.clone();
        change(&mut application);
        apply(Some(application))
    };
    let result = |number: &str| GetApplicationResultRequest {
        registration_number: number.into(),
        with_evidence: false,
    };
    let refused = |service_id: &str, name: &str, request: &A| {
        Check::call(service_id, name, request).refused_with(StatusCode::InvalidRequest)
    };
    vec![
        refused(profile.apply_service_id, NO_APPLICATION, &apply(None)),
        refused(
            profile.apply_service_id,
            WRONG_CODE,
            &with(&|application| application.service_code = "Z".into()),
        ),
        refused(
            profile.apply_service_id,
            BAD_RECIPIENT,
            &with(&|application| application.recipient_iin = MALFORMED_IIN.into()),
        ),
        refused(
            profile.apply_service_id,
            NO_POWER,
            &with(&|application| {
                application.representative_iin = egov_citizens::fixtures::REPRESENTATIVE.into();
                application.power_of_attorney_number.clear();
            }),
        ),
        Check::call(profile.result_service_id, EMPTY_NUMBER, &result(""))
            .refused_with(StatusCode::InvalidRequest),
        Check::call(
            profile.result_service_id,
            UNKNOWN_NUMBER,
            &result(&format!("{}-1999-999999", profile.number_prefix)),
        )
        .refused_with(StatusCode::DataNotFound),
        Check::call(profile.apply_service_id, WRONG_PAYLOAD, &result("x"))
            .refused_with(StatusCode::InvalidRequest),
        Check::call(
            profile.decided_service_id,
            FOREIGN_DECISION,
            &ServiceResult {
                registration_number: format!("{}-1999-999999", profile.number_prefix),
                kind: ResultKind::Certificate as i32,
                ..ServiceResult::default()
            },
        )
        .refused_with(StatusCode::AccessDenied),
    ]
}

/// An application made at the State Corporation's desk for `recipient`, with `documents`.
pub fn at_the_desk(code: &str, recipient: &str, documents: &[&str]) -> ServiceApplication {
    ServiceApplication {
        service_code: code.into(),
        channel: Channel::StateCorporation as i32,
        recipient_iin: recipient.into(),
        documents: documents
            .iter()
            .map(|kind| egov_proto::v1::AttachedDocument {
                kind: (*kind).into(),
                file_name: format!("{kind}.pdf"),
                content_type: "application/pdf".into(),
                ..Default::default()
            })
            .collect(),
        ..ServiceApplication::default()
    }
}
