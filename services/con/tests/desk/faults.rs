//! The desk when a system behind the gateway fails, the failure injected at the gateway at
//! run time (`egov fault add`): the citizens-DB down, the Labour Market AIS slow.

use std::time::Duration;

use egov_citizens::fixtures::UNEMPLOYED_ADULT;
use egov_con::Outcome;
use egov_con::store::outcome;
use egov_core::{StatusCode, systems};
use egov_faults::{Fault, FaultKind, Latency};
use egov_gateway::message_log::{LogRecord, RecentFilter};

use crate::common::Stack;
use crate::filing::form_b;

/// Returns the gateway's newest hops that got `code`.
async fn hops_with(stack: &Stack, code: StatusCode) -> Vec<LogRecord> {
    let log = stack.sandbox.gateway().log();
    log.flush().await.expect("message log flushed");
    log.recent(
        &RecentFilter {
            status: code.as_str().to_owned(),
            ..RecentFilter::default()
        },
        20,
    )
    .await
    .expect("message log")
}

#[tokio::test]
async fn citizens_db_down_answers_data_cannot_be_obtained_at_the_state_corporation_desk() {
    let stack = Stack::start().await;
    let ticket = stack.called_ticket().await;
    stack
        .sandbox
        .gateway()
        .faults()
        .add(Fault::on_system(systems::CITIZENS.id, FaultKind::Down).with_id("citizens-down"))
        .await
        .expect("fault set");

    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form_b(&ticket, UNEMPLOYED_ADULT))
        .await
        .expect("answered");

    let Outcome::DataUnavailable(filing) = outcome else {
        panic!("expected the data cannot be obtained, got {outcome:?}");
    };
    assert_eq!(filing.outcome, outcome::REFUSED);
    assert_eq!(
        filing.message,
        "the data cannot be obtained: citizens-DB: ETRG002: target citizens refused the connection (injected fault citizens-down)"
    );
    let hops = hops_with(&stack, StatusCode::TargetUnavailable).await;
    assert!(
        hops.iter().any(|hop| hop.receiver == systems::CITIZENS.id
            && hop.status_message.contains("injected fault citizens-down")),
        "the gateway's log names the fault: {hops:?}"
    );
}

#[tokio::test]
async fn labor_slow_gets_the_gateway_timeout_code() {
    let stack = Stack::start().await;
    stack
        .sandbox
        .route_timeout(egov_labor::APPLY_SERVICE_ID, Duration::from_millis(500));
    let ticket = stack.called_ticket().await;
    stack
        .sandbox
        .gateway()
        .faults()
        .add(
            Fault::on_system(
                systems::LABOR.id,
                FaultKind::Latency(Latency::Fixed { ms: 3_000 }),
            )
            .with_id("labor-slow"),
        )
        .await
        .expect("fault set");

    let outcome = stack
        .desk
        .file(&stack.operator_person(), &form_b(&ticket, UNEMPLOYED_ADULT))
        .await
        .expect("answered");

    let Outcome::Refused(filing) = outcome else {
        panic!("expected a refusal, got {outcome:?}");
    };
    assert!(
        filing
            .message
            .contains("ETRG001: target labor did not answer within 500 ms"),
        "the desk shows the gateway's timeout code: {}",
        filing.message
    );
    assert!(filing.registration_number.is_empty());
    let hops = hops_with(&stack, StatusCode::TargetTimeout).await;
    assert!(
        hops.iter().any(|hop| hop.receiver == systems::LABOR.id
            && hop.service_id == egov_labor::APPLY_SERVICE_ID
            && hop.status_message.contains("injected fault labor-slow")),
        "the gateway's log gives the timeout code, naming the fault: {hops:?}"
    );
}
