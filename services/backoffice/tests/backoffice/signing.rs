//! The result is the provider's signed document: authored with the HEAD certificate of the
//! head of the organisation that decides the service, under that organisation's BIN,
//! countersigned by the back office's seal; D, whose regulation names no head, keeps the back
//! office's own head.

use egov_core::envelope::{IdentityRule, VerifyPolicy};
use egov_core::pki::Role;
use egov_core::{Bin, providers, systems};
use egov_proto::v1::{Channel, Envelope, Header, ResultKind, ServiceApplication};
use prost::Message;

use crate::common::{HEAD_IIN, Options, Stack, application, next_monday_morning, service_result};

/// Opens a case of `application` for `system`, walks it to its close and returns the signed
/// result the system received.
async fn result_of(
    stack: &Stack,
    system: &str,
    application: ServiceApplication,
    case: &str,
) -> Envelope {
    let opened = stack.open(system, application, case).await.expect("opened");
    stack.run_to_close(&opened.id).await;
    let mut received = stack.wait_received(system, 1).await;
    received.remove(0)
}

#[tokio::test]
async fn a_result_of_b_is_signed_by_the_employment_centres_head() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let envelope = &result_of(
        &stack,
        systems::LABOR.id,
        application("B", Channel::Portal, &["application"]),
        "LABOR-SIGNED",
    )
    .await;

    let provider = Bin::parse(providers::EMPLOYMENT_CENTRE.bin).expect("BIN");
    let verified = stack
        .sandbox
        .verifier()
        .verify(
            envelope,
            &VerifyPolicy::any()
                .with_role(Role::Head)
                .with_identity(IdentityRule::Bin(provider)),
        )
        .await
        .expect("the result verifies as signed by the employment centre's head");
    assert!(verified.signer.has_role(Role::Head));
    assert_eq!(verified.signer.bin, Some(provider));
    assert_eq!(
        verified.signer.iin.as_ref().map(|iin| iin.as_str()),
        Some(providers::EMPLOYMENT_CENTRE.head.iin)
    );
    assert_eq!(
        verified.signers.len(),
        2,
        "the head, then the system's seal"
    );
    let back_office = Bin::parse(systems::BACKOFFICE.bin).expect("BIN");
    assert!(verified.signers[1].has_role(Role::LegalEntity));
    assert!(!verified.signers[1].has_role(Role::Head));
    assert_eq!(verified.signers[1].bin, Some(back_office));

    let header = Header::decode(&envelope.header[..]).expect("header");
    assert_eq!(header.service_id, "labor.application.decided");
    assert_eq!(header.sender_system_id, systems::BACKOFFICE.id);
    assert_eq!(header.user_iin, providers::EMPLOYMENT_CENTRE.head.iin);
    assert_eq!(service_result(envelope).kind(), ResultKind::Certificate);
}

#[tokio::test]
async fn a_result_of_c_is_signed_by_the_social_protection_departments_head() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let received = result_of(
        &stack,
        systems::ESOBES.id,
        application(
            "C",
            Channel::StateCorporation,
            &[
                "application",
                "pmpc_conclusion",
                "home_schooling_certificate",
            ],
        ),
        "ESOBES-SIGNED",
    )
    .await;
    let verified = stack
        .sandbox
        .verifier()
        .verify(&received, &VerifyPolicy::any())
        .await
        .expect("verifies");
    assert_eq!(
        verified.signer.bin.map(|bin| bin.to_string()).as_deref(),
        Some(providers::SOCIAL_PROTECTION_DEPARTMENT.bin)
    );
}

#[tokio::test]
async fn an_enrolment_contract_handed_over_on_paper_is_signed_by_the_kindergartens_head() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = stack
        .open_at_desk(application(
            "E",
            Channel::Provider,
            &["referral", "child_health_passport"],
        ))
        .await;
    let result = stack
        .run_to_close(&opened.id)
        .await
        .result
        .expect("the contract");
    assert_eq!(result.kind(), ResultKind::Contract);

    let signed = Envelope::decode(result.evidence.as_slice()).expect("the signed paper result");
    let kindergarten = Bin::parse(providers::SHIELI_KINDERGARTEN.bin).expect("BIN");
    let verified = stack
        .sandbox
        .verifier()
        .verify(
            &signed,
            &VerifyPolicy::any()
                .with_role(Role::Head)
                .with_identity(IdentityRule::Bin(kindergarten)),
        )
        .await
        .expect("the contract verifies as signed by the kindergarten's head");
    assert_eq!(
        verified.signer.iin.as_ref().map(|iin| iin.as_str()),
        Some(providers::SHIELI_KINDERGARTEN.head.iin)
    );
    let mut document = service_result(&signed);
    assert!(document.evidence.is_empty());
    document.evidence = result.evidence.clone();
    assert_eq!(
        document, result,
        "the head signed the result the office shows"
    );
    let header = Header::decode(&signed.header[..]).expect("header");
    assert_eq!(
        header.service_id,
        egov_backoffice::messages::PAPER_RESULT_SERVICE_ID
    );
}

#[tokio::test]
async fn a_result_of_d_stays_signed_by_the_back_offices_own_head() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let mut app = application("D", Channel::Portal, &[]);
    app.fields
        .insert("queue_decision".into(), "notification".into());
    app.fields.insert("queue_position".into(), "17".into());
    let received = result_of(&stack, systems::QUEUE.id, app, "QUEUE-SIGNED").await;
    let verified = stack
        .sandbox
        .verifier()
        .verify(&received, &VerifyPolicy::any().with_role(Role::Head))
        .await
        .expect("verifies");
    assert_eq!(
        verified.signer.bin,
        Some(Bin::parse(systems::BACKOFFICE.bin).expect("BIN"))
    );
    assert_eq!(
        verified.signer.iin.as_ref().map(|iin| iin.as_str()),
        Some(HEAD_IIN)
    );
}

#[tokio::test]
async fn the_back_office_refuses_to_start_when_a_heads_certificate_carries_another_bin() {
    let mut stack = Stack::start(next_monday_morning(), Options::default()).await;
    stack.stop_back_office().await;
    let wrong = stack.heads(Some((
        providers::EMPLOYMENT_CENTRE.key,
        providers::SOCIAL_PROTECTION_DEPARTMENT.bin,
    )));
    let error = stack.start_refused(wrong).await.to_string();
    assert!(
        error.contains(providers::EMPLOYMENT_CENTRE.name_ru),
        "names the organisation: {error}"
    );
    assert!(
        error.contains(providers::EMPLOYMENT_CENTRE.bin)
            && error.contains(providers::SOCIAL_PROTECTION_DEPARTMENT.bin),
        "names both BINs: {error}"
    );
}
