//! Cases survive restarts: a back office stopped mid-case and started again on the same data
//! dir resumes the open step's timer and completes the case.

use egov_core::systems;
use egov_proto::v1::{Channel, ResultKind};

use crate::common::{Options, Stack, application, at, next_monday_morning, service_result};

#[tokio::test]
async fn restarted_back_office_resumes_an_open_case() {
    let mut stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-RESTART",
        )
        .await
        .expect("opened");
    stack
        .clock
        .advance(std::time::Duration::from_secs(3 * 60))
        .await;
    let before = stack.wait_for_step(&opened.id, 2).await;
    assert_eq!(before.steps[2].norm, "3 min");
    let due = at(before.steps[2].due_at.as_ref());

    stack.stop_back_office().await;
    stack.start_back_office().await;

    let resumed = stack.case(&opened.id).await;
    assert_eq!(resumed, before, "the case is read back as it was");
    stack.clock.advance_to(due).await;
    let case = stack
        .wait_until(&opened.id, |case| case.steps.len() > 3)
        .await;
    assert_eq!(at(case.steps[2].ended_at.as_ref()), due);
    let case = stack.run_to_close(&opened.id).await;
    assert_eq!(case.result.expect("result").kind(), ResultKind::Certificate);
    let received = stack.wait_received(systems::LABOR.id, 1).await;
    assert_eq!(
        service_result(&received[0]).registration_number,
        "LABOR-RESTART"
    );
}

#[tokio::test]
async fn opening_a_case_at_the_desk_without_an_operator_is_refused_and_opens_nothing() {
    use egov_proto::v1::{BackOfficeRole, ListTasksRequest, OpenCaseRequest};
    use egov_testkit::service::as_operator;

    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let mut client = stack.client().await;
    let refused = client
        .open_case(OpenCaseRequest {
            application: Some(application("B", Channel::Portal, &["application"])),
            ..OpenCaseRequest::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let tasks = ListTasksRequest {
        role: BackOfficeRole::Clerk as i32,
    };
    let refused = client
        .list_tasks(tasks)
        .await
        .expect_err("reading the worklist needs a token too");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let open = client
        .list_tasks(as_operator(tasks))
        .await
        .expect("an operator reads")
        .into_inner()
        .cases;
    assert!(open.is_empty(), "no case was opened: {open:?}");
}
