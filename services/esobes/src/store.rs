//! E-sobes's («Е-собес» АЖ) durable state in SQLite: the intake of service C
//! ([`IntakeStore`]: numbers, applications, results with their signed envelopes).
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database).

use std::str::FromStr;
use std::time::Duration;

use egov_system::intake::{IntakeStore, Registration, StoredResult};
use egov_system::intake_sql;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::EsobesError;

/// How long a writer waits for SQLite's lock before failing; writes are short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// E-sobes's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens the SQLite database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, EsobesError> {
        if !url.starts_with("sqlite:") {
            return Err(EsobesError::Config(format!(
                "database_url {url:?}: only sqlite:// URLs are supported"
            )));
        }
        let options = SqliteConnectOptions::from_str(url)?.busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().connect_with(options).await?;
        sqlx::migrate!().run(&pool).await?;
        Ok(Store { pool })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns how many applications are registered (operators' listings, tests).
    pub async fn count_applications(&self) -> Result<u64, EsobesError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM applications")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

impl IntakeStore for Store {
    type Error = EsobesError;

    async fn next_sequence(&self, prefix: &str, year: i32) -> Result<u64, EsobesError> {
        Ok(intake_sql::next_sequence(&self.pool, prefix, year).await?)
    }

    async fn insert_registration(&self, registration: &Registration) -> Result<(), EsobesError> {
        Ok(intake_sql::insert_registration(&self.pool, registration).await?)
    }

    async fn registration(&self, number: &str) -> Result<Option<Registration>, EsobesError> {
        Ok(intake_sql::registration(&self.pool, number).await?)
    }

    async fn insert_result(&self, result: &StoredResult) -> Result<bool, EsobesError> {
        Ok(intake_sql::insert_result(&self.pool, result).await?)
    }

    async fn result(&self, number: &str) -> Result<Option<StoredResult>, EsobesError> {
        Ok(intake_sql::result(&self.pool, number).await?)
    }
}
