//! The national gateway's own contract (ЭҮШ / ШЭП), for a real gateway put in its place: its
//! `Gateway.SendMessage` refuses an unsigned request (`ESIG001`), a request changed after
//! signing (`ESIG002`), a service id it has no route for (`ESRV001`) and a repeated message id
//! (`EMSG003`), and relays a good request to the citizens-DB and its signed answer back.

use egov_citizens::PERSON_GET;
use egov_citizens::fixtures::{PERSON_NOT_IN_DATABASE, UNEMPLOYED_ADULT};
use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::{GetPersonRequest, GetPersonResponse};

use super::{Contract, Signatory, Via};
use crate::check::{Check, Tamper};

/// A good request is relayed and its answer returned.
pub const RELAYED: &str =
    "a signed request on a route is relayed and the target's signed answer returned";
/// A target's refusal is relayed as its signed answer.
pub const REFUSAL_RELAYED: &str = "a target's refusal is returned as its signed answer (EDAT001)";
/// An unsigned request is refused.
pub const UNSIGNED: &str = "an unsigned request is refused with ESIG001";
/// A request changed after signing is refused.
pub const TAMPERED: &str = "a request whose payload changed after signing is refused with ESIG002";
/// A service id without a route is refused.
pub const UNKNOWN_SERVICE: &str = "a service id without a route is refused with ESRV001";
/// A repeated message id is refused.
pub const REPEATED: &str = "a message id sent a second time is refused with EMSG003";

/// The gateway's contract: the portal calling the citizens-DB through it.
pub fn contract() -> Contract {
    let person = |iin: &str| GetPersonRequest { iin: iin.into() };
    Contract {
        system: systems::GATEWAY,
        caller: systems::PORTAL,
        signatory: Signatory::Seal,
        via: Via::Gateway {
            target: systems::CITIZENS,
        },
        checks: vec![
            Check::call(PERSON_GET, RELAYED, &person(UNEMPLOYED_ADULT)).answered_with(
                |answer: &GetPersonResponse, shape| {
                    shape.equals(
                        "person.iin",
                        answer.person.as_ref().map(|person| person.iin.as_str()),
                        Some(UNEMPLOYED_ADULT),
                    );
                },
            ),
            Check::call(PERSON_GET, REFUSAL_RELAYED, &person(PERSON_NOT_IN_DATABASE))
                .refused_with(StatusCode::DataNotFound),
            Check::call(PERSON_GET, UNSIGNED, &person(UNEMPLOYED_ADULT))
                .refused_with(StatusCode::SignatureMissing)
                .tampered(Tamper::Unsigned),
            Check::call(PERSON_GET, TAMPERED, &person(UNEMPLOYED_ADULT))
                .refused_with(StatusCode::InvalidSignature)
                .tampered(Tamper::PayloadChanged),
            Check::call(
                "citizens.no-such-service",
                UNKNOWN_SERVICE,
                &person(UNEMPLOYED_ADULT),
            )
            .refused_with(StatusCode::UnknownService),
            // The first sending is a good request; the same envelope again is judged.
            Check::call(PERSON_GET, REPEATED, &person(UNEMPLOYED_ADULT))
                .refused_with(StatusCode::DuplicateMessageId)
                .tampered(Tamper::SentTwice),
        ],
    }
}
