//! The workstation's durable state in SQL (SQLite or PostgreSQL): the electronic queue's
//! tickets, the filings, the receipts of refusal and the journal of operator actions.
//! Queries are checked at run time and written in the SQL both databases share.

use egov_signin::Person;
use egov_store::Pool;
use egov_system::intake_sql::rfc3339;
use time::OffsetDateTime;

use crate::ConError;

/// The schema, the same DDL for both databases.
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!(shared);

/// A ticket of the electronic queue (электрондық кезек / электронная очередь).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ticket {
    /// `YYYYMMDD-NNN`.
    pub id: String,
    /// The day it was taken, `YYYY-MM-DD` in Kazakhstan.
    pub day: String,
    /// Its number in the day, from 1.
    pub seq: i64,
    /// When it was taken.
    pub taken_at: String,
    /// When an operator called it, if one did.
    pub called_at: Option<String>,
    /// Who called it.
    pub operator_login: String,
    /// The caller's name.
    pub operator_name: String,
}

impl Ticket {
    /// Returns the number shown on the ticket and the hall's board, e.g. `007`.
    pub fn number(&self) -> String {
        format!("{:03}", self.seq)
    }
}

/// What became of a ticket's request; the default has no result and no hand-over yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Filing {
    /// A UUIDv7.
    pub id: String,
    /// The ticket it was filed on.
    pub ticket_id: String,
    /// The service code (`B`, `C`, `D`).
    pub service_code: String,
    /// The recipient.
    pub recipient_iin: String,
    /// The representative, or empty.
    pub representative_iin: String,
    /// `sent`, `refused` or `receipt` (refused to accept, with a receipt).
    pub outcome: String,
    /// The refusal's reason, or what the target answered.
    pub message: String,
    /// The target system the request went to, or empty.
    pub target_system: String,
    /// The target's registration number, or empty.
    pub registration_number: String,
    /// Who filed it.
    pub operator_login: String,
    /// The filer's name.
    pub operator_name: String,
    /// When.
    pub filed_at: String,
    /// The result's kind (`RESULT_KIND_CERTIFICATE` …), once it came back.
    pub result_kind: String,
    /// The result's text.
    pub result_text: String,
    /// The subject of the certificate that signed the result: the provider's head, for one
    /// the provider delivered (F) or one read by registration number with its head-signed
    /// evidence (B, C); the queue register's seal for D's placement, answered at filing.
    pub result_signer: String,
    /// When the result came back.
    pub result_at: Option<String>,
    /// Who handed the result over, or empty.
    pub handed_over_by: String,
    /// When it was handed over.
    pub handed_over_at: Option<String>,
}

/// A filing's outcome, as stored.
pub mod outcome {
    /// The request went through the gateway and the target registered it.
    pub const SENT: &str = "sent";
    /// Refused: the data cannot be obtained, or the target refused.
    pub const REFUSED: &str = "refused";
    /// Refused to accept an incomplete package, with a receipt of refusal.
    pub const RECEIPT: &str = "receipt";
}

/// A receipt of refusal to accept the application (өтінішті қабылдаудан бас тарту туралы
/// қолхат / расписка об отказе в приеме заявления).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Receipt {
    /// A UUIDv7.
    pub id: String,
    /// The filing it closed.
    pub filing_id: String,
    /// The service code.
    pub service_code: String,
    /// The recipient.
    pub recipient_iin: String,
    /// The recipient's name as the application states it (no register is asked first).
    pub recipient_name: String,
    /// The missing item-9 documents' names, one per line.
    pub missing: String,
    /// The operator who issued it.
    pub operator_name: String,
    /// When.
    pub issued_at: String,
}

/// One operator action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JournalEntry {
    /// A UUIDv7.
    pub id: String,
    /// When.
    pub at: String,
    /// Who (login).
    pub operator_login: String,
    /// Who (name).
    pub operator_name: String,
    /// What: `call`, `file`, `refuse`, `receipt`, `result`, `hand_over`.
    pub action: String,
    /// On what: a ticket, filing or receipt id with a short note.
    pub subject: String,
}

/// The workstation's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// The query of filings, its columns in [`Filing`]'s order, followed by `$rest`.
macro_rules! select_filings {
    ($rest:literal) => {
        concat!(
            "SELECT id, ticket_id, service_code, recipient_iin, representative_iin, outcome, ",
            "message, target_system, registration_number, operator_login, operator_name, ",
            "filed_at, result_kind, result_text, result_signer, result_at, handed_over_by, ",
            "handed_over_at FROM filings ",
            $rest
        )
    };
}

/// A provider's result as the State Corporation keeps it.
#[derive(Debug, Clone, Copy)]
pub struct ReceivedResult<'a> {
    /// The result kind (`RESULT_KIND_RESOLUTION`, `RESULT_KIND_REFUSAL` …).
    pub kind: &'a str,
    /// Its text.
    pub text: &'a str,
    /// The subject of the certificate that signed it.
    pub signer: &'a str,
}

impl Store {
    /// Opens the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, ConError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Returns the pool (sign-in keeps its tables in it).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Takes the next ticket of `day`.
    pub async fn take_ticket(&self, day: &str, now: OffsetDateTime) -> Result<Ticket, ConError> {
        let taken_at = rfc3339(now)?;
        // Two kiosks racing for one number: the unique (day, seq) makes one retry.
        for _ in 0..5 {
            let (last,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM tickets WHERE day = $1")
                    .bind(day)
                    .fetch_one(&self.pool)
                    .await?;
            let seq = last + 1;
            let id = format!("{}-{seq:03}", day.replace('-', ""));
            let inserted = sqlx::query(
                "INSERT INTO tickets (id, day, seq, taken_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(day)
            .bind(seq)
            .bind(&taken_at)
            .execute(&self.pool)
            .await?;
            if inserted.rows_affected() == 1 {
                return self.ticket(&id).await;
            }
        }
        Err(ConError::Conflict(
            "the queue is busy: take the ticket again".into(),
        ))
    }

    /// Returns a ticket.
    pub async fn ticket(&self, id: &str) -> Result<Ticket, ConError> {
        sqlx::query_as(
            "SELECT id, day, seq, taken_at, called_at, operator_login, operator_name \
             FROM tickets WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ConError::NotFound {
            what: "ticket",
            id: id.to_owned(),
        })
    }

    /// Returns how many tickets wait to be called.
    pub async fn waiting(&self) -> Result<i64, ConError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM tickets WHERE called_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// Calls the oldest waiting ticket for `operator`, if any.
    pub async fn call_next(
        &self,
        operator: &Person,
        now: OffsetDateTime,
    ) -> Result<Option<Ticket>, ConError> {
        let called_at = rfc3339(now)?;
        for _ in 0..5 {
            let next: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM tickets WHERE called_at IS NULL ORDER BY day, seq LIMIT 1",
            )
            .fetch_optional(&self.pool)
            .await?;
            let Some((id,)) = next else {
                return Ok(None);
            };
            // Two operators calling at once: the one whose update finds it waiting gets it.
            let taken = sqlx::query(
                "UPDATE tickets SET called_at = $1, operator_login = $2, operator_name = $3 \
                 WHERE id = $4 AND called_at IS NULL",
            )
            .bind(&called_at)
            .bind(&operator.login)
            .bind(&operator.name)
            .bind(&id)
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() == 1 {
                return self.ticket(&id).await.map(Some);
            }
        }
        Ok(None)
    }

    /// Stores a filing; a second filing on the same ticket is refused (a double submit).
    pub async fn insert_filing(&self, filing: &Filing) -> Result<bool, ConError> {
        let inserted = sqlx::query(
            "INSERT INTO filings (id, ticket_id, service_code, recipient_iin, representative_iin, \
             outcome, message, target_system, registration_number, operator_login, operator_name, \
             filed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&filing.id)
        .bind(&filing.ticket_id)
        .bind(&filing.service_code)
        .bind(&filing.recipient_iin)
        .bind(&filing.representative_iin)
        .bind(&filing.outcome)
        .bind(&filing.message)
        .bind(&filing.target_system)
        .bind(&filing.registration_number)
        .bind(&filing.operator_login)
        .bind(&filing.operator_name)
        .bind(&filing.filed_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Returns a filing.
    pub async fn filing(&self, id: &str) -> Result<Filing, ConError> {
        sqlx::query_as(select_filings!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| ConError::NotFound {
                what: "filing",
                id: id.to_owned(),
            })
    }

    /// Returns the filing sent to `target_system` under its `registration_number`, if any.
    pub async fn filing_sent(
        &self,
        target_system: &str,
        registration_number: &str,
    ) -> Result<Option<Filing>, ConError> {
        Ok(sqlx::query_as(select_filings!(
            "WHERE target_system = $1 AND registration_number = $2"
        ))
        .bind(target_system)
        .bind(registration_number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the filing of a ticket, if any.
    pub async fn filing_of_ticket(&self, ticket_id: &str) -> Result<Option<Filing>, ConError> {
        Ok(sqlx::query_as(select_filings!("WHERE ticket_id = $1"))
            .bind(ticket_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Returns the latest filings, newest first.
    pub async fn recent_filings(&self, limit: i64) -> Result<Vec<Filing>, ConError> {
        Ok(sqlx::query_as(select_filings!("ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records the result that came back for a filing.
    pub async fn set_result(
        &self,
        id: &str,
        kind: &str,
        text: &str,
        signer: &str,
        now: OffsetDateTime,
    ) -> Result<(), ConError> {
        sqlx::query(
            "UPDATE filings SET result_kind = $1, result_text = $2, result_signer = $3, \
             result_at = $4 WHERE id = $5",
        )
        .bind(kind)
        .bind(text)
        .bind(signer)
        .bind(rfc3339(now)?)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the result a provider sent for the filing it registered under
    /// `registration_number`; returns the filing's id, or `None` when no filing of that
    /// system has the number. A result already recorded stays (a redelivery changes nothing).
    pub async fn receive_result(
        &self,
        target_system: &str,
        registration_number: &str,
        result: ReceivedResult<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<String>, ConError> {
        sqlx::query(
            "UPDATE filings SET result_kind = $1, result_text = $2, result_signer = $3, \
             result_at = $4 \
             WHERE target_system = $5 AND registration_number = $6 AND result_at IS NULL",
        )
        .bind(result.kind)
        .bind(result.text)
        .bind(result.signer)
        .bind(rfc3339(now)?)
        .bind(target_system)
        .bind(registration_number)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_scalar(
            "SELECT id FROM filings WHERE target_system = $1 AND registration_number = $2",
        )
        .bind(target_system)
        .bind(registration_number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records the hand-over of a filing's result; false if it was handed over already.
    pub async fn hand_over(
        &self,
        id: &str,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, ConError> {
        let done = sqlx::query(
            "UPDATE filings SET handed_over_by = $1, handed_over_at = $2 \
             WHERE id = $3 AND handed_over_at IS NULL AND result_at IS NOT NULL",
        )
        .bind(by)
        .bind(rfc3339(now)?)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a receipt of refusal.
    pub async fn insert_receipt(&self, receipt: &Receipt) -> Result<(), ConError> {
        sqlx::query(
            "INSERT INTO receipts (id, filing_id, service_code, recipient_iin, recipient_name, \
             missing, operator_name, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&receipt.id)
        .bind(&receipt.filing_id)
        .bind(&receipt.service_code)
        .bind(&receipt.recipient_iin)
        .bind(&receipt.recipient_name)
        .bind(&receipt.missing)
        .bind(&receipt.operator_name)
        .bind(&receipt.issued_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns a receipt.
    pub async fn receipt(&self, id: &str) -> Result<Receipt, ConError> {
        sqlx::query_as(
            "SELECT id, filing_id, service_code, recipient_iin, recipient_name, missing, \
             operator_name, issued_at FROM receipts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ConError::NotFound {
            what: "receipt",
            id: id.to_owned(),
        })
    }

    /// Returns the receipt of a filing, if any.
    pub async fn receipt_of_filing(&self, filing_id: &str) -> Result<Option<Receipt>, ConError> {
        Ok(sqlx::query_as(
            "SELECT id, filing_id, service_code, recipient_iin, recipient_name, missing, \
             operator_name, issued_at FROM receipts WHERE filing_id = $1",
        )
        .bind(filing_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records an operator action.
    pub async fn record(
        &self,
        operator: &Person,
        action: &str,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<(), ConError> {
        sqlx::query(
            "INSERT INTO journal (id, at, operator_login, operator_name, action, subject) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(rfc3339(now)?)
        .bind(&operator.login)
        .bind(&operator.name)
        .bind(action)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns the journal, newest first.
    pub async fn journal(&self, limit: i64) -> Result<Vec<JournalEntry>, ConError> {
        Ok(sqlx::query_as(
            "SELECT id, at, operator_login, operator_name, action, subject FROM journal \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
