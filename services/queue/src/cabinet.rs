//! Referrals (жолдама) that reach the citizen later than the placement: when a place frees
//! (`POST /places`, or a refused child leaves the queue) the register refers the next child,
//! and the referral goes to the cabinet of the recipient or representative as an electronic
//! document signed with the register's seal (FLOWS.md, service D: «a reply (a referral) … is
//! sent to the cabinet»). The store notes each such referral in the same transaction that
//! issues it; this task hands them to the portal through the gateway and retries until the
//! portal accepts, so none is lost while the portal, its route or the gateway is down.

use std::sync::Arc;
use std::time::Duration;

use egov_core::clock::Clock;
use egov_core::envelope::{party_iin, to_timestamp};
use egov_core::systems;
use egov_proto::v1::{ResultKind, ServiceResult};
pub use egov_system::cabinet::{
    CABINET_NOTIFY_SERVICE_ID, FIELD_RECIPIENT_IIN, FIELD_SERVICE_CODE, FIELD_STATUS,
};
use egov_system::caller::accepted;
use egov_system::{CallError, GatewayCaller};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::QueueError;
use crate::entry::{
    Entry, FIELD_AGE_GROUP, FIELD_DISTRICT, FIELD_KINDERGARTEN_BIN, FIELD_QUEUE_DECISION,
    FIELD_REFERRAL_NUMBER, SERVICE_CODE, age_group_name,
};
use crate::store::Store;

/// Status of a referral issued after the placement.
pub const STATUS_REFERRAL_ISSUED: &str = "referral_issued";
/// Field: the child the referral is for.
pub const FIELD_CHILD_IIN: &str = "child_iin";

/// How many pending referrals one round hands over.
const BATCH: u32 = 64;
/// First and longest pause after a round that left referrals undelivered.
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(300);

/// Hands late referrals to the citizen's cabinet; [`CabinetNotices::wake`] after issuing one.
#[derive(Debug, Clone)]
pub struct CabinetNotices {
    store: Store,
    caller: GatewayCaller,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
}

impl CabinetNotices {
    /// Creates the sender over the register's store, calling through the gateway.
    pub fn new(store: Store, caller: GatewayCaller, clock: Arc<dyn Clock>) -> CabinetNotices {
        CabinetNotices {
            store,
            caller,
            clock,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Says that referrals were issued: the task sends them now instead of at its next retry.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs the sender until `stop` turns true: a round at start (referrals left by an earlier
    /// run), then after each wake, and while some fail, with a growing pause.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut pause = RETRY_MIN;
            loop {
                let wait = match self.deliver_pending().await {
                    Ok(true) => {
                        pause = RETRY_MIN;
                        None
                    }
                    Ok(false) => {
                        let wait = pause;
                        pause = pause.saturating_mul(2).min(RETRY_MAX);
                        Some(wait)
                    }
                    Err(error) => {
                        tracing::warn!(%error, "pending referrals could not be read; retrying");
                        Some(RETRY_MAX.min(pause.saturating_mul(4)))
                    }
                };
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return,
                    () = self.wake.notified() => {}
                    () = sleep_or_forever(wait) => {}
                }
            }
        })
    }

    /// Sends every pending referral once; true when none is left pending.
    pub async fn deliver_pending(&self) -> Result<bool, QueueError> {
        let pending = self.store.pending_cabinet_notices(BATCH).await?;
        let mut all_delivered = true;
        for (entry, attempts) in pending {
            match self.send(&entry).await {
                Ok(()) => {
                    self.store
                        .cabinet_notice_delivered(&entry.registration_number, self.clock.now())
                        .await?;
                    metrics::counter!("queue_cabinet_referrals_total").increment(1);
                    tracing::info!(registration = %entry.registration_number, "late referral handed to the cabinet");
                }
                Err(error) => {
                    all_delivered = false;
                    if attempts == 0 {
                        tracing::warn!(registration = %entry.registration_number, %error, "late referral not accepted by the cabinet; kept and retried");
                    } else {
                        tracing::debug!(registration = %entry.registration_number, attempts, %error, "late referral retry failed");
                    }
                    self.store
                        .cabinet_notice_failed(&entry.registration_number, &error.to_string())
                        .await?;
                }
            }
        }
        Ok(all_delivered)
    }

    /// Signs the referral with the register's seal and sends it to the cabinet.
    async fn send(&self, entry: &Entry) -> Result<(), CallError> {
        let document = referral_document(entry, self.clock.now());
        // A fresh header (and message id) per attempt: the gateway refuses a repeated id.
        let mut header = self
            .caller
            .header::<ServiceResult>(CABINET_NOTIFY_SERVICE_ID, systems::PORTAL.id);
        header.represented_party = Some(party_iin(&entry.recipient_iin));
        let envelope = self
            .caller
            .identity()
            .signer
            .seal_message(&header, &document)
            .map_err(|error| CallError::Decode(format!("signing the referral: {error}")))?;
        let answer = self.caller.send(envelope).await?;
        accepted(&answer).map(drop)
    }
}

/// The referral as the cabinet shows it: an `egov.v1.ServiceResult` of kind REFERRAL.
pub fn referral_document(entry: &Entry, now: time::OffsetDateTime) -> ServiceResult {
    let (number, kindergarten_bin, issued_at) = match &entry.referral {
        Some(referral) => (
            referral.number.clone(),
            referral.kindergarten_bin.clone(),
            referral.issued_at,
        ),
        None => (String::new(), entry.kindergarten_bin.clone(), now),
    };
    let fields = [
        (FIELD_STATUS, STATUS_REFERRAL_ISSUED.to_owned()),
        (FIELD_SERVICE_CODE, SERVICE_CODE.to_owned()),
        (FIELD_RECIPIENT_IIN, entry.recipient_iin.clone()),
        (FIELD_CHILD_IIN, entry.child_iin.clone()),
        (FIELD_QUEUE_DECISION, "referral".to_owned()),
        (FIELD_REFERRAL_NUMBER, number.clone()),
        (FIELD_KINDERGARTEN_BIN, kindergarten_bin.clone()),
        (FIELD_DISTRICT, entry.district.clone()),
        (FIELD_AGE_GROUP, age_group_name(entry.age_group).to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    ServiceResult {
        registration_number: entry.registration_number.clone(),
        kind: ResultKind::Referral as i32,
        refusal_ground: String::new(),
        text: format!(
            "Мектепке дейінгі ұйымға жолдама № {number} / Направление в дошкольную организацию № {number} (BIN {kindergarten_bin})"
        ),
        fields,
        decided_at: Some(to_timestamp(issued_at)),
        evidence: Vec::new(),
    }
}

/// Sleeps `wait`, or forever when there is nothing to retry.
async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
