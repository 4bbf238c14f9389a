//! The manual policy: people take each step through the direct `BackOffice` contract, and the
//! workflow refuses anything the step does not allow, leaving the case unchanged.

use egov_core::{StatusCode, systems};
use egov_proto::v1::BackOfficeRole::{Clerk, Executor, Head};
use egov_proto::v1::{BackOfficeRole, Channel, ListTasksRequest, ResultKind};
use egov_system::CallError;

use crate::common::{Options, Stack, application, next_monday_morning, service_result};

fn manual(codes: &[&'static str]) -> Options {
    Options {
        manual: codes.to_vec(),
        ..Options::default()
    }
}

fn refusal_code(status: &tonic::Status) -> StatusCode {
    StatusCode::from_grpc(status).expect("a status code in the message")
}

#[tokio::test]
async fn step_action_by_the_wrong_role_is_refused_and_the_case_is_unchanged() {
    let stack = Stack::start(next_monday_morning(), manual(&["B"])).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-7",
        )
        .await
        .expect("opened");
    let before = stack.case(&opened.id).await;
    let refused = stack
        .act(&opened.id, Head, "register", "")
        .await
        .expect_err("the head cannot register");
    assert_eq!(refusal_code(&refused), StatusCode::InvalidRequest);
    assert!(
        refused.message().contains("is the clerk's, not the head's"),
        "{}",
        refused.message()
    );
    let refused = stack
        .act(&opened.id, Clerk, "sign", "")
        .await
        .expect_err("the clerk's step is not signing");
    assert!(
        refused.message().contains("\"sign\""),
        "{}",
        refused.message()
    );
    assert_eq!(stack.case(&opened.id).await, before);
    // The right role and action move it on.
    let moved = stack
        .act(&opened.id, Clerk, "register", "")
        .await
        .expect("the clerk registers");
    assert_eq!(moved.steps.len(), 2);
    assert_eq!(moved.steps[1].role(), Head);
}

#[tokio::test]
async fn refusal_without_an_item_10_ground_is_refused() {
    let stack = Stack::start(next_monday_morning(), manual(&["B"])).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-8",
        )
        .await
        .expect("opened");
    stack
        .act(&opened.id, Clerk, "register", "")
        .await
        .expect("registered");
    stack
        .act(&opened.id, Head, "assign", "")
        .await
        .expect("assigned");
    let before = stack.case(&opened.id).await;
    let refused = stack
        .act(&opened.id, Executor, "refuse", "")
        .await
        .expect_err("a refusal needs a ground");
    assert_eq!(refusal_code(&refused), StatusCode::InvalidRequest);
    assert!(
        refused.message().contains("needs an item-10 ground")
            && refused.message().contains("documents_do_not_match_item_9"),
        "{}",
        refused.message()
    );
    let refused = stack
        .act(&opened.id, Executor, "refuse", "no_reason_at_all")
        .await
        .expect_err("not a ground of B");
    assert!(
        refused
            .message()
            .contains("\"no_reason_at_all\" is not one"),
        "{}",
        refused.message()
    );
    assert_eq!(stack.case(&opened.id).await, before);
}

#[tokio::test]
async fn second_decision_on_a_closed_case_is_refused() {
    let stack = Stack::start(next_monday_morning(), manual(&["B"])).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-9",
        )
        .await
        .expect("opened");
    let id = opened.id.as_str();
    stack
        .act(id, Clerk, "register", "")
        .await
        .expect("registered");
    stack.act(id, Head, "assign", "").await.expect("assigned");
    stack
        .act(id, Executor, "refuse", "documents_do_not_match_item_9")
        .await
        .expect("refused by the executor");
    stack.act(id, Head, "sign", "").await.expect("signed");
    let closed = stack.act(id, Clerk, "issue", "").await.expect("issued");
    assert!(closed.closed);
    let result = closed.result.clone().expect("result");
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, "documents_do_not_match_item_9");

    let refused = stack
        .act(id, Executor, "draft", "")
        .await
        .expect_err("the case is closed");
    assert_eq!(refusal_code(&refused), StatusCode::InvalidRequest);
    assert!(
        refused.message().contains("is closed"),
        "{}",
        refused.message()
    );
    assert_eq!(stack.case(id).await, closed);

    let received = stack.wait_received(systems::LABOR.id, 1).await;
    assert_eq!(
        service_result(&received[0]).refusal_ground,
        "documents_do_not_match_item_9"
    );
}

#[tokio::test]
async fn adoption_candidate_clerk_refuses_to_accept_at_reception_only_on_a_refusal_to_accept_ground()
 {
    let stack = Stack::start(next_monday_morning(), manual(&["A"])).await;
    let opened = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            application("A", Channel::Portal, &["application"]),
            "RSHEP-1",
        )
        .await
        .expect("opened");
    let id = opened.id.as_str();
    let before = stack.case(id).await;
    // Violations in the documents are the executor's finding (seed 003_… item 9.10), not a
    // refusal to accept.
    let refused = stack
        .act(id, Clerk, "refuse", "document_violations")
        .await
        .expect_err("not a refusal to accept");
    assert_eq!(refusal_code(&refused), StatusCode::InvalidRequest);
    assert!(
        refused
            .message()
            .contains("grounds at this step are [\"incomplete_package\", \"expired_documents\"]"),
        "{}",
        refused.message()
    );
    assert_eq!(stack.case(id).await, before);

    let closed = stack
        .act(id, Clerk, "refuse", "incomplete_package")
        .await
        .expect("refused at reception");
    assert!(closed.closed);
    assert_eq!(closed.steps.len(), 1);
    let result = closed.result.clone().expect("result");
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, "incomplete_package");
    let received = stack.wait_received(systems::REGIONAL_GATEWAY.id, 1).await;
    assert_eq!(
        service_result(&received[0]).refusal_ground,
        "incomplete_package"
    );
}

#[tokio::test]
async fn case_for_an_unknown_service_is_refused() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let refused = stack
        .open(
            systems::LABOR.id,
            application("Z", Channel::Portal, &[]),
            "LABOR-10",
        )
        .await
        .expect_err("no service Z");
    let CallError::Fault(fault) = refused else {
        panic!("a signed refusal of the back office, got {refused:?}")
    };
    assert_eq!(fault.code, StatusCode::InvalidRequest);
    assert!(fault.message.contains("\"Z\""), "{}", fault.message);
}

#[tokio::test]
async fn service_not_offered_on_the_channel_is_refused_naming_the_channels() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let refused = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            application("E", Channel::Portal, &["referral"]),
            "RSHEP-E-1",
        )
        .await
        .expect_err("E is at the provider's office only");
    assert_eq!(refused.code(), StatusCode::InvalidRequest);
    assert!(refused.to_string().contains("[\"provider\"]"), "{refused}");
}

#[tokio::test]
async fn step_taken_after_its_due_time_is_flagged_late_and_listed_first() {
    let stack = Stack::start(next_monday_morning(), manual(&["B", "C"])).await;
    let slow = stack
        .open(
            systems::ESOBES.id,
            application("C", Channel::Portal, &["application"]),
            "ESOBES-20",
        )
        .await
        .expect("opened C: the clerk has 15 min");
    stack
        .clock
        .advance(std::time::Duration::from_secs(10 * 60))
        .await;
    let quick = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-20",
        )
        .await
        .expect("opened B: the clerk has 2 min");
    stack
        .clock
        .advance(std::time::Duration::from_secs(3 * 60))
        .await;

    let tasks = stack
        .client()
        .await
        .list_tasks(egov_testkit::service::as_operator(ListTasksRequest {
            role: BackOfficeRole::Clerk as i32,
        }))
        .await
        .expect("tasks")
        .into_inner()
        .cases;
    let order: Vec<(&str, bool)> = tasks
        .iter()
        .map(|case| (case.id.as_str(), case.steps[0].late))
        .collect();
    assert_eq!(
        order,
        [(quick.id.as_str(), true), (slow.id.as_str(), false)]
    );

    let taken = stack
        .act(&quick.id, Clerk, "register", "")
        .await
        .expect("registered");
    assert!(taken.steps[0].late, "ended 3 min into a 2 min norm");
    let taken = stack
        .act(&slow.id, Clerk, "register", "")
        .await
        .expect("registered");
    assert!(!taken.steps[0].late, "ended 13 min into a 15 min norm");
}

#[tokio::test]
async fn adoption_registration_refused_by_the_executor_for_violations_in_the_documents() {
    // The one ground the automatic policy cannot judge: a person names it.
    let stack = Stack::start(next_monday_morning(), manual(&["A"])).await;
    let opened = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            application("A", Channel::Portal, &["application"]),
            "RSHEP-A-MANUAL",
        )
        .await
        .expect("opened");
    let id = opened.id.as_str();
    stack
        .act(id, Clerk, "register", "")
        .await
        .expect("registered");
    stack.act(id, Head, "assign", "").await.expect("assigned");
    let refused = stack
        .act(id, Executor, "refuse", "document_violations")
        .await
        .expect("refused");
    assert_eq!(refused.steps[2].action, "refuse");
    stack.act(id, Head, "sign", "").await.expect("signed");
    let closed = stack.act(id, Clerk, "issue", "").await.expect("issued");
    assert_eq!(
        closed.result.expect("result").refusal_ground,
        "document_violations"
    );
    let received = stack.wait_received(systems::REGIONAL_GATEWAY.id, 1).await;
    let delivered = service_result(&received[0]);
    assert_eq!(delivered.kind(), ResultKind::Refusal);
    assert_eq!(delivered.fields["refusal_kind"], "refusal_message");
}
