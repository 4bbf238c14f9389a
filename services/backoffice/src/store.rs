//! The back office's durable state in SQL (SQLite or PostgreSQL): cases, their steps, results and the outbox of
//! messages to other systems. A change of a case and the messages that report it are written
//! in one transaction, so a restart neither loses a notification nor sends one twice.
//!
//! Queries are checked at run time (no `query!` macros, so building needs no database) and
//! written in the SQL SQLite and PostgreSQL share, on an [`egov_store::Pool`] of either. Times
//! are RFC 3339 text ([`Timestamp`]); flags are 0 / 1 on SQLite and BOOLEAN on PostgreSQL,
//! read through [`Flag`].

use egov_store::{Flag, OptionalTimestamp, Pool, Timestamp};
use time::OffsetDateTime;

use crate::BackOfficeError;

/// The schema, per database (BLOB or BYTEA, AUTOINCREMENT or an identity column).
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!();

/// A delivery retried until the receiver accepts it.
pub const STATE_PENDING: &str = "pending";
/// A delivery the receiver accepted.
pub const STATE_DELIVERED: &str = "delivered";
/// A best-effort delivery given up (no route to the cabinet yet).
pub const STATE_DROPPED: &str = "dropped";

/// A result document: signed by the head, countersigned by the system.
pub const KIND_RESULT: &str = "result";
/// A status notification: signed by the system.
pub const KIND_STATUS: &str = "status";

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRecord {
    /// The case id (UUIDv7).
    pub id: String,
    /// The service code.
    pub service_code: String,
    /// The registration number.
    pub registration_number: String,
    /// The system that opened it through the gateway; empty for the direct call.
    pub requester_system_id: String,
    /// The system the result goes to; empty when it is handed over at the office.
    pub reply_to_system_id: String,
    /// The recipient's IIN.
    pub recipient_iin: String,
    /// The encoded `ServiceApplication`.
    pub application: Vec<u8>,
    /// `auto` or `manual`.
    pub policy: String,
    /// When it was opened.
    #[sqlx(try_from = "Timestamp")]
    pub opened_at: OffsetDateTime,
    /// When the whole service is due.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub term_due_at: Option<OffsetDateTime>,
    /// `approve` or `refuse`, once the deciding step ended.
    pub decision: Option<String>,
    /// The refusal ground, for a refusal.
    pub refusal_ground: Option<String>,
    /// Why it was refused, or the deciding person's comment.
    pub decision_reason: Option<String>,
    /// When the deciding step ended.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub decided_at: Option<OffsetDateTime>,
    /// When the last step ended.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub closed_at: Option<OffsetDateTime>,
}

/// A step of a case as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StepRecord {
    /// The case.
    pub case_id: String,
    /// The step's index in the catalogue file.
    pub idx: i64,
    /// `clerk`, `head` or `executor`.
    pub role: String,
    /// The step's action.
    pub action: String,
    /// The norm as written, or empty.
    pub norm: String,
    /// When it started.
    #[sqlx(try_from = "Timestamp")]
    pub started_at: OffsetDateTime,
    /// When it is due, if it has a norm.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub due_at: Option<OffsetDateTime>,
    /// When it ended.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub ended_at: Option<OffsetDateTime>,
    /// What was done: the action, or `refuse`.
    pub taken_action: Option<String>,
    /// `auto`, or the acting role.
    pub actor: Option<String>,
    /// The person's comment.
    pub comment: Option<String>,
}

/// The result of a closed case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResultRecord {
    /// The case.
    pub case_id: String,
    /// The result kind's name (`certificate` … `refusal`).
    pub kind: String,
    /// The refusal ground, for a refusal.
    pub refusal_ground: Option<String>,
    /// The encoded `ServiceResult`.
    pub payload: Vec<u8>,
    /// When it was decided.
    #[sqlx(try_from = "Timestamp")]
    pub decided_at: OffsetDateTime,
    /// Whether the requester's system has not accepted it yet.
    #[sqlx(try_from = "Flag")]
    pub delivery_pending: bool,
    /// When the requester's system accepted it.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub delivered_at: Option<OffsetDateTime>,
    /// For a result handed over on paper: the result as its head signed it (an encoded
    /// `Envelope`); results sent to a system are signed in the outbox instead.
    pub signed_document: Option<Vec<u8>>,
}

/// A message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRecord {
    /// Its number, in the order written.
    pub id: i64,
    /// The case it reports on.
    pub case_id: String,
    /// [`KIND_RESULT`] or [`KIND_STATUS`].
    pub kind: String,
    /// The service id called.
    pub service_id: String,
    /// The receiving system.
    pub receiver_system_id: String,
    /// The recipient the message is about.
    pub recipient_iin: String,
    /// The encoded `ServiceResult`.
    pub payload: Vec<u8>,
    /// Whether it is retried until delivered (else dropped when no route exists).
    #[sqlx(try_from = "Flag")]
    pub required: bool,
    /// [`STATE_PENDING`], [`STATE_DELIVERED`] or [`STATE_DROPPED`].
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    #[sqlx(try_from = "Timestamp")]
    pub next_attempt_at: OffsetDateTime,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was written.
    #[sqlx(try_from = "Timestamp")]
    pub created_at: OffsetDateTime,
    /// When it was delivered.
    #[sqlx(try_from = "OptionalTimestamp")]
    pub delivered_at: Option<OffsetDateTime>,
}

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// [`KIND_RESULT`] or [`KIND_STATUS`].
    pub kind: &'static str,
    /// The service id to call.
    pub service_id: String,
    /// The receiving system.
    pub receiver_system_id: String,
    /// The recipient the message is about.
    pub recipient_iin: String,
    /// The encoded `ServiceResult`.
    pub payload: Vec<u8>,
    /// Whether it is retried until delivered.
    pub required: bool,
}

/// The end of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepEnd {
    /// The step's index.
    pub idx: i64,
    /// When it ended.
    pub ended_at: OffsetDateTime,
    /// What was done.
    pub taken_action: String,
    /// `auto`, or the acting role.
    pub actor: String,
    /// The person's comment, if any.
    pub comment: Option<String>,
}

/// The deciding step's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRecord {
    /// `approve` or `refuse`.
    pub decision: &'static str,
    /// The refusal ground, for a refusal.
    pub refusal_ground: Option<String>,
    /// Why, or the person's comment.
    pub reason: Option<String>,
    /// When it was taken.
    pub decided_at: OffsetDateTime,
}

/// One move of a case: a step ends, and the next starts or the case closes with its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The case.
    pub case_id: String,
    /// The step that ends.
    pub end: StepEnd,
    /// The decision, when the ending step decides.
    pub decision: Option<DecisionRecord>,
    /// The step that starts next.
    pub next: Option<StepRecord>,
    /// The result, when the case closes (at the ending step's end).
    pub close: Option<ResultRecord>,
    /// The messages that report the move.
    pub deliveries: Vec<NewDelivery>,
}

/// The back office's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

// Column lists as macros: sqlx takes only `&'static str` SQL, which `concat!` builds.
macro_rules! case_columns {
    () => {
        "id, service_code, registration_number, requester_system_id, reply_to_system_id, \
         recipient_iin, application, policy, opened_at, term_due_at, decision, refusal_ground, \
         decision_reason, decided_at, closed_at"
    };
}

macro_rules! step_columns {
    () => {
        "case_id, idx, role, action, norm, started_at, due_at, ended_at, taken_action, actor, \
         comment"
    };
}

macro_rules! delivery_columns {
    () => {
        "id, case_id, kind, service_id, receiver_system_id, recipient_iin, payload, required, \
         state, attempts, next_attempt_at, last_error, created_at, delivered_at"
    };
}

impl Store {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and applies pending
    /// migrations.
    pub async fn open(url: &str) -> Result<Store, BackOfficeError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Returns the pool, for the worklist's sign-in tables in the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Closes every connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Stores a new case with its first step and the messages announcing it; returns false
    /// (storing nothing) when the requester already opened a case with this registration number.
    pub async fn insert_case(
        &self,
        case: &CaseRecord,
        first: &StepRecord,
        deliveries: &[NewDelivery],
        now: OffsetDateTime,
    ) -> Result<bool, BackOfficeError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(concat!(
            "INSERT INTO cases (",
            case_columns!(),
            ") VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (requester_system_id, registration_number) DO NOTHING"
        ))
        .bind(&case.id)
        .bind(&case.service_code)
        .bind(&case.registration_number)
        .bind(&case.requester_system_id)
        .bind(&case.reply_to_system_id)
        .bind(&case.recipient_iin)
        .bind(&case.application)
        .bind(&case.policy)
        .bind(Timestamp(case.opened_at))
        .bind(case.term_due_at.map(Timestamp))
        .bind(&case.decision)
        .bind(&case.refusal_ground)
        .bind(&case.decision_reason)
        .bind(case.decided_at.map(Timestamp))
        .bind(case.closed_at.map(Timestamp))
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        // The opening request's trace, for the outbox's later sends to continue.
        let traceparent = egov_bus::trace_context::current_traceparent();
        if !traceparent.is_empty() {
            sqlx::query("UPDATE cases SET traceparent = $1 WHERE id = $2")
                .bind(&traceparent)
                .bind(&case.id)
                .execute(&mut *tx)
                .await?;
        }
        insert_step(&mut tx, first).await?;
        for delivery in deliveries {
            insert_delivery(&mut tx, &case.id, delivery, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Applies a move of a case in one transaction; returns false (changing nothing) when
    /// the step had already ended, e.g. a person acted while its timer fired.
    pub async fn apply(
        &self,
        transition: &Transition,
        now: OffsetDateTime,
    ) -> Result<bool, BackOfficeError> {
        let mut tx = self.pool.begin().await?;
        let end = &transition.end;
        let ended = sqlx::query(
            "UPDATE steps SET ended_at = $1, taken_action = $2, actor = $3, comment = $4 \
             WHERE case_id = $5 AND idx = $6 AND ended_at IS NULL",
        )
        .bind(Timestamp(end.ended_at))
        .bind(&end.taken_action)
        .bind(&end.actor)
        .bind(&end.comment)
        .bind(&transition.case_id)
        .bind(end.idx)
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(decision) = &transition.decision {
            sqlx::query(
                "UPDATE cases SET decision = $1, refusal_ground = $2, decision_reason = $3, \
                 decided_at = $4 WHERE id = $5",
            )
            .bind(decision.decision)
            .bind(&decision.refusal_ground)
            .bind(&decision.reason)
            .bind(Timestamp(decision.decided_at))
            .bind(&transition.case_id)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(next) = &transition.next {
            insert_step(&mut tx, next).await?;
        }
        if let Some(result) = &transition.close {
            sqlx::query("UPDATE cases SET closed_at = $1 WHERE id = $2")
                .bind(Timestamp(end.ended_at))
                .bind(&transition.case_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO results (case_id, kind, refusal_ground, payload, decided_at, \
                 delivery_pending, delivered_at, signed_document) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&result.case_id)
            .bind(&result.kind)
            .bind(&result.refusal_ground)
            .bind(&result.payload)
            .bind(Timestamp(result.decided_at))
            .bind(result.delivery_pending)
            .bind(result.delivered_at.map(Timestamp))
            .bind(&result.signed_document)
            .execute(&mut *tx)
            .await?;
        }
        for delivery in &transition.deliveries {
            insert_delivery(&mut tx, &transition.case_id, delivery, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Returns the case with this id.
    pub async fn case(&self, id: &str) -> Result<Option<CaseRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            case_columns!(),
            " FROM cases WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the case a requester opened with this registration number.
    pub async fn case_by_registration(
        &self,
        requester_system_id: &str,
        registration_number: &str,
    ) -> Result<Option<CaseRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            case_columns!(),
            " FROM cases \
             WHERE requester_system_id = $1 AND registration_number = $2"
        ))
        .bind(requester_system_id)
        .bind(registration_number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns every open case, oldest first.
    pub async fn open_cases(&self) -> Result<Vec<CaseRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            case_columns!(),
            " FROM cases WHERE closed_at IS NULL ORDER BY opened_at, id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns a case's steps in order.
    pub async fn steps(&self, case_id: &str) -> Result<Vec<StepRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            step_columns!(),
            " FROM steps WHERE case_id = $1 ORDER BY idx"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns a closed case's result.
    pub async fn result(&self, case_id: &str) -> Result<Option<ResultRecord>, BackOfficeError> {
        Ok(sqlx::query_as(
            "SELECT case_id, kind, refusal_ground, payload, decided_at, delivery_pending, \
             delivered_at, signed_document FROM results WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the `traceparent` of the request that opened a case (`""` when none came).
    pub async fn case_traceparent(&self, case_id: &str) -> Result<String, BackOfficeError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT traceparent FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.map(|(traceparent,)| traceparent).unwrap_or_default())
    }

    /// Returns every pending delivery, in the order written.
    pub async fn pending_deliveries(&self) -> Result<Vec<DeliveryRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE state = $1 ORDER BY id"
        ))
        .bind(STATE_PENDING)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns a case's deliveries, in the order written.
    pub async fn deliveries(&self, case_id: &str) -> Result<Vec<DeliveryRecord>, BackOfficeError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries WHERE case_id = $1 ORDER BY id"
        ))
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks a delivery delivered; a result's delivery also clears the result's pending flag.
    pub async fn mark_delivered(
        &self,
        delivery: &DeliveryRecord,
        at: OffsetDateTime,
    ) -> Result<(), BackOfficeError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE deliveries SET state = $1, attempts = attempts + 1, delivered_at = $2, \
             last_error = NULL WHERE id = $3",
        )
        .bind(STATE_DELIVERED)
        .bind(Timestamp(at))
        .bind(delivery.id)
        .execute(&mut *tx)
        .await?;
        if delivery.kind == KIND_RESULT && delivery.required {
            sqlx::query(
                "UPDATE results SET delivery_pending = FALSE, delivered_at = $1 WHERE case_id = $2",
            )
            .bind(Timestamp(at))
            .bind(&delivery.case_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn mark_retry(
        &self,
        id: i64,
        next_attempt_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), BackOfficeError> {
        sqlx::query(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1, \
             last_error = $2 WHERE id = $3",
        )
        .bind(Timestamp(next_attempt_at))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a best-effort delivery up.
    pub async fn mark_dropped(&self, id: i64, error: &str) -> Result<(), BackOfficeError> {
        sqlx::query(
            "UPDATE deliveries SET state = $1, attempts = attempts + 1, last_error = $2 \
             WHERE id = $3",
        )
        .bind(STATE_DROPPED)
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

async fn insert_step(
    tx: &mut egov_store::Transaction<'_>,
    step: &StepRecord,
) -> Result<(), BackOfficeError> {
    sqlx::query(concat!(
        "INSERT INTO steps (",
        step_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&step.case_id)
    .bind(step.idx)
    .bind(&step.role)
    .bind(&step.action)
    .bind(&step.norm)
    .bind(Timestamp(step.started_at))
    .bind(step.due_at.map(Timestamp))
    .bind(step.ended_at.map(Timestamp))
    .bind(&step.taken_action)
    .bind(&step.actor)
    .bind(&step.comment)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_delivery(
    tx: &mut egov_store::Transaction<'_>,
    case_id: &str,
    delivery: &NewDelivery,
    now: OffsetDateTime,
) -> Result<(), BackOfficeError> {
    sqlx::query(
        "INSERT INTO deliveries (case_id, kind, service_id, receiver_system_id, recipient_iin, \
         payload, required, state, attempts, next_attempt_at, last_error, created_at, \
         delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, NULL, $9, NULL)",
    )
    .bind(case_id)
    .bind(delivery.kind)
    .bind(&delivery.service_id)
    .bind(&delivery.receiver_system_id)
    .bind(&delivery.recipient_iin)
    .bind(&delivery.payload)
    .bind(delivery.required)
    .bind(STATE_PENDING)
    .bind(Timestamp(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_testkit::PostgresServer;
    use time::macros::datetime;

    fn delivery(kind: &'static str, required: bool) -> NewDelivery {
        NewDelivery {
            kind,
            service_id: "labor.application.result".into(),
            receiver_system_id: "labor".into(),
            recipient_iin: "751204400013".into(),
            payload: vec![0x0a, 0, 0xff],
            required,
        }
    }

    #[tokio::test]
    async fn backoffice_store_keeps_cases_steps_results_and_deliveries_on_postgresql() {
        let postgres = PostgresServer::start().expect("postgres starts");
        let url = postgres.create_database("backoffice").expect("database");
        let store = Store::open(&url).await.expect("opens and migrates");
        let now = datetime!(2026-11-25 10:00:00.5 UTC);

        let case = CaseRecord {
            id: "0193a4f2-0000-7000-8000-000000000001".into(),
            service_code: "B".into(),
            registration_number: "B-2026-000001".into(),
            requester_system_id: "labor".into(),
            reply_to_system_id: "labor".into(),
            recipient_iin: "751204400013".into(),
            application: vec![0, 1, 2, 0xff],
            policy: "manual".into(),
            opened_at: now,
            term_due_at: Some(now + time::Duration::days(1)),
            decision: None,
            refusal_ground: None,
            decision_reason: None,
            decided_at: None,
            closed_at: None,
        };
        let first = StepRecord {
            case_id: case.id.clone(),
            idx: 0,
            role: "clerk".into(),
            action: "register".into(),
            norm: "15 min".into(),
            started_at: now,
            due_at: Some(now + time::Duration::minutes(15)),
            ended_at: None,
            taken_action: None,
            actor: None,
            comment: None,
        };
        let opened = [delivery(KIND_STATUS, false)];
        assert!(
            store
                .insert_case(&case, &first, &opened, now)
                .await
                .expect("opens")
        );
        assert!(
            !store
                .insert_case(&case, &first, &opened, now)
                .await
                .expect("opens"),
            "a retried open made a second case"
        );
        assert_eq!(
            store.case(&case.id).await.expect("reads"),
            Some(case.clone())
        );
        assert_eq!(
            store
                .case_by_registration("labor", "B-2026-000001")
                .await
                .expect("reads"),
            Some(case.clone())
        );
        assert_eq!(
            store.open_cases().await.expect("lists"),
            std::slice::from_ref(&case)
        );
        assert_eq!(
            store.steps(&case.id).await.expect("lists"),
            std::slice::from_ref(&first)
        );

        let decided_at = now + time::Duration::minutes(5);
        let result = ResultRecord {
            case_id: case.id.clone(),
            kind: "refusal".into(),
            refusal_ground: Some("item 10.2".into()),
            payload: vec![0x12, 0],
            decided_at,
            delivery_pending: true,
            delivered_at: None,
            signed_document: Some(vec![0x0a, 1, 2]),
        };
        let transition = Transition {
            case_id: case.id.clone(),
            end: StepEnd {
                idx: 0,
                ended_at: decided_at,
                taken_action: "refuse".into(),
                actor: "clerk".into(),
                comment: Some("no employment record".into()),
            },
            decision: Some(DecisionRecord {
                decision: "refuse",
                refusal_ground: Some("item 10.2".into()),
                reason: Some("no employment record".into()),
                decided_at,
            }),
            next: None,
            close: Some(result.clone()),
            deliveries: vec![delivery(KIND_RESULT, true)],
        };
        assert!(store.apply(&transition, decided_at).await.expect("applies"));
        assert!(
            !store.apply(&transition, decided_at).await.expect("applies"),
            "an ended step ended twice"
        );
        assert!(store.open_cases().await.expect("lists").is_empty());
        let closed = store.case(&case.id).await.expect("reads").expect("a case");
        assert_eq!(closed.closed_at, Some(decided_at));
        assert_eq!(closed.decision.as_deref(), Some("refuse"));
        assert_eq!(store.result(&case.id).await.expect("reads"), Some(result));

        let pending = store.pending_deliveries().await.expect("lists");
        assert_eq!(pending.len(), 2);
        assert!(!pending[0].required && pending[1].required);
        assert_eq!(pending[1].next_attempt_at, decided_at);
        let retry_at = decided_at + time::Duration::seconds(30);
        store
            .mark_retry(pending[1].id, retry_at, "unavailable")
            .await
            .expect("retries");
        store
            .mark_dropped(pending[0].id, "no route")
            .await
            .expect("drops");
        let again = store.deliveries(&case.id).await.expect("lists");
        assert_eq!(again[0].state, STATE_DROPPED);
        assert_eq!(again[1].attempts, 1);
        assert_eq!(again[1].last_error.as_deref(), Some("unavailable"));
        store
            .mark_delivered(&again[1], retry_at)
            .await
            .expect("delivered");
        assert!(store.pending_deliveries().await.expect("lists").is_empty());
        let delivered = store
            .result(&case.id)
            .await
            .expect("reads")
            .expect("a result");
        assert!(!delivered.delivery_pending);
        assert_eq!(delivered.delivered_at, Some(retry_at));
        store.close().await;
    }
}
