//! The gateway against its own contract in the conformance kit: a real gateway (the
//! sandbox's) in front of the simulated citizens-DB scores 100 % on `Gateway.SendMessage`.

use egov_conformance::{Contract, Kit};
use egov_core::systems;
use egov_test_stack::CitizensDb;
use egov_testkit::Sandbox;

#[tokio::test]
async fn the_simulated_gateway_conforms_to_its_contract() {
    egov_testkit::service::quiet_logs("egov-gateway-conformance", "warn");
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start().await;
    let addr = CitizensDb::start(&sandbox, dir.path(), 200, sandbox.clock())
        .await
        .grpc;
    let portal = sandbox.system(systems::PORTAL.id, systems::PORTAL.bin);
    for service in egov_citizens::SERVICE_IDS {
        sandbox.route(service, systems::CITIZENS.id, addr, &[systems::PORTAL.id]);
    }
    let contract = Contract::of(systems::GATEWAY.id).expect("a contract");
    let report = Kit::new(portal, sandbox.verifier())
        .run(&contract, &sandbox.gateway_endpoint())
        .await
        .expect("the kit runs");
    println!("{report}");
    assert!(report.conforms(), "{report}");
    assert_eq!(report.score_percent(), 100.0);
}
