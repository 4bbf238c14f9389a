//! The portal in a real browser (FLOWS.md, common portal flow; services B, C and F): the real
//! citizens-DB, notary registry, back office and Labour Market AIS behind the sandbox gateway
//! on a virtual clock, the external signer with its own keys certified by the sandbox centre,
//! the portal on port 0, and headless Chromium driven through chromedriver. Screenshots of the
//! form, the signer, the cabinet and the result go to `target/screenshots/`. Needs
//! `apt-get install chromium chromium-driver` (`./dev` installs them); fails, never skips.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_bus::service::Listeners;
use egov_citizens::fixtures::{
    DISABLED_CHILD, EMPLOYED_ADULT, GUARDIAN, PARENT_OF_DISABLED_CHILD, REPRESENTATIVE,
    UNEMPLOYED_ADULT,
};
use egov_core::Bin;
use egov_core::clock::Clock;
use egov_core::pki::authority::Holder;
use egov_core::pki::{CertificateInfo, KeyPurpose, Role};
use egov_core::systems;
use egov_labor::{APPLY_SERVICE_ID, DECIDED_SERVICE_ID, RESULT_SERVICE_ID};
use egov_signer::centre::{Applicant, IssueFuture};
use egov_signer::{CertificationCentre, Issued};
use egov_test_stack::{Neighbours, loopback_listeners};
use egov_testkit::browser::{self, Page};
use egov_testkit::sandbox::KeyIssuer;
use serde_json::json;

/// Every citizen's password in these tests.
const PASSWORD: &str = "qazaqstan-2026";

/// The sandbox centre, certifying the signer's public keys; it remembers each serial.
struct SandboxCentre {
    issuer: KeyIssuer,
    issued: Mutex<Vec<(String, String)>>,
}

impl CertificationCentre for SandboxCentre {
    fn issue<'a>(
        &'a self,
        applicant: &'a Applicant,
        certification_request_der: Vec<u8>,
    ) -> IssueFuture<'a> {
        Box::pin(async move {
            // The centre certifies the key the request proves, as the real one does.
            let public_key_der =
                egov_core::pki::request::CertificationRequest::parse(&certification_request_der)
                    .expect("the signer's certification request")
                    .public_key_der;
            let holder = Holder {
                surname: applicant.surname.clone(),
                given_name: applicant.given_name.clone(),
                iin: applicant.iin,
                bin: None::<Bin>,
                organization: None,
                role: Role::Individual,
                purpose: KeyPurpose::Sign,
            };
            let chain = self.issuer.issue_for_key(&holder, &public_key_der);
            let serial = CertificateInfo::from_der(&chain[0])
                .expect("certificate")
                .serial;
            self.issued
                .lock()
                .expect("issued")
                .push((applicant.iin.to_string(), serial));
            Ok(Issued { chain })
        })
    }
}

/// The stack, the signer and the portal, running.
struct Stack {
    neighbours: Neighbours,
    centre: Arc<SandboxCentre>,
    portal: String,
    signer: String,
}

impl Stack {
    async fn start() -> Stack {
        Stack::start_beside(&systems::LABOR).await
    }

    /// Starts the stack with `target` (the Labour Market AIS for B, E-sobes for C) as the
    /// system the neighbours serve.
    async fn start_beside(target: &'static systems::SystemInfo) -> Stack {
        let neighbours = Neighbours::start(target, "egov-portal-tests").await;
        let dir = neighbours.sandbox.dir().to_owned();
        if target.id == systems::ESOBES.id {
            let (_, addr, _) = neighbours
                .start_system::<egov_esobes::Esobes>(|data_dir, gateway| {
                    let mut config = egov_esobes::Config::with_data_dir(data_dir);
                    config.gateway_endpoint = gateway;
                    config
                })
                .await;
            neighbours.route(
                addr,
                &[
                    egov_esobes::APPLY_SERVICE_ID,
                    egov_esobes::RESULT_SERVICE_ID,
                ],
                egov_esobes::DECIDED_SERVICE_ID,
            );
        } else {
            let (_, addr, _) = neighbours
                .start_system::<egov_labor::Labor>(|data_dir, gateway| {
                    let mut config = egov_labor::Config::with_data_dir(data_dir);
                    config.gateway_endpoint = gateway;
                    config
                })
                .await;
            neighbours.route(
                addr,
                &[APPLY_SERVICE_ID, RESULT_SERVICE_ID],
                DECIDED_SERVICE_ID,
            );
        }

        // The signer, certified by the sandbox centre.
        let centre = Arc::new(SandboxCentre {
            issuer: neighbours.sandbox.key_issuer(),
            issued: Mutex::new(Vec::new()),
        });
        let (grpc, http) = loopback_listeners().await;
        let signer = format!("http://{}", http.local_addr().expect("addr"));
        tokio::spawn(egov_signer::serve(
            egov_signer::Config::with_data_dir(dir.join("signer")),
            centre.clone(),
            Listeners { grpc, http },
            std::future::pending(),
        ));

        // The portal, sending citizens to the signer and back to its own pages.
        let portal = neighbours
            .start_portal(|config, url| {
                config.signer_url = signer.clone();
                config.public_url = url.to_owned();
            })
            .await
            .url;
        // Services A and F: through the regional gateway to the provider's workstation.
        let routes = neighbours.workstation_routes(&[systems::PORTAL.id]);
        neighbours.sandbox.start_regional_gateway(&routes).await;
        Stack {
            neighbours,
            centre,
            portal,
            signer,
        }
    }
}

/// Opens a headless Chromium tab at phone width (a 412 px wide window).
async fn browser() -> (browser::ChromeDriver, Page) {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    browser::open(412, 915, shots).await
}

impl Stack {
    /// Registers `iin` on the portal and signs in, in English.
    async fn register_and_sign_in(&self, page: &Page, iin: &str) {
        page.goto(&format!("{}/register?lang=en", self.portal))
            .await;
        page.fill("#iin", iin).await;
        page.fill("#password", PASSWORD).await;
        page.fill("#password2", PASSWORD).await;
        page.submit("#register").await;
        page.wait_for_url("/login").await;
        self.sign_in(page, iin, PASSWORD).await;
        page.wait_for_url("/cabinet").await;
    }

    async fn sign_in(&self, page: &Page, iin: &str, password: &str) {
        page.fill("#login", iin).await;
        page.fill("#password", password).await;
        page.submit("#signin-submit").await;
    }

    /// Makes a key for `iin` in the signer.
    async fn make_key(&self, page: &Page, iin: &str) {
        page.goto(&format!("{}/?lang=en", self.signer)).await;
        page.fill("#iin", iin).await;
        page.fill("#surname", "TEST").await;
        page.fill("#given_name", iin).await;
        page.submit("#get-certificate").await;
        // The signer keeps a key for `iin`.
        page.text_containing("#keys", iin).await;
    }

    /// Fills the form of B (nothing to attach on the portal) and goes to the signer.
    async fn file_b(&self, page: &Page, principal: Option<(&str, &str)>) {
        page.goto(&format!("{}/services/B?lang=en", self.portal))
            .await;
        if let Some((iin, number)) = principal {
            page.fill("#principal_iin", iin).await;
            page.fill("#power_of_attorney_number", number).await;
        }
        page.submit("#submit").await;
        page.wait_for_url("/sign/").await;
    }

    /// Signs in the signer with the key of `iin`, back to the portal's request page.
    async fn sign_with(&self, page: &Page, iin: &str, shot: Option<&str>) -> String {
        // The signer shows the request bytes before anything is signed.
        page.element("#payload-hex").await;
        page.click(&format!("#key option[value='{iin}']")).await;
        if let Some(name) = shot {
            page.screenshot(name).await;
        }
        page.submit("#sign").await;
        page.wait_for_url("/requests/").await
    }

    fn serial_of(&self, iin: &str) -> String {
        self.centre
            .issued
            .lock()
            .expect("issued")
            .iter()
            .rev()
            .find(|(holder, _)| holder == iin)
            .map(|(_, serial)| serial.clone())
            .expect("a certificate was issued")
    }
}

#[tokio::test]
async fn a_citizen_registers_files_b_signs_in_the_signer_and_gets_the_signed_result_in_the_cabinet()
{
    let stack = Stack::start().await;
    let (_driver, page) = browser().await;

    stack.register_and_sign_in(&page, UNEMPLOYED_ADULT).await;
    page.screenshot("portal-cabinet-empty").await;
    stack.make_key(&page, UNEMPLOYED_ADULT).await;
    page.screenshot("signer-keys").await;

    page.goto(&format!("{}/services/B?lang=en", stack.portal))
        .await;
    page.screenshot("portal-form-b").await;
    stack.file_b(&page, None).await;
    let request_url = stack
        .sign_with(&page, UNEMPLOYED_ADULT, Some("signer-request"))
        .await;
    assert_eq!(page.text_of("#state").await, "Registered");
    let number = page.text_of("#number").await;
    assert!(
        number.starts_with("LM-"),
        "a Labour Market number: {number}"
    );

    // The back office walks its five steps on the virtual clock; the head-signed result
    // reaches the cabinet through portal.cabinet.notify.
    let result = stack
        .neighbours
        .wait_for_result_of(RESULT_SERVICE_ID, &number)
        .await;
    assert_eq!(result.registration_number, number);
    let mut shown = String::new();
    for _ in 0..200 {
        page.goto(&request_url).await;
        if page.has("#signature-check").await {
            shown = page.text_of("#signature-check").await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.contains("The provider's EDS was checked"), "{shown}");
    assert!(
        shown.contains(egov_core::providers::EMPLOYMENT_CENTRE.bin),
        "signed for the employment centre's BIN: {shown}"
    );
    page.screenshot("portal-result").await;

    page.goto(&format!("{}/cabinet?lang=kk", stack.portal))
        .await;
    let history = page.text_of("#history").await;
    assert!(history.contains(&number), "{history}");
    assert!(history.contains("Нәтиже дайын"), "in Kazakh: {history}");
    page.screenshot("portal-cabinet").await;

    // A form posted without its CSRF token is refused, and nothing is kept.
    let status = page
        .client()
        .execute_async(
            "fetch('/api/services/B/requests', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{}'}).then((r) => arguments[0](r.status));",
            vec![],
        )
        .await
        .expect("fetch");
    assert_eq!(status, json!(403));
    page.goto(&format!("{}/cabinet?lang=en", stack.portal))
        .await;
    let rows = page.texts_of("#history tr.request").await;
    assert_eq!(rows.len(), 1, "the refused post kept nothing");

    // Another citizen asking for this request id is told it is not found.
    page.submit("#logout").await;
    page.text_of("#signin-form").await;
    stack.register_and_sign_in(&page, EMPLOYED_ADULT).await;
    page.goto(&request_url).await;
    assert!(page.text_of("#not-found").await.contains("No such request"));

    // A wrong password: refusal of authorisation.
    page.submit("#logout").await;
    page.goto(&format!("{}/login?lang=en", stack.portal)).await;
    stack
        .sign_in(&page, UNEMPLOYED_ADULT, "not-the-password")
        .await;
    let refusal = page.text_of("#signin-error").await;
    assert!(refusal.contains("Refusal of authorisation"), "{refusal}");
    page.close().await;
}

#[tokio::test]
async fn a_revoked_certificate_and_a_key_of_another_iin_are_refused_as_eds_not_confirmed() {
    let stack = Stack::start().await;
    let (_driver, page) = browser().await;
    stack.register_and_sign_in(&page, UNEMPLOYED_ADULT).await;

    // IIN mismatch: signed with the key of another person.
    stack.make_key(&page, EMPLOYED_ADULT).await;
    stack.file_b(&page, None).await;
    stack.sign_with(&page, EMPLOYED_ADULT, None).await;
    let refusal = page.text_of("#refusal").await;
    assert!(
        refusal.contains("EDS authenticity not confirmed"),
        "{refusal}"
    );
    assert!(refusal.contains("IIN"), "names the IIN check: {refusal}");

    // A revoked certificate.
    stack.make_key(&page, UNEMPLOYED_ADULT).await;
    stack.neighbours.sandbox.revocation().revoke(
        &stack.serial_of(UNEMPLOYED_ADULT),
        stack.neighbours.clock.now() - time::Duration::hours(1),
        "keyCompromise",
    );
    stack.file_b(&page, None).await;
    stack.sign_with(&page, UNEMPLOYED_ADULT, None).await;
    let refusal = page.text_of("#refusal").await;
    assert!(
        refusal.contains("EDS authenticity not confirmed"),
        "{refusal}"
    );
    assert!(
        refusal.to_lowercase().contains("revoked"),
        "names the revocation: {refusal}"
    );
    page.screenshot("portal-eds-refused").await;
    page.close().await;
}

#[tokio::test]
async fn a_representative_files_b_by_power_of_attorney_and_the_principal_sees_it_in_their_cabinet()
{
    let stack = Stack::start().await;
    stack
        .neighbours
        .notarise("ENIS-000601", UNEMPLOYED_ADULT, REPRESENTATIVE, "B")
        .await;
    let (_driver, page) = browser().await;
    stack.register_and_sign_in(&page, REPRESENTATIVE).await;
    stack.make_key(&page, REPRESENTATIVE).await;
    stack
        .file_b(&page, Some((UNEMPLOYED_ADULT, "ENIS-000601")))
        .await;
    let request_url = stack.sign_with(&page, REPRESENTATIVE, None).await;
    assert_eq!(page.text_of("#state").await, "Registered");

    page.submit("#logout").await;
    page.text_of("#signin-form").await;
    stack.register_and_sign_in(&page, UNEMPLOYED_ADULT).await;
    let history = page.text_of("#history").await;
    assert!(
        history.contains(REPRESENTATIVE),
        "filed by the representative: {history}"
    );
    page.goto(&request_url).await;
    assert_eq!(page.text_of("#state").await, "Registered");
    page.close().await;
}

/// Writes a small PDF to attach, returning its path.
fn pdf_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, b"%PDF-1.4\n% an item-9 document\n%%EOF\n").expect("pdf written");
    path
}

#[tokio::test]
async fn a_representative_files_c_by_notarised_power_of_attorney_and_the_principal_sees_it_in_their_cabinet()
 {
    let stack = Stack::start_beside(&systems::ESOBES).await;
    stack
        .neighbours
        .notarise("ENIS-000701", PARENT_OF_DISABLED_CHILD, REPRESENTATIVE, "C")
        .await;
    let files = stack.neighbours.sandbox.dir().join("uploads");
    std::fs::create_dir_all(&files).expect("uploads dir");
    let (_driver, page) = browser().await;
    stack.register_and_sign_in(&page, REPRESENTATIVE).await;
    stack.make_key(&page, REPRESENTATIVE).await;

    page.goto(&format!("{}/services/C?lang=ru", stack.portal))
        .await;
    page.fill("#field-child_iin", DISABLED_CHILD).await;
    page.click("#field-home_schooling").await;
    for code in ["pmpc_conclusion", "home_schooling_certificate"] {
        let path = pdf_file(&files, &format!("{code}.pdf"));
        page.attach(&format!("#doc-{code}"), &path).await;
    }
    page.fill("#principal_iin", PARENT_OF_DISABLED_CHILD).await;
    page.fill("#power_of_attorney_number", "ENIS-000701").await;
    page.screenshot("portal-form-c-representative").await;
    page.submit("#submit").await;
    page.wait_for_url("/sign/").await;
    let request_url = stack.sign_with(&page, REPRESENTATIVE, None).await;
    assert_eq!(page.text_of("#state").await, "Зарегистрирована");

    page.submit("#logout").await;
    page.text_of("#signin-form").await;
    stack
        .register_and_sign_in(&page, PARENT_OF_DISABLED_CHILD)
        .await;
    let history = page.text_of("#history").await;
    assert!(
        history.contains(REPRESENTATIVE),
        "filed by the representative: {history}"
    );
    // The principal opens the same request (its page in Russian, as the link asks).
    page.goto(&request_url).await;
    assert_eq!(page.text_of("#state").await, "Зарегистрирована");
    page.close().await;
}

#[tokio::test]
async fn a_citizen_files_guardianship_through_the_regional_gateway_and_gets_the_signed_resolution_in_the_cabinet()
 {
    let stack = Stack::start().await;
    let files = stack.neighbours.sandbox.dir().join("uploads");
    std::fs::create_dir_all(&files).expect("uploads dir");
    let (_driver, page) = browser().await;
    stack.register_and_sign_in(&page, GUARDIAN).await;
    stack.make_key(&page, GUARDIAN).await;

    page.goto(&format!("{}/services/F?lang=en", stack.portal))
        .await;
    for code in [
        "child_birth_certificate",
        "parental_care_loss_document",
        "health_certificate",
    ] {
        let path = pdf_file(&files, &format!("{code}.pdf"));
        page.attach(&format!("#doc-{code}"), &path).await;
    }
    page.screenshot("portal-form-f").await;
    page.submit("#submit").await;
    page.wait_for_url("/sign/").await;
    let request_url = stack.sign_with(&page, GUARDIAN, None).await;
    assert_eq!(page.text_of("#state").await, "Registered");
    let number = page.text_of("#number").await;
    assert!(
        number.starts_with("BO-"),
        "registered by the provider's workstation behind the regional gateway: {number}"
    );

    // 28 calendar days of examination on the virtual clock, then the head-signed resolution
    // reaches the cabinet through portal.cabinet.notify. The session does not outlive the
    // month: the citizen signs in again to read it.
    for _ in 0..100 {
        if let Some(deadline) = stack.neighbours.clock.next_deadline() {
            stack.neighbours.clock.advance_to(deadline).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    page.goto(&format!("{}/login?lang=en", stack.portal)).await;
    stack.sign_in(&page, GUARDIAN, PASSWORD).await;
    page.wait_for_url("/cabinet").await;
    let mut shown = String::new();
    for _ in 0..100 {
        page.goto(&request_url).await;
        if page.has("#signature-check").await {
            shown = page.text_of("#signature-check").await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.contains("The provider's EDS was checked"), "{shown}");
    // F is the guardianship body's: its head signed under its BIN.
    assert!(
        shown.contains(egov_core::providers::KOSTANAY_EDUCATION_DEPARTMENT.bin),
        "{shown}"
    );
    page.screenshot("portal-result-f").await;
    page.close().await;
}
