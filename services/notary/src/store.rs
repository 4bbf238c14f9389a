//! The notary registry's durable state in SQL: powers of attorney, the services each
//! covers, and which fixture sets were loaded.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database)
//! and written in the SQL SQLite and PostgreSQL share: `$n` placeholders, `ON CONFLICT`,
//! TEXT dates in ISO form, BOOLEAN. The same migrations serve both, and every query runs on
//! one [`egov_store::Pool`] whichever database the URL named.

use egov_core::Iin;
use egov_store::{Connection, Flag, Pool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::NotaryError;
use crate::power_of_attorney::{PowerOfAttorney, format_date, parse_date};

/// The schema: portable DDL, one set for both databases.
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!(shared);

/// The columns every read selects, joined with the covered services; a macro so that
/// `concat!` keeps each query a `&'static str`.
macro_rules! select_powers {
    () => {
        // The cast: SQLite declares `revoked` BOOLEAN but stores 0 / 1, which sqlx's Any
        // driver will not read as a BOOLEAN column; as an integer it reads on both.
        "SELECT p.number, p.principal_iin, p.representative_iin, p.notary_name, \
         p.issue_date, p.expiry_date, CAST(p.revoked AS INTEGER) AS revoked, s.service_id \
         FROM powers_of_attorney p \
         LEFT JOIN power_of_attorney_services s ON s.number = p.number"
    };
}

/// One row of a read: a power of attorney with one of its services (or none).
#[derive(Debug, sqlx::FromRow)]
struct Row {
    number: String,
    principal_iin: String,
    representative_iin: String,
    notary_name: String,
    issue_date: String,
    expiry_date: String,
    #[sqlx(try_from = "Flag")]
    revoked: bool,
    service_id: Option<String>,
}

/// Inserts a power and its services on a connection (inside a transaction); returns
/// whether the number was free.
async fn insert_power(
    connection: &mut Connection,
    power: &PowerOfAttorney,
    registered_at: &str,
) -> Result<bool, NotaryError> {
    let free = sqlx::query(
        "INSERT INTO powers_of_attorney (number, principal_iin, representative_iin, \
         notary_name, issue_date, expiry_date, revoked, registered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (number) DO NOTHING",
    )
    .bind(&power.number)
    .bind(power.principal_iin.as_str())
    .bind(power.representative_iin.as_str())
    .bind(&power.notary_name)
    .bind(format_date(power.issue_date))
    .bind(format_date(power.expiry_date))
    .bind(power.revoked)
    .bind(registered_at)
    .execute(&mut *connection)
    .await?
    .rows_affected()
        == 1;
    if free {
        for (position, service_id) in power.service_ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO power_of_attorney_services (number, service_id, position) \
                 VALUES ($1, $2, $3)",
            )
            .bind(&power.number)
            .bind(service_id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *connection)
            .await?;
        }
    }
    Ok(free)
}

/// The notary registry's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, NotaryError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Returns the power of attorney with this number, if registered.
    pub async fn by_number(&self, number: &str) -> Result<Option<PowerOfAttorney>, NotaryError> {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            select_powers!(),
            " WHERE p.number = $1 ORDER BY s.position"
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await?;
        Ok(group(rows)?.into_iter().next())
    }

    /// Returns every power of attorney from `principal` to `representative`, in number order.
    pub async fn between(
        &self,
        principal: &Iin,
        representative: &Iin,
    ) -> Result<Vec<PowerOfAttorney>, NotaryError> {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            select_powers!(),
            " WHERE p.principal_iin = $1 AND p.representative_iin = $2 \
             ORDER BY p.number, s.position",
        ))
        .bind(principal.as_str())
        .bind(representative.as_str())
        .fetch_all(&self.pool)
        .await?;
        group(rows)
    }

    /// Returns every power of attorney, in number order (operators' listings, tests).
    pub async fn all(&self) -> Result<Vec<PowerOfAttorney>, NotaryError> {
        let rows: Vec<Row> =
            sqlx::query_as(concat!(select_powers!(), " ORDER BY p.number, s.position"))
                .fetch_all(&self.pool)
                .await?;
        group(rows)
    }

    /// Stores a new power of attorney with its services in one transaction; a number
    /// already registered is [`NotaryError::Duplicate`] and changes nothing.
    pub async fn insert(
        &self,
        power: &PowerOfAttorney,
        registered_at: OffsetDateTime,
    ) -> Result<(), NotaryError> {
        let registered_at = rfc3339(registered_at)?;
        let mut tx = self.pool.begin().await?;
        if !insert_power(&mut tx, power, &registered_at).await? {
            return Err(NotaryError::Duplicate {
                number: power.number.clone(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Loads a fixture set once: the first call for `name` stores `powers` (skipping
    /// numbers already taken) and returns true; later calls, in any process, change nothing.
    pub async fn load_once(
        &self,
        name: &str,
        powers: &[PowerOfAttorney],
        now: OffsetDateTime,
    ) -> Result<bool, NotaryError> {
        let now = rfc3339(now)?;
        let mut tx = self.pool.begin().await?;
        if !egov_store::mark_seed(&mut tx, name, &now).await? {
            return Ok(false);
        }
        for power in powers {
            insert_power(&mut tx, power, &now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Formats a timestamp for the TEXT `*_at` columns.
fn rfc3339(time: OffsetDateTime) -> Result<String, NotaryError> {
    time.format(&Rfc3339)
        .map_err(|error| NotaryError::corrupt("timestamp", error.to_string()))
}

/// Folds joined rows (one per covered service, ordered by number) into powers.
fn group(rows: Vec<Row>) -> Result<Vec<PowerOfAttorney>, NotaryError> {
    let mut powers: Vec<PowerOfAttorney> = Vec::new();
    for row in rows {
        if let Some(last) = powers.last_mut()
            && last.number == row.number
        {
            last.service_ids.extend(row.service_id);
            continue;
        }
        let corrupt = |reason: String| {
            NotaryError::corrupt(format!("power of attorney {}", row.number), reason)
        };
        let iin = |value: &str| Iin::parse(value).map_err(|error| corrupt(error.to_string()));
        powers.push(PowerOfAttorney {
            principal_iin: iin(&row.principal_iin)?,
            representative_iin: iin(&row.representative_iin)?,
            issue_date: parse_date(&row.issue_date).map_err(corrupt)?,
            expiry_date: parse_date(&row.expiry_date).map_err(corrupt)?,
            notary_name: row.notary_name,
            revoked: row.revoked,
            service_ids: row.service_id.into_iter().collect(),
            number: row.number,
        });
    }
    Ok(powers)
}
