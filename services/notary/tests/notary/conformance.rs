//! The registry against its contract in the conformance kit, called as the State Corporation.

use egov_conformance::{Contract, Kit};
use egov_core::systems;

use crate::common::Running;

#[tokio::test]
async fn the_simulated_notary_registry_conforms_to_its_contract() {
    let notary = Running::start().await;
    let contract = Contract::of(systems::NOTARY.id).expect("a contract");
    let report = Kit::new(notary.con.identity().clone(), notary.sandbox.verifier())
        .run(&contract, &notary.grpc.to_string())
        .await
        .expect("the kit runs");
    assert!(report.conforms(), "{report}");
    assert_eq!(report.score_percent(), 100.0);
    notary.stop().await;
}
