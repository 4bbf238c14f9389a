//! Asking about a case through the gateway (`backoffice.case.get`): a system sees the cases
//! it opened, and an opening repeated with the same registration number finds the first case.

use egov_backoffice::GET_CASE_SERVICE_ID;
use egov_core::{StatusCode, systems};
use egov_proto::v1::{Case, Channel, GetCaseRequest};

use crate::common::{Options, Stack, application, next_monday_morning};

#[tokio::test]
async fn a_system_sees_only_the_cases_it_opened() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-LOOKUP",
        )
        .await
        .expect("opened");
    let asked = GetCaseRequest {
        id: opened.id.clone(),
    };
    let seen: Case = stack
        .caller(systems::LABOR.id)
        .call(GET_CASE_SERVICE_ID, systems::BACKOFFICE.id, &asked)
        .await
        .expect("labor sees its case");
    assert_eq!(seen, opened);
    let refused = stack
        .caller(systems::ESOBES.id)
        .call::<_, Case>(GET_CASE_SERVICE_ID, systems::BACKOFFICE.id, &asked)
        .await
        .expect_err("esobes did not open it");
    assert_eq!(refused.code(), StatusCode::DataNotFound);
}

#[tokio::test]
async fn opening_again_with_the_same_registration_number_returns_the_first_case() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let app = application("B", Channel::Portal, &["application"]);
    let first = stack
        .open(systems::LABOR.id, app.clone(), "LABOR-TWICE")
        .await
        .expect("opened");
    let again = stack
        .open(systems::LABOR.id, app, "LABOR-TWICE")
        .await
        .expect("opened again");
    assert_eq!(again.id, first.id);
    let other = stack
        .open(
            systems::LABOR.id,
            application("C", Channel::Portal, &["application"]),
            "LABOR-TWICE",
        )
        .await
        .expect_err("the number names a case of B");
    assert_eq!(other.code(), StatusCode::InvalidRequest);
}
