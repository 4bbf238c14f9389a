//! Service D's regulated branches: a referral where a place is free, a notification of the
//! position where none is (and a referral once an operator frees one), and the refusals — a
//! child aged 7 or over, a child already queued, an applicant who is neither parent nor legal
//! representative, a child the citizens-DB lacks — plus the provider's refusal of an incomplete
//! package at the State Corporation, which takes the child out of the queue.

use egov_citizens::fixtures::{
    CHILD_7_OR_OVER, CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7, REPRESENTATIVE,
    SPOUSE_OF_PARENT_OF_CHILD_UNDER_7, UNEMPLOYED_ADULT,
};
use egov_core::clock::Clock;
use egov_core::envelope::VerifyPolicy;
use egov_core::pki::Role;
use egov_core::{Iin, StatusCode};
use egov_proto::v1::{AgeGroup, Channel, Envelope, ResultKind};
use egov_queue::entry::{age_group, age_group_name};
use egov_queue::fixtures::{BALAPAN, KYZGALDAK, KYZYLORDA_CITY, SHIELI_DISTRICT};
use egov_system::intake::{IntakeStore, age_on, local_date};
use prost::Message;

use crate::common::{Stack, assert_refused, request};

/// A valid IIN of a girl born 2023-03-15 that the citizens-DB never stores (serial 9997 is
/// above every generated one and no fixture's).
const CHILD_NOT_IN_DATABASE: &str = "230315699978";

/// Returns the age group the register should queue `child` in today.
fn expected_group(stack: &Stack, child: &str) -> AgeGroup {
    let birth = Iin::parse(child).expect("IIN").birth_date();
    age_group(age_on(birth, local_date(stack.clock.now()))).expect("pre-school age")
}

/// Returns the free places of a kindergarten's age group from `GET /places`.
async fn free_places(stack: &Stack, bin: &str, group: AgeGroup) -> i64 {
    let (status, body) = stack.http("GET", "/places", "").await;
    assert_eq!(status, 200, "{body}");
    let places: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    places
        .as_array()
        .expect("a list")
        .iter()
        .find(|row| row["kindergarten_bin"] == bin && row["age_group"] == age_group_name(group))
        .and_then(|row| row["free"].as_i64())
        .expect("the group's row")
}

#[tokio::test]
async fn kindergarten_queue_issues_referral_when_a_place_is_free() {
    let stack = Stack::start().await;
    let group = expected_group(&stack, CHILD_UNDER_7);
    assert_eq!(free_places(&stack, KYZGALDAK, group).await, 2);
    let placed = stack
        .place_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            request(
                PARENT_OF_CHILD_UNDER_7,
                CHILD_UNDER_7,
                KYZYLORDA_CITY,
                KYZGALDAK,
                Channel::Portal,
            ),
        )
        .await
        .expect("placed");
    let year = local_date(stack.clock.now()).year();
    assert_eq!(placed.kind(), ResultKind::Referral);
    assert_eq!(placed.referral_number, format!("REF-{year}-000001"));
    assert_eq!(placed.kindergarten_bin, KYZGALDAK);
    assert_eq!(placed.age_group(), group);
    assert_eq!(placed.position, 0);
    assert_eq!(
        free_places(&stack, KYZGALDAK, group).await,
        1,
        "the place is taken"
    );

    // The parent sees the referral; the provider's executor issues it, signed.
    let now = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await
        .expect("position");
    assert_eq!(now.kind(), ResultKind::Referral);
    let number = format!("DQ-{year}-000001");
    let result = stack.wait_for_result(&number).await;
    assert_eq!(result.kind(), ResultKind::Referral);
    assert_eq!(result.fields["referral_number"], placed.referral_number);
    let stored = stack
        .store
        .result(&number)
        .await
        .expect("read")
        .expect("stored");
    let envelope = Envelope::decode(stored.envelope.as_slice()).expect("an envelope");
    let verified = stack
        .sandbox
        .verifier()
        .verify(&envelope, &VerifyPolicy::any())
        .await
        .expect("verifies");
    assert!(verified.signer.has_role(Role::Head));
}

#[tokio::test]
async fn kindergarten_queue_notifies_position_when_no_place_is_free() {
    let stack = Stack::start().await;
    let group = expected_group(&stack, CHILD_UNDER_7);
    let placed = stack
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
    assert_eq!(placed.kind(), ResultKind::Notification);
    assert_eq!(placed.position, 1);
    assert!(placed.referral_number.is_empty());
    assert_eq!(placed.age_group(), group);
    let year = local_date(stack.clock.now()).year();
    let result = stack.wait_for_result(&format!("DQ-{year}-000001")).await;
    assert_eq!(result.kind(), ResultKind::Notification);
    assert_eq!(result.fields["queue_position"], "1");

    // An operator frees a place in the district: the waiting child gets it as a referral.
    let body = serde_json::json!({
        "kindergarten_bin": BALAPAN,
        "age_group": age_group_name(group),
    });
    let (status, answer) = stack.http("POST", "/places", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(CHILD_UNDER_7), "{answer}");
    let now = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await
        .expect("position");
    assert_eq!(now.kind(), ResultKind::Referral);
    assert_eq!(now.kindergarten_bin, BALAPAN);
    assert_eq!(free_places(&stack, BALAPAN, group).await, 0);
}

#[tokio::test]
async fn kindergarten_queue_refused_when_child_is_seven_or_older() {
    let stack = Stack::start().await;
    let refused = stack
        .place_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            request(
                PARENT_OF_CHILD_UNDER_7,
                CHILD_7_OR_OVER,
                KYZYLORDA_CITY,
                "",
                Channel::Portal,
            ),
        )
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        "only children under 7 (pre-school age) are queued",
    );
    assert_eq!(stack.registered().await, 0, "a refusal registers nothing");
}

#[tokio::test]
async fn kindergarten_queue_refused_when_child_already_queued() {
    let stack = Stack::start().await;
    let first = stack
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
    assert_eq!(first.kind(), ResultKind::Notification);
    // The other parent, elsewhere: the child is queued once.
    let refused = stack
        .place_on_portal(
            SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
            request(
                SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
                CHILD_UNDER_7,
                KYZYLORDA_CITY,
                KYZGALDAK,
                Channel::Portal,
            ),
        )
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        &format!("child {CHILD_UNDER_7} is already in the queue"),
    );
    assert_eq!(stack.registered().await, 1, "only the first placement");
    let group = expected_group(&stack, CHILD_UNDER_7);
    assert_eq!(
        free_places(&stack, KYZGALDAK, group).await,
        2,
        "no place taken"
    );
}

#[tokio::test]
async fn kindergarten_queue_refused_when_applicant_is_not_parent_or_representative() {
    let stack = Stack::start().await;
    let refused = stack
        .place_on_portal(
            UNEMPLOYED_ADULT,
            request(
                UNEMPLOYED_ADULT,
                CHILD_UNDER_7,
                KYZYLORDA_CITY,
                "",
                Channel::Portal,
            ),
        )
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        &format!("recipient {UNEMPLOYED_ADULT} is neither a parent nor a legal representative"),
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn kindergarten_queue_refused_when_child_not_in_citizens_db() {
    let stack = Stack::start().await;
    let refused = stack
        .place_at_state_corporation(request(
            PARENT_OF_CHILD_UNDER_7,
            CHILD_NOT_IN_DATABASE,
            KYZYLORDA_CITY,
            "",
            Channel::StateCorporation,
        ))
        .await;
    assert_refused(
        refused,
        StatusCode::DataNotFound,
        &format!("the data cannot be obtained: child {CHILD_NOT_IN_DATABASE}"),
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn kindergarten_queue_withdrawn_when_provider_refuses_an_incomplete_package() {
    let stack = Stack::start().await;
    let group = expected_group(&stack, CHILD_UNDER_7);
    let mut incomplete = request(
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        KYZYLORDA_CITY,
        KYZGALDAK,
        Channel::StateCorporation,
    );
    if let Some(application) = incomplete.application.as_mut() {
        application.documents.clear();
    }
    let placed = stack
        .place_at_state_corporation(incomplete)
        .await
        .expect("placed: the provider's executor checks the package");
    assert_eq!(placed.kind(), ResultKind::Referral);
    assert_eq!(free_places(&stack, KYZGALDAK, group).await, 1);
    let year = local_date(stack.clock.now()).year();
    let result = stack.wait_for_result(&format!("DQ-{year}-000001")).await;
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, "incomplete_package");
    // The refusal takes the child out of the queue and gives the place back.
    let refused = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await;
    assert_refused(refused, StatusCode::DataNotFound, "is not in the queue");
    assert_eq!(free_places(&stack, KYZGALDAK, group).await, 2);
}

#[tokio::test]
async fn kindergarten_queue_places_a_child_for_a_representative_by_power_of_attorney() {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000701", PARENT_OF_CHILD_UNDER_7, REPRESENTATIVE, "D")
        .await;
    let mut by_representative = request(
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        SHIELI_DISTRICT,
        "",
        Channel::Portal,
    );
    if let Some(application) = by_representative.application.as_mut() {
        application.representative_iin = REPRESENTATIVE.into();
        application.power_of_attorney_number = "ENIS-000701".into();
    }
    let placed = stack
        .place_on_portal(REPRESENTATIVE, by_representative)
        .await
        .expect("placed by the representative");
    assert_eq!(placed.kind(), ResultKind::Notification);
    assert_eq!(placed.position, 1);
    // The representative may ask where the child stands.
    let now = stack
        .position_on_portal(REPRESENTATIVE, CHILD_UNDER_7)
        .await
        .expect("position");
    assert_eq!(now.position, 1);
}

#[tokio::test]
async fn kindergarten_queue_takes_the_placement_back_when_the_back_office_is_unreachable() {
    let stack = Stack::start().await;
    let group = expected_group(&stack, CHILD_UNDER_7);
    // The back office's route now points at a port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    stack.sandbox.route(
        egov_backoffice::OPEN_CASE_SERVICE_ID,
        egov_core::systems::BACKOFFICE.id,
        closed,
        &[egov_core::systems::QUEUE.id],
    );
    let refused = stack
        .place_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            request(
                PARENT_OF_CHILD_UNDER_7,
                CHILD_UNDER_7,
                KYZYLORDA_CITY,
                KYZGALDAK,
                Channel::Portal,
            ),
        )
        .await;
    assert_refused(refused, StatusCode::TargetUnavailable, "back office");
    assert_eq!(stack.registered().await, 0, "not registered");
    assert_eq!(
        free_places(&stack, KYZGALDAK, group).await,
        2,
        "the place is back"
    );
    let refused = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await;
    assert_refused(refused, StatusCode::DataNotFound, "is not in the queue");
}
