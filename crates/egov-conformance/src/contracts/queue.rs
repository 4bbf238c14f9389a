//! The kindergarten queue register's contract, service D: the intake's checks on a placement
//! at the State Corporation's desk, a placement on a Standard item-10 ground registered for the
//! provider's reasoned refusal, and a child's place asked by IIN.

use egov_citizens::fixtures::{CHILD_7_OR_OVER, CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7};
use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::{
    GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse, ResultKind,
    ServiceApplication,
};
use egov_queue::fixtures::{KYZGALDAK, SHIELI_DISTRICT};
use egov_queue::{PLACE_SERVICE_ID, POSITION_SERVICE_ID, PROFILE};

use super::intake::{self, at_the_desk};
use super::{Contract, Signatory, Via, unknown_service};
use crate::check::{Check, Shape};

/// A school-age child is registered for the provider's reasoned refusal.
pub const SCHOOL_AGE: &str =
    "a placement of a school-age child is registered for the provider's reasoned refusal";
/// A district without kindergartens is registered for the provider's reasoned refusal.
pub const NO_DISTRICT: &str = "a placement in a district with no kindergarten in the register is registered for the provider's reasoned refusal";
/// A kindergarten of another district is registered for the provider's reasoned refusal.
pub const OTHER_DISTRICT: &str = "a placement at a kindergarten of another district is registered for the provider's reasoned refusal";
/// A child never queued has no place.
pub const NOT_QUEUED: &str = "the place of a child not in the queue is refused with EDAT001";
/// A malformed child IIN is refused.
pub const BAD_CHILD: &str = "the place of a malformed child IIN is refused with EDAT002";

/// The queue register's contract, placed at the State Corporation's desk.
pub fn contract() -> Contract {
    let place = |application| PlaceInQueueRequest {
        application,
        district: SHIELI_DISTRICT.into(),
        kindergarten_bin: String::new(),
    };
    let place_at = |district: &str, kindergarten_bin: &str, application: &ServiceApplication| {
        PlaceInQueueRequest {
            application: Some(application.clone()),
            district: district.into(),
            kindergarten_bin: kindergarten_bin.into(),
        }
    };
    let mut valid = at_the_desk(
        PROFILE.service_code,
        PARENT_OF_CHILD_UNDER_7,
        &["application", "identity_document"],
    );
    valid.child_iin = CHILD_UNDER_7.into();
    let position = |child: &str| GetQueuePositionRequest {
        child_iin: child.into(),
    };
    let school_age = ServiceApplication {
        child_iin: CHILD_7_OR_OVER.into(),
        ..valid.clone()
    };
    // Seed `002_…` item 3: a refusal on a Standard item-10 ground is the provider's reasoned
    // answer, which comes to the cabinet later; the register answers that it registered the
    // application, with no position and no referral. None of these queues the child, so the
    // kit may run again and again: a child it placed would be refused as already queued.
    let registered = |answer: &PlaceInQueueResponse, shape: &mut Shape| {
        shape
            .equals("kind", answer.kind(), ResultKind::Unspecified)
            .equals("position", answer.position, 0)
            .equals("referral_number", answer.referral_number.as_str(), "")
            .text("registration_number", &answer.registration_number);
    };
    let mut checks = vec![
        Check::call(
            PLACE_SERVICE_ID,
            SCHOOL_AGE,
            &place_at(SHIELI_DISTRICT, "", &school_age),
        )
        .answered_with(registered),
        Check::call(PLACE_SERVICE_ID, NO_DISTRICT, &place_at("0000", "", &valid))
            .answered_with(registered),
        Check::call(
            PLACE_SERVICE_ID,
            OTHER_DISTRICT,
            &place_at(SHIELI_DISTRICT, KYZGALDAK, &valid),
        )
        .answered_with(registered),
    ];
    checks.extend(intake::checks(&PROFILE, place, &valid));
    checks.extend([
        // A school-age child can never hold a place.
        Check::call(POSITION_SERVICE_ID, NOT_QUEUED, &position(CHILD_7_OR_OVER))
            .refused_with(StatusCode::DataNotFound),
        Check::call(POSITION_SERVICE_ID, BAD_CHILD, &position("12345"))
            .refused_with(StatusCode::InvalidRequest),
        unknown_service(systems::QUEUE),
    ]);
    Contract {
        system: systems::QUEUE,
        caller: systems::STATE_CORPORATION,
        signatory: Signatory::Operator,
        via: Via::Receiver,
        checks,
    }
}
