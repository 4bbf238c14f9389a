//! E-sobes's («Е-собес» АЖ) durable state in SQL (SQLite or PostgreSQL): the intake of service C
//! ([`SqlIntakeStore`]: numbers, applications, results with their signed envelopes).
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database) and
//! written in the SQL SQLite and PostgreSQL share, on an [`egov_store::Pool`] of either.

use egov_store::Pool;
use egov_system::intake_sql::{self, SqlIntakeStore};

use crate::EsobesError;

/// The schema, per database (BLOB or BYTEA).
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// E-sobes's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, EsobesError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns how many applications are registered (operators' listings, tests).
    pub async fn count_applications(&self) -> Result<u64, EsobesError> {
        Ok(intake_sql::count_applications(&self.pool).await?)
    }
}

impl SqlIntakeStore for Store {
    type Error = EsobesError;

    fn pool(&self) -> &Pool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_testkit::PostgresServer;

    #[tokio::test]
    async fn esobes_store_keeps_applications_and_results_on_postgresql() {
        let postgres = PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("esobes").expect("database");
        let store = Store::open(&url).await.expect("opens and migrates");
        egov_testkit::intake::intake_round_trips(&store, "C").await;
        assert_eq!(store.count_applications().await.expect("counts"), 1);
    }
}
