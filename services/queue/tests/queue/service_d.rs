//! Service D's regulated branches: a referral where a place is free, a notification of the
//! position where none is (and a referral once an operator frees one), and the reasoned
//! refusals on each Standard item-10 ground — registered, queued nowhere, and answered by the
//! provider's executor with a refusal signed by the back office's head (seed `002_…` item 3) —
//! beside a child the citizens-DB lacks ("the data cannot be obtained", at once), and the
//! provider's refusal of an incomplete package at the State Corporation, which takes the child
//! out of the queue.

use egov_citizens::fixtures::{
    CHILD_7_OR_OVER, CHILD_UNDER_7, DECEASED_PERSON, PARENT_OF_CHILD_UNDER_7, PRINCIPAL,
    REPRESENTATIVE, SPOUSE_OF_PARENT_OF_CHILD_UNDER_7, UNEMPLOYED_ADULT,
};
use egov_core::clock::Clock;
use egov_core::pki::Role;
use egov_core::{Iin, StatusCode, systems};
use egov_proto::v1::{
    AgeGroup, Channel, PlaceInQueueRequest, PlaceInQueueResponse, ResultKind, ServiceResult,
};
use egov_queue::entry::{age_group, age_group_name};
use egov_queue::fixtures::{AINALAYIN, BALAPAN, KYZGALDAK, KYZYLORDA_CITY, SHIELI_DISTRICT};
use egov_queue::placement::GROUNDS;
use egov_system::CallError;
use egov_system::intake::{age_on, local_date};

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

/// A valid BIN of no kindergarten in the register.
const KINDERGARTEN_NOT_IN_REGISTER: &str = "111140900015";

/// Aral district: no kindergarten of it is in the register.
const DISTRICT_WITHOUT_KINDERGARTEN: &str = "4302";

/// Returns the signed result of `number` as the queue register stored it, after checking it
/// verifies and its signer is the back office's own head under the back office's BIN (service
/// D's regulation names no head: `egov_core::providers`).
async fn signed_result(stack: &Stack, number: &str) -> ServiceResult {
    let result = stack.wait_for_result(number).await;
    let signer = stack.kept_result_signer(&stack.store, number).await;
    assert!(signer.has_role(Role::Head), "{}", signer.subject);
    assert_eq!(
        signer.bin.map(|bin| bin.to_string()).as_deref(),
        Some(systems::BACKOFFICE.bin),
        "{}",
        signer.subject
    );
    result
}

/// Checks that a placement was registered for the provider's reasoned refusal and not queued,
/// and that the executor's result is that refusal on `ground`, its reason containing `reason`,
/// signed by the back office's head; returns the result.
async fn assert_reasoned_refusal(
    stack: &Stack,
    answered: Result<PlaceInQueueResponse, CallError>,
    child: &str,
    ground: &str,
    reason: &str,
) -> ServiceResult {
    let registered = answered.expect("registered: the provider answers with a reasoned refusal");
    assert_eq!(registered.kind(), ResultKind::Unspecified, "{registered:?}");
    assert!(registered.referral_number.is_empty(), "{registered:?}");
    assert_eq!(registered.position, 0, "{registered:?}");
    let number = registered.registration_number.clone();
    let year = local_date(stack.clock.now()).year();
    assert!(number.starts_with(&format!("DQ-{year}-")), "{number}");
    let queued = stack
        .store
        .active_entry(&Iin::parse(child).expect("IIN"))
        .await;
    assert!(
        queued
            .expect("read")
            .is_none_or(|entry| entry.registration_number != number),
        "a refused application queues nobody"
    );
    let result = signed_result(stack, &number).await;
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, ground);
    assert_eq!(result.fields["refusal_kind"], "reasoned_refusal");
    assert!(
        result.fields["reason"].contains(reason),
        "{:?} does not contain {reason:?}",
        result.fields["reason"]
    );
    assert!(
        GROUNDS.contains(&ground),
        "{ground} is one of the register's grounds"
    );
    result
}

/// Places on the portal as `recipient` for `child` (the recipient signs).
async fn place(
    stack: &Stack,
    recipient: &str,
    child: &str,
    district: &str,
    kindergarten: &str,
) -> Result<PlaceInQueueResponse, CallError> {
    stack
        .place_on_portal(
            recipient,
            request(recipient, child, district, kindergarten, Channel::Portal),
        )
        .await
}

/// Returns a request a representative files by power of attorney `number`.
fn by_representative(number: &str) -> PlaceInQueueRequest {
    let mut asked = request(
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        SHIELI_DISTRICT,
        "",
        Channel::Portal,
    );
    if let Some(application) = asked.application.as_mut() {
        application.representative_iin = REPRESENTATIVE.into();
        application.power_of_attorney_number = number.into();
    }
    asked
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
    let result = signed_result(&stack, &number).await;
    assert_eq!(result.kind(), ResultKind::Referral);
    assert_eq!(result.fields["referral_number"], placed.referral_number);
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
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_child_is_seven_or_older() {
    let stack = Stack::start().await;
    let answered = place(
        &stack,
        PARENT_OF_CHILD_UNDER_7,
        CHILD_7_OR_OVER,
        KYZYLORDA_CITY,
        "",
    )
    .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_7_OR_OVER,
        "child_of_school_age",
        "only children under 7 (pre-school age) are queued",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_child_already_queued() {
    let stack = Stack::start().await;
    let first = place(
        &stack,
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        SHIELI_DISTRICT,
        "",
    )
    .await
    .expect("placed");
    assert_eq!(first.kind(), ResultKind::Notification);
    // The other parent, elsewhere: the child is queued once.
    let answered = place(
        &stack,
        SPOUSE_OF_PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        KYZYLORDA_CITY,
        KYZGALDAK,
    )
    .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "child_already_queued",
        &format!("child {CHILD_UNDER_7} is already in the queue"),
    )
    .await;
    let group = expected_group(&stack, CHILD_UNDER_7);
    assert_eq!(
        free_places(&stack, KYZGALDAK, group).await,
        2,
        "no place taken"
    );
    let still = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await
        .expect("still queued");
    assert_eq!(still.position, 1, "the refusal leaves the first placement");
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_applicant_is_not_parent_or_guardian()
 {
    let stack = Stack::start().await;
    let answered = place(&stack, UNEMPLOYED_ADULT, CHILD_UNDER_7, KYZYLORDA_CITY, "").await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "applicant_not_parent_or_guardian",
        &format!("recipient {UNEMPLOYED_ADULT} is neither a parent nor a legal representative"),
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_district_has_no_kindergarten() {
    let stack = Stack::start().await;
    let answered = place(
        &stack,
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        DISTRICT_WITHOUT_KINDERGARTEN,
        "",
    )
    .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "district_without_kindergarten",
        "no kindergarten of district \"4302\" is in the register",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_kindergarten_is_not_in_register() {
    let stack = Stack::start().await;
    let answered = place(
        &stack,
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        KYZYLORDA_CITY,
        KINDERGARTEN_NOT_IN_REGISTER,
    )
    .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "kindergarten_not_in_register",
        "no kindergarten 111140900015 is in the register",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_kindergarten_is_not_in_district() {
    let stack = Stack::start().await;
    let answered = place(
        &stack,
        PARENT_OF_CHILD_UNDER_7,
        CHILD_UNDER_7,
        SHIELI_DISTRICT,
        AINALAYIN,
    )
    .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "kindergarten_not_in_district",
        "is in district 7103, not 4307",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_recipient_is_recorded_deceased() {
    let stack = Stack::start().await;
    let answered = stack
        .place_at_state_corporation(request(
            DECEASED_PERSON,
            CHILD_UNDER_7,
            KYZYLORDA_CITY,
            "",
            Channel::StateCorporation,
        ))
        .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "recipient_deceased",
        &format!("recipient {DECEASED_PERSON} is recorded deceased"),
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_power_of_attorney_is_not_in_force()
{
    let stack = Stack::start().await;
    // Notarised for service B only: not in force for D.
    stack
        .notarise("ENIS-000702", PARENT_OF_CHILD_UNDER_7, REPRESENTATIVE, "B")
        .await;
    let answered = stack
        .place_on_portal(REPRESENTATIVE, by_representative("ENIS-000702"))
        .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "power_of_attorney_not_in_force",
        "power of attorney ENIS-000702 is not in force for service D",
    )
    .await;
}

#[tokio::test]
async fn kindergarten_queue_refused_with_a_reasoned_answer_when_power_of_attorney_is_between_other_persons()
 {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000703", PRINCIPAL, REPRESENTATIVE, "D")
        .await;
    let answered = stack
        .place_on_portal(REPRESENTATIVE, by_representative("ENIS-000703"))
        .await;
    assert_reasoned_refusal(
        &stack,
        answered,
        CHILD_UNDER_7,
        "power_of_attorney_between_other_persons",
        &format!("power of attorney ENIS-000703 is from {PRINCIPAL} to {REPRESENTATIVE}"),
    )
    .await;
}

#[test]
fn kindergarten_queue_grounds_are_item_10_grounds_of_ds_catalogue() {
    let catalogue = egov_backoffice::catalogue::Catalogue::embedded().expect("catalogue");
    let service = catalogue.service("D").expect("service D");
    for ground in GROUNDS {
        let found = service
            .ground(ground)
            .unwrap_or_else(|| panic!("{ground} is not an item-10 ground of D's catalogue"));
        assert_eq!(found.kind.as_str(), "reasoned_refusal", "{ground}");
    }
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
