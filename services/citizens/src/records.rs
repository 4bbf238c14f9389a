//! The rows of the citizens-DB as the loader writes them ([`NewPerson`], [`NewDocument`],
//! [`NewLink`], [`NewLegalEntity`]) and as look-ups read them ([`PersonRow`],
//! [`DocumentRow`], [`LegalEntityRow`]), and their mapping to `egov.v1` messages.
//!
//! Keys are stored as integers and dates as `YYYYMMDD` integers (see the migration);
//! the helpers here convert both ways.

use egov_core::iin::Sex;
use egov_core::{Bin, Iin};
use egov_proto::v1::{
    Address, BirthCertificate, Gender, IdentityDocument, Kinship, LegalEntity, LifeStatus, Person,
};
use time::Date;
use time::macros::date;

use crate::dictionaries;

/// Largest IIN serial the generator hands out: 9000–9999 are kept for the fixtures (and
/// the never-stored IIN), so no generated person can take a fixture's IIN.
pub const MAX_GENERATED_SERIAL: u16 = 8_999;

/// The date ages are counted from: fixed, so a seed gives the same population on any day.
pub const CENSUS_DATE: Date = date!(2026 - 01 - 01);

/// Persons, their documents and their family links, ready to load.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Persons.
    pub persons: Vec<NewPerson>,
    /// Identity documents of those persons.
    pub documents: Vec<NewDocument>,
    /// Family links among those persons, both directions.
    pub links: Vec<NewLink>,
}

/// Returns a person's age in full years on `at`.
pub fn age_at(birth: Date, at: Date) -> i32 {
    let mut age = at.year() - birth.year();
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Returns `date` moved by whole years; 29 February becomes 28 February in a common year.
pub fn add_years(date: Date, years: i32) -> Date {
    let year = date.year() + years;
    Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, date.month(), 28))
        .unwrap_or(date)
}

/// Returns the integer key of an IIN: its 12 digits read as a number.
pub fn iin_key(iin: &Iin) -> i64 {
    digits_key(iin.as_str())
}

/// Returns the integer key of a BIN: its 12 digits read as a number.
pub fn bin_key(bin: &Bin) -> i64 {
    digits_key(bin.as_str())
}

/// Reads validated ASCII digits as a number (12 digits always fit an i64).
fn digits_key(digits: &str) -> i64 {
    digits.bytes().fold(0i64, |key, digit| {
        key * 10 + i64::from(digit.wrapping_sub(b'0'))
    })
}

/// Returns the 12-digit text of a stored IIN or BIN key, zero-padded (born in 2000–2009).
pub fn key_text(key: i64) -> String {
    format!("{key:012}")
}

/// Returns the stored form of a date: `YYYYMMDD`.
pub fn date_key(date: Date) -> i64 {
    i64::from(date.year()) * 10_000
        + i64::from(u8::from(date.month())) * 100
        + i64::from(date.day())
}

/// Returns the wire form of a stored `YYYYMMDD` date.
pub fn proto_date(key: i64) -> egov_proto::v1::Date {
    // Stored dates have four-digit years, so every part fits an i32.
    let part = |value: i64| i32::try_from(value).unwrap_or_default();
    egov_proto::v1::Date {
        year: part(key / 10_000),
        month: part(key / 100 % 100),
        day: part(key % 100),
    }
}

/// Returns the wire form of a date.
pub fn date_to_proto(date: Date) -> egov_proto::v1::Date {
    proto_date(date_key(date))
}

/// A place in the dictionaries: region, district and locality codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Region code.
    pub region: &'static str,
    /// District code.
    pub district: &'static str,
    /// Locality code.
    pub locality: &'static str,
}

/// A registration address: a place, a street and a building, and a flat in a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Residence {
    /// Region, district and locality.
    pub place: Place,
    /// Street.
    pub street: &'static str,
    /// Building number.
    pub building: u16,
    /// Flat number, in blocks of flats.
    pub flat: Option<u16>,
}

/// A person as the loader writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// IIN; birth date and sex are read from it.
    pub iin: Iin,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub name: &'static str,
    /// Patronymic.
    pub patronymic: String,
    /// Death date, for the deceased.
    pub death_date: Option<Date>,
    /// Life status.
    pub life_status: LifeStatus,
    /// Nationality code.
    pub nationality: &'static str,
    /// Citizenship (country code).
    pub citizenship: &'static str,
    /// Country of birth.
    pub birth_country: &'static str,
    /// Place of birth.
    pub birth_place: Place,
    /// Permanent registration address.
    pub address: Residence,
    /// Number of the birth certificate.
    pub birth_certificate: String,
    /// Date the birth certificate was issued.
    pub birth_certificate_date: Date,
    /// Recorded disability.
    pub disabled: bool,
    /// A child left without parental care.
    pub without_parental_care: bool,
}

impl NewPerson {
    /// Returns the gender the IIN encodes, as the wire enum.
    pub fn gender(&self) -> Gender {
        gender(self.iin.sex())
    }
}

/// Returns the wire gender of a sex.
pub fn gender(sex: Sex) -> Gender {
    match sex {
        Sex::Male => Gender::Male,
        Sex::Female => Gender::Female,
    }
}

/// An identity document as the loader writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// The holder.
    pub iin: Iin,
    /// Document type code.
    pub kind: &'static str,
    /// Number.
    pub number: String,
    /// Date of issue.
    pub issue_date: Date,
    /// Date of expiry.
    pub expiry_date: Date,
    /// Issuer code.
    pub issuer: &'static str,
}

/// One direction of a family link: `relative` is `kinship` to `iin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLink {
    /// The person.
    pub iin: Iin,
    /// The relative.
    pub relative: Iin,
    /// What the relative is to the person.
    pub kinship: Kinship,
}

impl NewLink {
    /// Returns both directions of a link: `relative` is `kinship` to `iin`, and `iin`
    /// is the inverse kinship to `relative`.
    pub fn both(iin: Iin, relative: Iin, kinship: Kinship) -> [NewLink; 2] {
        [
            NewLink {
                iin,
                relative,
                kinship,
            },
            NewLink {
                iin: relative,
                relative: iin,
                kinship: inverse(kinship),
            },
        ]
    }
}

/// Returns what the person is to a relative, given what the relative is to the person.
pub fn inverse(kinship: Kinship) -> Kinship {
    match kinship {
        Kinship::Parent => Kinship::Child,
        Kinship::Child => Kinship::Parent,
        Kinship::Guardian => Kinship::Ward,
        Kinship::Ward => Kinship::Guardian,
        Kinship::Spouse => Kinship::Spouse,
        Kinship::Unspecified => Kinship::Unspecified,
    }
}

/// A legal entity as the loader writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLegalEntity {
    /// BIN.
    pub bin: Bin,
    /// Full name in Kazakh.
    pub name_kk: String,
    /// Full name in Russian.
    pub name_ru: String,
    /// Kind code.
    pub kind: &'static str,
    /// Legal address (no flat).
    pub address: Residence,
    /// IIN of the head.
    pub head: Iin,
    /// Registration date.
    pub registration_date: Date,
}

/// A person as a look-up reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonRow {
    /// IIN key.
    pub iin: i64,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub name: String,
    /// Patronymic.
    pub patronymic: String,
    /// `egov.v1.Gender` value.
    pub gender: i32,
    /// `YYYYMMDD`.
    pub birth_date: i64,
    /// `YYYYMMDD`, for the deceased.
    pub death_date: Option<i64>,
    /// `egov.v1.LifeStatus` value.
    pub life_status: i32,
    /// Nationality code.
    pub nationality: String,
    /// Citizenship code.
    pub citizenship: String,
    /// Country of birth code.
    pub birth_country: String,
    /// Region of birth code.
    pub birth_region: String,
    /// District of birth code.
    pub birth_district: String,
    /// Locality of birth code.
    pub birth_locality: String,
    /// Registration region code.
    pub region: String,
    /// Registration district code.
    pub district: String,
    /// Registration locality code.
    pub locality: String,
    /// Street.
    pub street: String,
    /// Building.
    pub building: String,
    /// Flat, empty for a house.
    pub flat: String,
    /// Birth certificate number.
    pub birth_certificate: String,
    /// `YYYYMMDD`.
    pub birth_certificate_date: i64,
    /// Recorded disability.
    #[sqlx(try_from = "egov_store::Flag")]
    pub disabled: bool,
    /// A child left without parental care.
    #[sqlx(try_from = "egov_store::Flag")]
    pub without_parental_care: bool,
}

/// Expands to the columns of [`PersonRow`], in order, as a literal (for `concat!`).
macro_rules! person_columns {
    () => {
        "iin, surname, name, patronymic, gender, birth_date, death_date, life_status, \
         nationality, citizenship, birth_country, birth_region, birth_district, \
         birth_locality, region, district, locality, street, building, flat, \
         birth_certificate, birth_certificate_date, disabled, without_parental_care"
    };
}
pub(crate) use person_columns;

/// The columns of [`PersonRow`], in order, for SELECT and INSERT alike.
pub const PERSON_COLUMNS: &str = person_columns!();

/// Number of columns in [`PERSON_COLUMNS`].
pub const PERSON_COLUMN_COUNT: usize = 24;

impl PersonRow {
    /// Returns the wire person with its identity documents.
    pub fn to_proto(&self, documents: &[DocumentRow]) -> Person {
        let kazakhstan =
            || dictionaries::resolve(&dictionaries::COUNTRIES, dictionaries::KAZAKHSTAN);
        Person {
            iin: key_text(self.iin),
            surname: self.surname.clone(),
            name: self.name.clone(),
            patronymic: self.patronymic.clone(),
            birth_date: Some(proto_date(self.birth_date)),
            death_date: self.death_date.map(proto_date),
            gender: self.gender,
            nationality: Some(dictionaries::resolve(
                &dictionaries::NATIONALITIES,
                &self.nationality,
            )),
            citizenship: Some(dictionaries::resolve(
                &dictionaries::COUNTRIES,
                &self.citizenship,
            )),
            life_status: self.life_status,
            birth_certificate: Some(BirthCertificate {
                number: self.birth_certificate.clone(),
                issue_date: Some(proto_date(self.birth_certificate_date)),
                registry_office: registry_office(&self.birth_district),
            }),
            birth_place: Some(Address {
                country: Some(dictionaries::resolve(
                    &dictionaries::COUNTRIES,
                    &self.birth_country,
                )),
                region: Some(dictionaries::region_entry(&self.birth_region)),
                district: Some(dictionaries::district_entry(&self.birth_district)),
                locality: dictionaries::locality_name(&self.birth_locality),
                ..Address::default()
            }),
            registration_address: Some(Address {
                country: Some(kazakhstan()),
                region: Some(dictionaries::region_entry(&self.region)),
                district: Some(dictionaries::district_entry(&self.district)),
                locality: dictionaries::locality_name(&self.locality),
                street: self.street.clone(),
                building: self.building.clone(),
                flat: self.flat.clone(),
            }),
            documents: documents.iter().map(DocumentRow::to_proto).collect(),
            disabled: self.disabled,
            without_parental_care: self.without_parental_care,
        }
    }
}

/// Returns the registry office (АХАТ / ЗАГС) of a district, which registered births there.
pub fn registry_office(district: &str) -> String {
    match dictionaries::district_by_code(district) {
        Some(district) => format!(
            "Отдел регистрации актов гражданского состояния ({})",
            district.entry.name_ru
        ),
        None => format!("Отдел регистрации актов гражданского состояния ({district})"),
    }
}

/// An identity document as a look-up reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRow {
    /// Document type code.
    pub kind: String,
    /// Number.
    pub number: String,
    /// `YYYYMMDD`.
    pub issue_date: i64,
    /// `YYYYMMDD`.
    pub expiry_date: i64,
    /// Issuer code.
    pub issuer: String,
}

impl DocumentRow {
    /// Returns the wire document.
    pub fn to_proto(&self) -> IdentityDocument {
        IdentityDocument {
            r#type: Some(dictionaries::resolve(
                &dictionaries::DOCUMENT_TYPES,
                &self.kind,
            )),
            number: self.number.clone(),
            issue_date: Some(proto_date(self.issue_date)),
            expiry_date: Some(proto_date(self.expiry_date)),
            issuer: Some(dictionaries::resolve(&dictionaries::ISSUERS, &self.issuer)),
        }
    }
}

/// A legal entity as a look-up reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LegalEntityRow {
    /// BIN key.
    pub bin: i64,
    /// Name in Kazakh.
    pub name_kk: String,
    /// Name in Russian.
    pub name_ru: String,
    /// Kind code.
    pub kind: String,
    /// Region code.
    pub region: String,
    /// District code.
    pub district: String,
    /// Locality code.
    pub locality: String,
    /// Street.
    pub street: String,
    /// Building.
    pub building: String,
    /// IIN key of the head.
    pub head_iin: i64,
    /// `YYYYMMDD`.
    pub registration_date: i64,
}

/// Expands to the columns of [`LegalEntityRow`], in order, as a literal (for `concat!`).
macro_rules! legal_entity_columns {
    () => {
        "bin, name_kk, name_ru, kind, region, district, locality, street, building, \
         head_iin, registration_date"
    };
}
pub(crate) use legal_entity_columns;

/// The columns of [`LegalEntityRow`], in order.
pub const LEGAL_ENTITY_COLUMNS: &str = legal_entity_columns!();

impl LegalEntityRow {
    /// Returns the wire legal entity.
    pub fn to_proto(&self) -> LegalEntity {
        LegalEntity {
            bin: key_text(self.bin),
            name_kk: self.name_kk.clone(),
            name_ru: self.name_ru.clone(),
            kind: Some(dictionaries::resolve(
                &dictionaries::LEGAL_ENTITY_KINDS,
                &self.kind,
            )),
            address: Some(Address {
                country: Some(dictionaries::resolve(
                    &dictionaries::COUNTRIES,
                    dictionaries::KAZAKHSTAN,
                )),
                region: Some(dictionaries::region_entry(&self.region)),
                district: Some(dictionaries::district_entry(&self.district)),
                locality: dictionaries::locality_name(&self.locality),
                street: self.street.clone(),
                building: self.building.clone(),
                flat: String::new(),
            }),
            head_iin: key_text(self.head_iin),
            registration_date: Some(proto_date(self.registration_date)),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn keys_round_trip_with_leading_zeros() {
        let iin = Iin::generate(date!(2005 - 03 - 07), Sex::Female, 12).expect("valid");
        let key = iin_key(&iin);
        assert_eq!(key_text(key), iin.as_str());
        assert!(iin.as_str().starts_with('0'));
    }

    #[test]
    fn dates_are_stored_as_yyyymmdd() {
        assert_eq!(date_key(date!(2019 - 03 - 05)), 20_190_305);
        let wire = proto_date(20_190_305);
        assert_eq!((wire.year, wire.month, wire.day), (2019, 3, 5));
    }

    #[test]
    fn links_come_in_both_directions() {
        let parent = Iin::generate_from(date!(1990 - 01 - 01), Sex::Male, 1).expect("valid");
        let child = Iin::generate_from(date!(2020 - 01 - 01), Sex::Female, 1).expect("valid");
        let [down, up] = NewLink::both(parent, child, Kinship::Child);
        assert_eq!(
            (down.iin, down.relative, down.kinship),
            (parent, child, Kinship::Child)
        );
        assert_eq!(
            (up.iin, up.relative, up.kinship),
            (child, parent, Kinship::Parent)
        );
    }
}
