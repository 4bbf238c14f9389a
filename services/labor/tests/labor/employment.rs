//! The register of employed persons over HTTP: an operator records an employment, and the
//! person is refused the certificate; ending it lets them apply.

use egov_citizens::fixtures::UNEMPLOYED_ADULT;
use egov_core::StatusCode;
use egov_proto::v1::Channel;

use crate::common::{Stack, application, assert_refused};

#[tokio::test]
async fn unemployed_certificate_refused_after_an_operator_records_employment() {
    let stack = Stack::start().await;
    let body = serde_json::json!({
        "iin": UNEMPLOYED_ADULT,
        "employer_bin": "160240901053",
        "employer_name": "ТОО «Сарыарқа Логистик»",
        "since": "2024-02-01",
    });
    let (status, answer) = stack.http("POST", "/employment", &body.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    let refused = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await;
    assert_refused(refused, StatusCode::ServiceRefused, "is employed");

    let (status, answer) = stack
        .http("DELETE", &format!("/employment/{UNEMPLOYED_ADULT}"), "")
        .await;
    assert_eq!(status, 204, "{answer}");
    stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await
        .expect("registered once the employment ended");
    let (status, answer) = stack
        .http("DELETE", &format!("/employment/{UNEMPLOYED_ADULT}"), "")
        .await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer.contains("EDAT001"), "{answer}");
}

#[tokio::test]
async fn an_employment_body_with_bad_fields_is_refused_naming_each() {
    let stack = Stack::start().await;
    let body = serde_json::json!({ "iin": "950703390124", "employer_bin": "1" });
    let (status, answer) = stack.http("POST", "/employment", &body.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    for field in ["iin", "employer_bin", "employer_name"] {
        assert!(
            answer.contains(&format!("\"field\":\"{field}\"")),
            "{answer}"
        );
    }
    let (status, _) = stack.http("GET", "/health", "").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn recording_an_employment_without_an_operator_is_refused_and_stores_nothing() {
    use egov_testkit::service::{PLAIN_OPERATOR_TOKEN, http_request, http_request_as};

    let stack = Stack::start().await;
    let body = serde_json::json!({
        "iin": UNEMPLOYED_ADULT,
        "employer_bin": "160240901053",
        "employer_name": "ТОО «Сарыарқа Логистик»",
    })
    .to_string();
    let (status, _) = http_request(stack.http, "labor", "POST", "/employment", &body).await;
    assert_eq!(status, 401, "no token");
    let (status, _) = http_request_as(
        stack.http,
        "labor",
        "POST",
        "/employment",
        &body,
        Some("egov_not_a_token"),
    )
    .await;
    assert_eq!(status, 401, "an unknown token");
    let path = format!("/employment/{UNEMPLOYED_ADULT}");
    let (status, _) = http_request(stack.http, "labor", "DELETE", &path, "").await;
    assert_eq!(status, 401, "ending one needs an operator too");
    stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await
        .expect("no employment was recorded");
    let (status, answer) = http_request_as(
        stack.http,
        "labor",
        "DELETE",
        &path,
        "",
        Some(PLAIN_OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(
        status, 404,
        "an OPERATOR may act, and finds nothing recorded: {answer}"
    );
}
