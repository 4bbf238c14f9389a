//! The workstation in a real browser: the desk stack (sandbox gateway, citizens-DB, notary
//! registry, back office, Labour Market AIS, the workstation's pages) on loopback ports, Debian's
//! `chromedriver` started as a child on a free port, and headless Chromium driven through
//! fantoccini as a person would: a ticket at the kiosk, the operator's sign-in, the ticket
//! called, service B filed for a representative by a notarised power of attorney, the
//! certificate brought back and handed over; then a D package without the child's birth
//! certificate and its receipt of refusal, as a page and as PDF. Screenshots of the workstation
//! and the receipt are saved as PNG under the test's target directory. Needs
//! `apt-get install chromium chromium-driver` (`./dev` installs them); fails, never skips.

#[path = "desk/common.rs"]
#[allow(dead_code)] // shared with the `desk` test binary, which uses the rest of it
mod common;

use std::path::Path;

use egov_citizens::fixtures::{
    CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7, REPRESENTATIVE, UNEMPLOYED_ADULT,
};
use egov_testkit::browser;
use egov_testkit::browser::Page;
use serde_json::json;

use common::{OPERATOR, PASSWORD, Stack};

/// Takes a ticket at the kiosk and returns its number.
async fn take_ticket(page: &Page, base: &str) -> String {
    page.goto(&format!("{base}/kiosk?lang=ru")).await;
    page.submit("#take-ticket").await;
    page.text_of("#ticket-number").await
}

async fn walk(page: Page, base: String, stack: &Stack) {
    // The hall: a ticket; the desk asks the operator to sign in first.
    assert_eq!(take_ticket(&page, &base).await, "001");
    page.goto(&format!("{base}/desk?lang=ru")).await;
    page.fill("#login", OPERATOR.0).await;
    page.fill("#password", PASSWORD).await;
    page.submit("#signin-submit").await;
    assert_eq!(page.text_of("#desk-heading").await, "Электронная очередь");
    assert_eq!(page.text_of("#operator").await, OPERATOR.1);

    // B for a representative by a notarised power of attorney.
    page.submit("#call-next").await;
    page.submit("#service-B").await;
    page.fill("#recipient_iin", UNEMPLOYED_ADULT).await;
    page.fill("#representative_iin", REPRESENTATIVE).await;
    page.select("#power_of_attorney", "notarised").await;
    page.fill("#power_of_attorney_number", "ENIS-000501").await;
    page.click("#document-application").await;
    page.click("#document-identity_document").await;
    page.submit("#file").await;
    let number = page.text_of("#registration-number").await;
    assert!(number.starts_with("LM-"), "{number}");
    assert_eq!(page.text_of("#filing-operator").await, OPERATOR.1);

    // The back office decides; the operator brings the certificate back and hands it over.
    stack.wait_for_labor_result(&number).await;
    page.submit("#fetch-result").await;
    assert_eq!(page.text_of("#result-kind").await, "Справка");
    page.submit("#hand-over").await;
    let handed = page.text_of("#handed-over").await;
    assert!(handed.contains(OPERATOR.1), "{handed}");
    page.screenshot("workstation").await;

    // D without the child's birth certificate: a receipt of refusal.
    assert_eq!(take_ticket(&page, &base).await, "002");
    page.goto(&format!("{base}/desk?lang=kk")).await;
    page.submit("#call-next").await;
    page.submit("#service-D").await;
    page.click("#consent").await;
    page.fill("#recipient_iin", PARENT_OF_CHILD_UNDER_7).await;
    page.fill("#child_iin", CHILD_UNDER_7).await;
    page.fill("#district", "4307").await;
    page.click("#document-parent_identity_document").await;
    page.submit("#file").await;
    let receipt = page.text_of("#receipt").await;
    assert!(
        receipt.contains("Расписка об отказе в приеме документов"),
        "{receipt}"
    );
    assert!(
        receipt.contains("1) Баланың туу туралы куәлігі"),
        "{receipt}"
    );
    assert!(receipt.contains(OPERATOR.1), "{receipt}");
    page.screenshot("receipt").await;

    // The same receipt as PDF, fetched with the operator's session.
    let head = page
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.getElementById('receipt-pdf').href)
               .then(r => r.arrayBuffer().then(b => done(r.headers.get('content-type') + ' ' +
                 String.fromCharCode(...new Uint8Array(b).slice(0, 5)))))
               .catch(e => done('failed: ' + e));",
            Vec::new(),
        )
        .await
        .expect("the PDF is fetched");
    assert_eq!(head, json!("application/pdf %PDF-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_files_b_for_a_representative_and_hands_out_a_d_receipt_in_the_browser() {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000501", UNEMPLOYED_ADULT, REPRESENTATIVE, "B")
        .await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("con-screenshots");
    let (_driver, page) = browser::open(1100, 1000, shots).await;
    let base = format!("http://{}", stack.http);
    // A failed assertion must still close the browser: the walk's panic is caught, then resumed.
    let walked = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(walk(
        page.clone(),
        base,
        &stack,
    )))
    .await;
    page.close().await;
    if let Err(panic) = walked {
        std::panic::resume_unwind(panic);
    }
    let journal = stack.desk.journal(20).await.expect("journal");
    assert!(
        journal
            .iter()
            .all(|entry| entry.operator_name == OPERATOR.1)
    );
    assert!(journal.iter().any(|entry| entry.action == "hand_over"));
}
