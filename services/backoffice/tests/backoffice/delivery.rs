//! Nothing is lost: a result the gateway cannot deliver (no route to the requester yet) is
//! kept with its delivery pending and retried on the clock until it is delivered.

use std::time::Duration;

use egov_core::systems;
use egov_proto::v1::{Channel, ResultKind};

use crate::common::{Options, Stack, application, next_monday_morning, service_result};

#[tokio::test]
async fn result_for_an_unreachable_requester_is_kept_pending_and_delivered_once_it_is_reachable() {
    let stack = Stack::start(
        next_monday_morning(),
        Options {
            unrouted: vec![systems::LABOR.id],
            ..Options::default()
        },
    )
    .await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-PENDING",
        )
        .await
        .expect("opened");
    let case = stack.run_to_close(&opened.id).await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Certificate);

    let store = stack.store().await;
    let mut attempted = false;
    for _ in 0..500 {
        let deliveries = store.deliveries(&opened.id).await.expect("deliveries");
        attempted = deliveries
            .iter()
            .any(|d| d.service_id == "labor.application.decided" && d.attempts >= 1);
        if attempted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(attempted, "the first delivery was attempted");
    let result = store.result(&opened.id).await.expect("read").expect("kept");
    assert!(result.delivery_pending, "kept with its delivery pending");
    assert!(stack.received(systems::LABOR.id).is_empty());

    // The route appears; the next retry (5 s on the stack's clock) delivers it.
    stack.route_decided(systems::LABOR.id);
    stack.clock.advance(Duration::from_secs(5)).await;
    let received = stack.wait_received(systems::LABOR.id, 1).await;
    assert_eq!(
        service_result(&received[0]).registration_number,
        "LABOR-PENDING"
    );
    for _ in 0..500 {
        let result = store.result(&opened.id).await.expect("read").expect("kept");
        if !result.delivery_pending {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the result's delivery stayed pending after it was delivered");
}
