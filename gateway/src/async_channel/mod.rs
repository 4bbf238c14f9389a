//! The gateway's async channel over NATS JetStream: `SendAsyncMessage` admits
//! an envelope like the sync channel, stores it durably and answers only after
//! JetStream's acknowledgement; receivers fetch it (pull) or get it on their
//! inbox (push); states are kept in a shared bucket and every change is
//! reported to the sender.
//!
//! JetStream objects (created or updated at start, all file-stored):
//! - stream `EGOV_DELIVER` on `egov.gw.deliver.*`, de-duplicated by `Nats-Msg-Id` = message id;
//! - one durable pull consumer `deliver-<system>` per receiver, explicit ack,
//!   `max_deliver` = `max_deliveries`;
//! - bucket `EGOV_DELIVERY`: message id → [`state::DeliveryRecord`] (JSON);
//!   written at send, at each final state and at a redelivery, never at a
//!   first fetch (read only; its revision is carried to the acknowledgement's
//!   compare-and-set, so a pull message costs two bucket writes and one read);
//! - stream `EGOV_NOTIFY` on `egov.gw.notify.*`: encoded `egov.v1.DeliveryNotification`s.
//!
//! # Layout
//! - [`names`]: stream, bucket and consumer names (subjects are `egov_bus::subjects`).
//! - [`state`]: delivery states and their compare-and-set bucket.
//! - `pull`: `FetchMessages` / `AcknowledgeMessages` and the caller's proof.
//! - `push`: one worker per push-mode system, sending to its inbox.

pub mod names;
mod pull;
mod push;
mod relay;
pub mod state;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use async_nats::header::HeaderValue;
use async_nats::jetstream::{self, consumer::PullConsumer, context::PublishErrorKind};
use egov_bus::subjects::{CORRELATION_ID_HEADER, MESSAGE_ID_HEADER, NATS_MSG_ID_HEADER};
use egov_core::StatusCode;
use egov_core::envelope::{RevocationSource, to_timestamp};
use egov_proto::v1::{DeliveryNotification, Envelope, Header, MessageType};
use futures::StreamExt;
use prost::Message;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::exchange::{Admitted, ChannelKind, Gateway, Logged, Refusal};
use crate::message_log::Direction;
use crate::registry::{ServiceRoute, Transport};

pub use pull::Handed;
pub use state::{DeliveryRecord, DeliveryState, StateError};

/// A delivery record as read or written, with its bucket revision.
type Known = (DeliveryRecord, u64);

/// How often a publish to the delivery stream is tried before the send is refused;
/// a retry is safe because JetStream drops a repeated `Nats-Msg-Id`.
const PUBLISH_ATTEMPTS: u32 = 3;

/// Tuning of the async channel; [`AsyncSettings::from_config`] takes what the
/// config file sets and defaults the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncSettings {
    /// Deliveries of a message before it is NOT_DELIVERED (JetStream's `max_deliver`).
    pub max_deliveries: u32,
    /// How long a fetched or pushed message may stay unacknowledged before
    /// JetStream delivers it again.
    pub ack_wait: Duration,
    /// How long a push-mode system's inbox has to answer one message.
    pub push_timeout: Duration,
    /// Delay before the first push redelivery; it doubles with each attempt.
    pub backoff_base: Duration,
    /// The longest push redelivery delay.
    pub backoff_max: Duration,
    /// How long stored messages, notifications and states are kept.
    pub retention: Duration,
    /// JetStream's de-duplication window for a retried publish.
    pub duplicate_window: Duration,
    /// How far a fetch proof's message time may be from the gateway's clock.
    pub proof_max_age: Duration,
    /// How often the registry is checked for push-mode systems added or removed.
    pub registry_poll: Duration,
    /// Copies JetStream keeps of the streams and the state bucket (3 on a three-node cluster).
    pub replicas: usize,
}

impl Default for AsyncSettings {
    fn default() -> Self {
        AsyncSettings {
            max_deliveries: 5,
            ack_wait: Duration::from_secs(30),
            push_timeout: Duration::from_secs(5),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            proof_max_age: Duration::from_secs(300),
            registry_poll: Duration::from_secs(5),
            replicas: 1,
        }
    }
}

impl AsyncSettings {
    /// Returns the defaults with the config's `max_deliveries` and `jetstream_replicas`.
    pub fn from_config(config: &Config) -> AsyncSettings {
        AsyncSettings {
            max_deliveries: config.max_deliveries.max(1),
            replicas: config.jetstream_replicas.max(1),
            ..AsyncSettings::default()
        }
    }

    /// Returns the delay before redelivering a push that failed on delivery `delivered`.
    pub fn backoff(&self, delivered: i64) -> Duration {
        let doublings = u32::try_from(delivered.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_max)
    }
}

/// Failures setting the async channel up on JetStream.
#[derive(Debug, thiserror::Error)]
pub enum AsyncChannelError {
    /// A stream could not be created or updated (JetStream off, limits).
    #[error("JetStream stream {name}: {reason}")]
    Stream {
        /// The stream.
        name: String,
        /// What failed.
        reason: String,
    },
    /// The delivery-state bucket could not be created or updated.
    #[error("JetStream key-value bucket {name}: {reason}")]
    Bucket {
        /// The bucket.
        name: String,
        /// What failed.
        reason: String,
    },
    /// A NATS subscription failed.
    #[error("NATS subscription to {subject}: {reason}")]
    Subscribe {
        /// The subject.
        subject: String,
        /// What failed.
        reason: String,
    },
}

/// What a consumer found when it picked a message up.
#[derive(Debug)]
enum Attempt {
    /// Still ON_DELIVERY: hand it over. Carries the record and its revision
    /// when known, so the final compare-and-set needs no second read.
    Deliver(Option<Known>),
    /// Already final (cancelled, delivered, given up): stop its redelivery.
    Skip(DeliveryState),
    /// No state at all: its send was refused after the publish, so drop it.
    Orphan,
}

/// The async channel: JetStream handles, the state bucket and the background
/// delivery tasks, shared by the gRPC service.
pub struct AsyncChannel<R> {
    gateway: Arc<Gateway<R>>,
    settings: AsyncSettings,
    client: async_nats::Client,
    jetstream: jetstream::Context,
    deliver: jetstream::stream::Stream,
    states: state::DeliveryStore,
    // A tokio Mutex: creating a consumer is a JetStream round trip, done under
    // the lock so concurrent fetches of one system create it once.
    consumers: tokio::sync::Mutex<HashMap<String, PullConsumer>>,
    // A std Mutex: held only to insert, look up or remove, never across an await.
    fetched: Mutex<HashMap<String, pull::Fetched>>,
    push_workers: Mutex<HashMap<String, JoinHandle<()>>>,
    stop: watch::Sender<bool>,
}

impl<R> std::fmt::Debug for AsyncChannel<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncChannel")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<R: RevocationSource + 'static> AsyncChannel<R> {
    /// Creates or updates the streams and the bucket, then starts the push
    /// workers and the watch on exhausted deliveries.
    pub async fn start(
        gateway: Arc<Gateway<R>>,
        client: async_nats::Client,
        settings: AsyncSettings,
    ) -> Result<Arc<AsyncChannel<R>>, AsyncChannelError> {
        let jetstream = jetstream::new(client.clone());
        let deliver = ensure_stream(
            &jetstream,
            names::DELIVER_STREAM,
            egov_bus::subjects::DELIVER_ALL,
            "async messages waiting for their receiver",
            &settings,
        )
        .await?;
        ensure_stream(
            &jetstream,
            names::NOTIFY_STREAM,
            egov_bus::subjects::NOTIFY_ALL,
            "delivery state changes for senders",
            &settings,
        )
        .await?;
        let states = state::DeliveryStore::open(
            &jetstream,
            names::STATE_BUCKET,
            settings.retention,
            settings.replicas,
        )
        .await
        .map_err(|err| AsyncChannelError::Bucket {
            name: names::STATE_BUCKET.into(),
            reason: err.to_string(),
        })?;
        let advisories = client
            .subscribe(names::MAX_DELIVERIES_ADVISORY)
            .await
            .map_err(|err| AsyncChannelError::Subscribe {
                subject: names::MAX_DELIVERIES_ADVISORY.into(),
                reason: err.to_string(),
            })?;
        let (stop, _) = watch::channel(false);
        let channel = Arc::new(AsyncChannel {
            gateway,
            settings,
            client,
            jetstream,
            deliver,
            states,
            consumers: tokio::sync::Mutex::new(HashMap::new()),
            fetched: Mutex::new(HashMap::new()),
            push_workers: Mutex::new(HashMap::new()),
            stop,
        });
        channel.spawn_until_stopped(channel.clone().watch_max_deliveries(advisories));
        // Replicas behind one address: an acknowledgement may reach another replica
        // than the one that handed the message over.
        match relay::subject(&channel.gateway.system_id) {
            Some(subject) => match channel.client.subscribe(subject.clone()).await {
                Ok(requests) => {
                    channel.spawn_until_stopped(channel.clone().serve_relayed_acks(requests));
                }
                Err(err) => {
                    return Err(AsyncChannelError::Subscribe {
                        subject,
                        reason: err.to_string(),
                    });
                }
            },
            None => tracing::warn!(
                gateway = %channel.gateway.system_id,
                "gateway id cannot name a NATS subject; acknowledgements are taken only by the replica that handed the message over"
            ),
        }
        channel.spawn_until_stopped(channel.clone().supervise_push());
        tracing::info!(
            max_deliveries = channel.settings.max_deliveries,
            "async channel started"
        );
        Ok(channel)
    }

    /// Stops the background tasks; unacknowledged messages are redelivered later.
    pub fn stop(&self) {
        self.stop.send_replace(true);
        let workers = std::mem::take(&mut *lock(&self.push_workers));
        for worker in workers.into_values() {
            worker.abort();
        }
    }

    /// Returns the settings in force.
    pub fn settings(&self) -> &AsyncSettings {
        &self.settings
    }

    /// Admits an envelope like the sync channel, stores it durably for its
    /// receiver and returns its message id once JetStream acknowledged it.
    pub async fn send(&self, envelope: &Envelope) -> Result<String, Refusal> {
        let started = Instant::now();
        let received_at = self.gateway.clock().now();
        let admitted = match self.gateway.admit(envelope).await {
            Ok(admitted) => admitted,
            Err(refusal) => {
                self.gateway
                    .log_refused(envelope, ChannelKind::Async, &refusal, received_at, started)
                    .await;
                return Err(refusal);
            }
        };
        let header = &admitted.verified.header;
        let outcome = self.store(envelope, &admitted, received_at).await;
        let (code, reason) = match &outcome {
            Ok(()) => (StatusCode::Success, String::new()),
            Err(refusal) => (refusal.code, refusal.message.clone()),
        };
        self.gateway
            .log_hop(
                &Logged::verified(envelope, &admitted.verified),
                header,
                Direction::Inbound,
                ChannelKind::Async,
                &admitted.route,
                code,
                &reason,
                received_at,
                elapsed_us(started),
            )
            .await;
        metrics::counter!("gateway_async_sent_total", "service" => admitted.route.service_id.clone(), "code" => code.as_str()).increment(1);
        match outcome {
            Ok(()) => {
                metrics::gauge!("gateway_async_in_flight").increment(1.0);
                Ok(header.message_id.clone())
            }
            Err(refusal) => {
                tracing::info!(message_id = %header.message_id, code = %refusal.code, reason = %refusal.message, "async message refused");
                Err(refusal)
            }
        }
    }

    /// Admits and stores several envelopes at once, each exactly as [`AsyncChannel::send`]
    /// would; returns, in order, the message id each header names (empty when
    /// it does not decode) with its outcome.
    pub async fn send_many(&self, envelopes: Vec<Envelope>) -> Vec<(String, Result<(), Refusal>)> {
        let sends = envelopes.iter().map(|envelope| async move {
            match self.send(envelope).await {
                Ok(message_id) => (message_id, Ok(())),
                // Only a refusal needs the header read here, to name its message.
                Err(refusal) => {
                    let message_id = Header::decode(envelope.header.as_slice())
                        .map(|header| header.message_id)
                        .unwrap_or_default();
                    (message_id, Err(refusal))
                }
            }
        });
        futures::future::join_all(sends).await
    }

    /// Records the ON_DELIVERY state, then publishes the envelope and waits for
    /// the stream's acknowledgement; the state goes if the publish fails.
    async fn store(
        &self,
        envelope: &Envelope,
        admitted: &Admitted,
        now: time::OffsetDateTime,
    ) -> Result<(), Refusal> {
        let header = &admitted.verified.header;
        let message_id = &header.message_id;
        if !names::is_valid_message_id(message_id) {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "message id {message_id:?} is not 1 to 128 characters of A-Z, a-z, 0-9, '-', '_', '='"
                ),
            ));
        }
        let correlation_id = header_value(&header.correlation_id).ok_or_else(|| {
            Refusal::new(
                StatusCode::MalformedMessage,
                "correlation id contains a line break",
            )
        })?;
        self.check_reply(header).await?;
        let receiver = &admitted.route.target;
        let subject = egov_bus::subjects::deliver(receiver).map_err(|err| {
            Refusal::new(
                StatusCode::Internal,
                format!("receiver system {receiver:?}: {err}"),
            )
        })?;
        let record = DeliveryRecord {
            state: DeliveryState::OnDelivery,
            attempts: 0,
            sender: header.sender_system_id.clone(),
            receiver: receiver.clone(),
            service_id: header.service_id.clone(),
            correlation_id: header.correlation_id.clone(),
            accepted_at: now,
            changed_at: now,
        };
        self.states.insert(message_id, &record).await?;

        // The sender's trace rides in the stream beside the message, so its
        // delivery, pushed or fetched later, continues the same trace.
        let mut headers = egov_bus::trace_context::current_headers();
        headers.insert(NATS_MSG_ID_HEADER, message_id.as_str());
        headers.insert(MESSAGE_ID_HEADER, message_id.as_str());
        headers.insert(CORRELATION_ID_HEADER, correlation_id);
        let payload = bytes::Bytes::from(envelope.encode_to_vec());
        let published = self.publish(&subject, headers, payload).await;
        if published.is_err()
            && let Err(err) = self.states.remove(message_id).await
        {
            tracing::error!(error = %err, "delivery state of an unstored message was not removed");
        }
        published
    }

    /// Publishes to the delivery stream, retrying a lost acknowledgement.
    async fn publish(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: bytes::Bytes,
    ) -> Result<(), Refusal> {
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
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    return Err(Refusal::new(
                        StatusCode::MessageTooLarge,
                        format!("envelope exceeds the NATS server's payload limit: {err}"),
                    ));
                }
                Err(err) => last_error = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        Err(Refusal::new(
            StatusCode::Internal,
            format!("delivery stream did not store the message on {subject}: {last_error}"),
        ))
    }

    /// Refuses a response that names an async request of another exchange:
    /// a reply must carry its request's correlation id and go back to its sender.
    async fn check_reply(&self, header: &Header) -> Result<(), Refusal> {
        if header.message_type != MessageType::Response as i32
            || !names::is_valid_message_id(&header.in_reply_to)
        {
            return Ok(());
        }
        // A request sent over the sync channel, or one past retention, has no
        // record; such a reply is routed on its header alone.
        let Some((request, _)) = self.states.get_confirmed(&header.in_reply_to).await? else {
            return Ok(());
        };
        if request.correlation_id != header.correlation_id {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "reply to {} carries correlation id {}, the request's is {}",
                    header.in_reply_to, header.correlation_id, request.correlation_id
                ),
            ));
        }
        if request.receiver != header.sender_system_id {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "reply to {} comes from {}, the request went to {}",
                    header.in_reply_to, header.sender_system_id, request.receiver
                ),
            ));
        }
        if request.sender != header.receiver_system_id {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "reply to {} goes to {}, the request came from {}",
                    header.in_reply_to, header.receiver_system_id, request.sender
                ),
            ));
        }
        Ok(())
    }

    /// Returns the delivery record of a message id; a first pull delivery
    /// not yet stored counts if this gateway handed it over.
    pub async fn status(&self, message_id: &str) -> Result<DeliveryRecord, Refusal> {
        if !names::is_valid_message_id(message_id) {
            return Err(unknown_message(message_id));
        }
        match self.states.get_confirmed(message_id).await? {
            Some((mut record, _)) => {
                // A first pull delivery is recorded only when the message
                // reaches a final state (or is offered again): count the
                // fetch this replica is holding.
                if !record.state.is_final()
                    && let Some(entry) = lock(&self.fetched).get(message_id)
                {
                    let delivered = u32::try_from(entry.delivered()).unwrap_or(u32::MAX);
                    record.attempts = record.attempts.max(delivered);
                }
                Ok(record)
            }
            None => Err(unknown_message(message_id)),
        }
    }

    /// Stops the delivery of a message still ON_DELIVERY; only its sender may.
    /// A message in a final state keeps it; the record after the call is returned.
    pub async fn cancel(
        &self,
        message_id: &str,
        system_id: &str,
    ) -> Result<DeliveryRecord, Refusal> {
        if !names::is_valid_message_id(message_id) {
            return Err(unknown_message(message_id));
        }
        let now = self.gateway.clock().now();
        let change = self
            .states
            .update(message_id, |record| {
                if record.sender != system_id || record.state.is_final() {
                    return false;
                }
                record.state = DeliveryState::DeliveryStopped;
                record.changed_at = now;
                true
            })
            .await?;
        match change {
            state::Change::Missing => Err(unknown_message(message_id)),
            state::Change::Unchanged(record) if record.sender != system_id => Err(Refusal::new(
                StatusCode::AccessDenied,
                format!(
                    "system {system_id:?} did not send message {message_id}; only its sender may cancel it"
                ),
            )),
            state::Change::Unchanged(record) => Ok(record),
            state::Change::Changed { after, .. } => {
                tracing::info!(message_id, sender = %system_id, "async message cancelled");
                self.finished(message_id, &after).await;
                Ok(after)
            }
        }
    }

    /// Records a delivery attempt of a message a consumer picked up and says
    /// whether to hand it over.
    async fn begin_attempt(&self, message_id: &str, delivered: i64) -> Result<Attempt, StateError> {
        let attempts = u32::try_from(delivered.max(1)).unwrap_or(u32::MAX);
        let change = self
            .states
            .update(message_id, |record| {
                if record.state.is_final() || record.attempts >= attempts {
                    return false;
                }
                record.attempts = attempts;
                true
            })
            .await?;
        Ok(match change {
            state::Change::Missing => Attempt::Orphan,
            state::Change::Unchanged(record) if record.state.is_final() => {
                Attempt::Skip(record.state)
            }
            state::Change::Unchanged(_) => Attempt::Deliver(None),
            state::Change::Changed {
                after, revision, ..
            } => Attempt::Deliver(Some((after, revision))),
        })
    }

    /// Reads the state of a message a consumer picked up for its first
    /// delivery and says whether to hand it over, without writing: the
    /// attempt is recorded with the final state (one bucket write less per message).
    async fn check_first_attempt(&self, message_id: &str) -> Result<Attempt, StateError> {
        Ok(match self.states.get_confirmed(message_id).await? {
            None => Attempt::Orphan,
            Some((record, _)) if record.state.is_final() => Attempt::Skip(record.state),
            Some(known) => Attempt::Deliver(Some(known)),
        })
    }

    /// Moves a message from ON_DELIVERY to a final state; returns the record
    /// if this call made the change (and so notified the sender).
    async fn finish(
        &self,
        message_id: &str,
        to: DeliveryState,
        attempts: u32,
        known: Option<Known>,
    ) -> Result<Option<DeliveryRecord>, StateError> {
        let now = self.gateway.clock().now();
        let change = self
            .states
            .update_from(message_id, known, |record| {
                if record.state.is_final() {
                    return false;
                }
                record.state = to;
                record.attempts = record.attempts.max(attempts);
                record.changed_at = now;
                true
            })
            .await?;
        match change {
            state::Change::Changed { after, .. } => {
                self.finished(message_id, &after).await;
                Ok(Some(after))
            }
            _ => Ok(None),
        }
    }

    /// Marks a message DELIVERED and logs its outbound hop.
    async fn delivered(
        &self,
        message_id: &str,
        envelope: &Envelope,
        attempts: u32,
        known: Option<Known>,
    ) -> Result<(), StateError> {
        if let Some(record) = self
            .finish(message_id, DeliveryState::Delivered, attempts, known)
            .await?
        {
            self.log_outbound(envelope, &record, StatusCode::Success, "")
                .await;
            let latency = record.changed_at - record.accepted_at;
            metrics::histogram!("gateway_async_delivery_seconds")
                .record(latency.as_seconds_f64().max(0.0));
        }
        Ok(())
    }

    /// Marks a message NOT_DELIVERED and logs its failed outbound hop.
    async fn not_delivered(
        &self,
        message_id: &str,
        envelope: &Envelope,
        attempts: u32,
        code: StatusCode,
        reason: &str,
    ) {
        match self
            .finish(message_id, DeliveryState::NotDelivered, attempts, None)
            .await
        {
            Ok(Some(record)) => {
                tracing::warn!(message_id, receiver = %record.receiver, attempts, reason, "async message not delivered");
                self.log_outbound(envelope, &record, code, reason).await;
            }
            Ok(None) => {}
            Err(err) => {
                tracing::error!(message_id, error = %err, "NOT_DELIVERED state was not recorded");
            }
        }
    }

    /// Accounts a final state and tells the sender.
    async fn finished(&self, message_id: &str, record: &DeliveryRecord) {
        metrics::counter!("gateway_async_finished_total", "state" => record.state.as_str())
            .increment(1);
        // Per replica the gauge can go below zero (another replica accepted the
        // message); summed over replicas it is the number ON_DELIVERY.
        metrics::gauge!("gateway_async_in_flight").decrement(1.0);
        self.notify(message_id, record).await;
    }

    /// Publishes a `DeliveryNotification` to the sender's notification subject,
    /// stored in `EGOV_NOTIFY` so a sender that is down reads it later.
    async fn notify(&self, message_id: &str, record: &DeliveryRecord) {
        let subject = match egov_bus::subjects::notify(&record.sender) {
            Ok(subject) => subject,
            Err(err) => {
                tracing::error!(message_id, error = %err, "sender cannot be notified");
                return;
            }
        };
        // why: the gateway has no signing identity yet, so the notification
        // travels as plain protobuf bytes; a sender that needs proof asks
        // GetMessageStatus over the authenticated gRPC channel.
        let notification = DeliveryNotification {
            message_id: message_id.to_owned(),
            correlation_id: record.correlation_id.clone(),
            state: record.state.to_proto() as i32,
            changed_at: Some(to_timestamp(record.changed_at)),
        };
        let mut headers = HeaderMap::new();
        let pairs = [
            (MESSAGE_ID_HEADER, message_id.to_owned()),
            (CORRELATION_ID_HEADER, record.correlation_id.clone()),
            (
                NATS_MSG_ID_HEADER,
                format!("{message_id}.{}", record.state.as_str()),
            ),
        ];
        for (name, value) in pairs {
            if let Some(value) = header_value(&value) {
                headers.insert(name, value);
            }
        }
        let message = jetstream::message::PublishMessage::build()
            .payload(notification.encode_to_vec().into())
            .headers(headers);
        let result = match self.jetstream.send_publish(subject.clone(), message).await {
            Ok(ack) => ack.await.map(|_| ()),
            Err(err) => Err(err),
        };
        if let Err(err) = result {
            tracing::error!(message_id, subject, error = %err, "delivery notification was not stored");
        }
    }

    /// Logs an outbound hop of an async message to its receiver.
    async fn log_outbound(
        &self,
        envelope: &Envelope,
        record: &DeliveryRecord,
        code: StatusCode,
        reason: &str,
    ) {
        let header = Header::decode(envelope.header.as_slice()).unwrap_or_default();
        let route = self.route_of(record);
        let now = self.gateway.clock().now();
        let waited = (now - record.accepted_at).whole_microseconds();
        self.gateway
            .log_hop(
                &self.gateway.logged(envelope),
                &header,
                Direction::Outbound,
                ChannelKind::Async,
                &route,
                code,
                reason,
                now,
                i64::try_from(waited.max(0)).unwrap_or(i64::MAX),
            )
            .await;
    }

    /// Returns the message's route, or a stand-in if a reload removed it since
    /// (only `store_body` and `record` matter to the log, and false is the safe side).
    fn route_of(&self, record: &DeliveryRecord) -> Arc<ServiceRoute> {
        if let Some(route) = self.gateway.registry().current().route(&record.service_id) {
            return Arc::clone(route);
        }
        Arc::new(ServiceRoute {
            service_id: record.service_id.clone(),
            target: record.receiver.clone(),
            transport: Transport::Nats(
                egov_bus::subjects::deliver(&record.receiver).unwrap_or_default(),
            ),
            timeout: self.settings.push_timeout,
            allowed_senders: Vec::new(),
            store_body: false,
            record: false,
            max_message_bytes: None,
        })
    }

    /// Returns the durable consumer of a system's messages, creating it (or
    /// updating its limits) on first use.
    async fn consumer(&self, system_id: &str) -> Result<PullConsumer, Refusal> {
        let name = names::consumer(system_id).ok_or_else(|| {
            Refusal::new(
                StatusCode::Internal,
                format!("system id {system_id:?} cannot name a JetStream consumer"),
            )
        })?;
        let filter = egov_bus::subjects::deliver(system_id)
            .map_err(|err| Refusal::new(StatusCode::Internal, err.to_string()))?;
        let mut consumers = self.consumers.lock().await;
        if let Some(consumer) = consumers.get(system_id) {
            return Ok(consumer.clone());
        }
        let consumer = self
            .deliver
            .create_consumer(jetstream::consumer::pull::Config {
                durable_name: Some(name.clone()),
                description: Some(format!("async messages for {system_id}")),
                filter_subject: filter,
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: self.settings.ack_wait,
                max_deliver: i64::from(self.settings.max_deliveries),
                deliver_policy: jetstream::consumer::DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|err| {
                Refusal::new(
                    StatusCode::Internal,
                    format!("delivery consumer {name}: {err}"),
                )
            })?;
        consumers.insert(system_id.to_owned(), consumer.clone());
        Ok(consumer)
    }

    /// Drops a cached consumer handle after it failed, so the next use re-creates it.
    async fn forget_consumer(&self, system_id: &str) {
        self.consumers.lock().await.remove(system_id);
    }

    /// Marks NOT_DELIVERED the messages JetStream gave up on by itself (a
    /// worker or replica that stopped during the last attempt).
    async fn watch_max_deliveries(self: Arc<Self>, mut advisories: async_nats::Subscriber) {
        while let Some(advisory) = advisories.next().await {
            self.on_max_deliveries(&advisory.payload).await;
        }
    }

    async fn on_max_deliveries(&self, payload: &[u8]) {
        #[derive(Deserialize)]
        struct MaxDeliveries {
            stream_seq: u64,
            deliveries: u64,
        }
        let advisory: MaxDeliveries = match serde_json::from_slice(payload) {
            Ok(advisory) => advisory,
            Err(err) => {
                tracing::warn!(error = %err, "max-deliveries advisory does not decode");
                return;
            }
        };
        let message = match self.deliver.get_raw_message(advisory.stream_seq).await {
            Ok(message) => message,
            Err(err) => {
                tracing::warn!(sequence = advisory.stream_seq, error = %err, "message that exhausted its deliveries is gone");
                return;
            }
        };
        let Some(message_id) = message
            .headers
            .get(NATS_MSG_ID_HEADER)
            .map(|v| v.as_str().to_owned())
        else {
            return;
        };
        let envelope = Envelope::decode(message.payload.as_ref()).unwrap_or_default();
        let attempts = u32::try_from(advisory.deliveries).unwrap_or(u32::MAX);
        self.not_delivered(
            &message_id,
            &envelope,
            attempts,
            StatusCode::TargetUnavailable,
            &format!("not acknowledged after {attempts} deliveries"),
        )
        .await;
    }

    /// Runs a task until it ends or the channel stops.
    fn spawn_until_stopped(
        &self,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> JoinHandle<()> {
        let mut stop = self.stop.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => {}
                () = task => {}
            }
        })
    }
}

/// Creates a stream or brings an existing one to these limits.
async fn ensure_stream(
    jetstream: &jetstream::Context,
    name: &str,
    subjects: &str,
    description: &str,
    settings: &AsyncSettings,
) -> Result<jetstream::stream::Stream, AsyncChannelError> {
    let failed = |err: &dyn std::fmt::Display| AsyncChannelError::Stream {
        name: name.to_owned(),
        reason: err.to_string(),
    };
    jetstream
        .create_or_update_stream(jetstream::stream::Config {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            subjects: vec![subjects.to_owned()],
            storage: jetstream::stream::StorageType::File,
            retention: jetstream::stream::RetentionPolicy::Limits,
            max_age: settings.retention,
            duplicate_window: settings.duplicate_window.min(settings.retention),
            num_replicas: settings.replicas,
            ..Default::default()
        })
        .await
        .map_err(|err| failed(&err))?;
    jetstream.get_stream(name).await.map_err(|err| failed(&err))
}

/// Returns a header value, or `None` for text a header cannot carry.
fn header_value(text: &str) -> Option<HeaderValue> {
    text.parse().ok()
}

/// Returns the message id a delivery stream message carries.
fn message_id_of(message: &async_nats::Message) -> Option<String> {
    message
        .headers
        .as_ref()?
        .get(NATS_MSG_ID_HEADER)
        .map(|value| value.as_str().to_owned())
}

/// Sends a JetStream acknowledgement of a kind; a lost one only means the
/// message is offered again, which the state check then settles.
async fn settle(message: &jetstream::Message, kind: jetstream::AckKind) {
    if let Err(err) = message.ack_with(kind).await {
        tracing::warn!(error = %err, "JetStream acknowledgement failed; the message will be offered again");
    }
}

fn unknown_message(message_id: &str) -> Refusal {
    Refusal::new(
        StatusCode::UnknownMessage,
        format!("message id {message_id:?} is not known to the async channel"),
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn elapsed_us(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_backoff_doubles_from_the_base_up_to_the_cap() {
        let settings = AsyncSettings {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            ..AsyncSettings::default()
        };
        let delays: Vec<u128> = (1..=5).map(|n| settings.backoff(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(settings.backoff(0).as_millis(), 100);
        assert_eq!(settings.backoff(i64::MAX).as_millis(), 500);
    }

    #[test]
    fn settings_take_max_deliveries_from_the_config() {
        let config = Config {
            max_deliveries: 9,
            ..Config::default()
        };
        assert_eq!(AsyncSettings::from_config(&config).max_deliveries, 9);
    }

    #[test]
    fn streams_have_one_replica_unless_the_config_asks_for_more() {
        assert_eq!(AsyncSettings::from_config(&Config::default()).replicas, 1);
        let config = Config {
            jetstream_replicas: 3,
            ..Config::default()
        };
        assert_eq!(AsyncSettings::from_config(&config).replicas, 3);
    }
}
