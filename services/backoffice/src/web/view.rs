//! The pages' view models: the page frame, a role's task rows and a case turned into the
//! strings a template prints, in one language. Formatting only: what a case is and what may
//! be done to it come from the [`crate::workflow::Workflow`] and the catalogue.

use egov_core::calendar::KAZAKHSTAN_OFFSET;
use egov_core::envelope::from_timestamp;
use egov_proto::v1::{BackOfficeRole, Case, CaseStep, Channel, ResultKind};
use time::OffsetDateTime;
use time::macros::format_description;

use egov_signin::SignedIn;

use super::{People, Tr, WORKLIST_PATH, office_roles};
use crate::catalogue::{Catalogue, OfficeRole, REFUSE_ACTION, Service, channel_name};
use crate::catalogue::{Step, result_kind_name};
use crate::norm::Norm;
use crate::policy::{Decision, Policy};
use crate::web::i18n::Lang;
use crate::workflow::CaseFile;

/// The head's action that hands the case to the executor (A, B, C, F).
const ASSIGN_ACTION: &str = "assign";

/// Writes a time as the office reads it: Kazakhstan's local time, to the minute.
pub fn local_time(at: OffsetDateTime) -> String {
    let local = at.checked_to_offset(KAZAKHSTAN_OFFSET).unwrap_or(at);
    local
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_else(|_| local.to_string())
}

/// Writes a wire time, or an empty string when there is none.
fn wire_time(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp
        .and_then(from_timestamp)
        .map(local_time)
        .unwrap_or_default()
}

/// Returns a page's link that keeps the viewer's role and language.
pub fn href(path: &str, role: Option<OfficeRole>, lang: Lang) -> String {
    match role {
        Some(role) => format!("{path}?role={}&lang={}", role.as_str(), lang.code()),
        None => format!("{path}?lang={}", lang.code()),
    }
}

/// Returns the path of a case's page.
pub fn case_path(id: &str) -> String {
    format!("/cases/{id}")
}

/// Returns a role's name in the page's language.
pub fn role_label(tr: Tr, role: OfficeRole) -> String {
    tr.get(&format!("role-{}", role.as_str()))
}

fn wire_role(role: i32) -> Option<OfficeRole> {
    BackOfficeRole::try_from(role)
        .ok()
        .and_then(OfficeRole::from_proto)
}

fn wire_role_label(tr: Tr, role: i32) -> String {
    wire_role(role).map_or_else(String::new, |role| role_label(tr, role))
}

/// Returns the label of an action's button; an action the strings do not know (a new
/// catalogue file's) shows the step's own name.
fn action_label(tr: Tr, action: &str, step: Option<&Step>) -> String {
    tr.try_get(&format!("action-{action}"))
        .or_else(|| step.map(|step| tr.lang().pick(&step.name).to_owned()))
        .unwrap_or_else(|| action.to_owned())
}

/// Returns what a finished step's action reads as in the history (`Registered`…).
fn taken_label(tr: Tr, action: &str) -> String {
    tr.try_get(&format!("taken-{action}"))
        .unwrap_or_else(|| action.to_owned())
}

/// A link of the language switcher or the role picker.
#[derive(Debug, Clone)]
pub struct Link {
    /// The element id tests and screen readers find it by (`lang-ru`, `role-head`).
    pub id: String,
    /// What it says.
    pub label: String,
    /// A second line (the person's name in the role picker).
    pub detail: String,
    /// Where it goes.
    pub href: String,
    /// Whether it is the page's own language or role.
    pub current: bool,
}

/// The frame of every page: language switcher, the person and sign-out, role picker, footer.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The signed-in person's name.
    pub person: String,
    /// The session's CSRF token, for every form of the page.
    pub csrf: String,
    /// The page's language code, for `<html lang>`.
    pub lang: &'static str,
    /// The application's title.
    pub app_title: String,
    /// The language switcher: the same page in kk, ru, en.
    pub langs: Vec<Link>,
    /// The role picker: the same page as each role.
    pub roles: Vec<Link>,
    /// The viewer's worklist, once a role is picked.
    pub my_tasks: Option<String>,
    /// The time on the stack's clock.
    pub now: String,
}

impl Chrome {
    /// Builds the frame of the page at `path` as the signed-in person sees it in `role`.
    pub fn new(
        tr: Tr,
        me: &SignedIn,
        role: Option<OfficeRole>,
        path: &str,
        now: OffsetDateTime,
    ) -> Chrome {
        let lang = tr.lang();
        Chrome {
            person: me.person.name.clone(),
            csrf: me.csrf.clone(),
            lang: lang.code(),
            app_title: tr.get("app-title"),
            langs: Lang::ALL
                .iter()
                .map(|other| Link {
                    id: format!("lang-{}", other.code()),
                    label: other.native_name().to_owned(),
                    detail: String::new(),
                    href: href(path, role, *other),
                    current: *other == lang,
                })
                .collect(),
            roles: office_roles(&me.person)
                .into_iter()
                .map(|other| Link {
                    id: format!("role-{}", other.as_str()),
                    label: role_label(tr, other),
                    detail: me.person.name.clone(),
                    href: href(path, Some(other), lang),
                    current: Some(other) == role,
                })
                .collect(),
            my_tasks: role.map(|role| href(WORKLIST_PATH, Some(role), lang)),
            now: local_time(now),
        }
    }
}

/// One row of a role's worklist.
#[derive(Debug, Clone)]
pub struct TaskRow {
    /// The case page.
    pub href: String,
    /// The registration number.
    pub registration: String,
    /// The service's name.
    pub service: String,
    /// The step's name.
    pub step: String,
    /// The step's norm.
    pub norm: String,
    /// When the step started.
    pub started: String,
    /// When it is due.
    pub due: String,
    /// Whether it is past its due time.
    pub overdue: bool,
    /// `Overdue` or `In progress`.
    pub status: String,
}

/// Returns the rows of a role's tasks, in the workflow's order (overdue first).
pub fn task_rows(tr: Tr, role: OfficeRole, catalogue: &Catalogue, cases: &[Case]) -> Vec<TaskRow> {
    cases
        .iter()
        .filter_map(|case| {
            let current = case.steps.last()?;
            let service = catalogue.service(&case.service_code);
            let step = service.and_then(|service| catalogue_step(service, current));
            Some(TaskRow {
                href: href(&case_path(&case.id), Some(role), tr.lang()),
                registration: case.registration_number.clone(),
                service: service.map_or_else(
                    || case.service_code.clone(),
                    |service| format!("{} · {}", service.code, tr.lang().pick(&service.name)),
                ),
                step: step.map_or_else(
                    || current.action.clone(),
                    |step| tr.lang().pick(&step.name).to_owned(),
                ),
                norm: norm(tr, current),
                started: wire_time(current.started_at.as_ref()),
                due: wire_time(current.due_at.as_ref()),
                overdue: current.late,
                status: tr.get(match current.late {
                    true => "status-overdue",
                    false => "status-in-progress",
                }),
            })
        })
        .collect()
}

fn catalogue_step<'a>(service: &'a Service, step: &CaseStep) -> Option<&'a Step> {
    service.steps.get(usize::try_from(step.index).ok()?)
}

/// Writes a step's norm in the page's language (`2 мин`, `13 календарных дней`); a norm
/// that does not parse (a hand-edited database) shows as stored.
fn norm(tr: Tr, step: &CaseStep) -> String {
    if step.norm.is_empty() {
        return tr.get("no-norm");
    }
    match step.norm.parse::<Norm>() {
        Ok(norm) => tr.count(
            &format!("norm-{}", norm.unit()),
            usize::try_from(norm.count()).unwrap_or(usize::MAX),
        ),
        Err(_) => step.norm.clone(),
    }
}

/// A labelled value.
#[derive(Debug, Clone)]
pub struct Field {
    /// The label.
    pub label: String,
    /// The value.
    pub value: String,
}

/// One item-9 document of the case.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    /// Its name.
    pub name: String,
    /// Its catalogue code.
    pub code: String,
    /// `required` or `optional` on the application's channel.
    pub required: String,
    /// Whether a copy is attached.
    pub present: bool,
    /// `Present` or `Missing`.
    pub status: String,
}

/// One step of the case's history.
#[derive(Debug, Clone)]
pub struct StepRow {
    /// Its number, from 1.
    pub number: u32,
    /// Its name in the catalogue.
    pub name: String,
    /// The role that does it.
    pub role: String,
    /// What was done (`Registered`, `Refused`…), empty while open.
    pub action: String,
    /// The norm.
    pub norm: String,
    /// When it started.
    pub started: String,
    /// When it is due.
    pub due: String,
    /// When it ended.
    pub ended: String,
    /// Whether it ended, or is open, past its due time.
    pub late: bool,
    /// Whether it is the open step.
    pub open: bool,
    /// `On time`, `Late`, `In progress` or `Overdue`.
    pub status: String,
    /// The person's comment.
    pub comment: String,
    /// Who ended it: the person, or the automatic policy.
    pub actor: String,
}

/// The case's result.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// The document it is.
    pub kind: String,
    /// Whether it is a refusal.
    pub refusal: bool,
    /// When it was decided.
    pub decided_at: String,
    /// Its text (kk / ru, as the document carries it).
    pub text: String,
    /// The item-10 ground of a refusal, as the catalogue words it.
    pub ground: Option<String>,
    /// The reason or the deciding person's comment.
    pub reason: Option<String>,
    /// Where it went: delivered, pending, or handed over at the office.
    pub delivery: String,
}

/// A choice of a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The submitted value.
    pub value: String,
    /// What it says.
    pub label: String,
}

/// The refusal half of a deciding step's form.
#[derive(Debug, Clone)]
pub struct RefuseForm {
    /// The button's label.
    pub label: String,
    /// The service's item-10 grounds.
    pub grounds: Vec<Choice>,
}

/// The form of the open step, for the role that owns it.
#[derive(Debug, Clone)]
pub struct StepForm {
    /// Where it posts.
    pub post: String,
    /// The page's language code, to come back in.
    pub lang: &'static str,
    /// The step's action.
    pub action: String,
    /// Its button's label.
    pub label: String,
    /// What the step acts on: the executor assigned, the result drafted.
    pub notes: Vec<String>,
    /// The refusal, at the deciding step.
    pub refuse: Option<RefuseForm>,
}

/// The current-step section of a case page.
#[derive(Debug, Clone)]
pub struct ActionView {
    /// The open step's name; empty once closed.
    pub step: String,
    /// Which role does it.
    pub owner: String,
    /// What the decision of the deciding step was, once taken.
    pub decision: Option<String>,
    /// Why there is no form: pick a role, or it is another role's step.
    pub hint: Option<String>,
    /// The form, when the viewer owns the step.
    pub form: Option<StepForm>,
}

/// A case page's content.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// The case id.
    pub id: String,
    /// `Case <registration number>`.
    pub heading: String,
    /// Service, provider, dates, policy.
    pub about: Vec<Field>,
    /// The recipient and the channel.
    pub applicant: Vec<Field>,
    /// The item-9 list.
    pub documents: Vec<DocumentRow>,
    /// The steps so far.
    pub steps: Vec<StepRow>,
    /// The result, once issued.
    pub result: Option<ResultView>,
    /// Whether the case is closed.
    pub closed: bool,
    /// The current step, while open.
    pub action: Option<ActionView>,
}

/// Builds a case page's content as `viewer` sees it.
pub fn case_view(tr: Tr, people: &People, viewer: Option<OfficeRole>, file: &CaseFile) -> CaseView {
    let lang = tr.lang();
    let case = &file.case;
    let service = &file.service;
    let mut about = vec![
        Field {
            label: tr.get("field-service"),
            value: format!("{} · {}", service.code, lang.pick(&service.name)),
        },
        Field {
            label: tr.get("field-provider"),
            value: lang.pick(&service.provider.name).to_owned(),
        },
        Field {
            label: tr.get("field-case-id"),
            value: case.id.clone(),
        },
        Field {
            label: tr.get("field-opened"),
            value: local_time(file.opened_at),
        },
    ];
    if let Some(term) = file.term_due_at {
        about.push(Field {
            label: tr.get("field-term"),
            value: local_time(term),
        });
    }
    about.push(Field {
        label: tr.get("field-policy"),
        value: tr.get(match file.policy {
            Policy::Auto => "policy-auto",
            Policy::Manual => "policy-manual",
        }),
    });
    CaseView {
        id: case.id.clone(),
        heading: tr.with("case-heading", "number", &case.registration_number),
        about,
        applicant: applicant(tr, file),
        documents: file
            .documents
            .iter()
            .map(|doc| DocumentRow {
                name: lang.pick(&doc.name).to_owned(),
                code: doc.code.clone(),
                required: tr.get(match doc.required {
                    true => "doc-required",
                    false => "doc-optional",
                }),
                present: doc.present,
                status: tr.get(match doc.present {
                    true => "doc-present",
                    false => "doc-missing",
                }),
            })
            .collect(),
        steps: case
            .steps
            .iter()
            .enumerate()
            .map(|(position, step)| step_row(tr, service, file, position, step))
            .collect(),
        result: result_view(tr, file),
        closed: case.closed,
        action: action_view(tr, people, viewer, file),
    }
}

fn applicant(tr: Tr, file: &CaseFile) -> Vec<Field> {
    let application = &file.application;
    let mut fields = vec![Field {
        label: tr.get("field-recipient-iin"),
        value: application.recipient_iin.clone(),
    }];
    for (key, value) in [
        ("field-representative-iin", &application.representative_iin),
        (
            "field-power-of-attorney",
            &application.power_of_attorney_number,
        ),
        ("field-child-iin", &application.child_iin),
    ] {
        if !value.is_empty() {
            fields.push(Field {
                label: tr.get(key),
                value: value.clone(),
            });
        }
    }
    let channel = Channel::try_from(application.channel).unwrap_or(Channel::Unspecified);
    fields.push(Field {
        label: tr.get("field-channel"),
        value: tr.get(&format!("channel-{}", channel_name(channel))),
    });
    fields
}

/// `position` is the step's place among the case's steps (its comment's and actor's).
fn step_row(
    tr: Tr,
    service: &Service,
    file: &CaseFile,
    position: usize,
    step: &CaseStep,
) -> StepRow {
    let open = step.ended_at.is_none();
    let status = match (open, step.late) {
        (true, true) => "status-overdue",
        (true, false) => "status-in-progress",
        (false, true) => "status-late",
        (false, false) => "status-on-time",
    };
    StepRow {
        number: step.index.saturating_add(1),
        name: catalogue_step(service, step).map_or_else(
            || step.action.clone(),
            |s| tr.lang().pick(&s.name).to_owned(),
        ),
        role: wire_role_label(tr, step.role),
        action: match open {
            true => String::new(),
            false => taken_label(tr, &step.action),
        },
        norm: norm(tr, step),
        started: wire_time(step.started_at.as_ref()),
        due: wire_time(step.due_at.as_ref()),
        ended: wire_time(step.ended_at.as_ref()),
        late: step.late,
        open,
        status: tr.get(status),
        comment: file
            .comments
            .get(position)
            .cloned()
            .flatten()
            .unwrap_or_default(),
        actor: file
            .actors
            .get(position)
            .cloned()
            .flatten()
            .unwrap_or_default(),
    }
}

/// Returns the name of the result document an approval issues, as the catalogue words it.
fn result_document_name(tr: Tr, service: &Service, kind: ResultKind) -> String {
    service
        .results
        .iter()
        .find(|result| result.kind == kind)
        .map(|result| tr.lang().pick(&result.name).to_owned())
        .unwrap_or_else(|| tr.get(&format!("result-kind-{}", result_kind_name(kind))))
}

fn ground_text(tr: Tr, service: &Service, code: &str) -> String {
    service.ground(code).map_or_else(
        || code.to_owned(),
        |ground| tr.lang().pick(&ground.text).to_owned(),
    )
}

fn result_view(tr: Tr, file: &CaseFile) -> Option<ResultView> {
    let result = file.case.result.as_ref()?;
    let refusal = result.kind() == ResultKind::Refusal;
    let system = &file.reply_to_system_id;
    let delivery = match (system.is_empty(), file.result_delivered_at) {
        (true, _) => tr.get("result-at-office"),
        (false, Some(at)) => format!(
            "{} · {}",
            tr.with("result-delivered", "system", system),
            local_time(at)
        ),
        (false, None) => tr.with("result-delivery-pending", "system", system),
    };
    Some(ResultView {
        kind: match refusal {
            true => tr.get("result-kind-refusal"),
            false => result_document_name(tr, &file.service, result.kind()),
        },
        refusal,
        decided_at: wire_time(result.decided_at.as_ref()),
        text: result.text.clone(),
        ground: (!result.refusal_ground.is_empty())
            .then(|| ground_text(tr, &file.service, &result.refusal_ground)),
        reason: result
            .fields
            .get(crate::messages::FIELD_REASON)
            .filter(|reason| !reason.is_empty())
            .cloned(),
        delivery,
    })
}

fn decision_text(tr: Tr, file: &CaseFile) -> Option<String> {
    Some(match file.decision.as_ref()? {
        Decision::Approve => {
            let document = file.service.result_for(&file.application);
            tr.with("form-result", "result", tr.lang().pick(&document.name))
        }
        Decision::Refuse { ground, reason } => {
            let mut text = format!(
                "{}: {}",
                tr.get("form-refuse-heading"),
                ground_text(tr, &file.service, ground)
            );
            if !reason.is_empty() {
                text.push_str(&format!(" ({reason})"));
            }
            text
        }
    })
}

fn action_view(
    tr: Tr,
    people: &People,
    viewer: Option<OfficeRole>,
    file: &CaseFile,
) -> Option<ActionView> {
    let step = file.open_step()?;
    let lang = tr.lang();
    let owner = role_label(tr, step.role);
    let mut view = ActionView {
        step: lang.pick(&step.name).to_owned(),
        owner: tr.with("action-step-of", "role", &owner),
        decision: decision_text(tr, file),
        hint: None,
        form: None,
    };
    if viewer != Some(step.role) {
        view.hint = Some(tr.get(match viewer {
            None => "pick-role-hint",
            Some(_) => "action-not-yours",
        }));
        return Some(view);
    }
    let mut notes = Vec::new();
    if step.action == ASSIGN_ACTION {
        // The demo has one executor, so assigning names them rather than offering a choice.
        notes.push(tr.with("form-executor", "name", people.of(OfficeRole::Executor)));
    }
    if step.decides {
        let document = file.service.result_for(&file.application);
        notes.push(tr.with("form-result", "result", lang.pick(&document.name)));
    }
    view.form = Some(StepForm {
        post: format!("{}/actions", case_path(&file.case.id)),
        lang: lang.code(),
        action: step.action.clone(),
        label: action_label(tr, &step.action, Some(step)),
        notes,
        refuse: step.actions().contains(&REFUSE_ACTION).then(|| RefuseForm {
            label: action_label(tr, REFUSE_ACTION, None),
            grounds: file
                .service
                .grounds_at(step)
                .into_iter()
                .map(|ground| Choice {
                    value: ground.code.clone(),
                    label: lang.pick(&ground.text).to_owned(),
                })
                .collect(),
        }),
    });
    Some(view)
}
