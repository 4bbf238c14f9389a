//! The store on PostgreSQL: the same migrations and queries as on SQLite. Needs a server;
//! run with `EGOV_NOTARY_TEST_POSTGRES_URL=postgres://user@host/db cargo test -p egov-notary
//! -- --ignored`; the test creates and drops a database of its own.

use egov_core::Iin;
use egov_notary::fixtures::{VALID_NUMBER, VALID_PRINCIPAL_IIN, VALID_REPRESENTATIVE_IIN};
use egov_notary::{NotaryError, PowerOfAttorney, Store};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use time::macros::date;

/// The env var naming a server the test may create a database on.
const POSTGRES_URL_ENV: &str = "EGOV_NOTARY_TEST_POSTGRES_URL";

#[tokio::test]
#[ignore = "needs a PostgreSQL server in EGOV_NOTARY_TEST_POSTGRES_URL"]
async fn the_store_keeps_and_finds_powers_on_postgresql() {
    let admin_url = std::env::var(POSTGRES_URL_ENV).expect(POSTGRES_URL_ENV);
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("connect");
    let name = format!("notary_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("a URL with a database");
    let store = Store::open(&format!("{base}/{name}"))
        .await
        .expect("open and migrate");

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

    store.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("drop database");
}
