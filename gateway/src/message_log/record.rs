//! One logged hop of a message through the gateway.

use bytes::Bytes;
use serde::Serialize;
use time::OffsetDateTime;

/// Which way a logged message crossed the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// Into the gateway: a request or async send from its sender, or the
    /// target's answer on its way back.
    Inbound,
    /// From the gateway on to the receiver (a forwarded request), or a
    /// response relayed back to the sender.
    Outbound,
}

impl Direction {
    /// Returns the stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "INBOUND",
            Direction::Outbound => "OUTBOUND",
        }
    }

    /// Reads a stored name back; `None` for any other text.
    pub fn parse(name: &str) -> Option<Direction> {
        match name {
            "INBOUND" => Some(Direction::Inbound),
            "OUTBOUND" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// One message as the gateway saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRecord {
    /// The message id from the header (unique per message).
    pub message_id: String,
    /// The exchange's correlation id.
    pub correlation_id: String,
    /// The message this one answers, for responses.
    pub in_reply_to: String,
    /// The catalogue service id.
    pub service_id: String,
    /// The sending system id.
    pub sender: String,
    /// The receiving system id.
    pub receiver: String,
    /// REQUEST, RESPONSE or NOTIFICATION.
    pub message_type: String,
    /// SYNC or ASYNC.
    pub channel: String,
    /// Which way it crossed.
    pub direction: Direction,
    /// The status code the gateway gave it (`SCSS001` or a refusal).
    pub status_code: String,
    /// The reason, for a refusal.
    pub status_message: String,
    /// The encoded header bytes as signed (empty if the envelope did not decode).
    #[serde(with = "hex_bytes")]
    pub header: Bytes,
    /// The payload bytes; `None` when the route keeps only the hash (privacy), and
    /// on an OUTBOUND hop, whose bytes the INBOUND hop of the same message holds.
    #[serde(with = "hex_opt")]
    pub body: Option<Bytes>,
    /// SHA-256 of the payload, always kept.
    #[serde(with = "hex_bytes")]
    pub body_sha256: Bytes,
    /// The encoded signatures (each `egov.v1.Signature`), as they travelled; empty on an OUTBOUND hop.
    #[serde(skip)]
    pub signatures: Vec<Vec<u8>>,
    /// Subjects of the signers' certificates, for reading without decoding.
    pub signers: Vec<String>,
    /// When the gateway received it (the store keeps microseconds and reads back UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// How long the gateway spent on it (for a forwarded request: until the answer), in microseconds.
    pub duration_us: i64,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

mod hex_opt {
    pub fn serialize<S: serde::Serializer>(
        bytes: &Option<bytes::Bytes>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }
}
