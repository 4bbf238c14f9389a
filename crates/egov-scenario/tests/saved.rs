//! Saved values: a step keeps a field of its answer (`save = { … }`) and a later step uses it
//! as `"${name}"`, in its request and its expectation, through a real gateway and citizens-DB.

mod common;

use common::{PERSON, Stack};

/// Asks for the person, saving `saved_path` of the answer as `iin`, then asks again by
/// `${iin}`, expecting `second_expect` of the second answer.
fn scenario_saving(
    stack: &Stack,
    saved_path: &str,
    second_expect: &str,
) -> egov_scenario::Scenario {
    stack.scenario(&format!(
        r#"name = "a value carried from one answer to the next request"

[[step]]
name = "the portal asks for the person"
save = {{ iin = "{saved_path}" }}
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
type = "egov.v1.GetPersonRequest"
payload = {{ iin = "{PERSON}" }}
[step.expect]
type = "egov.v1.GetPersonResponse"
payload.person = "<any>"

[[step]]
name = "the portal asks again by the IIN it was given"
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
type = "egov.v1.GetPersonRequest"
payload = {{ iin = "${{iin}}" }}
[step.expect]
type = "egov.v1.GetPersonResponse"
{second_expect}
"#
    ))
}

#[tokio::test]
async fn a_saved_field_is_sent_by_a_later_step() {
    let stack = Stack::start().await;

    let report = stack
        .runner()
        .run(&scenario_saving(
            &stack,
            "person.iin",
            "payload.person = \"<any>\"",
        ))
        .await;

    // Sent as written, `${iin}` is no IIN and the citizens-DB would refuse it.
    assert!(report.passed(), "{report:#?}");
}

#[tokio::test]
async fn a_saved_field_stands_in_a_later_expectation() {
    let stack = Stack::start().await;

    let report = stack
        .runner()
        .run(&scenario_saving(
            &stack,
            "person.iin",
            "header = { message_id = \"${iin}\" }\npayload.person = \"<any>\"",
        ))
        .await;

    // A message id is never the IIN: the difference shows the saved value expected.
    assert_eq!(report.steps[1].failures.len(), 1, "{report:#?}");
    assert!(
        report.steps[1].failures[0]
            .starts_with(&format!("header.message_id: expected \"{PERSON}\"")),
        "{report:#?}"
    );
}

#[tokio::test]
async fn saving_a_field_the_answer_lacks_fails_naming_it_and_skips_the_rest() {
    let stack = Stack::start().await;

    let report = stack
        .runner()
        .run(&scenario_saving(
            &stack,
            "person.no_such_field",
            "payload.person = \"<any>\"",
        ))
        .await;

    assert!(!report.passed());
    assert_eq!(
        report.steps[0].failures,
        ["save.iin: the answer has no field person.no_such_field to save"]
    );
    assert_eq!(report.skipped.len(), 1);
}
