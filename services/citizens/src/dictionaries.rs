//! The in-code dictionaries (анықтамалықтар / справочники) the database's codes resolve
//! through: nationalities, countries (citizenship, birth place), regions, districts and
//! localities of the seeds' regions, identity-document types and issuers, and kinds of
//! legal entity. Each entry has its code and its Kazakh and Russian names.
//!
//! Region codes follow the KATO region prefixes (Astana 71, Kostanay 39, Kyzylorda 43,
//! West Kazakhstan 27); district and locality codes extend them and are the stack's own.

use egov_proto::v1::DictionaryEntry;

/// One dictionary entry: a code with its Kazakh and Russian names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The code stored in the database.
    pub code: &'static str,
    /// Name in Kazakh.
    pub name_kk: &'static str,
    /// Name in Russian.
    pub name_ru: &'static str,
}

impl Entry {
    /// Returns the wire form.
    pub fn to_proto(&self) -> DictionaryEntry {
        DictionaryEntry {
            code: self.code.to_owned(),
            name_kk: self.name_kk.to_owned(),
            name_ru: self.name_ru.to_owned(),
        }
    }
}

const fn entry(code: &'static str, name_kk: &'static str, name_ru: &'static str) -> Entry {
    Entry {
        code,
        name_kk,
        name_ru,
    }
}

/// Returns the wire form of `code` in `list`; an unknown code (e.g. written by a newer
/// build) keeps its code with empty names rather than failing the look-up.
pub fn resolve(list: &[Entry], code: &str) -> DictionaryEntry {
    list.iter().find(|entry| entry.code == code).map_or_else(
        || DictionaryEntry {
            code: code.to_owned(),
            ..DictionaryEntry::default()
        },
        Entry::to_proto,
    )
}

/// Nationality code of Kazakhs.
pub const KAZAKH: &str = "005";
/// Nationality code of Russians.
pub const RUSSIAN: &str = "001";
/// Nationality code of Belarusians.
pub const BELARUSIAN: &str = "002";
/// Nationality code of Ukrainians.
pub const UKRAINIAN: &str = "006";
/// Nationality code of Tatars.
pub const TATAR: &str = "010";
/// Nationality code of Germans.
pub const GERMAN: &str = "013";
/// Nationality code of Uzbeks.
pub const UZBEK: &str = "017";
/// Nationality code of Koreans.
pub const KOREAN: &str = "037";

/// Nationalities (ұлты / национальность).
pub const NATIONALITIES: [Entry; 8] = [
    entry(RUSSIAN, "орыс", "русский"),
    entry(BELARUSIAN, "беларусь", "белорус"),
    entry(KAZAKH, "қазақ", "казах"),
    entry(UKRAINIAN, "украин", "украинец"),
    entry(TATAR, "татар", "татарин"),
    entry(GERMAN, "неміс", "немец"),
    entry(UZBEK, "өзбек", "узбек"),
    entry(KOREAN, "кәріс", "кореец"),
];

/// Country code (ISO 3166 numeric) of Kazakhstan.
pub const KAZAKHSTAN: &str = "398";
/// Country code of Russia.
pub const RUSSIA: &str = "643";
/// Country code of Uzbekistan.
pub const UZBEKISTAN: &str = "860";

/// Countries, for citizenship (азаматтығы / гражданство) and birth places.
pub const COUNTRIES: [Entry; 3] = [
    entry(KAZAKHSTAN, "Қазақстан Республикасы", "Республика Казахстан"),
    entry(RUSSIA, "Ресей Федерациясы", "Российская Федерация"),
    entry(
        UZBEKISTAN,
        "Өзбекстан Республикасы",
        "Республика Узбекистан",
    ),
];

/// Document type code of a passport of a citizen of Kazakhstan.
pub const PASSPORT: &str = "001";
/// Document type code of an identity card of a citizen of Kazakhstan.
pub const ID_CARD: &str = "002";
/// Document type code of a foreigner's residence permit.
pub const RESIDENCE_PERMIT: &str = "003";

/// Identity-document types (құжат түрі / тип документа).
pub const DOCUMENT_TYPES: [Entry; 3] = [
    entry(PASSPORT, "ҚР азаматының паспорты", "Паспорт гражданина РК"),
    entry(
        ID_CARD,
        "ҚР азаматының жеке куәлігі",
        "Удостоверение личности гражданина РК",
    ),
    entry(
        RESIDENCE_PERMIT,
        "Шетелдіктің ҚР-да тұруға ықтиярхаты",
        "Вид на жительство иностранца в РК",
    ),
];

/// Issuer code of the Ministry of Justice (documents issued before 2011).
pub const MINISTRY_OF_JUSTICE: &str = "001";
/// Issuer code of the Ministry of Internal Affairs (documents issued from 2011).
pub const MINISTRY_OF_INTERNAL_AFFAIRS: &str = "002";

/// Issuing authorities of identity documents (берген орган / орган выдачи).
pub const ISSUERS: [Entry; 2] = [
    entry(
        MINISTRY_OF_JUSTICE,
        "ҚР Әділет министрлігі",
        "Министерство юстиции РК",
    ),
    entry(
        MINISTRY_OF_INTERNAL_AFFAIRS,
        "ҚР Ішкі істер министрлігі",
        "Министерство внутренних дел РК",
    ),
];

/// Kind code of an employment centre (service B's provider).
pub const EMPLOYMENT_CENTRE: &str = "01";
/// Kind code of a department of employment and social programmes (service C's provider).
pub const SOCIAL_PROTECTION_DEPARTMENT: &str = "02";
/// Kind code of an education department (services A, D, F).
pub const EDUCATION_DEPARTMENT: &str = "03";
/// Kind code of a pre-school organisation (service E).
pub const KINDERGARTEN: &str = "04";
/// Kind code of the State Corporation or one of its branches.
pub const STATE_CORPORATION: &str = "05";

/// Kinds of legal entity (заңды тұлға түрі / вид юридического лица).
pub const LEGAL_ENTITY_KINDS: [Entry; 5] = [
    entry(
        EMPLOYMENT_CENTRE,
        "Халықты жұмыспен қамту орталығы",
        "Центр занятости населения",
    ),
    entry(
        SOCIAL_PROTECTION_DEPARTMENT,
        "Жұмыспен қамту және әлеуметтік бағдарламалар бөлімі",
        "Отдел занятости и социальных программ",
    ),
    entry(EDUCATION_DEPARTMENT, "Білім бөлімі", "Отдел образования"),
    entry(
        KINDERGARTEN,
        "Мектепке дейінгі ұйым (балабақша)",
        "Дошкольная организация (детский сад)",
    ),
    entry(
        STATE_CORPORATION,
        "«Азаматтарға арналған үкімет» мемлекеттік корпорациясы",
        "Государственная корпорация «Правительство для граждан»",
    ),
];

/// A region (облыс / область) or city of republican significance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Code and names.
    pub entry: Entry,
    /// Share of the generated population living here (relative weight).
    pub weight: u32,
    /// Nationality codes with their relative shares among the region's residents.
    pub nationalities: &'static [(&'static str, u32)],
}

/// A district (аудан / район) or city of regional significance, with its localities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct District {
    /// Code and names.
    pub entry: Entry,
    /// Code of the region it belongs to.
    pub region: &'static str,
    /// Share of the region's population living here (relative weight).
    pub weight: u32,
    /// Whether it is a city (flats in blocks) rather than a rural district (houses).
    pub urban: bool,
    /// Its settlements; the first is the administrative centre.
    pub localities: &'static [Entry],
}

/// Region code of Astana.
pub const ASTANA: &str = "71";
/// Region code of Kostanay region.
pub const KOSTANAY_REGION: &str = "39";
/// Region code of Kyzylorda region.
pub const KYZYLORDA_REGION: &str = "43";
/// Region code of West Kazakhstan region.
pub const WEST_KAZAKHSTAN_REGION: &str = "27";

/// The regions of the seeds.
pub const REGIONS: [Region; 4] = [
    Region {
        entry: entry(ASTANA, "Астана қаласы", "город Астана"),
        weight: 35,
        nationalities: &[
            (KAZAKH, 780),
            (RUSSIAN, 130),
            (UKRAINIAN, 20),
            (TATAR, 20),
            (GERMAN, 10),
            (KOREAN, 10),
            (UZBEK, 20),
            (BELARUSIAN, 10),
        ],
    },
    Region {
        entry: entry(KOSTANAY_REGION, "Қостанай облысы", "Костанайская область"),
        weight: 22,
        nationalities: &[
            (KAZAKH, 430),
            (RUSSIAN, 400),
            (UKRAINIAN, 80),
            (GERMAN, 30),
            (TATAR, 20),
            (BELARUSIAN, 20),
            (KOREAN, 10),
            (UZBEK, 10),
        ],
    },
    Region {
        entry: entry(
            KYZYLORDA_REGION,
            "Қызылорда облысы",
            "Кызылординская область",
        ),
        weight: 23,
        nationalities: &[
            (KAZAKH, 950),
            (RUSSIAN, 20),
            (KOREAN, 20),
            (UZBEK, 5),
            (TATAR, 5),
        ],
    },
    Region {
        entry: entry(
            WEST_KAZAKHSTAN_REGION,
            "Батыс Қазақстан облысы",
            "Западно-Казахстанская область",
        ),
        weight: 20,
        nationalities: &[
            (KAZAKH, 770),
            (RUSSIAN, 180),
            (UKRAINIAN, 20),
            (TATAR, 15),
            (GERMAN, 5),
            (KOREAN, 5),
            (BELARUSIAN, 5),
        ],
    },
];

const fn district(
    code: &'static str,
    region: &'static str,
    name_kk: &'static str,
    name_ru: &'static str,
    weight: u32,
    urban: bool,
    localities: &'static [Entry],
) -> District {
    District {
        entry: entry(code, name_kk, name_ru),
        region,
        weight,
        urban,
        localities,
    }
}

/// District code of Astana's Almaty district.
pub const ASTANA_ALMATY_DISTRICT: &str = "7101";
/// District code of Astana's Yesil district.
pub const ASTANA_YESIL_DISTRICT: &str = "7103";
/// District code of Astana's Saryarka district.
pub const ASTANA_SARYARKA_DISTRICT: &str = "7104";
/// District code of the city of Kostanay.
pub const KOSTANAY_CITY: &str = "3901";
/// District code of Kostanay district.
pub const KOSTANAY_DISTRICT: &str = "3905";
/// District code of the city of Kyzylorda.
pub const KYZYLORDA_CITY: &str = "4301";
/// District code of Shieli district (Kyzylorda region).
pub const SHIELI_DISTRICT: &str = "4307";
/// District code of the city of Oral (Uralsk).
pub const ORAL_CITY: &str = "2701";

/// Districts and cities of the seeds' regions, with their localities.
// One district per line reads as a table; rustfmt would spread each over nine lines.
#[rustfmt::skip]
pub const DISTRICTS: [District; 39] = [
    // Astana: city districts, one locality.
    district(ASTANA_ALMATY_DISTRICT, ASTANA, "Алматы ауданы", "район Алматы", 25, true,
        &[entry("7101001", "Астана", "Астана")]),
    district("7102", ASTANA, "Байқоңыр ауданы", "район Байконыр", 20, true,
        &[entry("7102001", "Астана", "Астана")]),
    district(ASTANA_YESIL_DISTRICT, ASTANA, "Есіл ауданы", "район Есиль", 22, true,
        &[entry("7103001", "Астана", "Астана")]),
    district(ASTANA_SARYARKA_DISTRICT, ASTANA, "Сарыарқа ауданы", "район Сарыарка", 20, true,
        &[entry("7104001", "Астана", "Астана")]),
    district("7105", ASTANA, "Нұра ауданы", "район Нура", 13, true,
        &[entry("7105001", "Астана", "Астана")]),
    // Kostanay region.
    district(KOSTANAY_CITY, KOSTANAY_REGION, "Қостанай қаласы", "город Костанай", 32, true,
        &[entry("3901001", "Қостанай", "Костанай")]),
    district("3902", KOSTANAY_REGION, "Рудный қаласы", "город Рудный", 12, true,
        &[entry("3902001", "Рудный", "Рудный")]),
    district("3903", KOSTANAY_REGION, "Лисаков қаласы", "город Лисаковск", 4, true,
        &[entry("3903001", "Лисаков", "Лисаковск")]),
    district("3904", KOSTANAY_REGION, "Арқалық қаласы", "город Аркалык", 4, true,
        &[entry("3904001", "Арқалық", "Аркалык")]),
    district(KOSTANAY_DISTRICT, KOSTANAY_REGION, "Қостанай ауданы", "Костанайский район", 8, false,
        &[entry("3905001", "Тобыл", "Тобыл"), entry("3905002", "Заречный", "Заречное")]),
    district("3906", KOSTANAY_REGION, "Әулиекөл ауданы", "Аулиекольский район", 5, false,
        &[entry("3906001", "Әулиекөл", "Аулиеколь")]),
    district("3907", KOSTANAY_REGION, "Федоров ауданы", "Федоровский район", 4, false,
        &[entry("3907001", "Федоровка", "Федоровка")]),
    district("3908", KOSTANAY_REGION, "Қарабалық ауданы", "Карабалыкский район", 4, false,
        &[entry("3908001", "Қарабалық", "Карабалык")]),
    district("3909", KOSTANAY_REGION, "Жітіқара ауданы", "Житикаринский район", 5, false,
        &[entry("3909001", "Жітіқара", "Житикара")]),
    district("3910", KOSTANAY_REGION, "Меңдіқара ауданы", "Мендыкаринский район", 3, false,
        &[entry("3910001", "Боровской", "Боровской")]),
    district("3911", KOSTANAY_REGION, "Сарыкөл ауданы", "Сарыкольский район", 3, false,
        &[entry("3911001", "Сарыкөл", "Сарыколь")]),
    district("3912", KOSTANAY_REGION, "Ұзынкөл ауданы", "Узункольский район", 3, false,
        &[entry("3912001", "Ұзынкөл", "Узунколь")]),
    district("3913", KOSTANAY_REGION, "Денисов ауданы", "Денисовский район", 3, false,
        &[entry("3913001", "Денисовка", "Денисовка")]),
    // Kyzylorda region.
    district(KYZYLORDA_CITY, KYZYLORDA_REGION, "Қызылорда қаласы", "город Кызылорда", 38, true,
        &[entry("4301001", "Қызылорда", "Кызылорда")]),
    district("4302", KYZYLORDA_REGION, "Арал ауданы", "Аральский район", 9, false,
        &[entry("4302001", "Арал", "Аральск")]),
    district("4303", KYZYLORDA_REGION, "Қазалы ауданы", "Казалинский район", 9, false,
        &[entry("4303001", "Әйтеке би", "Айтеке би")]),
    district("4304", KYZYLORDA_REGION, "Қармақшы ауданы", "Кармакшинский район", 6, false,
        &[entry("4304001", "Жосалы", "Жосалы")]),
    district("4305", KYZYLORDA_REGION, "Жалағаш ауданы", "Жалагашский район", 5, false,
        &[entry("4305001", "Жалағаш", "Жалагаш")]),
    district("4306", KYZYLORDA_REGION, "Сырдария ауданы", "Сырдарьинский район", 5, false,
        &[entry("4306001", "Тереңөзек", "Теренозек")]),
    district(SHIELI_DISTRICT, KYZYLORDA_REGION, "Шиелі ауданы", "Шиелийский район", 9, false,
        &[entry("4307001", "Шиелі", "Шиели")]),
    district("4308", KYZYLORDA_REGION, "Жаңақорған ауданы", "Жанакорганский район", 9, false,
        &[entry("4308001", "Жаңақорған", "Жанакорган")]),
    // West Kazakhstan region.
    district(ORAL_CITY, WEST_KAZAKHSTAN_REGION, "Орал қаласы", "город Уральск", 45, true,
        &[entry("2701001", "Орал", "Уральск")]),
    district("2702", WEST_KAZAKHSTAN_REGION, "Бәйтерек ауданы", "Байтерекский район", 8, false,
        &[entry("2702001", "Переметное", "Переметное")]),
    district("2703", WEST_KAZAKHSTAN_REGION, "Ақжайық ауданы", "Акжаикский район", 5, false,
        &[entry("2703001", "Чапаев", "Чапаев")]),
    district("2704", WEST_KAZAKHSTAN_REGION, "Бөрлі ауданы", "Бурлинский район", 7, false,
        &[entry("2704001", "Ақсай", "Аксай")]),
    district("2705", WEST_KAZAKHSTAN_REGION, "Теректі ауданы", "Теректинский район", 5, false,
        &[entry("2705001", "Федоровка", "Федоровка")]),
    district("2706", WEST_KAZAKHSTAN_REGION, "Жаңақала ауданы", "Жангалинский район", 3, false,
        &[entry("2706001", "Жаңақала", "Жангала")]),
    district("2707", WEST_KAZAKHSTAN_REGION, "Казталов ауданы", "Казталовский район", 4, false,
        &[entry("2707001", "Казталовка", "Казталовка")]),
    district("2708", WEST_KAZAKHSTAN_REGION, "Сырым ауданы", "Сырымский район", 3, false,
        &[entry("2708001", "Жымпиты", "Жымпиты")]),
    district("2709", WEST_KAZAKHSTAN_REGION, "Тасқала ауданы", "Таскалинский район", 3, false,
        &[entry("2709001", "Тасқала", "Таскала")]),
    district("2710", WEST_KAZAKHSTAN_REGION, "Шыңғырлау ауданы", "Чингирлауский район", 2, false,
        &[entry("2710001", "Шыңғырлау", "Чингирлау")]),
    district("2711", WEST_KAZAKHSTAN_REGION, "Бөкей ордасы ауданы", "Бокейординский район", 2, false,
        &[entry("2711001", "Сайхын", "Сайхин")]),
    district("2712", WEST_KAZAKHSTAN_REGION, "Жәнібек ауданы", "Жанибекский район", 2, false,
        &[entry("2712001", "Жәнібек", "Жанибек")]),
    district("2713", WEST_KAZAKHSTAN_REGION, "Қаратөбе ауданы", "Каратобинский район", 2, false,
        &[entry("2713001", "Қаратөбе", "Каратобе")]),
];

/// Returns the region with this code.
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.entry.code == code)
}

/// Returns the district with this code.
pub fn district_by_code(code: &str) -> Option<&'static District> {
    DISTRICTS
        .iter()
        .find(|district| district.entry.code == code)
}

/// Returns the districts of a region, in dictionary order.
pub fn districts_of(region: &str) -> impl Iterator<Item = &'static District> + Clone {
    DISTRICTS
        .iter()
        .filter(move |district| district.region == region)
}

/// Returns the locality with this code, looked up in its district (the code's first four digits).
pub fn locality(code: &str) -> Option<&'static Entry> {
    let district = district_by_code(code.get(..4)?)?;
    district.localities.iter().find(|entry| entry.code == code)
}

/// Returns the wire form of a region code.
pub fn region_entry(code: &str) -> DictionaryEntry {
    region(code).map_or_else(|| resolve(&[], code), |region| region.entry.to_proto())
}

/// Returns the wire form of a district code.
pub fn district_entry(code: &str) -> DictionaryEntry {
    district_by_code(code).map_or_else(|| resolve(&[], code), |district| district.entry.to_proto())
}

/// Returns the Russian name of a locality, or its code when unknown.
pub fn locality_name(code: &str) -> String {
    locality(code).map_or_else(|| code.to_owned(), |entry| entry.name_ru.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_unique_within_its_dictionary() {
        let lists: [&[Entry]; 5] = [
            &NATIONALITIES,
            &COUNTRIES,
            &DOCUMENT_TYPES,
            &ISSUERS,
            &LEGAL_ENTITY_KINDS,
        ];
        for list in lists {
            let codes: HashSet<&str> = list.iter().map(|entry| entry.code).collect();
            assert_eq!(codes.len(), list.len());
        }
        let districts: HashSet<&str> = DISTRICTS.iter().map(|d| d.entry.code).collect();
        assert_eq!(districts.len(), DISTRICTS.len());
    }

    #[test]
    fn every_district_belongs_to_a_region_and_its_localities_extend_its_code() {
        for district in DISTRICTS {
            assert!(region(district.region).is_some(), "{}", district.entry.code);
            assert!(district.entry.code.starts_with(district.region));
            assert!(!district.localities.is_empty());
            for locality in district.localities {
                assert!(locality.code.starts_with(district.entry.code));
                assert_eq!(super::locality(locality.code), Some(locality));
            }
        }
        for region in REGIONS {
            assert!(districts_of(region.entry.code).next().is_some());
            for (code, _) in region.nationalities {
                assert!(NATIONALITIES.iter().any(|n| n.code == *code), "{code}");
            }
        }
    }

    #[test]
    fn an_unknown_code_resolves_to_itself_with_empty_names() {
        let unknown = resolve(&NATIONALITIES, "999");
        assert_eq!(unknown.code, "999");
        assert!(unknown.name_ru.is_empty());
        assert_eq!(resolve(&NATIONALITIES, KAZAKH).name_ru, "казах");
        assert_eq!(region_entry(ASTANA).name_kk, "Астана қаласы");
        assert_eq!(locality_name("4307001"), "Шиели");
    }
}
