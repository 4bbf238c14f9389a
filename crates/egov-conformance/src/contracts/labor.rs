//! The Labour Market AIS's contract («Еңбек нарығы» ААЖ), service B: an application at the
//! State Corporation registered or refused, and the intake's checks.

use egov_citizens::fixtures::{EMPLOYED_ADULT, UNEMPLOYED_ADULT};
use egov_core::StatusCode;
use egov_core::systems;
use egov_labor::{APPLY_SERVICE_ID, PROFILE};
use egov_proto::v1::{ApplicationRegistered, ApplyUnemployedCertificateRequest};

use super::intake::{self, at_the_desk};
use super::{Contract, Signatory, Via, registered, unknown_service};
use crate::check::Check;

/// An unemployed recipient's application is registered.
pub const REGISTERED: &str =
    "an unemployed recipient's application is registered with a number and a due date";
/// An employed recipient is refused.
pub const EMPLOYED: &str = "an employed recipient's application is refused with ESRV002";

/// The Labour Market AIS's contract, applied to at the State Corporation's desk.
pub fn contract() -> Contract {
    let apply = |application| ApplyUnemployedCertificateRequest { application };
    let desk = |recipient: &str| {
        at_the_desk(
            PROFILE.service_code,
            recipient,
            &["application", "identity_document"],
        )
    };
    let mut checks = vec![
        Check::call(
            APPLY_SERVICE_ID,
            REGISTERED,
            &apply(Some(desk(UNEMPLOYED_ADULT))),
        )
        .answered_with(|answer: &ApplicationRegistered, shape| {
            registered(answer, PROFILE.number_prefix, shape)
        }),
        Check::call(
            APPLY_SERVICE_ID,
            EMPLOYED,
            &apply(Some(desk(EMPLOYED_ADULT))),
        )
        .refused_with(StatusCode::ServiceRefused),
    ];
    checks.extend(intake::checks(&PROFILE, apply, &desk(UNEMPLOYED_ADULT)));
    checks.push(unknown_service(systems::LABOR));
    Contract {
        system: systems::LABOR,
        caller: systems::STATE_CORPORATION,
        signatory: Signatory::Operator,
        via: Via::Receiver,
        checks,
    }
}
