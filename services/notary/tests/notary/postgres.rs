//! The store on PostgreSQL: the same migrations and queries as on SQLite, on a private
//! cluster the test starts (`egov_testkit::PostgresServer`; needs `apt-get install postgresql`).

use egov_core::Iin;
use egov_notary::fixtures::{VALID_NUMBER, VALID_PRINCIPAL_IIN, VALID_REPRESENTATIVE_IIN};
use egov_notary::{NotaryError, PowerOfAttorney, Store};
use egov_testkit::PostgresServer;
use time::OffsetDateTime;
use time::macros::date;

#[tokio::test]
async fn the_store_keeps_and_finds_powers_on_postgresql() {
    let postgres = PostgresServer::start().expect("postgres starts");
    let url = postgres.create_database("notary").expect("database");
    let store = Store::open(&url).await.expect("open and migrate");

    let first_start = date!(2026 - 11 - 25);
    let fixtures = egov_notary::fixtures::fixtures(first_start).expect("fixtures");
    let now = OffsetDateTime::now_utc();
    assert!(
        store
            .load_once("fixtures-v1", &fixtures, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .load_once("fixtures-v1", &fixtures, now)
            .await
            .unwrap()
    );
    assert_eq!(store.all().await.unwrap(), fixtures);

    let power = PowerOfAttorney {
        number: "ENIS-000501".into(),
        principal_iin: Iin::parse("751204400013").unwrap(),
        representative_iin: Iin::parse("881111300454").unwrap(),
        service_ids: vec!["C".into(), "B".into()],
        notary_name: "Жумабекова Айгерим Нурлановна".into(),
        issue_date: date!(2026 - 11 - 20),
        expiry_date: date!(2027 - 11 - 19),
        revoked: false,
    };
    store.insert(&power, now).await.expect("insert");
    assert_eq!(
        store.by_number("ENIS-000501").await.unwrap(),
        Some(power.clone())
    );
    let duplicate = store.insert(&power, now).await.expect_err("taken");
    assert!(
        matches!(duplicate, NotaryError::Duplicate { .. }),
        "{duplicate}"
    );
    let pair = store
        .between(
            &Iin::parse(VALID_PRINCIPAL_IIN).unwrap(),
            &Iin::parse(VALID_REPRESENTATIVE_IIN).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(pair.len(), 2);
    assert_eq!(pair[0].number, VALID_NUMBER);

    // A revoked power reads back revoked: BOOLEAN on PostgreSQL, 0 / 1 on SQLite.
    let revoked = PowerOfAttorney {
        number: "ENIS-000502".into(),
        revoked: true,
        ..power
    };
    store.insert(&revoked, now).await.expect("insert revoked");
    assert_eq!(store.by_number("ENIS-000502").await.unwrap(), Some(revoked));
    store.close().await;
    // A second open finds the schema applied.
    Store::open(&url).await.expect("reopens").close().await;
}
