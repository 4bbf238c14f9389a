//! The portal in a real browser (FLOWS.md, common portal flow; services B): the real
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
    DISABLED_CHILD, EMPLOYED_ADULT, PARENT_OF_DISABLED_CHILD, REPRESENTATIVE, UNEMPLOYED_ADULT,
};
use egov_core::clock::Clock;
use egov_core::pki::authority::Holder;
use egov_core::pki::{CertificateInfo, KeyPurpose, Role};
use egov_core::systems;
use egov_core::{Bin, Iin};
use egov_labor::{APPLY_SERVICE_ID, DECIDED_SERVICE_ID, RESULT_SERVICE_ID};
use egov_notary::PowerOfAttorney;
use egov_signer::centre::{Applicant, IssueFuture};
use egov_signer::{CertificationCentre, Issued};
use egov_system::Parts;
use egov_system::cabinet::CABINET_NOTIFY_SERVICE_ID;
use egov_test_stack::{Neighbours, loopback_listeners};
use egov_testkit::sandbox::KeyIssuer;
use fantoccini::{Client, Locator};
use serde_json::json;

/// How long chromedriver may take to listen, and a page to show an element.
const READY_WITHIN: Duration = Duration::from_secs(60);

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
        let (grpc, http) = loopback_listeners().await;
        let target_addr = grpc.local_addr().expect("addr");
        if target.id == systems::ESOBES.id {
            let mut config = egov_esobes::Config::with_data_dir(dir.join("esobes"));
            config.gateway_endpoint = neighbours.sandbox.gateway_endpoint();
            std::fs::create_dir_all(&config.data_dir).expect("esobes dir");
            let store = egov_esobes::Store::open(&config.database_url())
                .await
                .expect("esobes store");
            tokio::spawn(egov_system::runtime::serve::<egov_esobes::Esobes, _>(
                config,
                Parts {
                    identity: neighbours.identity.clone(),
                    verifier: neighbours.sandbox.verifier(),
                    store,
                    clock: neighbours.clock.shared(),
                },
                Listeners { grpc, http },
                None,
                std::future::pending(),
            ));
            neighbours.route(
                target_addr,
                &[
                    egov_esobes::APPLY_SERVICE_ID,
                    egov_esobes::RESULT_SERVICE_ID,
                ],
                egov_esobes::DECIDED_SERVICE_ID,
            );
        } else {
            let mut config = egov_labor::Config::with_data_dir(dir.join("labor"));
            config.gateway_endpoint = neighbours.sandbox.gateway_endpoint();
            std::fs::create_dir_all(&config.data_dir).expect("labor dir");
            let store = egov_labor::Store::open(&config.database_url())
                .await
                .expect("labor store");
            tokio::spawn(egov_system::runtime::serve::<egov_labor::Labor, _>(
                config,
                Parts {
                    identity: neighbours.identity.clone(),
                    verifier: neighbours.sandbox.verifier(),
                    store,
                    clock: neighbours.clock.shared(),
                },
                Listeners { grpc, http },
                None,
                std::future::pending(),
            ));
            neighbours.route(
                target_addr,
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

        // The portal.
        let mut config = egov_portal::Config::with_data_dir(dir.join("portal"));
        config.gateway_endpoint = neighbours.sandbox.gateway_endpoint();
        config.signer_url = signer.clone();
        let (grpc, http) = loopback_listeners().await;
        let portal_grpc = grpc.local_addr().expect("addr");
        let portal = format!("http://{}", http.local_addr().expect("addr"));
        config.public_url = portal.clone();
        std::fs::create_dir_all(&config.data_dir).expect("portal dir");
        let store = egov_portal::Store::open(&config.database_url())
            .await
            .expect("portal store");
        tokio::spawn(egov_system::runtime::serve::<egov_portal::Portal, _>(
            config,
            Parts {
                identity: neighbours
                    .sandbox
                    .system(systems::PORTAL.id, systems::PORTAL.bin),
                verifier: neighbours.sandbox.verifier(),
                store,
                clock: neighbours.clock.shared(),
            },
            Listeners { grpc, http },
            None,
            std::future::pending(),
        ));
        neighbours.sandbox.route(
            CABINET_NOTIFY_SERVICE_ID,
            systems::PORTAL.id,
            portal_grpc,
            &[systems::BACKOFFICE.id],
        );
        Stack {
            neighbours,
            centre,
            portal,
            signer,
        }
    }
}

/// Opens a headless Chromium session at phone width (a 412 px wide window).
async fn browser() -> (egov_testkit::browser::ChromeDriver, Client) {
    let mut driver = egov_testkit::browser::ChromeDriver::start();
    let webdriver = driver.ready().await;
    let chromium = egov_testkit::browser::chromium();
    let client = egov_testkit::browser::session(&webdriver, &chromium, 412, 915).await;
    (driver, client)
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} on the page: {error}"))
        .text()
        .await
        .unwrap_or_else(|error| panic!("no text of {css}: {error}"))
}

async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to click: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("cannot click {css}: {error}"));
}

async fn fill(client: &Client, css: &str, value: &str) {
    let element = client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to fill: {error}"));
    element.clear().await.expect("clear");
    element
        .send_keys(value)
        .await
        .unwrap_or_else(|error| panic!("cannot fill {css}: {error}"));
}

async fn goto(client: &Client, url: &str) {
    client
        .goto(url)
        .await
        .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
}

async fn wait_for_url(client: &Client, part: &str) -> String {
    let deadline = tokio::time::Instant::now() + READY_WITHIN;
    loop {
        let url = client.current_url().await.expect("url").to_string();
        if url.contains(part) {
            return url;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the browser is at {url}, never at {part}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a screenshot as `target/screenshots/<name>.png`.
async fn screenshot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
}

impl Stack {
    /// Registers `iin` on the portal and signs in, in English.
    async fn register_and_sign_in(&self, client: &Client, iin: &str) {
        goto(client, &format!("{}/register?lang=en", self.portal)).await;
        fill(client, "#iin", iin).await;
        fill(client, "#password", PASSWORD).await;
        fill(client, "#password2", PASSWORD).await;
        click(client, "#register").await;
        wait_for_url(client, "/login").await;
        self.sign_in(client, iin, PASSWORD).await;
        wait_for_url(client, "/cabinet").await;
    }

    async fn sign_in(&self, client: &Client, iin: &str, password: &str) {
        fill(client, "#login", iin).await;
        fill(client, "#password", password).await;
        click(client, "#signin-submit").await;
    }

    /// Makes a key for `iin` in the signer.
    async fn make_key(&self, client: &Client, iin: &str) {
        goto(client, &format!("{}/?lang=en", self.signer)).await;
        fill(client, "#iin", iin).await;
        fill(client, "#surname", "TEST").await;
        fill(client, "#given_name", iin).await;
        click(client, "#get-certificate").await;
        let keys = text_of(client, "#keys").await;
        assert!(
            keys.contains(iin),
            "the signer keeps a key for {iin}: {keys}"
        );
    }

    /// Fills the form of B (nothing to attach on the portal) and goes to the signer.
    async fn file_b(&self, client: &Client, principal: Option<(&str, &str)>) {
        goto(client, &format!("{}/services/B?lang=en", self.portal)).await;
        if let Some((iin, number)) = principal {
            fill(client, "#principal_iin", iin).await;
            fill(client, "#power_of_attorney_number", number).await;
        }
        click(client, "#submit").await;
        wait_for_url(client, "/sign/").await;
    }

    /// Signs in the signer with the key of `iin`, back to the portal's request page.
    async fn sign_with(&self, client: &Client, iin: &str, shot: Option<&str>) -> String {
        client
            .wait()
            .at_most(READY_WITHIN)
            .for_element(Locator::Css("#payload-hex"))
            .await
            .expect("the signer shows the request bytes");
        client
            .find(Locator::Css(&format!("#key option[value='{iin}']")))
            .await
            .unwrap_or_else(|error| panic!("no key of {iin} to pick: {error}"))
            .click()
            .await
            .expect("pick the key");
        if let Some(name) = shot {
            screenshot(client, name).await;
        }
        click(client, "#sign").await;
        wait_for_url(client, "/requests/").await
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
    let (_driver, client) = browser().await;

    stack.register_and_sign_in(&client, UNEMPLOYED_ADULT).await;
    screenshot(&client, "portal-cabinet-empty").await;
    stack.make_key(&client, UNEMPLOYED_ADULT).await;
    screenshot(&client, "signer-keys").await;

    goto(&client, &format!("{}/services/B?lang=en", stack.portal)).await;
    screenshot(&client, "portal-form-b").await;
    stack.file_b(&client, None).await;
    let request_url = stack
        .sign_with(&client, UNEMPLOYED_ADULT, Some("signer-request"))
        .await;
    assert_eq!(text_of(&client, "#state").await, "Registered");
    let number = text_of(&client, "#number").await;
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
        goto(&client, &request_url).await;
        if let Ok(element) = client.find(Locator::Css("#signature-check")).await {
            shown = element.text().await.expect("text");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.contains("The provider's EDS was checked"), "{shown}");
    assert!(
        shown.contains("040340001104"),
        "signed for the back office's BIN: {shown}"
    );
    screenshot(&client, "portal-result").await;

    goto(&client, &format!("{}/cabinet?lang=kk", stack.portal)).await;
    let history = text_of(&client, "#history").await;
    assert!(history.contains(&number), "{history}");
    assert!(history.contains("Нәтиже дайын"), "in Kazakh: {history}");
    screenshot(&client, "portal-cabinet").await;

    // A form posted without its CSRF token is refused, and nothing is kept.
    let status = client
        .execute_async(
            "fetch('/api/services/B/requests', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{}'}).then((r) => arguments[0](r.status));",
            vec![],
        )
        .await
        .expect("fetch");
    assert_eq!(status, json!(403));
    goto(&client, &format!("{}/cabinet?lang=en", stack.portal)).await;
    let rows = client
        .find_all(Locator::Css("#history tr.request"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "the refused post kept nothing");

    // Another citizen asking for this request id is told it is not found.
    click(&client, "#logout").await;
    text_of(&client, "#signin-form").await;
    stack.register_and_sign_in(&client, EMPLOYED_ADULT).await;
    goto(&client, &request_url).await;
    assert!(
        text_of(&client, "#not-found")
            .await
            .contains("No such request")
    );

    // A wrong password: refusal of authorisation.
    click(&client, "#logout").await;
    goto(&client, &format!("{}/login?lang=en", stack.portal)).await;
    stack
        .sign_in(&client, UNEMPLOYED_ADULT, "not-the-password")
        .await;
    let refusal = text_of(&client, "#signin-error").await;
    assert!(refusal.contains("Refusal of authorisation"), "{refusal}");
    client.close().await.expect("close");
}

#[tokio::test]
async fn a_revoked_certificate_and_a_key_of_another_iin_are_refused_as_eds_not_confirmed() {
    let stack = Stack::start().await;
    let (_driver, client) = browser().await;
    stack.register_and_sign_in(&client, UNEMPLOYED_ADULT).await;

    // IIN mismatch: signed with the key of another person.
    stack.make_key(&client, EMPLOYED_ADULT).await;
    stack.file_b(&client, None).await;
    stack.sign_with(&client, EMPLOYED_ADULT, None).await;
    let refusal = text_of(&client, "#refusal").await;
    assert!(
        refusal.contains("EDS authenticity not confirmed"),
        "{refusal}"
    );
    assert!(refusal.contains("IIN"), "names the IIN check: {refusal}");

    // A revoked certificate.
    stack.make_key(&client, UNEMPLOYED_ADULT).await;
    stack.neighbours.sandbox.revocation().revoke(
        &stack.serial_of(UNEMPLOYED_ADULT),
        stack.neighbours.clock.now() - time::Duration::hours(1),
        "keyCompromise",
    );
    stack.file_b(&client, None).await;
    stack.sign_with(&client, UNEMPLOYED_ADULT, None).await;
    let refusal = text_of(&client, "#refusal").await;
    assert!(
        refusal.contains("EDS authenticity not confirmed"),
        "{refusal}"
    );
    assert!(
        refusal.to_lowercase().contains("revoked"),
        "names the revocation: {refusal}"
    );
    screenshot(&client, "portal-eds-refused").await;
    client.close().await.expect("close");
}

#[tokio::test]
async fn a_representative_files_b_by_power_of_attorney_and_the_principal_sees_it_in_their_cabinet()
{
    let stack = Stack::start().await;
    let today = egov_system::intake::local_date(stack.neighbours.clock.now());
    stack
        .neighbours
        .notary
        .insert(
            &PowerOfAttorney {
                number: "ENIS-000601".into(),
                principal_iin: Iin::parse(UNEMPLOYED_ADULT).expect("IIN"),
                representative_iin: Iin::parse(REPRESENTATIVE).expect("IIN"),
                service_ids: vec!["B".into()],
                notary_name: "Жумабекова Айгерим Нурлановна".into(),
                issue_date: today - time::Duration::days(10),
                expiry_date: today + time::Duration::days(355),
                revoked: false,
            },
            stack.neighbours.clock.now(),
        )
        .await
        .expect("registered in the notary registry");
    let (_driver, client) = browser().await;
    stack.register_and_sign_in(&client, REPRESENTATIVE).await;
    stack.make_key(&client, REPRESENTATIVE).await;
    stack
        .file_b(&client, Some((UNEMPLOYED_ADULT, "ENIS-000601")))
        .await;
    let request_url = stack.sign_with(&client, REPRESENTATIVE, None).await;
    assert_eq!(text_of(&client, "#state").await, "Registered");

    click(&client, "#logout").await;
    text_of(&client, "#signin-form").await;
    stack.register_and_sign_in(&client, UNEMPLOYED_ADULT).await;
    let history = text_of(&client, "#history").await;
    assert!(
        history.contains(REPRESENTATIVE),
        "filed by the representative: {history}"
    );
    goto(&client, &request_url).await;
    assert_eq!(text_of(&client, "#state").await, "Registered");
    client.close().await.expect("close");
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
    let today = egov_system::intake::local_date(stack.neighbours.clock.now());
    stack
        .neighbours
        .notary
        .insert(
            &PowerOfAttorney {
                number: "ENIS-000701".into(),
                principal_iin: Iin::parse(PARENT_OF_DISABLED_CHILD).expect("IIN"),
                representative_iin: Iin::parse(REPRESENTATIVE).expect("IIN"),
                service_ids: vec!["C".into()],
                notary_name: "Жумабекова Айгерим Нурлановна".into(),
                issue_date: today - time::Duration::days(10),
                expiry_date: today + time::Duration::days(355),
                revoked: false,
            },
            stack.neighbours.clock.now(),
        )
        .await
        .expect("registered in the notary registry");
    let files = stack.neighbours.sandbox.dir().join("uploads");
    std::fs::create_dir_all(&files).expect("uploads dir");
    let (_driver, client) = browser().await;
    stack.register_and_sign_in(&client, REPRESENTATIVE).await;
    stack.make_key(&client, REPRESENTATIVE).await;

    goto(&client, &format!("{}/services/C?lang=ru", stack.portal)).await;
    fill(&client, "#field-child_iin", DISABLED_CHILD).await;
    click(&client, "#field-home_schooling").await;
    for code in ["pmpc_conclusion", "home_schooling_certificate"] {
        let path = pdf_file(&files, &format!("{code}.pdf"));
        client
            .find(Locator::Css(&format!("#doc-{code}")))
            .await
            .expect("upload field")
            .send_keys(&path.display().to_string())
            .await
            .expect("file chosen");
    }
    fill(&client, "#principal_iin", PARENT_OF_DISABLED_CHILD).await;
    fill(&client, "#power_of_attorney_number", "ENIS-000701").await;
    screenshot(&client, "portal-form-c-representative").await;
    click(&client, "#submit").await;
    wait_for_url(&client, "/sign/").await;
    let request_url = stack.sign_with(&client, REPRESENTATIVE, None).await;
    assert_eq!(text_of(&client, "#state").await, "Зарегистрирована");

    click(&client, "#logout").await;
    text_of(&client, "#signin-form").await;
    stack
        .register_and_sign_in(&client, PARENT_OF_DISABLED_CHILD)
        .await;
    let history = text_of(&client, "#history").await;
    assert!(
        history.contains(REPRESENTATIVE),
        "filed by the representative: {history}"
    );
    // The principal opens the same request (its page in Russian, as the link asks).
    goto(&client, &request_url).await;
    assert_eq!(text_of(&client, "#state").await, "Зарегистрирована");
    client.close().await.expect("close");
}
