//! E-sobes's contract («Е-собес» АЖ), service C (home-schooling compensation): the intake's
//! checks, and a missing child, which service C requires.

use egov_citizens::fixtures::PARENT_OF_DISABLED_CHILD;
use egov_core::systems;
use egov_esobes::PROFILE;
use egov_proto::v1::ApplyHomeSchoolingCompensationRequest;

use egov_core::StatusCode;
use egov_esobes::APPLY_SERVICE_ID;

use super::intake::{self, at_the_desk};
use super::{Contract, Signatory, Via, unknown_service};
use crate::check::Check;

/// An application without the child is refused.
pub const NO_CHILD: &str = "an application without the child's IIN is refused with EDAT002";

/// The E-sobes contract, applied to at the State Corporation's desk.
pub fn contract() -> Contract {
    let apply = |application| ApplyHomeSchoolingCompensationRequest { application };
    // Without the child, which service C requires: refused before anyone is asked.
    let valid = at_the_desk(
        PROFILE.service_code,
        PARENT_OF_DISABLED_CHILD,
        &["application", "identity_document"],
    );
    let mut checks = vec![
        Check::call(APPLY_SERVICE_ID, NO_CHILD, &apply(Some(valid.clone())))
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
