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
