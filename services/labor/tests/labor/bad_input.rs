//! Bad input: malformed fields are EDAT002, unsigned or wrongly signed requests are refused by
//! the gateway, a signer who is not the recipient (or not an operator) is refused by the Labour
//! Market AIS, a system without a route is EACC001 — and none of them stores anything.

use egov_citizens::fixtures::{EMPLOYED_ADULT, UNEMPLOYED_ADULT};
use egov_core::pki::Role;
use egov_core::{StatusCode, systems};
use egov_labor::APPLY_SERVICE_ID;
use egov_proto::v1::{ApplicationRegistered, ApplyUnemployedCertificateRequest, Channel};
use egov_system::caller::decode_answer;
use prost::Message;

use crate::common::{Stack, application, assert_refused, assert_refused_by_gateway};

/// The recipient's IIN with a wrong check digit.
const MALFORMED_IIN: &str = "950703390124";

#[tokio::test]
async fn unemployed_certificate_refused_with_edat002_when_recipient_iin_is_malformed() {
    let stack = Stack::start().await;
    let refused = stack
        .apply_at_state_corporation(application(MALFORMED_IIN, Channel::StateCorporation))
        .await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "application.recipient_iin",
    );
    let mut wrong_service = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    wrong_service.service_code = "C".into();
    let refused = stack.apply_at_state_corporation(wrong_service).await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "application.service_code",
    );
    let mut missing_power = application(UNEMPLOYED_ADULT, Channel::StateCorporation);
    missing_power.representative_iin = EMPLOYED_ADULT.into();
    let refused = stack.apply_at_state_corporation(missing_power).await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "application.power_of_attorney_number",
    );
    let refused = stack
        .send::<_, ApplicationRegistered>(
            &stack.con,
            &stack.operator(),
            APPLY_SERVICE_ID,
            &ApplyUnemployedCertificateRequest { application: None },
        )
        .await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "application: is missing",
    );
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_application_is_refused_by_the_gateway() {
    let stack = Stack::start().await;
    let request = ApplyUnemployedCertificateRequest {
        application: Some(application(UNEMPLOYED_ADULT, Channel::Portal)),
    };
    stack
        .assert_unsigned_and_impostor_refused(
            APPLY_SERVICE_ID,
            UNEMPLOYED_ADULT,
            EMPLOYED_ADULT,
            &request,
        )
        .await;

    // Signed, then the payload changed.
    let mut header = stack
        .portal
        .header::<ApplyUnemployedCertificateRequest>(APPLY_SERVICE_ID, systems::LABOR.id);
    header.user_iin = UNEMPLOYED_ADULT.into();
    let mut envelope = stack
        .citizen(UNEMPLOYED_ADULT)
        .seal_message(&header, &request)
        .expect("signs");
    let mut changed = request.clone();
    if let Some(application) = changed.application.as_mut() {
        application.recipient_iin = EMPLOYED_ADULT.into();
    }
    envelope.payload = changed.encode_to_vec().into();
    let refused = stack.portal.forward(envelope).await;
    assert_refused_by_gateway(refused, StatusCode::InvalidSignature);

    assert_eq!(stack.registered().await, 0, "nothing is stored");
}

#[tokio::test]
async fn unemployed_certificate_refused_when_portal_signer_is_not_the_recipient() {
    let stack = Stack::start().await;
    // The gateway admits it (the signer is who user_iin says), the Labour Market AIS does not.
    let request = ApplyUnemployedCertificateRequest {
        application: Some(application(UNEMPLOYED_ADULT, Channel::Portal)),
    };
    let refused = stack
        .send::<_, ApplicationRegistered>(
            &stack.portal,
            &stack.citizen(EMPLOYED_ADULT),
            APPLY_SERVICE_ID,
            &request,
        )
        .await;
    assert_refused(refused, StatusCode::IinMismatch, EMPLOYED_ADULT);
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn unemployed_certificate_refused_when_state_corporation_signer_is_not_an_operator() {
    let stack = Stack::start().await;
    let request = ApplyUnemployedCertificateRequest {
        application: Some(application(UNEMPLOYED_ADULT, Channel::StateCorporation)),
    };
    // A citizen's own certificate countersigned by the State Corporation is no operator's.
    let refused = stack
        .send::<_, ApplicationRegistered>(
            &stack.con,
            &stack.citizen(UNEMPLOYED_ADULT),
            APPLY_SERVICE_ID,
            &request,
        )
        .await;
    assert_refused(refused, StatusCode::CertificateNotAuthorized, "operator");
    // An employee of another organisation is no State Corporation operator either.
    let stranger = stack.sandbox.person(
        EMPLOYED_ADULT,
        Role::Employee,
        Some(egov_labor::fixtures::EMPLOYER_BIN),
    );
    let refused = stack
        .send::<_, ApplicationRegistered>(&stack.con, &stranger, APPLY_SERVICE_ID, &request)
        .await;
    assert_refused(refused, StatusCode::CertificateNotAuthorized, "operator");
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn system_without_a_route_is_refused_by_the_gateway_with_eacc001() {
    let stack = Stack::start().await;
    let esobes = stack
        .sandbox
        .caller(systems::ESOBES.id, systems::ESOBES.bin);
    let request = ApplyUnemployedCertificateRequest {
        application: Some(application(UNEMPLOYED_ADULT, Channel::Portal)),
    };
    let refused = esobes
        .call::<_, ApplicationRegistered>(APPLY_SERVICE_ID, systems::LABOR.id, &request)
        .await;
    assert_refused_by_gateway(refused, StatusCode::AccessDenied);
    assert_eq!(stack.registered().await, 0);
}

#[tokio::test]
async fn a_result_is_not_shown_to_another_citizen_or_for_an_unknown_number() {
    let stack = Stack::start().await;
    let registered = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .await
        .expect("registered");
    stack.wait_for_result(&registered.registration_number).await;
    let refused = stack
        .result_on_portal(EMPLOYED_ADULT, &registered.registration_number)
        .await;
    assert_refused(refused, StatusCode::DataNotFound, "no application");
    let refused = stack.result_at_state_corporation("LM-1999-000001").await;
    assert_refused(
        refused,
        StatusCode::DataNotFound,
        "no application LM-1999-000001",
    );
    let refused = stack.result_at_state_corporation("").await;
    assert_refused(refused, StatusCode::InvalidRequest, "registration_number");
    // The envelope decoder is the one the portal uses.
    let _ = decode_answer::<ApplicationRegistered>;
}

#[tokio::test]
async fn unemployed_certificate_refused_on_the_portal_for_a_power_of_attorney_not_notarised() {
    // Seed `001_…` item 9, process 2: a power of attorney certified otherwise than by a notary
    // is entered without its data at the State Corporation only; the portal has no operator
    // who saw the paper.
    let stack = Stack::start().await;
    let mut by_representative = application(UNEMPLOYED_ADULT, Channel::Portal);
    by_representative.representative_iin = EMPLOYED_ADULT.into();
    by_representative.fields.insert(
        egov_system::intake::FIELD_POWER_OF_ATTORNEY_FORM.into(),
        egov_system::intake::POWER_OF_ATTORNEY_NOT_NOTARISED.into(),
    );
    let refused = stack
        .apply_on_portal(EMPLOYED_ADULT, by_representative)
        .await;
    assert_refused(
        refused,
        StatusCode::InvalidRequest,
        "accepted at the State Corporation only",
    );
    assert_eq!(stack.registered().await, 0, "nothing is stored");
}
