//! Service F at the State Corporation, as seed `004_…` annex 2's ХҚО reference draws it: the
//! operator checks the recipient in the citizens-DB, sends the request signed with the operator's
//! EDS to the regional gateway's workstation (ЭҮАШ АЖО); the provider examines it for 28
//! calendar days and sends its EDS-signed result to the State Corporation's IS within a minute;
//! the operator hands it over.

use egov_backoffice::GUARDIANSHIP_APPLY_SERVICE_ID;
use egov_citizens::fixtures::{GUARDIAN, PERSON_NOT_IN_DATABASE};
use egov_con::store::Filing;
use egov_con::{FilingForm, Outcome};
use egov_core::clock::Clock as _;
use egov_gateway::message_log::RecentFilter;
use egov_proto::v1::ResultKind;

use crate::common::Stack;

/// Returns an F form of `recipient` with `documents`.
fn form_f(ticket: &str, recipient: &str, documents: &[&str]) -> FilingForm {
    FilingForm {
        ticket_id: ticket.to_owned(),
        service_code: "F".into(),
        recipient_iin: recipient.into(),
        documents: documents.iter().map(|d| (*d).to_owned()).collect(),
        ..FilingForm::default()
    }
}

/// Every document of F's catalogue entry.
const EVERY_DOCUMENT: [&str; 4] = [
    "application",
    "child_birth_certificate",
    "parental_care_loss_document",
    "health_certificate",
];

/// Moves the stack's clock timer by timer until the provider's result of `filing` reached the
/// State Corporation's IS; returns the filing with it.
async fn wait_for_result_at_the_desk(stack: &Stack, filing: &Filing) -> Filing {
    for _ in 0..1000 {
        let now = stack.desk.store().filing(&filing.id).await.expect("filing");
        if now.result_at.is_some() {
            return now;
        }
        if let Some(deadline) = stack.clock.next_deadline() {
            stack.clock.advance_to(deadline).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "no result of {} reached the desk",
        filing.registration_number
    );
}

/// Files F at the desk and returns the sent filing and the stack time it was sent.
async fn file_f(stack: &Stack, documents: &[&str]) -> (Filing, time::OffsetDateTime) {
    let ticket = stack.called_ticket().await;
    let operator = stack.operator_person();
    let sent_at = stack.clock.now();
    let outcome = stack
        .desk
        .file(&operator, &form_f(&ticket, GUARDIAN, documents))
        .await
        .expect("filed");
    let Outcome::Sent(filing) = outcome else {
        panic!("the request should be sent, got {outcome:?}");
    };
    assert_eq!(filing.target_system, "backoffice");
    assert!(filing.registration_number.starts_with("BO-"), "{filing:?}");
    (filing, sent_at)
}

#[tokio::test]
async fn guardianship_at_the_state_corporation_is_examined_28_days_and_its_signed_result_handed_over()
 {
    let stack = Stack::start().await;
    let (filing, sent_at) = file_f(&stack, &EVERY_DOCUMENT).await;
    let operator = stack.operator_person();
    let read = stack
        .desk
        .fetch_result(&operator, &filing.id)
        .await
        .expect("asked");
    assert!(
        !read.ready,
        "the provider sends its result when it has decided"
    );
    assert_eq!(read.correlation_id, None, "so the desk asks no one");

    let filing = wait_for_result_at_the_desk(&stack, &filing).await;
    assert_eq!(filing.result_kind, ResultKind::Resolution.as_str_name());
    // Signed with the provider's EDS: the guardianship body's head's certificate under its BIN.
    let provider = egov_core::providers::KOSTANAY_EDUCATION_DEPARTMENT;
    assert!(
        filing
            .result_signer
            .contains(&format!("IIN{}", provider.head.iin))
            && filing
                .result_signer
                .contains(&format!("BIN{}", provider.bin)),
        "signed by the provider's head: {}",
        filing.result_signer
    );
    // 28 calendar days of examination, then sent within a minute.
    assert_eq!(
        stack.clock.now() - sent_at,
        time::Duration::days(28) + time::Duration::minutes(1)
    );
    // Registered in the regional gateway's workstation: the regional gateway relayed the
    // operator's request from the State Corporation to the back office.
    let regional = stack.regional.gateway.log();
    regional.flush().await.expect("regional log flushed");
    let hops = regional
        .recent(&RecentFilter::default(), 100)
        .await
        .expect("regional log");
    assert!(
        hops.iter()
            .any(|hop| hop.service_id == GUARDIANSHIP_APPLY_SERVICE_ID
                && hop.sender == "con"
                && hop.receiver == "backoffice"
                && hop.status_code == "SCSS001"),
        "{hops:#?}"
    );
    let handed = stack
        .desk
        .hand_over(&operator, &filing.id)
        .await
        .expect("handed over");
    assert!(handed.handed_over_at.is_some());
}

#[tokio::test]
async fn guardianship_at_the_state_corporation_refused_for_violations_in_the_documents() {
    let stack = Stack::start().await;
    let (filing, _) = file_f(&stack, &["application"]).await;
    let filing = wait_for_result_at_the_desk(&stack, &filing).await;
    assert_eq!(filing.result_kind, ResultKind::Refusal.as_str_name());
    assert!(
        filing.result_text.contains("нарушения в документах")
            || filing.result_text.contains("бұзушылықтар"),
        "the reasoned refusal of annex 2: {filing:?}"
    );
}

#[tokio::test]
async fn guardianship_at_the_state_corporation_refused_when_the_recipient_is_not_in_the_citizens_db()
 {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let outcome = stack
        .desk
        .file(
            &stack.operator_person(),
            &form_f(&ticket, PERSON_NOT_IN_DATABASE, &EVERY_DOCUMENT),
        )
        .await
        .expect("answered");
    let Outcome::DataUnavailable(filing) = outcome else {
        panic!("expected the data cannot be obtained, got {outcome:?}");
    };
    assert!(filing.registration_number.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn guardianship_at_the_state_corporation_refused_when_signed_by_another_providers_head() {
    use egov_core::providers;
    use egov_core::systems;
    use egov_proto::v1::{ServiceResult, Status};
    use egov_system::caller::decode_answer;

    let stack = Stack::start().await;
    let (filing, _) = file_f(&stack, &EVERY_DOCUMENT).await;
    let forged = ServiceResult {
        registration_number: filing.registration_number.clone(),
        kind: ResultKind::Resolution as i32,
        text: "a resolution the guardianship body never made".into(),
        ..ServiceResult::default()
    };
    // A real head under its own BIN, countersigned by the back office: only the
    // organisation is wrong (F is the guardianship body's, not the employment centre's).
    let other_head = stack.provider_head(&providers::EMPLOYMENT_CENTRE);
    let back_office = stack
        .sandbox
        .caller(systems::BACKOFFICE.id, systems::BACKOFFICE.bin);
    let mut header = back_office
        .header::<ServiceResult>(egov_con::DECIDED_SERVICE_ID, systems::STATE_CORPORATION.id);
    header.user_iin = providers::EMPLOYMENT_CENTRE.head.iin.to_owned();
    let envelope = other_head.seal_message(&header, &forged).expect("signs");
    let answer = back_office.forward(envelope).await;
    egov_test_stack::assert_refused_as_not_the_providers(
        answer.and_then(|answer| decode_answer::<Status>(&answer)),
        &providers::EMPLOYMENT_CENTRE,
        &providers::KOSTANAY_EDUCATION_DEPARTMENT,
    );
    let kept = stack.desk.store().filing(&filing.id).await.expect("filing");
    assert!(kept.result_at.is_none(), "nothing is kept on the filing");
}
