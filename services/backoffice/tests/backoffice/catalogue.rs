//! Reading the catalogue through the gateway (`backoffice.catalogue.list`): the front doors
//! (portal, State Corporation) list services A–F with their names, channels, item-9
//! documents and form fields; a target system is not a front door and is refused.

use egov_backoffice::LIST_SERVICES_SERVICE_ID;
use egov_core::{StatusCode, systems};
use egov_proto::v1::{Channel, FormFieldKind, ListServicesRequest, ListServicesResponse};

use crate::common::{Options, Stack, next_monday_morning};

#[tokio::test]
async fn the_portal_reads_the_services_offered_on_the_portal_with_their_forms() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let listed: ListServicesResponse = stack
        .caller(systems::PORTAL.id)
        .call(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            &ListServicesRequest {
                channel: Channel::Portal as i32,
            },
        )
        .await
        .expect("the portal reads the catalogue");
    let codes: Vec<&str> = listed.services.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["A", "B", "C", "D", "F"]);
    let c = &listed.services[2];
    let name = c.name.as_ref().expect("named");
    assert_eq!(
        name.ru,
        "Возмещение затрат на обучение на дому детей-инвалидов"
    );
    assert!(!name.kk.is_empty() && !name.en.is_empty());
    let documents: Vec<&str> = c.documents.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        documents,
        [
            "application",
            "pmpc_conclusion",
            "home_schooling_certificate"
        ]
    );
    let child = c
        .fields
        .iter()
        .find(|f| f.code == "child_iin")
        .expect("C asks the child's IIN");
    assert_eq!(child.kind(), FormFieldKind::Iin);
    assert!(child.required);
}

#[tokio::test]
async fn the_state_corporation_reads_every_service() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let listed: ListServicesResponse = stack
        .caller(systems::STATE_CORPORATION.id)
        .call(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            &ListServicesRequest::default(),
        )
        .await
        .expect("the State Corporation reads the catalogue");
    assert_eq!(listed.services.len(), 6);
}

#[tokio::test]
async fn a_target_system_is_refused_the_catalogue() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let refused = stack
        .caller(systems::LABOR.id)
        .call::<_, ListServicesResponse>(
            LIST_SERVICES_SERVICE_ID,
            systems::BACKOFFICE.id,
            &ListServicesRequest::default(),
        )
        .await
        .expect_err("labor is not a front door");
    assert_eq!(refused.code(), StatusCode::AccessDenied);
}
