//! The intake's tables (`sequences`, `applications`, `results`), written once for every
//! system whose store implements [`IntakeStore`]: a service's store implements
//! [`SqlIntakeStore`] (its pool and its error) and keeps only its own tables.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database) and
//! written in the SQL SQLite and PostgreSQL share, on an [`egov_store::Pool`] of either: each
//! service's `migrations/sqlite` and `migrations/postgres` create the same three tables.

use egov_proto::v1::{Channel, ResultKind};
use egov_store::Pool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::intake::{IntakeStore, Registration, StoredResult};

/// Failures reading or writing the intake's tables.
#[derive(Debug, thiserror::Error)]
pub enum IntakeSqlError {
    /// A stored value does not read back.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read.
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The database could not be queried.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A store that keeps the intake's tables in its SQL pool; [`IntakeStore`] comes with it.
pub trait SqlIntakeStore: Clone + Send + Sync + 'static {
    /// The store's error; every failure of the intake's tables converts into it.
    type Error: std::error::Error + From<IntakeSqlError> + Send + Sync + 'static;

    /// Returns the pool the intake's tables are in.
    fn pool(&self) -> &Pool;
}

impl<S: SqlIntakeStore> IntakeStore for S {
    type Error = S::Error;

    async fn next_sequence(&self, prefix: &str, year: i32) -> Result<u64, S::Error> {
        Ok(next_sequence(self.pool(), prefix, year).await?)
    }

    async fn insert_registration(&self, registration: &Registration) -> Result<(), S::Error> {
        Ok(insert_registration(self.pool(), registration).await?)
    }

    async fn registration(&self, number: &str) -> Result<Option<Registration>, S::Error> {
        Ok(registration(self.pool(), number).await?)
    }

    async fn registration_by_request(
        &self,
        sender_system_id: &str,
        message_id: &str,
    ) -> Result<Option<Registration>, S::Error> {
        Ok(registration_by_request(self.pool(), sender_system_id, message_id).await?)
    }

    async fn insert_result(&self, result: &StoredResult) -> Result<bool, S::Error> {
        Ok(insert_result(self.pool(), result).await?)
    }

    async fn result(&self, number: &str) -> Result<Option<StoredResult>, S::Error> {
        Ok(result(self.pool(), number).await?)
    }
}

/// Returns how many applications are registered (operators' listings, tests).
pub async fn count_applications(pool: &Pool) -> Result<u64, IntakeSqlError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM applications")
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// One row of `applications`.
#[derive(Debug, sqlx::FromRow)]
struct ApplicationRow {
    registration_number: String,
    service_code: String,
    channel: i64,
    recipient_iin: String,
    representative_iin: String,
    child_iin: String,
    sender_system_id: String,
    author_iin: String,
    request_message_id: String,
    application: Vec<u8>,
    case_id: String,
    registered_at: String,
    due_at: String,
}

/// One row of `results`.
#[derive(Debug, sqlx::FromRow)]
struct ResultRow {
    registration_number: String,
    kind: i64,
    refusal_ground: String,
    result: Vec<u8>,
    envelope: Vec<u8>,
    signer_subject: String,
    signer_iin: String,
    received_at: String,
}

/// Returns the next number of a `prefix`-`year` sequence, starting at 1.
pub async fn next_sequence(pool: &Pool, prefix: &str, year: i32) -> Result<u64, IntakeSqlError> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO sequences (prefix, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, year) DO UPDATE SET last = sequences.last + 1 RETURNING last",
    )
    .bind(prefix)
    .bind(year)
    .fetch_one(pool)
    .await?;
    u64::try_from(last).map_err(|_| IntakeSqlError::Corrupt {
        what: format!("sequence {prefix}-{year}"),
        reason: format!("{last} is negative"),
    })
}

/// Stores a registered application.
pub async fn insert_registration(
    pool: &Pool,
    registration: &Registration,
) -> Result<(), IntakeSqlError> {
    sqlx::query(
        "INSERT INTO applications (registration_number, service_code, channel, recipient_iin, \
         representative_iin, child_iin, sender_system_id, author_iin, request_message_id, \
         application, case_id, registered_at, due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&registration.registration_number)
    .bind(&registration.service_code)
    .bind(registration.channel as i64)
    .bind(&registration.recipient_iin)
    .bind(&registration.representative_iin)
    .bind(&registration.child_iin)
    .bind(&registration.sender_system_id)
    .bind(&registration.author_iin)
    .bind(&registration.request_message_id)
    .bind(&registration.application)
    .bind(&registration.case_id)
    .bind(rfc3339(registration.registered_at)?)
    .bind(rfc3339(registration.due_at)?)
    .execute(pool)
    .await?;
    Ok(())
}

/// Reads a registered application by its number.
pub async fn registration(
    pool: &Pool,
    number: &str,
) -> Result<Option<Registration>, IntakeSqlError> {
    let row: Option<ApplicationRow> = sqlx::query_as(
        "SELECT registration_number, service_code, channel, recipient_iin, representative_iin, \
         child_iin, sender_system_id, author_iin, request_message_id, application, case_id, \
         registered_at, due_at FROM applications WHERE registration_number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    row.map(registration_from_row).transpose()
}

/// Returns the application registered from the request `message_id` of `sender_system_id`.
pub async fn registration_by_request(
    pool: &Pool,
    sender_system_id: &str,
    message_id: &str,
) -> Result<Option<Registration>, IntakeSqlError> {
    let row: Option<ApplicationRow> = sqlx::query_as(
        "SELECT registration_number, service_code, channel, recipient_iin, representative_iin, \
         child_iin, sender_system_id, author_iin, request_message_id, application, case_id, \
         registered_at, due_at FROM applications \
         WHERE request_message_id = $1 AND sender_system_id = $2",
    )
    .bind(message_id)
    .bind(sender_system_id)
    .fetch_optional(pool)
    .await?;
    row.map(registration_from_row).transpose()
}

/// Stores a decided result; returns false when one was already stored (the first is kept).
pub async fn insert_result(pool: &Pool, result: &StoredResult) -> Result<bool, IntakeSqlError> {
    let inserted = sqlx::query(
        "INSERT INTO results (registration_number, kind, refusal_ground, result, envelope, \
         signer_subject, signer_iin, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (registration_number) DO NOTHING",
    )
    .bind(&result.registration_number)
    .bind(result.kind as i64)
    .bind(&result.refusal_ground)
    .bind(&result.result)
    .bind(&result.envelope)
    .bind(&result.signer_subject)
    .bind(&result.signer_iin)
    .bind(rfc3339(result.received_at)?)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Reads the decided result of an application.
pub async fn result(pool: &Pool, number: &str) -> Result<Option<StoredResult>, IntakeSqlError> {
    let row: Option<ResultRow> = sqlx::query_as(
        "SELECT registration_number, kind, refusal_ground, result, envelope, signer_subject, \
         signer_iin, received_at FROM results WHERE registration_number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    row.map(result_from_row).transpose()
}

/// Formats a timestamp for the TEXT `*_at` columns.
pub fn rfc3339(time: OffsetDateTime) -> Result<String, IntakeSqlError> {
    time.format(&Rfc3339)
        .map_err(|error| IntakeSqlError::Corrupt {
            what: "timestamp".into(),
            reason: error.to_string(),
        })
}

/// Reads a TEXT `*_at` column.
pub fn parse_time(what: &str, text: &str) -> Result<OffsetDateTime, IntakeSqlError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|error| IntakeSqlError::Corrupt {
        what: what.to_owned(),
        reason: format!("{text:?}: {error}"),
    })
}

fn registration_from_row(row: ApplicationRow) -> Result<Registration, IntakeSqlError> {
    let what = format!("application {}", row.registration_number);
    let channel = i32::try_from(row.channel)
        .ok()
        .and_then(|value| Channel::try_from(value).ok())
        .ok_or_else(|| IntakeSqlError::Corrupt {
            what: what.clone(),
            reason: format!("channel {} is not an egov.v1.Channel", row.channel),
        })?;
    Ok(Registration {
        registered_at: parse_time(&what, &row.registered_at)?,
        due_at: parse_time(&what, &row.due_at)?,
        registration_number: row.registration_number,
        service_code: row.service_code,
        channel,
        recipient_iin: row.recipient_iin,
        representative_iin: row.representative_iin,
        child_iin: row.child_iin,
        sender_system_id: row.sender_system_id,
        author_iin: row.author_iin,
        request_message_id: row.request_message_id,
        application: row.application,
        case_id: row.case_id,
    })
}

fn result_from_row(row: ResultRow) -> Result<StoredResult, IntakeSqlError> {
    let what = format!("result of {}", row.registration_number);
    let kind = i32::try_from(row.kind)
        .ok()
        .and_then(|value| ResultKind::try_from(value).ok())
        .ok_or_else(|| IntakeSqlError::Corrupt {
            what: what.clone(),
            reason: format!("kind {} is not an egov.v1.ResultKind", row.kind),
        })?;
    Ok(StoredResult {
        received_at: parse_time(&what, &row.received_at)?,
        registration_number: row.registration_number,
        kind,
        refusal_ground: row.refusal_ground,
        result: row.result,
        envelope: row.envelope,
        signer_subject: row.signer_subject,
        signer_iin: row.signer_iin,
    })
}
