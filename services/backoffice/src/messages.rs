//! What the back office sends: the result document to the system that asked
//! (`<system>.application.decided`) and the statuses to the citizen's cabinet
//! (`portal.cabinet.notify`), every one an `egov.v1.ServiceResult`.

use std::collections::HashMap;

use egov_core::envelope::to_timestamp;
use egov_proto::v1::{ResultKind, ServiceApplication, ServiceResult};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use egov_system::cabinet::{
    CABINET_NOTIFY_SERVICE_ID, FIELD_RECIPIENT_IIN, FIELD_SERVICE_CODE, FIELD_STATUS,
};

use crate::catalogue::{Service, Step};
use crate::policy::Decision;

/// Field of a notification: when the service (or the current step) is due, RFC 3339.
pub const FIELD_DUE_AT: &str = "due_at";
/// Field: the step in progress (its action).
pub const FIELD_STEP: &str = "step";
/// Field: the role doing the step in progress.
pub const FIELD_ROLE: &str = "role";
/// The service id in the header of a result handed over on paper, as its head signed it: a
/// document the office keeps, never sent, so no route carries it.
pub const PAPER_RESULT_SERVICE_ID: &str = "backoffice.result.paper";
/// Field: the back office's case id.
pub const FIELD_CASE_ID: &str = "case_id";
/// Field of a refusal: the document it is issued as (`reasoned_refusal`…).
pub const FIELD_REFUSAL_KIND: &str = "refusal_kind";
/// Field of a refusal or a decision: why, or the person's comment.
pub const FIELD_REASON: &str = "reason";

/// Status of a just registered application.
pub const STATUS_REGISTERED: &str = "registered";
/// Status of an application whose next step started.
pub const STATUS_IN_PROGRESS: &str = "in_progress";
/// Status of an application whose result was issued.
pub const STATUS_ISSUED: &str = "issued";

/// Returns the service id the result of an application goes to on `system_id`, e.g.
/// `labor.application.decided`.
pub fn decided_service_id(system_id: &str) -> String {
    format!("{system_id}.application.decided")
}

/// Writes a time as RFC 3339, as notification fields carry it.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Who a message is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// The service.
    pub service: &'a Service,
    /// The case id.
    pub case_id: &'a str,
    /// The registration number.
    pub registration_number: &'a str,
    /// The recipient's IIN.
    pub recipient_iin: &'a str,
}

impl About<'_> {
    fn fields(&self, status: &str) -> HashMap<String, String> {
        HashMap::from([
            (FIELD_STATUS.to_owned(), status.to_owned()),
            (FIELD_SERVICE_CODE.to_owned(), self.service.code.clone()),
            (FIELD_CASE_ID.to_owned(), self.case_id.to_owned()),
            (
                FIELD_RECIPIENT_IIN.to_owned(),
                self.recipient_iin.to_owned(),
            ),
        ])
    }
}

/// Returns the cabinet notification that an application was registered, with the term of
/// the service (000 item 7.5: «мәртебесі мен мемлекеттік қызмет көрсету мерзімі туралы хабарлама»).
pub fn registered(
    about: About<'_>,
    at: OffsetDateTime,
    term_due: Option<OffsetDateTime>,
) -> ServiceResult {
    let mut fields = about.fields(STATUS_REGISTERED);
    if let Some(due) = term_due {
        fields.insert(FIELD_DUE_AT.to_owned(), rfc3339(due));
    }
    ServiceResult {
        registration_number: about.registration_number.to_owned(),
        kind: ResultKind::Notification as i32,
        text: format!(
            "Өтініш тіркелді: {} / Заявление зарегистрировано: {}",
            about.service.name.kk, about.service.name.ru
        ),
        fields,
        decided_at: Some(to_timestamp(at)),
        ..ServiceResult::default()
    }
}

/// Returns the cabinet notification that a step started, with its due time.
pub fn step_started(
    about: About<'_>,
    step: &Step,
    at: OffsetDateTime,
    due: Option<OffsetDateTime>,
) -> ServiceResult {
    let mut fields = about.fields(STATUS_IN_PROGRESS);
    fields.insert(FIELD_STEP.to_owned(), step.action.clone());
    fields.insert(FIELD_ROLE.to_owned(), step.role.as_str().to_owned());
    if let Some(due) = due {
        fields.insert(FIELD_DUE_AT.to_owned(), rfc3339(due));
    }
    ServiceResult {
        registration_number: about.registration_number.to_owned(),
        kind: ResultKind::Notification as i32,
        text: format!(
            "Өтініш қаралуда: {} / Заявление на рассмотрении: {}",
            step.name.kk, step.name.ru
        ),
        fields,
        decided_at: Some(to_timestamp(at)),
        ..ServiceResult::default()
    }
}

/// Returns the result document of a decided application: the service's result for its
/// channel (or the kind its `result_kind_field` names) with the pass-through fields, or a
/// refusal with its item-10 ground.
pub fn result(
    about: About<'_>,
    application: &ServiceApplication,
    decision: &Decision,
    decided_at: OffsetDateTime,
) -> ServiceResult {
    let service = about.service;
    let mut fields = about.fields(STATUS_ISSUED);
    let (kind, text, refusal_ground) = match decision {
        Decision::Approve => {
            let document = service.result_for(application);
            for name in &service.pass_fields {
                if let Some(value) = application.fields.get(name) {
                    fields.insert(name.clone(), value.clone());
                }
            }
            (document.kind, document.name.kk_ru(), String::new())
        }
        Decision::Refuse { ground, reason } => {
            if !reason.is_empty() {
                fields.insert(FIELD_REASON.to_owned(), reason.clone());
            }
            match service.ground(ground) {
                Some(found) => {
                    fields.insert(
                        FIELD_REFUSAL_KIND.to_owned(),
                        found.kind.as_str().to_owned(),
                    );
                    (ResultKind::Refusal, found.text.kk_ru(), ground.clone())
                }
                // A ground dropped from the catalogue after the decision: keep its code.
                None => (ResultKind::Refusal, ground.clone(), ground.clone()),
            }
        }
    };
    ServiceResult {
        registration_number: about.registration_number.to_owned(),
        kind: kind as i32,
        refusal_ground,
        text,
        fields,
        decided_at: Some(to_timestamp(decided_at)),
        evidence: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_of_an_application_goes_to_the_requesters_decided_service() {
        assert_eq!(decided_service_id("labor"), "labor.application.decided");
        assert_eq!(decided_service_id("esobes"), "esobes.application.decided");
    }
}
