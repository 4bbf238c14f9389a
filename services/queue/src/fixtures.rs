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

/// The store over the fixture kindergartens: here, since the fixtures own them and the
/// store must not import its own fixtures.
#[cfg(test)]
mod store_tests {
    use super::{BALAPAN, KINDERGARTENS, KYZGALDAK, KYZYLORDA_CITY, SHIELI_DISTRICT};
    use crate::QueueError;
    use crate::entry::{AGE_GROUPS, EntryStatus, NewEntry};
    use crate::store::Store;
    use egov_testkit::PostgresServer;
    use time::macros::datetime;

    fn child(iin: &str, number: &str, district: &str, bin: &str) -> NewEntry {
        NewEntry {
            child_iin: iin.into(),
            registration_number: number.into(),
            recipient_iin: "751204400013".into(),
            representative_iin: String::new(),
            district: district.into(),
            age_group: AGE_GROUPS[2],
            kindergarten_bin: bin.into(),
        }
    }

    #[tokio::test]
    async fn queue_store_places_refers_and_withdraws_on_postgresql() {
        let postgres = PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("queue").expect("database");
        let store = Store::open(&url).await.expect("opens and migrates");
        egov_testkit::intake::intake_round_trips(&store, "D").await;
        let now = datetime!(2026-11-25 10:00 UTC);
        assert!(
            store
                .load_once("fixtures-v1", &KINDERGARTENS, now)
                .await
                .expect("loads")
        );
        assert!(
            !store
                .load_once("fixtures-v1", &KINDERGARTENS, now)
                .await
                .expect("loads")
        );
        assert!(store.has_district(SHIELI_DISTRICT).await.expect("reads"));
        assert_eq!(
            store
                .kindergarten(KYZGALDAK)
                .await
                .expect("reads")
                .map(|k| k.district),
            Some(KYZYLORDA_CITY.to_owned())
        );

        // A free place: referred at once, with a referral number.
        let referred = store
            .place(
                &child("200101500011", "D-1", KYZYLORDA_CITY, KYZGALDAK),
                now,
            )
            .await
            .expect("placed");
        assert_eq!(referred.status, EntryStatus::Referred);
        let referral = referred.referral.clone().expect("a referral");
        assert_eq!(referral.number, "REF-2026-000001");
        // No free place: waiting, first in line; a second placement is refused.
        let waiting = store
            .place(&child("200202600022", "D-2", SHIELI_DISTRICT, BALAPAN), now)
            .await
            .expect("placed");
        assert_eq!(waiting.status, EntryStatus::Waiting);
        assert_eq!(store.position(&waiting).await.expect("position"), 1);
        assert!(matches!(
            store
                .place(&child("200202600022", "D-3", SHIELI_DISTRICT, BALAPAN), now)
                .await,
            Err(QueueError::AlreadyQueued { .. })
        ));
        // Freed places go to the waiting child; the rest stays free.
        let freed = store
            .free_places(BALAPAN, AGE_GROUPS[2], 2, now)
            .await
            .expect("freed");
        assert_eq!(freed.free, 1);
        assert_eq!(freed.referred.len(), 1);
        assert_eq!(freed.referred[0].registration_number, "D-2");
        // A withdrawn referral gives its place back.
        store
            .withdraw("D-1", "refused", now)
            .await
            .expect("withdrawn");
        assert_eq!(
            store.entry("D-1").await.expect("reads").map(|e| e.status),
            Some(EntryStatus::Withdrawn)
        );
        let places = store.places().await.expect("lists");
        let free = |bin: &str| {
            places
                .iter()
                .find(|row| row.bin == bin && row.age_group == AGE_GROUPS[2] as i64)
                .map(|row| row.free)
        };
        assert_eq!(free(KYZGALDAK), Some(2));
        assert_eq!(free(BALAPAN), Some(1));
        // An undone placement goes, and so does the place it took.
        store.undo("D-2").await.expect("undone");
        assert_eq!(store.entry("D-2").await.expect("reads"), None);
        let after_undo = store.places().await.expect("lists");
        assert!(after_undo.iter().any(|row| row.bin == BALAPAN
            && row.age_group == AGE_GROUPS[2] as i64
            && row.free == 2));
        store.close().await;
    }
}
