//! The gateway's async channel over NATS JetStream: `SendAsyncMessage` admits
//! an envelope like the sync channel, stores it durably and answers only after
//! JetStream's acknowledgement; receivers fetch it (pull) or get it on their
//! inbox (push); its final state is stored once, shared by every replica, and
//! is itself the sender's notification.
//!
//! A message costs two stored writes in the steady path (see [`state`]): the
//! message on its own subject (its presence is ON_DELIVERY; the publish refuses
//! an id already stored, the replay guard replicas share beside the message
//! log's), and its final state on its own subject of the state stream (the
//! first final state wins; senders read their notifications from it). A hand-over
//! reads the final state once, so a cancelled message is never handed over.
//!
//! JetStream objects (created or updated at start, all file-stored):
//! - stream `EGOV_DELIVER` on `egov.gw.deliver.<receiver>.<message id>`;
//! - one durable pull consumer `deliver-<system>` per receiver, filtered on
//!   `egov.gw.deliver.<system>.*`, explicit ack, `max_deliver` = `max_deliveries`;
//! - stream `EGOV_NOTIFY` on `egov.gw.notify.<sender>.<message id>`: one encoded
//!   `egov.v1.DeliveryNotification` per message, the record's other fields in headers;
//! - bucket `EGOV_DELIVERY_ATTEMPTS`: message id → deliveries, written only when a
//!   message is offered again.
//!
//! # Layout
//! - [`names`]: stream, bucket and consumer names (subjects are `egov_bus::subjects`).
//! - [`state`]: delivery states, their records and the write-once streams.
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

use async_nats::header::HeaderValue;
use async_nats::jetstream::{self, consumer::PullConsumer};
use egov_core::StatusCode;
use egov_core::envelope::RevocationSource;
use egov_proto::v1::{Envelope, Header, MessageType};
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
    /// How long stored messages, final states and redelivery counts are kept
    /// (and so how long a message id stays refused as a replay).
    pub retention: Duration,
    /// JetStream's de-duplication window (the streams' setting; the async channel's
    /// writes are guarded by their per-message subjects instead).
    pub duplicate_window: Duration,
    /// How far a fetch proof's message time may be from the gateway's clock.
    pub proof_max_age: Duration,
    /// How often the registry is checked for push-mode systems added or removed.
    pub registry_poll: Duration,
    /// Copies JetStream keeps of the streams and the bucket (3 on a three-node cluster).
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
    /// The bucket of redelivery counts could not be created or updated.
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
    /// Still ON_DELIVERY: hand it over. Carries the record the message
    /// carries, so its final state needs no read.
    Deliver(DeliveryRecord),
    /// Already final (cancelled, delivered, given up): stop its redelivery.
    Skip(DeliveryState),
    /// Not a message the gateway stored (no record in its headers): drop it.
    Orphan,
}

/// The async channel: JetStream handles, the delivery states and the background
/// delivery tasks, shared by the gRPC service.
pub struct AsyncChannel<R> {
    gateway: Arc<Gateway<R>>,
    settings: AsyncSettings,
    client: async_nats::Client,
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
            "async messages, one subject each: stored is ON_DELIVERY",
            &settings,
        )
        .await?;
        let finals = ensure_stream(
            &jetstream,
            names::NOTIFY_STREAM,
            egov_bus::subjects::NOTIFY_ALL,
            "each async message's one final state, its sender's notification",
            &settings,
        )
        .await?;
        let states = state::DeliveryStore::open(
            &jetstream,
            deliver,
            finals,
            names::ATTEMPTS_BUCKET,
            settings.retention,
            settings.replicas,
        )
        .await
        .map_err(|err| AsyncChannelError::Bucket {
            name: names::ATTEMPTS_BUCKET.into(),
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
                    // The advisory watch started above ends with this channel: a later
                    // attempt starts its own.
                    channel.stop();
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
                    let message_id = Header::decode(&envelope.header[..])
                        .map(|header| header.message_id)
                        .unwrap_or_default();
                    (message_id, Err(refusal))
                }
            }
        });
        futures::future::join_all(sends).await
    }

    /// Publishes the envelope to its own subject, ON_DELIVERY from then on, and
    /// waits for the stream's acknowledgement; an id already stored is refused.
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
        if header_value(&header.correlation_id).is_none() {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                "correlation id contains a line break",
            ));
        }
        self.check_reply(header).await?;
        let receiver = &admitted.route.target;
        if let Err(err) = egov_bus::subjects::deliver(receiver) {
            return Err(Refusal::new(
                StatusCode::Internal,
                format!("receiver system {receiver:?}: {err}"),
            ));
        }
        let record = DeliveryRecord {
            message_id: message_id.clone(),
            state: DeliveryState::OnDelivery,
            attempts: 0,
            sender: header.sender_system_id.clone(),
            receiver: receiver.clone(),
            service_id: header.service_id.clone(),
            correlation_id: header.correlation_id.clone(),
            accepted_at: now,
            changed_at: now,
        };
        // The sender's trace rides in the stream beside the message, so its
        // delivery, pushed or fetched later, continues the same trace.
        let headers = egov_bus::trace_context::current_headers();
        let payload = bytes::Bytes::from(envelope.encode_to_vec());
        self.states
            .store_message(&record, headers, payload)
            .await
            .map_err(Refusal::from)
    }

    /// Refuses a response that names an async request of another exchange:
    /// a reply must carry its request's correlation id and go back to its sender.
    async fn check_reply(&self, header: &Header) -> Result<(), Refusal> {
        if header.message_type != MessageType::Response as i32
            || !names::is_valid_message_id(&header.in_reply_to)
        {
            return Ok(());
        }
        // A request sent over the sync channel, or one past retention, is not
        // stored; such a reply is routed on its header alone.
        let Some(request) = self.states.stored(&header.in_reply_to).await? else {
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

    /// Returns the delivery record of a message id; a delivery not yet stored
    /// (a first one, until the final state) counts if this gateway handed it over.
    pub async fn status(&self, message_id: &str) -> Result<DeliveryRecord, Refusal> {
        if !names::is_valid_message_id(message_id) {
            return Err(unknown_message(message_id));
        }
        match self.states.get(message_id).await? {
            Some(mut record) => {
                if !record.state.is_final() {
                    record.attempts = record.attempts.max(self.held_attempts(message_id));
                }
                Ok(record)
            }
            None => Err(unknown_message(message_id)),
        }
    }

    /// Returns the deliveries of a message this replica has handed over and holds
    /// for its acknowledgement (0 if it holds none).
    fn held_attempts(&self, message_id: &str) -> u32 {
        lock(&self.fetched).get(message_id).map_or(0, |entry| {
            u32::try_from(entry.delivered()).unwrap_or(u32::MAX)
        })
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
        let Some(record) = self.states.get(message_id).await? else {
            return Err(unknown_message(message_id));
        };
        if record.sender != system_id {
            return Err(Refusal::new(
                StatusCode::AccessDenied,
                format!(
                    "system {system_id:?} did not send message {message_id}; only its sender may cancel it"
                ),
            ));
        }
        if record.state.is_final() {
            return Ok(record);
        }
        let attempts = record.attempts.max(self.held_attempts(message_id));
        match self
            .finish(&record, DeliveryState::DeliveryStopped, attempts)
            .await?
        {
            state::Change::Changed(after) => {
                tracing::info!(message_id, sender = %system_id, "async message cancelled");
                Ok(after)
            }
            // An acknowledgement or the last delivery's end got there first.
            state::Change::Unchanged(kept) => Ok(kept),
        }
    }

    /// Reads the record a message picked up by a consumer carries and its final
    /// state, and says whether to hand it over; a redelivery (JetStream's `delivered` count
    /// above 1) handed over records its count.
    async fn begin_attempt(
        &self,
        message: &jetstream::Message,
        delivered: i64,
    ) -> Result<Attempt, StateError> {
        let Some(record) =
            DeliveryRecord::from_delivery(message.subject.as_str(), message.headers.as_ref())
        else {
            return Ok(Attempt::Orphan);
        };
        if let Some(ended) = self
            .states
            .final_state(&record.sender, &record.message_id)
            .await?
        {
            return Ok(Attempt::Skip(ended.state));
        }
        if delivered > 1 {
            let attempts = u32::try_from(delivered).unwrap_or(u32::MAX);
            // Only informs GetMessageStatus while ON_DELIVERY: a lost count does
            // not hold the delivery up.
            if let Err(err) = self
                .states
                .record_attempt(&record.message_id, attempts)
                .await
            {
                tracing::warn!(message_id = record.message_id, error = %err, "redelivery count not recorded");
            }
        }
        Ok(Attempt::Deliver(record))
    }

    /// Stores a message's final state unless another was stored first; returns
    /// which one the message keeps. Only the winner accounts it.
    async fn finish(
        &self,
        base: &DeliveryRecord,
        to: DeliveryState,
        attempts: u32,
    ) -> Result<state::Change, StateError> {
        let ended = DeliveryRecord {
            state: to,
            attempts: base.attempts.max(attempts),
            changed_at: self.gateway.clock().now(),
            ..base.clone()
        };
        let change = self.states.finish(&ended).await?;
        if let state::Change::Changed(record) = &change {
            finished(record);
        }
        Ok(change)
    }

    /// Marks a message DELIVERED and logs its outbound hop.
    async fn delivered(
        &self,
        base: &DeliveryRecord,
        envelope: &Envelope,
        attempts: u32,
    ) -> Result<(), StateError> {
        if let state::Change::Changed(record) = self
            .finish(base, DeliveryState::Delivered, attempts)
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
        base: &DeliveryRecord,
        envelope: &Envelope,
        attempts: u32,
        code: StatusCode,
        reason: &str,
    ) {
        let message_id = base.message_id.as_str();
        match self
            .finish(base, DeliveryState::NotDelivered, attempts)
            .await
        {
            Ok(state::Change::Changed(record)) => {
                tracing::warn!(message_id, receiver = %record.receiver, attempts, reason, "async message not delivered");
                self.log_outbound(envelope, &record, code, reason).await;
            }
            Ok(state::Change::Unchanged(_)) => {}
            Err(err) => {
                tracing::error!(message_id, error = %err, "NOT_DELIVERED state was not recorded");
            }
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
        let header = Header::decode(&envelope.header[..]).unwrap_or_default();
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
            .map(|prefix| format!("{prefix}.*"))
            .map_err(|err| Refusal::new(StatusCode::Internal, err.to_string()))?;
        let mut consumers = self.consumers.lock().await;
        if let Some(consumer) = consumers.get(system_id) {
            return Ok(consumer.clone());
        }
        let consumer = self
            .states
            .deliver()
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
        let message = match self
            .states
            .deliver()
            .get_raw_message(advisory.stream_seq)
            .await
        {
            Ok(message) => message,
            Err(err) => {
                tracing::warn!(sequence = advisory.stream_seq, error = %err, "message that exhausted its deliveries is gone");
                return;
            }
        };
        let Some(base) = DeliveryRecord::from_delivery(&message.subject, Some(&message.headers))
        else {
            return;
        };
        let envelope = Envelope::decode(message.payload.as_ref()).unwrap_or_default();
        let attempts = u32::try_from(advisory.deliveries).unwrap_or(u32::MAX);
        self.not_delivered(
            &base,
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
    let config = jetstream::stream::Config {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        subjects: vec![subjects.to_owned()],
        storage: jetstream::stream::StorageType::File,
        retention: jetstream::stream::RetentionPolicy::Limits,
        max_age: settings.retention,
        duplicate_window: settings.duplicate_window.min(settings.retention),
        num_replicas: settings.replicas,
        // A hand-over's read of a final state may be answered by any replica.
        allow_direct: true,
        ..Default::default()
    };
    // A replicated stream's creation can outlast one JetStream request on a loaded cluster that
    // has just formed; creating it again is harmless (create or update), and giving up leaves
    // this gateway without its async channel until it restarts.
    let mut attempt = 1;
    loop {
        match jetstream.create_or_update_stream(config.clone()).await {
            Ok(_) => break,
            Err(err)
                if attempt < STREAM_ATTEMPTS
                    && err.kind() == jetstream::context::CreateStreamErrorKind::TimedOut =>
            {
                tracing::warn!(stream = name, attempt, error = %err, "JetStream stream not ready; asking again");
                attempt += 1;
            }
            Err(err) => return Err(failed(&err)),
        }
    }
    jetstream.get_stream(name).await.map_err(|err| failed(&err))
}

/// How many times a stream's creation is asked when JetStream does not answer in time.
const STREAM_ATTEMPTS: u32 = 3;

/// Returns a header value, or `None` for text a header cannot carry.
fn header_value(text: &str) -> Option<HeaderValue> {
    text.parse().ok()
}

/// Accounts a final state this replica stored.
fn finished(record: &DeliveryRecord) {
    metrics::counter!("gateway_async_finished_total", "state" => record.state.as_str())
        .increment(1);
    // Per replica the gauge can go below zero (another replica accepted the
    // message); summed over replicas it is the number ON_DELIVERY.
    metrics::gauge!("gateway_async_in_flight").decrement(1.0);
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
