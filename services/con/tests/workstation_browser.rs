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

use std::path::{Path, PathBuf};
use std::time::Duration;

use egov_citizens::fixtures::{
    CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7, REPRESENTATIVE, UNEMPLOYED_ADULT,
};
use egov_testkit::browser;
use fantoccini::{Client, Locator};
use serde_json::json;

use common::{OPERATOR, PASSWORD, Stack};

/// How long chromedriver may take to listen, and a page to show an element.
const READY_WITHIN: Duration = Duration::from_secs(60);

async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} on the page: {error}"))
}

async fn text_of(client: &Client, css: &str) -> String {
    element(client, css)
        .await
        .text()
        .await
        .unwrap_or_else(|error| panic!("no text of {css}: {error}"))
}

async fn click(client: &Client, css: &str) {
    element(client, css)
        .await
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css} failed: {error}"));
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = element(client, css).await;
    field.clear().await.expect("clear the field");
    field.send_keys(text).await.expect("type into the field");
}

/// Saves a screenshot of the page as `<name>.png` and returns its path.
async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("con-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let path = dir.join(format!("{name}.png"));
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(&path, png).expect("screenshot saved");
    println!("screenshot: {}", path.display());
    path
}

/// Takes a ticket at the kiosk and returns its number.
async fn take_ticket(client: &Client, base: &str) -> String {
    client
        .goto(&format!("{base}/kiosk?lang=ru"))
        .await
        .expect("the kiosk opens");
    click(client, "#take-ticket").await;
    text_of(client, "#ticket-number").await
}

async fn walk(client: Client, base: String, stack: &Stack) {
    // The hall: a ticket; the desk asks the operator to sign in first.
    assert_eq!(take_ticket(&client, &base).await, "001");
    client
        .goto(&format!("{base}/desk?lang=ru"))
        .await
        .expect("the desk opens");
    fill(&client, "#login", OPERATOR.0).await;
    fill(&client, "#password", PASSWORD).await;
    click(&client, "#signin-submit").await;
    assert_eq!(
        text_of(&client, "#desk-heading").await,
        "Электронная очередь"
    );
    assert_eq!(text_of(&client, "#operator").await, OPERATOR.1);

    // B for a representative by a notarised power of attorney.
    click(&client, "#call-next").await;
    click(&client, "#service-B").await;
    fill(&client, "#recipient_iin", UNEMPLOYED_ADULT).await;
    fill(&client, "#representative_iin", REPRESENTATIVE).await;
    element(&client, "#power_of_attorney")
        .await
        .select_by_value("notarised")
        .await
        .expect("notarised");
    fill(&client, "#power_of_attorney_number", "ENIS-000501").await;
    click(&client, "#document-application").await;
    click(&client, "#document-identity_document").await;
    click(&client, "#file").await;
    let number = text_of(&client, "#registration-number").await;
    assert!(number.starts_with("LM-"), "{number}");
    assert_eq!(text_of(&client, "#filing-operator").await, OPERATOR.1);

    // The back office decides; the operator brings the certificate back and hands it over.
    stack.wait_for_labor_result(&number).await;
    click(&client, "#fetch-result").await;
    assert_eq!(text_of(&client, "#result-kind").await, "Справка");
    click(&client, "#hand-over").await;
    let handed = text_of(&client, "#handed-over").await;
    assert!(handed.contains(OPERATOR.1), "{handed}");
    screenshot(&client, "workstation").await;

    // D without the child's birth certificate: a receipt of refusal.
    assert_eq!(take_ticket(&client, &base).await, "002");
    client
        .goto(&format!("{base}/desk?lang=kk"))
        .await
        .expect("the desk opens");
    click(&client, "#call-next").await;
    click(&client, "#service-D").await;
    click(&client, "#consent").await;
    fill(&client, "#recipient_iin", PARENT_OF_CHILD_UNDER_7).await;
    fill(&client, "#child_iin", CHILD_UNDER_7).await;
    fill(&client, "#district", "4307").await;
    click(&client, "#document-parent_identity_document").await;
    click(&client, "#file").await;
    let receipt = text_of(&client, "#receipt").await;
    assert!(
        receipt.contains("Расписка об отказе в приеме документов"),
        "{receipt}"
    );
    assert!(
        receipt.contains("1) Баланың туу туралы куәлігі"),
        "{receipt}"
    );
    assert!(receipt.contains(OPERATOR.1), "{receipt}");
    screenshot(&client, "receipt").await;

    // The same receipt as PDF, fetched with the operator's session.
    let head = client
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
    let chromium = browser::chromium();
    let mut driver = browser::ChromeDriver::start();
    let webdriver = driver.ready().await;
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000501", UNEMPLOYED_ADULT, REPRESENTATIVE, "B")
        .await;
    let client = browser::session(&webdriver, &chromium, 1100, 1000).await;
    let base = format!("http://{}", stack.http);
    // A failed assertion must still close the browser: the walk's panic is caught, then resumed.
    let walked = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(walk(
        client.clone(),
        base,
        &stack,
    )))
    .await;
    let _ = client.close().await;
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
