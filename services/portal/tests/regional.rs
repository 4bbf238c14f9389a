//! Services A, D and F filed on the portal travel through the regional gateway (FLOWS.md,
//! service A: «через ШЭП в РШЭП АРМ», seed `003_…` item 9 process 5; service F: the request
//! registered in «ЭҮАШ АЖО», seed `004_…` annex 2; service D: «электрондық үкіметтің шлюзі /
//! өңірлік шлюзі арқылы» to the queue register, seed `002_…` item 7). The portal's own filing
//! code prepares the request, the citizen signs its exact bytes with their own key (as in the
//! external signer), condition 2 is checked, and the request goes portal → ШЭП → РШЭП → the
//! provider's workstation (the real back office, automatic policy, on the virtual clock) or the
//! real queue register; for A and F the statuses and the head-signed result come back into the
//! portal's cabinet. Both gateways' message logs show their hops.

use std::time::Duration;

use egov_backoffice::{ADOPTION_APPLY_SERVICE_ID, GUARDIANSHIP_APPLY_SERVICE_ID};
use egov_citizens::fixtures::{
    ADOPTION_APPLICANT, CHILD_UNDER_7, GUARDIAN, PARENT_OF_CHILD_UNDER_7,
};
use egov_core::clock::Clock as _;
use egov_core::systems;
use egov_gateway::log_service::diagram;
use egov_gateway::message_log::MessageLog;
use egov_portal::filing::{Filed, Filing, prepare, target_of};
use egov_portal::store::{NotificationRow, RequestRow};
use egov_proto::v1::{AttachedDocument, Channel, Header, ServiceApplication};
use egov_queue::fixtures::{KYZGALDAK, KYZYLORDA_CITY, NURSAT};
use egov_system::cabinet::CABINET_NOTIFY_SERVICE_ID;
use egov_test_stack::{Neighbours, document};
use egov_testkit::sandbox::RegionalGateway;
use prost::Message as _;

/// The portal, the national and regional gateways, and the back office behind the regional one.
struct Stack {
    neighbours: Neighbours,
    regional: RegionalGateway,
    /// The portal's store: its cabinet.
    cabinet: egov_portal::Store,
    /// The portal's filing, as its pages use it.
    filing: Filing,
    /// The queue register's HTTP side, where an operator frees places.
    queue_http: std::net::SocketAddr,
}

impl Stack {
    async fn start() -> Stack {
        let neighbours = Neighbours::start(&systems::QUEUE, "egov-portal-regional-tests").await;
        // The queue register, service D's, with its fixture kindergartens.
        let (_, queue, queue_http) = neighbours
            .start_system::<egov_queue::Queue>(|data_dir, gateway| {
                let mut config = egov_queue::Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;
        neighbours.route(
            queue,
            &[
                egov_queue::POSITION_SERVICE_ID,
                egov_queue::RESULT_SERVICE_ID,
            ],
            egov_queue::DECIDED_SERVICE_ID,
        );
        let workstation = neighbours.backoffice_addr();
        let fronts: &[&str] = &[systems::PORTAL.id];
        let regional = neighbours
            .sandbox
            .start_regional_gateway(&[
                (
                    ADOPTION_APPLY_SERVICE_ID,
                    systems::BACKOFFICE.id,
                    workstation,
                    fronts,
                ),
                (
                    GUARDIANSHIP_APPLY_SERVICE_ID,
                    systems::BACKOFFICE.id,
                    workstation,
                    fronts,
                ),
                (
                    egov_queue::PLACE_SERVICE_ID,
                    systems::QUEUE.id,
                    queue,
                    fronts,
                ),
            ])
            .await;

        // The portal, whose cabinet receives the back office's statuses and results.
        let portal = neighbours.start_portal(|_, _| {}).await;
        // As deploy/local/registry.toml routes it: the queue register sends the referrals a
        // place freed later, beside the back office's statuses and results.
        neighbours.sandbox.route(
            CABINET_NOTIFY_SERVICE_ID,
            systems::PORTAL.id,
            portal.grpc,
            &[systems::BACKOFFICE.id, systems::QUEUE.id],
        );
        let cabinet = portal.store;
        let filing = Filing {
            caller: neighbours.portal.clone(),
            check: neighbours.sandbox.verifier(),
            clock: neighbours.clock.shared(),
        };
        Stack {
            neighbours,
            regional,
            cabinet,
            filing,
            queue_http,
        }
    }

    /// Files `application` as the citizen `iin` the way the portal does: the exact request
    /// bytes, the citizen's signature over them, condition 2, then through the gateway.
    /// Returns the registration number and the request's correlation id.
    async fn file(&self, iin: &str, application: ServiceApplication) -> (String, String) {
        let (filed, correlation_id) = self.file_answered(iin, application).await;
        (filed.registered.registration_number, correlation_id)
    }

    /// Files as [`Stack::file`] does; returns the whole answer and the correlation id.
    async fn file_answered(&self, iin: &str, application: ServiceApplication) -> (Filed, String) {
        let target = target_of(&application.service_code).expect("filed on the portal");
        let prepared = prepare(&self.neighbours.portal, target, application, iin);
        let header = Header::decode(&prepared.header[..]).expect("header");
        // The citizen's own key signs the bytes the portal prepared (the external signer's part).
        let signature = self
            .neighbours
            .citizen(iin)
            .seal(&header, prepared.payload.clone())
            .expect("signs")
            .signatures
            .remove(0);
        let envelope = self
            .filing
            .condition_2(&prepared, signature)
            .await
            .expect("condition 2 holds");
        let registered = self
            .filing
            .send(envelope)
            .await
            .expect("registered by the workstation");
        (registered, header.correlation_id)
    }

    /// Moves the virtual clock timer by timer until the result of `number` is in the cabinet;
    /// returns every notification about it, oldest first.
    async fn wait_for_result_in_cabinet(&self, number: &str) -> Vec<NotificationRow> {
        for _ in 0..1000 {
            let rows = self.cabinet.notifications(number).await.expect("cabinet");
            if rows.iter().any(|row| row.status == "issued") {
                return rows;
            }
            if let Some(deadline) = self.neighbours.clock.next_deadline() {
                self.neighbours.clock.advance_to(deadline).await;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no result of {number} reached the cabinet");
    }

    /// The national and the regional gateway's diagrams of one exchange, once each shows
    /// the answer's last hop (a gateway logs it as the answer leaves).
    async fn diagrams(&self, correlation_id: &str, service_id: &str) -> (String, String) {
        let national = self.neighbours.sandbox.gateway().log();
        let regional = self.regional.gateway.log();
        (
            logged(
                national,
                systems::GATEWAY.id,
                Key::Correlation(correlation_id),
                &format!("shep-->>portal: {service_id} (RESPONSE)"),
            )
            .await,
            logged(
                regional,
                systems::REGIONAL_GATEWAY.id,
                Key::Correlation(correlation_id),
                &format!("rshep-->>portal: {service_id} (RESPONSE)"),
            )
            .await,
        )
    }

    /// The national gateway's diagram of the message that brought `row` into the cabinet.
    async fn delivery_diagram(&self, row: &NotificationRow) -> String {
        logged(
            self.neighbours.sandbox.gateway().log(),
            systems::GATEWAY.id,
            Key::Message(&row.id),
            &format!("shep->>portal: {CABINET_NOTIFY_SERVICE_ID} (REQUEST)"),
        )
        .await
    }
}

/// What a log is read by.
enum Key<'a> {
    Correlation(&'a str),
    Message(&'a str),
}

/// Returns the diagram of what `log` holds under `key` once it contains `last`, or what it
/// holds after two seconds (the assertions then say what is missing).
async fn logged(log: &MessageLog, gateway: &str, key: Key<'_>, last: &str) -> String {
    let mut drawn = String::new();
    for _ in 0..200 {
        log.flush().await.expect("flush");
        let records = match key {
            Key::Correlation(id) => log.by_correlation_id(id).await,
            Key::Message(id) => log.by_message_id(id).await,
        }
        .expect("message log");
        drawn = diagram(gateway, &records);
        if drawn.contains(last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drawn
}

/// The result among a request's notifications.
fn issued(rows: &[NotificationRow]) -> &NotificationRow {
    rows.iter()
        .find(|row| row.status == "issued")
        .expect("a result")
}

fn application(code: &str, iin: &str, documents: Vec<AttachedDocument>) -> ServiceApplication {
    ServiceApplication {
        service_code: code.into(),
        channel: Channel::Portal as i32,
        recipient_iin: iin.into(),
        documents,
        ..ServiceApplication::default()
    }
}

fn valid_for_a_year(kind: &str, from: time::OffsetDateTime) -> AttachedDocument {
    let until = from.date() + time::Duration::days(365);
    AttachedDocument {
        valid_until: Some(egov_proto::v1::Date {
            year: until.year(),
            month: i32::from(u8::from(until.month())),
            day: i32::from(until.day()),
        }),
        ..document(kind)
    }
}

/// Asserts the request's hops: portal → ШЭП → РШЭП → `target`, and the answer back.
fn assert_relayed_through_the_regional_gateway(
    service_id: &str,
    target: &str,
    national: &str,
    regional: &str,
) {
    for hop in [
        format!("portal->>shep: {service_id} (REQUEST)"),
        format!("shep->>rshep: {service_id} (REQUEST)"),
        format!("rshep-->>shep: {service_id} (RESPONSE)"),
        format!("shep-->>portal: {service_id} (RESPONSE)"),
    ] {
        assert!(national.contains(&hop), "{hop} in\n{national}");
    }
    assert!(
        national.contains("participant rshep as РШЭП"),
        "the national log draws the regional gateway as РШЭП:\n{national}"
    );
    for hop in [
        format!("portal->>rshep: {service_id} (REQUEST)"),
        format!("rshep->>{target}: {service_id} (REQUEST)"),
        format!("{target}-->>rshep: {service_id} (RESPONSE)"),
        format!("rshep-->>portal: {service_id} (RESPONSE)"),
    ] {
        assert!(regional.contains(&hop), "{hop} in\n{regional}");
    }
}

/// Asserts the cabinet got the registration, then a result signed by the provider's head,
/// carried by the back office through the national gateway to the portal.
async fn assert_result_in_cabinet(stack: &Stack, rows: &[NotificationRow], kind: &str) {
    assert!(
        rows.iter().any(|row| row.status == "registered"),
        "{rows:#?}"
    );
    let result = issued(rows);
    assert_eq!(result.kind, kind, "{result:#?}");
    // A and F are Kostanay district's education department's (the guardianship body's).
    let provider = egov_core::providers::KOSTANAY_EDUCATION_DEPARTMENT;
    assert_eq!(result.signer_iin, provider.head.iin, "signed by its head");
    assert_eq!(result.signer_bin, provider.bin);
    let delivery = stack.delivery_diagram(result).await;
    assert!(
        delivery.contains(&format!(
            "backoffice->>shep: {CABINET_NOTIFY_SERVICE_ID} (REQUEST)"
        )),
        "{delivery}"
    );
    assert!(
        delivery.contains(&format!(
            "shep->>portal: {CABINET_NOTIFY_SERVICE_ID} (REQUEST)"
        )),
        "{delivery}"
    );
}

#[tokio::test]
async fn adoption_candidate_registration_filed_on_the_portal_travels_through_the_regional_gateway()
{
    let stack = Stack::start().await;
    let now = stack.neighbours.clock.now();
    let (number, correlation_id) = stack
        .file(
            ADOPTION_APPLICANT,
            application(
                "A",
                ADOPTION_APPLICANT,
                vec![
                    document("application"),
                    document("no_criminal_record_certificate"),
                    valid_for_a_year("health_certificate", now),
                ],
            ),
        )
        .await;

    let (national, regional) = stack
        .diagrams(&correlation_id, ADOPTION_APPLY_SERVICE_ID)
        .await;
    assert_relayed_through_the_regional_gateway(
        ADOPTION_APPLY_SERVICE_ID,
        systems::BACKOFFICE.id,
        &national,
        &regional,
    );
    let rows = stack.wait_for_result_in_cabinet(&number).await;
    assert!(
        rows.iter()
            .all(|row| row.recipient_iin == ADOPTION_APPLICANT)
    );
    assert_result_in_cabinet(&stack, &rows, "RESULT_KIND_NOTIFICATION").await;
}

#[tokio::test]
async fn guardianship_filed_on_the_portal_travels_through_the_regional_gateway() {
    let stack = Stack::start().await;
    let (number, correlation_id) = stack
        .file(
            GUARDIAN,
            application(
                "F",
                GUARDIAN,
                vec![
                    document("application"),
                    document("child_birth_certificate"),
                    document("parental_care_loss_document"),
                    document("health_certificate"),
                ],
            ),
        )
        .await;

    let (national, regional) = stack
        .diagrams(&correlation_id, GUARDIANSHIP_APPLY_SERVICE_ID)
        .await;
    assert_relayed_through_the_regional_gateway(
        GUARDIANSHIP_APPLY_SERVICE_ID,
        systems::BACKOFFICE.id,
        &national,
        &regional,
    );
    let rows = stack.wait_for_result_in_cabinet(&number).await;
    assert_result_in_cabinet(&stack, &rows, "RESULT_KIND_RESOLUTION").await;
}

#[tokio::test]
async fn adoption_filed_without_the_criminal_record_certificate_is_refused_into_the_cabinet() {
    // Seed 003_…: an incomplete item-9 package is a refusal to accept the application.
    let stack = Stack::start().await;
    let now = stack.neighbours.clock.now();
    let (number, correlation_id) = stack
        .file(
            ADOPTION_APPLICANT,
            application(
                "A",
                ADOPTION_APPLICANT,
                vec![
                    document("application"),
                    valid_for_a_year("health_certificate", now),
                ],
            ),
        )
        .await;

    let (national, regional) = stack
        .diagrams(&correlation_id, ADOPTION_APPLY_SERVICE_ID)
        .await;
    assert_relayed_through_the_regional_gateway(
        ADOPTION_APPLY_SERVICE_ID,
        systems::BACKOFFICE.id,
        &national,
        &regional,
    );
    let rows = stack.wait_for_result_in_cabinet(&number).await;
    let refusal = issued(&rows);
    assert!(
        refusal.fields_json.contains("refusal_to_accept"),
        "{refusal:#?}"
    );
    assert!(
        refusal
            .fields_json
            .contains("missing required item-9 documents: no_criminal_record_certificate"),
        "names the missing document: {refusal:#?}"
    );
    assert_result_in_cabinet(&stack, &rows, "RESULT_KIND_REFUSAL").await;
}

#[tokio::test]
async fn a_regional_application_naming_another_service_is_refused_by_the_workstation() {
    let stack = Stack::start().await;
    let mut mislabelled = application("F", GUARDIAN, vec![document("application")]);
    let target = target_of("A").expect("A is filed");
    mislabelled.service_code = "F".into();
    let prepared = prepare(&stack.neighbours.portal, target, mislabelled, GUARDIAN);
    let header = Header::decode(&prepared.header[..]).expect("header");
    let signature = stack
        .neighbours
        .citizen(GUARDIAN)
        .seal(&header, prepared.payload.clone())
        .expect("signs")
        .signatures
        .remove(0);
    let envelope = stack
        .filing
        .condition_2(&prepared, signature)
        .await
        .expect("condition 2 holds");
    let error = stack
        .filing
        .send(envelope)
        .await
        .expect_err("A's service id does not take F");
    let text = error.to_string();
    assert!(
        text.contains("application.service_code") && text.contains("service A"),
        "{text}"
    );
}

/// Service D for the fixture child under 7 in Kyzylorda, at the kindergarten `bin`.
fn placement_at(bin: &str) -> ServiceApplication {
    let mut placement = application("D", PARENT_OF_CHILD_UNDER_7, Vec::new());
    placement.child_iin = CHILD_UNDER_7.into();
    placement
        .fields
        .insert("district".into(), KYZYLORDA_CITY.into());
    placement
        .fields
        .insert("kindergarten_bin".into(), bin.into());
    placement
}

#[tokio::test]
async fn a_child_placed_in_the_queue_on_the_portal_travels_through_the_regional_gateway() {
    let stack = Stack::start().await;
    let placement = placement_at(KYZGALDAK);
    let (number, correlation_id) = stack.file(PARENT_OF_CHILD_UNDER_7, placement).await;

    // A place was free: the register answers with its referral at once, under the number the
    // request keeps.
    assert!(number.starts_with("DQ-"), "{number}");
    let (national, regional) = stack
        .diagrams(&correlation_id, egov_queue::PLACE_SERVICE_ID)
        .await;
    assert_relayed_through_the_regional_gateway(
        egov_queue::PLACE_SERVICE_ID,
        systems::QUEUE.id,
        &national,
        &regional,
    );
}

/// Keeps the portal's request row of a filed placement, settled as the signed-return page
/// settles it.
async fn keep_request(stack: &Stack, filed: &Filed) -> RequestRow {
    let row = RequestRow {
        id: "d-1".into(),
        recipient_iin: PARENT_OF_CHILD_UNDER_7.into(),
        filer_iin: PARENT_OF_CHILD_UNDER_7.into(),
        service_code: "D".into(),
        state: egov_portal::store::STATE_AWAITING_SIGNATURE.into(),
        header_hex: String::new(),
        payload_hex: String::new(),
        signer_request_id: String::new(),
        registration_number: String::new(),
        due_at: String::new(),
        refusal: String::new(),
        created_at: 0,
        queue_position: None,
    };
    stack.cabinet.insert_request(&row).await.expect("kept");
    assert!(
        stack
            .cabinet
            .settle(
                &row.id,
                egov_portal::store::STATE_REGISTERED,
                &filed.registered.registration_number,
                "",
                "",
                filed.queue_position,
            )
            .await
            .expect("settled")
    );
    stack
        .cabinet
        .request(&row.id)
        .await
        .expect("reads")
        .expect("kept")
}

#[tokio::test]
async fn a_child_queued_on_the_portal_without_a_free_place_keeps_its_queue_position_for_the_cabinet()
 {
    let stack = Stack::start().await;
    let (filed, _) = stack
        .file_answered(PARENT_OF_CHILD_UNDER_7, placement_at(NURSAT))
        .await;

    // «Нұрсәт» is full: no referral yet; the request keeps the register's number, under which
    // the result comes, and the child is first in the queue.
    assert!(
        filed.registered.registration_number.starts_with("DQ-"),
        "{filed:?}"
    );
    assert_eq!(filed.queue_position, Some(1));
    let kept = keep_request(&stack, &filed).await;
    assert_eq!(
        kept.registration_number,
        filed.registered.registration_number
    );
    assert_eq!(kept.queue_position, Some(1));
}

#[tokio::test]
async fn a_referral_issued_when_a_place_frees_later_reaches_the_same_portal_request() {
    let stack = Stack::start().await;
    let (filed, _) = stack
        .file_answered(PARENT_OF_CHILD_UNDER_7, placement_at(NURSAT))
        .await;
    let kept = keep_request(&stack, &filed).await;

    // An operator frees a place of the child's age group at «Нұрсәт»: the register refers the
    // waiting child and sends the referral, under the application's number, to the cabinet.
    let birth = egov_core::Iin::parse(CHILD_UNDER_7)
        .expect("IIN")
        .birth_date();
    let today = egov_system::intake::local_date(stack.neighbours.clock.now());
    let group = egov_queue::entry::age_group(egov_system::intake::age_on(birth, today))
        .expect("pre-school");
    let body = serde_json::json!({
        "kindergarten_bin": NURSAT,
        "age_group": egov_queue::entry::age_group_name(group),
    });
    let (status, answer) = egov_testkit::service::operator_request(
        stack.queue_http,
        "queue",
        "POST",
        "/places",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    let mut referral = None;
    for _ in 0..400 {
        let rows = stack
            .cabinet
            .notifications(&kept.registration_number)
            .await
            .expect("cabinet");
        referral = rows
            .into_iter()
            .find(|row| row.status == egov_queue::cabinet::STATUS_REFERRAL_ISSUED);
        if referral.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let referral = referral.expect("the referral reached the request's cabinet entry");
    assert_eq!(referral.recipient_iin, PARENT_OF_CHILD_UNDER_7);
    assert_eq!(referral.kind, "RESULT_KIND_REFERRAL");
    assert!(referral.fields_json.contains(NURSAT), "{referral:?}");
    assert_eq!(
        referral.signer_bin,
        systems::QUEUE.bin,
        "sealed by the register"
    );
}
