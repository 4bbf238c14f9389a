//! The direct `egov.v1.Notary` contract and the operational endpoints.

use egov_core::StatusCode;
use egov_core::systems;
use egov_notary::fixtures::{SERVICE_C_NUMBER, VALID_NUMBER};
use egov_notary::{FIND_SERVICE_ID, GET_SERVICE_ID};
use egov_proto::v1::notary_client::NotaryClient;
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyValidity,
};
use egov_system::direct;

use crate::common::Running;

/// Signs a direct call as the State Corporation's system would.
fn signed<M: prost::Message + prost::Name>(
    notary: &Running,
    service_id: &str,
    message: M,
) -> tonic::Request<M> {
    let header = notary.con.header::<M>(service_id, systems::NOTARY.id);
    direct::signed_request(&notary.con.identity().signer, &header, message).expect("signed")
}

#[tokio::test]
async fn notary_contract_answers_as_the_gateway_does() {
    let notary = Running::start().await;
    let mut client = NotaryClient::connect(format!("http://{}", notary.grpc))
        .await
        .expect("connect");
    let answer = client
        .get_power_of_attorney(signed(
            &notary,
            GET_SERVICE_ID,
            GetPowerOfAttorneyRequest {
                number: SERVICE_C_NUMBER.into(),
                service_id: "B".into(),
            },
        ))
        .await
        .expect("answer")
        .into_inner();
    assert_eq!(
        answer.validity(),
        PowerOfAttorneyValidity::ServiceNotCovered
    );
    let answer = client
        .get_power_of_attorney(signed(
            &notary,
            GET_SERVICE_ID,
            GetPowerOfAttorneyRequest {
                number: VALID_NUMBER.into(),
                service_id: String::new(),
            },
        ))
        .await
        .expect("answer")
        .into_inner();
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);
    let refused = client
        .find_power_of_attorney(signed(
            &notary,
            FIND_SERVICE_ID,
            FindPowerOfAttorneyRequest {
                principal_iin: "85010230013".into(),
                representative_iin: "881111300454".into(),
                service_id: String::new(),
            },
        ))
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        StatusCode::from_grpc(&refused),
        Some(StatusCode::InvalidRequest)
    );
    assert!(refused.message().contains("principal_iin"), "{refused:?}");
    notary.stop().await;
}

#[tokio::test]
async fn a_direct_look_up_without_a_signed_envelope_is_refused_with_esig001() {
    let notary = Running::start().await;
    let mut client = NotaryClient::connect(format!("http://{}", notary.grpc))
        .await
        .expect("connect");
    let refused = client
        .get_power_of_attorney(GetPowerOfAttorneyRequest {
            number: VALID_NUMBER.into(),
            service_id: String::new(),
        })
        .await
        .expect_err("unsigned");
    assert_eq!(
        StatusCode::from_grpc(&refused),
        Some(StatusCode::SignatureMissing),
        "{refused:?}"
    );
    assert!(
        !refused.message().contains("751204400013"),
        "no personal data"
    );
    notary.stop().await;
}

#[tokio::test]
async fn health_answers_ok_and_metrics_count_lookups() {
    let notary = Running::start().await;
    notary
        .get(&notary.con, VALID_NUMBER, "")
        .await
        .expect("answer");
    let (status, body) = notary.http("GET", "/health", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("notary"), "{body}");
    let (status, body) = notary.http("GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("notary_lookups_total"), "{body}");
    notary.stop().await;
}
