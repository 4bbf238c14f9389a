//! The store on SQLite through the `Any` pool: the values `Any` lacks round-trip, and a
//! writer's file is in WAL mode. (Every service's store runs the same on PostgreSQL in its
//! own tests, on a cluster from `egov_testkit::PostgresServer`.)

use egov_store::{Flag, OptionalTimestamp, StoreOptions, Timestamp};
use time::macros::datetime;

#[tokio::test]
async fn timestamps_flags_and_blobs_round_trip_on_sqlite() {
    let pool = StoreOptions::new("database_url", "sqlite::memory:")
        .max_connections(1)
        .open(None)
        .await
        .expect("opens");
    sqlx::query(
        "CREATE TABLE t (at TEXT NOT NULL, maybe TEXT, flag INTEGER NOT NULL, \
         declared BOOLEAN NOT NULL, bytes BLOB NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("creates");
    let at = datetime!(2026-11-25 10:00:00.123456789 +05:00);
    sqlx::query("INSERT INTO t (at, maybe, flag, declared, bytes) VALUES ($1, $2, $3, $4, $5)")
        .bind(Timestamp(at))
        .bind(None::<Timestamp>)
        .bind(true)
        .bind(true)
        .bind(vec![0u8, 1, 255])
        .execute(&pool)
        .await
        .expect("inserts");
    let (read_at, maybe, flag, declared, bytes): (
        Timestamp,
        OptionalTimestamp,
        Flag,
        Flag,
        Vec<u8>,
    ) = sqlx::query_as(
        // A BOOLEAN-declared column is selected as an integer: `Any` refuses the declared type.
        "SELECT at, maybe, flag, CAST(declared AS INTEGER), bytes FROM t",
    )
    .fetch_one(&pool)
    .await
    .expect("reads");
    assert_eq!(read_at, Timestamp(at));
    assert_eq!(maybe, OptionalTimestamp(None));
    assert_eq!((flag, declared), (Flag(true), Flag(true)));
    assert_eq!(bytes, [0, 1, 255]);
}

#[tokio::test]
async fn a_new_sqlite_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/wal.db", dir.path().display());
    let pool = egov_store::StoreOptions::new("database_url", &url)
        .open(None)
        .await
        .expect("creates the file");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("reads");
    assert_eq!(mode, "wal");
    pool.close().await;
}

#[tokio::test]
async fn an_unknown_scheme_is_refused_before_connecting_naming_the_key() {
    let error = egov_store::StoreOptions::new("database_url", "mysql://root:hunter2@db/x")
        .open(None)
        .await
        .expect_err("refused");
    assert!(matches!(
        error,
        egov_store::StoreError::UnsupportedScheme { .. }
    ));
    assert!(error.to_string().contains("`database_url`"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
