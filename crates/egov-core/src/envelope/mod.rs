//! The signed envelope: signing the exact header and payload bytes that
//! travel, and verifying them at the gateway and at every receiver.
//!
//! A signature signs `SIGNING_CONTEXT || SHA-256(header) || SHA-256(payload)`,
//! the way XML-DSig signs a SignedInfo of digests: a verifier can then tell a
//! bad signature value from a header or a payload changed after signing.
//!
//! # Layout
//! - [`sign`]: [`Signer`], which holds a key and its certificate chain.
//! - [`verify`]: [`Verifier`], [`VerifyPolicy`] and the typed [`VerifyError`].
//! - [`revocation`]: the [`RevocationSource`] trait and its freshness-limited cache.
//! - `batch`: Ed25519 signature values verified in batches on one thread.

mod batch;
pub mod revocation;
pub mod sign;
pub mod verify;

use egov_proto::v1::{Header, MessageType, Party, party};
use ring::digest;
use time::OffsetDateTime;

pub use revocation::{
    CachedRevocation, DEFAULT_FRESHNESS, DEFAULT_PKI_TIMEOUT, RevocationError, RevocationSource,
    RevocationStatus, StaticRevocation, TimeLimited,
};
pub use sign::{SignError, Signer};
pub use verify::{IdentityRule, Verified, Verifier, VerifyError, VerifyPolicy};

/// Domain-separation prefix of every signed byte string, so an envelope
/// signature can never be replayed as a signature over anything else.
pub const SIGNING_CONTEXT: &[u8] = b"egov.v1.Envelope\0";

/// Returns the bytes a signature covers, given the two digests.
pub fn signed_bytes(header_sha256: &[u8], payload_sha256: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIGNING_CONTEXT.len() + 64);
    bytes.extend_from_slice(SIGNING_CONTEXT);
    bytes.extend_from_slice(header_sha256);
    bytes.extend_from_slice(payload_sha256);
    bytes
}

/// Returns the SHA-256 digest of bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Converts a time to a protobuf timestamp.
pub fn to_timestamp(at: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.unix_timestamp(),
        nanos: at.nanosecond() as i32,
    }
}

/// Converts a protobuf timestamp to a time, if it is in range.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<OffsetDateTime> {
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// Builds a request header with a fresh UUIDv7 message id that is also the
/// correlation id of the exchange it starts.
pub fn request_header(
    service_id: &str,
    sender_system_id: &str,
    receiver_system_id: &str,
    now: OffsetDateTime,
) -> Header {
    let message_id = uuid::Uuid::now_v7().to_string();
    Header {
        correlation_id: message_id.clone(),
        message_id,
        service_id: service_id.to_owned(),
        sender_system_id: sender_system_id.to_owned(),
        receiver_system_id: receiver_system_id.to_owned(),
        message_type: MessageType::Request as i32,
        message_time: Some(to_timestamp(now)),
        ..Header::default()
    }
}

/// Builds the header of a response to a request: same correlation id and
/// service, sender and receiver swapped.
pub fn response_header(request: &Header, now: OffsetDateTime) -> Header {
    Header {
        message_id: uuid::Uuid::now_v7().to_string(),
        correlation_id: request.correlation_id.clone(),
        service_id: request.service_id.clone(),
        sender_system_id: request.receiver_system_id.clone(),
        receiver_system_id: request.sender_system_id.clone(),
        message_type: MessageType::Response as i32,
        message_time: Some(to_timestamp(now)),
        session_id: request.session_id.clone(),
        in_reply_to: request.message_id.clone(),
        ..Header::default()
    }
}

/// Builds a `Party` for an individual.
pub fn party_iin(iin: &str) -> Party {
    Party {
        id: Some(party::Id::Iin(iin.to_owned())),
    }
}

/// Builds a `Party` for an organisation.
pub fn party_bin(bin: &str) -> Party {
    Party {
        id: Some(party::Id::Bin(bin.to_owned())),
    }
}
