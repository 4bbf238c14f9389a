//! The worklist's JSON API, mirroring the pages: a role's tasks, a case, and a step's action.
//! Times are RFC 3339 (UTC); refusals are [`super::error::ErrorBody`] `{code, message}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use egov_core::envelope::from_timestamp;
use egov_proto::v1::{BackOfficeRole, Case, CaseStep, Channel, TakeActionRequest};
use egov_signin::{Caller, Forbidden};
use serde::{Deserialize, Serialize};

use super::{AppError, WebState, actor, office_roles, viewing_role};
use crate::catalogue::{Catalogue, Names, OfficeRole, Service, channel_name, result_kind_name};
use crate::messages::rfc3339;
use crate::policy::{Decision, Policy};
use crate::workflow::CaseFile;

/// The query of `GET /api/tasks`.
#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    /// `clerk`, `head` or `executor`.
    pub role: Option<String>,
}

/// The body of `POST /api/cases/{id}/actions`; the acting role is the open step's, which the
/// caller's account must hold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// The action, as the step lists it, or `refuse` at the deciding step.
    pub action: String,
    /// For a refusal: the item-10 ground's code.
    #[serde(default)]
    pub refusal_ground: Option<String>,
    /// Free-text comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A role's open tasks, overdue first.
#[derive(Debug, Serialize)]
pub struct TasksJson {
    /// The role.
    pub role: &'static str,
    /// Its tasks.
    pub cases: Vec<TaskJson>,
}

/// One task: a case whose open step is the role's.
#[derive(Debug, Serialize)]
pub struct TaskJson {
    /// The case id.
    pub id: String,
    /// The service code.
    pub service_code: String,
    /// The service's name, if the catalogue still holds it.
    pub service_name: Option<Names>,
    /// The registration number.
    pub registration_number: String,
    /// The open step.
    pub step: StepJson,
    /// Whether the open step is past its due time.
    pub overdue: bool,
}

/// One step of a case.
#[derive(Debug, Serialize)]
pub struct StepJson {
    /// Its index in the service's steps.
    pub index: u32,
    /// `clerk`, `head` or `executor`.
    pub role: &'static str,
    /// The step's action, or the one taken (`refuse`).
    pub action: String,
    /// The step's name.
    pub name: Option<Names>,
    /// The regulation's norm, e.g. `2 min`; empty when the seed gives none.
    pub norm: String,
    /// When it started.
    pub started_at: Option<String>,
    /// When it is due.
    pub due_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// Whether it ended, or is still open, after its due time.
    pub late: bool,
    /// The person's comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who ended it: the person, or the automatic policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// The recipient and how the application came.
#[derive(Debug, Serialize)]
pub struct ApplicantJson {
    /// The recipient's IIN.
    pub recipient_iin: String,
    /// The representative's IIN, if one acts.
    pub representative_iin: String,
    /// The power of attorney's number, if a representative acts.
    pub power_of_attorney_number: String,
    /// The child's IIN, if the service concerns one.
    pub child_iin: String,
    /// `portal`, `state_corporation` or `provider`.
    pub channel: &'static str,
}

/// One item-9 document.
#[derive(Debug, Serialize)]
pub struct DocumentJson {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: Names,
    /// Whether the application's channel requires it.
    pub required: bool,
    /// Whether a copy is attached.
    pub present: bool,
}

/// An item-10 ground.
#[derive(Debug, Serialize)]
pub struct GroundJson {
    /// The code a refusal names.
    pub code: String,
    /// Its text.
    pub text: Names,
}

/// What may be done now.
#[derive(Debug, Serialize)]
pub struct CurrentJson {
    /// The open step's index.
    pub index: usize,
    /// The role that does it.
    pub role: &'static str,
    /// Its actions: the step's, and `refuse` at the deciding step.
    pub actions: Vec<String>,
    /// The grounds a refusal may name (empty unless `refuse` is an action).
    pub refusal_grounds: Vec<GroundJson>,
}

/// The deciding step's decision.
#[derive(Debug, Serialize)]
pub struct DecisionJson {
    /// `approve` or `refuse`.
    pub decision: &'static str,
    /// The ground of a refusal.
    pub refusal_ground: Option<String>,
    /// Why, or the deciding person's comment.
    pub reason: Option<String>,
}

/// The result of a closed case.
#[derive(Debug, Serialize)]
pub struct ResultJson {
    /// `certificate` … `resolution`, or `refusal`.
    pub kind: &'static str,
    /// The ground of a refusal.
    pub refusal_ground: Option<String>,
    /// The document's text (kk / ru).
    pub text: String,
    /// Its structured fields.
    pub fields: BTreeMap<String, String>,
    /// When it was decided.
    pub decided_at: Option<String>,
    /// The system it goes to; empty when handed over at the office.
    pub reply_to_system_id: String,
    /// When that system accepted it.
    pub delivered_at: Option<String>,
}

/// A case as the worklist shows it.
#[derive(Debug, Serialize)]
pub struct CaseJson {
    /// The case id.
    pub id: String,
    /// The service code.
    pub service_code: String,
    /// The service's name.
    pub service_name: Names,
    /// The registration number.
    pub registration_number: String,
    /// Whether it is closed.
    pub closed: bool,
    /// `auto` or `manual`.
    pub policy: &'static str,
    /// When it was opened.
    pub opened_at: String,
    /// When the whole service is due.
    pub term_due_at: Option<String>,
    /// The recipient.
    pub applicant: ApplicantJson,
    /// The item-9 list.
    pub documents: Vec<DocumentJson>,
    /// The steps so far.
    pub steps: Vec<StepJson>,
    /// What may be done now; none once closed.
    pub current: Option<CurrentJson>,
    /// The decision, once taken.
    pub decision: Option<DecisionJson>,
    /// The result, once issued.
    pub result: Option<ResultJson>,
}

fn time(timestamp: Option<&prost_types::Timestamp>) -> Option<String> {
    timestamp.and_then(from_timestamp).map(rfc3339)
}

fn role_name(role: i32) -> &'static str {
    BackOfficeRole::try_from(role)
        .ok()
        .and_then(OfficeRole::from_proto)
        .map_or("unspecified", OfficeRole::as_str)
}

fn step_json(
    service: Option<&Service>,
    step: &CaseStep,
    comment: Option<String>,
    actor: Option<String>,
) -> StepJson {
    StepJson {
        index: step.index,
        role: role_name(step.role),
        action: step.action.clone(),
        name: service
            .and_then(|service| service.steps.get(usize::try_from(step.index).ok()?))
            .map(|step| step.name.clone()),
        norm: step.norm.clone(),
        started_at: time(step.started_at.as_ref()),
        due_at: time(step.due_at.as_ref()),
        ended_at: time(step.ended_at.as_ref()),
        late: step.late,
        comment,
        actor,
    }
}

fn task_json(catalogue: &Catalogue, case: &Case) -> Option<TaskJson> {
    let service = catalogue.service(&case.service_code).map(AsRef::as_ref);
    let step = case.steps.last()?;
    Some(TaskJson {
        id: case.id.clone(),
        service_code: case.service_code.clone(),
        service_name: service.map(|service| service.name.clone()),
        registration_number: case.registration_number.clone(),
        overdue: step.late,
        step: step_json(service, step, None, None),
    })
}

/// Returns the JSON form of a case file.
pub fn case_json(file: &CaseFile) -> CaseJson {
    let case = &file.case;
    let service = file.service.as_ref();
    let application = &file.application;
    let channel = Channel::try_from(application.channel).unwrap_or(Channel::Unspecified);
    CaseJson {
        id: case.id.clone(),
        service_code: case.service_code.clone(),
        service_name: service.name.clone(),
        registration_number: case.registration_number.clone(),
        closed: case.closed,
        policy: match file.policy {
            Policy::Auto => "auto",
            Policy::Manual => "manual",
        },
        opened_at: rfc3339(file.opened_at),
        term_due_at: file.term_due_at.map(rfc3339),
        applicant: ApplicantJson {
            recipient_iin: application.recipient_iin.clone(),
            representative_iin: application.representative_iin.clone(),
            power_of_attorney_number: application.power_of_attorney_number.clone(),
            child_iin: application.child_iin.clone(),
            channel: channel_name(channel),
        },
        documents: file
            .documents
            .iter()
            .map(|doc| DocumentJson {
                code: doc.code.clone(),
                name: doc.name.clone(),
                required: doc.required,
                present: doc.present,
            })
            .collect(),
        steps: case
            .steps
            .iter()
            .enumerate()
            // By position: a channel that skips catalogue steps leaves gaps in their indexes.
            .map(|(position, step)| {
                let comment = file.comments.get(position).cloned().flatten();
                let actor = file.actors.get(position).cloned().flatten();
                step_json(Some(service), step, comment, actor)
            })
            .collect(),
        current: file.open_step().map(|step| {
            let actions: Vec<String> = step.actions().into_iter().map(str::to_owned).collect();
            CurrentJson {
                index: step.index,
                role: step.role.as_str(),
                refusal_grounds: service
                    .grounds_at(step)
                    .into_iter()
                    .map(|ground| GroundJson {
                        code: ground.code.clone(),
                        text: ground.text.clone(),
                    })
                    .collect(),
                actions,
            }
        }),
        decision: file.decision.as_ref().map(|decision| match decision {
            Decision::Approve => DecisionJson {
                decision: "approve",
                refusal_ground: None,
                reason: None,
            },
            Decision::Refuse { ground, reason } => DecisionJson {
                decision: "refuse",
                refusal_ground: Some(ground.clone()),
                reason: Some(reason.clone()).filter(|reason| !reason.is_empty()),
            },
        }),
        result: case.result.as_ref().map(|result| ResultJson {
            kind: result_kind_name(result.kind()),
            refusal_ground: Some(result.refusal_ground.clone()).filter(|g| !g.is_empty()),
            text: result.text.clone(),
            fields: result
                .fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            decided_at: time(result.decided_at.as_ref()),
            reply_to_system_id: file.reply_to_system_id.clone(),
            delivered_at: file.result_delivered_at.map(rfc3339),
        }),
    }
}

/// Refuses a caller with no office role: cases hold personal data.
fn require_office_role(caller: &Caller) -> Result<(), AppError> {
    match office_roles(caller.person()).is_empty() {
        true => Err(AppError::Forbidden(Forbidden {
            login: caller.person().login.clone(),
            role: "clerk, head or executor".to_owned(),
        })),
        false => Ok(()),
    }
}

/// `GET /api/tasks?role=…`: the open tasks of one of the caller's roles (the only one when
/// it holds one), overdue first.
pub async fn tasks(
    State(state): State<WebState>,
    caller: Caller,
    query: Result<Query<TasksQuery>, QueryRejection>,
) -> Result<Json<TasksJson>, AppError> {
    let Query(query) =
        query.map_err(|rejection| AppError::invalid("query", rejection.body_text()))?;
    let role = viewing_role(caller.person(), query.role.as_deref())?.ok_or_else(|| {
        AppError::invalid(
            "role",
            "is missing: give one of your roles (clerk, head or executor)",
        )
    })?;
    let cases = state.workflow.tasks(role).await?;
    let catalogue = state.workflow.catalogue();
    Ok(Json(TasksJson {
        role: role.as_str(),
        cases: cases
            .iter()
            .filter_map(|case| task_json(catalogue, case))
            .collect(),
    }))
}

/// `GET /api/cases/{id}`: the case, to a caller with an office role.
pub async fn case(
    State(state): State<WebState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CaseJson>, AppError> {
    require_office_role(&caller)?;
    Ok(Json(case_json(&state.workflow.case_file(&id).await?)))
}

/// `POST /api/cases/{id}/actions`: takes the current step's action in the step's role, which
/// the caller must hold (else 403), recording the caller; returns the case.
pub async fn act(
    State(state): State<WebState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> Result<Json<CaseJson>, AppError> {
    require_office_role(&caller)?;
    let Json(body) = body.map_err(|rejection| AppError::invalid("body", rejection.body_text()))?;
    let file = state.workflow.case_file(&id).await?;
    let person = caller.person();
    // The step's role, or (once closed) one of the caller's, for the workflow to refuse.
    let role = file
        .open_step()
        .map(|step| step.role)
        .or_else(|| office_roles(person).first().copied())
        .ok_or_else(|| AppError::invalid("role", "no role can act"))?;
    person.require_role(role.as_str())?;
    let request = TakeActionRequest {
        case_id: id,
        role: role.to_proto() as i32,
        action: body.action,
        refusal_ground: body.refusal_ground.unwrap_or_default(),
        comment: body.comment.unwrap_or_default(),
    };
    let case = state
        .workflow
        .take_action_by(&request, Some(&actor(person)))
        .await?;
    Ok(Json(case_json(&state.workflow.case_file(&case.id).await?)))
}
