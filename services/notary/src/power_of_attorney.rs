//! [`PowerOfAttorney`] (сенімхат / доверенность): a notarised power of attorney as the
//! registry keeps it, the rules its fields follow, and how its validity on a date is judged.

use egov_core::Iin;
use egov_core::calendar::KAZAKHSTAN_OFFSET;
use egov_proto::v1::{PowerOfAttorneyResponse, PowerOfAttorneyValidity};
use time::{Date, OffsetDateTime};

use crate::NotaryError;

/// The longest registry number accepted.
pub const MAX_NUMBER_LEN: usize = 64;

/// The longest notary name accepted.
pub const MAX_NOTARY_NAME_LEN: usize = 200;

/// The longest service id accepted.
pub const MAX_SERVICE_ID_LEN: usize = 128;

/// The most service ids one power of attorney may list.
pub const MAX_SERVICE_IDS: usize = 32;

/// The public-service codes of FLOWS.md a power of attorney may name instead of a service id.
pub const SERVICE_CODES: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

/// Characters a registry number may hold besides letters and digits.
const NUMBER_PUNCTUATION: &str = "-/._№";

/// A notarised power of attorney (сенімхат / доверенность) in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerOfAttorney {
    /// Registration number in the registry, unique.
    pub number: String,
    /// The principal (сенім білдіруші / доверитель), who grants the authority.
    pub principal_iin: Iin,
    /// The representative (өкіл / представитель), who acts by it.
    pub representative_iin: Iin,
    /// Service ids or public-service codes (A–F) it covers; empty covers every service.
    pub service_ids: Vec<String>,
    /// The notary who certified it.
    pub notary_name: String,
    /// Date it was certified.
    pub issue_date: Date,
    /// Last date it is in force (inclusive).
    pub expiry_date: Date,
    /// Whether the principal revoked it.
    pub revoked: bool,
}

impl PowerOfAttorney {
    /// Returns whether it covers `service_id`: it lists no service (all) or lists this one.
    ///
    /// Ids and codes are matched literally: a power for `C` does not cover the id of
    /// E-sobes's service C, since the registry holds no catalogue to map one to the other.
    pub fn covers(&self, service_id: &str) -> bool {
        self.service_ids.is_empty() || self.service_ids.iter().any(|id| id == service_id)
    }

    /// Judges the power on `date` for `service_id` (`None` skips the service check).
    ///
    /// Revocation wins over expiry (it is the principal's own act); a power certified after
    /// `date` did not exist yet, so it is NOT_FOUND, as a number never registered is.
    pub fn validity_on(&self, date: Date, service_id: Option<&str>) -> PowerOfAttorneyValidity {
        if self.issue_date > date {
            PowerOfAttorneyValidity::NotFound
        } else if self.revoked {
            PowerOfAttorneyValidity::Revoked
        } else if self.expiry_date < date {
            PowerOfAttorneyValidity::Expired
        } else if service_id.is_some_and(|id| !self.covers(id)) {
            PowerOfAttorneyValidity::ServiceNotCovered
        } else {
            PowerOfAttorneyValidity::Valid
        }
    }

    /// Returns the wire message.
    pub fn to_proto(&self) -> egov_proto::v1::PowerOfAttorney {
        egov_proto::v1::PowerOfAttorney {
            number: self.number.clone(),
            principal_iin: self.principal_iin.to_string(),
            representative_iin: self.representative_iin.to_string(),
            service_ids: self.service_ids.clone(),
            notary_name: self.notary_name.clone(),
            issue_date: Some(date_to_proto(self.issue_date)),
            expiry_date: Some(date_to_proto(self.expiry_date)),
            revoked: self.revoked,
        }
    }
}

/// Builds the registry's answer for one candidate (or none) on `date` for `service_id`.
///
/// A NOT_FOUND answer carries no record, so a power certified after `date` stays unseen.
pub fn answer(
    power: Option<&PowerOfAttorney>,
    date: Date,
    service_id: Option<&str>,
) -> PowerOfAttorneyResponse {
    let validity = power.map_or(PowerOfAttorneyValidity::NotFound, |power| {
        power.validity_on(date, service_id)
    });
    PowerOfAttorneyResponse {
        validity: validity as i32,
        power_of_attorney: match validity {
            PowerOfAttorneyValidity::NotFound => None,
            _ => power.map(PowerOfAttorney::to_proto),
        },
    }
}

/// Picks the power to answer with among several between one pair: a valid one if any,
/// otherwise the most recent (latest issue date, then highest number), as of `date`.
pub fn choose<'a>(
    powers: &'a [PowerOfAttorney],
    date: Date,
    service_id: Option<&str>,
) -> Option<&'a PowerOfAttorney> {
    let existing = powers.iter().filter(|power| power.issue_date <= date);
    let recency = |power: &&PowerOfAttorney| (power.issue_date, power.number.clone());
    existing
        .clone()
        .filter(|power| power.validity_on(date, service_id) == PowerOfAttorneyValidity::Valid)
        .max_by_key(recency)
        .or_else(|| existing.max_by_key(recency))
}

/// Returns the date of `time` in Kazakhstan, the calendar powers of attorney are dated in.
pub fn local_date(time: OffsetDateTime) -> Date {
    time.checked_to_offset(KAZAKHSTAN_OFFSET)
        .unwrap_or(time)
        .date()
}

/// Converts a date to the wire `egov.v1.Date`.
pub fn date_to_proto(date: Date) -> egov_proto::v1::Date {
    egov_proto::v1::Date {
        year: date.year(),
        month: i32::from(u8::from(date.month())),
        day: i32::from(date.day()),
    }
}

/// Parses an ISO date (`2026-11-25`).
pub fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| format!("{text:?} is not a date in the form YYYY-MM-DD"))
}

/// Formats a date as ISO (`2026-11-25`), the form the store and the JSON use.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Checks a registry number: not empty, no surrounding spaces, at most
/// [`MAX_NUMBER_LEN`] letters, digits or `-/._№`.
pub fn check_number(number: &str) -> Result<(), String> {
    if number.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if number.chars().count() > MAX_NUMBER_LEN {
        return Err(format!("is longer than {MAX_NUMBER_LEN} characters"));
    }
    if let Some(bad) = number
        .chars()
        .find(|c| !(c.is_alphanumeric() || NUMBER_PUNCTUATION.contains(*c)))
    {
        return Err(format!(
            "{number:?} holds {bad:?}; only letters, digits and {NUMBER_PUNCTUATION} are allowed"
        ));
    }
    Ok(())
}

/// Checks a service a power may cover or a representative may act for: a public-service
/// code `A`–`F`, or a dotted service id such as `esobes.benefit.assign`.
pub fn check_service_id(service_id: &str) -> Result<(), String> {
    if SERVICE_CODES.contains(&service_id) {
        return Ok(());
    }
    let well_formed = service_id.len() <= MAX_SERVICE_ID_LEN
        && service_id.split('.').count() >= 2
        && service_id.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        });
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "{service_id:?} is neither a public-service code A-F nor a service id like `labor.certificate.issue`"
        ))
    }
}

/// Parses an IIN field of a request, naming the field when it is malformed.
pub fn parse_iin(field: &'static str, value: &str) -> Result<Iin, NotaryError> {
    if value.is_empty() {
        return Err(NotaryError::invalid(field, "must not be empty"));
    }
    Iin::parse(value).map_err(|error| NotaryError::invalid(field, error.to_string()))
}

/// Parses the optional `service_id` of a look-up: empty skips the service check.
pub fn parse_asked_service(service_id: &str) -> Result<Option<&str>, NotaryError> {
    if service_id.is_empty() {
        return Ok(None);
    }
    check_service_id(service_id).map_err(|reason| NotaryError::invalid("service_id", reason))?;
    Ok(Some(service_id))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn power(number: &str, issued: Date, expires: Date) -> PowerOfAttorney {
        PowerOfAttorney {
            number: number.into(),
            principal_iin: Iin::parse("850102300131").unwrap(),
            representative_iin: Iin::parse("881111300454").unwrap(),
            service_ids: Vec::new(),
            notary_name: "Ахметова Гульнара Сериковна".into(),
            issue_date: issued,
            expiry_date: expires,
            revoked: false,
        }
    }

    #[test]
    fn a_power_is_valid_through_its_expiry_date_and_expired_the_day_after() {
        let power = power("1", date!(2026 - 01 - 01), date!(2026 - 12 - 31));
        assert_eq!(
            power.validity_on(date!(2026 - 12 - 31), None),
            PowerOfAttorneyValidity::Valid
        );
        assert_eq!(
            power.validity_on(date!(2027 - 01 - 01), None),
            PowerOfAttorneyValidity::Expired
        );
    }

    #[test]
    fn revocation_wins_over_expiry_and_coverage() {
        let mut power = power("1", date!(2020 - 01 - 01), date!(2021 - 01 - 01));
        power.revoked = true;
        power.service_ids = vec!["C".into()];
        assert_eq!(
            power.validity_on(date!(2026 - 01 - 01), Some("B")),
            PowerOfAttorneyValidity::Revoked
        );
    }

    #[test]
    fn a_power_for_one_service_does_not_cover_another() {
        let mut power = power("1", date!(2026 - 01 - 01), date!(2028 - 01 - 01));
        power.service_ids = vec!["C".into()];
        let on = date!(2026 - 06 - 01);
        assert_eq!(
            power.validity_on(on, Some("C")),
            PowerOfAttorneyValidity::Valid
        );
        assert_eq!(
            power.validity_on(on, Some("B")),
            PowerOfAttorneyValidity::ServiceNotCovered
        );
        assert_eq!(power.validity_on(on, None), PowerOfAttorneyValidity::Valid);
    }

    #[test]
    fn a_power_certified_after_the_date_is_not_found_and_shows_no_record() {
        let power = power("1", date!(2026 - 06 - 01), date!(2028 - 01 - 01));
        let response = answer(Some(&power), date!(2026 - 05 - 31), None);
        assert_eq!(response.validity, PowerOfAttorneyValidity::NotFound as i32);
        assert_eq!(response.power_of_attorney, None);
    }

    #[test]
    fn choosing_prefers_a_valid_power_over_a_more_recent_revoked_one() {
        let valid = power("1", date!(2026 - 01 - 01), date!(2028 - 01 - 01));
        let mut revoked = power("2", date!(2026 - 05 - 01), date!(2028 - 01 - 01));
        revoked.revoked = true;
        let powers = [valid.clone(), revoked.clone()];
        let on = date!(2026 - 06 - 01);
        assert_eq!(choose(&powers, on, None), Some(&valid));
        // Without a valid one, the most recent answers.
        let expired = power("3", date!(2020 - 01 - 01), date!(2021 - 01 - 01));
        let powers = [expired, revoked.clone()];
        assert_eq!(choose(&powers, on, None), Some(&revoked));
        assert_eq!(choose(&[], on, None), None);
    }

    #[test]
    fn numbers_and_service_ids_follow_their_rules() {
        assert!(check_number("ENIS-000101").is_ok());
        assert!(check_number("1/234-№5").is_ok());
        assert!(check_number("").is_err());
        assert!(check_number("   ").is_err());
        assert!(check_number(" ENIS-1").is_err());
        assert!(check_number(&"9".repeat(MAX_NUMBER_LEN + 1)).is_err());
        assert!(check_service_id("C").is_ok());
        assert!(check_service_id("labor.certificate.issue").is_ok());
        assert!(check_service_id("notary.power-of-attorney.get").is_ok());
        assert!(check_service_id("G").is_err());
        assert!(check_service_id("c").is_err());
        assert!(check_service_id("labor").is_err());
        assert!(check_service_id("labor..issue").is_err());
        assert!(check_service_id("Labor.Issue").is_err());
    }

    #[test]
    fn dates_round_trip_through_their_iso_form() {
        let day = date!(2026 - 02 - 03);
        assert_eq!(format_date(day), "2026-02-03");
        assert_eq!(parse_date("2026-02-03"), Ok(day));
        assert!(parse_date("03.02.2026").is_err());
        assert!(parse_date("2026-02-30").is_err());
    }

    #[test]
    fn the_local_date_is_kazakhstans() {
        // 20:00 UTC is already the next day in Astana (UTC+5).
        let evening = time::macros::datetime!(2026-11-25 20:00 UTC);
        assert_eq!(local_date(evening), date!(2026 - 11 - 26));
    }
}
