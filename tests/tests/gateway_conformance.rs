//! The gateway against its own contract in the conformance kit: a real gateway (the
//! sandbox's) in front of the simulated citizens-DB scores 100 % on `Gateway.SendMessage`.

use std::sync::Arc;

use egov_citizens::{Config, Listeners, Registry, Store, load};
use egov_conformance::{Contract, Kit};
use egov_core::systems;
use egov_testkit::Sandbox;
use tokio::net::TcpListener;

#[tokio::test]
async fn the_simulated_gateway_conforms_to_its_contract() {
    egov_testkit::service::quiet_logs("egov-gateway-conformance", "warn");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        population: 200,
        ..Config::with_data_dir(dir.path())
    };
    load::prepare(&config, false).await.expect("prepares");
    let registry = Arc::new(Registry::new(
        Store::open(&config.database_url()).await.expect("opens"),
    ));
    let sandbox = Sandbox::start().await;
    let citizens = sandbox.system(systems::CITIZENS.id, systems::CITIZENS.bin);
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = grpc.local_addr().expect("addr");
    tokio::spawn(egov_citizens::serve(
        citizens,
        sandbox.verifier(),
        registry,
        sandbox.clock(),
        Listeners { grpc, http },
        std::future::pending(),
    ));
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
