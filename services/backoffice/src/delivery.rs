//! The delivery worker: sends the outbox through the gateway. A result is signed by the
//! head of the organisation that decided it and countersigned by the back office's seal; a status by the seal alone. A result the
//! gateway refuses (no route, target down) stays pending and is retried with a doubling wait
//! on the stack's clock, so nothing is lost; a cabinet notification with no route is dropped.

use std::sync::Arc;
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::clock::{Clock, Hold};
use egov_core::envelope::party_iin;
use egov_proto::v1::{Envelope, Header, ServiceResult};
use egov_system::caller::accepted;
use egov_system::{GatewayCaller, SystemIdentity};
use prost::Message as _;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tracing::Instrument as _;

use crate::BackOfficeError;
use crate::head::Heads;
use crate::messages::FIELD_SERVICE_CODE;
use crate::store::{DeliveryRecord, KIND_RESULT, Store};

/// How the delivery worker retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The wait before the first retry.
    pub initial: Duration,
    /// The longest wait; the wait doubles up to it.
    pub max: Duration,
}

impl Retry {
    /// Returns the wait after `attempts` failed attempts (1 → `initial`).
    pub fn wait(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.initial
            .checked_mul(1 << doublings)
            .map_or(self.max, |wait| wait.min(self.max))
    }
}

/// The signal the workflow raises after writing messages to the outbox. Raising it takes a
/// hold on the clock that the outbox's next round keeps until it has sent: on the stack clock
/// the authority cannot move on in the moment between the step that wrote the messages
/// (holding the clock itself) and the round that sends them.
#[derive(Clone)]
pub struct Wake {
    notify: Arc<Notify>,
    // A std Mutex: held only to push or take, never across an await.
    held: Arc<std::sync::Mutex<Vec<Hold>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wake").finish_non_exhaustive()
    }
}

impl Wake {
    /// A signal whose holds count on `clock`'s workload.
    pub fn new(clock: Arc<dyn Clock>) -> Wake {
        Wake {
            notify: Arc::new(Notify::new()),
            held: Arc::default(),
            clock,
        }
    }

    /// Raises it: the clock is held from now until the outbox's next round has sent.
    pub fn raise(&self) {
        self.holds().push(self.clock.hold());
        self.notify.notify_one();
    }

    /// Waits until it is raised; returns the holds taken since the last wait.
    async fn raised(&self) -> Vec<Hold> {
        self.notify.notified().await;
        std::mem::take(&mut *self.holds())
    }

    fn holds(&self) -> std::sync::MutexGuard<'_, Vec<Hold>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Sends the outbox's messages through the gateway.
pub struct Outbox {
    store: Store,
    identity: Arc<SystemIdentity>,
    heads: Arc<Heads>,
    caller: GatewayCaller,
    clock: Arc<dyn Clock>,
    wake: Wake,
    retry: Retry,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("system_id", &self.identity.system_id)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Outcome {
    Delivered,
    Retry(String),
    Drop(String),
}

impl Outbox {
    /// Creates the worker; `wake` is the signal the workflow raises after writing messages.
    pub fn new(
        store: Store,
        identity: Arc<SystemIdentity>,
        heads: Arc<Heads>,
        caller: GatewayCaller,
        clock: Arc<dyn Clock>,
        wake: Wake,
        retry: Retry,
    ) -> Outbox {
        Outbox {
            store,
            identity,
            heads,
            caller,
            clock,
            wake,
            retry,
        }
    }

    /// Sends until `stop` turns true: every due message at once, then waits for new ones or
    /// for the next retry's time on the clock.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut work: Vec<Hold> = Vec::new();
        loop {
            if *stop.borrow() {
                return;
            }
            let next = match self.deliver_due().await {
                Ok(next) => next,
                Err(error) => {
                    tracing::error!(error = %error, source = ?std::error::Error::source(&error), "delivery round failed");
                    OffsetDateTime::checked_add(
                        self.clock.now(),
                        time::Duration::try_from(self.retry.initial)
                            .unwrap_or(time::Duration::SECOND),
                    )
                }
            };
            let wait = match next {
                Some(at) => self.clock.sleep_until_held(at),
                None => Box::pin(std::future::pending()),
            };
            // The round's work is done: idle while waiting.
            work.clear();
            // A wake-up's holds (taken when it was raised) or a due retry's keep the clock
            // until the round has sent, so on the stack clock the authority does not move on
            // before the messages are out.
            work = tokio::select! {
                holds = self.wake.raised() => holds,
                held = wait => vec![held],
                _ = stop.changed() => return,
            };
        }
    }

    /// Attempts every pending message whose time has come; returns when the earliest
    /// remaining one is due, if any.
    pub async fn deliver_due(&self) -> Result<Option<OffsetDateTime>, BackOfficeError> {
        let now = self.clock.now();
        let mut next: Option<OffsetDateTime> = None;
        let mut later =
            |at: OffsetDateTime| next = Some(next.map_or(at, |n: OffsetDateTime| n.min(at)));
        for delivery in self.store.pending_deliveries().await? {
            if delivery.next_attempt_at > now {
                later(delivery.next_attempt_at);
                continue;
            }
            // Each send continues the trace of the request that opened the case.
            let traceparent = self
                .store
                .case_traceparent(&delivery.case_id)
                .await
                .unwrap_or_default();
            let span = tracing::info_span!(
                "backoffice.deliver",
                egov.service = %self.identity.system_id,
                service_id = %delivery.service_id,
                case_id = %delivery.case_id,
            );
            egov_bus::trace_context::adopt(
                &span,
                egov_bus::trace_context::from_traceparent(&traceparent),
            );
            let outcome = self.attempt(&delivery).instrument(span).await;
            let name = match &outcome {
                Outcome::Delivered => "delivered",
                Outcome::Drop(_) => "dropped",
                Outcome::Retry(_) => "retry",
            };
            metrics::counter!(
                "backoffice_delivery_attempts_total",
                "kind" => delivery.kind.clone(),
                "outcome" => name
            )
            .increment(1);
            match outcome {
                Outcome::Delivered => {
                    self.store
                        .mark_delivered(&delivery, self.clock.now())
                        .await?;
                    tracing::debug!(
                        id = delivery.id,
                        service = %delivery.service_id,
                        case = %delivery.case_id,
                        "delivered"
                    );
                }
                Outcome::Drop(error) => {
                    self.store.mark_dropped(delivery.id, &error).await?;
                }
                Outcome::Retry(error) => {
                    let attempts =
                        u32::try_from(delivery.attempts.saturating_add(1)).unwrap_or(u32::MAX);
                    let wait = time::Duration::try_from(self.retry.wait(attempts))
                        .unwrap_or(time::Duration::SECOND);
                    let at = self.clock.now().checked_add(wait).unwrap_or(now);
                    if attempts == 1 {
                        tracing::warn!(
                            service = %delivery.service_id,
                            case = %delivery.case_id,
                            error = %error,
                            retry_at = %at,
                            "result not delivered; kept pending and retried"
                        );
                    } else {
                        tracing::debug!(service = %delivery.service_id, attempts, error = %error, "retry failed");
                    }
                    self.store.mark_retry(delivery.id, at, &error).await?;
                    later(at);
                }
            }
        }
        Ok(next)
    }

    /// Signs and sends one message, and says what to do with it.
    async fn attempt(&self, delivery: &DeliveryRecord) -> Outcome {
        let envelope = match self.envelope(delivery) {
            Ok(envelope) => envelope,
            // Signing fails only on a broken key: retrying keeps the message for an operator.
            Err(error) => return Outcome::Retry(format!("signing: {error}")),
        };
        let error = match self
            .caller
            .send(envelope)
            .await
            .and_then(|answer| accepted(&answer).map(drop))
        {
            Ok(()) => return Outcome::Delivered,
            Err(error) => error,
        };
        if delivery.required {
            return Outcome::Retry(error.to_string());
        }
        match error.code() {
            // The cabinet (the portal) is a later issue: no route is normal, not a fault.
            StatusCode::UnknownService => {
                tracing::debug!(service = %delivery.service_id, case = %delivery.case_id, "no route to the cabinet; notification dropped");
                Outcome::Drop(error.to_string())
            }
            StatusCode::TargetUnavailable | StatusCode::TargetTimeout => {
                Outcome::Retry(error.to_string())
            }
            _ => {
                tracing::warn!(service = %delivery.service_id, case = %delivery.case_id, error = %error, "notification refused; dropped");
                Outcome::Drop(error.to_string())
            }
        }
    }

    /// Builds the signed envelope of a message, with a fresh header per attempt (the
    /// gateway refuses a message id it has seen, even on a refused attempt).
    fn envelope(&self, delivery: &DeliveryRecord) -> Result<Envelope, String> {
        let mut header: Header = self
            .caller
            .header::<ServiceResult>(&delivery.service_id, &delivery.receiver_system_id);
        if !delivery.recipient_iin.is_empty() {
            header.represented_party = Some(party_iin(&delivery.recipient_iin));
        }
        if delivery.kind == KIND_RESULT {
            // The head of the organisation that decided the case authors the result (the
            // service code is the one the workflow wrote into it); the system countersigns
            // as the sender.
            let service_code = ServiceResult::decode(&delivery.payload[..])
                .map_err(|error| format!("the result of case {}: {error}", delivery.case_id))?
                .fields
                .get(FIELD_SERVICE_CODE)
                .cloned()
                .unwrap_or_default();
            let mut envelope = self
                .heads
                .author(&service_code, header, delivery.payload.clone())
                .map_err(|error| error.to_string())?;
            self.identity
                .signer
                .countersign(&mut envelope)
                .map_err(|error| error.to_string())?;
            Ok(envelope)
        } else {
            self.identity
                .signer
                .seal(&header, delivery.payload.clone())
                .map_err(|error| error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_wait_doubles_up_to_the_maximum() {
        let retry = Retry {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (1..=6).map(|n| retry.wait(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(retry.wait(u32::MAX).as_secs(), 60);
    }
}
