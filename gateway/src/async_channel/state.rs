//! Delivery states of async messages, kept in JetStream so every gateway replica
//! reads and changes the same state, in two stored writes per message:
//!
//! - ON_DELIVERY is the message's presence in the delivery stream, on its own
//!   subject `egov.gw.deliver.<receiver>.<message id>`, with the rest of its record
//!   (sender, service, correlation id, acceptance time) in headers. It is published
//!   expecting no message on `egov.gw.deliver.*.<message id>`, so an id is stored
//!   once while the stream keeps it: the replay guard every replica shares.
//! - A final state is one message on `egov.gw.notify.<sender>.<message id>` in the
//!   state stream, published expecting no message on that subject before it: when an
//!   acknowledgement, a cancellation and exhausted deliveries race, exactly one is
//!   stored. That message is also the sender's notification (its payload is an
//!   `egov.v1.DeliveryNotification`), so nothing is written twice.
//!
//! Only a redelivery writes more: its count goes to a small bucket, so a message
//! still ON_DELIVERY reports its attempts from any replica.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{
    self, context::PublishErrorKind, kv, stream::DirectGetErrorKind,
    stream::LastRawMessageErrorKind,
};
use bytes::Bytes;
use egov_bus::subjects::{CORRELATION_ID_HEADER, MESSAGE_ID_HEADER};
use egov_core::StatusCode;
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_proto::v1::{DeliveryNotification, DeliveryState as ProtoState};
use prost::Message as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exchange::Refusal;

/// How often a write is tried before it is reported unavailable; a retry is safe
/// because the subject takes one message only and the write id tells ours apart.
const PUBLISH_ATTEMPTS: u32 = 3;

/// JetStream's header: store only if the subject's last sequence is this (0: none yet).
const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";

/// JetStream's header naming the subject (wildcards allowed) the expectation above is checked on.
const EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT: &str = "Nats-Expected-Last-Subject-Sequence-Subject";

/// A random id per write, so a retried write whose acknowledgement was lost
/// recognises its own message instead of reporting a conflict.
pub const WRITE_ID_HEADER: &str = "Egov-Write-Id";

/// The sending system of a stored message.
pub const SENDER_HEADER: &str = "Egov-Sender";

/// The receiving system, on a final state.
pub const RECEIVER_HEADER: &str = "Egov-Receiver";

/// The service id a message was sent under.
pub const SERVICE_ID_HEADER: &str = "Egov-Service-Id";

/// When the gateway accepted a message (RFC 3339, the gateway's clock).
pub const ACCEPTED_AT_HEADER: &str = "Egov-Accepted-At";

/// Deliveries attempted, on a final state.
pub const ATTEMPTS_HEADER: &str = "Egov-Attempts";

/// Where an async message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Stored and being delivered.
    OnDelivery,
    /// The receiver confirmed it.
    Delivered,
    /// Redeliveries were exhausted without a confirmation.
    NotDelivered,
    /// The sender cancelled it before delivery.
    DeliveryStopped,
}

impl DeliveryState {
    /// Returns the state as `egov.v1.DeliveryState`.
    pub const fn to_proto(self) -> ProtoState {
        match self {
            DeliveryState::OnDelivery => ProtoState::OnDelivery,
            DeliveryState::Delivered => ProtoState::Delivered,
            DeliveryState::NotDelivered => ProtoState::NotDelivered,
            DeliveryState::DeliveryStopped => ProtoState::DeliveryStopped,
        }
    }

    /// Returns the state an `egov.v1.DeliveryState` names, if it names one.
    pub const fn from_proto(state: ProtoState) -> Option<DeliveryState> {
        match state {
            ProtoState::OnDelivery => Some(DeliveryState::OnDelivery),
            ProtoState::Delivered => Some(DeliveryState::Delivered),
            ProtoState::NotDelivered => Some(DeliveryState::NotDelivered),
            ProtoState::DeliveryStopped => Some(DeliveryState::DeliveryStopped),
            _ => None,
        }
    }

    /// Returns the name used in logs and metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryState::OnDelivery => "ON_DELIVERY",
            DeliveryState::Delivered => "DELIVERED",
            DeliveryState::NotDelivered => "NOT_DELIVERED",
            DeliveryState::DeliveryStopped => "DELIVERY_STOPPED",
        }
    }

    /// Returns whether no further change can happen.
    pub const fn is_final(self) -> bool {
        !matches!(self, DeliveryState::OnDelivery)
    }
}

/// What the gateway knows of a message: read from its stored copy while it is
/// ON_DELIVERY, from its final state after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The message id.
    pub message_id: String,
    /// The current state.
    pub state: DeliveryState,
    /// Deliveries attempted so far (JetStream's delivered count). A first
    /// delivery is stored with the final state only; until then the gateway
    /// that handed it over adds it when asked.
    pub attempts: u32,
    /// The sending system, the only one that may cancel and the one notified.
    pub sender: String,
    /// The receiving system.
    pub receiver: String,
    /// The service id the message was sent under.
    pub service_id: String,
    /// The exchange's correlation id, echoed in notifications.
    pub correlation_id: String,
    /// When the gateway stored the message.
    pub accepted_at: OffsetDateTime,
    /// When the state last changed.
    pub changed_at: OffsetDateTime,
}

impl DeliveryRecord {
    /// Returns the headers that store this record beside the message in the delivery stream.
    pub fn delivery_headers(&self, mut headers: HeaderMap) -> HeaderMap {
        headers.insert(MESSAGE_ID_HEADER, self.message_id.as_str());
        headers.insert(CORRELATION_ID_HEADER, self.correlation_id.as_str());
        headers.insert(SENDER_HEADER, self.sender.as_str());
        headers.insert(SERVICE_ID_HEADER, self.service_id.as_str());
        headers.insert(ACCEPTED_AT_HEADER, rfc3339(self.accepted_at).as_str());
        headers
    }

    /// Reads the record of a message from its subject in the delivery stream and
    /// its headers; `None` if they are not the gateway's.
    pub fn from_delivery(subject: &str, headers: Option<&HeaderMap>) -> Option<DeliveryRecord> {
        let mut tokens = subject
            .strip_prefix(egov_bus::subjects::DELIVER_PREFIX)?
            .strip_prefix('.')?
            .split('.');
        let (receiver, message_id) = (tokens.next()?, tokens.next()?);
        if tokens.next().is_some() {
            return None;
        }
        let headers = headers?;
        let accepted_at = parse_time(header(headers, ACCEPTED_AT_HEADER)?)?;
        Some(DeliveryRecord {
            message_id: message_id.to_owned(),
            state: DeliveryState::OnDelivery,
            attempts: 0,
            sender: header(headers, SENDER_HEADER)?.to_owned(),
            receiver: receiver.to_owned(),
            service_id: header(headers, SERVICE_ID_HEADER)?.to_owned(),
            correlation_id: header(headers, CORRELATION_ID_HEADER)
                .unwrap_or_default()
                .to_owned(),
            accepted_at,
            changed_at: accepted_at,
        })
    }

    /// Returns the notification a final state is stored as, and its headers.
    fn final_state(&self) -> (Bytes, HeaderMap) {
        let notification = DeliveryNotification {
            message_id: self.message_id.clone(),
            correlation_id: self.correlation_id.clone(),
            state: self.state.to_proto() as i32,
            changed_at: Some(to_timestamp(self.changed_at)),
        };
        let mut headers = HeaderMap::new();
        headers.insert(MESSAGE_ID_HEADER, self.message_id.as_str());
        headers.insert(CORRELATION_ID_HEADER, self.correlation_id.as_str());
        headers.insert(RECEIVER_HEADER, self.receiver.as_str());
        headers.insert(SERVICE_ID_HEADER, self.service_id.as_str());
        headers.insert(ACCEPTED_AT_HEADER, rfc3339(self.accepted_at).as_str());
        headers.insert(ATTEMPTS_HEADER, self.attempts.to_string().as_str());
        (notification.encode_to_vec().into(), headers)
    }

    /// Reads a final state from its subject in the state stream, its headers and
    /// its notification; `None` if they are not the gateway's.
    pub fn from_final_state(
        subject: &str,
        headers: &HeaderMap,
        payload: &[u8],
    ) -> Option<DeliveryRecord> {
        let mut tokens = subject
            .strip_prefix(egov_bus::subjects::NOTIFY_PREFIX)?
            .strip_prefix('.')?
            .split('.');
        let (sender, message_id) = (tokens.next()?, tokens.next()?);
        let notification = DeliveryNotification::decode(payload).ok()?;
        let state = DeliveryState::from_proto(notification.state())?;
        Some(DeliveryRecord {
            message_id: message_id.to_owned(),
            state,
            attempts: header(headers, ATTEMPTS_HEADER)?.parse().ok()?,
            sender: sender.to_owned(),
            receiver: header(headers, RECEIVER_HEADER)?.to_owned(),
            service_id: header(headers, SERVICE_ID_HEADER)?.to_owned(),
            correlation_id: notification.correlation_id,
            accepted_at: parse_time(header(headers, ACCEPTED_AT_HEADER)?)?,
            changed_at: from_timestamp(&notification.changed_at?)?,
        })
    }
}

/// Failures reading or writing delivery states.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A message with this id is already stored (a replayed id).
    #[error("message id {message_id} was already received")]
    Exists {
        /// The message id.
        message_id: String,
    },
    /// The message is larger than the NATS server takes.
    #[error("envelope exceeds the NATS server's payload limit: {reason}")]
    TooLarge {
        /// The server's message.
        reason: String,
    },
    /// The streams could not be read or written.
    #[error("delivery state of {message_id}: {reason}")]
    Unavailable {
        /// The message id.
        message_id: String,
        /// What failed.
        reason: String,
    },
    /// A stored message is not one the gateway wrote.
    #[error("delivery state of {message_id} does not decode")]
    Corrupt {
        /// The message id.
        message_id: String,
    },
}

impl StateError {
    /// Returns the code the caller sees.
    pub fn status(&self) -> StatusCode {
        match self {
            StateError::Exists { .. } => StatusCode::DuplicateMessageId,
            StateError::TooLarge { .. } => StatusCode::MessageTooLarge,
            _ => StatusCode::Internal,
        }
    }
}

impl From<StateError> for Refusal {
    fn from(err: StateError) -> Refusal {
        Refusal::new(err.status(), err.to_string())
    }
}

/// The result of writing a final state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Another final state was stored first; it is kept.
    Unchanged(DeliveryRecord),
    /// This call stored the final state.
    Changed(DeliveryRecord),
}

/// What a write expecting an empty subject found.
enum Once {
    /// Ours is stored (now, or by an earlier try whose acknowledgement was lost).
    Stored,
    /// Another write was there first.
    Taken(jetstream::message::StreamMessage),
}

/// The delivery stream, the state stream and the redelivery counts.
#[derive(Debug, Clone)]
pub struct DeliveryStore {
    jetstream: jetstream::Context,
    deliver: jetstream::stream::Stream,
    states: jetstream::stream::Stream,
    attempts: kv::Store,
}

impl DeliveryStore {
    /// Wraps the two streams and opens (creating or updating) the bucket of
    /// redelivery counts, whose entries expire after `retention`.
    pub async fn open(
        jetstream: &jetstream::Context,
        deliver: jetstream::stream::Stream,
        states: jetstream::stream::Stream,
        attempts_bucket: &str,
        retention: Duration,
        replicas: usize,
    ) -> Result<DeliveryStore, async_nats::Error> {
        let attempts = jetstream
            .create_or_update_key_value(kv::Config {
                bucket: attempts_bucket.to_owned(),
                description: "deliveries of each async message offered more than once".into(),
                history: 1,
                max_age: retention,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await?;
        Ok(DeliveryStore {
            jetstream: jetstream.clone(),
            deliver,
            states,
            attempts,
        })
    }

    /// Returns the delivery stream.
    pub fn deliver(&self) -> &jetstream::stream::Stream {
        &self.deliver
    }

    /// Stores a message for its receiver, ON_DELIVERY from then on; refuses an id
    /// already stored for any receiver.
    pub async fn store_message(
        &self,
        record: &DeliveryRecord,
        headers: HeaderMap,
        payload: Bytes,
    ) -> Result<(), StateError> {
        let subject = egov_bus::subjects::deliver_message(&record.receiver, &record.message_id)
            .map_err(|err| unavailable(&record.message_id, err))?;
        let guard = any_receiver(&record.message_id);
        match self
            .publish_once(
                &self.deliver,
                &record.message_id,
                &subject,
                &guard,
                record.delivery_headers(headers),
                payload,
            )
            .await?
        {
            Once::Stored => Ok(()),
            Once::Taken(_) => Err(StateError::Exists {
                message_id: record.message_id.clone(),
            }),
        }
    }

    /// Stores `record`'s final state unless one is stored already, which is then returned.
    pub async fn finish(&self, record: &DeliveryRecord) -> Result<Change, StateError> {
        let subject = egov_bus::subjects::notify_message(&record.sender, &record.message_id)
            .map_err(|err| unavailable(&record.message_id, err))?;
        let (payload, headers) = record.final_state();
        match self
            .publish_once(
                &self.states,
                &record.message_id,
                &subject,
                &subject,
                headers,
                payload,
            )
            .await?
        {
            Once::Stored => Ok(Change::Changed(record.clone())),
            Once::Taken(stored) => Ok(Change::Unchanged(final_record(
                &record.message_id,
                &stored,
            )?)),
        }
    }

    /// Returns the final state of a message whose sender is known, read from any
    /// replica of the state stream (a hand-over's check; a replica behind only
    /// means a message is offered once more).
    pub async fn final_state(
        &self,
        sender: &str,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>, StateError> {
        let subject = egov_bus::subjects::notify_message(sender, message_id)
            .map_err(|err| unavailable(message_id, err))?;
        match self.states.direct_get_last_for_subject(&subject).await {
            Ok(stored) => Ok(Some(final_record(message_id, &stored)?)),
            Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(err) => Err(unavailable(message_id, err)),
        }
    }

    /// Returns a message's record, final or ON_DELIVERY, as the streams' leaders have
    /// it, or `None` if no message has this id. An ON_DELIVERY record counts the
    /// redeliveries stored so far.
    pub async fn get(&self, message_id: &str) -> Result<Option<DeliveryRecord>, StateError> {
        let final_subject = format!("{}.*.{message_id}", egov_bus::subjects::NOTIFY_PREFIX);
        let (ended, stored) = tokio::join!(
            self.last(&self.states, message_id, &final_subject),
            self.stored(message_id)
        );
        if let Some(ended) = ended? {
            return final_record(message_id, &ended).map(Some);
        }
        let Some(mut record) = stored? else {
            return Ok(None);
        };
        record.attempts = self.attempts(message_id).await?;
        Ok(Some(record))
    }

    /// Returns the record a stored message carries (ON_DELIVERY, no attempts counted),
    /// whatever its state now, or `None` if no message has this id.
    pub async fn stored(&self, message_id: &str) -> Result<Option<DeliveryRecord>, StateError> {
        let Some(stored) = self
            .last(&self.deliver, message_id, &any_receiver(message_id))
            .await?
        else {
            return Ok(None);
        };
        DeliveryRecord::from_delivery(&stored.subject, Some(&stored.headers))
            .map(Some)
            .ok_or_else(|| StateError::Corrupt {
                message_id: message_id.to_owned(),
            })
    }

    /// Records that a message is being offered for the `attempts`-th time.
    pub async fn record_attempt(&self, message_id: &str, attempts: u32) -> Result<(), StateError> {
        self.attempts
            .put(message_id, attempts.to_string().into())
            .await
            .map(|_| ())
            .map_err(|err| unavailable(message_id, err))
    }

    /// Returns the redeliveries recorded for a message (0 when it was offered once at most).
    pub async fn attempts(&self, message_id: &str) -> Result<u32, StateError> {
        let value = self
            .attempts
            .get(message_id)
            .await
            .map_err(|err| unavailable(message_id, err))?;
        Ok(value
            .and_then(|value| std::str::from_utf8(&value).ok()?.parse().ok())
            .unwrap_or(0))
    }

    /// Returns the last message on `subject` (wildcards allowed) as the stream's leader has it.
    async fn last(
        &self,
        stream: &jetstream::stream::Stream,
        message_id: &str,
        subject: &str,
    ) -> Result<Option<jetstream::message::StreamMessage>, StateError> {
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(message) => Ok(Some(message)),
            Err(err) if err.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(err) => Err(unavailable(message_id, err)),
        }
    }

    /// Publishes to `subject` only if no message is stored on `guard` yet, retrying
    /// a lost acknowledgement; a conflict returns the message that was there first.
    async fn publish_once(
        &self,
        stream: &jetstream::stream::Stream,
        message_id: &str,
        subject: &str,
        guard: &str,
        mut headers: HeaderMap,
        payload: Bytes,
    ) -> Result<Once, StateError> {
        let write_id = uuid::Uuid::new_v4().simple().to_string();
        headers.insert(WRITE_ID_HEADER, write_id.as_str());
        headers.insert(EXPECTED_LAST_SUBJECT_SEQUENCE, "0");
        if guard != subject {
            headers.insert(EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, guard);
        }
        let mut last_error = String::new();
        for attempt in 1..=PUBLISH_ATTEMPTS {
            let message = jetstream::message::PublishMessage::build()
                .payload(payload.clone())
                .headers(headers.clone());
            let result = match self
                .jetstream
                .send_publish(subject.to_owned(), message)
                .await
            {
                Ok(ack) => ack.await,
                Err(err) => Err(err),
            };
            match result {
                Ok(_) => return Ok(Once::Stored),
                Err(err) if err.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    return Err(StateError::TooLarge {
                        reason: err.to_string(),
                    });
                }
                Err(err) if err.kind() == PublishErrorKind::WrongLastSequence => {
                    match self.last(stream, message_id, guard).await? {
                        Some(stored)
                            if header(&stored.headers, WRITE_ID_HEADER)
                                == Some(write_id.as_str()) =>
                        {
                            return Ok(Once::Stored);
                        }
                        Some(stored) => return Ok(Once::Taken(stored)),
                        // Gone since (expired or purged): try again.
                        None => last_error = err.to_string(),
                    }
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        Err(unavailable(
            message_id,
            format!("{subject} was not stored: {last_error}"),
        ))
    }
}

/// Returns `egov.gw.deliver.*.<message id>`: the message under any receiver.
fn any_receiver(message_id: &str) -> String {
    format!("{}.*.{message_id}", egov_bus::subjects::DELIVER_PREFIX)
}

fn final_record(
    message_id: &str,
    stored: &jetstream::message::StreamMessage,
) -> Result<DeliveryRecord, StateError> {
    DeliveryRecord::from_final_state(&stored.subject, &stored.headers, &stored.payload).ok_or_else(
        || StateError::Corrupt {
            message_id: message_id.to_owned(),
        },
    )
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|value| value.as_str())
}

fn rfc3339(at: OffsetDateTime) -> String {
    // An offset date-time within the years 0..=9999 always formats.
    at.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn unavailable(message_id: &str, err: impl std::fmt::Display) -> StateError {
    StateError::Unavailable {
        message_id: message_id.to_owned(),
        reason: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record(state: DeliveryState) -> DeliveryRecord {
        DeliveryRecord {
            message_id: "m-1".into(),
            state,
            attempts: 0,
            sender: "portal".into(),
            receiver: "citizens".into(),
            service_id: "citizens.person.get".into(),
            correlation_id: "c-1".into(),
            accepted_at: datetime!(2025-03-01 10:00 UTC),
            changed_at: datetime!(2025-03-01 10:00 UTC),
        }
    }

    #[test]
    fn a_stored_message_carries_its_whole_on_delivery_record() {
        let sent = record(DeliveryState::OnDelivery);
        let headers = sent.delivery_headers(HeaderMap::new());
        let read = DeliveryRecord::from_delivery("egov.gw.deliver.citizens.m-1", Some(&headers));
        assert_eq!(read, Some(sent));
        assert_eq!(
            DeliveryRecord::from_delivery("egov.gw.deliver.citizens", Some(&headers)),
            None,
            "a subject without the message id is not the gateway's"
        );
        assert_eq!(
            DeliveryRecord::from_delivery("egov.gw.deliver.citizens.m-1", None),
            None
        );
    }

    #[test]
    fn a_final_state_is_the_senders_notification_and_carries_the_whole_record() {
        let mut ended = record(DeliveryState::DeliveryStopped);
        ended.attempts = 2;
        ended.changed_at = datetime!(2025-03-01 10:01 UTC);
        let (payload, headers) = ended.final_state();
        let notification = DeliveryNotification::decode(payload.as_ref()).expect("notification");
        assert_eq!(notification.message_id, "m-1");
        assert_eq!(notification.correlation_id, "c-1");
        assert_eq!(notification.state(), ProtoState::DeliveryStopped);
        let read =
            DeliveryRecord::from_final_state("egov.gw.notify.portal.m-1", &headers, &payload);
        assert_eq!(read, Some(ended));
    }

    #[test]
    fn only_on_delivery_can_still_change() {
        assert!(!DeliveryState::OnDelivery.is_final());
        for state in [
            DeliveryState::Delivered,
            DeliveryState::NotDelivered,
            DeliveryState::DeliveryStopped,
        ] {
            assert!(state.is_final());
            assert_eq!(
                format!("DELIVERY_STATE_{}", state.as_str()),
                state.to_proto().as_str_name()
            );
            assert_eq!(DeliveryState::from_proto(state.to_proto()), Some(state));
        }
    }
}
