//! Service C's regulated branches: the benefit assigned (on the portal, and at the State
//! Corporation to a representative by power of attorney), and refused when the child is not
//! disabled, not schooled at home, not in the citizens-DB, when the applicant is neither parent
//! nor guardian, when the power of attorney is not in the notary registry, and by the provider
//! when the item-9 documents do not match.

use egov_citizens::fixtures::{
    CHILD_7_OR_OVER, DISABLED_CHILD, PARENT_OF_CHILD_UNDER_7, PARENT_OF_DISABLED_CHILD,
    PERSON_NOT_IN_DATABASE, REPRESENTATIVE, UNEMPLOYED_ADULT,
};
use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_core::envelope::from_timestamp;
use egov_core::pki::Role;
use egov_esobes::compensation::{FIELD_HOME_SCHOOLING, HOME_SCHOOLING_CERTIFICATE};
use egov_proto::v1::{Channel, ResultKind};
use egov_system::intake::local_date;

use crate::common::{Stack, application, assert_refused};

/// A valid IIN of a boy born 2015-01-10 that the citizens-DB never stores (serial 9997 is
/// above every generated one and no fixture's).
const CHILD_NOT_IN_DATABASE: &str = "150110599971";

#[tokio::test]
async fn home_schooling_compensation_assigned_to_parent_of_disabled_child_schooled_at_home() {
    let stack = Stack::start().await;
    let registered = stack
        .apply_on_portal(
            PARENT_OF_DISABLED_CHILD,
            application(PARENT_OF_DISABLED_CHILD, DISABLED_CHILD, Channel::Portal),
        )
        .await
        .expect("registered");
    let year = local_date(stack.clock.now()).year();
    assert_eq!(registered.registration_number, format!("ES-{year}-000001"));
    let registered_at =
        from_timestamp(registered.registered_at.as_ref().expect("registered_at")).expect("time");
    let due_at = from_timestamp(registered.due_at.as_ref().expect("due_at")).expect("time");
    // 15 minutes and nine working days: at least eleven calendar days from a Monday.
    assert!(
        due_at - registered_at >= time::Duration::days(11),
        "{registered_at} → {due_at}"
    );

    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(
        result.kind(),
        ResultKind::Notification,
        "the benefit is assigned"
    );
    assert!(result.refusal_ground.is_empty());
    let on_portal = stack
        .result_on_portal(PARENT_OF_DISABLED_CHILD, &registered.registration_number)
        .await
        .expect("the parent's result");
    assert_eq!(on_portal, result);
    // Kept as signed: the provider's head authored it.
    let signer = stack
        .kept_result_signer(&stack.store, &registered.registration_number)
        .await;
    assert!(signer.has_role(Role::Head));
}

#[tokio::test]
async fn home_schooling_compensation_assigned_at_the_state_corporation_to_a_representative_by_power_of_attorney()
 {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000601", PARENT_OF_DISABLED_CHILD, REPRESENTATIVE, "C")
        .await;
    let mut by_representative = application(
        PARENT_OF_DISABLED_CHILD,
        DISABLED_CHILD,
        Channel::StateCorporation,
    );
    by_representative.representative_iin = REPRESENTATIVE.into();
    by_representative.power_of_attorney_number = "ENIS-000601".into();
    let registered = stack
        .apply_at_state_corporation(by_representative)
        .await
        .expect("registered");
    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(result.kind(), ResultKind::Notification);
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_child_is_not_disabled() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            application(PARENT_OF_CHILD_UNDER_7, CHILD_7_OR_OVER, Channel::Portal),
        )
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        &format!("child {CHILD_7_OR_OVER} has no disability recorded"),
    );
    assert_eq!(stack.registered().await, 0, "a refusal registers nothing");
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_child_is_not_schooled_at_home() {
    let stack = Stack::start().await;
    let mut not_at_home = application(PARENT_OF_DISABLED_CHILD, DISABLED_CHILD, Channel::Portal);
    not_at_home
        .fields
        .insert(FIELD_HOME_SCHOOLING.into(), "false".into());
    let refused = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, not_at_home)
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        "not shown schooled at home",
    );
    let mut no_certificate = application(PARENT_OF_DISABLED_CHILD, DISABLED_CHILD, Channel::Portal);
    no_certificate
        .documents
        .retain(|document| document.kind != HOME_SCHOOLING_CERTIFICATE);
    let refused = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, no_certificate)
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        HOME_SCHOOLING_CERTIFICATE,
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_applicant_is_not_parent_or_representative() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, DISABLED_CHILD, Channel::Portal),
        )
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        &format!("recipient {UNEMPLOYED_ADULT} is neither a parent nor a guardian"),
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_child_not_in_citizens_db() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_at_state_corporation(application(
            PARENT_OF_DISABLED_CHILD,
            CHILD_NOT_IN_DATABASE,
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
async fn home_schooling_compensation_refused_when_recipient_not_in_citizens_db() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_at_state_corporation(application(
            PERSON_NOT_IN_DATABASE,
            DISABLED_CHILD,
            Channel::StateCorporation,
        ))
        .await;
    assert_refused(
        refused,
        StatusCode::DataNotFound,
        &format!("the data cannot be obtained: recipient {PERSON_NOT_IN_DATABASE}"),
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn home_schooling_compensation_refused_when_power_of_attorney_not_in_notary_registry() {
    let stack = Stack::start().await;
    let mut by_representative = application(
        PARENT_OF_DISABLED_CHILD,
        DISABLED_CHILD,
        Channel::StateCorporation,
    );
    by_representative.representative_iin = REPRESENTATIVE.into();
    by_representative.power_of_attorney_number = egov_notary::fixtures::UNKNOWN_NUMBER.into();
    let refused = stack.apply_at_state_corporation(by_representative).await;
    assert_refused(
        refused,
        StatusCode::DataNotFound,
        "is not in the notary registry",
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn home_schooling_compensation_refused_by_provider_when_documents_do_not_match_item_9() {
    let stack = Stack::start().await;
    let mut incomplete = application(PARENT_OF_DISABLED_CHILD, DISABLED_CHILD, Channel::Portal);
    incomplete
        .documents
        .retain(|document| document.kind != "pmpc_conclusion");
    let registered = stack
        .apply_on_portal(PARENT_OF_DISABLED_CHILD, incomplete)
        .await
        .expect("registered: the provider checks the documents");
    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, "documents_do_not_match_item_9");
}
