//! Service B's regulated branches: issued on the portal and at the State Corporation (also to
//! a representative by power of attorney), refused for an employed recipient, for a recipient
//! the citizens-DB lacks, for a power of attorney the notary registry lacks or holds expired,
//! and by the provider when the item-9 documents do not match.

use egov_citizens::fixtures::{
    EMPLOYED_ADULT, PERSON_NOT_IN_DATABASE, REPRESENTATIVE, UNEMPLOYED_ADULT,
};
use egov_core::clock::Clock;
use egov_core::envelope::{VerifyPolicy, from_timestamp};
use egov_core::pki::Role;
use egov_core::{Bin, Iin, StatusCode, providers, systems};
use egov_notary::PowerOfAttorney;
use egov_proto::v1::{Channel, Envelope, ResultKind, ServiceResult};
use egov_system::intake::{IntakeStore, local_date};
use prost::Message;
use time::macros::date;

use egov_labor::DECIDED_SERVICE_ID;

use crate::common::{Stack, application, assert_refused, document};

#[tokio::test]
async fn unemployed_certificate_issued_to_registered_unemployed_citizen() {
    let stack = Stack::start().await;
    let registered = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await
        .expect("registered");
    let year = local_date(stack.clock.now()).year();
    assert_eq!(registered.registration_number, format!("LM-{year}-000001"));
    let registered_at =
        from_timestamp(registered.registered_at.as_ref().expect("registered_at")).expect("time");
    let due_at = from_timestamp(registered.due_at.as_ref().expect("due_at")).expect("time");
    assert_eq!(
        due_at - registered_at,
        time::Duration::minutes(10),
        "B's five steps"
    );

    // Undecided at first: EDAT001, never a guess.
    let undecided = stack
        .result_on_portal(UNEMPLOYED_ADULT, &registered.registration_number)
        .await;
    assert_refused(undecided, StatusCode::DataNotFound, "not decided yet");

    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(result.kind(), ResultKind::Certificate);
    assert_eq!(result.registration_number, registered.registration_number);
    assert!(result.refusal_ground.is_empty());
    // The citizen reads the same result in the cabinet.
    let on_portal = stack
        .result_on_portal(UNEMPLOYED_ADULT, &registered.registration_number)
        .await
        .expect("the citizen's result");
    assert_eq!(on_portal, result);

    // The signed envelope is kept as received: it verifies, the provider's head authored it
    // and the back office countersigned it.
    let stored = stack
        .store
        .result(&registered.registration_number)
        .await
        .expect("read")
        .expect("stored");
    let envelope = Envelope::decode(stored.envelope.as_slice()).expect("an envelope");
    let verified = stack
        .sandbox
        .verifier()
        .verify(&envelope, &VerifyPolicy::any())
        .await
        .expect("the kept envelope still verifies");
    assert!(verified.signer.has_role(Role::Head));
    assert_eq!(
        verified.signer.bin.map(|bin| bin.to_string()).as_deref(),
        Some(providers::EMPLOYMENT_CENTRE.bin),
        "the employment centre's head signed it"
    );
    assert_eq!(stored.signer_subject, verified.signer.subject);
    let back_office = Bin::parse(systems::BACKOFFICE.bin).expect("BIN");
    assert!(verified.signed_by_bin(&back_office));
    assert_eq!(
        ServiceResult::decode(&envelope.payload[..]).expect("payload"),
        result
    );
}

#[tokio::test]
async fn unemployed_certificate_refused_when_signed_by_another_providers_head() {
    let stack = Stack::start().await;
    let registered = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await
        .expect("registered");
    let number = &registered.registration_number;
    let forged = ServiceResult {
        registration_number: number.clone(),
        kind: ResultKind::Certificate as i32,
        text: "a certificate the employment centre never issued".into(),
        ..ServiceResult::default()
    };
    // The social-protection department's head is a real head, under its own BIN, and the
    // back office countersigns: only the organisation is wrong.
    let other_head = stack.provider_head(&providers::SOCIAL_PROTECTION_DEPARTMENT);
    let refused = stack
        .deliver_result_as(&other_head, DECIDED_SERVICE_ID, &forged)
        .await;
    egov_test_stack::assert_refused_as_not_the_providers(
        refused,
        &providers::SOCIAL_PROTECTION_DEPARTMENT,
        &providers::EMPLOYMENT_CENTRE,
    );

    // Nothing was kept: the citizen gets the employment centre's own certificate.
    let result = stack.wait_for_result(number).await;
    assert_ne!(result.text, forged.text);
    let stored = stack
        .store
        .result(number)
        .await
        .expect("read")
        .expect("stored");
    assert!(
        stored
            .signer_iin
            .contains(providers::EMPLOYMENT_CENTRE.head.iin),
        "{}",
        stored.signer_iin
    );
}

#[tokio::test]
async fn unemployed_certificate_issued_at_the_state_corporation_to_a_representative_by_power_of_attorney()
 {
    let stack = Stack::start().await;
    stack
        .notarise("ENIS-000501", UNEMPLOYED_ADULT, REPRESENTATIVE, "B")
        .await;
    let mut by_representative = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    by_representative.representative_iin = REPRESENTATIVE.into();
    by_representative.power_of_attorney_number = "ENIS-000501".into();
    let registered = stack
        .apply_at_state_corporation(by_representative)
        .await
        .expect("registered");
    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(result.kind(), ResultKind::Certificate);
    // The representative reads it on the portal too.
    let on_portal = stack
        .result_on_portal(REPRESENTATIVE, &registered.registration_number)
        .await
        .expect("the representative's result");
    assert_eq!(on_portal.kind(), ResultKind::Certificate);
}

#[tokio::test]
async fn unemployed_certificate_refused_when_applicant_is_employed() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_on_portal(EMPLOYED_ADULT, application(EMPLOYED_ADULT, Channel::Portal))
        .await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        egov_labor::fixtures::EMPLOYER_BIN,
    );
    assert_eq!(stack.registered().await, 0, "a refusal registers nothing");
}

#[tokio::test]
async fn unemployed_certificate_refused_when_recipient_not_in_citizens_db() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_at_state_corporation(application(
            PERSON_NOT_IN_DATABASE,
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
async fn unemployed_certificate_refused_when_power_of_attorney_not_in_notary_registry() {
    let stack = Stack::start().await;
    let mut by_representative = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    by_representative.representative_iin = REPRESENTATIVE.into();
    by_representative.power_of_attorney_number = egov_notary::fixtures::UNKNOWN_NUMBER.into();
    let refused = stack.apply_at_state_corporation(by_representative).await;
    assert_refused(
        refused,
        StatusCode::DataNotFound,
        &format!(
            "power of attorney {} is not in the notary registry",
            egov_notary::fixtures::UNKNOWN_NUMBER
        ),
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn unemployed_certificate_refused_when_power_of_attorney_expired() {
    let stack = Stack::start().await;
    stack
        .notary
        .insert(
            &PowerOfAttorney {
                number: "ENIS-000502".into(),
                principal_iin: Iin::parse(UNEMPLOYED_ADULT).expect("IIN"),
                representative_iin: Iin::parse(REPRESENTATIVE).expect("IIN"),
                service_ids: Vec::new(),
                notary_name: "Иванов Сергей Петрович".into(),
                issue_date: date!(2020 - 01 - 10),
                expiry_date: date!(2021 - 01 - 09),
                revoked: false,
            },
            stack.clock.now(),
        )
        .await
        .expect("registered in the notary registry");
    let mut by_representative = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    by_representative.representative_iin = REPRESENTATIVE.into();
    by_representative.power_of_attorney_number = "ENIS-000502".into();
    let refused = stack.apply_at_state_corporation(by_representative).await;
    assert_refused(
        refused,
        StatusCode::ServiceRefused,
        "power of attorney ENIS-000502 is not in force for service B: expired",
    );
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn unemployed_certificate_refused_by_provider_when_documents_do_not_match_item_9() {
    let stack = Stack::start().await;
    // At the State Corporation the identity document is required (Standard item 9).
    let mut incomplete = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    incomplete.documents = vec![document("application")];
    let registered = stack
        .apply_at_state_corporation(incomplete)
        .await
        .expect("registered: the provider checks the documents");
    let result = stack.wait_for_result(&registered.registration_number).await;
    assert_eq!(result.kind(), ResultKind::Refusal);
    assert_eq!(result.refusal_ground, "documents_do_not_match_item_9");
}
