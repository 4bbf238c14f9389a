//! The kindergartens the queue register loads on its first start, with their free places per
//! age group, so every branch of service D has a fixed place to ask for: a district where
//! every kindergarten is full (a notification of the position) and one with free places (a
//! referral). District codes are the citizens-DB's dictionary codes.

use egov_core::Bin;
use egov_core::clock::Clock;

use crate::QueueError;
use crate::store::Store;
// Owned by `entry`, so the store writes it without reading the fixtures.
pub use crate::entry::KindergartenFixture;

/// The name the fixture set is recorded under, so it loads once.
pub const FIXTURE_SET: &str = "fixtures-v1";

/// Shieli district (Kyzylorda region), the seed `002_…`'s own: every kindergarten is full.
pub const SHIELI_DISTRICT: &str = "4307";

/// Kyzylorda city: a kindergarten with free places in every age group.
pub const KYZYLORDA_CITY: &str = "4301";

/// Astana, Yesil district: one free place per age group.
pub const ASTANA_YESIL_DISTRICT: &str = "7103";

/// «Балапан» ясли-сад №5 of Shieli district (the citizens-DB's `SHIELI_KINDERGARTEN`): full.
pub const BALAPAN: &str = "140640900016";

/// «Ақбота» of Shieli district: full.
pub const AKBOTA: &str = "150840901013";

/// «Қызғалдақ» of Kyzylorda city: two free places in every age group.
pub const KYZGALDAK: &str = "120340901031";

/// «Нұрсәт» of Kyzylorda city: full.
pub const NURSAT: &str = "180940901032";

/// «Айналайын» of Astana's Yesil district: one free place in every age group.
pub const AINALAYIN: &str = "110540901045";

/// The fixture kindergartens.
pub const KINDERGARTENS: [KindergartenFixture; 5] = [
    KindergartenFixture {
        bin: BALAPAN,
        district: SHIELI_DISTRICT,
        name: "«Балапан» ясли-сад №5",
        free: [0; 6],
    },
    KindergartenFixture {
        bin: AKBOTA,
        district: SHIELI_DISTRICT,
        name: "«Ақбота» балабақшасы",
        free: [0; 6],
    },
    KindergartenFixture {
        bin: KYZGALDAK,
        district: KYZYLORDA_CITY,
        name: "«Қызғалдақ» бөбекжай-бақшасы",
        free: [2; 6],
    },
    KindergartenFixture {
        bin: NURSAT,
        district: KYZYLORDA_CITY,
        name: "«Нұрсәт» балабақшасы",
        free: [0; 6],
    },
    KindergartenFixture {
        bin: AINALAYIN,
        district: ASTANA_YESIL_DISTRICT,
        name: "«Айналайын» балабақшасы",
        free: [1; 6],
    },
];

/// Checks every fixture BIN, so a typo fails the start rather than a look-up later.
pub fn check() -> Result<(), QueueError> {
    for kindergarten in KINDERGARTENS {
        Bin::parse(kindergarten.bin).map_err(|error| {
            QueueError::corrupt(
                format!("fixture kindergarten {}", kindergarten.name),
                error.to_string(),
            )
        })?;
    }
    Ok(())
}

/// Loads the fixtures unless a previous start did; returns whether this call loaded them.
pub async fn load(store: &Store, clock: &dyn Clock) -> Result<bool, QueueError> {
    check()?;
    store
        .load_once(FIXTURE_SET, &KINDERGARTENS, clock.now())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_bin_is_valid() {
        check().expect("valid BINs");
    }
}
