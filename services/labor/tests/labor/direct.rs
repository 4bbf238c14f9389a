//! The direct `egov.v1.Labor` contract: a signed call straight to the Labour Market AIS, with
//! the envelope in metadata, takes the same path as one the gateway forwards.

use egov_citizens::fixtures::UNEMPLOYED_ADULT;
use egov_core::clock::Clock;
use egov_core::envelope::VerifyPolicy;
use egov_core::{Bin, StatusCode, systems};
use egov_labor::APPLY_SERVICE_ID;
use egov_proto::v1::labor_client::LaborClient;
use egov_proto::v1::{ApplyUnemployedCertificateRequest, Channel, Header};
use egov_system::direct;
use egov_system::intake::{IntakeStore, local_date};
use prost::Message;

use crate::common::{Stack, application};

/// Connects to the Labour Market AIS's own gRPC port, not the gateway.
async fn client(stack: &Stack) -> LaborClient<tonic::transport::Channel> {
    LaborClient::connect(format!("http://{}", stack.grpc))
        .await
        .expect("connect to labor")
}

/// The portal's header for a citizen's application, as the portal would send it.
fn portal_header(stack: &Stack, service_id: &str) -> Header {
    let mut header = stack
        .portal
        .header::<ApplyUnemployedCertificateRequest>(service_id, systems::LABOR.id);
    header.user_iin = UNEMPLOYED_ADULT.to_owned();
    header
}

fn apply_request() -> ApplyUnemployedCertificateRequest {
    ApplyUnemployedCertificateRequest {
        application: Some(application(UNEMPLOYED_ADULT, Channel::Portal)),
    }
}

#[tokio::test]
async fn unemployed_certificate_applied_over_the_direct_contract_is_registered_with_a_signed_answer()
 {
    let stack = Stack::start().await;
    let request = apply_request();
    let mut envelope = stack
        .citizen(UNEMPLOYED_ADULT)
        .seal_message(&portal_header(&stack, APPLY_SERVICE_ID), &request)
        .expect("the citizen signs");
    stack
        .portal
        .identity()
        .signer
        .countersign(&mut envelope)
        .expect("the portal countersigns");

    let response = client(&stack)
        .await
        .apply_unemployed_certificate(direct::request(&envelope, request))
        .await
        .expect("registered directly");
    let answer = direct::answer_envelope(response.metadata()).expect("a signed answer");
    let registered = response.into_inner();
    assert!(registered.registration_number.starts_with("LM-"));
    let verified = stack
        .sandbox
        .verifier()
        .verify(&answer, &VerifyPolicy::any())
        .await
        .expect("the answer verifies");
    assert!(verified.signed_by_bin(&Bin::parse(systems::LABOR.bin).expect("BIN")));
    assert_eq!(answer.payload, registered.encode_to_vec());
    assert!(
        stack
            .store
            .registration(&registered.registration_number)
            .await
            .expect("read")
            .is_some(),
        "stored like an application through the gateway"
    );
}

#[tokio::test]
async fn direct_call_without_a_signed_envelope_is_refused_with_esig001_and_registers_nothing() {
    let stack = Stack::start().await;
    let status = client(&stack)
        .await
        .apply_unemployed_certificate(tonic::Request::new(apply_request()))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(
        status.message().starts_with("ESIG001"),
        "{}",
        status.message()
    );
    assert_eq!(
        status
            .metadata()
            .get(direct::STATUS_CODE_METADATA)
            .and_then(|code| code.to_str().ok()),
        Some(StatusCode::SignatureMissing.as_str())
    );
    let year = local_date(stack.clock.now()).year();
    assert!(
        stack
            .store
            .registration(&format!("LM-{year}-000001"))
            .await
            .expect("read")
            .is_none(),
        "nothing registered"
    );
}

#[tokio::test]
async fn direct_call_whose_signed_payload_differs_from_its_body_is_refused_with_emsg001() {
    let stack = Stack::start().await;
    let signed = apply_request();
    let envelope = stack
        .citizen(UNEMPLOYED_ADULT)
        .seal_message(&portal_header(&stack, APPLY_SERVICE_ID), &signed)
        .expect("signs");
    let mut other = apply_request();
    if let Some(application) = other.application.as_mut() {
        application.recipient_iin = "000000000000".to_owned();
    }
    // The full payload stays in the envelope, so the body must be the same message.
    let mut call = tonic::Request::new(other);
    call.metadata_mut().insert_bin(
        direct::ENVELOPE_METADATA,
        tonic::metadata::BinaryMetadataValue::from_bytes(&envelope.encode_to_vec()),
    );
    let status = client(&stack)
        .await
        .apply_unemployed_certificate(call)
        .await
        .expect_err("refused");
    assert!(
        status.message().starts_with("EMSG001"),
        "{}",
        status.message()
    );
    assert!(status.message().contains("differs"), "{}", status.message());
}

#[tokio::test]
async fn direct_call_signed_for_another_service_is_refused_with_emsg001() {
    let stack = Stack::start().await;
    let request = apply_request();
    let envelope = stack
        .citizen(UNEMPLOYED_ADULT)
        .seal_message(
            &portal_header(&stack, egov_labor::RESULT_SERVICE_ID),
            &request,
        )
        .expect("signs");
    let status = client(&stack)
        .await
        .apply_unemployed_certificate(direct::request(&envelope, request))
        .await
        .expect_err("refused");
    assert!(
        status.message().starts_with("EMSG001"),
        "{}",
        status.message()
    );
    assert!(
        status.message().contains("labor.application.result"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn unemployed_certificate_request_delivered_twice_registers_one_application() {
    let stack = Stack::start().await;
    let request = apply_request();
    let mut envelope = stack
        .citizen(UNEMPLOYED_ADULT)
        .seal_message(&portal_header(&stack, APPLY_SERVICE_ID), &request)
        .expect("the citizen signs");
    stack
        .portal
        .identity()
        .signer
        .countersign(&mut envelope)
        .expect("the portal countersigns");
    let mut labor = client(&stack).await;
    // The same message twice, as the async channel may redeliver it after a restart.
    let first = labor
        .apply_unemployed_certificate(direct::request(&envelope, request.clone()))
        .await
        .expect("registered")
        .into_inner();
    let again = labor
        .apply_unemployed_certificate(direct::request(&envelope, request))
        .await
        .expect("answered again")
        .into_inner();
    assert_eq!(again, first, "the same registration, not a second one");
    let year = local_date(stack.clock.now()).year();
    assert!(
        stack
            .store
            .registration(&format!("LM-{year}-000002"))
            .await
            .expect("read")
            .is_none(),
        "no second application"
    );
}
