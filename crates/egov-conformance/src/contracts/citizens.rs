//! The citizens-DB's contract (ЖТ МДБ / ГБД ФЛ, ЗТ МДБ / ГБД ЮЛ): `citizens.person.get`,
//! `citizens.legal-entity.get` and `citizens.family.get`, over the fixture people and
//! organisations of `egov_citizens::fixtures`, which a replacement must hold too.

use egov_citizens::fixtures::{
    ASTANA_EMPLOYMENT_CENTRE, CHILD_UNDER_7, DECEASED_PERSON, LEGAL_ENTITY_NOT_IN_DATABASE,
    PARENT_OF_CHILD_UNDER_7, PERSON_NOT_IN_DATABASE, UNEMPLOYED_ADULT,
};
use egov_citizens::{FAMILY_GET, LEGAL_ENTITY_GET, PERSON_GET};
use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::{
    GetFamilyRequest, GetFamilyResponse, GetLegalEntityRequest, GetLegalEntityResponse,
    GetPersonRequest, GetPersonResponse, Kinship, LifeStatus, Person,
};

use super::{Contract, Signatory, Via, unknown_service};
use crate::check::{Check, Shape};

/// A known person is answered with their record.
pub const KNOWN_PERSON: &str = "a known IIN is answered with the person's record";
/// A deceased person's record carries the death.
pub const DECEASED: &str = "a deceased person is answered as deceased with a death date";
/// An IIN not in the database is refused with `EDAT001`.
pub const UNKNOWN_PERSON: &str = "an IIN not in the database is refused with EDAT001";
/// An IIN whose check digit is wrong is refused with `EDAT002`.
pub const BAD_CHECK_DIGIT: &str = "an IIN with a wrong check digit is refused with EDAT002";
/// An IIN with a letter in it is refused with `EDAT002`.
pub const NOT_DIGITS: &str = "an IIN with a letter in it is refused with EDAT002";
/// An empty IIN is refused with `EDAT002`.
pub const EMPTY_IIN: &str = "an empty IIN is refused with EDAT002";
/// A payload of another type is refused with `EDAT002`.
pub const WRONG_PAYLOAD: &str = "a payload of another type is refused with EDAT002";
/// A known legal entity is answered with its record.
pub const KNOWN_ENTITY: &str = "a known BIN is answered with the legal entity's record";
/// A BIN not in the database is refused with `EDAT001`.
pub const UNKNOWN_ENTITY: &str = "a BIN not in the database is refused with EDAT001";
/// A BIN too short is refused with `EDAT002`.
pub const SHORT_BIN: &str = "a BIN of ten digits is refused with EDAT002";
/// A parent's family holds the child.
pub const PARENT_FAMILY: &str = "a parent's family links hold the child, each link a relative";
/// A person without relatives is answered with no links.
pub const NO_FAMILY: &str = "a person without relatives is answered with no links";
/// The family of an IIN not in the database is refused with `EDAT001`.
pub const UNKNOWN_FAMILY: &str = "the family of an IIN not in the database is refused with EDAT001";
/// The family of a malformed IIN is refused with `EDAT002`.
pub const MALFORMED_FAMILY: &str = "the family of a malformed IIN is refused with EDAT002";

/// The citizens-DB's contract, called as the portal calls it.
pub fn contract() -> Contract {
    let person = |iin: &str| GetPersonRequest { iin: iin.into() };
    let family = |iin: &str| GetFamilyRequest { iin: iin.into() };
    let entity = |bin: &str| GetLegalEntityRequest { bin: bin.into() };
    Contract {
        system: systems::CITIZENS,
        caller: systems::PORTAL,
        signatory: Signatory::Seal,
        via: Via::Receiver,
        checks: vec![
            Check::call(PERSON_GET, KNOWN_PERSON, &person(UNEMPLOYED_ADULT)).answered_with(
                |answer: &GetPersonResponse, shape| {
                    person_shape(answer.person.as_ref(), "person", shape);
                    if let Some(person) = &answer.person {
                        shape
                            .equals("person.iin", person.iin.as_str(), UNEMPLOYED_ADULT)
                            .equals(
                                "person.life_status",
                                person.life_status,
                                LifeStatus::Alive as i32,
                            )
                            .present("person.documents", !person.documents.is_empty());
                    }
                },
            ),
            Check::call(PERSON_GET, DECEASED, &person(DECEASED_PERSON)).answered_with(
                |answer: &GetPersonResponse, shape| {
                    person_shape(answer.person.as_ref(), "person", shape);
                    if let Some(person) = &answer.person {
                        shape
                            .equals(
                                "person.life_status",
                                person.life_status,
                                LifeStatus::Deceased as i32,
                            )
                            .date("person.death_date", person.death_date.as_ref());
                    }
                },
            ),
            Check::call(PERSON_GET, UNKNOWN_PERSON, &person(PERSON_NOT_IN_DATABASE))
                .refused_with(StatusCode::DataNotFound),
            Check::call(PERSON_GET, BAD_CHECK_DIGIT, &person("880412399993"))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(PERSON_GET, NOT_DIGITS, &person("88041239999X"))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(PERSON_GET, EMPTY_IIN, &person(""))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(PERSON_GET, WRONG_PAYLOAD, &entity(ASTANA_EMPLOYMENT_CENTRE))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(
                LEGAL_ENTITY_GET,
                KNOWN_ENTITY,
                &entity(ASTANA_EMPLOYMENT_CENTRE),
            )
            .answered_with(|answer: &GetLegalEntityResponse, shape| {
                let Some(entity) = &answer.legal_entity else {
                    shape.present("legal_entity", false);
                    return;
                };
                shape
                    .equals(
                        "legal_entity.bin",
                        entity.bin.as_str(),
                        ASTANA_EMPLOYMENT_CENTRE,
                    )
                    .text("legal_entity.name_kk", &entity.name_kk)
                    .text("legal_entity.name_ru", &entity.name_ru)
                    .present("legal_entity.kind", entity.kind.is_some())
                    .present("legal_entity.address", entity.address.is_some())
                    .iin("legal_entity.head_iin", &entity.head_iin)
                    .date(
                        "legal_entity.registration_date",
                        entity.registration_date.as_ref(),
                    );
            }),
            Check::call(
                LEGAL_ENTITY_GET,
                UNKNOWN_ENTITY,
                &entity(LEGAL_ENTITY_NOT_IN_DATABASE),
            )
            .refused_with(StatusCode::DataNotFound),
            Check::call(LEGAL_ENTITY_GET, SHORT_BIN, &entity("0905409000"))
                .refused_with(StatusCode::InvalidRequest),
            Check::call(FAMILY_GET, PARENT_FAMILY, &family(PARENT_OF_CHILD_UNDER_7)).answered_with(
                |answer: &GetFamilyResponse, shape| {
                    shape.present("links", !answer.links.is_empty());
                    for (index, link) in answer.links.iter().enumerate() {
                        shape.holds(link.kinship != Kinship::Unspecified as i32, || {
                            format!("field links[{index}].kinship is unspecified")
                        });
                        person_shape(
                            link.relative.as_ref(),
                            &format!("links[{index}].relative"),
                            shape,
                        );
                    }
                    let child = answer.links.iter().any(|link| {
                        link.kinship == Kinship::Child as i32
                            && link
                                .relative
                                .as_ref()
                                .is_some_and(|p| p.iin == CHILD_UNDER_7)
                    });
                    shape.holds(child, || {
                        format!("links hold no CHILD link to {CHILD_UNDER_7}")
                    });
                },
            ),
            Check::call(FAMILY_GET, NO_FAMILY, &family(UNEMPLOYED_ADULT)).answered_with(
                |answer: &GetFamilyResponse, shape| {
                    shape.equals("links.len()", answer.links.len(), 0);
                },
            ),
            Check::call(FAMILY_GET, UNKNOWN_FAMILY, &family(PERSON_NOT_IN_DATABASE))
                .refused_with(StatusCode::DataNotFound),
            Check::call(FAMILY_GET, MALFORMED_FAMILY, &family("12345"))
                .refused_with(StatusCode::InvalidRequest),
            unknown_service(systems::CITIZENS),
        ],
    }
}

/// The fields every person record carries.
fn person_shape(person: Option<&Person>, path: &str, shape: &mut Shape) {
    let Some(person) = person else {
        shape.present(path, false);
        return;
    };
    shape
        .iin(&format!("{path}.iin"), &person.iin)
        .text(&format!("{path}.surname"), &person.surname)
        .text(&format!("{path}.name"), &person.name)
        .date(&format!("{path}.birth_date"), person.birth_date.as_ref())
        .holds(person.gender != 0, || {
            format!("field {path}.gender is unspecified")
        })
        .holds(person.life_status != 0, || {
            format!("field {path}.life_status is unspecified")
        })
        .present(
            &format!("{path}.registration_address"),
            person.registration_address.is_some(),
        );
}
