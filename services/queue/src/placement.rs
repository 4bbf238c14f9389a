//! Service D, placing a pre-school child (under 7) in the queue for a kindergarten
//! (мектепке дейінгі балаларды кезекке қою / постановка на очередь детей дошкольного
//! возраста): its service ids, its [`PROFILE`] for the shared intake, and [`QueueHandler`],
//! which answers them (FLOWS.md, service D).
//!
//! The register draws the result up (seed `002_…` item 3: «кезектілікті басқарудың арнайы
//! ақпараттық жүйесі арқылы рәсімделеді»): a referral (жолдама) to a free place, a
//! notification of the child's position, or a reasoned refusal on a Standard item-10 ground
//! ([`Refusal`]: a child of 7 or over, already queued, not the recipient's child or ward, a
//! place the register has not, a deceased recipient, a power of attorney not in force). Each
//! is registered and goes to the provider's back office (service D has only the executor) as
//! a case with the register's choice in `fields["queue_decision"]`: the executor's 30-minute
//! step, and the signed result to the cabinet. Every answer carries the application's `DQ-`
//! number, under which that signed result (and a referral issued later, when a place frees)
//! comes; a refusal is answered `registered` at once, its reasoned document comes from the
//! provider; what is malformed, unsigned or cannot be
//! obtained stays a synchronous fault. A refusal the back office returns (an incomplete item-9
//! package) takes the child out of the queue.

use std::sync::Arc;

use egov_core::envelope::to_timestamp;
use egov_core::systems;
use egov_core::{Bin, Iin, StatusCode};
use egov_proto::v1::{
    AgeGroup, GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse, ResultKind,
    ServiceApplication,
};
use egov_system::intake::{
    Admitted, Intake, Profile, Registration, Term, age_on, local_date, may_read, parse_iin,
};
use egov_system::{Fault, Handler, Reply, Request};
use prost::Message;

use crate::cabinet::CabinetNotices;
use crate::entry::{
    Entry, EntryStatus, FIELD_REFUSAL_GROUND, FIELD_REFUSAL_REASON, NewEntry,
    QUEUE_DECISION_REFUSAL, SCHOOL_AGE, age_group, age_group_name,
};
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

// Service D's Standard item-10 grounds the register judges itself. Seed `002_…` item 3 names
// «мемлекеттік көрсетілетін қызмет стандартының 10-тармағында белгіленген негіздер бойынша …
// бас тарту туралы дәлелді жауап» (a reasoned refusal on the grounds of Standard item 10) but
// does not quote item 10; FLOWS.md lists none either. Only the age is the seed's own, in the
// service's title «мектепке дейінгі (7 жасқа дейін) жастағы балаларды кезекке қою»; the others
// are inferred from what the register holds, and marked so in the back office's catalogue
// (services/backoffice/catalogue/D.toml), which carries the same codes. The intake's own
// grounds (a deceased recipient, a power of attorney not in force or between other persons)
// come with their codes from [`egov_system::intake::GroundRefusal`].

/// Ground: the child is 7 or older (the service's title, «7 жасқа дейін»).
pub const GROUND_SCHOOL_AGE: &str = "child_of_school_age";
/// Ground (inferred): the child already holds a place in the queue or a referral.
pub const GROUND_ALREADY_QUEUED: &str = "child_already_queued";
/// Ground (inferred; item 5 names the recipient «немесе заңды өкілі», or the legal
/// representative): the recipient is neither a parent nor a guardian of the child.
pub const GROUND_NOT_PARENT_OR_GUARDIAN: &str = "applicant_not_parent_or_guardian";
/// Ground (inferred): no kindergarten of the district asked is in the register.
pub const GROUND_DISTRICT_WITHOUT_KINDERGARTEN: &str = "district_without_kindergarten";
/// Ground (inferred): the kindergarten asked is not in the register.
pub const GROUND_KINDERGARTEN_NOT_IN_REGISTER: &str = "kindergarten_not_in_register";
/// Ground (inferred): the kindergarten asked is in another district.
pub const GROUND_KINDERGARTEN_NOT_IN_DISTRICT: &str = "kindergarten_not_in_district";

/// Every item-10 ground the register refuses on, its own and the intake's.
pub const GROUNDS: [&str; 9] = [
    GROUND_SCHOOL_AGE,
    GROUND_ALREADY_QUEUED,
    GROUND_NOT_PARENT_OR_GUARDIAN,
    GROUND_DISTRICT_WITHOUT_KINDERGARTEN,
    GROUND_KINDERGARTEN_NOT_IN_REGISTER,
    GROUND_KINDERGARTEN_NOT_IN_DISTRICT,
    "recipient_deceased",
    "power_of_attorney_not_in_force",
    "power_of_attorney_between_other_persons",
];

/// A Standard item-10 ground the register found: registered, and answered by the provider
/// with a reasoned refusal through the back office, not at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The ground's code, one of [`GROUNDS`].
    pub ground: &'static str,
    /// Why, naming the data judged; the refusal's `reason`.
    pub reason: String,
}

impl Refusal {
    fn new(ground: &'static str, reason: String) -> Refusal {
        Refusal { ground, reason }
    }
}

/// What the register decided for an admitted application.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Queue the child in this age group.
    Place(AgeGroup),
    /// Refuse on an item-10 ground.
    Refuse(Refusal),
}

/// Returns the answer to a placement registered for the provider's reasoned refusal: no
/// position, no referral, the number its result comes under.
pub fn registered(registration_number: &str) -> PlaceInQueueResponse {
    PlaceInQueueResponse {
        kind: ResultKind::Unspecified as i32,
        registration_number: registration_number.to_owned(),
        ..PlaceInQueueResponse::default()
    }
}

/// Returns whether a registered application was refused by the register (its back-office
/// copy says so).
fn is_refusal(registration: &Registration) -> bool {
    ServiceApplication::decode(registration.application.as_slice()).is_ok_and(|application| {
        application
            .fields
            .get(FIELD_QUEUE_DECISION)
            .is_some_and(|decision| decision == QUEUE_DECISION_REFUSAL)
    })
}

/// Builds the register's answer for an entry (its position when waiting), under the entry's
/// registration number.
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
        // Seed `002_…` item 9, 2): the result «... "жеке кабинетіне" жолданады (отыз минуттан
        // аспайды)»: the executor's signed result, and a referral issued when a place frees
        // later, come under this number, so the front door keeps it as the request's.
        registration_number: entry.registration_number.clone(),
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

    /// Judges the place asked for: a district with kindergartens in the register, and a
    /// kindergarten (if one is asked) of the register and of that district.
    async fn judge_place(
        &self,
        district: &str,
        kindergarten_bin: &str,
    ) -> Result<Option<Refusal>, Fault> {
        if !self.store.has_district(district).await? {
            return Ok(Some(Refusal::new(
                GROUND_DISTRICT_WITHOUT_KINDERGARTEN,
                format!("no kindergarten of district {district:?} is in the register"),
            )));
        }
        if kindergarten_bin.is_empty() {
            return Ok(None);
        }
        let Some(kindergarten) = self.store.kindergarten(kindergarten_bin).await? else {
            return Ok(Some(Refusal::new(
                GROUND_KINDERGARTEN_NOT_IN_REGISTER,
                format!("no kindergarten {kindergarten_bin} is in the register"),
            )));
        };
        if kindergarten.district != district {
            return Ok(Some(Refusal::new(
                GROUND_KINDERGARTEN_NOT_IN_DISTRICT,
                format!(
                    "kindergarten {kindergarten_bin} ({}) is in district {}, not {district}",
                    kindergarten.name, kindergarten.district
                ),
            )));
        }
        Ok(None)
    }

    /// Judges an admitted application on the register's own item-10 grounds, in the order a
    /// person would: the place asked, the child's age on the message date, a place the child
    /// holds already, and whether the recipient is the child's parent or guardian.
    async fn judge(
        &self,
        admitted: &Admitted,
        child: &Iin,
        age: i32,
        district: &str,
        kindergarten_bin: &str,
    ) -> Result<Verdict, Fault> {
        if let Some(refusal) = self.judge_place(district, kindergarten_bin).await? {
            return Ok(Verdict::Refuse(refusal));
        }
        let on = local_date(admitted.message_time);
        let Some(group) = age_group(age) else {
            return Ok(Verdict::Refuse(Refusal::new(
                GROUND_SCHOOL_AGE,
                format!(
                    "child {child} is {age} on {on}: only children under {SCHOOL_AGE} (pre-school age) are queued"
                ),
            )));
        };
        if let Some(entry) = self.store.active_entry(child).await? {
            return Ok(Verdict::Refuse(Refusal::new(
                GROUND_ALREADY_QUEUED,
                format!(
                    "child {child} is already in the queue under {} ({})",
                    entry.registration_number,
                    entry.status.as_str()
                ),
            )));
        }
        let recipient = admitted.recipient_iin;
        // The child's links also prove the child is in the citizens-DB (EDAT001 otherwise).
        if !self
            .intake
            .lookups()
            .is_parent_or_guardian(child, &recipient)
            .await?
        {
            return Ok(Verdict::Refuse(Refusal::new(
                GROUND_NOT_PARENT_OR_GUARDIAN,
                format!(
                    "recipient {recipient} is neither a parent nor a legal representative (guardian) of child {child} in the citizens-DB"
                ),
            )));
        }
        Ok(Verdict::Place(group))
    }

    /// Places a child in the queue, or registers the application for the provider's reasoned
    /// refusal; refuses at once only what is malformed, unsigned or cannot be obtained.
    async fn place(&self, request: &Request) -> Result<PlaceInQueueResponse, Fault> {
        let asked: PlaceInQueueRequest = request.decode()?;
        if let Some(registration) = self.intake.registered_before(request).await? {
            return self.answer_again(&registration).await;
        }
        let checked = self.intake.check(request, asked.application)?;
        let district = asked.district.trim();
        let kindergarten_bin = asked.kindergarten_bin.trim();
        if district.is_empty() {
            return Err(Fault::invalid("district: must not be empty"));
        }
        if !kindergarten_bin.is_empty() {
            Bin::parse(kindergarten_bin)
                .map_err(|error| Fault::invalid(format!("kindergarten_bin: {error}")))?;
        }
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
        let (admitted, refused) = self.intake.confirm_on_grounds(checked).await?;
        let verdict = match refused {
            Some(refusal) => Verdict::Refuse(Refusal::new(refusal.ground(), refusal.to_string())),
            None => {
                self.judge(&admitted, &child, age, district, kindergarten_bin)
                    .await?
            }
        };
        match verdict {
            Verdict::Place(group) => {
                self.place_admitted(&admitted, &child, group, district, kindergarten_bin)
                    .await
            }
            Verdict::Refuse(refusal) => {
                self.register_refusal(&admitted, district, kindergarten_bin, refusal)
                    .await
            }
        }
    }

    /// Registers an application refused on an item-10 ground: nothing is queued; the back
    /// office's case carries the ground and the reason, and its executor sends the reasoned
    /// refusal, signed, to the cabinet (seed `002_…` items 3 and 6.2).
    async fn register_refusal(
        &self,
        admitted: &Admitted,
        district: &str,
        kindergarten_bin: &str,
        refusal: Refusal,
    ) -> Result<PlaceInQueueResponse, Fault> {
        let number = self
            .intake
            .allocate_number(PROFILE.number_prefix, self.intake.clock().now())
            .await?;
        let mut application = admitted.application.clone();
        let fields = &mut application.fields;
        fields.insert(FIELD_DISTRICT.to_owned(), district.to_owned());
        fields.insert(
            FIELD_KINDERGARTEN_BIN.to_owned(),
            kindergarten_bin.to_owned(),
        );
        fields.insert(
            FIELD_QUEUE_DECISION.to_owned(),
            QUEUE_DECISION_REFUSAL.to_owned(),
        );
        fields.insert(FIELD_REFUSAL_GROUND.to_owned(), refusal.ground.to_owned());
        fields.insert(FIELD_REFUSAL_REASON.to_owned(), refusal.reason.clone());
        self.intake
            .register_as(admitted, &number, application)
            .await?;
        metrics::counter!("queue_refusals_total", "ground" => refusal.ground).increment(1);
        tracing::info!(registration = %number, ground = refusal.ground, reason = %refusal.reason, "registered for the provider's reasoned refusal");
        Ok(registered(&number))
    }

    /// Queues an admitted child in its age group, registers the application with the
    /// register's choice (a referral where a place is free, else a notification of the
    /// position) and answers it.
    async fn place_admitted(
        &self,
        admitted: &Admitted,
        child: &Iin,
        group: AgeGroup,
        district: &str,
        kindergarten_bin: &str,
    ) -> Result<PlaceInQueueResponse, Fault> {
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
                    recipient_iin: admitted.recipient_iin.to_string(),
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
            .register_as(admitted, &number, application)
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

    /// Answers a redelivered placement with where its entry stands now, or that it is
    /// registered for the provider's refusal.
    async fn answer_again(
        &self,
        registration: &Registration,
    ) -> Result<PlaceInQueueResponse, Fault> {
        let registration_number = &registration.registration_number;
        if is_refusal(registration) {
            return Ok(registered(registration_number));
        }
        let child = parse_iin("application.child_iin", &registration.child_iin)?;
        let entry = self
            .store
            .active_entry(&child)
            .await?
            .filter(|entry| &entry.registration_number == registration_number)
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
