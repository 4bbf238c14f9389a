//! One happy path per service A–F under the automatic policy: every step walked on the
//! virtual clock with the regulation's norm, and the result kind of the catalogue.

use egov_core::clock::Clock as _;
use egov_core::systems;
use egov_proto::v1::BackOfficeRole::{Clerk, Executor, Head};
use egov_proto::v1::{Channel, ResultKind, ServiceApplication};

use crate::common::{
    Options, Stack, application, document_valid_until, next_monday_morning, service_result, walk,
};

#[tokio::test]
async fn adoption_registration_walks_clerk_head_executor_head_clerk_to_a_notification() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let mut app = application(
        "A",
        Channel::Portal,
        &["application", "no_criminal_record_certificate"],
    );
    let valid = stack.clock.now().date() + time::Duration::days(365);
    app.documents
        .push(document_valid_until("health_certificate", valid));
    let case = stack
        .open(systems::REGIONAL_GATEWAY.id, app, "RSHEP-A-1")
        .await
        .expect("opened");
    let case = walk(
        &stack,
        &case.id,
        &[
            (Clerk, "15 min"),
            (Head, "1 cd"),
            (Executor, "13 cd"),
            (Head, "1 cd"),
            (Clerk, "15 min"),
        ],
    )
    .await;
    assert_eq!(
        case.result.expect("result").kind(),
        ResultKind::Notification
    );
    let received = stack.wait_received(systems::REGIONAL_GATEWAY.id, 1).await;
    let result = service_result(&received[0]);
    assert_eq!(result.kind(), ResultKind::Notification);
    assert_eq!(result.registration_number, "RSHEP-A-1");
}

#[tokio::test]
async fn unemployed_certificate_walks_ten_minutes_of_steps_to_a_certificate() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-1",
        )
        .await
        .expect("opened");
    let case = walk(
        &stack,
        &case.id,
        &[
            (Clerk, "2 min"),
            (Head, "1 min"),
            (Executor, "3 min"),
            (Head, "2 min"),
            (Clerk, "2 min"),
        ],
    )
    .await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Certificate);
    let received = stack.wait_received(systems::LABOR.id, 1).await;
    let result = service_result(&received[0]);
    assert_eq!(result.kind(), ResultKind::Certificate);
    assert_eq!(result.registration_number, "LABOR-1");
    assert!(result.refusal_ground.is_empty());
}

#[tokio::test]
async fn home_schooling_compensation_walks_working_days_to_a_notification() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open(
            systems::ESOBES.id,
            application(
                "C",
                Channel::StateCorporation,
                &[
                    "application",
                    "pmpc_conclusion",
                    "home_schooling_certificate",
                ],
            ),
            "ESOBES-1",
        )
        .await
        .expect("opened");
    let case = walk(
        &stack,
        &case.id,
        &[
            (Clerk, "15 min"),
            (Head, "1 wd"),
            (Executor, "6 wd"),
            (Head, "1 wd"),
            (Clerk, "1 wd"),
        ],
    )
    .await;
    assert_eq!(
        case.result.expect("result").kind(),
        ResultKind::Notification
    );
    let received = stack.wait_received(systems::ESOBES.id, 1).await;
    assert_eq!(
        service_result(&received[0]).kind(),
        ResultKind::Notification
    );
}

#[tokio::test]
async fn kindergarten_queue_passes_the_queue_registers_referral_through_in_one_executor_step() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let mut app = application("D", Channel::Portal, &[]);
    app.fields
        .insert("queue_decision".into(), "referral".into());
    app.fields
        .insert("referral_number".into(), "ЖОЛ-0001".into());
    app.fields
        .insert("kindergarten_bin".into(), "120140000057".into());
    let case = stack
        .open(systems::QUEUE.id, app, "QUEUE-1")
        .await
        .expect("opened");
    let case = walk(&stack, &case.id, &[(Executor, "30 min")]).await;
    let result = case.result.expect("result");
    assert_eq!(result.kind(), ResultKind::Referral);
    let received = stack.wait_received(systems::QUEUE.id, 1).await;
    let result = service_result(&received[0]);
    assert_eq!(result.kind(), ResultKind::Referral);
    assert_eq!(result.fields["referral_number"], "ЖОЛ-0001");
    assert_eq!(result.fields["kindergarten_bin"], "120140000057");
}

#[tokio::test]
async fn kindergarten_queue_without_a_free_place_gives_a_queue_notification() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let mut app = application("D", Channel::Portal, &[]);
    app.fields
        .insert("queue_decision".into(), "notification".into());
    app.fields.insert("queue_position".into(), "17".into());
    let case = stack
        .open(systems::QUEUE.id, app, "QUEUE-2")
        .await
        .expect("opened");
    walk(&stack, &case.id, &[(Executor, "30 min")]).await;
    let received = stack.wait_received(systems::QUEUE.id, 1).await;
    let result = service_result(&received[0]);
    assert_eq!(result.kind(), ResultKind::Notification);
    assert_eq!(result.fields["queue_position"], "17");
}

#[tokio::test]
async fn kindergarten_enrolment_at_the_desk_walks_to_a_contract() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open_at_desk(application(
            "E",
            Channel::Provider,
            &["referral", "child_health_passport"],
        ))
        .await;
    assert!(case.registration_number.starts_with("BO-"));
    let case = walk(
        &stack,
        &case.id,
        &[
            (Clerk, "5 min"),
            (Executor, "15 min"),
            (Head, "5 min"),
            (Clerk, "5 min"),
        ],
    )
    .await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Contract);
}

/// The application every guardianship test files: the annex-2 documents, all there.
fn guardianship(channel: Channel) -> ServiceApplication {
    application(
        "F",
        channel,
        &[
            "application",
            "child_birth_certificate",
            "parental_care_loss_document",
            "health_certificate",
        ],
    )
}

#[tokio::test]
async fn guardianship_at_the_provider_walks_twenty_eight_calendar_days_of_examination_to_a_resolution()
 {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            guardianship(Channel::Provider),
            "RSHEP-F-1",
        )
        .await
        .expect("opened");
    let case = walk(
        &stack,
        &case.id,
        &[
            (Clerk, "30 min"),
            (Head, "20 min"),
            (Executor, "28 cd"),
            (Head, "1 cd"),
            (Clerk, "30 min"),
        ],
    )
    .await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Resolution);
    let received = stack.wait_received(systems::REGIONAL_GATEWAY.id, 1).await;
    assert_eq!(service_result(&received[0]).kind(), ResultKind::Resolution);
}

// Seed 004_… annex 2, the ХҚО reference: the provider examines the application (28 cd) and
// sends its EDS-signed result to the ХҚО IS «қарағаннан кейін, 1 минут ішінде»; the
// provider reference's clerk and head steps are not on this channel.
#[tokio::test]
async fn guardianship_through_the_state_corporation_is_examined_28_days_and_sent_within_a_minute() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            guardianship(Channel::StateCorporation),
            "RSHEP-F-2",
        )
        .await
        .expect("opened");
    let case = walk(&stack, &case.id, &[(Executor, "28 cd"), (Head, "1 min")]).await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Resolution);
    let received = stack.wait_received(systems::REGIONAL_GATEWAY.id, 1).await;
    assert_eq!(service_result(&received[0]).kind(), ResultKind::Resolution);
}

// Seed 004_… annex 2, the portal reference: 28 cd of examination, then the result sent to the
// portal «қарағаннан кейін, 1,5 минут ішінде».
#[tokio::test]
async fn guardianship_on_the_portal_is_examined_28_days_and_sent_within_90_seconds() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let case = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            guardianship(Channel::Portal),
            "RSHEP-F-3",
        )
        .await
        .expect("opened");
    let case = walk(&stack, &case.id, &[(Executor, "28 cd"), (Head, "90 s")]).await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Resolution);
}
