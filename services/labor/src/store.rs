//! The Labour Market AIS's («Еңбек нарығы» ААЖ) durable state in SQLite: the intake of
//! service B ([`IntakeStore`]: numbers, applications, results with their signed envelopes)
//! and the register of employed persons.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database).

use std::str::FromStr;
use std::time::Duration;

use egov_core::{Bin, Iin};
use egov_system::intake::{IntakeStore, Registration, StoredResult};
use egov_system::intake_sql;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use time::{Date, OffsetDateTime};

use crate::LaborError;
use crate::employment::{Employment, format_date, parse_date};

/// How long a writer waits for SQLite's lock before failing; writes are short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
    pool: SqlitePool,
}

impl Store {
    /// Opens the SQLite database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, LaborError> {
        if !url.starts_with("sqlite:") {
            return Err(LaborError::Config(format!(
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
        // The marker row first: a second process starting on the same empty database
        // conflicts here and loads nothing.
        let marked = sqlx::query(
            "INSERT INTO seeds (name, loaded_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !marked {
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
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM applications")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

impl IntakeStore for Store {
    type Error = LaborError;

    async fn next_sequence(&self, prefix: &str, year: i32) -> Result<u64, LaborError> {
        Ok(intake_sql::next_sequence(&self.pool, prefix, year).await?)
    }

    async fn insert_registration(&self, registration: &Registration) -> Result<(), LaborError> {
        Ok(intake_sql::insert_registration(&self.pool, registration).await?)
    }

    async fn registration(&self, number: &str) -> Result<Option<Registration>, LaborError> {
        Ok(intake_sql::registration(&self.pool, number).await?)
    }

    async fn insert_result(&self, result: &StoredResult) -> Result<bool, LaborError> {
        Ok(intake_sql::insert_result(&self.pool, result).await?)
    }

    async fn result(&self, number: &str) -> Result<Option<StoredResult>, LaborError> {
        Ok(intake_sql::result(&self.pool, number).await?)
    }
}

/// Formats a timestamp for the TEXT `*_at` columns.
fn rfc3339(time: OffsetDateTime) -> Result<String, LaborError> {
    Ok(intake_sql::rfc3339(time)?)
}

fn employment_from_row(row: EmploymentRow) -> Result<Employment, LaborError> {
    let corrupt = |reason: String| LaborError::Corrupt {
        what: format!("employment of {}", row.iin),
        reason,
    };
    let since: Date = parse_date(&row.since).map_err(corrupt)?;
    Ok(Employment {
        iin: Iin::parse(&row.iin).map_err(|error| corrupt(error.to_string()))?,
        employer_bin: Bin::parse(&row.employer_bin).map_err(|error| corrupt(error.to_string()))?,
        employer_name: row.employer_name,
        since,
    })
}
