//! The Labour Market AIS's («Еңбек нарығы» ААЖ) durable state in SQL (SQLite or PostgreSQL): the intake of
//! service B ([`SqlIntakeStore`]: numbers, applications, results with their signed envelopes)
//! and the register of employed persons.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database) and
//! written in the SQL SQLite and PostgreSQL share, on an [`egov_store::Pool`] of either.

use egov_core::{Bin, Iin};
use egov_store::Pool;
use egov_system::intake_sql::{self, SqlIntakeStore};
use time::{Date, OffsetDateTime};

use crate::LaborError;
use crate::employment::{Employment, format_date, parse_date};

/// The schema, per database (BLOB or BYTEA).
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// One row of `employment`.
#[derive(Debug, sqlx::FromRow)]
struct EmploymentRow {
    iin: String,
    employer_bin: String,
    employer_name: String,
    since: String,
}

/// The Labour Market AIS's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, LaborError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns the employment recorded for `iin`, if any.
    pub async fn employment(&self, iin: &Iin) -> Result<Option<Employment>, LaborError> {
        let row: Option<EmploymentRow> = sqlx::query_as(
            "SELECT iin, employer_bin, employer_name, since FROM employment WHERE iin = $1",
        )
        .bind(iin.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(employment_from_row).transpose()
    }

    /// Returns every recorded employment, by IIN.
    pub async fn all_employment(&self) -> Result<Vec<Employment>, LaborError> {
        let rows: Vec<EmploymentRow> = sqlx::query_as(
            "SELECT iin, employer_bin, employer_name, since FROM employment ORDER BY iin",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(employment_from_row).collect()
    }

    /// Records (or replaces) the employment of a person.
    pub async fn record_employment(
        &self,
        employment: &Employment,
        now: OffsetDateTime,
    ) -> Result<(), LaborError> {
        sqlx::query(
            "INSERT INTO employment (iin, employer_bin, employer_name, since, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (iin) DO UPDATE SET \
             employer_bin = excluded.employer_bin, employer_name = excluded.employer_name, \
             since = excluded.since, recorded_at = excluded.recorded_at",
        )
        .bind(employment.iin.as_str())
        .bind(employment.employer_bin.as_str())
        .bind(&employment.employer_name)
        .bind(format_date(employment.since))
        .bind(rfc3339(now)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends the employment of `iin`; none recorded is [`LaborError::EmploymentNotFound`].
    pub async fn end_employment(&self, iin: &Iin) -> Result<(), LaborError> {
        let removed = sqlx::query("DELETE FROM employment WHERE iin = $1")
            .bind(iin.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        if removed == 0 {
            return Err(LaborError::EmploymentNotFound {
                iin: iin.to_string(),
            });
        }
        Ok(())
    }

    /// Loads a fixture set once: the first call for `name` records `employment` and returns
    /// true; later calls, in any process, change nothing.
    pub async fn load_once(
        &self,
        name: &str,
        employment: &[Employment],
        now: OffsetDateTime,
    ) -> Result<bool, LaborError> {
        let now = rfc3339(now)?;
        let mut tx = self.pool.begin().await?;
        if !egov_store::mark_seed(&mut tx, name, &now).await? {
            return Ok(false);
        }
        for job in employment {
            sqlx::query(
                "INSERT INTO employment (iin, employer_bin, employer_name, since, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (iin) DO NOTHING",
            )
            .bind(job.iin.as_str())
            .bind(job.employer_bin.as_str())
            .bind(&job.employer_name)
            .bind(format_date(job.since))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Returns how many applications are registered (operators' listings, tests).
    pub async fn count_applications(&self) -> Result<u64, LaborError> {
        Ok(intake_sql::count_applications(&self.pool).await?)
    }
}

impl SqlIntakeStore for Store {
    type Error = LaborError;

    fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Formats a timestamp for the TEXT `*_at` columns.
fn rfc3339(time: OffsetDateTime) -> Result<String, LaborError> {
    Ok(intake_sql::rfc3339(time)?)
}

fn employment_from_row(row: EmploymentRow) -> Result<Employment, LaborError> {
    let corrupt = |reason: String| {
        LaborError::from(egov_system::SystemError::corrupt(
            format!("employment of {}", row.iin),
            reason,
        ))
    };
    let since: Date = parse_date(&row.since).map_err(corrupt)?;
    Ok(Employment {
        iin: Iin::parse(&row.iin).map_err(|error| corrupt(error.to_string()))?,
        employer_bin: Bin::parse(&row.employer_bin).map_err(|error| corrupt(error.to_string()))?,
        employer_name: row.employer_name,
        since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_testkit::PostgresServer;
    use time::macros::{date, datetime};

    #[tokio::test]
    async fn labor_store_keeps_applications_results_and_employment_on_postgresql() {
        let postgres = PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("labor").expect("database");
        let store = Store::open(&url).await.expect("opens and migrates");
        egov_testkit::intake::intake_round_trips(&store, "B").await;
        assert_eq!(store.count_applications().await.expect("counts"), 1);

        let now = datetime!(2026-11-25 10:00 UTC);
        let fixtures = crate::fixtures::fixtures().expect("fixtures");
        assert!(
            store
                .load_once("fixtures-v1", &fixtures, now)
                .await
                .expect("loads")
        );
        assert!(
            !store
                .load_once("fixtures-v1", &fixtures, now)
                .await
                .expect("loads")
        );
        assert_eq!(store.all_employment().await.expect("lists"), fixtures);
        let moved = Employment {
            employer_name: "ТОО «Жаңа»".into(),
            since: date!(2026 - 01 - 15),
            ..fixtures[0].clone()
        };
        store.record_employment(&moved, now).await.expect("records");
        assert_eq!(
            store.employment(&moved.iin).await.expect("reads"),
            Some(moved.clone())
        );
        store.end_employment(&moved.iin).await.expect("ends");
        assert!(matches!(
            store.end_employment(&moved.iin).await,
            Err(LaborError::EmploymentNotFound { .. })
        ));
        store.close().await;
        Store::open(&url)
            .await
            .expect("reopens on the applied schema");
    }
}
