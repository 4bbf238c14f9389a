//! The fixture powers of attorney the registry (БНАЖ / ЕНИС) loads on its first start, one
//! per validity a look-up can answer, so flows and tests have fixed numbers to ask for.
//!
//! Their dates count from the first start's date in Kazakhstan, so the valid ones stay
//! valid however long after a release the stack runs; `FIXTURES.md` lists them.

use egov_core::Iin;
use egov_core::clock::Clock;
use time::{Date, Duration};

use crate::NotaryError;
use crate::power_of_attorney::{PowerOfAttorney, local_date};
use crate::store::Store;

/// The name the fixture set is recorded under, so it loads once.
pub const FIXTURE_SET: &str = "fixtures-v1";

/// A power in force for every service: 850102300131 → 881111300454.
pub const VALID_NUMBER: &str = "ENIS-000101";

/// Principal of [`VALID_NUMBER`] (and of [`REVOKED_NUMBER`]).
pub const VALID_PRINCIPAL_IIN: &str = "850102300131";

/// Representative of [`VALID_NUMBER`] (and of [`REVOKED_NUMBER`]).
pub const VALID_REPRESENTATIVE_IIN: &str = "881111300454";

/// Days before the first start [`VALID_NUMBER`] was certified.
pub const VALID_ISSUED_DAYS_BEFORE_FIRST_START: i64 = 30;

/// Days [`VALID_NUMBER`] is in force after its issue date (three years).
pub const VALID_TERM_DAYS: i64 = 1095;

/// A power whose expiry date passed 35 days before the first start.
pub const EXPIRED_NUMBER: &str = "ENIS-000102";

/// Principal of [`EXPIRED_NUMBER`].
pub const EXPIRED_PRINCIPAL_IIN: &str = "751204400013";

/// Representative of [`EXPIRED_NUMBER`].
pub const EXPIRED_REPRESENTATIVE_IIN: &str = "900715400349";

/// A power the principal revoked, between the same pair as [`VALID_NUMBER`] and certified
/// after it, so a find by the pair shows the valid one is preferred over the most recent.
pub const REVOKED_NUMBER: &str = "ENIS-000103";

/// A power in force only for public service C (home-schooling compensation, E-sobes).
pub const SERVICE_C_NUMBER: &str = "ENIS-000104";

/// The only service [`SERVICE_C_NUMBER`] covers.
pub const SERVICE_C_CODE: &str = "C";

/// Principal of [`SERVICE_C_NUMBER`]: the parent of child 190305600014.
pub const SERVICE_C_PRINCIPAL_IIN: &str = "900715400349";

/// Representative of [`SERVICE_C_NUMBER`].
pub const SERVICE_C_REPRESENTATIVE_IIN: &str = "751204400013";

/// A number that is never registered: a look-up of it answers NOT_FOUND.
pub const UNKNOWN_NUMBER: &str = "ENIS-000999";

/// Returns the fixture powers as dated for a first start on `first_start`.
pub fn fixtures(first_start: Date) -> Result<Vec<PowerOfAttorney>, NotaryError> {
    let day = |offset: i64| -> Result<Date, NotaryError> {
        first_start
            .checked_add(Duration::days(offset))
            .ok_or_else(|| {
                NotaryError::corrupt(
                    "fixture date",
                    format!("{first_start} {offset:+} days is out of range"),
                )
            })
    };
    let iin = |value: &str| {
        Iin::parse(value).map_err(|error| NotaryError::corrupt("fixture IIN", error.to_string()))
    };
    let valid_issued = day(-VALID_ISSUED_DAYS_BEFORE_FIRST_START)?;
    Ok(vec![
        PowerOfAttorney {
            number: VALID_NUMBER.into(),
            principal_iin: iin(VALID_PRINCIPAL_IIN)?,
            representative_iin: iin(VALID_REPRESENTATIVE_IIN)?,
            service_ids: Vec::new(),
            notary_name: "Ахметова Гульнара Сериковна".into(),
            issue_date: valid_issued,
            expiry_date: day(VALID_TERM_DAYS - VALID_ISSUED_DAYS_BEFORE_FIRST_START)?,
            revoked: false,
        },
        PowerOfAttorney {
            number: EXPIRED_NUMBER.into(),
            principal_iin: iin(EXPIRED_PRINCIPAL_IIN)?,
            representative_iin: iin(EXPIRED_REPRESENTATIVE_IIN)?,
            service_ids: Vec::new(),
            notary_name: "Иванов Сергей Петрович".into(),
            issue_date: day(-400)?,
            expiry_date: day(-35)?,
            revoked: false,
        },
        PowerOfAttorney {
            number: REVOKED_NUMBER.into(),
            principal_iin: iin(VALID_PRINCIPAL_IIN)?,
            representative_iin: iin(VALID_REPRESENTATIVE_IIN)?,
            service_ids: Vec::new(),
            notary_name: "Ахметова Гульнара Сериковна".into(),
            issue_date: day(-10)?,
            expiry_date: day(355)?,
            revoked: true,
        },
        PowerOfAttorney {
            number: SERVICE_C_NUMBER.into(),
            principal_iin: iin(SERVICE_C_PRINCIPAL_IIN)?,
            representative_iin: iin(SERVICE_C_REPRESENTATIVE_IIN)?,
            service_ids: vec![SERVICE_C_CODE.into()],
            notary_name: "Жумабекова Айгерим Нурлановна".into(),
            issue_date: day(-20)?,
            expiry_date: day(345)?,
            revoked: false,
        },
    ])
}

/// The name the flow matrix's powers are recorded under, beside [`FIXTURE_SET`]: a registry
/// first started before they were added loads them on its next start.
pub const FLOW_MATRIX_SET: &str = "flow-matrix-v1";

/// The representative of every power of the flow matrix (the citizens-DB's `REPRESENTATIVE`,
/// Бекова Айнұр).
pub const FLOW_MATRIX_REPRESENTATIVE_IIN: &str = "760330490152";

/// How a power of the flow matrix stands on the first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Certified ten days before, in force for a year.
    InForce,
    /// Certified two years before, in force for a year.
    Expired,
    /// Certified ten days before, revoked by its principal.
    Revoked,
}

/// The notarised powers of attorney the scenarios of `tests/scenarios/` name, each for one
/// service, to [`FLOW_MATRIX_REPRESENTATIVE_IIN`]: (number, principal, service, standing).
/// The principals are the citizens-DB's `UNEMPLOYED_ADULT` (B), `PARENT_OF_DISABLED_CHILD`
/// (C), `PARENT_IN_SHIELI` and `PARENT_IN_KYZYLORDA` (D). Loaded by every registry, so the
/// scenarios run as well against a stack brought up with `egov up` as in the flow matrix.
const FLOW_MATRIX: [(&str, &str, &str, Standing); 9] = [
    ("ENIS-005001", "950703390123", "B", Standing::InForce),
    ("ENIS-005002", "950703390123", "B", Standing::Expired),
    ("ENIS-005003", "950703390123", "B", Standing::Revoked),
    ("ENIS-006001", "841102490063", "C", Standing::InForce),
    ("ENIS-006002", "841102490063", "C", Standing::Expired),
    ("ENIS-006003", "841102490063", "C", Standing::Revoked),
    ("ENIS-007001", "960715490335", "D", Standing::InForce),
    ("ENIS-007002", "940322490296", "D", Standing::Expired),
    ("ENIS-007003", "940322490296", "D", Standing::Revoked),
];

/// Returns the flow matrix's powers as dated for a first start on `first_start`.
pub fn flow_matrix(first_start: Date) -> Result<Vec<PowerOfAttorney>, NotaryError> {
    let iin = |value: &str| {
        Iin::parse(value).map_err(|error| NotaryError::corrupt("fixture IIN", error.to_string()))
    };
    FLOW_MATRIX
        .iter()
        .map(|(number, principal, service, standing)| {
            let days_before = match standing {
                Standing::Expired => 730,
                Standing::InForce | Standing::Revoked => 10,
            };
            let issued = first_start
                .checked_sub(Duration::days(days_before))
                .ok_or_else(|| NotaryError::corrupt("fixture date", format!("{first_start}")))?;
            Ok(PowerOfAttorney {
                number: (*number).to_owned(),
                principal_iin: iin(principal)?,
                representative_iin: iin(FLOW_MATRIX_REPRESENTATIVE_IIN)?,
                service_ids: vec![(*service).to_owned()],
                notary_name: "Жумабекова Айгерим Нурлановна".into(),
                issue_date: issued,
                expiry_date: issued + Duration::days(365),
                revoked: *standing == Standing::Revoked,
            })
        })
        .collect()
}

/// Loads the fixtures and the flow matrix's powers unless a previous start did; returns
/// the sets this call loaded.
pub async fn load(store: &Store, clock: &dyn Clock) -> Result<Vec<&'static str>, NotaryError> {
    let now = clock.now();
    let today = local_date(now);
    let mut loaded = Vec::new();
    for (set, powers) in [
        (FIXTURE_SET, fixtures(today)?),
        (FLOW_MATRIX_SET, flow_matrix(today)?),
    ] {
        if store.load_once(set, &powers, now).await? {
            loaded.push(set);
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use egov_proto::v1::PowerOfAttorneyValidity;
    use time::macros::date;

    use super::*;

    #[test]
    fn every_fixture_iin_is_valid() {
        for iin in [
            "850102300131",
            "900715400349",
            "190305600014",
            "881111300454",
            "751204400013",
        ] {
            Iin::parse(iin).unwrap_or_else(|error| panic!("{iin}: {error}"));
        }
    }

    #[test]
    fn on_the_first_start_each_fixture_answers_its_validity() {
        let first_start = date!(2026 - 11 - 25);
        let powers = fixtures(first_start).expect("fixtures");
        let validity = |number: &str, service: Option<&str>| {
            powers
                .iter()
                .find(|power| power.number == number)
                .map(|power| power.validity_on(first_start, service))
        };
        use PowerOfAttorneyValidity::*;
        assert_eq!(validity(VALID_NUMBER, Some("B")), Some(Valid));
        assert_eq!(validity(EXPIRED_NUMBER, None), Some(Expired));
        assert_eq!(validity(REVOKED_NUMBER, None), Some(Revoked));
        assert_eq!(validity(SERVICE_C_NUMBER, Some("C")), Some(Valid));
        assert_eq!(
            validity(SERVICE_C_NUMBER, Some("B")),
            Some(ServiceNotCovered)
        );
        assert_eq!(validity(UNKNOWN_NUMBER, None), None);
        let valid = powers.iter().find(|p| p.number == VALID_NUMBER).unwrap();
        assert_eq!(valid.issue_date, date!(2026 - 10 - 26));
        assert_eq!(valid.expiry_date, date!(2029 - 10 - 25));
    }

    #[test]
    fn on_the_first_start_each_power_of_the_flow_matrix_answers_its_standing() {
        let first_start = date!(2026 - 12 - 07);
        let powers = flow_matrix(first_start).expect("powers");
        let validity = |number: &str, service: &str| {
            powers
                .iter()
                .find(|power| power.number == number)
                .map(|power| power.validity_on(first_start, Some(service)))
        };
        use PowerOfAttorneyValidity::*;
        for (in_force, expired, revoked, service) in [
            ("ENIS-005001", "ENIS-005002", "ENIS-005003", "B"),
            ("ENIS-006001", "ENIS-006002", "ENIS-006003", "C"),
            ("ENIS-007001", "ENIS-007002", "ENIS-007003", "D"),
        ] {
            assert_eq!(validity(in_force, service), Some(Valid), "{in_force}");
            assert_eq!(validity(expired, service), Some(Expired), "{expired}");
            assert_eq!(validity(revoked, service), Some(Revoked), "{revoked}");
        }
        assert_eq!(validity("ENIS-006001", "B"), Some(ServiceNotCovered));
        assert!(
            powers
                .iter()
                .all(|power| power.representative_iin.as_str() == FLOW_MATRIX_REPRESENTATIVE_IIN)
        );
    }

    #[test]
    fn the_revoked_fixture_is_more_recent_than_the_valid_one_between_the_same_pair() {
        let powers = fixtures(date!(2026 - 11 - 25)).expect("fixtures");
        let (valid, revoked) = (&powers[0], &powers[2]);
        assert_eq!(
            (valid.principal_iin, valid.representative_iin),
            (revoked.principal_iin, revoked.representative_iin)
        );
        assert!(revoked.issue_date > valid.issue_date);
    }
}
