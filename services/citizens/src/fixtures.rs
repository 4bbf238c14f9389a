//! Named people and organisations with fixed IINs / BINs, loaded on every start next to
//! the generated population: one for each branch of FLOWS.md that needs a known person
//! (FIXTURES.md lists them with their flow branch).
//!
//! Their IINs use serials 9001 and up, which the generator never hands out
//! ([`crate::records::MAX_GENERATED_SERIAL`]), and their BINs serial 90001, so they never
//! collide with generated data, whatever the seed or size.

use egov_core::providers::{self, Organisation};
use egov_core::{Bin, Iin, systems};
use egov_proto::v1::{Kinship, LifeStatus};
use time::Date;
use time::macros::date;

use crate::CitizensError;
use crate::dictionaries::{
    self, ASTANA_ALMATY_DISTRICT as ALMATY, ASTANA_SARYARKA_DISTRICT as SARYARKA,
    ASTANA_YESIL_DISTRICT as YESIL, KAZAKH, KAZAKHSTAN, KOSTANAY_DISTRICT, KYZYLORDA_CITY,
    ORAL_CITY, RUSSIAN, SHIELI_DISTRICT,
};
use crate::records::{
    Batch, NewDocument, NewLegalEntity, NewLink, NewPerson, Place, Residence, add_years, age_at,
};

/// A valid IIN that is never stored: every look-up of it answers EDAT001 ("no data").
pub const PERSON_NOT_IN_DATABASE: &str = "880412399992";
/// A deceased man (Қасымов Болат Серікұлы, died 2024-02-14): DECEASED with a death date.
pub const DECEASED_PERSON: &str = "500310390015";
/// A mother of a child under 7 (Омарова Айгерім Нұрланқызы, Shieli district): service D applicant.
pub const PARENT_OF_CHILD_UNDER_7: &str = "920618490023";
/// The husband of [`PARENT_OF_CHILD_UNDER_7`] and father of her children (Омаров Ерлан Бекұлы).
pub const SPOUSE_OF_PARENT_OF_CHILD_UNDER_7: &str = "900122390037";
/// A boy born 2022-09-05 (Омаров Әлихан Ерланұлы): service D's pre-school child.
pub const CHILD_UNDER_7: &str = "220905590043";
/// His sister born 2016-04-11 (Омарова Аружан Ерланқызы): a child aged 7 or over.
pub const CHILD_7_OR_OVER: &str = "160411690050";
/// A mother of a disabled child schooled at home (Сейітова Сәуле Маратқызы, Astana): service C.
pub const PARENT_OF_DISABLED_CHILD: &str = "841102490063";
/// Her disabled son born 2013-05-20 (Сейітов Нұрсұлтан Асхатұлы), `disabled = true`.
pub const DISABLED_CHILD: &str = "130520590071";
/// An orphan girl with a guardian (Жұмабаева Дана Ержанқызы): `without_parental_care`.
pub const ORPHAN_WITH_GUARDIAN: &str = "150830690087";
/// Her aunt and guardian (Жұмабаева Гүлнар Серікқызы): the GUARDIAN link of the orphan.
pub const GUARDIAN: &str = "751212490092";
/// The orphan's father (Жұмабаев Ержан Серікұлы), deceased 2019-11-03.
pub const DECEASED_FATHER_OF_ORPHAN: &str = "830217390107";
/// A boy left without parental care with no guardian yet (Тұрсынов Айдос Мұратұлы): service F.
pub const CHILD_WITHOUT_GUARDIAN: &str = "180214590116";
/// An unemployed adult (Серіков Нұрлан Қайратұлы, Astana): service B happy path.
pub const UNEMPLOYED_ADULT: &str = "950703390123";
/// An employed adult (Иванова Елена Сергеевна, Astana): service B refusal (employment is
/// held by the Labour Market system; here the person only has to exist).
pub const EMPLOYED_ADULT: &str = "870225490134";
/// A principal who gives a power of attorney (Петров Николай Иванович, Astana).
pub const PRINCIPAL: &str = "481015390147";
/// The principal's representative by power of attorney, his daughter (Петрова Ольга Николаевна).
pub const REPRESENTATIVE: &str = "760330490152";
/// A State Corporation (ЦОН / ХҚО) operator (Әбілова Мадина Ғалымқызы, Astana).
pub const STATE_CORPORATION_OPERATOR: &str = "930909490166";
/// The head of the Astana employment centre (Тоқаев Марат Болатұлы): provider head.
pub const PROVIDER_HEAD: &str = providers::EMPLOYMENT_CENTRE.head.iin;
/// A clerk of the Astana employment centre (Ахметова Жанар Ерболатқызы): provider office.
pub const PROVIDER_CLERK: &str = "901201490184";
/// An executor of the Astana employment centre (Кузнецов Дмитрий Андреевич).
pub const PROVIDER_EXECUTOR: &str = "890617390192";
/// A citizen wishing to adopt a child (Нұрпейісова Гүлмира Талғатқызы, Kostanay district): service A.
pub const ADOPTION_APPLICANT: &str = "850505490201";
/// Her husband (Нұрпейісов Арман Дәуренұлы).
pub const SPOUSE_OF_ADOPTION_APPLICANT: &str = "830808390219";
/// The person responsible for the citizens-DB's seal certificate (Байжанов Ғалым Есенұлы).
pub const CITIZENS_SEAL_HOLDER: &str = "800115390226";
/// The head of the Astana social-protection administration (Есенова Ләззат Мұратқызы).
pub const SOCIAL_PROTECTION_HEAD: &str = providers::SOCIAL_PROTECTION_DEPARTMENT.head.iin;
/// The head of Kostanay district's education department (Мусин Талғат Ерланұлы).
pub const KOSTANAY_EDUCATION_HEAD: &str = providers::KOSTANAY_EDUCATION_DEPARTMENT.head.iin;
/// The head of Oral's education department (Сидоров Андрей Викторович).
pub const ORAL_EDUCATION_HEAD: &str = providers::ORAL_EDUCATION_DEPARTMENT.head.iin;
/// The head of Shieli district's education department (Оспанов Бақытжан Сәрсенұлы).
pub const SHIELI_EDUCATION_HEAD: &str = providers::SHIELI_EDUCATION_DEPARTMENT.head.iin;
/// The head of the Shieli kindergarten (Құрманова Раушан Әбілқызы).
pub const KINDERGARTEN_HEAD: &str = providers::SHIELI_KINDERGARTEN.head.iin;
/// The chairman of the State Corporation (Дүйсенов Қанат Маратұлы).
pub const STATE_CORPORATION_HEAD: &str = "690606390289";
/// A mother of twins and a daughter under 7 (Сәрсенбаева Гүлнұр Асқарқызы, Kyzylorda city):
/// service D applicant in the flow matrix, beside the Омаров family, and principal of its
/// expired and revoked powers of attorney for D.
pub const PARENT_IN_KYZYLORDA: &str = "940322490296";
/// Her son born 2023-04-12 (Сәрсенбаев Нұрали Ерболұлы): a pre-school child of service D.
pub const CHILD_UNDER_7_IN_KYZYLORDA: &str = "230412590302";
/// His twin sister (Сәрсенбаева Інжу Ерболқызы): a pre-school child never queued by the flow
/// matrix, so a refusal that comes after the "already queued" check can be reached with her.
pub const TWIN_OF_CHILD_UNDER_7_IN_KYZYLORDA: &str = "230412690319";
/// Their sister born 2025-02-08 (Сәрсенбаева Томирис Ерболқызы): a pre-school child of service D.
pub const YOUNGEST_CHILD_IN_KYZYLORDA: &str = "250208690323";
/// A mother of two children under 7 (Жақсылықова Мөлдір Бауыржанқызы, Shieli district):
/// service D applicant, and principal of the flow matrix's power of attorney for D in force.
pub const PARENT_IN_SHIELI: &str = "960715490335";
/// Her son born 2024-06-01 (Жақсылықов Алдияр Дәулетұлы): a pre-school child of service D.
pub const CHILD_UNDER_7_IN_SHIELI: &str = "240601590341";
/// His sister born 2025-11-20 (Жақсылықова Айлин Дәулетқызы): a pre-school child of service D.
pub const YOUNGEST_CHILD_IN_SHIELI: &str = "251120690358";

/// The Astana employment centre: service B's provider.
pub const ASTANA_EMPLOYMENT_CENTRE: &str = providers::EMPLOYMENT_CENTRE.bin;
/// The Astana employment and social-protection administration: service C's provider.
pub const ASTANA_SOCIAL_PROTECTION_DEPARTMENT: &str = providers::SOCIAL_PROTECTION_DEPARTMENT.bin;
/// Kostanay district's education department: service A (`000_…`) and F's provider.
pub const KOSTANAY_DISTRICT_EDUCATION_DEPARTMENT: &str =
    providers::KOSTANAY_EDUCATION_DEPARTMENT.bin;
/// Oral's education department: service A (`003_…`) provider.
pub const ORAL_EDUCATION_DEPARTMENT: &str = providers::ORAL_EDUCATION_DEPARTMENT.bin;
/// Shieli district's education department: service D's provider.
pub const SHIELI_EDUCATION_DEPARTMENT: &str = providers::SHIELI_EDUCATION_DEPARTMENT.bin;
/// A Shieli kindergarten: service E's provider.
pub const SHIELI_KINDERGARTEN: &str = providers::SHIELI_KINDERGARTEN.bin;
/// The State Corporation "Government for Citizens": the operator's employer (its system BIN).
pub const STATE_CORPORATION: &str = systems::STATE_CORPORATION.bin;
/// A valid BIN that is never stored: every look-up of it answers EDAT001.
pub const LEGAL_ENTITY_NOT_IN_DATABASE: &str = "111140900015";

/// How many fixture persons are stored (every fixture IIN but [`PERSON_NOT_IN_DATABASE`]).
pub const PERSONS: usize = 35;

/// One fixture person, as written here.
struct Fixture {
    iin: &'static str,
    surname: &'static str,
    name: &'static str,
    patronymic: &'static str,
    nationality: &'static str,
    district: &'static str,
    street: &'static str,
    building: u16,
    flat: Option<u16>,
    death: Option<Date>,
    disabled: bool,
    without_parental_care: bool,
}

/// A living fixture with no flags: one row of the table below, hence the many arguments.
#[allow(clippy::too_many_arguments)]
const fn person(
    iin: &'static str,
    surname: &'static str,
    name: &'static str,
    patronymic: &'static str,
    nationality: &'static str,
    district: &'static str,
    street: &'static str,
    building: u16,
    flat: Option<u16>,
) -> Fixture {
    Fixture {
        iin,
        surname,
        name,
        patronymic,
        nationality,
        district,
        street,
        building,
        flat,
        death: None,
        disabled: false,
        without_parental_care: false,
    }
}

/// Every fixture person.
// One person per line reads as a table; rustfmt would spread each over eleven lines.
#[rustfmt::skip]
fn people() -> [Fixture; PERSONS] {
    [
        Fixture {
            death: Some(date!(2024 - 02 - 14)),
            ..person(DECEASED_PERSON, "Қасымов", "Болат", "Серікұлы", KAZAKH, ALMATY, "ул. Абая", 12, Some(4))
        },
        person(PARENT_OF_CHILD_UNDER_7, "Омарова", "Айгерім", "Нұрланқызы", KAZAKH, SHIELI_DISTRICT, "ул. Желтоксан", 27, None),
        person(SPOUSE_OF_PARENT_OF_CHILD_UNDER_7, "Омаров", "Ерлан", "Бекұлы", KAZAKH, SHIELI_DISTRICT, "ул. Желтоксан", 27, None),
        person(CHILD_UNDER_7, "Омаров", "Әлихан", "Ерланұлы", KAZAKH, SHIELI_DISTRICT, "ул. Желтоксан", 27, None),
        person(CHILD_7_OR_OVER, "Омарова", "Аружан", "Ерланқызы", KAZAKH, SHIELI_DISTRICT, "ул. Желтоксан", 27, None),
        person(PARENT_OF_DISABLED_CHILD, "Сейітова", "Сәуле", "Маратқызы", KAZAKH, SARYARKA, "пр. Республики", 44, Some(81)),
        Fixture {
            disabled: true,
            ..person(DISABLED_CHILD, "Сейітов", "Нұрсұлтан", "Асхатұлы", KAZAKH, SARYARKA, "пр. Республики", 44, Some(81))
        },
        Fixture {
            without_parental_care: true,
            ..person(ORPHAN_WITH_GUARDIAN, "Жұмабаева", "Дана", "Ержанқызы", KAZAKH, KOSTANAY_DISTRICT, "ул. Садовая", 8, None)
        },
        person(GUARDIAN, "Жұмабаева", "Гүлнар", "Серікқызы", KAZAKH, KOSTANAY_DISTRICT, "ул. Садовая", 8, None),
        Fixture {
            death: Some(date!(2019 - 11 - 03)),
            ..person(DECEASED_FATHER_OF_ORPHAN, "Жұмабаев", "Ержан", "Серікұлы", KAZAKH, KOSTANAY_DISTRICT, "ул. Степная", 3, None)
        },
        Fixture {
            without_parental_care: true,
            ..person(CHILD_WITHOUT_GUARDIAN, "Тұрсынов", "Айдос", "Мұратұлы", KAZAKH, KOSTANAY_DISTRICT, "ул. Школьная", 1, None)
        },
        person(UNEMPLOYED_ADULT, "Серіков", "Нұрлан", "Қайратұлы", KAZAKH, YESIL, "ул. Кенесары", 40, Some(17)),
        person(EMPLOYED_ADULT, "Иванова", "Елена", "Сергеевна", RUSSIAN, ALMATY, "ул. Пушкина", 5, Some(32)),
        person(PRINCIPAL, "Петров", "Николай", "Иванович", RUSSIAN, SARYARKA, "ул. Гоголя", 19, Some(7)),
        person(REPRESENTATIVE, "Петрова", "Ольга", "Николаевна", RUSSIAN, SARYARKA, "ул. Гоголя", 21, Some(56)),
        person(STATE_CORPORATION_OPERATOR, "Әбілова", "Мадина", "Ғалымқызы", KAZAKH, YESIL, "ул. Сейфуллина", 9, Some(120)),
        person(PROVIDER_HEAD, "Тоқаев", "Марат", "Болатұлы", KAZAKH, YESIL, "ул. Кунаева", 14, Some(3)),
        person(PROVIDER_CLERK, "Ахметова", "Жанар", "Ерболатқызы", KAZAKH, ALMATY, "ул. Ауэзова", 66, Some(12)),
        person(PROVIDER_EXECUTOR, "Кузнецов", "Дмитрий", "Андреевич", RUSSIAN, SARYARKA, "ул. Мира", 2, Some(45)),
        person(ADOPTION_APPLICANT, "Нұрпейісова", "Гүлмира", "Талғатқызы", KAZAKH, KOSTANAY_DISTRICT, "ул. Молодёжная", 15, None),
        person(SPOUSE_OF_ADOPTION_APPLICANT, "Нұрпейісов", "Арман", "Дәуренұлы", KAZAKH, KOSTANAY_DISTRICT, "ул. Молодёжная", 15, None),
        person(CITIZENS_SEAL_HOLDER, "Байжанов", "Ғалым", "Есенұлы", KAZAKH, YESIL, "пр. Достык", 3, Some(90)),
        person(SOCIAL_PROTECTION_HEAD, "Есенова", "Ләззат", "Мұратқызы", KAZAKH, YESIL, "ул. Тауелсиздик", 25, Some(41)),
        person(KOSTANAY_EDUCATION_HEAD, "Мусин", "Талғат", "Ерланұлы", KAZAKH, KOSTANAY_DISTRICT, "ул. Абая", 30, None),
        person(ORAL_EDUCATION_HEAD, "Сидоров", "Андрей", "Викторович", RUSSIAN, ORAL_CITY, "ул. Чехова", 11, Some(23)),
        person(SHIELI_EDUCATION_HEAD, "Оспанов", "Бақытжан", "Сәрсенұлы", KAZAKH, SHIELI_DISTRICT, "ул. Жамбыла", 6, None),
        person(KINDERGARTEN_HEAD, "Құрманова", "Раушан", "Әбілқызы", KAZAKH, SHIELI_DISTRICT, "ул. Жамбыла", 18, None),
        person(STATE_CORPORATION_HEAD, "Дүйсенов", "Қанат", "Маратұлы", KAZAKH, YESIL, "ул. Кунаева", 2, Some(8)),
        person(PARENT_IN_KYZYLORDA, "Сәрсенбаева", "Гүлнұр", "Асқарқызы", KAZAKH, KYZYLORDA_CITY, "ул. Айтеке би", 54, Some(9)),
        person(CHILD_UNDER_7_IN_KYZYLORDA, "Сәрсенбаев", "Нұрали", "Ерболұлы", KAZAKH, KYZYLORDA_CITY, "ул. Айтеке би", 54, Some(9)),
        person(TWIN_OF_CHILD_UNDER_7_IN_KYZYLORDA, "Сәрсенбаева", "Інжу", "Ерболқызы", KAZAKH, KYZYLORDA_CITY, "ул. Айтеке би", 54, Some(9)),
        person(YOUNGEST_CHILD_IN_KYZYLORDA, "Сәрсенбаева", "Томирис", "Ерболқызы", KAZAKH, KYZYLORDA_CITY, "ул. Айтеке би", 54, Some(9)),
        person(PARENT_IN_SHIELI, "Жақсылықова", "Мөлдір", "Бауыржанқызы", KAZAKH, SHIELI_DISTRICT, "ул. Абая", 7, None),
        person(CHILD_UNDER_7_IN_SHIELI, "Жақсылықов", "Алдияр", "Дәулетұлы", KAZAKH, SHIELI_DISTRICT, "ул. Абая", 7, None),
        person(YOUNGEST_CHILD_IN_SHIELI, "Жақсылықова", "Айлин", "Дәулетқызы", KAZAKH, SHIELI_DISTRICT, "ул. Абая", 7, None),
    ]
}

/// Family links among the fixtures: (person, relative, what the relative is to the person).
const LINKS: [(&str, &str, Kinship); 15] = [
    (
        PARENT_OF_CHILD_UNDER_7,
        SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
        Kinship::Spouse,
    ),
    (PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7, Kinship::Child),
    (PARENT_OF_CHILD_UNDER_7, CHILD_7_OR_OVER, Kinship::Child),
    (
        SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        Kinship::Child,
    ),
    (
        SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
        CHILD_7_OR_OVER,
        Kinship::Child,
    ),
    (PARENT_OF_DISABLED_CHILD, DISABLED_CHILD, Kinship::Child),
    (GUARDIAN, ORPHAN_WITH_GUARDIAN, Kinship::Ward),
    (
        DECEASED_FATHER_OF_ORPHAN,
        ORPHAN_WITH_GUARDIAN,
        Kinship::Child,
    ),
    (PRINCIPAL, REPRESENTATIVE, Kinship::Child),
    (
        ADOPTION_APPLICANT,
        SPOUSE_OF_ADOPTION_APPLICANT,
        Kinship::Spouse,
    ),
    (
        PARENT_IN_KYZYLORDA,
        CHILD_UNDER_7_IN_KYZYLORDA,
        Kinship::Child,
    ),
    (
        PARENT_IN_KYZYLORDA,
        TWIN_OF_CHILD_UNDER_7_IN_KYZYLORDA,
        Kinship::Child,
    ),
    (
        PARENT_IN_KYZYLORDA,
        YOUNGEST_CHILD_IN_KYZYLORDA,
        Kinship::Child,
    ),
    (PARENT_IN_SHIELI, CHILD_UNDER_7_IN_SHIELI, Kinship::Child),
    (PARENT_IN_SHIELI, YOUNGEST_CHILD_IN_SHIELI, Kinship::Child),
];

/// First number of fixture ID cards: below the generated ones (30 000 001 and up).
const FIRST_ID_CARD: u64 = 10_000_000;

fn parse_iin(iin: &str) -> Result<Iin, CitizensError> {
    Iin::parse(iin).map_err(|error| CitizensError::Generate(format!("fixture: {error}")))
}

fn parse_bin(bin: &str) -> Result<Bin, CitizensError> {
    Bin::parse(bin).map_err(|error| CitizensError::Generate(format!("fixture: {error}")))
}

fn place(district: &'static str) -> Result<Place, CitizensError> {
    let entry = dictionaries::district_by_code(district).ok_or_else(|| {
        CitizensError::Generate(format!("fixture district {district} is unknown"))
    })?;
    let locality = entry.localities.first().map_or(district, |l| l.code);
    Ok(Place {
        region: entry.region,
        district,
        locality,
    })
}

/// Returns the fixture persons with their ID cards and family links.
pub fn batch() -> Result<Batch, CitizensError> {
    let mut batch = Batch::default();
    for (index, fixture) in (0u64..).zip(people()) {
        let iin = parse_iin(fixture.iin)?;
        let place = place(fixture.district)?;
        let birth = iin.birth_date();
        let end = fixture.death.unwrap_or(crate::records::CENSUS_DATE);
        let age = age_at(birth, end);
        if age >= 16 {
            let issued = add_years(birth, 16 + (age - 16) / 10 * 10);
            batch.documents.push(NewDocument {
                iin,
                kind: dictionaries::ID_CARD,
                number: format!("{:09}", FIRST_ID_CARD + index + 1),
                issue_date: issued,
                expiry_date: add_years(issued, 10),
                issuer: if issued.year() < 2011 {
                    dictionaries::MINISTRY_OF_JUSTICE
                } else {
                    dictionaries::MINISTRY_OF_INTERNAL_AFFAIRS
                },
            });
        }
        batch.persons.push(NewPerson {
            iin,
            surname: fixture.surname.to_owned(),
            name: fixture.name,
            patronymic: fixture.patronymic.to_owned(),
            death_date: fixture.death,
            life_status: if fixture.death.is_some() {
                LifeStatus::Deceased
            } else {
                LifeStatus::Alive
            },
            nationality: fixture.nationality,
            citizenship: KAZAKHSTAN,
            birth_country: KAZAKHSTAN,
            birth_place: place,
            address: Residence {
                place,
                street: fixture.street,
                building: fixture.building,
                flat: fixture.flat,
            },
            birth_certificate: format!("9{:06}", index + 1),
            birth_certificate_date: birth.next_day().unwrap_or(birth),
            disabled: fixture.disabled,
            without_parental_care: fixture.without_parental_care,
        });
    }
    for (person, relative, kinship) in LINKS {
        batch.links.extend(NewLink::both(
            parse_iin(person)?,
            parse_iin(relative)?,
            kinship,
        ));
    }
    Ok(batch)
}

/// Returns the fixture legal entities: the flows' providers and the State Corporation.
pub fn legal_entities() -> Result<Vec<NewLegalEntity>, CitizensError> {
    let entity = |bin: &str,
                  name_kk: &str,
                  name_ru: &str,
                  kind: &'static str,
                  district: &'static str,
                  street: &'static str,
                  head: &str,
                  registered: Date|
     -> Result<NewLegalEntity, CitizensError> {
        Ok(NewLegalEntity {
            bin: parse_bin(bin)?,
            name_kk: name_kk.to_owned(),
            name_ru: name_ru.to_owned(),
            kind,
            address: Residence {
                place: place(district)?,
                street,
                building: 1,
                flat: None,
            },
            head: parse_iin(head)?,
            registration_date: registered,
        })
    };
    // The providers' names and heads are egov_core's, which the back office signs under.
    let provider = |organisation: Organisation,
                    kind: &'static str,
                    district: &'static str,
                    street: &'static str,
                    registered: Date| {
        entity(
            organisation.bin,
            organisation.name_kk,
            organisation.name_ru,
            kind,
            district,
            street,
            organisation.head.iin,
            registered,
        )
    };
    Ok(vec![
        provider(
            providers::EMPLOYMENT_CENTRE,
            dictionaries::EMPLOYMENT_CENTRE,
            YESIL,
            "ул. Кенесары",
            date!(2009 - 05 - 14),
        )?,
        provider(
            providers::SOCIAL_PROTECTION_DEPARTMENT,
            dictionaries::SOCIAL_PROTECTION_DEPARTMENT,
            YESIL,
            "ул. Тауелсиздик",
            date!(2012 - 01 - 20),
        )?,
        provider(
            providers::KOSTANAY_EDUCATION_DEPARTMENT,
            dictionaries::EDUCATION_DEPARTMENT,
            KOSTANAY_DISTRICT,
            "ул. Абая",
            date!(2005 - 08 - 02),
        )?,
        provider(
            providers::ORAL_EDUCATION_DEPARTMENT,
            dictionaries::EDUCATION_DEPARTMENT,
            ORAL_CITY,
            "ул. Чехова",
            date!(2003 - 02 - 11),
        )?,
        provider(
            providers::SHIELI_EDUCATION_DEPARTMENT,
            dictionaries::EDUCATION_DEPARTMENT,
            SHIELI_DISTRICT,
            "ул. Жамбыла",
            date!(2007 - 10 - 09),
        )?,
        provider(
            providers::SHIELI_KINDERGARTEN,
            dictionaries::KINDERGARTEN,
            SHIELI_DISTRICT,
            "ул. Желтоксан",
            date!(2014 - 06 - 16),
        )?,
        entity(
            STATE_CORPORATION,
            "«Азаматтарға арналған үкімет» мемлекеттік корпорациясы» КЕАҚ",
            "НАО «Государственная корпорация «Правительство для граждан»»",
            dictionaries::STATE_CORPORATION,
            YESIL,
            "пр. Республики",
            STATE_CORPORATION_HEAD,
            date!(2016 - 03 - 01),
        )?,
    ])
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use egov_core::iin::Sex;

    use super::*;
    use crate::records::CENSUS_DATE;
    use crate::records::MAX_GENERATED_SERIAL;

    #[test]
    fn every_providers_head_is_a_stored_person_named_as_egov_core_names_them() {
        let batch = batch().expect("fixtures");
        let entities = legal_entities().expect("entities");
        for organisation in providers::ALL {
            let head = batch
                .persons
                .iter()
                .find(|person| person.iin.as_str() == organisation.head.iin)
                .unwrap_or_else(|| panic!("{}'s head is stored", organisation.key));
            assert_eq!(
                head.surname, organisation.head.surname,
                "{}",
                organisation.key
            );
            assert_eq!(
                head.name, organisation.head.given_name,
                "{}",
                organisation.key
            );
            let entity = entities
                .iter()
                .find(|entity| entity.bin.as_str() == organisation.bin)
                .unwrap_or_else(|| panic!("{} is a stored legal entity", organisation.key));
            assert_eq!(entity.head.as_str(), organisation.head.iin);
        }
    }

    /// Every fixture IIN with the birth date, sex and serial it was computed from.
    const COMPUTED: [(&str, Date, Sex, u16); 36] = [
        (
            PERSON_NOT_IN_DATABASE,
            date!(1988 - 04 - 12),
            Sex::Male,
            9999,
        ),
        (DECEASED_PERSON, date!(1950 - 03 - 10), Sex::Male, 9001),
        (
            PARENT_OF_CHILD_UNDER_7,
            date!(1992 - 06 - 18),
            Sex::Female,
            9002,
        ),
        (
            SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
            date!(1990 - 01 - 22),
            Sex::Male,
            9003,
        ),
        (CHILD_UNDER_7, date!(2022 - 09 - 05), Sex::Male, 9004),
        (CHILD_7_OR_OVER, date!(2016 - 04 - 11), Sex::Female, 9005),
        (
            PARENT_OF_DISABLED_CHILD,
            date!(1984 - 11 - 02),
            Sex::Female,
            9006,
        ),
        (DISABLED_CHILD, date!(2013 - 05 - 20), Sex::Male, 9007),
        (
            ORPHAN_WITH_GUARDIAN,
            date!(2015 - 08 - 30),
            Sex::Female,
            9008,
        ),
        (GUARDIAN, date!(1975 - 12 - 12), Sex::Female, 9009),
        (
            DECEASED_FATHER_OF_ORPHAN,
            date!(1983 - 02 - 17),
            Sex::Male,
            9010,
        ),
        (
            CHILD_WITHOUT_GUARDIAN,
            date!(2018 - 02 - 14),
            Sex::Male,
            9011,
        ),
        (UNEMPLOYED_ADULT, date!(1995 - 07 - 03), Sex::Male, 9012),
        (EMPLOYED_ADULT, date!(1987 - 02 - 25), Sex::Female, 9013),
        (PRINCIPAL, date!(1948 - 10 - 15), Sex::Male, 9014),
        (REPRESENTATIVE, date!(1976 - 03 - 30), Sex::Female, 9015),
        (
            STATE_CORPORATION_OPERATOR,
            date!(1993 - 09 - 09),
            Sex::Female,
            9016,
        ),
        (PROVIDER_HEAD, date!(1972 - 04 - 04), Sex::Male, 9017),
        (PROVIDER_CLERK, date!(1990 - 12 - 01), Sex::Female, 9018),
        (PROVIDER_EXECUTOR, date!(1989 - 06 - 17), Sex::Male, 9019),
        (ADOPTION_APPLICANT, date!(1985 - 05 - 05), Sex::Female, 9020),
        (
            SPOUSE_OF_ADOPTION_APPLICANT,
            date!(1983 - 08 - 08),
            Sex::Male,
            9021,
        ),
        (CITIZENS_SEAL_HOLDER, date!(1980 - 01 - 15), Sex::Male, 9022),
        (
            SOCIAL_PROTECTION_HEAD,
            date!(1970 - 07 - 07),
            Sex::Female,
            9023,
        ),
        (
            KOSTANAY_EDUCATION_HEAD,
            date!(1968 - 03 - 03),
            Sex::Male,
            9024,
        ),
        (ORAL_EDUCATION_HEAD, date!(1974 - 09 - 19), Sex::Male, 9025),
        (
            SHIELI_EDUCATION_HEAD,
            date!(1971 - 11 - 11),
            Sex::Male,
            9026,
        ),
        (KINDERGARTEN_HEAD, date!(1979 - 02 - 02), Sex::Female, 9027),
        (
            STATE_CORPORATION_HEAD,
            date!(1969 - 06 - 06),
            Sex::Male,
            9028,
        ),
        (
            PARENT_IN_KYZYLORDA,
            date!(1994 - 03 - 22),
            Sex::Female,
            9029,
        ),
        (
            CHILD_UNDER_7_IN_KYZYLORDA,
            date!(2023 - 04 - 12),
            Sex::Male,
            9030,
        ),
        (
            TWIN_OF_CHILD_UNDER_7_IN_KYZYLORDA,
            date!(2023 - 04 - 12),
            Sex::Female,
            9031,
        ),
        (
            YOUNGEST_CHILD_IN_KYZYLORDA,
            date!(2025 - 02 - 08),
            Sex::Female,
            9032,
        ),
        (PARENT_IN_SHIELI, date!(1996 - 07 - 15), Sex::Female, 9033),
        (
            CHILD_UNDER_7_IN_SHIELI,
            date!(2024 - 06 - 01),
            Sex::Male,
            9034,
        ),
        (
            YOUNGEST_CHILD_IN_SHIELI,
            date!(2025 - 11 - 20),
            Sex::Female,
            9035,
        ),
    ];

    #[test]
    fn every_fixture_iin_is_the_official_iin_of_its_birth_date_sex_and_serial() {
        for (iin, birth, sex, serial) in COMPUTED {
            let generated = Iin::generate(birth, sex, serial).expect("assignable serial");
            assert_eq!(generated.as_str(), iin);
            let parsed = Iin::parse(iin).expect("valid IIN");
            assert_eq!((parsed.birth_date(), parsed.sex()), (birth, sex));
            assert!(
                parsed.serial() > MAX_GENERATED_SERIAL,
                "{iin} could be generated"
            );
        }
    }

    #[test]
    fn every_fixture_bin_is_valid_and_the_missing_ones_are_never_stored() {
        let entities = legal_entities().expect("fixtures build");
        let stored: HashSet<&str> = entities.iter().map(|e| e.bin.as_str()).collect();
        assert_eq!(stored.len(), entities.len());
        assert!(!stored.contains(LEGAL_ENTITY_NOT_IN_DATABASE));
        Bin::parse(LEGAL_ENTITY_NOT_IN_DATABASE).expect("valid BIN");
        let batch = batch().expect("fixtures build");
        let persons: HashSet<Iin> = batch.persons.iter().map(|p| p.iin).collect();
        assert_eq!(persons.len(), batch.persons.len());
        assert!(!persons.iter().any(|p| p.as_str() == PERSON_NOT_IN_DATABASE));
        assert_eq!(persons.len() + 1, COMPUTED.len());
        for entity in &entities {
            assert!(persons.contains(&entity.head), "{} head", entity.bin);
        }
    }

    #[test]
    fn the_fixture_children_have_the_ages_their_flows_need() {
        let age = |iin: &str| age_at(Iin::parse(iin).expect("valid").birth_date(), CENSUS_DATE);
        assert!(age(CHILD_UNDER_7) < 7);
        assert!(age(CHILD_7_OR_OVER) >= 7);
        // The flow matrix's pre-school children: born on or after 2023, under 7 until 2030.
        for child in [
            CHILD_UNDER_7_IN_KYZYLORDA,
            TWIN_OF_CHILD_UNDER_7_IN_KYZYLORDA,
            YOUNGEST_CHILD_IN_KYZYLORDA,
            CHILD_UNDER_7_IN_SHIELI,
            YOUNGEST_CHILD_IN_SHIELI,
        ] {
            let birth = Iin::parse(child).expect("valid").birth_date();
            assert!(
                birth >= date!(2023 - 01 - 01) && birth < CENSUS_DATE,
                "{child}"
            );
        }
        // Still under 7 in the stack's lifetime: born 2022-09-05, seven on 2029-09-05.
        assert!(Iin::parse(CHILD_UNDER_7).expect("valid").birth_date() > date!(2022 - 09 - 01));
        assert!(age(DISABLED_CHILD) >= 7 && age(DISABLED_CHILD) < 18);
        assert!(age(ORPHAN_WITH_GUARDIAN) < 18);
        for adult in [
            UNEMPLOYED_ADULT,
            EMPLOYED_ADULT,
            ADOPTION_APPLICANT,
            REPRESENTATIVE,
        ] {
            assert!(age(adult) >= 18);
        }
    }
}
