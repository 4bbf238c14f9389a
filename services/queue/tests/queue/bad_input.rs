//! Bad input: malformed IINs, an empty district and a malformed kindergarten BIN are EDAT002,
//! unsigned or wrongly signed requests are refused by the gateway, a system without a route is
//! EACC001, a child's place is not shown to strangers — and none of them stores anything. A
//! well-formed place the register has not is an item-10 ground (service_d.rs), not bad input.

use egov_citizens::fixtures::{CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7, UNEMPLOYED_ADULT};
use egov_core::{StatusCode, systems};
use egov_proto::v1::{Channel, PlaceInQueueRequest, PlaceInQueueResponse};
use egov_queue::PLACE_SERVICE_ID;
use egov_queue::fixtures::{KYZYLORDA_CITY, SHIELI_DISTRICT};

use crate::common::{Stack, assert_refused, assert_refused_by_gateway, request};

#[tokio::test]
async fn kindergarten_queue_refused_with_edat002_for_malformed_input() {
    let stack = Stack::start().await;
    let parent = PARENT_OF_CHILD_UNDER_7;
    let cases = [
        (
            request(parent, "220905590044", KYZYLORDA_CITY, "", Channel::Portal),
            "application.child_iin",
        ),
        (
            request(parent, CHILD_UNDER_7, "", "", Channel::Portal),
            "district: must not be empty",
        ),
        (
            request(
                parent,
                CHILD_UNDER_7,
                KYZYLORDA_CITY,
                "12345",
                Channel::Portal,
            ),
            "kindergarten_bin",
        ),
        (
            PlaceInQueueRequest {
                application: None,
                district: KYZYLORDA_CITY.into(),
                kindergarten_bin: String::new(),
            },
            "application: is missing",
        ),
    ];
    for (asked, needle) in cases {
        let refused = stack.place_on_portal(parent, asked).await;
        assert_refused(refused, StatusCode::InvalidRequest, needle);
    }
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_request_is_refused_by_the_gateway() {
    let stack = Stack::start().await;
    let asked = request(
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        KYZYLORDA_CITY,
        "",
        Channel::Portal,
    );
    stack
        .assert_unsigned_and_impostor_refused(
            PLACE_SERVICE_ID,
            PARENT_OF_CHILD_UNDER_7,
            UNEMPLOYED_ADULT,
            &asked,
        )
        .await;
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn system_without_a_route_is_refused_by_the_gateway_with_eacc001() {
    let stack = Stack::start().await;
    let esobes = stack
        .sandbox
        .caller(systems::ESOBES.id, systems::ESOBES.bin);
    let asked = request(
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        KYZYLORDA_CITY,
        "",
        Channel::Portal,
    );
    let refused = esobes
        .call::<_, PlaceInQueueResponse>(PLACE_SERVICE_ID, systems::QUEUE.id, &asked)
        .await;
    assert_refused_by_gateway(refused, StatusCode::AccessDenied);
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn a_childs_place_is_not_shown_to_another_citizen() {
    let stack = Stack::start().await;
    stack
        .place_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            request(
                PARENT_OF_CHILD_UNDER_7,
                CHILD_UNDER_7,
                SHIELI_DISTRICT,
                "",
                Channel::Portal,
            ),
        )
        .await
        .expect("placed");
    let refused = stack
        .position_on_portal(UNEMPLOYED_ADULT, CHILD_UNDER_7)
        .await;
    assert_refused(refused, StatusCode::DataNotFound, "is not in the queue");
    let refused = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, "2209055900")
        .await;
    assert_refused(refused, StatusCode::InvalidRequest, "child_iin");
    let body = serde_json::json!({ "kindergarten_bin": "1", "age_group": "toddler", "count": 0 });
    let (status, answer) = stack.http("POST", "/places", &body.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    for field in ["kindergarten_bin", "age_group", "count"] {
        assert!(
            answer.contains(&format!("\"field\":\"{field}\"")),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn freeing_places_without_an_operator_is_refused_and_changes_nothing() {
    let stack = Stack::start().await;
    let (status, before) = stack.http("GET", "/places", "").await;
    assert_eq!(status, 200, "{before}");
    let body = serde_json::json!({
        "kindergarten_bin": "1",
        "age_group": "toddler",
        "count": 1,
    });
    let (status, _) = egov_testkit::service::http_request(
        stack.http,
        "queue",
        "POST",
        "/places",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) =
        egov_testkit::service::http_request(stack.http, "queue", "GET", "/places", "").await;
    assert_eq!(status, 401, "the operator's view needs a token too");
    let (_, after) = stack.http("GET", "/places", "").await;
    assert_eq!(before, after);
}
