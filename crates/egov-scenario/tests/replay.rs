//! The recorder end to end: a sandbox gateway with the real citizens-DB behind it records an
//! exchange on a route with `record = true`, `export` turns the recording into a scenario file,
//! and the runner replays it through the gateway, signing on its own side.

mod common;

use common::{PERSON, Stack};
use egov_citizens::PERSON_GET;
use egov_scenario::{Contracts, ExportError, Scenario};
use egov_testkit::service::{OPERATOR_TOKEN, PLAIN_OPERATOR_TOKEN};

/// Writes the scenario as a file and reads it back, as a team would keep it.
fn through_a_file(scenario: &Scenario, dir: &std::path::Path) -> Scenario {
    let path = dir.join("recorded.toml");
    std::fs::write(&path, scenario.to_toml().expect("writes")).expect("file");
    Scenario::load(&path, &Contracts::egov().expect("contracts")).expect("reads back")
}

#[tokio::test]
async fn a_recorded_exchange_replays_as_a_passing_scenario() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;

    let scenario = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");
    let text = scenario.to_toml().expect("writes");
    assert!(
        text.contains(PERSON),
        "the payload is written as readable fields:\n{text}"
    );
    assert!(
        text.contains("Серіков"),
        "the answer is written as values:\n{text}"
    );
    assert!(
        text.contains("<uuid>"),
        "message ids are written as matchers:\n{text}"
    );
    let scenario = through_a_file(&scenario, stack.sandbox.dir());

    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}\n{text}");
    assert_eq!(report.steps.len(), 1);
}

#[tokio::test]
async fn a_replay_fails_naming_the_field_when_the_answer_changes() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;
    let scenario = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");

    // The person moved: the citizens-DB now answers another street.
    let pool = sqlx::SqlitePool::connect(&stack.database_url)
        .await
        .expect("database");
    sqlx::query("UPDATE persons SET street = 'ул. Абая' WHERE iin = ?")
        .bind(PERSON.parse::<i64>().expect("IIN digits"))
        .execute(&pool)
        .await
        .expect("updated");

    let report = stack.runner().run(&scenario).await;
    assert!(!report.passed());
    assert_eq!(
        report.steps[0].failures,
        ["person.registration_address.street: expected \"ул. Кенесары\", got \"ул. Абая\""]
    );
}

#[tokio::test]
async fn a_route_without_record_keeps_no_exchange() {
    let stack = Stack::start().await;
    let correlation_id = stack.ask_for_the_person().await;
    let err = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect_err("nothing recorded");
    assert!(matches!(err, ExportError::NotRecorded { .. }), "{err}");
    assert!(err.to_string().contains("record = true"), "{err}");
}

#[tokio::test]
async fn registry_reload_turns_recording_off_at_run_time() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let recorded = stack.ask_for_the_person().await;
    stack.sandbox.record(PERSON_GET, false);
    let not_recorded = stack.ask_for_the_person().await;
    assert!(stack.export(&recorded, OPERATOR_TOKEN).await.is_ok());
    assert!(matches!(
        stack.export(&not_recorded, OPERATOR_TOKEN).await,
        Err(ExportError::NotRecorded { .. })
    ));
}

#[tokio::test]
async fn export_of_an_unknown_correlation_id_names_it() {
    let stack = Stack::start().await;
    let err = stack
        .export("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", OPERATOR_TOKEN)
        .await
        .expect_err("unknown");
    assert!(
        err.to_string()
            .contains("\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""),
        "{err}"
    );
}

#[tokio::test]
async fn export_needs_an_operator() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;
    let err = stack
        .export(&correlation_id, "not-a-token")
        .await
        .expect_err("no operator");
    assert!(matches!(err, ExportError::NotAnOperator(_)), "{err}");
    // An operator's token reads it.
    assert!(
        stack
            .export(&correlation_id, PLAIN_OPERATOR_TOKEN)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_request_authored_by_a_person_is_signed_by_them_and_exported_with_their_iin() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let text = format!(
        r#"name = "a citizen asks for their own record through the portal"

[[step]]
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
user_iin = "{PERSON}"
type = "egov.v1.GetPersonRequest"
payload = {{ iin = "{PERSON}" }}

[step.expect]
type = "egov.v1.GetPersonResponse"
payload.person = {{ iin = "{PERSON}", surname = "<any>", name = "<any>", patronymic = "<any>", gender = "<any>", birth_date = "<any>", birth_place = "<any>", birth_certificate = "<any>", nationality = "<any>", citizenship = "<any>", life_status = "<any>", registration_address = "<any>", documents = "<any>" }}
"#
    );
    let scenario = Scenario::parse(
        &text,
        "by-hand.toml",
        &Contracts::egov().expect("contracts"),
    )
    .expect("valid");
    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}");

    stack
        .sandbox
        .gateway()
        .log()
        .flush()
        .await
        .expect("log flushed");
    let exported = stack
        .export(&report.steps[0].correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");
    assert_eq!(
        exported.steps[0]
            .get_ref()
            .send
            .as_ref()
            .and_then(|send| send.user_iin.as_deref()),
        Some(PERSON)
    );
}

#[tokio::test]
async fn the_example_scenario_passes_against_the_citizens_db() {
    let stack = Stack::start().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/citizens_person_get.toml");
    let scenario = Scenario::load(&path, &Contracts::egov().expect("contracts")).expect("reads");
    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}");
}

#[tokio::test]
async fn a_scenario_reading_a_cabinet_is_refused_by_a_runner_without_a_portal() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"the citizen's cabinet\"\n\n[[step]]\ncabinet = {{ iin = \"{PERSON}\" }}\n"
    ));

    let report = stack.runner().run(&scenario).await;

    let error = report.error.expect("refused before any step");
    assert!(error.contains("no portal URL"), "{error}");
    assert!(error.contains("--portal"), "{error}");
    assert!(report.steps.is_empty());
}

#[tokio::test]
async fn a_scenario_filing_at_the_desk_is_refused_by_a_stack_that_gives_no_desk() {
    let stack = Stack::start().await;
    let scenario = stack.scenario(&format!(
        "name = \"at the State Corporation\"\n\n[[step]]\n[step.desk]\nservice = \"B\"\n\
         recipient_iin = \"{PERSON}\"\ndocuments = [\"application\"]\n"
    ));

    let report = stack.runner().run(&scenario).await;

    let error = report.error.expect("refused before any step");
    assert!(error.contains("gives the runner no desk"), "{error}");
    assert!(error.contains("--desk-operator"), "{error}");
    assert!(report.steps.is_empty());
}
