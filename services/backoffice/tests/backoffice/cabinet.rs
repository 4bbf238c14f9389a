//! The citizen's cabinet hears of the registration with the service's term, of each step that
//! starts, and gets the result itself.

use std::time::Duration;

use egov_core::clock::Clock as _;
use egov_core::systems;
use egov_proto::v1::{Channel, ResultKind};

use crate::common::{Options, Stack, application, next_monday_morning, service_result};

#[tokio::test]
async fn citizen_cabinet_is_notified_of_registration_with_the_term_and_of_every_step() {
    let stack = Stack::start(
        next_monday_morning(),
        Options {
            cabinet: true,
            ..Options::default()
        },
    )
    .await;
    let opened_at = stack.clock.now();
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-CABINET",
        )
        .await
        .expect("opened");
    stack.run_to_close(&opened.id).await;
    // Registration, four step starts, the result.
    let received = stack.wait_received(systems::PORTAL.id, 6).await;
    let messages: Vec<_> = received.iter().map(service_result).collect();

    let registered = &messages[0];
    assert_eq!(registered.kind(), ResultKind::Notification);
    assert_eq!(registered.fields["status"], "registered");
    assert_eq!(
        registered.fields["recipient_iin"],
        crate::common::RECIPIENT_IIN
    );
    // B's term is the sum of its steps' norms: 2 + 1 + 3 + 2 + 2 minutes.
    let term = opened_at + Duration::from_secs(10 * 60);
    assert_eq!(
        registered.fields["due_at"],
        egov_backoffice::messages::rfc3339(term)
    );
    let steps: Vec<&str> = messages[1..5]
        .iter()
        .map(|m| {
            assert_eq!(m.fields["status"], "in_progress");
            assert!(m.fields.contains_key("due_at"));
            m.fields["step"].as_str()
        })
        .collect();
    assert_eq!(steps, ["assign", "draft", "sign", "issue"]);
    assert_eq!(messages[5].kind(), ResultKind::Certificate);
    assert_eq!(messages[5].fields["status"], "issued");
}

/// Seed `002_570907e70074103d.txt`, second regulation (E), item 4: «Мемлекеттік көрсетілетін
/// қызмет нәтижесін ұсыну нысаны- қағаз түрінде», handed over «көрсетілетін қызметті берушінің
/// кеңсесі арқылы» (item 1): neither the statuses nor the contract go to the cabinet, while a
/// service with an electronic result (B) filed at the office still reaches it.
#[tokio::test]
async fn kindergarten_enrolment_result_is_paper_at_the_office_and_never_reaches_the_cabinet() {
    let stack = Stack::start(
        next_monday_morning(),
        Options {
            cabinet: true,
            ..Options::default()
        },
    )
    .await;
    let enrolment = stack
        .open_at_desk(application(
            "E",
            Channel::Provider,
            &["referral", "child_health_passport"],
        ))
        .await;
    let closed = stack.run_to_close(&enrolment.id).await;
    let result = closed
        .result
        .as_ref()
        .expect("the contract, kept at the office");
    assert_eq!(result.kind(), ResultKind::Contract);
    let actions: Vec<&str> = closed.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["register", "draft", "sign", "issue"]);

    // A case with an electronic result, after E's, shows the cabinet route works: its
    // registration is the first thing the portal hears of, so none of E's came before it.
    let certificate = stack
        .open_at_desk(application("B", Channel::Provider, &["application"]))
        .await;
    stack.wait_received(systems::PORTAL.id, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received: Vec<_> = stack
        .received(systems::PORTAL.id)
        .iter()
        .map(service_result)
        .collect();
    assert!(!received.is_empty());
    assert!(
        received
            .iter()
            .all(|message| message.registration_number == certificate.registration_number),
        "only B's case reached the cabinet: {received:?}"
    );
}
