//! The requests the portal hands over to be signed: the exact header and payload bytes, who
//! is expected to sign (the IIN the request names) and where to send the person back.
//!
//! They are kept in `requests.db` (SQLite, owner-only) in the data dir, so a person who
//! restarts the signer between the portal's hand-over and their signature still finds the
//! request. The file holds what the portal sent and the signature, never a key.

use std::path::Path;

use egov_proto::v1::{Header, Signature};
use egov_store::{Flag, Pool, Timestamp};
use prost::Message;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::SignerError;

/// The most requests kept at once; the oldest go first.
pub const MAX_WAITING: i64 = 1_000;

/// The file the requests are kept in, inside the data dir.
pub const REQUESTS_FILE: &str = "requests.db";

/// The schema (SQLite only: the signer never runs on a shared database).
static MIGRATIONS: egov_store::Migrations = egov_store::migrations!(shared);

/// What the portal sends: `POST /api/requests`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRequest {
    /// The encoded `egov.v1.Header`, hex.
    pub header_hex: String,
    /// The encoded payload, hex.
    pub payload_hex: String,
    /// Where the browser goes once signed (or declined): the portal's page.
    pub return_url: String,
    /// A one-line description the page shows (the service's name).
    pub title: String,
}

/// What the signer answers: the id and the page where the person signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    /// The request's id.
    pub id: String,
    /// The signer's page for it, relative to the signer's address.
    pub sign_path: String,
}

/// The state of a request: `GET /api/requests/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestState {
    /// `waiting`, `signed` or `declined`.
    pub state: String,
    /// The encoded `egov.v1.Signature`, hex, once signed.
    pub signature_hex: String,
}

/// A request waiting for its signature.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The exact header bytes.
    pub header: Vec<u8>,
    /// The decoded header, for the page.
    pub decoded: Header,
    /// The exact payload bytes.
    pub payload: Vec<u8>,
    /// Where to send the browser back.
    pub return_url: String,
    /// What the page calls it.
    pub title: String,
    /// The form's one-time token.
    pub nonce: String,
    /// The signature, once made.
    pub signature: Option<Signature>,
    /// Whether the person declined.
    pub declined: bool,
}

/// A kept request as its row reads.
#[derive(sqlx::FromRow)]
struct Row {
    header: Vec<u8>,
    payload: Vec<u8>,
    return_url: String,
    title: String,
    nonce: String,
    signature: Option<Vec<u8>>,
    #[sqlx(try_from = "Flag")]
    declined: bool,
}

impl Row {
    /// Decodes the stored header and signature.
    fn pending(self, id: &str) -> Result<Pending, SignerError> {
        let corrupt = |what: &str, error: prost::DecodeError| {
            SignerError::Corrupt(format!(
                "request {id}: the kept {what} does not decode: {error}"
            ))
        };
        let decoded = Header::decode(&self.header[..]).map_err(|error| corrupt("header", error))?;
        let signature = self
            .signature
            .map(|bytes| Signature::decode(bytes.as_slice()))
            .transpose()
            .map_err(|error| corrupt("signature", error))?;
        Ok(Pending {
            header: self.header,
            decoded,
            payload: self.payload,
            return_url: self.return_url,
            title: self.title,
            nonce: self.nonce,
            signature,
            declined: self.declined,
        })
    }
}

/// The requests, by id, kept in the data dir; cheap to clone.
#[derive(Debug, Clone)]
pub struct Requests {
    pool: Pool,
}

/// Returns `n` random bytes as hex.
pub fn random_hex(n: usize) -> Result<String, SignerError> {
    let mut bytes = vec![0u8; n];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| SignerError::Key("the system's random source failed".into()))?;
    Ok(hex::encode(bytes))
}

impl Requests {
    /// Opens the requests kept in `data_dir` (`requests.db`, created owner-only if missing).
    pub async fn open(data_dir: &Path) -> Result<Requests, SignerError> {
        let file = data_dir.join(REQUESTS_FILE);
        crate::keyring::create_private_file(&file)?;
        let url = egov_store::database_url_or_default(None, data_dir, REQUESTS_FILE);
        // SQLite gives its -wal and -shm files the database file's mode: owner-only too.
        let pool = egov_store::open("data_dir", &url, &MIGRATIONS).await?;
        Ok(Requests { pool })
    }

    /// Closes the file, waiting for running statements.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Keeps a new request; its return URL must be http(s) and its bytes a valid header.
    pub async fn create(&self, request: NewRequest) -> Result<Created, SignerError> {
        let header = hex::decode(&request.header_hex)
            .map_err(|_| SignerError::BadRequest("header_hex is not hex".into()))?;
        let payload = hex::decode(&request.payload_hex)
            .map_err(|_| SignerError::BadRequest("payload_hex is not hex".into()))?;
        Header::decode(header.as_slice())
            .map_err(|error| SignerError::BadRequest(format!("header: {error}")))?;
        if !(request.return_url.starts_with("http://")
            || request.return_url.starts_with("https://"))
        {
            return Err(SignerError::BadRequest(
                "return_url must be an http(s) URL".into(),
            ));
        }
        let id = random_hex(16)?;
        let nonce = random_hex(16)?;
        let title: String = request.title.chars().take(300).collect();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sign_requests (id, header, payload, return_url, title, nonce, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&header)
        .bind(&payload)
        .bind(&request.return_url)
        .bind(&title)
        .bind(&nonce)
        .bind(Timestamp(OffsetDateTime::now_utc()))
        .execute(&mut *tx)
        .await?;
        // Keeps the newest MAX_WAITING: the oldest go first, whatever their state.
        sqlx::query(
            "DELETE FROM sign_requests WHERE seq <= (SELECT MAX(seq) FROM sign_requests) - $1",
        )
        .bind(MAX_WAITING)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Created {
            sign_path: format!("/sign/{id}"),
            id,
        })
    }

    /// Returns a request.
    pub async fn get(&self, id: &str) -> Result<Option<Pending>, SignerError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT header, payload, return_url, title, nonce, signature, declined \
             FROM sign_requests WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| row.pending(id)).transpose()
    }

    /// Records the signature of a waiting request.
    pub async fn signed(&self, id: &str, signature: Signature) -> Result<(), SignerError> {
        let result = sqlx::query(
            "UPDATE sign_requests SET signature = $2 \
             WHERE id = $1 AND signature IS NULL AND declined = 0",
        )
        .bind(id)
        .bind(signature.encode_to_vec())
        .execute(&self.pool)
        .await?;
        if result.rows_affected() != 1 {
            return Err(SignerError::UnknownRequest(id.to_owned()));
        }
        Ok(())
    }

    /// Records that the person declined to sign.
    pub async fn declined(&self, id: &str) -> Result<(), SignerError> {
        let result = sqlx::query(
            "UPDATE sign_requests SET declined = 1 WHERE id = $1 AND signature IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() != 1 {
            return Err(SignerError::UnknownRequest(id.to_owned()));
        }
        Ok(())
    }

    /// Returns the state the portal polls.
    pub async fn state(&self, id: &str) -> Result<Option<RequestState>, SignerError> {
        Ok(self.get(id).await?.map(|pending| RequestState {
            state: match (&pending.signature, pending.declined) {
                (Some(_), _) => "signed",
                (None, true) => "declined",
                (None, false) => "waiting",
            }
            .to_owned(),
            signature_hex: pending
                .signature
                .map(|signature| hex::encode(signature.encode_to_vec()))
                .unwrap_or_default(),
        }))
    }

    /// Returns how many requests are kept, for tests of the limit.
    pub async fn count(&self) -> Result<i64, SignerError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sign_requests")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }
}
