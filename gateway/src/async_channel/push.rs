//! Push delivery: one worker per push-mode system pulls its durable consumer
//! and sends each envelope as a NATS request to the system's inbox; a reply
//! means received, silence means a later redelivery with a growing delay.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use async_nats::{HeaderMap, RequestErrorKind};
use egov_bus::subjects::{CORRELATION_ID_HEADER, MESSAGE_ID_HEADER};
use egov_core::StatusCode;
use egov_core::envelope::RevocationSource;
use egov_proto::v1::{Envelope, Header};
use futures::StreamExt;
use prost::Message;
use tracing::Instrument as _;

use super::{AsyncChannel, Attempt, DeliveryRecord, header_value, lock, settle};
use crate::faults::DeliveryEffect;
use crate::registry::Delivery;

/// Pause before a worker re-opens its consumer after an error.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// The pause after the first failed DELIVERED write; it doubles after each, up to
/// [`STATE_RETRY_MAX_PAUSE`], while the consumer's ack_wait lasts.
const STATE_RETRY_FIRST_PAUSE: Duration = Duration::from_millis(200);

/// The longest pause between two DELIVERED writes.
const STATE_RETRY_MAX_PAUSE: Duration = Duration::from_secs(2);

/// Most messages a worker holds at once; fewer when the inbox timeout is long,
/// so none waits past ack_wait behind the others.
const MAX_BATCH: u128 = 64;

impl<R: RevocationSource + 'static> AsyncChannel<R> {
    /// Keeps one worker per push-mode system of the current registry.
    pub(super) async fn supervise_push(self: Arc<Self>) {
        loop {
            self.reconcile_push_workers();
            tokio::time::sleep(self.settings.registry_poll).await;
        }
    }

    /// Starts workers for new push-mode systems and stops the others.
    fn reconcile_push_workers(self: &Arc<Self>) {
        let registry = self.gateway.registry().current();
        let wanted: HashSet<&String> = registry
            .systems
            .values()
            .filter(|system| system.delivery == Delivery::Push)
            .map(|system| &system.id)
            .collect();
        let mut workers = lock(&self.push_workers);
        workers.retain(|system_id, worker| {
            let keep = wanted.contains(system_id) && !worker.is_finished();
            if !keep {
                worker.abort();
            }
            keep
        });
        for system_id in wanted {
            if !workers.contains_key(system_id) {
                tracing::info!(system_id, "push delivery started");
                let worker = self.spawn_until_stopped(self.clone().push_worker(system_id.clone()));
                workers.insert(system_id.clone(), worker);
            }
        }
    }

    /// Delivers a system's messages until stopped, re-opening its consumer after errors.
    async fn push_worker(self: Arc<Self>, system_id: String) {
        let inbox = match egov_bus::subjects::inbox(&system_id) {
            Ok(inbox) => inbox,
            Err(err) => {
                tracing::error!(system_id, error = %err, "push-mode system has no inbox subject");
                return;
            }
        };
        loop {
            if let Err(reason) = self.push_round(&system_id, &inbox).await {
                tracing::warn!(system_id, reason, "push delivery interrupted; retrying");
                self.forget_consumer(&system_id).await;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    async fn push_round(&self, system_id: &str, inbox: &str) -> Result<(), String> {
        let consumer = self
            .consumer(system_id)
            .await
            .map_err(|refusal| refusal.message)?;
        let timeout_ms = self.settings.push_timeout.as_millis().max(1);
        let batch = (self.settings.ack_wait.as_millis() / timeout_ms).clamp(1, MAX_BATCH);
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(usize::try_from(batch).unwrap_or(1))
            .heartbeat(Duration::from_secs(5))
            .messages()
            .await
            .map_err(|err| err.to_string())?;
        while let Some(next) = messages.next().await {
            let message = next.map_err(|err| err.to_string())?;
            self.push_one(inbox, message).await;
        }
        Ok(())
    }

    /// Records DELIVERED for a message the inbox took, retrying while the state
    /// stream elects a new leader: a redelivery after a hand-over is a duplicate the
    /// receiver must recognise, so the write is worth waiting for, as long as the
    /// consumer's ack_wait. Each retry tells JetStream the message is still in
    /// progress, so it is not offered again meanwhile (a copy offered after a
    /// consumer failover finds DELIVERED once the write lands, and is terminated).
    async fn record_delivered(
        &self,
        message: &jetstream::Message,
        base: &DeliveryRecord,
        envelope: &Envelope,
        attempts: u32,
    ) -> Result<(), super::StateError> {
        let deadline = tokio::time::Instant::now() + self.settings.ack_wait;
        let mut pause = STATE_RETRY_FIRST_PAUSE;
        loop {
            let err = match self.delivered(base, envelope, attempts).await {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            if tokio::time::Instant::now() + pause >= deadline {
                return Err(err);
            }
            tracing::warn!(message_id = base.message_id, error = %err, retry_in_ms = pause.as_millis(), "DELIVERED state not yet recorded; retrying");
            // A failed progress ack (the consumer's own failover) changes nothing:
            // the copy offered again is settled by the state this loop writes.
            let _ = message.ack_with(AckKind::Progress).await;
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(STATE_RETRY_MAX_PAUSE);
        }
    }

    /// Sends one message to the inbox and settles it: ack when answered, a
    /// delayed redelivery when not, and a term once deliveries are exhausted.
    async fn push_one(&self, inbox: &str, message: jetstream::Message) {
        // The delivery continues the sender's trace, whose context the stream kept.
        let span = egov_bus::trace_context::nats_consumer_span(
            &self.gateway.system_id,
            "deliver",
            inbox,
            message.headers.as_ref(),
        );
        self.push_traced(inbox, message).instrument(span).await;
    }

    async fn push_traced(&self, inbox: &str, message: jetstream::Message) {
        let delivered = message.info().map_or(1, |info| info.delivered);
        let attempt = self.begin_attempt(&message, delivered).await;
        let base = match attempt {
            Ok(Attempt::Deliver(base)) => base,
            Ok(Attempt::Skip(_) | Attempt::Orphan) => {
                settle(&message, AckKind::Term).await;
                return;
            }
            Err(err) => {
                tracing::error!(subject = %message.subject, error = %err, "delivery state not read");
                settle(
                    &message,
                    AckKind::Nak(Some(self.settings.backoff(delivered))),
                )
                .await;
                return;
            }
        };
        let message_id = base.message_id.clone();
        let attempts = u32::try_from(delivered).unwrap_or(u32::MAX);
        let envelope = match Envelope::decode(message.payload.as_ref()) {
            Ok(envelope) => envelope,
            Err(err) => {
                settle(&message, AckKind::Term).await;
                self.not_delivered(
                    &base,
                    &Envelope::default(),
                    attempts,
                    StatusCode::Internal,
                    &format!("stored bytes are not an envelope: {err}"),
                )
                .await;
                return;
            }
        };
        metrics::counter!("gateway_async_attempts_total", "mode" => "push").increment(1);
        let sent = match self.gateway.delivery_fault(&envelope).await {
            None => {
                self.send_to_inbox(inbox, &message_id, &message, &envelope)
                    .await
            }
            Some(DeliveryEffect::Delay(delay, _)) => {
                tokio::time::sleep(delay).await;
                self.send_to_inbox(inbox, &message_id, &message, &envelope)
                    .await
            }
            Some(DeliveryEffect::Fail(code, reason)) => Err((code, reason)),
            Some(DeliveryEffect::Twice(_)) => {
                let first = self
                    .send_to_inbox(inbox, &message_id, &message, &envelope)
                    .await;
                if first.is_ok() {
                    let _ = self
                        .send_to_inbox(inbox, &message_id, &message, &envelope)
                        .await;
                }
                first
            }
        };
        match sent {
            Ok(()) => {
                // The state is written first: if the ack is lost, the copy
                // offered again finds DELIVERED and is terminated.
                if let Err(err) = self
                    .record_delivered(&message, &base, &envelope, attempts)
                    .await
                {
                    tracing::error!(message_id, error = %err, "DELIVERED state was not recorded");
                    settle(
                        &message,
                        AckKind::Nak(Some(self.settings.backoff(delivered))),
                    )
                    .await;
                    return;
                }
                // A plain ack: if it is lost, the copy offered again finds
                // DELIVERED and is terminated, so no confirmation is awaited.
                if let Err(err) = message.ack().await {
                    tracing::warn!(message_id, error = %err, "JetStream ack of a delivered message failed");
                }
            }
            Err((code, reason)) => {
                if delivered >= i64::from(self.settings.max_deliveries) {
                    settle(&message, AckKind::Term).await;
                    self.not_delivered(
                        &base,
                        &envelope,
                        attempts,
                        code,
                        &format!("{reason}; gave up after {delivered} deliveries"),
                    )
                    .await;
                } else {
                    tracing::debug!(
                        message_id,
                        delivered,
                        reason,
                        "push failed; redelivery scheduled"
                    );
                    settle(
                        &message,
                        AckKind::Nak(Some(self.settings.backoff(delivered))),
                    )
                    .await;
                }
            }
        }
    }

    /// Sends one message to the inbox; an error is the code and reason of the failed attempt.
    async fn send_to_inbox(
        &self,
        inbox: &str,
        message_id: &str,
        message: &jetstream::Message,
        envelope: &Envelope,
    ) -> Result<(), (StatusCode, String)> {
        let request = async_nats::Request::new()
            .payload(message.payload.clone())
            .headers(inbox_headers(message_id, envelope))
            .timeout(Some(self.settings.push_timeout));
        match self.client.send_request(inbox.to_owned(), request).await {
            Ok(_) => Ok(()),
            Err(err) => Err(match err.kind() {
                RequestErrorKind::TimedOut => (
                    StatusCode::TargetTimeout,
                    format!(
                        "inbox {inbox} did not answer within {} ms",
                        self.settings.push_timeout.as_millis()
                    ),
                ),
                RequestErrorKind::NoResponders => (
                    StatusCode::TargetUnavailable,
                    format!("nobody listens on inbox {inbox}"),
                ),
                _ => (
                    StatusCode::TargetUnavailable,
                    format!("inbox {inbox}: {err}"),
                ),
            }),
        }
    }
}

/// The headers a receiver gets with a pushed envelope.
fn inbox_headers(message_id: &str, envelope: &Envelope) -> HeaderMap {
    let correlation_id = Header::decode(&envelope.header[..])
        .map(|header| header.correlation_id)
        .unwrap_or_default();
    let mut headers = egov_bus::trace_context::current_headers();
    for (name, value) in [
        (MESSAGE_ID_HEADER, message_id),
        (CORRELATION_ID_HEADER, correlation_id.as_str()),
    ] {
        if let Some(value) = header_value(value) {
            headers.insert(name, value);
        }
    }
    headers
}
