//! The notary registry's contract (БНАЖ / ЕНИС): `notary.power-of-attorney.get` and
//! `notary.power-of-attorney.find`, over the fixture powers of attorney of
//! `egov_notary::fixtures` (one per validity), which a replacement must hold too.

use egov_core::StatusCode;
use egov_core::systems;
use egov_notary::fixtures::{
    EXPIRED_NUMBER, EXPIRED_PRINCIPAL_IIN, EXPIRED_REPRESENTATIVE_IIN, REVOKED_NUMBER,
    SERVICE_C_CODE, SERVICE_C_NUMBER, UNKNOWN_NUMBER, VALID_NUMBER, VALID_PRINCIPAL_IIN,
    VALID_REPRESENTATIVE_IIN,
};
use egov_notary::{FIND_SERVICE_ID, GET_SERVICE_ID};
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyResponse,
    PowerOfAttorneyValidity,
};

use super::{Contract, Signatory, Via, unknown_service};
use crate::check::{Check, Shape};

/// A power in force is valid.
pub const IN_FORCE: &str = "a power of attorney in force is answered VALID with its record";
/// An expired power is expired.
pub const EXPIRED: &str = "an expired power of attorney is answered EXPIRED with its record";
/// A revoked power is revoked.
pub const REVOKED: &str = "a revoked power of attorney is answered REVOKED with its record";
/// An unknown number is an answer, not a fault.
pub const UNKNOWN: &str = "an unknown number is answered NOT_FOUND without a record";
/// A power for another service does not cover the one asked.
pub const NOT_COVERED: &str =
    "a power of attorney for another service is answered SERVICE_NOT_COVERED";
/// A find by the pair prefers the valid power.
pub const FIND_VALID: &str = "a find by principal and representative prefers the valid power";
/// A find of an expired pair is expired.
pub const FIND_EXPIRED: &str = "a find of a pair whose only power expired is answered EXPIRED";
/// A find of a pair with no power is not found.
pub const FIND_NONE: &str = "a find of a pair with no power between them is answered NOT_FOUND";
/// An empty number is refused.
pub const EMPTY_NUMBER: &str = "an empty number is refused with EDAT002";
/// A malformed service id is refused.
pub const BAD_SERVICE: &str = "a malformed service id is refused with EDAT002";
/// A malformed IIN is refused.
pub const BAD_IIN: &str = "a principal IIN with a wrong check digit is refused with EDAT002";
/// A payload of another type is refused.
pub const WRONG_PAYLOAD: &str = "a payload of another type is refused with EDAT002";

/// The notary registry's contract, called as the State Corporation calls it.
pub fn contract() -> Contract {
    let get = |number: &str, service_id: &str| GetPowerOfAttorneyRequest {
        number: number.into(),
        service_id: service_id.into(),
    };
    let find = |principal: &str, representative: &str| FindPowerOfAttorneyRequest {
        principal_iin: principal.into(),
        representative_iin: representative.into(),
        service_id: String::new(),
    };
    let answered = |validity: PowerOfAttorneyValidity, number: &'static str| {
        move |answer: &PowerOfAttorneyResponse, shape: &mut Shape| {
            power_shape(answer, validity, Some(number), shape)
        }
    };
    let not_found = |answer: &PowerOfAttorneyResponse, shape: &mut Shape| {
        power_shape(answer, PowerOfAttorneyValidity::NotFound, None, shape)
    };
    Contract {
        system: systems::NOTARY,
        caller: systems::STATE_CORPORATION,
        signatory: Signatory::Seal,
        via: Via::Receiver,
        checks: vec![
            Check::call(GET_SERVICE_ID, IN_FORCE, &get(VALID_NUMBER, "B"))
                .answered_with(answered(PowerOfAttorneyValidity::Valid, VALID_NUMBER)),
            Check::call(GET_SERVICE_ID, EXPIRED, &get(EXPIRED_NUMBER, ""))
                .answered_with(answered(PowerOfAttorneyValidity::Expired, EXPIRED_NUMBER)),
            Check::call(GET_SERVICE_ID, REVOKED, &get(REVOKED_NUMBER, "B"))
                .answered_with(answered(PowerOfAttorneyValidity::Revoked, REVOKED_NUMBER)),
            Check::call(GET_SERVICE_ID, UNKNOWN, &get(UNKNOWN_NUMBER, "B"))
                .answered_with(not_found),
            Check::call(GET_SERVICE_ID, NOT_COVERED, &get(SERVICE_C_NUMBER, "B")).answered_with(
                answered(PowerOfAttorneyValidity::ServiceNotCovered, SERVICE_C_NUMBER),
            ),
            Check::call(
                FIND_SERVICE_ID,
                FIND_VALID,
                &FindPowerOfAttorneyRequest {
                    service_id: "B".into(),
                    ..find(VALID_PRINCIPAL_IIN, VALID_REPRESENTATIVE_IIN)
                },
            )
            .answered_with(answered(PowerOfAttorneyValidity::Valid, VALID_NUMBER)),
            Check::call(
                FIND_SERVICE_ID,
                FIND_EXPIRED,
                &find(EXPIRED_PRINCIPAL_IIN, EXPIRED_REPRESENTATIVE_IIN),
            )
            .answered_with(answered(PowerOfAttorneyValidity::Expired, EXPIRED_NUMBER)),
            Check::call(
                FIND_SERVICE_ID,
                FIND_NONE,
                &find(VALID_REPRESENTATIVE_IIN, VALID_PRINCIPAL_IIN),
            )
            .answered_with(not_found),
            Check::call(GET_SERVICE_ID, EMPTY_NUMBER, &get("", "B"))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(GET_SERVICE_ID, BAD_SERVICE, &get(VALID_NUMBER, "G"))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(
                FIND_SERVICE_ID,
                BAD_IIN,
                &find("850102300132", VALID_REPRESENTATIVE_IIN),
            )
            .refused_with(StatusCode::InvalidRequest),
            Check::call(
                GET_SERVICE_ID,
                WRONG_PAYLOAD,
                &find(VALID_PRINCIPAL_IIN, VALID_REPRESENTATIVE_IIN),
            )
            .refused_with(StatusCode::InvalidRequest),
            unknown_service(systems::NOTARY),
        ],
    }
}

/// The answer's validity, and the record it must (or must not) carry.
fn power_shape(
    answer: &PowerOfAttorneyResponse,
    validity: PowerOfAttorneyValidity,
    number: Option<&str>,
    shape: &mut Shape,
) {
    shape.equals(
        "validity",
        PowerOfAttorneyValidity::try_from(answer.validity).ok(),
        Some(validity),
    );
    match (number, &answer.power_of_attorney) {
        (None, None) => {}
        (None, Some(_)) => {
            shape.holds(false, || {
                "field power_of_attorney is set on a NOT_FOUND answer".into()
            });
        }
        (Some(_), None) => {
            shape.present("power_of_attorney", false);
        }
        (Some(number), Some(power)) => {
            shape
                .equals("power_of_attorney.number", power.number.as_str(), number)
                .iin("power_of_attorney.principal_iin", &power.principal_iin)
                .iin(
                    "power_of_attorney.representative_iin",
                    &power.representative_iin,
                )
                .text("power_of_attorney.notary_name", &power.notary_name)
                .date("power_of_attorney.issue_date", power.issue_date.as_ref())
                .date("power_of_attorney.expiry_date", power.expiry_date.as_ref())
                .equals(
                    "power_of_attorney.revoked",
                    power.revoked,
                    validity == PowerOfAttorneyValidity::Revoked,
                );
            if number == SERVICE_C_NUMBER {
                shape.equals(
                    "power_of_attorney.service_ids",
                    power.service_ids.as_slice(),
                    [SERVICE_C_CODE.to_owned()].as_slice(),
                );
            }
        }
    }
}
