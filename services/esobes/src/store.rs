//! E-sobes's («Е-собес» АЖ) durable state in SQLite: the intake of service C
//! ([`IntakeStore`]: numbers, applications, results with their signed envelopes).
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database).

use std::str::FromStr;
use std::time::Duration;

use egov_proto::v1::{Channel, ResultKind};
use egov_system::intake::{IntakeStore, Registration, StoredResult};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::EsobesError;

/// How long a writer waits for SQLite's lock before failing; writes are short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO sequences (prefix, year, last) VALUES ($1, $2, 1) \
             ON CONFLICT (prefix, year) DO UPDATE SET last = sequences.last + 1 RETURNING last",
        )
        .bind(prefix)
        .bind(year)
        .fetch_one(&self.pool)
        .await?;
        u64::try_from(last).map_err(|_| EsobesError::Corrupt {
            what: format!("sequence {prefix}-{year}"),
            reason: format!("{last} is negative"),
        })
    }

    async fn insert_registration(&self, registration: &Registration) -> Result<(), EsobesError> {
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn registration(&self, number: &str) -> Result<Option<Registration>, EsobesError> {
        let row: Option<ApplicationRow> = sqlx::query_as(
            "SELECT registration_number, service_code, channel, recipient_iin, representative_iin, \
             child_iin, sender_system_id, author_iin, request_message_id, application, case_id, \
             registered_at, due_at FROM applications WHERE registration_number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(registration_from_row).transpose()
    }

    async fn insert_result(&self, result: &StoredResult) -> Result<bool, EsobesError> {
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
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn result(&self, number: &str) -> Result<Option<StoredResult>, EsobesError> {
        let row: Option<ResultRow> = sqlx::query_as(
            "SELECT registration_number, kind, refusal_ground, result, envelope, signer_subject, \
             signer_iin, received_at FROM results WHERE registration_number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        row.map(result_from_row).transpose()
    }
}

/// Formats a timestamp for the TEXT `*_at` columns.
fn rfc3339(time: OffsetDateTime) -> Result<String, EsobesError> {
    time.format(&Rfc3339).map_err(|error| EsobesError::Corrupt {
        what: "timestamp".into(),
        reason: error.to_string(),
    })
}

/// Reads a TEXT `*_at` column.
fn parse_time(what: &str, text: &str) -> Result<OffsetDateTime, EsobesError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|error| EsobesError::Corrupt {
        what: what.to_owned(),
        reason: format!("{text:?}: {error}"),
    })
}

fn registration_from_row(row: ApplicationRow) -> Result<Registration, EsobesError> {
    let what = format!("application {}", row.registration_number);
    let channel = i32::try_from(row.channel)
        .ok()
        .and_then(|value| Channel::try_from(value).ok())
        .ok_or_else(|| EsobesError::Corrupt {
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

fn result_from_row(row: ResultRow) -> Result<StoredResult, EsobesError> {
    let what = format!("result of {}", row.registration_number);
    let kind = i32::try_from(row.kind)
        .ok()
        .and_then(|value| ResultKind::try_from(value).ok())
        .ok_or_else(|| EsobesError::Corrupt {
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
