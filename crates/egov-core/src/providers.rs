//! The provider organisations (көрсетілетін қызметті беруші / услугодатель) as they are: each a
//! legal entity of the citizens-DB with its BIN and its head (басшы / руководитель), and which
//! of them decides each service A–F of FLOWS.md.
//!
//! One table, so the citizens-DB's fixtures store these legal entities, the back office enrols
//! each head's HEAD certificate under its organisation's BIN, and every receiver of a result
//! checks that the head who signed it belongs to the organisation that decides the service.

use crate::systems;

/// The head of a provider organisation, as the citizens-DB holds them and their HEAD
/// certificate names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// The head's IIN.
    pub iin: &'static str,
    /// The head's surname.
    pub surname: &'static str,
    /// The head's given name.
    pub given_name: &'static str,
}

/// A provider organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Organisation {
    /// A short key, lower snake case: config keys, env vars and token files name it.
    pub key: &'static str,
    /// The BIN of the legal entity (the citizens-DB's, and OU=BIN… of its head's certificate).
    pub bin: &'static str,
    /// The name in Kazakh.
    pub name_kk: &'static str,
    /// The name in Russian.
    pub name_ru: &'static str,
    /// Its head.
    pub head: Head,
}

/// The Astana employment centre: service B's provider (FLOWS.md, service B: «the city
/// Employment Centre»).
pub const EMPLOYMENT_CENTRE: Organisation = Organisation {
    key: "employment_centre",
    bin: "090540900010",
    name_kk: "Астана қаласы әкімдігінің «Халықты жұмыспен қамту орталығы» КММ",
    name_ru: "КГУ «Центр занятости населения» акимата города Астаны",
    head: Head {
        iin: "720404390170",
        surname: "Тоқаев",
        given_name: "Марат",
    },
};

/// The Astana employment and social-protection administration: service C's provider
/// (FLOWS.md, service C: «the city Department of Employment, Labour and Social Protection»).
pub const SOCIAL_PROTECTION_DEPARTMENT: Organisation = Organisation {
    key: "social_protection_department",
    bin: "120140900014",
    name_kk: "«Астана қаласының Жұмыспен қамту және әлеуметтік қорғау басқармасы» ММ",
    name_ru: "ГУ «Управление занятости и социальной защиты города Астаны»",
    head: Head {
        iin: "700707490230",
        surname: "Есенова",
        given_name: "Ләззат",
    },
};

/// Kostanay district's education department: service A's provider (seed `000_…` item 1:
/// «аудандардың және облыстық маңызы бар қалалардың білім бөлімдері») and, as the district's
/// guardianship body, service F's.
pub const KOSTANAY_EDUCATION_DEPARTMENT: Organisation = Organisation {
    key: "kostanay_education_department",
    bin: "050840900014",
    name_kk: "«Қостанай ауданы әкімдігінің білім бөлімі» ММ",
    name_ru: "ГУ «Отдел образования акимата Костанайского района»",
    head: Head {
        iin: "680303390240",
        surname: "Мусин",
        given_name: "Талғат",
    },
};

/// Oral's education department: service A's provider in seed `003_…` (West Kazakhstan); the
/// back office decides A for Kostanay district, so this one signs nothing here.
pub const ORAL_EDUCATION_DEPARTMENT: Organisation = Organisation {
    key: "oral_education_department",
    bin: "030240900019",
    name_kk: "«Орал қаласының білім бөлімі» ММ",
    name_ru: "ГУ «Отдел образования города Уральска»",
    head: Head {
        iin: "740919390253",
        surname: "Сидоров",
        given_name: "Андрей",
    },
};

/// Shieli district's education department: service D's provider (seed `002_…` item 1), whose
/// regulation names no head (see [`result_signer`]).
pub const SHIELI_EDUCATION_DEPARTMENT: Organisation = Organisation {
    key: "shieli_education_department",
    bin: "071040900011",
    name_kk: "«Шиелі ауданының білім бөлімі» ММ",
    name_ru: "ГУ «Шиелийский районный отдел образования»",
    head: Head {
        iin: "711111390268",
        surname: "Оспанов",
        given_name: "Бақытжан",
    },
};

/// A Shieli kindergarten: service E's provider (FLOWS.md, service E: «pre-school
/// organisations of every type»).
pub const SHIELI_KINDERGARTEN: Organisation = Organisation {
    key: "shieli_kindergarten",
    bin: "140640900016",
    name_kk: "«Шиелі ауданының №5 «Балапан» бөбекжай-бақшасы» МКҚК",
    name_ru: "ГККП «Ясли-сад №5 «Балапан»» Шиелийского района",
    head: Head {
        iin: "790202490270",
        surname: "Құрманова",
        given_name: "Раушан",
    },
};

/// Every provider organisation the citizens-DB holds.
pub const ALL: [Organisation; 6] = [
    EMPLOYMENT_CENTRE,
    SOCIAL_PROTECTION_DEPARTMENT,
    KOSTANAY_EDUCATION_DEPARTMENT,
    ORAL_EDUCATION_DEPARTMENT,
    SHIELI_EDUCATION_DEPARTMENT,
    SHIELI_KINDERGARTEN,
];

/// The organisations whose heads sign the back office's results, one HEAD certificate each:
/// the providers of A, B, C, E and F.
pub const SIGNING: [Organisation; 4] = [
    EMPLOYMENT_CENTRE,
    SOCIAL_PROTECTION_DEPARTMENT,
    KOSTANAY_EDUCATION_DEPARTMENT,
    SHIELI_KINDERGARTEN,
];

/// Returns the organisation that decides a service and whose head signs its results, by the
/// service code of FLOWS.md (compared without case); `None` for D and for a code not named
/// here.
pub fn provider_of(service_code: &str) -> Option<Organisation> {
    let code = service_code.trim().to_ascii_uppercase();
    match code.as_str() {
        "A" | "F" => Some(KOSTANAY_EDUCATION_DEPARTMENT),
        "B" => Some(EMPLOYMENT_CENTRE),
        "C" => Some(SOCIAL_PROTECTION_DEPARTMENT),
        "E" => Some(SHIELI_KINDERGARTEN),
        // D: seed `002_…` item 7 lists only «көрсетілетін қызметті берушінің орындаушысы» and
        // the State Corporation's employee, no head; its result stays signed as before.
        _ => None,
    }
}

/// Who signs the results of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultSigner {
    /// The head of the provider organisation that decides it.
    Head(Organisation),
    /// The back office's own head, under the back office's BIN: service D, whose regulation
    /// names no head (seed `002_…` item 7), and a service added by a catalogue file that no
    /// organisation here provides.
    BackOffice,
}

impl ResultSigner {
    /// Returns the BIN the signing head's certificate must carry.
    pub fn bin(&self) -> &'static str {
        match self {
            ResultSigner::Head(organisation) => organisation.bin,
            ResultSigner::BackOffice => systems::BACKOFFICE.bin,
        }
    }

    /// Returns the name of the signing organisation, as refusals print it.
    pub fn name(&self) -> &'static str {
        match self {
            ResultSigner::Head(organisation) => organisation.name_ru,
            ResultSigner::BackOffice => systems::BACKOFFICE.name,
        }
    }
}

/// Returns who signs the results of a service (see [`provider_of`]).
pub fn result_signer(service_code: &str) -> ResultSigner {
    provider_of(service_code).map_or(ResultSigner::BackOffice, ResultSigner::Head)
}

/// Returns the organisation of a BIN, if it is a provider's.
pub fn by_bin(bin: &str) -> Option<Organisation> {
    ALL.into_iter().find(|organisation| organisation.bin == bin)
}

/// Returns the organisation of a key, if it is a provider's.
pub fn by_key(key: &str) -> Option<Organisation> {
    ALL.into_iter().find(|organisation| organisation.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bin, Iin};

    #[test]
    fn every_provider_has_a_valid_distinct_bin_a_head_and_no_system_bin() {
        let mut bins = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for organisation in ALL {
            Bin::parse(organisation.bin)
                .unwrap_or_else(|err| panic!("{}: {err}", organisation.key));
            Iin::parse(organisation.head.iin)
                .unwrap_or_else(|err| panic!("{} head: {err}", organisation.key));
            assert!(
                bins.insert(organisation.bin),
                "{} repeats a BIN",
                organisation.key
            );
            assert!(
                keys.insert(organisation.key),
                "{} repeats a key",
                organisation.key
            );
            assert!(
                systems::ALL
                    .iter()
                    .all(|system| system.bin != organisation.bin),
                "{} shares a system's BIN",
                organisation.key
            );
            assert_eq!(by_bin(organisation.bin), Some(organisation));
            assert_eq!(by_key(organisation.key), Some(organisation));
        }
    }

    #[test]
    fn each_service_but_d_is_signed_by_its_providers_head() {
        assert_eq!(
            result_signer("A"),
            ResultSigner::Head(KOSTANAY_EDUCATION_DEPARTMENT)
        );
        assert_eq!(result_signer("b"), ResultSigner::Head(EMPLOYMENT_CENTRE));
        assert_eq!(
            result_signer("C"),
            ResultSigner::Head(SOCIAL_PROTECTION_DEPARTMENT)
        );
        assert_eq!(result_signer("D"), ResultSigner::BackOffice);
        assert_eq!(result_signer("D").bin(), systems::BACKOFFICE.bin);
        assert_eq!(result_signer("E"), ResultSigner::Head(SHIELI_KINDERGARTEN));
        assert_eq!(
            result_signer("F"),
            ResultSigner::Head(KOSTANAY_EDUCATION_DEPARTMENT)
        );
        for code in ["A", "B", "C", "E", "F"] {
            let ResultSigner::Head(organisation) = result_signer(code) else {
                panic!("{code} has a provider");
            };
            assert!(SIGNING.contains(&organisation), "{code}'s head is enrolled");
        }
    }
}
