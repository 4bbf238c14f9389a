//! The employment the Labour Market AIS («Еңбек нарығы» ААЖ) records on its first start, so
//! service B's refusal branch has a fixed employed person: the citizens-DB's `EMPLOYED_ADULT`.

use egov_core::clock::Clock;
use egov_core::{Bin, Iin};
use time::macros::date;

use crate::LaborError;
use crate::employment::Employment;
use crate::store::Store;

/// The name the fixture set is recorded under, so it loads once.
pub const FIXTURE_SET: &str = "fixtures-v1";

/// An employed adult (Иванова Елена Сергеевна): `egov_citizens::fixtures::EMPLOYED_ADULT`.
pub const EMPLOYED_IIN: &str = "870225490134";

/// Her employer's BIN.
pub const EMPLOYER_BIN: &str = "160240901053";

/// Her employer's name.
pub const EMPLOYER_NAME: &str = "ТОО «Сарыарқа Логистик»";

/// Returns the fixture employment.
pub fn fixtures() -> Result<Vec<Employment>, LaborError> {
    let corrupt = |reason: String| {
        LaborError::from(egov_system::SystemError::corrupt(
            "fixture employment",
            reason,
        ))
    };
    Ok(vec![Employment {
        iin: Iin::parse(EMPLOYED_IIN).map_err(|error| corrupt(error.to_string()))?,
        employer_bin: Bin::parse(EMPLOYER_BIN).map_err(|error| corrupt(error.to_string()))?,
        employer_name: EMPLOYER_NAME.to_owned(),
        since: date!(2019 - 03 - 01),
    }])
}

/// Loads the fixtures unless a previous start did; returns whether this call loaded them.
pub async fn load(store: &Store, clock: &dyn Clock) -> Result<bool, LaborError> {
    store
        .load_once(FIXTURE_SET, &fixtures()?, clock.now())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixtures_build() {
        let fixtures = fixtures().expect("valid");
        assert_eq!(fixtures.len(), 1);
        assert_eq!(fixtures[0].iin.as_str(), EMPLOYED_IIN);
    }
}
