//! Service D, placing a pre-school child (under 7) in the queue for a kindergarten
//! (мектепке дейінгі балаларды кезекке қою / постановка на очередь детей дошкольного
//! возраста): its service ids, its [`PROFILE`] for the shared intake, and [`QueueHandler`],
//! which answers them (FLOWS.md, service D).
//!
//! The register decides itself: a child is refused when 7 or over on the message date, already
//! queued, absent from the citizens-DB, or not the recipient's child or ward; otherwise it gets
//! a referral (жолдама) to a free place, or a notification of its position. The provider's
//! back office (service D has only the executor) still gets a case, with the register's
//! choice in `fields["queue_decision"]`, because its catalogue carries that step: the
//! executor's 30-minute step, and the signed result to the cabinet. A refusal it returns (an
//! incomplete item-9 package at the State Corporation) takes the child out of the queue.

use std::sync::Arc;

use egov_core::envelope::to_timestamp;
use egov_core::systems;
use egov_core::{Bin, Iin, StatusCode};
use egov_proto::v1::{
    GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse, ResultKind,
};
use egov_system::intake::{Intake, Profile, Term, age_on, local_date, may_read, parse_iin};
use egov_system::{Fault, Handler, Reply, Request};

use crate::QueueError;
use crate::cabinet::CabinetNotices;
use crate::entry::{Entry, EntryStatus, NewEntry, SCHOOL_AGE, age_group, age_group_name};
use crate::store::Store;

/// Service id that places a child (PlaceInQueueRequest → PlaceInQueueResponse).
pub const PLACE_SERVICE_ID: &str = "queue.place";

/// Service id of a child's current place (GetQueuePositionRequest → PlaceInQueueResponse).
pub const POSITION_SERVICE_ID: &str = "queue.position.get";

/// Service id that answers the provider's signed result (GetApplicationResultRequest →
/// ServiceResult, or EDAT001 while the executor's step runs).
pub const RESULT_SERVICE_ID: &str = "queue.application.result";

/// Service id the back office delivers the signed result to (ServiceResult → Status).
pub const DECIDED_SERVICE_ID: &str = "queue.application.decided";

/// Every service id the queue register answers through the gateway.
pub const SERVICE_IDS: [&str; 4] = [
    PLACE_SERVICE_ID,
    POSITION_SERVICE_ID,
    RESULT_SERVICE_ID,
    DECIDED_SERVICE_ID,
];

// Owned by `entry`, which `cabinet` reads them from too; named here as service D's.
pub use crate::entry::{
    FIELD_AGE_GROUP, FIELD_DISTRICT, FIELD_KINDERGARTEN_BIN, FIELD_QUEUE_DECISION,
    FIELD_QUEUE_POSITION, FIELD_REFERRAL_NUMBER, SERVICE_CODE,
};

/// Service D for the intake: numbers `DQ-YYYY-NNNNNN`, due after the executor's single step
/// («отыз минуттан аспайды», `002_…` item 6.2).
pub const PROFILE: Profile = Profile {
    system: systems::QUEUE,
    service_code: SERVICE_CODE,
    apply_service_id: PLACE_SERVICE_ID,
    result_service_id: RESULT_SERVICE_ID,
    decided_service_id: DECIDED_SERVICE_ID,
    number_prefix: "DQ",
    term: Term {
        minutes: 30,
        working_days: 0,
    },
    child_required: true,
};

/// Refuses on a ground of service D, counted by ground.
fn refuse(ground: &'static str, message: String) -> Fault {
    metrics::counter!("queue_refusals_total", "ground" => ground).increment(1);
    Fault::new(StatusCode::ServiceRefused, message)
}

/// Builds the register's answer for an entry (its position when waiting).
pub fn answer(entry: &Entry, position: u32) -> PlaceInQueueResponse {
    let (kind, referral_number, kindergarten_bin) = match &entry.referral {
        Some(referral) if entry.status == EntryStatus::Referred => (
            ResultKind::Referral,
            referral.number.clone(),
            referral.kindergarten_bin.clone(),
        ),
        _ => (
            ResultKind::Notification,
            String::new(),
            entry.kindergarten_bin.clone(),
        ),
    };
    PlaceInQueueResponse {
        kind: kind as i32,
        position: if kind == ResultKind::Notification {
            position
        } else {
            0
        },
        referral_number,
        kindergarten_bin,
        age_group: entry.age_group as i32,
        queued_at: Some(to_timestamp(entry.queued_at)),
    }
}

/// Answers the queue register's service ids through the gateway.
#[derive(Debug)]
pub struct QueueHandler {
    intake: Arc<Intake<Store>>,
    store: Store,
    notices: CabinetNotices,
}

impl QueueHandler {
    /// Creates the handler over the intake and the store; `notices` hands the referrals a
    /// withdrawal frees to the citizens' cabinets.
    pub fn new(intake: Arc<Intake<Store>>, notices: CabinetNotices) -> QueueHandler {
        let store = intake.store().clone();
        QueueHandler {
            intake,
            store,
            notices,
        }
    }

    /// Checks the place asked for: a district with kindergartens, and a kindergarten (if
    /// one is asked) of that district.
    async fn check_place(&self, district: &str, kindergarten_bin: &str) -> Result<(), Fault> {
        if district.is_empty() {
            return Err(Fault::invalid("district: must not be empty"));
        }
        if !self.store.has_district(district).await? {
            return Err(Fault::invalid(format!(
                "district: no kindergarten of district {district:?} is in the register"
            )));
        }
        if kindergarten_bin.is_empty() {
            return Ok(());
        }
        Bin::parse(kindergarten_bin)
            .map_err(|error| Fault::invalid(format!("kindergarten_bin: {error}")))?;
        let kindergarten = self
            .store
            .kindergarten(kindergarten_bin)
            .await?
            .ok_or_else(|| {
                Fault::from(QueueError::UnknownKindergarten {
                    bin: kindergarten_bin.to_owned(),
                })
            })?;
        if kindergarten.district != district {
            return Err(Fault::invalid(format!(
                "kindergarten_bin: {kindergarten_bin} ({}) is in district {}, not {district}",
                kindergarten.name, kindergarten.district
            )));
        }
        Ok(())
    }

    /// Places a child in the queue, or refuses with the reason.
    async fn place(&self, request: &Request) -> Result<PlaceInQueueResponse, Fault> {
        let asked: PlaceInQueueRequest = request.decode()?;
        if let Some(registration) = self.intake.registered_before(request).await? {
            return self
                .answer_again(&registration.registration_number, &registration.child_iin)
                .await;
        }
        let checked = self.intake.check(request, asked.application)?;
        let district = asked.district.trim();
        let kindergarten_bin = asked.kindergarten_bin.trim();
        self.check_place(district, kindergarten_bin).await?;
        let child: Iin = checked
            .child_iin
            .ok_or_else(|| Fault::invalid("application.child_iin: must not be empty"))?;
        let on = local_date(checked.message_time);
        let age = age_on(child.birth_date(), on);
        if age < 0 {
            return Err(Fault::invalid(format!(
                "application.child_iin: {child} is born after {on}"
            )));
        }
        let Some(group) = age_group(age) else {
            return Err(refuse(
                "school_age",
                format!(
                    "child {child} is {age} on {on}: only children under {SCHOOL_AGE} (pre-school age) are queued"
                ),
            ));
        };
        if let Some(entry) = self.store.active_entry(&child).await? {
            return Err(refuse(
                "already_queued",
                format!(
                    "child {child} is already in the queue under {} ({})",
                    entry.registration_number,
                    entry.status.as_str()
                ),
            ));
        }
        let admitted = self.intake.confirm(checked).await?;
        let recipient = admitted.recipient_iin;
        // The child's links also prove the child is in the citizens-DB (EDAT001 otherwise).
        if !self
            .intake
            .lookups()
            .is_parent_or_guardian(&child, &recipient)
            .await?
        {
            return Err(refuse(
                "not_parent_or_guardian",
                format!(
                    "recipient {recipient} is neither a parent nor a legal representative (guardian) of child {child} in the citizens-DB"
                ),
            ));
        }

        let now = self.intake.clock().now();
        let number = self
            .intake
            .allocate_number(PROFILE.number_prefix, now)
            .await?;
        let entry = self
            .store
            .place(
                &NewEntry {
                    child_iin: child.to_string(),
                    registration_number: number.clone(),
                    recipient_iin: recipient.to_string(),
                    representative_iin: admitted
                        .representative_iin
                        .map(|iin| iin.to_string())
                        .unwrap_or_default(),
                    district: district.to_owned(),
                    age_group: group,
                    kindergarten_bin: kindergarten_bin.to_owned(),
                },
                now,
            )
            .await?;
        let answer = self.current_answer(&entry).await?;
        let position = answer.position;

        let mut application = admitted.application.clone();
        let fields = &mut application.fields;
        fields.insert(FIELD_DISTRICT.to_owned(), district.to_owned());
        fields.insert(FIELD_AGE_GROUP.to_owned(), age_group_name(group).to_owned());
        fields.insert(
            FIELD_KINDERGARTEN_BIN.to_owned(),
            answer.kindergarten_bin.clone(),
        );
        if answer.kind() == ResultKind::Referral {
            fields.insert(FIELD_QUEUE_DECISION.to_owned(), "referral".to_owned());
            fields.insert(
                FIELD_REFERRAL_NUMBER.to_owned(),
                answer.referral_number.clone(),
            );
        } else {
            fields.insert(FIELD_QUEUE_DECISION.to_owned(), "notification".to_owned());
            fields.insert(FIELD_QUEUE_POSITION.to_owned(), position.to_string());
        }
        if let Err(fault) = self
            .intake
            .register_as(&admitted, &number, application)
            .await
        {
            // Not registered, so not queued: the place (and the position) go back.
            if let Err(error) = self.store.undo(&number).await {
                tracing::error!(registration = %number, error = %error, "placement could not be taken back");
            }
            return Err(fault);
        }
        metrics::counter!(
            "queue_placements_total",
            "kind" => answer.kind().as_str_name()
        )
        .increment(1);
        Ok(answer)
    }

    /// The register's answer for an entry as it stands now (its position while waiting).
    async fn current_answer(&self, entry: &Entry) -> Result<PlaceInQueueResponse, Fault> {
        let position = match entry.status {
            EntryStatus::Waiting => self.store.position(entry).await?,
            _ => 0,
        };
        Ok(answer(entry, position))
    }

    /// Answers a redelivered placement with where its entry stands now.
    async fn answer_again(
        &self,
        registration_number: &str,
        child_iin: &str,
    ) -> Result<PlaceInQueueResponse, Fault> {
        let child = parse_iin("application.child_iin", child_iin)?;
        let entry = self
            .store
            .active_entry(&child)
            .await?
            .filter(|entry| entry.registration_number == registration_number)
            .ok_or_else(|| {
                Fault::not_found(format!(
                    "application {registration_number} was registered, but child {child} is no longer queued under it"
                ))
            })?;
        self.current_answer(&entry).await
    }

    /// Answers where a child stands, to its recipient (or their representative) on the portal
    /// or to a State Corporation operator.
    async fn position(&self, request: &Request) -> Result<PlaceInQueueResponse, Fault> {
        let asked: GetQueuePositionRequest = request.decode()?;
        let child = parse_iin("child_iin", &asked.child_iin)?;
        let not_queued = || Fault::not_found(format!("child {child} is not in the queue"));
        let entry = self
            .store
            .active_entry(&child)
            .await?
            .ok_or_else(not_queued)?;
        if !may_read(request, &entry.recipient_iin, &entry.representative_iin) {
            return Err(not_queued());
        }
        self.current_answer(&entry).await
    }

    /// Stores the provider's signed result; a refusal first takes the child out of the queue
    /// (again on a repeated delivery, which changes nothing once withdrawn), so a stored
    /// refusal is never read while the child still holds its place.
    async fn decided(&self, request: &Request) -> Result<egov_proto::v1::Status, Fault> {
        let decision = self.intake.verify_decision(request).await?;
        if decision.result.kind() == ResultKind::Refusal {
            let number = &decision.registration.registration_number;
            let reason = match decision.result.refusal_ground.as_str() {
                "" => "refused by the provider",
                ground => ground,
            };
            let referred = self
                .store
                .withdraw(number, reason, self.intake.clock().now())
                .await?;
            tracing::info!(
                registration = %number,
                reason,
                referred = referred.len(),
                "entry withdrawn after the provider's refusal"
            );
            if !referred.is_empty() {
                self.notices.wake();
            }
        }
        Ok(self.intake.store_decision(decision).await?.ack())
    }
}

impl Handler for QueueHandler {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        match request.header().service_id.as_str() {
            PLACE_SERVICE_ID => Ok(Reply::message(&self.place(&request).await?)),
            POSITION_SERVICE_ID => Ok(Reply::message(&self.position(&request).await?)),
            RESULT_SERVICE_ID => Ok(Reply::message(&self.intake.result(&request).await?)),
            DECIDED_SERVICE_ID => Ok(Reply::message(&self.decided(&request).await?)),
            other => Err(Fault::new(
                StatusCode::UnknownService,
                format!("service {other:?} is not one of the queue register's {SERVICE_IDS:?}"),
            )),
        }
    }
}
