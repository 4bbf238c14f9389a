//! Fault injection at run time: the faults an operator set (see `egov_faults`) and where the
//! gateway applies them.
//!
//! - Sync exchanges (`Gateway::forward_with_faults`): added latency (within the route's
//!   timeout, so a long one ends in the timeout code), an error answer, a timeout, the target
//!   down (as if its endpoint refused the connection).
//! - Async deliveries, push and pull: added latency, the receiver down, deliveries dropped
//!   (offered again later, as after a lost delivery) or duplicated.
//! - Certificate checks: the sender's certificate (at admission) or the target's (on its
//!   answer) treated as revoked.
//!
//! Every fault applied is logged (`injected fault`, with its id) and its hop in the message
//! log says `injected fault <id>`.
//!
//! The table lives in process; when the gateway has NATS it is shared through the JetStream
//! key-value bucket [`FAULT_BUCKET`], so every replica applies the same faults and a fault's
//! limit ("the next N messages") counts across replicas (compare-and-set on its entry).
//! The admin API is in [`admin`].

pub mod admin;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use egov_core::StatusCode;
use egov_core::envelope::RevocationSource;
use egov_proto::v1::{Envelope, Header};
use futures::StreamExt;
use prost::Message;

pub use egov_faults::{Fault, FaultError, FaultKind, Latency, Party};

use crate::exchange::{ChannelKind, Gateway, Refusal, timeout_refusal};
use crate::message_log::Direction;
use crate::registry::ServiceRoute;

/// The JetStream key-value bucket that shares the fault table between replicas (fault id →
/// the fault as JSON, its `limit` the messages it still hits).
pub const FAULT_BUCKET: &str = "EGOV_FAULTS";

/// Compare-and-set attempts to spend one use of a limited fault before giving up on it.
const SPEND_ATTEMPTS: u32 = 8;

/// Why the fault table refused a change.
#[derive(Debug, thiserror::Error)]
pub enum FaultTableError {
    /// A fault with this id is already set.
    #[error("a fault with id {0} is already set")]
    Exists(String),
    /// The fault is not valid: the field named and why.
    #[error(transparent)]
    Invalid(#[from] FaultError),
    /// The shared bucket could not be written.
    #[error("the shared fault table is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Debug, Default)]
struct Table {
    faults: Vec<Fault>,
    // The last bucket revision applied per fault id, deletions included, so a late watch
    // entry never undoes a newer change.
    revisions: HashMap<String, u64>,
}

/// The faults in force: in process, shared over NATS once [`FaultTable::share`] succeeded.
#[derive(Debug, Default)]
pub struct FaultTable {
    table: RwLock<Table>,
    // Faults in force, read without the lock on every message.
    count: AtomicUsize,
    shared: OnceLock<kv::Store>,
    watcher: OnceLock<tokio::task::JoinHandle<()>>,
}

impl Drop for FaultTable {
    fn drop(&mut self) {
        if let Some(watcher) = self.watcher.get() {
            watcher.abort();
        }
    }
}

impl FaultTable {
    /// Returns whether the table is shared through NATS.
    pub fn is_shared(&self) -> bool {
        self.shared.get().is_some()
    }

    /// Returns the faults in force, oldest first.
    pub fn list(&self) -> Vec<Fault> {
        self.read().faults.clone()
    }

    /// Returns one fault.
    pub fn get(&self, id: &str) -> Option<Fault> {
        self.read().faults.iter().find(|f| f.id == id).cloned()
    }

    /// Sets a fault (checked first; given an id when it has none) and returns it as set.
    pub async fn add(&self, mut fault: Fault) -> Result<Fault, FaultTableError> {
        fault.check()?;
        if fault.id.is_empty() {
            fault.id = egov_faults::new_id();
        }
        if self.get(&fault.id).is_some() {
            return Err(FaultTableError::Exists(fault.id));
        }
        let revision = match self.shared.get() {
            Some(kv) => match kv.create(&fault.id, encode(&fault)).await {
                Ok(revision) => Some(revision),
                Err(err) if err.kind() == kv::CreateErrorKind::AlreadyExists => {
                    return Err(FaultTableError::Exists(fault.id));
                }
                Err(err) => return Err(FaultTableError::Unavailable(err.to_string())),
            },
            None => None,
        };
        self.apply(&fault.id, Some(fault.clone()), revision);
        tracing::info!(fault_id = %fault.id, target = %fault.target(), kind = %fault.kind, limit = ?fault.limit, probability = ?fault.probability, "fault set");
        Ok(fault)
    }

    /// Clears one fault; returns whether it was set.
    pub async fn remove(&self, id: &str) -> Result<bool, FaultTableError> {
        let mut known = self.get(id).is_some();
        if let Some(kv) = self.shared.get() {
            let present = kv
                .entry(id)
                .await
                .map_err(|err| FaultTableError::Unavailable(err.to_string()))?
                .is_some_and(|entry| entry.operation == kv::Operation::Put);
            if !present && !known {
                return Ok(false);
            }
            kv.delete(id)
                .await
                .map_err(|err| FaultTableError::Unavailable(err.to_string()))?;
            known |= present;
        }
        self.apply(id, None, None);
        if known {
            tracing::info!(fault_id = id, "fault cleared");
        }
        Ok(known)
    }

    /// Clears every fault; returns how many were set.
    pub async fn clear(&self) -> Result<usize, FaultTableError> {
        let mut cleared = 0;
        for fault in self.list() {
            if self.remove(&fault.id).await? {
                cleared += 1;
            }
        }
        Ok(cleared)
    }

    /// Returns the first fault in force that `wanted` accepts and that hits a message to
    /// `system` on `service` (its probability rolled, one use of its limit spent), and logs
    /// it as injected.
    pub async fn take(
        &self,
        system: &str,
        service: &str,
        wanted: impl Fn(&FaultKind) -> bool,
    ) -> Option<Fault> {
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let candidates: Vec<Fault> = self
            .read()
            .faults
            .iter()
            .filter(|fault| wanted(&fault.kind) && fault.matches(system, service))
            .cloned()
            .collect();
        for fault in candidates {
            if !fault.hits(egov_faults::roll()) {
                continue;
            }
            if fault.limit.is_some() && !self.spend(&fault.id).await {
                continue;
            }
            tracing::warn!(fault_id = %fault.id, kind = %fault.kind, system, service, "injected fault");
            metrics::counter!("gateway_faults_injected_total", "kind" => kind_label(&fault.kind))
                .increment(1);
            return Some(fault);
        }
        None
    }

    /// Spends one use of a limited fault; false when it is spent already.
    async fn spend(&self, id: &str) -> bool {
        let Some(kv) = self.shared.get() else {
            let mut table = self.write();
            let Some(index) = table.faults.iter().position(|f| f.id == id) else {
                return false;
            };
            match table.faults[index].limit {
                Some(left) if left > 1 => table.faults[index].limit = Some(left - 1),
                Some(1) => {
                    table.faults.remove(index);
                    self.count.store(table.faults.len(), Ordering::Relaxed);
                    tracing::info!(fault_id = id, "fault spent");
                }
                _ => return false,
            }
            return true;
        };
        for _ in 0..SPEND_ATTEMPTS {
            let entry = match kv.entry(id).await {
                Ok(Some(entry)) if entry.operation == kv::Operation::Put => entry,
                Ok(_) => {
                    self.apply(id, None, None);
                    return false;
                }
                Err(err) => {
                    tracing::warn!(fault_id = id, error = %err, "shared fault table unreadable; fault not applied");
                    return false;
                }
            };
            let Ok(mut fault) = serde_json::from_slice::<Fault>(&entry.value) else {
                return false;
            };
            let spent = match fault.limit {
                Some(left) if left > 1 => {
                    fault.limit = Some(left - 1);
                    kv.update(id, encode(&fault), entry.revision)
                        .await
                        .map(|revision| self.apply(id, Some(fault.clone()), Some(revision)))
                        .is_ok()
                }
                Some(_) => {
                    let deleted = kv
                        .delete_expect_revision(id, Some(entry.revision))
                        .await
                        .is_ok();
                    if deleted {
                        self.apply(id, None, None);
                        tracing::info!(fault_id = id, "fault spent");
                    }
                    deleted
                }
                None => true,
            };
            if spent {
                return true;
            }
        }
        false
    }

    /// Shares the table through the bucket [`FAULT_BUCKET`] (created when missing): faults
    /// already there are taken in, later changes by any replica follow.
    pub async fn share(
        self: &Arc<Self>,
        jetstream: &jetstream::Context,
        replicas: usize,
    ) -> Result<(), async_nats::Error> {
        let kv = jetstream
            .create_or_update_key_value(kv::Config {
                bucket: FAULT_BUCKET.to_owned(),
                description: "faults injected at run time, by fault id".into(),
                history: 1,
                storage: jetstream::stream::StorageType::File,
                num_replicas: replicas.max(1),
                ..Default::default()
            })
            .await?;
        let mut watch = kv.watch_with_history(">").await?;
        // Faults set in process before sharing join the bucket.
        for fault in self.list() {
            if let Err(err) = kv.create(&fault.id, encode(&fault)).await
                && err.kind() != kv::CreateErrorKind::AlreadyExists
            {
                return Err(err.into());
            }
        }
        let table: Weak<FaultTable> = Arc::downgrade(self);
        let watcher = tokio::spawn(async move {
            while let Some(entry) = watch.next().await {
                let Some(table) = table.upgrade() else {
                    return;
                };
                match entry {
                    Ok(entry) => table.follow(&entry),
                    Err(err) => {
                        tracing::warn!(error = %err, "shared fault table watch failed");
                    }
                }
            }
            tracing::warn!("shared fault table watch ended; faults set elsewhere are not seen");
        });
        let _ = self.watcher.set(watcher);
        let _ = self.shared.set(kv);
        tracing::info!(bucket = FAULT_BUCKET, "fault table shared over NATS");
        Ok(())
    }

    /// Applies one change another replica (or this one) made to the bucket.
    fn follow(&self, entry: &kv::Entry) {
        let fault = match entry.operation {
            kv::Operation::Put => match serde_json::from_slice::<Fault>(&entry.value) {
                Ok(fault) => Some(fault),
                Err(err) => {
                    tracing::warn!(fault_id = %entry.key, error = %err, "unreadable fault in the shared table ignored");
                    return;
                }
            },
            kv::Operation::Delete | kv::Operation::Purge => None,
        };
        self.apply(&entry.key, fault, Some(entry.revision));
    }

    /// Sets (`Some`) or removes (`None`) a fault locally, unless a newer revision was applied.
    fn apply(&self, id: &str, fault: Option<Fault>, revision: Option<u64>) {
        let mut table = self.write();
        if let Some(revision) = revision {
            if table
                .revisions
                .get(id)
                .is_some_and(|seen| *seen >= revision)
            {
                return;
            }
            table.revisions.insert(id.to_owned(), revision);
        }
        let index = table.faults.iter().position(|f| f.id == id);
        match (index, fault) {
            (Some(index), Some(fault)) => table.faults[index] = fault,
            (None, Some(fault)) => table.faults.push(fault),
            (Some(index), None) => {
                table.faults.remove(index);
            }
            (None, None) => {}
        }
        self.count.store(table.faults.len(), Ordering::Relaxed);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn encode(fault: &Fault) -> bytes::Bytes {
    serde_json::to_vec(fault).unwrap_or_default().into()
}

fn kind_label(kind: &FaultKind) -> &'static str {
    match kind {
        FaultKind::Latency(_) => "latency",
        FaultKind::Error { .. } => "error",
        FaultKind::Timeout => "timeout",
        FaultKind::Down => "down",
        FaultKind::DropDeliveries => "drop_deliveries",
        FaultKind::DuplicateDeliveries => "duplicate_deliveries",
        FaultKind::RevokeCertificate(_) => "revoke_certificate",
    }
}

/// Returns `reason` marked with the fault that caused it: `… (injected fault <id>)`.
pub fn injected(reason: &str, fault: &Fault) -> String {
    format!("{reason} (injected fault {})", fault.id)
}

/// What an async delivery fault does to one delivery.
#[derive(Debug, Clone)]
pub(crate) enum DeliveryEffect {
    /// Deliver after this delay.
    Delay(Duration, String),
    /// Do not deliver: a failed attempt with this code and reason (offered again later).
    Fail(StatusCode, String),
    /// Deliver twice.
    Twice(String),
}

impl<R: RevocationSource> Gateway<R> {
    /// Forwards an admitted request to its route's target with any sync fault on the route
    /// applied; returns the outcome and, when a fault changed it, the note for its hop.
    pub(crate) async fn forward_with_faults(
        &self,
        route: &ServiceRoute,
        envelope: Envelope,
    ) -> (Result<Envelope, Refusal>, String) {
        let Some(fault) = self
            .faults()
            .take(
                &route.target,
                &route.service_id,
                FaultKind::acts_on_exchanges,
            )
            .await
        else {
            return (self.forward(route, envelope).await, String::new());
        };
        match &fault.kind {
            FaultKind::Latency(latency) => {
                let delay = latency.sample(egov_faults::roll);
                let note = injected(&format!("latency {} ms", delay.as_millis()), &fault);
                let delayed = async {
                    tokio::time::sleep(delay).await;
                    self.forward(route, envelope).await
                };
                match tokio::time::timeout(route.timeout, delayed).await {
                    Ok(outcome) => (outcome, note),
                    Err(_) => {
                        let refusal = timeout_refusal(route);
                        let message = format!("{}; {note}", refusal.message);
                        (Err(Refusal::new(refusal.code, message)), note)
                    }
                }
            }
            FaultKind::Error { code, message } => {
                let reason = if message.is_empty() {
                    format!("target {} answered {code}", route.target)
                } else {
                    message.clone()
                };
                let note = injected(&reason, &fault);
                (Err(Refusal::new(*code, note.clone())), note)
            }
            FaultKind::Timeout => {
                tokio::time::sleep(route.timeout).await;
                let refusal = timeout_refusal(route);
                let note = injected(&refusal.message, &fault);
                (Err(Refusal::new(refusal.code, note.clone())), note)
            }
            _ => {
                let note = injected(
                    &format!("target {} refused the connection", route.target),
                    &fault,
                );
                (
                    Err(Refusal::new(StatusCode::TargetUnavailable, note.clone())),
                    note,
                )
            }
        }
    }

    /// Refuses a certificate an operator's fault treats as revoked: the sender's (`Party::Sender`)
    /// or the target's (`Party::Target`) on this route.
    pub(crate) async fn check_injected_revocation(
        &self,
        route: &ServiceRoute,
        party: Party,
        system: &str,
    ) -> Result<(), Refusal> {
        let revoked = |kind: &FaultKind| *kind == FaultKind::RevokeCertificate(party);
        match self
            .faults()
            .take(&route.target, &route.service_id, revoked)
            .await
        {
            None => Ok(()),
            Some(fault) => Err(Refusal::new(
                StatusCode::CertificateRevoked,
                injected(
                    &format!("the certificate of {} {system} was revoked", party.as_str()),
                    &fault,
                ),
            )),
        }
    }

    /// Returns what a delivery fault on the receiver of `envelope` does to this delivery.
    pub(crate) async fn delivery_fault(&self, envelope: &Envelope) -> Option<DeliveryEffect> {
        if self.faults().count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let header = Header::decode(&envelope.header[..]).ok()?;
        let receiver = self
            .registry()
            .current()
            .route(&header.service_id)
            .map_or(header.receiver_system_id.clone(), |route| {
                route.target.clone()
            });
        let fault = self
            .faults()
            .take(&receiver, &header.service_id, FaultKind::acts_on_deliveries)
            .await?;
        let effect = match &fault.kind {
            FaultKind::Latency(latency) => {
                let delay = latency.sample(egov_faults::roll);
                DeliveryEffect::Delay(
                    delay,
                    injected(
                        &format!("delivery delayed {} ms", delay.as_millis()),
                        &fault,
                    ),
                )
            }
            FaultKind::DropDeliveries => DeliveryEffect::Fail(
                StatusCode::TargetTimeout,
                injected(&format!("delivery to {receiver} dropped"), &fault),
            ),
            FaultKind::DuplicateDeliveries => DeliveryEffect::Twice(injected(
                &format!("delivery to {receiver} duplicated"),
                &fault,
            )),
            _ => DeliveryEffect::Fail(
                StatusCode::TargetUnavailable,
                injected(&format!("{receiver} is down"), &fault),
            ),
        };
        self.log_injected_delivery(envelope, &header, &effect).await;
        Some(effect)
    }

    /// Logs the outbound hop of a delivery a fault changed, its message naming the fault.
    async fn log_injected_delivery(
        &self,
        envelope: &Envelope,
        header: &Header,
        effect: &DeliveryEffect,
    ) {
        let Some(route) = self.registry().current().route(&header.service_id).cloned() else {
            return;
        };
        let (code, note) = match effect {
            DeliveryEffect::Delay(_, note) | DeliveryEffect::Twice(note) => {
                (StatusCode::Success, note)
            }
            DeliveryEffect::Fail(code, note) => (*code, note),
        };
        let logged = self.logged(envelope);
        self.log_hop(
            &logged,
            header,
            Direction::Outbound,
            ChannelKind::Async,
            &route,
            code,
            note,
            self.clock().now(),
            0,
        )
        .await;
    }
}
