//! The workstation's pages over HTTP: the kiosk needs no sign-in, every form of the desk needs
//! the session's CSRF token, and the receipt of refusal is served as a PDF.

use egov_citizens::fixtures::{CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7};
use egov_con::{FilingForm, Outcome};

use crate::common::Stack;

#[tokio::test]
async fn the_kiosk_hands_out_a_ticket_without_sign_in() {
    let stack = Stack::start().await;
    let answer = stack.request("POST", "/kiosk?lang=ru", "", "").await;
    assert_eq!(answer.status, 200);
    let page = String::from_utf8(answer.body).expect("UTF-8");
    assert!(
        page.contains(r#"<p class="ticket" id="ticket-number">001</p>"#),
        "{page}"
    );
    assert_eq!(stack.desk.store().waiting().await.expect("store"), 1);
}

#[tokio::test]
async fn a_desk_form_posted_without_its_csrf_token_is_refused() {
    let stack = Stack::start().await;
    stack.desk.take_ticket().await.expect("a ticket");
    let (cookie, csrf) = stack.session().await;
    let refused = stack
        .request("POST", "/desk/call", &cookie, "lang=ru")
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        stack.desk.store().waiting().await.expect("store"),
        1,
        "nobody was called"
    );
    let called = stack
        .request(
            "POST",
            "/desk/call",
            &cookie,
            &format!("lang=ru&csrf={csrf}"),
        )
        .await;
    assert_eq!(called.status, 303);
    assert!(
        called.headers.contains("location: /desk/tickets/"),
        "{}",
        called.headers
    );
    assert_eq!(stack.desk.store().waiting().await.expect("store"), 0);
}

#[tokio::test]
async fn the_receipt_of_refusal_is_served_as_a_page_and_as_a_pdf() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    let form = FilingForm {
        ticket_id: ticket,
        service_code: "D".into(),
        recipient_iin: PARENT_OF_CHILD_UNDER_7.into(),
        child_iin: CHILD_UNDER_7.into(),
        district: "4307".into(),
        consent: true,
        ..FilingForm::default()
    };
    let Outcome::Receipt(_, receipt) = stack
        .desk
        .file(&stack.operator_person(), &form)
        .await
        .expect("answered")
    else {
        panic!("an empty package gets a receipt");
    };
    let (cookie, _) = stack.session().await;
    let page = stack
        .request("GET", &format!("/receipts/{}", receipt.id), &cookie, "")
        .await;
    assert_eq!(page.status, 200);
    let page = String::from_utf8(page.body).expect("UTF-8");
    assert!(page.contains("Құжаттарды қабылдаудан бас тарту туралы қолхат"));
    assert!(page.contains("2) Ата-анасының (заңды өкілінің) жеке басын куәландыратын құжаты"));
    let pdf = stack
        .request("GET", &format!("/receipts/{}/pdf", receipt.id), &cookie, "")
        .await;
    assert_eq!(pdf.status, 200);
    assert!(
        pdf.headers.contains("content-type: application/pdf"),
        "{}",
        pdf.headers
    );
    assert!(pdf.body.starts_with(b"%PDF-"));
}

/// Returns a `desk` step's form of service B for `recipient` with both item-9 documents.
fn desk_step_b(recipient: &str) -> egov_scenario::Desk {
    egov_scenario::Desk {
        service: "B".into(),
        recipient_iin: recipient.into(),
        recipient_name: String::new(),
        representative_iin: String::new(),
        power_of_attorney: String::new(),
        power_of_attorney_number: String::new(),
        child_iin: String::new(),
        district: String::new(),
        kindergarten_bin: String::new(),
        documents: vec!["application".into(), "identity_document".into()],
        consent: false,
        filing: None,
        hand_over: false,
    }
}

/// Files B for the unemployed adult through the desk's JSON API, as the operator signed in on
/// the desk; returns the client and the outcome.
async fn file_b_through_the_json_api(
    stack: &Stack,
) -> (egov_scenario::DeskClient, serde_json::Value) {
    let desk = egov_scenario::DeskClient::new(
        &format!("http://{}", stack.http),
        crate::common::OPERATOR.0,
        crate::common::PASSWORD,
    )
    .expect("desk URL");
    let outcome = desk
        .file_form(&desk_step_b(egov_citizens::fixtures::UNEMPLOYED_ADULT))
        .await
        .expect("filed");
    (desk, outcome)
}

#[tokio::test]
async fn an_operator_program_files_through_the_json_api_as_the_signed_in_operator() {
    let stack = Stack::start().await;

    let (_, outcome) = file_b_through_the_json_api(&stack).await;

    assert_eq!(outcome["outcome"], "sent", "{outcome}");
    assert_eq!(outcome["target_system"], "labor", "{outcome}");
    let number = outcome["registration_number"].as_str().expect("a number");
    let filing = stack
        .desk
        .store()
        .recent_filings(1)
        .await
        .expect("store")
        .pop()
        .expect("one filing");
    assert_eq!(filing.registration_number, number);
    // Filed as the operator who signed in, as the journal and the signature record it.
    assert_eq!(filing.operator_name, crate::common::OPERATOR.1);
    let registration = stack.labor_registration(number).await;
    assert_eq!(registration.author_iin, stack.operator_iin());
}

#[tokio::test]
async fn an_operator_program_reads_the_result_and_hands_it_over_through_the_json_api() {
    let stack = Stack::start().await;
    let (desk, outcome) = file_b_through_the_json_api(&stack).await;
    let filing = outcome["filing_id"]
        .as_str()
        .expect("a filing id")
        .to_owned();
    let number = outcome["registration_number"].as_str().expect("a number");

    let undecided = desk.read_result(&filing, true).await.expect("read");
    assert_eq!(undecided["ready"], false, "{undecided}");
    assert_eq!(undecided["handed_over_by"], "", "nothing to hand over yet");
    assert!(
        undecided["correlation_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "the read asked the Labour Market AIS: {undecided}"
    );
    let too_early = desk
        .read_result(&filing, false)
        .await
        .map(|read| read["ready"].clone());
    assert_eq!(too_early.expect("read"), false);

    stack.wait_for_labor_result(number).await;
    let handed = desk.read_result(&filing, true).await.expect("handed over");

    assert_eq!(handed["ready"], true, "{handed}");
    assert_eq!(handed["result_kind"], "RESULT_KIND_CERTIFICATE", "{handed}");
    assert_eq!(
        handed["handed_over_by"],
        format!(
            "{} ({})",
            crate::common::OPERATOR.1,
            crate::common::OPERATOR.0
        )
    );
    let stored = stack.desk.store().filing(&filing).await.expect("store");
    assert!(stored.handed_over_at.is_some());
    // Handed over once: a second hand-over is refused, naming who handed it over.
    let (cookie, csrf) = stack.session().await;
    let again = stack
        .request_with_csrf(
            "POST",
            &egov_con::api::hand_over_path(&filing),
            &cookie,
            &csrf,
        )
        .await;
    assert_eq!(again.status, 409);
    let body = String::from_utf8_lossy(&again.body);
    assert!(body.contains("was handed over by"), "{body}");
}

#[tokio::test]
async fn a_json_call_on_a_session_without_its_csrf_header_is_refused() {
    let stack = Stack::start().await;
    stack.desk.take_ticket().await.expect("a ticket");
    let (cookie, _) = stack.session().await;

    let refused = stack.request("POST", "/api/desk/call", &cookie, "").await;

    assert_eq!(refused.status, 403);
    assert_eq!(
        stack.desk.store().waiting().await.expect("store"),
        1,
        "nobody was called"
    );
}

#[tokio::test]
async fn a_wrong_operator_password_is_refused_naming_the_desk_and_the_sign_in() {
    let stack = Stack::start().await;
    let url = format!("http://{}", stack.http);
    let desk = egov_scenario::DeskClient::new(&url, crate::common::OPERATOR.0, "not-the-password")
        .expect("desk URL");

    let error = desk
        .file_form(&desk_step_b(egov_citizens::fixtures::UNEMPLOYED_ADULT))
        .await
        .expect_err("refused")
        .to_string();

    assert!(
        error.contains(&format!("the State Corporation desk at {url}")),
        "{error}"
    );
    assert!(
        error.contains(
            "refused the sign-in of operator \"madina\" (HTTP 401): wrong login or password"
        ),
        "{error}"
    );
    // Refused before a ticket was taken; and not asked again, so the account is not locked.
    assert_eq!(stack.desk.store().waiting().await.expect("store"), 0);
    let again = desk.sign_in().await.expect_err("still refused").to_string();
    assert_eq!(again, error);
}

#[tokio::test]
async fn a_signed_in_person_who_is_not_an_operator_cannot_call_a_ticket_through_the_json_api() {
    let stack = Stack::start().await;
    stack.desk.take_ticket().await.expect("a ticket");
    stack
        .signin
        .add_account(
            "guard",
            "Hall guard",
            &["guard".to_owned()],
            "guard-password-2026",
        )
        .await
        .expect("account");
    let (id, signed_in) = stack
        .signin
        .sign_in("guard", "guard-password-2026", None)
        .await
        .expect("signed in");
    let cookie = format!("{}={id}", stack.signin.settings().cookie_name());

    let refused = stack
        .request(
            "POST",
            "/api/desk/call",
            &cookie,
            &format!("csrf={}", signed_in.csrf),
        )
        .await;

    assert_eq!(refused.status, 403);
    let body: serde_json::Value = serde_json::from_slice(&refused.body).expect("JSON");
    assert_eq!(body["code"], "EACC001", "{body}");
    assert_eq!(stack.desk.store().waiting().await.expect("store"), 1);
}
