//! Each branch an operator meets at the desk: B for a representative by a notarised power of
//! attorney through to the handed-over certificate, and a result whose head-signed document
//! does not verify, which is not handed over; a power of attorney the notary registry
//! lacks; a recipient the citizens-DB lacks; a power of attorney not notarised; D without the
//! citizen's consent; D with an incomplete package and its receipt; a malformed field; and the
//! journal naming the operator.

use egov_citizens::fixtures::{
    CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7, PERSON_NOT_IN_DATABASE, REPRESENTATIVE,
    UNEMPLOYED_ADULT,
};
use egov_con::desk::{Problem, action};
use egov_con::store::outcome;
use egov_con::{FilingForm, Outcome, PowerOfAttorneyForm};
use egov_proto::v1::{Channel, ResultKind};

use crate::common::{OPERATOR, Stack};

/// Returns a B form of `recipient` with both item-9 documents.
pub(crate) fn form_b(ticket: &str, recipient: &str) -> FilingForm {
    FilingForm {
        ticket_id: ticket.to_owned(),
        service_code: "B".into(),
        recipient_iin: recipient.into(),
        documents: vec!["application".into(), "identity_document".into()],
        ..FilingForm::default()
    }
}

/// Returns a D form of the parent for the child, in district `4307`.
fn form_d(ticket: &str, recipient: &str, consent: bool, documents: &[&str]) -> FilingForm {
    FilingForm {
        ticket_id: ticket.to_owned(),
        service_code: "D".into(),
        recipient_iin: recipient.into(),
        child_iin: CHILD_UNDER_7.into(),
        district: "4307".into(),
        documents: documents.iter().map(|d| (*d).to_owned()).collect(),
        consent,
        ..FilingForm::default()
    }
}

#[tokio::test]
async fn operator_files_b_for_a_representative_by_a_notarised_power_of_attorney_and_hands_over_the_certificate()
 {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000501", UNEMPLOYED_ADULT, REPRESENTATIVE, "B")
        .await;
    let ticket = stack.called_ticket().await;
    let mut form = form_b(&ticket, UNEMPLOYED_ADULT);
    form.representative_iin = REPRESENTATIVE.into();
    form.power_of_attorney = PowerOfAttorneyForm::Notarised;
    form.power_of_attorney_number = "ENIS-000501".into();
    let operator = stack.operator_person();
    let Outcome::Sent(filing) = stack.desk.file(&operator, &form).await.expect("filed") else {
        panic!("the request should be sent");
    };
    assert!(filing.registration_number.starts_with("LM-"), "{filing:?}");
    // The Labour Market AIS registered it as the operator's, through the State Corporation.
    let registration = stack.labor_registration(&filing.registration_number).await;
    assert_eq!(registration.channel, Channel::StateCorporation);
    assert_eq!(registration.author_iin, stack.operator_iin());
    assert_eq!(registration.representative_iin, REPRESENTATIVE);

    // Not ready until the back office decides; then it comes back and is handed over.
    let read = stack
        .desk
        .fetch_result(&operator, &filing.id)
        .await
        .expect("asked");
    assert!(!read.ready, "the back office has not decided yet");
    stack
        .wait_for_labor_result(&filing.registration_number)
        .await;
    let read = stack
        .desk
        .fetch_result(&operator, &filing.id)
        .await
        .expect("asked");
    assert!(read.ready);
    let filing = read.filing;
    assert_eq!(filing.result_kind, ResultKind::Certificate.as_str_name());
    // Kept under the head of the employment centre, whose signed document the desk verified.
    assert!(
        filing.result_signer.ends_with("OU=BIN090540900010"),
        "{}",
        filing.result_signer
    );
    let handed = stack
        .desk
        .hand_over(&operator, &filing.id)
        .await
        .expect("handed over");
    assert_eq!(
        handed.handed_over_by,
        format!("{} ({})", OPERATOR.1, OPERATOR.0)
    );
    assert!(
        stack.desk.hand_over(&operator, &filing.id).await.is_err(),
        "a result is handed over once"
    );
}

/// Evidence that never verifies, as a forged or revoked head's signature does not.
struct ForgedEvidence;

impl egov_con::desk::ResultEvidence for ForgedEvidence {
    fn verify<'a>(&'a self, _: &'a [u8]) -> egov_con::desk::VerifiedEvidence<'a> {
        Box::pin(async { Err("the head's certificate is revoked".to_owned()) })
    }
}

#[tokio::test]
async fn a_result_whose_head_signed_document_does_not_verify_is_not_handed_over() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let operator = stack.operator_person();
    let form = form_b(&ticket, UNEMPLOYED_ADULT);
    let Outcome::Sent(filing) = stack.desk.file(&operator, &form).await.expect("filed") else {
        panic!("the request should be sent");
    };
    stack
        .wait_for_labor_result(&filing.registration_number)
        .await;
    // The same desk, store and operator, checking results with evidence that fails.
    let desk = egov_con::Desk::new(
        stack.desk.store().clone(),
        stack.con.clone(),
        egov_con::Operators::new([(OPERATOR.0.to_owned(), stack.operator())]),
        stack.clock.shared(),
        std::sync::Arc::new(ForgedEvidence),
    );

    let refused = desk
        .fetch_result(&operator, &filing.id)
        .await
        .expect_err("not handed over");

    let message = refused.to_string();
    assert!(message.contains(&filing.registration_number), "{message}");
    assert!(
        message.contains("the head's certificate is revoked"),
        "{message}"
    );
    let kept = stack.desk.store().filing(&filing.id).await.expect("store");
    assert_eq!(kept.result_at, None, "no result is kept");
    assert!(desk.hand_over(&operator, &filing.id).await.is_err());
}

#[tokio::test]
async fn power_of_attorney_not_in_the_notary_registry_is_refused_as_data_that_cannot_be_obtained() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let mut form = form_b(&ticket, UNEMPLOYED_ADULT);
    form.representative_iin = REPRESENTATIVE.into();
    form.power_of_attorney = PowerOfAttorneyForm::Notarised;
    form.power_of_attorney_number = "ENIS-000999".into();
    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form)
        .await
        .expect("answered");
    let Outcome::DataUnavailable(filing) = outcome else {
        panic!("expected the data cannot be obtained, got {outcome:?}");
    };
    assert_eq!(filing.outcome, outcome::REFUSED);
    assert_eq!(
        filing.message,
        "the data cannot be obtained: power of attorney ENIS-000999 is not in the notary registry"
    );
    assert!(filing.registration_number.is_empty());
}

#[tokio::test]
async fn recipient_not_in_the_citizens_db_is_refused_as_data_that_cannot_be_obtained() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let outcome = stack
        .desk
        .file(
            &stack.operator_person(),
            &form_b(&ticket, PERSON_NOT_IN_DATABASE),
        )
        .await
        .expect("answered");
    let Outcome::DataUnavailable(filing) = outcome else {
        panic!("expected the data cannot be obtained, got {outcome:?}");
    };
    assert_eq!(
        filing.message,
        format!(
            "the data cannot be obtained: recipient {PERSON_NOT_IN_DATABASE} is not in the citizens-DB"
        )
    );
}

#[tokio::test]
async fn representative_by_a_power_of_attorney_not_notarised_is_filed_without_its_data() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let mut form = form_b(&ticket, UNEMPLOYED_ADULT);
    form.representative_iin = REPRESENTATIVE.into();
    form.power_of_attorney = PowerOfAttorneyForm::Other;
    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form)
        .await
        .expect("answered");
    let Outcome::Sent(filing) = outcome else {
        panic!("expected it sent, got {outcome:?}");
    };
    let registration = stack.labor_registration(&filing.registration_number).await;
    assert_eq!(registration.representative_iin, REPRESENTATIVE);
}

#[tokio::test]
async fn kindergarten_queue_without_the_citizens_consent_is_refused_before_any_query() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    // A recipient the citizens-DB lacks: had the desk asked first, the answer would be
    // "the data cannot be obtained".
    let form = form_d(
        &ticket,
        PERSON_NOT_IN_DATABASE,
        false,
        &["child_birth_certificate", "parent_identity_document"],
    );
    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form)
        .await
        .expect("answered");
    assert_eq!(outcome, Outcome::ConsentMissing);
    assert_eq!(
        stack
            .desk
            .store()
            .filing_of_ticket(&ticket)
            .await
            .expect("store"),
        None,
        "nothing is filed"
    );
}

#[tokio::test]
async fn kindergarten_queue_with_an_incomplete_package_is_refused_at_reception_with_a_receipt_before_any_lookup()
 {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let mut form = form_d(
        &ticket,
        PARENT_OF_CHILD_UNDER_7,
        true,
        &["parent_identity_document"],
    );
    form.recipient_name = "Сейітова Ақмарал".into();
    // The catalogue is read once, when the desk first needs it; not part of this filing.
    stack.desk.services().await.expect("catalogue");
    let asked_before = stack.gateway_log_rows().await;
    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form)
        .await
        .expect("answered");
    let Outcome::Receipt(filing, receipt) = outcome else {
        panic!("expected a receipt, got {outcome:?}");
    };
    assert_eq!(filing.outcome, outcome::RECEIPT);
    assert_eq!(
        receipt.missing,
        "Баланың туу туралы куәлігі / Свидетельство о рождении ребенка"
    );
    assert_eq!(receipt.operator_name, OPERATOR.1);
    assert_eq!(
        receipt.recipient_name, "Сейітова Ақмарал",
        "named as the application states it"
    );
    assert_eq!(
        stack.gateway_log_rows().await,
        asked_before,
        "a package not accepted asks no register through the gateway"
    );
    let pdf = egov_con::receipt::pdf(&receipt, "D", "D").expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
}

#[tokio::test]
async fn a_malformed_iin_is_shown_next_to_its_field_and_nothing_is_filed() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form_b(&ticket, "123456789012"))
        .await
        .expect("answered");
    let Outcome::Invalid(errors) = outcome else {
        panic!("expected field errors, got {outcome:?}");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "recipient_iin");
    assert!(matches!(errors[0].problem, Problem::MalformedIin(_)));
    assert_eq!(
        stack
            .desk
            .store()
            .filing_of_ticket(&ticket)
            .await
            .expect("store"),
        None
    );
}

#[tokio::test]
async fn every_workstation_action_is_recorded_with_the_operators_name() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    stack
        .desk
        .file(
            &stack.operator_person(),
            &form_b(&ticket, PERSON_NOT_IN_DATABASE),
        )
        .await
        .expect("answered");
    let journal = stack.desk.journal(10).await.expect("journal");
    let actions: Vec<&str> = journal.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(actions, [action::REFUSE, action::CALL], "newest first");
    for entry in &journal {
        assert_eq!(entry.operator_name, OPERATOR.1);
        assert_eq!(entry.operator_login, OPERATOR.0);
    }
    assert!(journal[1].subject.contains(&ticket));
}

#[tokio::test]
async fn a_ticket_filed_twice_keeps_its_first_filing() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let form = form_b(&ticket, UNEMPLOYED_ADULT);
    let operator = stack.operator_person();
    let Outcome::Sent(first) = stack.desk.file(&operator, &form).await.expect("filed") else {
        panic!("the request should be sent");
    };
    let again = stack.desk.file(&operator, &form).await.expect("answered");
    assert_eq!(again, Outcome::AlreadyFiled(first.clone()));
    assert_eq!(
        stack.labor.count_applications().await.expect("labor store"),
        1,
        "the Labour Market AIS registered it once"
    );
}

#[tokio::test]
async fn the_desk_reads_the_back_offices_catalogue_as_it_starts_not_in_a_filings_exchange() {
    let stack = Stack::start().await;
    let before = stack.gateway_log_rows().await;

    stack.desk.clone().warm_up().await;
    let read = stack.gateway_log_rows().await;
    assert_eq!(
        read - before,
        4,
        "one backoffice.catalogue.list exchange: in and out, both ways"
    );

    // Read once: neither a second warm-up nor the form asks again.
    stack.desk.clone().warm_up().await;
    stack.desk.services().await.expect("the catalogue");
    assert_eq!(stack.gateway_log_rows().await, read);
}
