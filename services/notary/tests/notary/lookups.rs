//! Look-ups through the gateway, one per answer the State Corporation flow can get.

use egov_core::{StatusCode, systems};
use egov_notary::fixtures::{
    EXPIRED_NUMBER, EXPIRED_PRINCIPAL_IIN, EXPIRED_REPRESENTATIVE_IIN, REVOKED_NUMBER,
    SERVICE_C_CODE, SERVICE_C_NUMBER, UNKNOWN_NUMBER, VALID_NUMBER, VALID_PRINCIPAL_IIN,
    VALID_REPRESENTATIVE_IIN,
};
use egov_proto::v1::PowerOfAttorneyValidity;

use crate::common::Running;

#[tokio::test]
async fn power_of_attorney_in_force_is_valid() {
    let notary = Running::start().await;
    let answer = notary
        .get(&notary.con, VALID_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);
    let power = answer.power_of_attorney.expect("the record");
    assert_eq!(power.number, VALID_NUMBER);
    assert_eq!(power.principal_iin, VALID_PRINCIPAL_IIN);
    assert_eq!(power.representative_iin, VALID_REPRESENTATIVE_IIN);
    assert!(power.service_ids.is_empty(), "covers every service");
    assert!(!power.revoked);
    // Without a service the check is skipped; the portal gets the same answer.
    let answer = notary
        .get(&notary.portal, VALID_NUMBER, "")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);
    notary.stop().await;
}

#[tokio::test]
async fn expired_power_of_attorney_is_expired() {
    let notary = Running::start().await;
    let answer = notary
        .get(&notary.con, EXPIRED_NUMBER, "")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Expired);
    assert_eq!(
        answer.power_of_attorney.expect("the record").number,
        EXPIRED_NUMBER
    );
    let found = notary
        .find(
            &notary.con,
            EXPIRED_PRINCIPAL_IIN,
            EXPIRED_REPRESENTATIVE_IIN,
            "",
        )
        .await
        .expect("answer");
    assert_eq!(found.validity(), PowerOfAttorneyValidity::Expired);
    notary.stop().await;
}

#[tokio::test]
async fn revoked_power_of_attorney_is_revoked() {
    let notary = Running::start().await;
    let answer = notary
        .get(&notary.con, REVOKED_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Revoked);
    assert!(answer.power_of_attorney.expect("the record").revoked);
    notary.stop().await;
}

#[tokio::test]
async fn unknown_number_is_not_found() {
    let notary = Running::start().await;
    // An answer, not a fault: the flow turns it into "the data cannot be obtained" itself.
    let answer = notary
        .get(&notary.con, UNKNOWN_NUMBER, "B")
        .await
        .expect("an answer, not a fault");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::NotFound);
    assert_eq!(answer.power_of_attorney, None);
    // Two persons with no power between them are not found either.
    let found = notary
        .find(
            &notary.portal,
            VALID_REPRESENTATIVE_IIN,
            VALID_PRINCIPAL_IIN,
            "",
        )
        .await
        .expect("an answer, not a fault");
    assert_eq!(found.validity(), PowerOfAttorneyValidity::NotFound);
    assert_eq!(found.power_of_attorney, None);
    notary.stop().await;
}

#[tokio::test]
async fn power_of_attorney_for_another_service_is_not_covered() {
    let notary = Running::start().await;
    let answer = notary
        .get(&notary.con, SERVICE_C_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(
        answer.validity(),
        PowerOfAttorneyValidity::ServiceNotCovered
    );
    assert_eq!(
        answer.power_of_attorney.expect("the record").service_ids,
        [SERVICE_C_CODE]
    );
    let covered = notary
        .get(&notary.con, SERVICE_C_NUMBER, SERVICE_C_CODE)
        .await
        .expect("answer");
    assert_eq!(covered.validity(), PowerOfAttorneyValidity::Valid);
    notary.stop().await;
}

#[tokio::test]
async fn find_by_principal_and_representative_prefers_the_valid_one() {
    let notary = Running::start().await;
    // The pair holds the valid fixture and a revoked one certified after it.
    let answer = notary
        .find(
            &notary.con,
            VALID_PRINCIPAL_IIN,
            VALID_REPRESENTATIVE_IIN,
            "B",
        )
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);
    assert_eq!(
        answer.power_of_attorney.expect("the record").number,
        VALID_NUMBER
    );
    notary.stop().await;
}

#[tokio::test]
async fn malformed_iin_is_refused_with_edat002() {
    let notary = Running::start().await;
    let bad_check_digit = "850102300132";
    let refused = notary
        .find(&notary.con, bad_check_digit, VALID_REPRESENTATIVE_IIN, "")
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), StatusCode::InvalidRequest);
    assert!(refused.to_string().contains("principal_iin"), "{refused}");
    let refused = notary
        .find(&notary.portal, VALID_PRINCIPAL_IIN, "88111130045", "")
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), StatusCode::InvalidRequest);
    assert!(
        refused.to_string().contains("representative_iin"),
        "{refused}"
    );
    notary.stop().await;
}

#[tokio::test]
async fn empty_number_is_refused_with_edat002() {
    let notary = Running::start().await;
    let refused = notary.get(&notary.con, "", "B").await.expect_err("refused");
    assert_eq!(refused.code(), StatusCode::InvalidRequest);
    assert!(refused.to_string().contains("number"), "{refused}");
    notary.stop().await;
}

#[tokio::test]
async fn malformed_service_id_is_refused_with_edat002() {
    let notary = Running::start().await;
    let refused = notary
        .get(&notary.con, VALID_NUMBER, "G")
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), StatusCode::InvalidRequest);
    assert!(refused.to_string().contains("service_id"), "{refused}");
    notary.stop().await;
}

#[tokio::test]
async fn system_without_a_route_is_refused_by_the_gateway_with_eacc001() {
    let notary = Running::start().await;
    let labor = notary.sandbox.caller(systems::LABOR.id, systems::LABOR.bin);
    let refused = notary
        .get(&labor, VALID_NUMBER, "B")
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), StatusCode::AccessDenied);
    assert!(
        matches!(refused, egov_system::CallError::Refused { .. }),
        "the gateway refuses, not the registry: {refused:?}"
    );
    notary.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_registrations_and_loads_the_fixtures_only_once() {
    let notary = Running::start().await;
    let (status, _) = notary
        .register(&serde_json::json!({
            "number": "ENIS-000777",
            "principal_iin": "751204400013",
            "representative_iin": "850102300131",
            "notary_name": "Иванов Сергей Петрович",
            "issue_date": "2026-01-10",
            "expiry_date": "2027-01-09",
        }))
        .await;
    assert_eq!(status, 201);
    let before = notary.store.all().await.expect("all");
    let database = notary.database.clone();
    let sandbox = notary.stop().await;
    let notary = Running::start_with(sandbox, Some(database)).await;
    let after = notary.store.all().await.expect("all");
    assert_eq!(after, before);
    assert_eq!(
        after.len(),
        4 + 9 + 1,
        "four fixtures, the flow matrix's nine and the registered power"
    );
    notary.stop().await;
}
