//! Bad input: malformed or missing IINs are EDAT002, unsigned or wrongly signed requests are
//! refused by the gateway, a system without a route is EACC001 — and none of them stores
//! anything.

use egov_citizens::fixtures::{DISABLED_CHILD, PARENT_OF_DISABLED_CHILD, UNEMPLOYED_ADULT};
use egov_core::{StatusCode, systems};
use egov_esobes::APPLY_SERVICE_ID;
use egov_proto::v1::{ApplicationRegistered, ApplyHomeSchoolingCompensationRequest, Channel};

use crate::common::{Stack, application, assert_refused, assert_refused_by_gateway};

#[tokio::test]
async fn home_schooling_compensation_refused_with_edat002_when_child_iin_is_malformed_or_missing() {
    let stack = Stack::start().await;
    let malformed = application(PARENT_OF_DISABLED_CHILD, "130520590072", Channel::Portal);
    let refused = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, malformed)
        .await;
    assert_refused(refused, StatusCode::InvalidRequest, "application.child_iin");
    let missing = application(PARENT_OF_DISABLED_CHILD, "", Channel::Portal);
    let refused = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, missing)
        .await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "application.child_iin: must not be empty",
    );
    let mut wrong_channel = application(
        PARENT_OF_DISABLED_CHILD,
        DISABLED_CHILD,
        Channel::StateCorporation,
    );
    wrong_channel.recipient_iin = PARENT_OF_DISABLED_CHILD.into();
    let refused = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, wrong_channel)
        .await;
    assert_refused(refused, StatusCode::InvalidRequest, "application.channel");
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_application_is_refused_by_the_gateway() {
    let stack = Stack::start().await;
    let request = ApplyHomeSchoolingCompensationRequest {
        application: Some(application(
            PARENT_OF_DISABLED_CHILD,
            DISABLED_CHILD,
            Channel::Portal,
        )),
    };
    stack
        .assert_unsigned_and_impostor_refused(
            APPLY_SERVICE_ID,
            PARENT_OF_DISABLED_CHILD,
            UNEMPLOYED_ADULT,
            &request,
        )
        .await;
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn system_without_a_route_is_refused_by_the_gateway_with_eacc001() {
    let stack = Stack::start().await;
    let labor = stack.sandbox.caller(systems::LABOR.id, systems::LABOR.bin);
    let request = ApplyHomeSchoolingCompensationRequest {
        application: Some(application(
            PARENT_OF_DISABLED_CHILD,
            DISABLED_CHILD,
            Channel::Portal,
        )),
    };
    let refused = labor
        .call::<_, ApplicationRegistered>(APPLY_SERVICE_ID, systems::ESOBES.id, &request)
        .await;
    assert_refused_by_gateway(refused, StatusCode::AccessDenied);
    let (status, _) = stack.http("GET", "/health", "").await;
    assert_eq!(status, 200);
    assert_eq!(stack.registered().await, 0);
}
