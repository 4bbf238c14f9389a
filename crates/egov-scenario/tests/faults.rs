//! Scenario files that inject faults: the runner sets them through the sandbox gateway's admin
//! API (as an administrator), the real citizens-DB behind it, and clears every fault it set
//! when the scenario ends, passed or failed.

mod common;

use common::{PERSON_ANSWERED, Stack, person_request};
use egov_core::StatusCode;
use egov_faults::{Fault, FaultKind};
use egov_scenario::{Contracts, Scenario};
use egov_testkit::service::PLAIN_OPERATOR_TOKEN;

/// A step asking the citizens-DB for the person, expecting `status`.
fn ask(status: &str) -> String {
    if status == StatusCode::Success.as_str() {
        person_request(PERSON_ANSWERED)
    } else {
        person_request(&format!("status = \"{status}\"\n"))
    }
}

/// The citizens-DB down for the whole scenario.
const CITIZENS_DOWN: &str = "[[fault]]\nsystem = \"citizens\"\nkind = \"down\"\n";

fn unavailable() -> &'static str {
    StatusCode::TargetUnavailable.as_str()
}

fn success() -> &'static str {
    StatusCode::Success.as_str()
}

#[tokio::test]
async fn a_scenario_with_the_citizens_db_down_expects_target_unavailable_and_clears_its_fault() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"citizens-DB down\"\n\n{CITIZENS_DOWN}\n[[step]]\n{}",
        ask(unavailable())
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(report.passed(), "{report:#?}");
    assert_eq!(stack.fault_admin().list().await.expect("faults"), []);
    stack.ask_for_the_person().await;
}

#[tokio::test]
async fn a_scenario_fault_is_cleared_even_when_the_scenario_fails() {
    let stack = Stack::start().await;
    // The scenario expects an answer the fault makes impossible.
    let scenario = stack.scenario(&format!(
        "name = \"wrong expectation\"\n\n{CITIZENS_DOWN}\n[[step]]\n{}\n[[step]]\n{}",
        ask(success()),
        ask(success())
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(!report.passed());
    assert_eq!(
        report.steps[0].failures[0],
        format!(
            "status: expected \"{}\", got \"{}\"",
            success(),
            unavailable()
        )
    );
    assert_eq!(report.skipped.len(), 1, "{report:#?}");
    assert_eq!(stack.fault_admin().list().await.expect("faults"), []);
    stack.ask_for_the_person().await;
}

#[tokio::test]
async fn a_fault_injected_mid_flow_applies_from_its_step_on() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"the citizens-DB goes down mid-flow\"\n\n\
         [[step]]\nname = \"before\"\n{}\n\
         [[step]]\nname = \"it goes down\"\nfault = [{{ system = \"citizens\", kind = \"down\" }}]\n{}\n\
         [[step]]\nname = \"still down\"\n{}",
        ask(success()),
        ask(unavailable()),
        ask(unavailable())
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.steps.len(), 3);
    assert_eq!(stack.fault_admin().list().await.expect("faults"), []);
}

#[tokio::test]
async fn a_scenario_whose_fault_cannot_be_set_fails_naming_why_and_clears_the_others() {
    let stack = Stack::start().await;
    let admin = stack.fault_admin();
    let theirs = Fault::on_system("labor", FaultKind::Timeout).with_id("taken");
    admin.add(&theirs).await.expect("someone else's fault");
    let scenario = stack.scenario(&format!(
        "name = \"a taken id\"\n\n{CITIZENS_DOWN}\n\
         [[fault]]\nid = \"taken\"\nsystem = \"citizens\"\nkind = \"timeout\"\n\n[[step]]\n{}",
        ask(unavailable())
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(!report.passed());
    assert!(report.steps.is_empty(), "no step ran: {report:#?}");
    let error = report.error.expect("an error");
    assert!(
        error.starts_with("fault[2] (timeout on system citizens) could not be set"),
        "{error}"
    );
    assert!(error.contains("taken is already set"), "{error}");
    // Its first fault is cleared; the fault it did not set stays.
    assert_eq!(admin.list().await.expect("faults"), [theirs]);
}

#[tokio::test]
async fn a_scenario_needs_an_administrator_to_set_its_faults() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"as a plain operator\"\n\n{CITIZENS_DOWN}\n[[step]]\n{}",
        ask(unavailable())
    ));
    let plain = egov_faults::admin::FaultAdmin::new(
        &stack.sandbox.gateway_http().to_string(),
        PLAIN_OPERATOR_TOKEN,
    );

    let report = stack.runner().with_fault_admin(plain).run(&scenario).await;

    let error = report.error.expect("refused");
    assert!(error.contains("answered 403"), "{error}");
    assert!(report.steps.is_empty());
}

#[tokio::test]
async fn a_scenario_with_faults_is_refused_by_a_runner_without_the_gateway_admin_api() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"citizens-DB down\"\n\n{CITIZENS_DOWN}\n[[step]]\n{}",
        ask(unavailable())
    ));

    let report = stack.runner().run(&scenario).await;

    assert!(report.steps.is_empty(), "no step ran: {report:#?}");
    let error = report.error.expect("refused");
    assert!(error.contains("gateway admin API"), "{error}");
}

#[tokio::test]
async fn the_fault_example_scenario_passes_and_clears_its_fault() {
    let stack = Stack::start().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/citizens_db_down.toml");
    let scenario = Scenario::load(&path, &Contracts::egov().expect("contracts")).expect("reads");
    assert!(scenario.injects_faults());

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(report.passed(), "{report:#?}");
    assert_eq!(stack.fault_admin().list().await.expect("faults"), []);
}

/// A step that asks until the citizens-DB answers, waiting at most `timeout`.
fn ask_until_answered(timeout: &str) -> String {
    format!(
        "[[step]]\nname = \"wait for the person\"\nwait = {{ timeout = \"{timeout}\", every = \"50ms\" }}\n{}",
        ask(success())
    )
}

#[tokio::test]
async fn a_wait_step_asks_again_until_the_expected_answer() {
    let stack = Stack::start().await;
    // The first two requests get an error; the third the person.
    let scenario = stack.scenario(&format!(
        "name = \"a late answer\"\n\n[[fault]]\nsystem = \"citizens\"\n\
         kind = {{ error = {{ code = \"EDAT001\" }} }}\nlimit = 2\n\n{}",
        ask_until_answered("30s")
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    assert!(report.passed(), "{report:#?}");
}

#[tokio::test]
async fn a_wait_step_fails_with_the_last_answers_differences_after_its_timeout() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"never answered\"\n\n{CITIZENS_DOWN}\n{}",
        ask_until_answered("300ms")
    ));

    let report = stack.runner_with_faults().run(&scenario).await;

    let failures = &report.steps[0].failures;
    assert!(
        failures[0].starts_with("no expected answer within 300ms"),
        "{failures:?}"
    );
    assert_eq!(
        failures[1],
        format!(
            "status: expected \"{}\", got \"{}\"",
            success(),
            unavailable()
        )
    );
    assert_eq!(stack.fault_admin().list().await.expect("faults"), []);
}
