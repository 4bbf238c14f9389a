//! Delivery states of async messages, kept in a JetStream key-value bucket so
//! every gateway replica reads and changes the same state.
//!
//! Each change is a compare-and-set on the key's revision: when two replicas
//! (or a receiver's acknowledgement and a sender's cancellation) race, exactly
//! one wins, and only the winner notifies the sender.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use egov_core::StatusCode;
use egov_proto::v1::DeliveryState as ProtoState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::exchange::Refusal;

/// How often a compare-and-set is retried when another writer got there first.
const MAX_CAS_ATTEMPTS: usize = 16;

/// The header JetStream sets on a key-value bucket's delete and purge markers.
const KV_OPERATION_HEADER: &str = "KV-Operation";

/// Where an async message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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

    /// Returns the name used in logs, metrics and notification ids.
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

/// What the bucket keeps per message id (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The current state.
    pub state: DeliveryState,
    /// Deliveries attempted so far (JetStream's delivered count). A first
    /// pull delivery is stored with the final state (or the redelivery);
    /// until then the gateway that handed it over adds it when asked.
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
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
    /// When the state or the attempts last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

/// Failures reading or writing delivery states.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A record for this message id already exists (a replayed id).
    #[error("message id {message_id} already has a delivery state")]
    Exists {
        /// The message id.
        message_id: String,
    },
    /// The bucket could not be read or written.
    #[error("delivery state bucket for {message_id}: {reason}")]
    Unavailable {
        /// The message id.
        message_id: String,
        /// What failed.
        reason: String,
    },
    /// The stored value is not a delivery record.
    #[error("delivery state of {message_id} does not decode: {reason}")]
    Corrupt {
        /// The message id.
        message_id: String,
        /// The decoder's message.
        reason: String,
    },
    /// Other writers kept changing the record while this one retried.
    #[error("delivery state of {message_id} kept changing during {MAX_CAS_ATTEMPTS} attempts")]
    Contended {
        /// The message id.
        message_id: String,
    },
}

impl StateError {
    /// Returns the code the caller sees.
    pub fn status(&self) -> StatusCode {
        match self {
            StateError::Exists { .. } => StatusCode::DuplicateMessageId,
            _ => StatusCode::Internal,
        }
    }
}

impl From<StateError> for Refusal {
    fn from(err: StateError) -> Refusal {
        Refusal::new(err.status(), err.to_string())
    }
}

/// The result of a conditional change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// No record has this message id.
    Missing,
    /// The record was left as it is (the condition did not hold).
    Unchanged(DeliveryRecord),
    /// This call changed the record.
    Changed {
        /// The record before.
        before: DeliveryRecord,
        /// The record written.
        after: DeliveryRecord,
        /// The revision of the record written.
        revision: u64,
    },
}

/// The delivery-state bucket.
#[derive(Debug, Clone)]
pub struct DeliveryStore {
    kv: kv::Store,
}

impl DeliveryStore {
    /// Creates or updates the bucket (file storage, `replicas` copies; entries expire after
    /// `retention`).
    pub async fn open(
        jetstream: &jetstream::Context,
        bucket: &str,
        retention: Duration,
        replicas: usize,
    ) -> Result<DeliveryStore, async_nats::Error> {
        let kv = jetstream
            .create_or_update_key_value(kv::Config {
                bucket: bucket.to_owned(),
                description: "delivery state of each async message, by message id".into(),
                history: 1,
                max_age: retention,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas,
                ..Default::default()
            })
            .await?;
        Ok(DeliveryStore { kv })
    }

    /// Stores the first record of a message and returns its revision; refuses
    /// an id that already has one.
    pub async fn insert(
        &self,
        message_id: &str,
        record: &DeliveryRecord,
    ) -> Result<u64, StateError> {
        let value = encode(record);
        match self.kv.create(message_id, value.into()).await {
            Ok(revision) => Ok(revision),
            Err(err) if err.kind() == CreateErrorKind::AlreadyExists => Err(StateError::Exists {
                message_id: message_id.to_owned(),
            }),
            Err(err) => Err(unavailable(message_id, err)),
        }
    }

    /// Returns the record of a message id and its revision, if there is one.
    pub async fn get(&self, message_id: &str) -> Result<Option<(DeliveryRecord, u64)>, StateError> {
        let entry = self
            .kv
            .entry(message_id)
            .await
            .map_err(|err| unavailable(message_id, err))?;
        match entry {
            Some(entry) if entry.operation == Operation::Put => {
                let record =
                    serde_json::from_slice(&entry.value).map_err(|err| StateError::Corrupt {
                        message_id: message_id.to_owned(),
                        reason: err.to_string(),
                    })?;
                Ok(Some((record, entry.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Returns the record of a message id as the bucket's leader has it.
    ///
    /// why: [`DeliveryStore::get`] is a direct get, which any replica answers; a
    /// follower still catching up after a leader change can miss a record just
    /// written. A decision that cannot be undone (dropping a message as an orphan,
    /// telling a sender its message is unknown) asks the leader first.
    pub async fn get_from_leader(
        &self,
        message_id: &str,
    ) -> Result<Option<(DeliveryRecord, u64)>, StateError> {
        let subject = format!("{}{message_id}", self.kv.prefix);
        let message = match self
            .kv
            .stream
            .get_last_raw_message_by_subject(&subject)
            .await
        {
            Ok(message) => message,
            Err(err) if err.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(None),
            Err(err) => return Err(unavailable(message_id, err)),
        };
        let removed = message
            .headers
            .get(KV_OPERATION_HEADER)
            .is_some_and(|operation| operation.as_str() != "PUT");
        if removed {
            return Ok(None);
        }
        let record =
            serde_json::from_slice(&message.payload).map_err(|err| StateError::Corrupt {
                message_id: message_id.to_owned(),
                reason: err.to_string(),
            })?;
        Ok(Some((record, message.sequence)))
    }

    /// Like [`DeliveryStore::get`], but a record the answering replica lacks is
    /// looked up again at the leader before it is reported missing.
    pub async fn get_confirmed(
        &self,
        message_id: &str,
    ) -> Result<Option<(DeliveryRecord, u64)>, StateError> {
        match self.get(message_id).await? {
            Some(found) => Ok(Some(found)),
            None => self.get_from_leader(message_id).await,
        }
    }

    /// Applies `change` to the current record and writes it if `change`
    /// returns true, retrying from a fresh read when another writer won.
    pub async fn update(
        &self,
        message_id: &str,
        change: impl FnMut(&mut DeliveryRecord) -> bool,
    ) -> Result<Change, StateError> {
        self.update_from(message_id, None, change).await
    }

    /// Like [`DeliveryStore::update`], but starts from a record and revision
    /// read earlier, saving a read when nobody changed it since.
    pub async fn update_from(
        &self,
        message_id: &str,
        mut known: Option<(DeliveryRecord, u64)>,
        mut change: impl FnMut(&mut DeliveryRecord) -> bool,
    ) -> Result<Change, StateError> {
        let mut lost_race = false;
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current = match known.take() {
                Some(known) => Some(known),
                // After a lost compare-and-set the replica that answered may be behind.
                None if lost_race => self.get_from_leader(message_id).await?,
                None => self.get_confirmed(message_id).await?,
            };
            let Some((before, revision)) = current else {
                return Ok(Change::Missing);
            };
            let mut after = before.clone();
            if !change(&mut after) {
                return Ok(Change::Unchanged(before));
            }
            match self
                .kv
                .update(message_id, encode(&after).into(), revision)
                .await
            {
                Ok(revision) => {
                    return Ok(Change::Changed {
                        before,
                        after,
                        revision,
                    });
                }
                Err(err) if err.kind() == UpdateErrorKind::WrongLastRevision => {
                    lost_race = true;
                }
                Err(err) => return Err(unavailable(message_id, err)),
            }
        }
        Err(StateError::Contended {
            message_id: message_id.to_owned(),
        })
    }

    /// Forgets a message id whose message could not be stored.
    pub async fn remove(&self, message_id: &str) -> Result<(), StateError> {
        self.kv
            .delete(message_id)
            .await
            .map_err(|err| unavailable(message_id, err))
    }
}

fn encode(record: &DeliveryRecord) -> Vec<u8> {
    // A struct of strings, numbers and times always serializes.
    serde_json::to_vec(record).unwrap_or_default()
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

    #[test]
    fn record_round_trips_as_json_with_screaming_state_names() {
        let record = DeliveryRecord {
            state: DeliveryState::DeliveryStopped,
            attempts: 2,
            sender: "portal".into(),
            receiver: "citizens".into(),
            service_id: "citizens.person.get".into(),
            correlation_id: "c-1".into(),
            accepted_at: datetime!(2025-03-01 10:00 UTC),
            changed_at: datetime!(2025-03-01 10:01 UTC),
        };
        let json = String::from_utf8(encode(&record)).expect("utf-8");
        assert!(json.contains("\"state\":\"DELIVERY_STOPPED\""), "{json}");
        assert!(json.contains("2025-03-01T10:01:00Z"), "{json}");
        let back: DeliveryRecord = serde_json::from_str(&json).expect("decodes");
        assert_eq!(back, record);
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
        }
    }
}
