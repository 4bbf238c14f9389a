//! One test per Standard item-10 ground under the automatic policy: the deciding step refuses
//! with the ground whose check failed, the head still signs, the clerk still issues, and the
//! requester receives a REFUSAL naming the ground. A refusal to accept at a receiving step
//! (A's clerk) closes the case there instead.

use egov_core::clock::Clock;
use egov_core::systems;
use egov_proto::v1::{BackOfficeRole, Channel, ResultKind, ServiceApplication};

use crate::common::{
    Options, Stack, application, document_valid_until, next_monday_morning, service_result, walk,
};

/// Opens an A case as `requester` (or at the desk when `None`) and checks that the clerk's
/// reception, 15 minutes (seed `003_…` item 5.1), refuses to accept it on `ground` and closes
/// the case: no head, executor or issue step runs.
async fn refused_at_reception(
    requester: Option<&str>,
    app: impl FnOnce(time::Date) -> ServiceApplication,
    ground: &str,
) {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let app = app(stack.clock.now().date());
    let opened = match requester {
        Some(system) => stack.open(system, app, "REG-1").await.expect("opened"),
        None => stack.open_at_desk(app).await,
    };
    let case = walk(&stack, &opened.id, &[(BackOfficeRole::Clerk, "15 min")]).await;
    assert_eq!(case.steps[0].action, "refuse");
    let result = case.result.expect("result");
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, ground);
    if let Some(system) = requester {
        let received = stack.wait_received(system, 1).await;
        let delivered = service_result(&received[0]);
        assert_eq!(delivered.kind(), ResultKind::Refusal);
        assert_eq!(delivered.refusal_ground, ground);
    }
}

#[tokio::test]
async fn adoption_candidate_refused_at_reception_when_the_item_9_package_is_incomplete() {
    refused_at_reception(
        Some(systems::REGIONAL_GATEWAY.id),
        |_| application("A", Channel::Portal, &["application"]),
        "incomplete_package",
    )
    .await;
}

#[tokio::test]
async fn adoption_candidate_refused_at_reception_at_the_office_when_a_document_is_past_its_validity()
 {
    refused_at_reception(
        None,
        |today| {
            let mut app = application(
                "A",
                Channel::Provider,
                &["application", "no_criminal_record_certificate"],
            );
            app.documents.push(document_valid_until(
                "health_certificate",
                today - time::Duration::days(1),
            ));
            app
        },
        "expired_documents",
    )
    .await;
}

/// Opens a case as `requester` (or at the desk when `None`), runs it to its close on the
/// virtual clock, and checks the refusal and its ground.
async fn refused(requester: Option<&str>, app: ServiceApplication, ground: &str) {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = match requester {
        Some(system) => stack.open(system, app, "REG-1").await.expect("opened"),
        None => stack.open_at_desk(app).await,
    };
    let case = stack.run_to_close(&opened.id).await;
    let result = case.result.expect("result");
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, ground);
    // Every step after the decision still ran: the head signs the refusal, the clerk issues it.
    let deciding = case
        .steps
        .iter()
        .position(|step| step.action == "refuse")
        .expect("a refusing step");
    assert!(case.steps.len() > deciding);
    if let Some(system) = requester {
        let received = stack.wait_received(system, 1).await;
        let delivered = service_result(&received[0]);
        assert_eq!(delivered.kind(), ResultKind::Refusal);
        assert_eq!(delivered.refusal_ground, ground);
        assert!(!delivered.text.is_empty());
    }
}

#[tokio::test]
async fn adoption_registration_refused_when_a_document_expires_during_the_examination() {
    let mut app = application(
        "A",
        Channel::Portal,
        &["application", "no_criminal_record_certificate"],
    );
    // Valid at the opening, expired by the end of the 13-day examination.
    let until = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
    app.documents
        .push(document_valid_until("health_certificate", until));
    refused(Some(systems::REGIONAL_GATEWAY.id), app, "expired_documents").await;
}

#[tokio::test]
async fn unemployed_certificate_refused_when_documents_do_not_match_standard_item_9() {
    let app = application("B", Channel::Portal, &[]);
    refused(
        Some(systems::LABOR.id),
        app,
        "documents_do_not_match_item_9",
    )
    .await;
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_documents_do_not_match_standard_item_9() {
    let app = application("C", Channel::StateCorporation, &["application"]);
    refused(
        Some(systems::ESOBES.id),
        app,
        "documents_do_not_match_item_9",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_when_the_package_at_the_state_corporation_is_incomplete() {
    let app = application("D", Channel::StateCorporation, &["child_birth_certificate"]);
    refused(Some(systems::QUEUE.id), app, "incomplete_package").await;
}

#[tokio::test]
async fn kindergarten_enrolment_refused_when_the_package_is_incomplete() {
    let app = application("E", Channel::Provider, &["child_health_passport"]);
    refused(None, app, "incomplete_package").await;
}

#[tokio::test]
async fn guardianship_refused_for_violations_in_the_documents() {
    let app = application(
        "F",
        Channel::Portal,
        &["application", "child_birth_certificate"],
    );
    refused(
        Some(systems::REGIONAL_GATEWAY.id),
        app,
        "document_violations",
    )
    .await;
}
