//! E-sobes's contract («Е-собес» АЖ), service C (home-schooling compensation): an application
//! at the State Corporation for a disabled child schooled at home registered, one for a child
//! without a disability refused, a missing child, and the intake's checks.

use egov_citizens::fixtures::{
    CHILD_7_OR_OVER, DISABLED_CHILD, PARENT_OF_CHILD_UNDER_7, PARENT_OF_DISABLED_CHILD,
};
use egov_core::StatusCode;
use egov_core::systems;
use egov_esobes::compensation::{FIELD_HOME_SCHOOLING, HOME_SCHOOLING_CERTIFICATE};
use egov_esobes::{APPLY_SERVICE_ID, PROFILE};
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest, ServiceApplication,
};

use super::intake::{self, at_the_desk};
use super::{Contract, Signatory, Via, registered, unknown_service};
use crate::check::Check;

/// A disabled child's parent's application is registered.
pub const REGISTERED: &str = "an application for a disabled child schooled at home is registered with a number and a due date";
/// A child without a disability is refused.
pub const NOT_DISABLED: &str =
    "an application for a child without a disability is refused with ESRV002";
/// An application without the child is refused.
pub const NO_CHILD: &str = "an application without the child's IIN is refused with EDAT002";

/// The E-sobes contract, applied to at the State Corporation's desk.
pub fn contract() -> Contract {
    let apply = |application| ApplyHomeSchoolingCompensationRequest { application };
    let desk = |parent: &str, child: &str| ServiceApplication {
        child_iin: child.into(),
        fields: [(FIELD_HOME_SCHOOLING.to_owned(), "true".to_owned())].into(),
        ..at_the_desk(
            PROFILE.service_code,
            parent,
            &["application", "pmpc_conclusion", HOME_SCHOOLING_CERTIFICATE],
        )
    };
    let valid = desk(PARENT_OF_DISABLED_CHILD, DISABLED_CHILD);
    let without_child = ServiceApplication {
        child_iin: String::new(),
        ..valid.clone()
    };
    let mut checks = vec![
        Check::call(APPLY_SERVICE_ID, REGISTERED, &apply(Some(valid.clone()))).answered_with(
            |answer: &ApplicationRegistered, shape| {
                registered(answer, PROFILE.number_prefix, shape)
            },
        ),
        Check::call(
            APPLY_SERVICE_ID,
            NOT_DISABLED,
            &apply(Some(desk(PARENT_OF_CHILD_UNDER_7, CHILD_7_OR_OVER))),
        )
        .refused_with(StatusCode::ServiceRefused),
        Check::call(APPLY_SERVICE_ID, NO_CHILD, &apply(Some(without_child)))
            .refused_with(StatusCode::InvalidRequest),
    ];
    checks.extend(intake::checks(&PROFILE, apply, &valid));
    checks.push(unknown_service(systems::ESOBES));
    Contract {
        system: systems::ESOBES,
        caller: systems::STATE_CORPORATION,
        signatory: Signatory::Operator,
        via: Via::Receiver,
        checks,
    }
}
