//! Pull delivery: `FetchMessages` hands a system the envelopes waiting on its
//! durable consumer, once the caller proved it is that system; the fetched
//! messages wait here, keyed by message id, for `AcknowledgeMessages`.

use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument as _;

use async_nats::jetstream::{self, AckKind};
use egov_core::StatusCode;
use egov_core::envelope::{RevocationSource, VerifyPolicy};
use egov_proto::v1::{Envelope, Header, MessageType};
use futures::StreamExt;
use prost::Message;

use super::{AsyncChannel, Attempt, DeliveryRecord, lock, names, settle, unknown_message};
use crate::exchange::Refusal;
use crate::faults::DeliveryEffect;

/// Messages returned by a fetch that asks for none in particular.
pub const DEFAULT_FETCH: u32 = 100;

/// The most messages one fetch returns.
pub const MAX_FETCH: u32 = 1000;

/// How many fetched messages have their state checked at once: each is a
/// read of the state stream waiting on the server, so a whole batch goes out together.
const RECORD_CONCURRENCY: usize = 256;

/// How many acknowledged messages are settled at once: each is a final-state
/// write waiting on the server, so a whole batch goes out together.
const ACK_CONCURRENCY: usize = 256;

/// A message handed to its receiver and not yet acknowledged.
pub(super) struct Fetched {
    /// The JetStream message, whose reply subject acknowledges it.
    message: jetstream::Message,
    /// Its envelope, for the log's outbound hop.
    envelope: Envelope,
    /// The system that fetched it; only it may acknowledge.
    system: String,
    /// JetStream's delivered count at this fetch.
    delivered: i64,
    /// The record the stored message carries, so its final state needs no read.
    base: DeliveryRecord,
    /// When it was fetched, to forget entries long redelivered.
    at: Instant,
}

impl Fetched {
    /// Returns JetStream's delivered count at this fetch.
    pub(super) fn delivered(&self) -> i64 {
        self.delivered
    }
}

/// A fetched envelope with the trace it continues.
#[derive(Debug, Clone)]
pub struct Handed {
    /// The signed envelope.
    pub envelope: Envelope,
    /// The `traceparent` of the gateway's hand-over, a child of the sender's trace
    /// (empty when untraced).
    pub traceparent: String,
}

impl<R: RevocationSource + 'static> AsyncChannel<R> {
    /// Returns up to `max_messages` envelopes waiting for `system_id`, oldest
    /// first, after checking `proof`: a NOTIFICATION signed with the system's BIN.
    pub async fn fetch(
        self: &Arc<Self>,
        system_id: &str,
        max_messages: u32,
        proof: Option<&Envelope>,
    ) -> Result<Vec<Handed>, Refusal> {
        self.prove_caller(
            Some(system_id),
            proof,
            egov_system::caller::FETCH_PROOF_SERVICE_ID,
            None,
        )
        .await?;
        let wanted = match max_messages {
            0 => DEFAULT_FETCH,
            n => n.min(MAX_FETCH),
        };
        let consumer = self.consumer(system_id).await?;
        let batch = match consumer
            .fetch()
            .max_messages(usize::try_from(wanted).unwrap_or(usize::MAX))
            .messages()
            .await
        {
            Ok(batch) => batch,
            Err(err) => {
                self.forget_consumer(system_id).await;
                return Err(Refusal::new(
                    StatusCode::Internal,
                    format!("fetch from the delivery consumer of {system_id}: {err}"),
                ));
            }
        };
        let messages: Vec<jetstream::Message> = batch
            .filter_map(|message| async move {
                message
                    .inspect_err(|err| tracing::warn!(error = %err, "fetch batch ended early"))
                    .ok()
            })
            .collect()
            .await;
        self.forget_stale_fetches();
        let envelopes = futures::stream::iter(messages)
            .map(|message| self.hand_over(system_id, message))
            .buffered(RECORD_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut handed = Vec::with_capacity(envelopes.len());
        for message in envelopes.into_iter().flatten() {
            match self.gateway.delivery_fault(&message.envelope).await {
                None => handed.push(message),
                Some(DeliveryEffect::Delay(delay, _)) => {
                    tokio::time::sleep(delay).await;
                    handed.push(message);
                }
                Some(DeliveryEffect::Twice(_)) => {
                    handed.push(message.clone());
                    handed.push(message);
                }
                Some(DeliveryEffect::Fail(..)) => self.withhold(&message.envelope).await,
            }
        }
        Ok(handed)
    }

    /// Keeps back a fetched message an injected fault drops: it is offered again after the
    /// push back-off, as a delivery that never arrived would be after its ack_wait.
    async fn withhold(&self, envelope: &Envelope) {
        let Ok(header) = Header::decode(&envelope.header[..]) else {
            return;
        };
        let fetched = lock(&self.fetched).remove(&header.message_id);
        if let Some(fetched) = fetched {
            settle(
                &fetched.message,
                AckKind::Nak(Some(self.settings.backoff(fetched.delivered))),
            )
            .await;
        }
    }

    /// Checks the state of one fetched message and keeps it for the
    /// acknowledgement; a message no longer ON_DELIVERY is terminated instead.
    /// A first delivery is only read, a redelivery records its count.
    async fn hand_over(
        self: &Arc<Self>,
        system_id: &str,
        message: jetstream::Message,
    ) -> Option<Handed> {
        // The hand-over continues the sender's trace, whose context the stream kept,
        // and the receiver continues the hand-over's.
        let span = egov_bus::trace_context::nats_consumer_span(
            &self.gateway.system_id,
            "fetch",
            message.subject.as_str(),
            message.headers.as_ref(),
        );
        let traceparent = span.in_scope(egov_bus::trace_context::current_traceparent);
        let envelope = self
            .hand_over_traced(system_id, message)
            .instrument(span)
            .await?;
        Some(Handed {
            envelope,
            traceparent,
        })
    }

    async fn hand_over_traced(
        self: &Arc<Self>,
        system_id: &str,
        message: jetstream::Message,
    ) -> Option<Envelope> {
        let delivered = message.info().map_or(1, |info| info.delivered);
        let attempt = self.begin_attempt(&message, delivered).await;
        let base = match attempt {
            Ok(Attempt::Deliver(base)) => base,
            Ok(Attempt::Skip(state)) => {
                tracing::debug!(
                    subject = %message.subject,
                    state = state.as_str(),
                    "final message not handed over"
                );
                settle(&message, AckKind::Term).await;
                return None;
            }
            Ok(Attempt::Orphan) => {
                tracing::warn!(
                    subject = %message.subject,
                    "stored message without the gateway's record dropped"
                );
                settle(&message, AckKind::Term).await;
                return None;
            }
            Err(err) => {
                // Without a recorded attempt the state could go stale; let
                // JetStream offer it again after ack_wait.
                tracing::error!(subject = %message.subject, error = %err, "delivery state not read");
                return None;
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
                return None;
            }
        };
        metrics::counter!("gateway_async_attempts_total", "mode" => "pull").increment(1);
        lock(&self.fetched).insert(
            message_id.clone(),
            Fetched {
                message,
                envelope: envelope.clone(),
                system: system_id.to_owned(),
                delivered,
                base,
                at: Instant::now(),
            },
        );
        if delivered >= i64::from(self.settings.max_deliveries) {
            self.expire_last_attempt(message_id, delivered);
        }
        Some(envelope)
    }

    /// After the last attempt's ack_wait, gives up on a message still
    /// unacknowledged: JetStream will not offer it again, so it is NOT_DELIVERED.
    fn expire_last_attempt(self: &Arc<Self>, message_id: String, delivered: i64) {
        let channel = self.clone();
        self.spawn_until_stopped(async move {
            tokio::time::sleep(channel.settings.ack_wait).await;
            let expired = {
                let mut fetched = lock(&channel.fetched);
                match fetched.get(&message_id) {
                    Some(entry) if entry.delivered == delivered => fetched.remove(&message_id),
                    _ => None,
                }
            };
            if let Some(entry) = expired {
                settle(&entry.message, AckKind::Term).await;
                let attempts = u32::try_from(delivered).unwrap_or(u32::MAX);
                channel
                    .not_delivered(
                        &entry.base,
                        &entry.envelope,
                        attempts,
                        StatusCode::TargetTimeout,
                        &format!("not acknowledged after {attempts} deliveries"),
                    )
                    .await;
            }
        });
    }

    /// Forgets fetches whose ack_wait passed twice: JetStream has offered
    /// them again (a newer fetch replaced the entry) or given up on them.
    fn forget_stale_fetches(&self) {
        let horizon = self.settings.ack_wait.saturating_mul(2);
        lock(&self.fetched).retain(|_, entry| entry.at.elapsed() < horizon);
    }

    /// Confirms that `system_id` processed these fetched messages: each becomes
    /// DELIVERED and is not offered again. Ids that fail are named in the refusal.
    pub async fn acknowledge(
        &self,
        system_id: &str,
        message_ids: &[String],
    ) -> Result<(), Refusal> {
        if self
            .gateway
            .registry()
            .current()
            .system(system_id)
            .is_none()
        {
            return Err(Refusal::new(
                StatusCode::AccessDenied,
                format!("system {system_id:?} is not in the registry"),
            ));
        }
        // Collected first: a closure over borrowed ids inside the stream
        // trips the compiler's Send check of the gRPC future.
        let settling: Vec<_> = message_ids
            .iter()
            .map(|message_id| self.acknowledge_one(system_id, message_id))
            .collect();
        let failures: Vec<Refusal> = futures::stream::iter(settling)
            .buffered(ACK_CONCURRENCY)
            .filter_map(|outcome| std::future::ready(outcome.err()))
            .collect()
            .await;
        match failures.first() {
            None => Ok(()),
            Some(first) => Err(Refusal::new(
                first.code,
                failures
                    .iter()
                    .map(|refusal| refusal.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }

    pub(super) async fn acknowledge_one(
        &self,
        system_id: &str,
        message_id: &str,
    ) -> Result<(), Refusal> {
        let taken = {
            let mut fetched = lock(&self.fetched);
            match fetched.get(message_id) {
                Some(entry) if entry.system == system_id => fetched.remove(message_id),
                Some(_) => {
                    return Err(Refusal::new(
                        StatusCode::AccessDenied,
                        format!("message {message_id} was not fetched by system {system_id}"),
                    ));
                }
                None => None,
            }
        };
        let Some(entry) = taken else {
            return self.acknowledge_unfetched(system_id, message_id).await;
        };
        let attempts = u32::try_from(entry.delivered).unwrap_or(u32::MAX);
        // The state is written first: if the JetStream ack is lost, the copy
        // offered again finds DELIVERED and is terminated, never handed twice.
        if let Err(err) = self.delivered(&entry.base, &entry.envelope, attempts).await {
            lock(&self.fetched).insert(message_id.to_owned(), entry);
            return Err(err.into());
        }
        // A plain ack, not a confirmed one: if it is lost, the copy offered
        // again finds DELIVERED and is terminated.
        if let Err(err) = entry.message.ack().await {
            tracing::warn!(message_id, error = %err, "JetStream ack of a delivered message failed");
        }
        Ok(())
    }

    /// Answers an acknowledgement of a message not waiting here: a repeat
    /// for a final message is accepted, anything else refused.
    async fn acknowledge_unfetched(
        &self,
        system_id: &str,
        message_id: &str,
    ) -> Result<(), Refusal> {
        if !names::is_valid_message_id(message_id) {
            return Err(unknown_message(message_id));
        }
        match self.states.get(message_id).await? {
            None => Err(unknown_message(message_id)),
            Some(record) if record.receiver != system_id => Err(Refusal::new(
                StatusCode::AccessDenied,
                format!("message {message_id} is not addressed to system {system_id}"),
            )),
            Some(record) if record.state.is_final() => Ok(()),
            // Fetched through another replica, perhaps: the one that handed it over settles it.
            Some(_) => match self.relay_acknowledgement(system_id, message_id).await {
                Some(settled) => settled,
                None => Err(Refusal::new(
                    StatusCode::UnknownMessage,
                    format!(
                        "message {message_id} awaits no acknowledgement: no gateway replica handed it over, or its fetch expired; fetch it again"
                    ),
                )),
            },
        }
    }

    /// Checks that a control call comes from a registered system and returns
    /// that system's id. The proof is a verified NOTIFICATION for this call's
    /// `service_id`, sent by the system (by `claimed`, when the request names
    /// one), signed with its registered BIN, made within the proof's age of the
    /// gateway's clock, and, when `request` is given, carrying exactly the
    /// request's bytes as its body, so it proves this call and no other.
    pub(crate) async fn prove_caller(
        &self,
        claimed: Option<&str>,
        proof: Option<&Envelope>,
        service_id: &str,
        request: Option<&[u8]>,
    ) -> Result<String, Refusal> {
        let call = service_id.rsplit('.').next().unwrap_or(service_id);
        let proof = proof.ok_or_else(|| {
            Refusal::new(
                StatusCode::SignatureMissing,
                format!(
                    "{call} call carries no signed proof of its calling system (metadata {})",
                    egov_system::caller::CALLER_PROOF_METADATA
                ),
            )
        })?;
        let now = self.gateway.clock().now();
        let verified = self
            .gateway
            .verifier()
            .verify_at(proof, &VerifyPolicy::any(), now)
            .await
            .map_err(|err| Refusal::new(err.status(), format!("{call} proof: {err}")))?;
        let header = &verified.header;
        if header.message_type != MessageType::Notification as i32 {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "{call} proof has message_type {}, expected NOTIFICATION",
                    header.message_type
                ),
            ));
        }
        if header.service_id != service_id {
            return Err(Refusal::new(
                StatusCode::AccessDenied,
                format!(
                    "{call} proof was made for {:?}, not {service_id}",
                    header.service_id
                ),
            ));
        }
        let system_id = header.sender_system_id.as_str();
        if let Some(claimed) = claimed
            && claimed != system_id
        {
            return Err(Refusal::new(
                StatusCode::AccessDenied,
                format!("{call} proof is sent by system {system_id:?}, not {claimed:?}"),
            ));
        }
        let registry = self.gateway.registry().current();
        let system = registry.system(system_id).ok_or_else(|| {
            Refusal::new(
                StatusCode::AccessDenied,
                format!("system {system_id:?} is not in the registry"),
            )
        })?;
        if !verified.signed_by_bin(&system.bin) {
            return Err(Refusal::new(
                StatusCode::IinMismatch,
                format!(
                    "{call} proof carries no signature with BIN {} of system {system_id}",
                    system.bin
                ),
            ));
        }
        let skew = (now - verified.message_time).abs();
        if skew > self.settings.proof_max_age {
            return Err(Refusal::new(
                StatusCode::MessageTimeOutOfWindow,
                format!(
                    "{call} proof was made {} s from the gateway's time; at most {} s is accepted",
                    skew.whole_seconds(),
                    self.settings.proof_max_age.as_secs()
                ),
            ));
        }
        if let Some(request) = request
            && proof.payload != request
        {
            return Err(Refusal::new(
                StatusCode::InvalidSignature,
                format!("{call} proof signs another request than this one"),
            ));
        }
        Ok(system_id.to_owned())
    }
}
