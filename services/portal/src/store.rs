//! The portal's durable state in SQL (SQLite or PostgreSQL): the requests citizens filed and
//! the cabinet's notifications, every one with the check of its signature. Queries are
//! checked at run time, in the SQL both databases share.

use egov_store::Pool;

use crate::PortalError;

/// The schema, shared by both databases.
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!(shared);

/// A request waiting for its signature.
pub const STATE_AWAITING_SIGNATURE: &str = "awaiting_signature";
/// A request the target system registered.
pub const STATE_REGISTERED: &str = "registered";
/// A request refused before or at registration (EDS not confirmed, data not found…).
pub const STATE_REFUSED: &str = "refused";

/// One request a citizen filed on the portal.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequestRow {
    /// The portal's id.
    pub id: String,
    /// Whose cabinet it belongs to (the recipient, or the principal).
    pub recipient_iin: String,
    /// Who filed it (the recipient, or the representative).
    pub filer_iin: String,
    /// The service, A–F.
    pub service_code: String,
    /// `awaiting_signature`, `registered` or `refused`.
    pub state: String,
    /// The exact header bytes the signer signs, hex.
    pub header_hex: String,
    /// The exact payload bytes, hex.
    pub payload_hex: String,
    /// The signer's id of the request.
    pub signer_request_id: String,
    /// The target system's registration number.
    pub registration_number: String,
    /// When the result is due, RFC 3339.
    pub due_at: String,
    /// Why it was refused.
    pub refusal: String,
    /// When it was filed, Unix seconds.
    pub created_at: i64,
    /// Service D queued without a free place: the child's position in the queue when placed
    /// (the request has no referral number then).
    pub queue_position: Option<i64>,
}

/// A status notification or result in the cabinet, with who signed it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NotificationRow {
    /// Its id.
    pub id: String,
    /// Whose cabinet.
    pub recipient_iin: String,
    /// The registration number it is about.
    pub registration_number: String,
    /// `registered`, `in_progress`, `issued`…
    pub status: String,
    /// The result kind (`certificate`, `refusal`…), or empty for a status.
    pub kind: String,
    /// The text.
    pub text: String,
    /// Its fields, as a JSON object.
    pub fields_json: String,
    /// The first signer's subject (the head for a result, the seal for a status).
    pub signer_subject: String,
    /// The signer's IIN.
    pub signer_iin: String,
    /// The signer's organisation BIN.
    pub signer_bin: String,
    /// The signer's certificate serial.
    pub signer_serial: String,
    /// The signer's certificate roles.
    pub signer_roles: String,
    /// The end of the signer's certificate validity, RFC 3339.
    pub signer_not_after: String,
    /// When it arrived, Unix microseconds (the cabinet handler stamps it so).
    pub received_at: i64,
}

/// The portal's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// The columns of `portal_request`, in the order of [`RequestRow`].
macro_rules! request_columns {
    () => {
        "id, recipient_iin, filer_iin, service_code, state, header_hex, payload_hex, signer_request_id, registration_number, due_at, refusal, created_at, queue_position"
    };
}

/// The columns of `portal_notification`, in the order of [`NotificationRow`].
macro_rules! notification_columns {
    () => {
        "id, recipient_iin, registration_number, status, kind, text, fields_json, signer_subject, signer_iin, signer_bin, signer_serial, signer_roles, signer_not_after, received_at"
    };
}

impl Store {
    /// Opens the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, PortalError> {
        let pool = egov_store::open(egov_store::DATABASE_URL_KEY, url, &MIGRATIONS).await?;
        Ok(Store { pool })
    }

    /// Returns the pool (sign-in keeps its tables in it too).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Keeps a new request.
    pub async fn insert_request(&self, row: &RequestRow) -> Result<(), PortalError> {
        sqlx::query(concat!(
            "INSERT INTO portal_request (",
            request_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&row.id)
        .bind(&row.recipient_iin)
        .bind(&row.filer_iin)
        .bind(&row.service_code)
        .bind(&row.state)
        .bind(&row.header_hex)
        .bind(&row.payload_hex)
        .bind(&row.signer_request_id)
        .bind(&row.registration_number)
        .bind(&row.due_at)
        .bind(&row.refusal)
        .bind(row.created_at)
        .bind(row.queue_position)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns a request by id.
    pub async fn request(&self, id: &str) -> Result<Option<RequestRow>, PortalError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            request_columns!(),
            " FROM portal_request WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Returns the requests of a person's cabinet (theirs, and those they filed for others),
    /// newest first.
    pub async fn requests_of(&self, iin: &str) -> Result<Vec<RequestRow>, PortalError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            request_columns!(),
            " FROM portal_request WHERE recipient_iin = $1 OR filer_iin = $1 ORDER BY created_at DESC, id"
        ))
        .bind(iin)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a request's outcome, only while it still awaits its signature; returns
    /// whether this call recorded it (a double submit records nothing). `queue_position` is
    /// service D's position when the child was queued without a free place.
    pub async fn settle(
        &self,
        id: &str,
        state: &str,
        registration_number: &str,
        due_at: &str,
        refusal: &str,
        queue_position: Option<u32>,
    ) -> Result<bool, PortalError> {
        let done = sqlx::query(
            "UPDATE portal_request SET state = $1, registration_number = $2, due_at = $3, refusal = $4, queue_position = $7 WHERE id = $5 AND state = $6",
        )
        .bind(state)
        .bind(registration_number)
        .bind(due_at)
        .bind(refusal)
        .bind(id)
        .bind(STATE_AWAITING_SIGNATURE)
        .bind(queue_position.map(i64::from))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps a notification.
    pub async fn insert_notification(&self, row: &NotificationRow) -> Result<(), PortalError> {
        sqlx::query(
            "INSERT INTO portal_notification (id, recipient_iin, registration_number, status, kind, text, fields_json, signer_subject, signer_iin, signer_bin, signer_serial, signer_roles, signer_not_after, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&row.id)
        .bind(&row.recipient_iin)
        .bind(&row.registration_number)
        .bind(&row.status)
        .bind(&row.kind)
        .bind(&row.text)
        .bind(&row.fields_json)
        .bind(&row.signer_subject)
        .bind(&row.signer_iin)
        .bind(&row.signer_bin)
        .bind(&row.signer_serial)
        .bind(&row.signer_roles)
        .bind(&row.signer_not_after)
        .bind(row.received_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns the notifications in the cabinet of `iin` (only about `number`, when given), in
    /// arrival order: never another person's.
    pub async fn notifications_of(
        &self,
        iin: &str,
        number: Option<&str>,
    ) -> Result<Vec<NotificationRow>, PortalError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            notification_columns!(),
            " FROM portal_notification WHERE recipient_iin = $1 AND ($2 = '' OR registration_number = $2) ORDER BY received_at, id"
        ))
        .bind(iin)
        .bind(number.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Returns the notifications about a registration number, in arrival order.
    pub async fn notifications(&self, number: &str) -> Result<Vec<NotificationRow>, PortalError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            notification_columns!(),
            " FROM portal_notification WHERE registration_number = $1 ORDER BY received_at, id"
        ))
        .bind(number)
        .fetch_all(&self.pool)
        .await?)
    }
}
