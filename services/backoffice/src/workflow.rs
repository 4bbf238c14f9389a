//! [`Workflow`]: a case walking its service's steps. Each step records its norm, its due time
//! on the clock, and when it actually started and ended; a step ending after its due time is
//! late. A step is done by a person ([`Workflow::take_action`]) or, for a service under the
//! automatic policy, when the clock reaches its due time, so the regulation's durations are
//! honoured on the virtual clock. Every change writes its notifications to the outbox in the
//! same transaction. The gRPC service, the gateway handler and the worklist pages all call this.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use egov_core::Iin;
use egov_core::calendar::{KAZAKHSTAN_OFFSET, WorkingCalendar};
use egov_core::clock::{Clock, HeldSleep};
use egov_core::envelope::{party_iin, request_header, to_timestamp};
use egov_core::systems;
use egov_proto::v1::{
    ApplicationRegistered, BackOfficeRole, Case, CaseStep, Channel, OpenCaseRequest,
    ServiceApplication, ServiceResult, TakeActionRequest,
};
use prost::Message;
use time::{Date, OffsetDateTime};
use tokio::sync::{Notify, watch};

use crate::BackOfficeError;
use crate::catalogue::{
    Catalogue, OfficeRole, REFUSE_ACTION, Service, Step, channel_name, result_kind_name,
};
use crate::delivery::Wake;
use crate::head::Heads;
use crate::messages::{self, About, CABINET_NOTIFY_SERVICE_ID, decided_service_id};
use crate::policy::{self, Decision, DocumentCheck, Policies, Policy};
use crate::store::{
    CaseRecord, DecisionRecord, KIND_RESULT, KIND_STATUS, NewDelivery, ResultRecord, StepEnd,
    StepRecord, Store, Transition,
};

/// How long a case's driver waits on the clock before retrying a step that failed.
const RETRY_AFTER_FAILURE: std::time::Duration = std::time::Duration::from_secs(60);

/// The actor the automatic policy records.
pub const AUTO_ACTOR: &str = "auto";

/// The portal's system id, whose cabinet gets every status.
const PORTAL: &str = egov_core::systems::PORTAL.id;

const DECISION_APPROVE: &str = "approve";
const DECISION_REFUSE: &str = "refuse";

/// What the workflow is built from.
#[derive(Debug)]
pub struct WorkflowParts {
    /// The database.
    pub store: Store,
    /// The services.
    pub catalogue: Arc<Catalogue>,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
    /// Who does each service's steps.
    pub policies: Policies,
    /// Raised after messages are written to the outbox, to wake the delivery worker.
    pub deliveries: Wake,
    /// The heads, who sign the results handed over on paper when their cases close.
    pub heads: Arc<Heads>,
}

/// The back office's cases and their steps; cheap to clone.
#[derive(Debug, Clone)]
pub struct Workflow {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    catalogue: Arc<Catalogue>,
    clock: Arc<dyn Clock>,
    policies: Policies,
    deliveries: Wake,
    heads: Arc<Heads>,
    calendar: &'static WorkingCalendar,
    /// Serialises every change of every case: a timer and a person acting on one step at once
    /// must not both end it, and changes are few (a person's click, a norm running out).
    transitions: tokio::sync::Mutex<()>,
    /// The automatic driver of each open case, woken when a person moves the case on.
    /// A std Mutex: held only for a map operation, never across an await.
    drivers: Mutex<HashMap<String, Arc<Notify>>>,
    stop: watch::Sender<bool>,
}

/// A case as the worklist shows it: the case with what it was opened with and where its
/// result went, read in one place so the web layer only renders.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The case: its steps, its result, whether it is closed.
    pub case: Case,
    /// Its service.
    pub service: Arc<Service>,
    /// The application it was opened with.
    pub application: ServiceApplication,
    /// The service's item-9 documents against the application.
    pub documents: Vec<DocumentCheck>,
    /// Each step's comment, in the order of the case's steps.
    pub comments: Vec<Option<String>>,
    /// Who ended each step, in the order of the case's steps: the person, or the automatic
    /// policy.
    pub actors: Vec<Option<String>>,
    /// The deciding step's decision, once it was taken (the head signs what it says).
    pub decision: Option<Decision>,
    /// Who does its steps.
    pub policy: Policy,
    /// When it was opened.
    pub opened_at: OffsetDateTime,
    /// When the whole service is due, if a term is known.
    pub term_due_at: Option<OffsetDateTime>,
    /// The system its result goes to; empty when it is handed over at the office.
    pub reply_to_system_id: String,
    /// When that system accepted the result, once it did.
    pub result_delivered_at: Option<OffsetDateTime>,
}

impl CaseFile {
    /// Returns the catalogue step a person may act on now; none once the case is closed.
    pub fn open_step(&self) -> Option<&Step> {
        if self.case.closed {
            return None;
        }
        let current = self
            .case
            .steps
            .last()
            .filter(|step| step.ended_at.is_none())?;
        self.service.steps.get(usize::try_from(current.index).ok()?)
    }
}

/// What was done to end a step.
struct Taken {
    action: String,
    actor: String,
    comment: Option<String>,
}

impl Workflow {
    /// Creates the workflow; call [`Workflow::resume`] to restart the open cases' timers.
    pub fn new(parts: WorkflowParts) -> Workflow {
        Workflow {
            inner: Arc::new(Inner {
                store: parts.store,
                catalogue: parts.catalogue,
                clock: parts.clock,
                policies: parts.policies,
                deliveries: parts.deliveries,
                heads: parts.heads,
                calendar: WorkingCalendar::kazakhstan(),
                transitions: tokio::sync::Mutex::new(()),
                drivers: Mutex::new(HashMap::new()),
                stop: watch::Sender::new(false),
            }),
        }
    }

    /// Returns the catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// Returns the store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Returns the time on the stack's clock, the time due dates are judged against.
    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// Restarts the timers of every open case under the automatic policy (cases survive
    /// restarts); returns how many were resumed.
    pub async fn resume(&self) -> Result<usize, BackOfficeError> {
        let mut resumed = 0;
        for case in self.inner.store.open_cases().await? {
            if stored_policy(&case)? == Policy::Auto {
                self.spawn_driver(&case.id);
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Stops every timer after the change in flight, if any; later changes are refused.
    pub async fn stop(&self) {
        self.inner.stop.send_replace(true);
        // Waits for a change in flight: none starts once the flag is up.
        drop(self.inner.transitions.lock().await);
    }

    /// Opens a case for an application. `requester` is the system that asked through the
    /// gateway (empty for the direct call); the result goes to `reply_to_system_id`, or to
    /// the requester when that is empty. A requester's registration number opens one case:
    /// asking again returns it.
    pub async fn open_case(
        &self,
        request: OpenCaseRequest,
        requester: &str,
    ) -> Result<Case, BackOfficeError> {
        let application = request
            .application
            .ok_or_else(|| BackOfficeError::invalid("application", "is missing"))?;
        let service = self.service(&application.service_code)?.clone();
        let channel = Channel::try_from(application.channel).unwrap_or(Channel::Unspecified);
        if channel == Channel::Unspecified {
            return Err(BackOfficeError::invalid(
                "application.channel",
                format!("{} is not a channel", application.channel),
            ));
        }
        if !service.offers(channel) {
            return Err(BackOfficeError::ChannelNotOffered {
                code: service.code.clone(),
                channel: channel_name(channel),
                offered: service.channels.iter().map(|c| channel_name(*c)).collect(),
            });
        }
        Iin::parse(&application.recipient_iin).map_err(|error| {
            BackOfficeError::invalid("application.recipient_iin", error.to_string())
        })?;
        let reply_to = match request.reply_to_system_id.trim() {
            "" => requester.to_owned(),
            other => other.to_owned(),
        };
        if !reply_to
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(BackOfficeError::invalid(
                "reply_to_system_id",
                format!("{reply_to:?} is not a system id"),
            ));
        }
        let registration_number = request.registration_number.trim().to_owned();
        if !registration_number.is_empty()
            && let Some(existing) = self
                .inner
                .store
                .case_by_registration(requester, &registration_number)
                .await?
        {
            return self.existing(existing, &service.code).await;
        }

        let id = uuid::Uuid::now_v7().to_string();
        let registration_number = match registration_number.as_str() {
            // The office's own number when the requester gave none (an application at the desk).
            "" => format!("BO-{id}"),
            _ => registration_number,
        };
        let policy = self.inner.policies.of(&service.code);
        let guard = self.inner.transitions.lock().await;
        self.check_running()?;
        let now = self.inner.clock.now();
        let first = service.step_after(None, channel).ok_or_else(|| {
            BackOfficeError::corrupt(
                format!("service {}", service.code),
                format!("it has no steps on the {} channel", channel_name(channel)),
            )
        })?;
        let first_due = self.due(first.norm, now)?;
        let term_due = service.term_due(channel, now, self.inner.calendar);
        let case = CaseRecord {
            id: id.clone(),
            service_code: service.code.clone(),
            registration_number,
            requester_system_id: requester.to_owned(),
            reply_to_system_id: reply_to,
            recipient_iin: application.recipient_iin.clone(),
            application: application.encode_to_vec(),
            policy: policy.as_str().to_owned(),
            opened_at: now,
            term_due_at: term_due,
            decision: None,
            refusal_ground: None,
            decision_reason: None,
            decided_at: None,
            closed_at: None,
        };
        let step = StepRecord {
            case_id: id.clone(),
            idx: catalogue_index(first),
            role: first.role.as_str().to_owned(),
            action: first.action.clone(),
            norm: norm_text(first.norm),
            started_at: now,
            due_at: first_due,
            ended_at: None,
            taken_action: None,
            actor: None,
            comment: None,
        };
        let about = about(&service, &case);
        let registered: Vec<NewDelivery> = to_cabinet(&service)
            .then(|| status(&case, &messages::registered(about, now, term_due)))
            .into_iter()
            .collect();
        let inserted = self
            .inner
            .store
            .insert_case(&case, &step, &registered, now)
            .await?;
        drop(guard);
        if !inserted {
            // The same number opened concurrently: the first one stands.
            let existing = self
                .inner
                .store
                .case_by_registration(requester, &case.registration_number)
                .await?
                .ok_or_else(|| BackOfficeError::CaseNotFound { id: id.clone() })?;
            return self.existing(existing, &service.code).await;
        }
        metrics::counter!("backoffice_cases_opened_total", "service" => service.code.clone())
            .increment(1);
        tracing::info!(
            case = %id,
            service = %service.code,
            registration = %case.registration_number,
            requester,
            policy = policy.as_str(),
            "case opened"
        );
        self.inner.deliveries.raise();
        if policy == Policy::Auto {
            self.spawn_driver(&id);
        }
        self.case(&id).await
    }

    /// Registers an application a front door (the portal, the State Corporation) sent to the
    /// provider's workstation through the regional gateway: a case under the office's own
    /// number, answered with that number and the service's term. `code` is the service the
    /// service id names; an application for another one is refused, naming both.
    pub async fn register_application(
        &self,
        application: ServiceApplication,
        code: &str,
        requester: &str,
    ) -> Result<ApplicationRegistered, BackOfficeError> {
        if application.service_code != code {
            return Err(BackOfficeError::invalid(
                "application.service_code",
                format!(
                    "{:?} is not service {code}, which this service id takes",
                    application.service_code
                ),
            ));
        }
        let case = self
            .open_case(
                OpenCaseRequest {
                    application: Some(application),
                    registration_number: String::new(),
                    reply_to_system_id: String::new(),
                },
                requester,
            )
            .await?;
        let record = self.load(&case.id).await?;
        Ok(ApplicationRegistered {
            registration_number: record.registration_number,
            registered_at: Some(to_timestamp(record.opened_at)),
            due_at: record.term_due_at.map(to_timestamp),
        })
    }

    /// Returns an already opened case, unless the number now names another service.
    async fn existing(&self, case: CaseRecord, code: &str) -> Result<Case, BackOfficeError> {
        if case.service_code != code {
            return Err(BackOfficeError::invalid(
                "registration_number",
                format!(
                    "{} already names case {} of service {}",
                    case.registration_number, case.id, case.service_code
                ),
            ));
        }
        self.case(&case.id).await
    }

    /// Returns a case with its steps and, once closed, its result.
    pub async fn case(&self, id: &str) -> Result<Case, BackOfficeError> {
        let case = self.load(id).await?;
        self.view(&case).await
    }

    /// Returns a case with its service, application, item-9 checklist, the steps' comments
    /// and its result's delivery: what the worklist's case page shows.
    pub async fn case_file(&self, id: &str) -> Result<CaseFile, BackOfficeError> {
        let record = self.load(id).await?;
        let steps = self.inner.store.steps(&record.id).await?;
        let case = self.view_with(&record, &steps).await?;
        let service = self.service(&record.service_code)?.clone();
        let application = application(&record)?;
        let result_delivered_at = self
            .inner
            .store
            .result(&record.id)
            .await?
            .and_then(|result| result.delivered_at);
        let decision = match record.decided_at {
            Some(_) => Some(stored_decision(&record)?.0),
            None => None,
        };
        Ok(CaseFile {
            documents: policy::checklist(&service, &application),
            decision,
            comments: steps.iter().map(|step| step.comment.clone()).collect(),
            actors: steps.iter().map(|step| step.actor.clone()).collect(),
            policy: stored_policy(&record)?,
            opened_at: record.opened_at,
            term_due_at: record.term_due_at,
            reply_to_system_id: record.reply_to_system_id,
            result_delivered_at,
            case,
            service,
            application,
        })
    }

    /// Returns a case as a system sees it through the gateway: only the cases it opened or
    /// that report to it; any other id reads as unknown.
    pub async fn case_for_system(&self, id: &str, system: &str) -> Result<Case, BackOfficeError> {
        let case = self.load(id).await?;
        if case.requester_system_id != system && case.reply_to_system_id != system {
            return Err(BackOfficeError::CaseNotFound { id: id.to_owned() });
        }
        self.view(&case).await
    }

    /// Returns the open cases whose current step is `role`'s: overdue first, then by due time.
    pub async fn tasks(&self, role: OfficeRole) -> Result<Vec<Case>, BackOfficeError> {
        let now = self.inner.clock.now();
        let mut tasks = Vec::new();
        for case in self.inner.store.open_cases().await? {
            let steps = self.inner.store.steps(&case.id).await?;
            let Some(current) = steps.last().filter(|step| step.ended_at.is_none()) else {
                continue;
            };
            if current.role != role.as_str() {
                continue;
            }
            let overdue = current.due_at.is_some_and(|due| now > due);
            let key = (
                !overdue,
                current.due_at.is_none(),
                current.due_at,
                case.opened_at,
            );
            tasks.push((key, self.view_with(&case, &steps).await?));
        }
        tasks.sort_by_key(|task| task.0);
        Ok(tasks.into_iter().map(|(_, case)| case).collect())
    }

    /// Takes the current step's action for a person: the role must be the step's, the action
    /// the step's (or `refuse` at the deciding step, with an item-10 ground of the service).
    /// A refused request leaves the case unchanged. The step records the role as its actor;
    /// [`Workflow::take_action_by`] records a signed-in person instead.
    pub async fn take_action(&self, request: &TakeActionRequest) -> Result<Case, BackOfficeError> {
        self.take_action_by(request, None).await
    }

    /// Takes the current step's action like [`Workflow::take_action`], recording `actor` (the
    /// signed-in person who acted) on the step.
    pub async fn take_action_by(
        &self,
        request: &TakeActionRequest,
        actor: Option<&str>,
    ) -> Result<Case, BackOfficeError> {
        let role = BackOfficeRole::try_from(request.role)
            .ok()
            .and_then(OfficeRole::from_proto)
            .ok_or_else(|| {
                BackOfficeError::invalid(
                    "role",
                    format!("{} is not clerk, head or executor", request.role),
                )
            })?;
        let guard = self.inner.transitions.lock().await;
        self.check_running()?;
        let case = self.load(&request.case_id).await?;
        if let Some(closed_at) = case.closed_at {
            return Err(BackOfficeError::CaseClosed {
                id: case.id,
                closed_at,
            });
        }
        let service = self.service(&case.service_code)?.clone();
        let current = self.current_step(&case).await?;
        let step = catalogue_step(&service, &current)?;
        if role != step.role {
            return Err(BackOfficeError::WrongRole {
                case: case.id,
                step: step.index,
                action: step.action.clone(),
                expected: step.role.as_str(),
                got: role.as_str(),
            });
        }
        let refusing = request.action == REFUSE_ACTION && step.refuses();
        if !refusing && request.action != step.action {
            return Err(BackOfficeError::WrongAction {
                case: case.id,
                step: step.index,
                expected: step.actions().into_iter().map(str::to_owned).collect(),
                got: request.action.clone(),
            });
        }
        let ground = request.refusal_ground.trim();
        if refusing {
            // The receiving step refuses acceptance only; the deciding step on any ground.
            let allowed = service.grounds_at(step);
            let grounds = || allowed.iter().map(|ground| ground.code.clone()).collect();
            if ground.is_empty() {
                return Err(BackOfficeError::RefusalGround {
                    service: service.code.clone(),
                    reason: "a refusal needs an item-10 ground".into(),
                    grounds: grounds(),
                });
            }
            if !allowed.iter().any(|allowed| allowed.code == ground) {
                return Err(BackOfficeError::RefusalGround {
                    service: service.code.clone(),
                    reason: format!("{ground:?} is not one"),
                    grounds: grounds(),
                });
            }
        } else if !ground.is_empty() {
            return Err(BackOfficeError::invalid(
                "refusal_ground",
                format!(
                    "{ground:?} given with action {:?}, which is not a refusal",
                    request.action
                ),
            ));
        }
        let comment = Some(request.comment.trim().to_owned()).filter(|c| !c.is_empty());
        // Taking the deciding step's own action sends the result the system drew up, a
        // refusal included (D: the executor registers and sends the queue register's answer).
        let drawn_up = match step.decides && !refusing {
            true => policy::drawn_up(&service, &application(&case)?),
            false => None,
        };
        let decision = (step.decides || refusing).then(|| match refusing {
            true => Decision::Refuse {
                ground: ground.to_owned(),
                reason: comment.clone().unwrap_or_default(),
            },
            false => drawn_up.unwrap_or(Decision::Approve),
        });
        let taken = Taken {
            action: request.action.clone(),
            actor: actor.unwrap_or(role.as_str()).to_owned(),
            comment,
        };
        let now = self.inner.clock.now();
        let transition = self.transition(&case, &service, &current, now, taken, decision)?;
        if !self.inner.store.apply(&transition, now).await? {
            // Unreachable while the transitions lock is held; kept as a refusal, not a panic.
            return Err(BackOfficeError::corrupt(
                format!("step {} of case {}", current.idx, case.id),
                "it ended while being acted on",
            ));
        }
        drop(guard);
        count_move(&service.code, &current, &transition);
        tracing::info!(case = %case.id, step = current.idx, action = %request.action, role = role.as_str(), "step taken");
        self.inner.deliveries.raise();
        self.wake_driver(&case.id);
        self.case(&case.id).await
    }

    /// Starts the automatic driver of a case unless one runs.
    fn spawn_driver(&self, case_id: &str) {
        let changed = {
            let mut drivers = self
                .inner
                .drivers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if drivers.contains_key(case_id) {
                return;
            }
            let changed = Arc::new(Notify::new());
            drivers.insert(case_id.to_owned(), changed.clone());
            changed
        };
        let workflow = self.clone();
        let case_id = case_id.to_owned();
        tokio::spawn(async move {
            workflow.drive(&case_id, changed).await;
            workflow
                .inner
                .drivers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&case_id);
        });
    }

    /// Wakes a case's driver so it re-reads the case after a person moved it on.
    fn wake_driver(&self, case_id: &str) {
        let drivers = self
            .inner
            .drivers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(changed) = drivers.get(case_id) {
            changed.notify_one();
        }
    }

    /// Completes the case's steps as their due times come, until it closes or the workflow stops.
    async fn drive(&self, case_id: &str, changed: Arc<Notify>) {
        let mut stop = self.inner.stop.subscribe();
        loop {
            if *stop.borrow() {
                return;
            }
            let current = match self.open_step(case_id).await {
                Ok(Some(current)) => current,
                Ok(None) => return,
                // The store closes as the back office stops: not a failure of the case.
                Err(_) if *stop.borrow() => return,
                Err(error) => {
                    tracing::error!(case = case_id, error = %error, "reading the case failed; retrying");
                    if !self.pause_after_failure(&changed, &mut stop).await {
                        return;
                    }
                    continue;
                }
            };
            // A step without a norm takes no time under the automatic policy.
            let due = current.due_at.unwrap_or(current.started_at);
            // The wake-up holds the clock until the step is completed (and its messages sent),
            // so on the stack clock the authority does not move past work this stop started.
            let wait: HeldSleep = self.inner.clock.sleep_until_held(due);
            let _work = tokio::select! {
                work = wait => work,
                _ = changed.notified() => continue,
                _ = stop.changed() => return,
            };
            match self.complete_on_time(case_id, current.idx).await {
                Ok(()) => {}
                Err(BackOfficeError::ShuttingDown) => return,
                Err(error) => {
                    tracing::error!(case = case_id, step = current.idx, error = %error, source = ?std::error::Error::source(&error), "automatic step failed; retrying");
                    if !self.pause_after_failure(&changed, &mut stop).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits a while on the clock (or for a person's move) before a failed step is tried
    /// again, so a passing fault (a locked database) does not strand the case; returns false
    /// when the workflow stops meanwhile.
    async fn pause_after_failure(
        &self,
        changed: &Notify,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        tokio::select! {
            _ = self.inner.clock.sleep(RETRY_AFTER_FAILURE) => true,
            _ = changed.notified() => true,
            _ = stop.changed() => false,
        }
    }

    /// Ends a step by the automatic policy at its due time (not at the moment the timer task
    /// ran, which may lag the clock): the deciding step decides by the documents on that date.
    async fn complete_on_time(&self, case_id: &str, idx: i64) -> Result<(), BackOfficeError> {
        let guard = self.inner.transitions.lock().await;
        self.check_running()?;
        let case = self.load(case_id).await?;
        if case.closed_at.is_some() {
            return Ok(());
        }
        let current = self.current_step(&case).await?;
        if current.idx != idx {
            return Ok(());
        }
        let service = self.service(&case.service_code)?.clone();
        let step = catalogue_step(&service, &current)?;
        let ended_at = current.due_at.unwrap_or(current.started_at);
        let on = local_date(ended_at);
        let decision = match (step.decides, step.receives) {
            (true, _) => Some(policy::decide(&service, &application(&case)?, on)),
            (false, true) => policy::reception(&service, &application(&case)?, on),
            (false, false) => None,
        };
        let action = match &decision {
            Some(Decision::Refuse { .. }) => REFUSE_ACTION.to_owned(),
            _ => step.action.clone(),
        };
        let taken = Taken {
            action,
            actor: AUTO_ACTOR.to_owned(),
            comment: None,
        };
        let transition = self.transition(&case, &service, &current, ended_at, taken, decision)?;
        let applied = self
            .inner
            .store
            .apply(&transition, self.inner.clock.now())
            .await?;
        drop(guard);
        if applied {
            count_move(&service.code, &current, &transition);
            tracing::debug!(
                case = case_id,
                step = idx,
                "step completed by the automatic policy"
            );
            self.inner.deliveries.raise();
        }
        Ok(())
    }

    /// Builds the move that ends `current` at `ended_at`: the next step starts then, or the
    /// case closes with its result and the result is queued for the requester and the cabinet.
    fn transition(
        &self,
        case: &CaseRecord,
        service: &Service,
        current: &StepRecord,
        ended_at: OffsetDateTime,
        taken: Taken,
        decision: Option<Decision>,
    ) -> Result<Transition, BackOfficeError> {
        let about = about(service, case);
        let decision_record = decision.as_ref().map(|decision| match decision {
            Decision::Approve => DecisionRecord {
                decision: DECISION_APPROVE,
                refusal_ground: None,
                reason: taken.comment.clone(),
                decided_at: ended_at,
            },
            Decision::Refuse { ground, reason } => DecisionRecord {
                decision: DECISION_REFUSE,
                refusal_ground: Some(ground.clone()),
                reason: Some(reason.clone()).filter(|r| !r.is_empty()),
                decided_at: ended_at,
            },
        });
        let channel = application(case)?.channel();
        let after = usize::try_from(current.idx).ok();
        // Seed 003_…, service A, item 3.2: «услугодатель отказывает в приеме заявления» — a
        // refusal to accept ends the case at reception, before any later step runs.
        let refused_at_reception = catalogue_step(service, current)?.receives
            && matches!(decision, Some(Decision::Refuse { .. }));
        let mut transition = Transition {
            case_id: case.id.clone(),
            end: StepEnd {
                idx: current.idx,
                ended_at,
                taken_action: taken.action,
                actor: taken.actor,
                comment: taken.comment,
            },
            decision: decision_record,
            next: None,
            close: None,
            deliveries: Vec::new(),
        };
        let next = match refused_at_reception {
            true => None,
            false => service.step_after(after, channel),
        };
        if let Some(next) = next {
            let due = self.due(next.norm, ended_at)?;
            transition.next = Some(StepRecord {
                case_id: case.id.clone(),
                idx: catalogue_index(next),
                role: next.role.as_str().to_owned(),
                action: next.action.clone(),
                norm: norm_text(next.norm),
                started_at: ended_at,
                due_at: due,
                ended_at: None,
                taken_action: None,
                actor: None,
                comment: None,
            });
            if to_cabinet(service) {
                transition.deliveries.push(status(
                    case,
                    &messages::step_started(about, next, ended_at, due),
                ));
            }
            return Ok(transition);
        }

        // The last step or a refusal to accept: the result, decided now or at the deciding
        // step before.
        let (decision, decided_at) = match decision {
            Some(decision) => (decision, ended_at),
            None => stored_decision(case)?,
        };
        let result = messages::result(about, &application(case)?, &decision, decided_at);
        let payload = result.encode_to_vec();
        // The portal's reply route is the cabinet notification below, sent to it anyway.
        let has_requester =
            !case.reply_to_system_id.is_empty() && case.reply_to_system_id != PORTAL;
        transition.close = Some(ResultRecord {
            case_id: case.id.clone(),
            kind: result_kind_name(result.kind()).to_owned(),
            refusal_ground: Some(result.refusal_ground.clone()).filter(|g| !g.is_empty()),
            payload: payload.clone(),
            decided_at,
            delivery_pending: has_requester,
            delivered_at: None,
            // A paper result is signed here: no outbox signs it on its way to a system.
            signed_document: match service.paper_result {
                true => Some(self.sign_paper(case, &payload, decided_at)?),
                false => None,
            },
        });
        if has_requester {
            transition.deliveries.push(NewDelivery {
                kind: KIND_RESULT,
                service_id: decided_service_id(&case.reply_to_system_id),
                receiver_system_id: case.reply_to_system_id.clone(),
                recipient_iin: case.recipient_iin.clone(),
                payload: payload.clone(),
                required: true,
            });
        }
        if !to_cabinet(service) {
            return Ok(transition);
        }
        transition.deliveries.push(NewDelivery {
            kind: KIND_RESULT,
            service_id: CABINET_NOTIFY_SERVICE_ID.to_owned(),
            receiver_system_id: PORTAL.to_owned(),
            recipient_iin: case.recipient_iin.clone(),
            payload,
            required: false,
        });
        Ok(transition)
    }

    /// Has the head of the organisation that decided the case sign its result, handed over on
    /// paper at the office (E: seed `002_570907e70074103d.txt`, second regulation, item 6:
    /// the head «шартқа ... қол қояды»), and returns the signed document: an encoded envelope
    /// the office keeps, whose author anyone trusting the stack's root can verify.
    fn sign_paper(
        &self,
        case: &CaseRecord,
        result: &[u8],
        decided_at: OffsetDateTime,
    ) -> Result<Vec<u8>, BackOfficeError> {
        let id = systems::BACKOFFICE.id;
        let mut header = request_header(messages::PAPER_RESULT_SERVICE_ID, id, id, decided_at);
        header.payload_type = <ServiceResult as prost::Name>::type_url();
        header.represented_party = Some(party_iin(&case.recipient_iin));
        self.inner
            .heads
            .author(&case.service_code, header, result.to_vec())
            .map(|envelope| envelope.encode_to_vec())
    }

    /// Returns a case's open step's record, if the case is open.
    async fn open_step(&self, case_id: &str) -> Result<Option<StepRecord>, BackOfficeError> {
        let case = self.load(case_id).await?;
        if case.closed_at.is_some() {
            return Ok(None);
        }
        self.current_step(&case).await.map(Some)
    }

    /// Returns the open step of an open case.
    async fn current_step(&self, case: &CaseRecord) -> Result<StepRecord, BackOfficeError> {
        let steps = self.inner.store.steps(&case.id).await?;
        steps
            .into_iter()
            .last()
            .filter(|step| step.ended_at.is_none())
            .ok_or_else(|| {
                BackOfficeError::corrupt(
                    format!("case {}", case.id),
                    "it is open but has no open step",
                )
            })
    }

    async fn load(&self, id: &str) -> Result<CaseRecord, BackOfficeError> {
        self.inner
            .store
            .case(id)
            .await?
            .ok_or_else(|| BackOfficeError::CaseNotFound { id: id.to_owned() })
    }

    async fn view(&self, case: &CaseRecord) -> Result<Case, BackOfficeError> {
        let steps = self.inner.store.steps(&case.id).await?;
        self.view_with(case, &steps).await
    }

    async fn view_with(
        &self,
        case: &CaseRecord,
        steps: &[StepRecord],
    ) -> Result<Case, BackOfficeError> {
        let now = self.inner.clock.now();
        let result = match self.inner.store.result(&case.id).await? {
            Some(record) => {
                let mut result = ServiceResult::decode(&record.payload[..]).map_err(|error| {
                    BackOfficeError::corrupt(
                        format!("result of case {}", case.id),
                        error.to_string(),
                    )
                })?;
                // A paper result shows the document its head signed.
                result.evidence = record.signed_document.unwrap_or_default();
                Some(result)
            }
            None => None,
        };
        Ok(Case {
            id: case.id.clone(),
            service_code: case.service_code.clone(),
            registration_number: case.registration_number.clone(),
            steps: steps.iter().map(|step| case_step(step, now)).collect(),
            result,
            closed: case.closed_at.is_some(),
        })
    }

    fn service(&self, code: &str) -> Result<&Arc<Service>, BackOfficeError> {
        self.inner
            .catalogue
            .service(code)
            .ok_or_else(|| BackOfficeError::UnknownService {
                code: code.to_owned(),
                known: self
                    .inner
                    .catalogue
                    .codes()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
    }

    fn due(
        &self,
        norm: Option<crate::norm::Norm>,
        start: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, BackOfficeError> {
        norm.map(|norm| {
            norm.due(start, self.inner.calendar).ok_or_else(|| {
                BackOfficeError::corrupt(
                    format!("norm {norm}"),
                    format!("its due time after {start} is past the representable time"),
                )
            })
        })
        .transpose()
    }

    fn check_running(&self) -> Result<(), BackOfficeError> {
        match *self.inner.stop.borrow() {
            true => Err(BackOfficeError::ShuttingDown),
            false => Ok(()),
        }
    }
}

/// Counts a move in the metrics: the step that ended (late or not) and, at the close, the result.
fn count_move(service: &str, ended: &StepRecord, transition: &Transition) {
    let late = ended
        .due_at
        .is_some_and(|due| transition.end.ended_at > due);
    metrics::counter!(
        "backoffice_steps_ended_total",
        "service" => service.to_owned(),
        "role" => ended.role.clone(),
        "late" => if late { "true" } else { "false" }
    )
    .increment(1);
    if let Some(result) = &transition.close {
        metrics::counter!(
            "backoffice_cases_closed_total",
            "service" => service.to_owned(),
            "result" => result.kind.clone()
        )
        .increment(1);
    }
}

/// Returns the wire form of a step; an open step past its due time is late already.
fn case_step(step: &StepRecord, now: OffsetDateTime) -> CaseStep {
    let late = match (step.due_at, step.ended_at) {
        (Some(due), Some(ended)) => ended > due,
        (Some(due), None) => now > due,
        (None, _) => false,
    };
    CaseStep {
        index: u32::try_from(step.idx).unwrap_or(u32::MAX),
        role: OfficeRole::parse(&step.role)
            .map_or(BackOfficeRole::Unspecified, OfficeRole::to_proto) as i32,
        action: step
            .taken_action
            .clone()
            .unwrap_or_else(|| step.action.clone()),
        norm: step.norm.clone(),
        started_at: Some(to_timestamp(step.started_at)),
        due_at: step.due_at.map(to_timestamp),
        ended_at: step.ended_at.map(to_timestamp),
        late,
    }
}

fn catalogue_step<'a>(
    service: &'a Service,
    current: &StepRecord,
) -> Result<&'a crate::catalogue::Step, BackOfficeError> {
    usize::try_from(current.idx)
        .ok()
        .and_then(|idx| service.steps.get(idx))
        .ok_or_else(|| {
            BackOfficeError::corrupt(
                format!("step {} of case {}", current.idx, current.case_id),
                format!("service {} has {} steps", service.code, service.steps.len()),
            )
        })
}

fn about<'a>(service: &'a Service, case: &'a CaseRecord) -> About<'a> {
    About {
        service,
        case_id: &case.id,
        registration_number: &case.registration_number,
        recipient_iin: &case.recipient_iin,
    }
}

/// Returns whether the case's statuses and result go to the recipient's cabinet: not for a
/// service whose result is paper, handed over at the provider's office (E: seed
/// `002_570907e70074103d.txt`, second regulation, item 4: «нәтижесін ұсыну нысаны- қағаз
/// түрінде»).
fn to_cabinet(service: &Service) -> bool {
    !service.paper_result
}

/// Queues a status for the recipient's cabinet: best effort, the portal is a later issue.
fn status(case: &CaseRecord, message: &ServiceResult) -> NewDelivery {
    NewDelivery {
        kind: KIND_STATUS,
        service_id: CABINET_NOTIFY_SERVICE_ID.to_owned(),
        receiver_system_id: PORTAL.to_owned(),
        recipient_iin: case.recipient_iin.clone(),
        payload: message.encode_to_vec(),
        required: false,
    }
}

/// Returns a step's index in its service's file as the store keeps it: a case's steps are
/// numbered by the catalogue, so a channel that skips some leaves gaps.
fn catalogue_index(step: &Step) -> i64 {
    i64::try_from(step.index).unwrap_or(i64::MAX)
}

fn application(case: &CaseRecord) -> Result<ServiceApplication, BackOfficeError> {
    ServiceApplication::decode(case.application.as_slice()).map_err(|error| {
        BackOfficeError::corrupt(
            format!("application of case {}", case.id),
            error.to_string(),
        )
    })
}

fn stored_policy(case: &CaseRecord) -> Result<Policy, BackOfficeError> {
    Policy::parse(&case.policy).ok_or_else(|| {
        BackOfficeError::corrupt(
            format!("case {}", case.id),
            format!("policy {:?} is neither auto nor manual", case.policy),
        )
    })
}

fn stored_decision(case: &CaseRecord) -> Result<(Decision, OffsetDateTime), BackOfficeError> {
    let corrupt =
        |reason: &str| BackOfficeError::corrupt(format!("case {}", case.id), reason.to_owned());
    let decided_at = case
        .decided_at
        .ok_or_else(|| corrupt("its last step ended before any decision"))?;
    let decision = match (case.decision.as_deref(), &case.refusal_ground) {
        (Some(DECISION_APPROVE), _) => Decision::Approve,
        (Some(DECISION_REFUSE), Some(ground)) => Decision::Refuse {
            ground: ground.clone(),
            reason: case.decision_reason.clone().unwrap_or_default(),
        },
        _ => {
            return Err(corrupt(
                "its decision is neither approve nor a refusal with a ground",
            ));
        }
    };
    Ok((decision, decided_at))
}

fn norm_text(norm: Option<crate::norm::Norm>) -> String {
    norm.map(|norm| norm.to_string()).unwrap_or_default()
}

/// Returns the date in Kazakhstan of an instant, the date documents are judged on.
pub fn local_date(at: OffsetDateTime) -> Date {
    at.checked_to_offset(KAZAKHSTAN_OFFSET).unwrap_or(at).date()
}
