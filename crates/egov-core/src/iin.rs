//! Individual and business identification numbers: IIN (ЖСН / ИИН) and BIN (БСН / БИН).
//!
//! Both are 12 digits whose last digit is a mod-11 check digit. An IIN encodes a person's
//! birth date and sex; a BIN encodes an organisation's registration year and month, its kind
//! and its attribute (head office, branch, …). Parsing validates all of it; generators build
//! valid numbers for the synthetic population.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use time::{Date, Month};

/// Number of digits in an IIN or a BIN.
pub const LEN: usize = 12;

/// First weight set of the check digit: digit i gets weight i.
const WEIGHTS_FIRST: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// Second weight set, used only when the first gives 10.
const WEIGHTS_SECOND: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// Largest serial that fits the IIN's four serial digits.
const IIN_SERIAL_MAX: u16 = 9_999;

/// Largest serial that fits the BIN's five serial digits.
const BIN_SERIAL_MAX: u32 = 99_999;

/// First registration year a BIN's two year digits stand for (independence, 1991).
pub const BIN_FIRST_YEAR: i32 = 1991;

/// Last registration year a BIN's two year digits stand for (the window is a century long).
pub const BIN_LAST_YEAR: i32 = BIN_FIRST_YEAR + 99;

/// Longest excerpt of a bad input kept in an error, so a huge input cannot flood the logs.
const EXCERPT_MAX: usize = 24;

/// Returns the check digit of the first 11 digits, or `None` when both weight sets give 10
/// (such a number is never assigned).
fn check_digit(digits: &[u8; 11]) -> Option<u8> {
    [WEIGHTS_FIRST, WEIGHTS_SECOND]
        .into_iter()
        .find_map(|weights| {
            let sum: u32 = digits
                .iter()
                .zip(weights)
                .map(|(&d, w)| u32::from(d) * w)
                .sum();
            // The remainder is below 11, so it always fits a u8.
            let rest = u8::try_from(sum % 11).unwrap_or(10);
            (rest != 10).then_some(rest)
        })
}

/// Shortens a bad input for an error message.
fn excerpt(input: &str) -> String {
    if input.chars().count() <= EXCERPT_MAX {
        input.to_owned()
    } else {
        let mut short: String = input.chars().take(EXCERPT_MAX).collect();
        short.push('…');
        short
    }
}

/// The shape errors shared by IIN and BIN, before each maps them to its own enum.
enum ShapeError {
    Length(usize),
    NonDigit { position: usize, found: char },
}

/// Checks that `input` is exactly 12 ASCII digits and returns their values (0–9).
fn digits_of(input: &str) -> Result<[u8; LEN], ShapeError> {
    let length = input.chars().count();
    if length != LEN {
        return Err(ShapeError::Length(length));
    }
    let mut digits = [0u8; LEN];
    for (i, (slot, c)) in digits.iter_mut().zip(input.chars()).enumerate() {
        match c.to_digit(10) {
            // `to_digit` accepts only ASCII digits, and the value is below 10.
            Some(d) => *slot = u8::try_from(d).unwrap_or(0),
            None => {
                return Err(ShapeError::NonDigit {
                    position: i + 1,
                    found: c,
                });
            }
        }
    }
    Ok(digits)
}

/// Joins two digits into a number.
fn two(high: u8, low: u8) -> u8 {
    high * 10 + low
}

/// Splits the first 11 digits off a 12-digit array.
fn body(digits: &[u8; LEN]) -> [u8; 11] {
    let mut out = [0u8; 11];
    out.copy_from_slice(&digits[..11]);
    out
}

/// Turns digit values into their ASCII form.
fn to_ascii(digits: &[u8; LEN]) -> [u8; LEN] {
    digits.map(|d| b'0' + d)
}

/// Reads ASCII digits as a `&str`; the types below store only ASCII digits.
fn ascii_str(bytes: &[u8; LEN]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Writes the low decimal digits of `value` into `out`, most significant first.
fn put_decimal(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        // A remainder of 10 is below 10, so it always fits.
        *slot = u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Sex encoded in an IIN's seventh digit (жынысы / пол).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Male (ер / мужской): odd century digits 1, 3, 5.
    Male,
    /// Female (әйел / женский): even century digits 2, 4, 6.
    Female,
}

/// Why a string is not a valid IIN, or why an IIN cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IinError {
    /// The input does not have 12 characters.
    #[error("IIN `{value}` has {length} characters, the length check expects 12")]
    Length {
        /// The input (shortened when long).
        value: String,
        /// Number of characters found.
        length: usize,
    },
    /// A character is not an ASCII digit.
    #[error("IIN `{value}` has `{found}` at position {position}, the digit check expects 0-9")]
    NonDigit {
        /// The input (shortened when long).
        value: String,
        /// 1-based position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The seventh digit is not 1–6.
    #[error("IIN `{value}` has century-and-sex digit {digit} at position 7, which must be 1-6")]
    CenturySex {
        /// The input.
        value: String,
        /// The digit found.
        digit: u8,
    },
    /// The first six digits are not a real calendar date in the encoded century.
    #[error(
        "IIN `{value}` encodes birth date {yymmdd} in the {century}s, which is not a calendar date"
    )]
    BirthDate {
        /// The input.
        value: String,
        /// The first six digits.
        yymmdd: String,
        /// The century the seventh digit names (1800, 1900 or 2000).
        century: i32,
    },
    /// The last digit differs from the computed check digit.
    #[error("IIN `{value}` has check digit {found}, the checksum expects {expected}")]
    CheckDigit {
        /// The input.
        value: String,
        /// The check digit computed from the first 11 digits.
        expected: u8,
        /// The twelfth digit found.
        found: u8,
    },
    /// Both weight sets give 10, so no number with these 11 digits is ever assigned.
    #[error("IIN digits `{prefix}` are unassignable: the checksum gives 10 with both weight sets")]
    Unassignable {
        /// The first 11 digits.
        prefix: String,
    },
    /// The generator was given a birth date the century digit cannot encode.
    #[error("birth date {date} is outside 1800-2099, which the IIN's century digit can encode")]
    DateOutOfRange {
        /// The birth date given.
        date: Date,
    },
    /// The generator was given a serial wider than four digits.
    #[error("IIN serial {serial} does not fit the four serial digits (0-9999)")]
    Serial {
        /// The serial given.
        serial: u16,
    },
}

impl IinError {
    /// Maps a shape error of `input` to the IIN variant.
    fn shape(input: &str, error: ShapeError) -> Self {
        let value = excerpt(input);
        match error {
            ShapeError::Length(length) => Self::Length { value, length },
            ShapeError::NonDigit { position, found } => Self::NonDigit {
                value,
                position,
                found,
            },
        }
    }
}

/// An individual identification number (жеке сәйкестендіру нөмірі, ЖСН / индивидуальный
/// идентификационный номер, ИИН): YYMMDD, century-and-sex digit, 4-digit serial, check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Iin {
    /// ASCII digits, validated on construction.
    ascii: [u8; LEN],
    /// Decoded at parse time so accessors need no fallible step.
    birth_date: Date,
    /// Decoded at parse time so accessors need no fallible step.
    sex: Sex,
}

impl Iin {
    /// Parses and validates an IIN: length, digits, century-and-sex, birth date, check digit.
    pub fn parse(input: &str) -> Result<Self, IinError> {
        let digits = digits_of(input).map_err(|e| IinError::shape(input, e))?;
        let value = || input.to_owned();

        let (century, sex) = match digits[6] {
            1 => (1800, Sex::Male),
            2 => (1800, Sex::Female),
            3 => (1900, Sex::Male),
            4 => (1900, Sex::Female),
            5 => (2000, Sex::Male),
            6 => (2000, Sex::Female),
            digit => {
                return Err(IinError::CenturySex {
                    value: value(),
                    digit,
                });
            }
        };

        let year = century + i32::from(two(digits[0], digits[1]));
        let birth_date = Month::try_from(two(digits[2], digits[3]))
            .ok()
            .and_then(|month| Date::from_calendar_date(year, month, two(digits[4], digits[5])).ok())
            .ok_or_else(|| IinError::BirthDate {
                value: value(),
                yymmdd: input.chars().take(6).collect(),
                century,
            })?;

        let Some(expected) = check_digit(&body(&digits)) else {
            return Err(IinError::Unassignable {
                prefix: input.chars().take(11).collect(),
            });
        };
        if expected != digits[11] {
            return Err(IinError::CheckDigit {
                value: value(),
                expected,
                found: digits[11],
            });
        }

        Ok(Self {
            ascii: to_ascii(&digits),
            birth_date,
            sex,
        })
    }

    /// Builds the IIN for a birth date, sex and serial (0–9999).
    ///
    /// Returns [`IinError::Unassignable`] when this serial's check digit would be 10 under
    /// both weight sets; callers then try the next serial, as [`Iin::generate_from`] does.
    pub fn generate(birth_date: Date, sex: Sex, serial: u16) -> Result<Self, IinError> {
        if serial > IIN_SERIAL_MAX {
            return Err(IinError::Serial { serial });
        }
        let century_sex: u8 = match (birth_date.year(), sex) {
            (1800..=1899, Sex::Male) => 1,
            (1800..=1899, Sex::Female) => 2,
            (1900..=1999, Sex::Male) => 3,
            (1900..=1999, Sex::Female) => 4,
            (2000..=2099, Sex::Male) => 5,
            (2000..=2099, Sex::Female) => 6,
            _ => return Err(IinError::DateOutOfRange { date: birth_date }),
        };

        let mut digits = [0u8; LEN];
        // `rem_euclid` keeps the year's last two digits non-negative; the range is checked above.
        put_decimal(
            &mut digits[0..2],
            u32::try_from(birth_date.year().rem_euclid(100)).unwrap_or(0),
        );
        put_decimal(&mut digits[2..4], u32::from(u8::from(birth_date.month())));
        put_decimal(&mut digits[4..6], u32::from(birth_date.day()));
        digits[6] = century_sex;
        put_decimal(&mut digits[7..11], u32::from(serial));

        let Some(check) = check_digit(&body(&digits)) else {
            let ascii = to_ascii(&digits);
            return Err(IinError::Unassignable {
                prefix: ascii_str(&ascii).chars().take(11).collect(),
            });
        };
        digits[11] = check;

        Ok(Self {
            ascii: to_ascii(&digits),
            birth_date,
            sex,
        })
    }

    /// Builds the first valid IIN for a birth date and sex, trying serials from `serial_start`
    /// upwards and skipping the unassignable ones.
    pub fn generate_from(birth_date: Date, sex: Sex, serial_start: u16) -> Result<Self, IinError> {
        if serial_start > IIN_SERIAL_MAX {
            return Err(IinError::Serial {
                serial: serial_start,
            });
        }
        let mut last = IinError::Serial {
            serial: serial_start,
        };
        for serial in serial_start..=IIN_SERIAL_MAX {
            match Self::generate(birth_date, sex, serial) {
                Err(error @ IinError::Unassignable { .. }) => last = error,
                other => return other,
            }
        }
        Err(last)
    }

    /// Returns the 12 digits.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.ascii)
    }

    /// Returns the birth date the first seven digits encode.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Returns the sex the seventh digit encodes.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// Returns the 4-digit serial (digits 8–11).
    pub fn serial(&self) -> u16 {
        self.ascii[7..11]
            .iter()
            .fold(0, |acc, &c| acc * 10 + u16::from(c - b'0'))
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({})", self.as_str())
    }
}

impl FromStr for Iin {
    type Err = IinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Iin {
    type Error = IinError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl TryFrom<&str> for Iin {
    type Error = IinError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Iin> for String {
    fn from(iin: Iin) -> Self {
        iin.as_str().to_owned()
    }
}

impl Serialize for Iin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Kind of organisation a BIN's fifth digit encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinKind {
    /// Resident legal entity (резидент заңды тұлға / юридическое лицо-резидент): digit 4.
    ResidentLegalEntity,
    /// Non-resident legal entity (юридическое лицо-нерезидент): digit 5.
    NonResidentLegalEntity,
    /// Joint business or individual entrepreneur (ИП совместного предпринимательства): digit 6.
    IndividualEntrepreneur,
}

impl BinKind {
    /// Returns the digit that encodes this kind.
    pub fn digit(self) -> u8 {
        match self {
            Self::ResidentLegalEntity => 4,
            Self::NonResidentLegalEntity => 5,
            Self::IndividualEntrepreneur => 6,
        }
    }

    /// Returns the kind a digit encodes, if any.
    pub fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            4 => Some(Self::ResidentLegalEntity),
            5 => Some(Self::NonResidentLegalEntity),
            6 => Some(Self::IndividualEntrepreneur),
            _ => None,
        }
    }
}

/// Attribute a BIN's sixth digit encodes: which part of the organisation it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinAttribute {
    /// Head office (бас ұйым / головное подразделение): digit 0.
    HeadOffice,
    /// Branch (филиал): digit 1.
    Branch,
    /// Representative office (өкілдік / представительство): digit 2.
    RepresentativeOffice,
    /// Peasant or farm enterprise (шаруа қожалығы / крестьянское хозяйство): digit 3.
    PeasantFarm,
}

impl BinAttribute {
    /// Returns the digit that encodes this attribute.
    pub fn digit(self) -> u8 {
        match self {
            Self::HeadOffice => 0,
            Self::Branch => 1,
            Self::RepresentativeOffice => 2,
            Self::PeasantFarm => 3,
        }
    }

    /// Returns the attribute a digit encodes, if any.
    pub fn from_digit(digit: u8) -> Option<Self> {
        match digit {
            0 => Some(Self::HeadOffice),
            1 => Some(Self::Branch),
            2 => Some(Self::RepresentativeOffice),
            3 => Some(Self::PeasantFarm),
            _ => None,
        }
    }
}

/// Why a string is not a valid BIN, or why a BIN cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinError {
    /// The input does not have 12 characters.
    #[error("BIN `{value}` has {length} characters, the length check expects 12")]
    Length {
        /// The input (shortened when long).
        value: String,
        /// Number of characters found.
        length: usize,
    },
    /// A character is not an ASCII digit.
    #[error("BIN `{value}` has `{found}` at position {position}, the digit check expects 0-9")]
    NonDigit {
        /// The input (shortened when long).
        value: String,
        /// 1-based position of the character.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Digits 3–4 are not a month 01–12.
    #[error("BIN `{value}` has registration month {month:02}, which must be 01-12")]
    Month {
        /// The input.
        value: String,
        /// The month digits found.
        month: u8,
    },
    /// The fifth digit is not 4, 5 or 6.
    #[error("BIN `{value}` has entity-kind digit {digit} at position 5, which must be 4, 5 or 6")]
    Kind {
        /// The input.
        value: String,
        /// The digit found.
        digit: u8,
    },
    /// The sixth digit is not 0–3.
    #[error("BIN `{value}` has attribute digit {digit} at position 6, which must be 0-3")]
    Attribute {
        /// The input.
        value: String,
        /// The digit found.
        digit: u8,
    },
    /// The last digit differs from the computed check digit.
    #[error("BIN `{value}` has check digit {found}, the checksum expects {expected}")]
    CheckDigit {
        /// The input.
        value: String,
        /// The check digit computed from the first 11 digits.
        expected: u8,
        /// The twelfth digit found.
        found: u8,
    },
    /// Both weight sets give 10, so no number with these 11 digits is ever assigned.
    #[error("BIN digits `{prefix}` are unassignable: the checksum gives 10 with both weight sets")]
    Unassignable {
        /// The first 11 digits.
        prefix: String,
    },
    /// The generator was given a year outside the two-digit window.
    #[error("registration year {year} is outside 1991-2090, the window a BIN's year digits cover")]
    YearOutOfRange {
        /// The year given.
        year: i32,
    },
    /// The generator was given a serial wider than five digits.
    #[error("BIN serial {serial} does not fit the five serial digits (0-99999)")]
    Serial {
        /// The serial given.
        serial: u32,
    },
}

impl BinError {
    /// Maps a shape error of `input` to the BIN variant.
    fn shape(input: &str, error: ShapeError) -> Self {
        let value = excerpt(input);
        match error {
            ShapeError::Length(length) => Self::Length { value, length },
            ShapeError::NonDigit { position, found } => Self::NonDigit {
                value,
                position,
                found,
            },
        }
    }
}

/// A business identification number (бизнес-сәйкестендіру нөмірі, БСН / бизнес-
/// идентификационный номер, БИН): YYMM, kind, attribute, 5-digit serial, check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Bin {
    /// ASCII digits, validated on construction.
    ascii: [u8; LEN],
}

impl Bin {
    /// Parses and validates a BIN: length, digits, month, kind, attribute, check digit.
    pub fn parse(input: &str) -> Result<Self, BinError> {
        let digits = digits_of(input).map_err(|e| BinError::shape(input, e))?;
        let value = || input.to_owned();

        let month = two(digits[2], digits[3]);
        if !(1..=12).contains(&month) {
            return Err(BinError::Month {
                value: value(),
                month,
            });
        }
        if BinKind::from_digit(digits[4]).is_none() {
            return Err(BinError::Kind {
                value: value(),
                digit: digits[4],
            });
        }
        if BinAttribute::from_digit(digits[5]).is_none() {
            return Err(BinError::Attribute {
                value: value(),
                digit: digits[5],
            });
        }

        let Some(expected) = check_digit(&body(&digits)) else {
            return Err(BinError::Unassignable {
                prefix: input.chars().take(11).collect(),
            });
        };
        if expected != digits[11] {
            return Err(BinError::CheckDigit {
                value: value(),
                expected,
                found: digits[11],
            });
        }

        Ok(Self {
            ascii: to_ascii(&digits),
        })
    }

    /// Builds the BIN for a registration year (1991–2090) and month, kind, attribute and
    /// serial (0–99999).
    ///
    /// Returns [`BinError::Unassignable`] when this serial's check digit would be 10 under
    /// both weight sets; callers then try the next serial, as [`Bin::generate_from`] does.
    pub fn generate(
        year: i32,
        month: Month,
        kind: BinKind,
        attribute: BinAttribute,
        serial: u32,
    ) -> Result<Self, BinError> {
        if !(BIN_FIRST_YEAR..=BIN_LAST_YEAR).contains(&year) {
            return Err(BinError::YearOutOfRange { year });
        }
        if serial > BIN_SERIAL_MAX {
            return Err(BinError::Serial { serial });
        }

        let mut digits = [0u8; LEN];
        put_decimal(
            &mut digits[0..2],
            u32::try_from(year.rem_euclid(100)).unwrap_or(0),
        );
        put_decimal(&mut digits[2..4], u32::from(u8::from(month)));
        digits[4] = kind.digit();
        digits[5] = attribute.digit();
        put_decimal(&mut digits[6..11], serial);

        let Some(check) = check_digit(&body(&digits)) else {
            let ascii = to_ascii(&digits);
            return Err(BinError::Unassignable {
                prefix: ascii_str(&ascii).chars().take(11).collect(),
            });
        };
        digits[11] = check;

        Ok(Self {
            ascii: to_ascii(&digits),
        })
    }

    /// Builds the first valid BIN for the given registration data, trying serials from
    /// `serial_start` upwards and skipping the unassignable ones.
    pub fn generate_from(
        year: i32,
        month: Month,
        kind: BinKind,
        attribute: BinAttribute,
        serial_start: u32,
    ) -> Result<Self, BinError> {
        if serial_start > BIN_SERIAL_MAX {
            return Err(BinError::Serial {
                serial: serial_start,
            });
        }
        let mut last = BinError::Serial {
            serial: serial_start,
        };
        for serial in serial_start..=BIN_SERIAL_MAX {
            match Self::generate(year, month, kind, attribute, serial) {
                Err(error @ BinError::Unassignable { .. }) => last = error,
                other => return other,
            }
        }
        Err(last)
    }

    /// Returns the 12 digits.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.ascii)
    }

    /// Returns the digit value at a 0-based index.
    fn digit(&self, index: usize) -> u8 {
        self.ascii[index] - b'0'
    }

    /// Returns the registration year, reading the two year digits in the 1991–2090 window.
    pub fn registration_year(&self) -> i32 {
        let yy = i32::from(two(self.digit(0), self.digit(1)));
        let year = 1900 + yy;
        if year < BIN_FIRST_YEAR {
            year + 100
        } else {
            year
        }
    }

    /// Returns the registration month (digits 3–4).
    pub fn registration_month(&self) -> Month {
        // Parsing checked the month is 1–12; January is only a fallback that cannot happen.
        Month::try_from(two(self.digit(2), self.digit(3))).unwrap_or(Month::January)
    }

    /// Returns the kind of organisation (digit 5).
    pub fn kind(&self) -> BinKind {
        // Parsing checked the digit; the fallback cannot happen.
        BinKind::from_digit(self.digit(4)).unwrap_or(BinKind::ResidentLegalEntity)
    }

    /// Returns the organisation's attribute (digit 6).
    pub fn attribute(&self) -> BinAttribute {
        // Parsing checked the digit; the fallback cannot happen.
        BinAttribute::from_digit(self.digit(5)).unwrap_or(BinAttribute::HeadOffice)
    }

    /// Returns the 5-digit serial (digits 7–11).
    pub fn serial(&self) -> u32 {
        self.ascii[6..11]
            .iter()
            .fold(0, |acc, &c| acc * 10 + u32::from(c - b'0'))
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bin({})", self.as_str())
    }
}

impl FromStr for Bin {
    type Err = BinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Bin {
    type Error = BinError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl TryFrom<&str> for Bin {
    type Error = BinError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Bin> for String {
    fn from(bin: Bin) -> Self {
        bin.as_str().to_owned()
    }
}

impl Serialize for Bin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    // 900101300017: born 1990-01-01, digit 7 = 3 (1900s, male), serial 0001.
    // First weights: 9·1 + 0·2 + 0·3 + 1·4 + 0·5 + 1·6 + 3·7 + 0·8 + 0·9 + 0·10 + 1·11
    //              = 9 + 4 + 6 + 21 + 11 = 51; 51 mod 11 = 7 → check digit 7.
    const IIN_MALE_1990: &str = "900101300017";

    // 850715400028: born 1985-07-15, digit 7 = 4 (1900s, female), serial 0002.
    // First weights: 8·1 + 5·2 + 0·3 + 7·4 + 1·5 + 5·6 + 4·7 + 0·8 + 0·9 + 0·10 + 2·11
    //              = 8 + 10 + 28 + 5 + 30 + 28 + 22 = 131; 131 mod 11 = 10 → second set.
    // Second weights: 8·3 + 5·4 + 0·5 + 7·6 + 1·7 + 5·8 + 4·9 + 0·10 + 0·11 + 0·1 + 2·2
    //              = 24 + 20 + 42 + 7 + 40 + 36 + 4 = 173; 173 mod 11 = 8 → check digit 8.
    const IIN_FEMALE_1985_SECOND_WEIGHTS: &str = "850715400028";

    // 85071540003?: the same person with serial 0003 changes only the 11th digit (2 → 3).
    // First weights: 131 - 2·11 + 3·11 = 142; 142 mod 11 = 10.
    // Second weights: 173 - 2·2 + 3·2 = 175; 175 mod 11 = 10 → no check digit exists.
    const IIN_UNASSIGNABLE_PREFIX: &str = "85071540003";

    // 240340000019: registered 2024-03, kind 4 (resident legal entity), attribute 0 (head
    // office), serial 00001.
    // First weights: 2·1 + 4·2 + 0·3 + 3·4 + 4·5 + 0·6 + 0·7 + 0·8 + 0·9 + 0·10 + 1·11
    //              = 2 + 8 + 12 + 20 + 11 = 53; 53 mod 11 = 9 → check digit 9.
    const BIN_RESIDENT_2024: &str = "240340000019";

    // 150641000703: registered 2015-06, kind 4, attribute 1 (branch), serial 00070.
    // First weights: 1·1 + 5·2 + 0·3 + 6·4 + 4·5 + 1·6 + 0·7 + 0·8 + 0·9 + 7·10 + 0·11
    //              = 1 + 10 + 24 + 20 + 6 + 70 = 131; 131 mod 11 = 10 → second set.
    // Second weights: 1·3 + 5·4 + 0·5 + 6·6 + 4·7 + 1·8 + 0·9 + 0·10 + 0·11 + 7·1 + 0·2
    //              = 3 + 20 + 36 + 28 + 8 + 7 = 102; 102 mod 11 = 3 → check digit 3.
    const BIN_BRANCH_2015_SECOND_WEIGHTS: &str = "150641000703";

    // 15064100079?: first 131 + 9·11 = 230 mod 11 = 10; second 102 + 9·2 = 120 mod 11 = 10.
    const BIN_UNASSIGNABLE_PREFIX: &str = "15064100079";

    #[test]
    fn hand_checked_iin_parses_with_its_birth_date_and_sex() {
        let iin = Iin::parse(IIN_MALE_1990).unwrap();
        assert_eq!(iin.birth_date(), date!(1990 - 01 - 01));
        assert_eq!(iin.sex(), Sex::Male);
        assert_eq!(iin.serial(), 1);
        assert_eq!(iin.as_str(), IIN_MALE_1990);
        assert_eq!(iin.to_string(), IIN_MALE_1990);
    }

    #[test]
    fn iin_whose_first_sum_is_ten_uses_the_second_weights() {
        let iin = Iin::parse(IIN_FEMALE_1985_SECOND_WEIGHTS).unwrap();
        assert_eq!(iin.birth_date(), date!(1985 - 07 - 15));
        assert_eq!(iin.sex(), Sex::Female);
    }

    #[test]
    fn iin_born_in_the_2000s_and_1800s_parses() {
        let girl = Iin::generate(date!(2004 - 12 - 25), Sex::Female, 1).unwrap();
        assert_eq!(&girl.as_str()[..7], "0412256");
        let elder = Iin::generate(date!(1899 - 12 - 31), Sex::Male, 1).unwrap();
        assert_eq!(&elder.as_str()[..7], "9912311");
        assert_eq!(
            Iin::parse(elder.as_str()).unwrap().birth_date(),
            date!(1899 - 12 - 31)
        );
    }

    #[test]
    fn iin_with_wrong_check_digit_is_refused_naming_both_digits() {
        let err = Iin::parse("900101300018").unwrap_err();
        assert_eq!(
            err,
            IinError::CheckDigit {
                value: "900101300018".into(),
                expected: 7,
                found: 8
            }
        );
        assert!(err.to_string().contains("expects 7"), "{err}");
    }

    #[test]
    fn iin_with_letters_is_refused() {
        let err = Iin::parse("90010130001A").unwrap_err();
        assert!(matches!(
            err,
            IinError::NonDigit {
                position: 12,
                found: 'A',
                ..
            }
        ));
    }

    #[test]
    fn iin_with_cyrillic_or_unicode_digits_is_refused_without_panic() {
        assert!(matches!(
            Iin::parse("９００１０１３０００１７").unwrap_err(),
            IinError::NonDigit { position: 1, .. }
        ));
        assert!(matches!(
            Iin::parse("ИИН901013000").unwrap_err(),
            IinError::NonDigit {
                position: 1,
                found: 'И',
                ..
            }
        ));
    }

    #[test]
    fn iin_of_wrong_length_is_refused_naming_the_length() {
        let err = Iin::parse("90010130001").unwrap_err();
        assert!(matches!(err, IinError::Length { length: 11, .. }));
        assert!(err.to_string().contains("11 characters"), "{err}");
        assert!(matches!(
            Iin::parse("").unwrap_err(),
            IinError::Length { length: 0, .. }
        ));
        let long = "9".repeat(10_000);
        let err = Iin::parse(&long).unwrap_err();
        assert!(
            err.to_string().len() < 200,
            "the message keeps only an excerpt"
        );
    }

    #[test]
    fn iin_with_month_thirteen_is_refused() {
        // 901301 3 0001 ?: the check digit does not matter, the date is checked first.
        let err = Iin::parse("901301300010").unwrap_err();
        assert!(
            matches!(err, IinError::BirthDate { century: 1900, .. }),
            "{err}"
        );
    }

    #[test]
    fn iin_born_on_29_february_of_a_common_year_is_refused() {
        let err = Iin::parse("010229500010").unwrap_err();
        assert!(
            matches!(err, IinError::BirthDate { century: 2000, .. }),
            "{err}"
        );
        // 2000 is a leap year, 1900 is not: the century digit decides.
        assert!(Iin::generate(date!(2000 - 02 - 29), Sex::Male, 5).is_ok());
        assert!(matches!(
            Iin::parse("000229300010").unwrap_err(),
            IinError::BirthDate { century: 1900, .. }
        ));
    }

    #[test]
    fn iin_with_century_digit_zero_or_seven_is_refused() {
        for (input, digit) in [
            ("900101000017", 0),
            ("900101700017", 7),
            ("900101900017", 9),
        ] {
            let err = Iin::parse(input).unwrap_err();
            assert_eq!(
                err,
                IinError::CenturySex {
                    value: input.into(),
                    digit
                }
            );
        }
    }

    #[test]
    fn iin_whose_check_digit_would_be_ten_twice_is_unassignable() {
        let birth = date!(1985 - 07 - 15);
        let err = Iin::generate(birth, Sex::Female, 3).unwrap_err();
        assert_eq!(
            err,
            IinError::Unassignable {
                prefix: IIN_UNASSIGNABLE_PREFIX.into()
            }
        );
        for last in '0'..='9' {
            let input = format!("{IIN_UNASSIGNABLE_PREFIX}{last}");
            assert!(matches!(
                Iin::parse(&input).unwrap_err(),
                IinError::Unassignable { .. }
            ));
        }
        // The helper skips serial 0003 and takes 0004.
        let next = Iin::generate_from(birth, Sex::Female, 3).unwrap();
        assert_eq!(next.serial(), 4);
    }

    #[test]
    fn iin_generator_refuses_dates_outside_1800_to_2099_and_wide_serials() {
        assert!(matches!(
            Iin::generate(date!(2100 - 01 - 01), Sex::Male, 1).unwrap_err(),
            IinError::DateOutOfRange { .. }
        ));
        assert!(matches!(
            Iin::generate(date!(1799 - 12 - 31), Sex::Female, 1).unwrap_err(),
            IinError::DateOutOfRange { .. }
        ));
        assert!(matches!(
            Iin::generate(date!(1990 - 01 - 01), Sex::Female, 10_000).unwrap_err(),
            IinError::Serial { serial: 10_000 }
        ));
        assert!(Iin::generate_from(date!(1990 - 01 - 01), Sex::Female, 10_000).is_err());
    }

    #[test]
    fn iin_round_trips_through_serde_as_a_string_and_refuses_invalid_input() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Person {
            iin: Iin,
        }
        let person = Person {
            iin: Iin::parse(IIN_MALE_1990).unwrap(),
        };
        let text = toml::to_string(&person).unwrap();
        assert_eq!(text.trim(), format!("iin = \"{IIN_MALE_1990}\""));
        assert_eq!(toml::from_str::<Person>(&text).unwrap(), person);
        let err = toml::from_str::<Person>("iin = \"900101300018\"").unwrap_err();
        assert!(err.to_string().contains("check digit"), "{err}");
    }

    #[test]
    fn hand_checked_bin_parses_with_its_kind_and_attribute() {
        let bin = Bin::parse(BIN_RESIDENT_2024).unwrap();
        assert_eq!(bin.registration_year(), 2024);
        assert_eq!(bin.registration_month(), Month::March);
        assert_eq!(bin.kind(), BinKind::ResidentLegalEntity);
        assert_eq!(bin.attribute(), BinAttribute::HeadOffice);
        assert_eq!(bin.serial(), 1);
        assert_eq!(bin.to_string(), BIN_RESIDENT_2024);
    }

    #[test]
    fn bin_whose_first_sum_is_ten_uses_the_second_weights() {
        let bin = Bin::parse(BIN_BRANCH_2015_SECOND_WEIGHTS).unwrap();
        assert_eq!(bin.registration_year(), 2015);
        assert_eq!(bin.registration_month(), Month::June);
        assert_eq!(bin.attribute(), BinAttribute::Branch);
        assert_eq!(bin.serial(), 70);
    }

    #[test]
    fn bin_of_the_nineties_reads_as_the_1900s() {
        let bin = Bin::generate(
            1994,
            Month::November,
            BinKind::NonResidentLegalEntity,
            BinAttribute::RepresentativeOffice,
            123,
        )
        .unwrap();
        assert!(bin.as_str().starts_with("941152"));
        assert_eq!(bin.registration_year(), 1994);
    }

    #[test]
    fn bin_with_wrong_check_digit_is_refused_naming_both_digits() {
        assert_eq!(
            Bin::parse("240340000010").unwrap_err(),
            BinError::CheckDigit {
                value: "240340000010".into(),
                expected: 9,
                found: 0
            }
        );
    }

    #[test]
    fn bin_with_letters_or_wrong_length_is_refused() {
        assert!(matches!(
            Bin::parse("24034000001x").unwrap_err(),
            BinError::NonDigit {
                position: 12,
                found: 'x',
                ..
            }
        ));
        assert!(matches!(
            Bin::parse("2403400000191").unwrap_err(),
            BinError::Length { length: 13, .. }
        ));
    }

    #[test]
    fn bin_with_month_zero_or_thirteen_is_refused() {
        assert!(matches!(
            Bin::parse("240040000019").unwrap_err(),
            BinError::Month { month: 0, .. }
        ));
        assert!(matches!(
            Bin::parse("241340000019").unwrap_err(),
            BinError::Month { month: 13, .. }
        ));
    }

    #[test]
    fn bin_with_bad_kind_or_attribute_digit_is_refused() {
        assert!(matches!(
            Bin::parse("240370000019").unwrap_err(),
            BinError::Kind { digit: 7, .. }
        ));
        assert!(matches!(
            Bin::parse("240344000019").unwrap_err(),
            BinError::Attribute { digit: 4, .. }
        ));
    }

    #[test]
    fn bin_whose_check_digit_would_be_ten_twice_is_unassignable() {
        let make = |serial| {
            Bin::generate(
                2015,
                Month::June,
                BinKind::ResidentLegalEntity,
                BinAttribute::Branch,
                serial,
            )
        };
        assert_eq!(
            make(79).unwrap_err(),
            BinError::Unassignable {
                prefix: BIN_UNASSIGNABLE_PREFIX.into()
            }
        );
        let next = Bin::generate_from(
            2015,
            Month::June,
            BinKind::ResidentLegalEntity,
            BinAttribute::Branch,
            79,
        )
        .unwrap();
        assert_eq!(next.serial(), 80);
    }

    #[test]
    fn bin_generator_refuses_years_outside_the_window_and_wide_serials() {
        let make = |year, serial| {
            Bin::generate(
                year,
                Month::January,
                BinKind::IndividualEntrepreneur,
                BinAttribute::PeasantFarm,
                serial,
            )
        };
        assert!(matches!(
            make(1990, 1).unwrap_err(),
            BinError::YearOutOfRange { year: 1990 }
        ));
        assert!(matches!(
            make(2091, 1).unwrap_err(),
            BinError::YearOutOfRange { year: 2091 }
        ));
        assert!(matches!(
            make(2024, 100_000).unwrap_err(),
            BinError::Serial { serial: 100_000 }
        ));
    }

    #[test]
    fn bin_round_trips_through_serde_as_a_string() {
        let bin = Bin::parse(BIN_RESIDENT_2024).unwrap();
        let value = toml::Value::try_from(bin).unwrap();
        assert_eq!(value.as_str(), Some(BIN_RESIDENT_2024));
        assert_eq!(value.try_into::<Bin>().unwrap(), bin);
        assert!(
            toml::Value::String("240340000010".into())
                .try_into::<Bin>()
                .is_err()
        );
    }

    fn any_birth_date() -> impl Strategy<Value = Date> {
        let first = Date::from_calendar_date(1800, Month::January, 1).unwrap();
        let last = Date::from_calendar_date(2099, Month::December, 31).unwrap();
        (first.to_julian_day()..=last.to_julian_day())
            .prop_map(|day| Date::from_julian_day(day).unwrap())
    }

    fn any_month() -> impl Strategy<Value = Month> {
        (1u8..=12).prop_map(|m| Month::try_from(m).unwrap())
    }

    proptest! {
        #[test]
        fn every_generated_iin_parses_back_to_the_same_birth_date_and_sex(
            birth in any_birth_date(),
            female in any::<bool>(),
            serial in 0u16..=9_000,
        ) {
            let sex = if female { Sex::Female } else { Sex::Male };
            let iin = Iin::generate_from(birth, sex, serial).unwrap();
            let parsed = Iin::parse(iin.as_str()).unwrap();
            prop_assert_eq!(parsed, iin);
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.sex(), sex);
        }

        #[test]
        fn every_generated_bin_parses_back_to_the_same_registration_data(
            year in BIN_FIRST_YEAR..=BIN_LAST_YEAR,
            month in any_month(),
            kind in 4u8..=6,
            attribute in 0u8..=3,
            serial in 0u32..=90_000,
        ) {
            let kind = BinKind::from_digit(kind).unwrap();
            let attribute = BinAttribute::from_digit(attribute).unwrap();
            let bin = Bin::generate_from(year, month, kind, attribute, serial).unwrap();
            let parsed = Bin::parse(bin.as_str()).unwrap();
            prop_assert_eq!(parsed, bin);
            prop_assert_eq!(parsed.registration_year(), year);
            prop_assert_eq!(parsed.registration_month(), month);
            prop_assert_eq!(parsed.kind(), kind);
            prop_assert_eq!(parsed.attribute(), attribute);
        }

        #[test]
        fn parsing_any_string_never_panics(input in "\\PC{0,20}") {
            let _ = Iin::parse(&input);
            let _ = Bin::parse(&input);
        }

        #[test]
        fn parsing_any_twelve_digits_never_panics(input in "[0-9]{12}") {
            if let Ok(iin) = Iin::parse(&input) {
                prop_assert_eq!(iin.as_str(), input.as_str());
            }
            if let Ok(bin) = Bin::parse(&input) {
                prop_assert_eq!(bin.as_str(), input.as_str());
            }
        }
    }
}
