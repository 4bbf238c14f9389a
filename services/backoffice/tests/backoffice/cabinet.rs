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
