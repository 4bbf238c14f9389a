//! Registering powers of attorney over HTTP: a good record is stored and then found through
//! the gateway; every bad field is refused by name and the store stays as it was.

use egov_notary::fixtures::VALID_NUMBER;
use egov_notary::power_of_attorney::{format_date, local_date};
use egov_proto::v1::PowerOfAttorneyValidity;
use serde_json::{Value, json};

use crate::common::Running;

/// A registration every check accepts, dated around today.
fn good(notary: &Running) -> Value {
    let today = local_date(notary.sandbox.clock().now());
    json!({
        "number": "ENIS-000501",
        "principal_iin": "751204400013",
        "representative_iin": "881111300454",
        "service_ids": ["B", "labor.certificate.issue"],
        "notary_name": "Жумабекова Айгерим Нурлановна",
        "issue_date": format_date(today - time::Duration::days(1)),
        "expiry_date": format_date(today + time::Duration::days(364)),
    })
}

#[tokio::test]
async fn registered_power_of_attorney_is_stored_and_then_found() {
    let notary = Running::start().await;
    let body = good(&notary);
    let (status, answer) = notary.register(&body).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["power_of_attorney"]["number"], "ENIS-000501");
    assert_eq!(answer["power_of_attorney"]["revoked"], false);
    assert_eq!(
        answer["power_of_attorney"]["issue_date"],
        body["issue_date"]
    );

    let by_number = notary
        .get(&notary.con, "ENIS-000501", "B")
        .await
        .expect("answer");
    assert_eq!(by_number.validity(), PowerOfAttorneyValidity::Valid);
    let power = by_number.power_of_attorney.expect("the record");
    assert_eq!(power.service_ids, ["B", "labor.certificate.issue"]);
    assert_eq!(power.notary_name, "Жумабекова Айгерим Нурлановна");

    let not_covered = notary
        .get(&notary.con, "ENIS-000501", "C")
        .await
        .expect("answer");
    assert_eq!(
        not_covered.validity(),
        PowerOfAttorneyValidity::ServiceNotCovered
    );
    let by_pair = notary
        .find(&notary.portal, "751204400013", "881111300454", "B")
        .await
        .expect("answer");
    assert_eq!(by_pair.validity(), PowerOfAttorneyValidity::Valid);
    notary.stop().await;
}

#[tokio::test]
async fn registered_revoked_power_of_attorney_is_revoked() {
    let notary = Running::start().await;
    let mut body = good(&notary);
    body["revoked"] = json!(true);
    let (status, answer) = notary.register(&body).await;
    assert_eq!(status, 201, "{answer}");
    let answer = notary
        .get(&notary.con, "ENIS-000501", "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Revoked);
    notary.stop().await;
}

#[tokio::test]
async fn each_bad_field_is_refused_with_its_name_and_nothing_is_stored() {
    let notary = Running::start().await;
    let before = notary.store.all().await.expect("all");
    let today = local_date(notary.sandbox.clock().now());
    let tomorrow = format_date(today + time::Duration::days(1));
    let cases: Vec<(&str, &str, Value)> = vec![
        ("number", "missing", Value::Null),
        ("number", "empty", json!("")),
        ("number", "with a space", json!("ENIS 000501")),
        ("number", "not a string", json!(501)),
        ("principal_iin", "bad check digit", json!("751204400014")),
        ("principal_iin", "too short", json!("75120440001")),
        ("representative_iin", "letters", json!("88111130045X")),
        ("representative_iin", "the principal", json!("751204400013")),
        ("service_ids", "unknown code", json!(["G"])),
        ("service_ids", "not a list", json!("B")),
        ("service_ids", "listed twice", json!(["B", "B"])),
        ("notary_name", "blank", json!("   ")),
        ("issue_date", "not a date", json!("20.11.2026")),
        ("issue_date", "in the future", json!(tomorrow)),
        ("expiry_date", "before the issue", json!("2000-01-01")),
        ("revoked", "not a flag", json!("yes")),
        ("signature", "unknown field", json!("x")),
    ];
    for (field, case, value) in cases {
        let mut body = good(&notary);
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        if field == "issue_date" && case == "in the future" {
            // Keep the expiry after the issue, so only the issue date is wrong.
            body["expiry_date"] = json!(format_date(today + time::Duration::days(30)));
        }
        let (status, answer) = notary.register(&body).await;
        assert_eq!(status, 400, "{field} {case}: {answer}");
        assert_eq!(answer["code"], "EDAT002", "{field} {case}: {answer}");
        let named: Vec<&str> = answer["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|error| error["field"].as_str().expect("field"))
            .collect();
        assert_eq!(named, [field], "{case}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().starts_with(field),
            "{case}: {answer}"
        );
    }
    let (status, answer) = notary.http("POST", "/powers-of-attorney", "not json").await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("\"body\""), "{answer}");
    assert_eq!(notary.store.all().await.expect("all"), before);
    notary.stop().await;
}

#[tokio::test]
async fn a_taken_number_is_refused_with_409_and_the_stored_power_is_unchanged() {
    let notary = Running::start().await;
    let before = notary.store.all().await.expect("all");
    let mut body = good(&notary);
    body["number"] = json!(VALID_NUMBER);
    let (status, answer) = notary.register(&body).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["errors"][0]["field"], "number");
    assert_eq!(notary.store.all().await.expect("all"), before);
    notary.stop().await;
}

#[tokio::test]
async fn registering_without_an_operator_is_refused_and_stores_nothing() {
    let notary = Running::start().await;
    let body = good(&notary).to_string();
    let (status, _) = egov_testkit::service::http_request(
        notary.http,
        "notary",
        "POST",
        "/powers-of-attorney",
        &body,
    )
    .await;
    assert_eq!(status, 401);
    let absent = notary
        .get(&notary.con, "ENIS-000501", "B")
        .await
        .expect("answer");
    assert!(absent.power_of_attorney.is_none(), "nothing was stored");
    notary.stop().await;
}
