//! The regional role: the national gateway (ШЭП) routes a service to the
//! regional gateway (РШЭП) like to any system, and the regional gateway
//! forwards it to the workstation (АРМ) where the provider works — the path
//! of services A, D and F in FLOWS.md.

use std::sync::Arc;
use std::time::Duration;

use egov_core::clock::SystemClock;
use egov_core::envelope::Verifier;
use egov_core::systems::{BACKOFFICE, PORTAL, REGIONAL_GATEWAY};
use egov_gateway::log_service::diagram;
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{Gateway, GatewayParts, Listeners};
use egov_proto::v1::ServiceApplication;
use egov_system::caller::decode_answer;
use egov_system::{Fault, GatewayCaller, Handler, Receiver, Reply, Request};
use egov_testkit::Sandbox;
use tokio::net::TcpListener;

const SERVICE: &str = "adoption.candidate.register";

/// The provider's workstation: answers an application with its own copy, signed.
struct Workstation;

impl Handler for Workstation {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        let application: ServiceApplication = request.decode()?;
        Ok(Reply::message(&application))
    }
}

#[tokio::test]
async fn national_gateway_routes_to_the_regional_gateway_which_forwards_to_the_workstation() {
    let sandbox = Sandbox::start().await;
    let portal_identity = sandbox.system(PORTAL.id, PORTAL.bin);
    let portal = GatewayCaller::new(
        portal_identity.clone(),
        &sandbox.gateway_endpoint(),
        sandbox.clock(),
    )
    .expect("caller");

    // The workstation behind the regional gateway.
    let workstation = sandbox.system(BACKOFFICE.id, BACKOFFICE.bin);
    let arm_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let arm_addr = arm_listener.local_addr().expect("addr");
    let receiver = Receiver::new(
        workstation,
        sandbox.verifier(),
        Arc::new(Workstation),
        sandbox.clock(),
    )
    .also_addressed_as(REGIONAL_GATEWAY.id);
    tokio::spawn(egov_bus::grpc::serve(
        arm_listener,
        egov_bus::grpc::GrpcRoutes::new().add_service(receiver.into_server()),
        std::future::pending(),
    ));

    // The regional gateway: its own registry, its own log, its own seal.
    let rshep = Arc::try_unwrap(sandbox.system(REGIONAL_GATEWAY.id, REGIONAL_GATEWAY.bin))
        .expect("sole owner of the identity");
    let registry_path = sandbox.dir().join("regional-registry.toml");
    std::fs::write(
        &registry_path,
        format!(
            r#"
[systems.portal]
bin = "{}"
[systems.backoffice]
bin = "{}"
[services."{SERVICE}"]
target = "backoffice"
grpc = "http://{arm_addr}"
allowed_senders = ["portal"]
"#,
            PORTAL.bin, BACKOFFICE.bin
        ),
    )
    .expect("regional registry");
    let regional = Gateway::new(GatewayParts {
        system_id: REGIONAL_GATEWAY.id.into(),
        registry: Arc::new(RegistryHandle::open(registry_path).expect("registry")),
        verifier: Verifier::new(vec![rshep.root.clone()], sandbox.revocation().clone()),
        replay: ReplayGuard::new(Duration::from_secs(600), 10_000),
        log: MessageLog::connect(&format!(
            "sqlite://{}?mode=rwc",
            sandbox.dir().join("regional-log.db").display()
        ))
        .await
        .expect("log"),
        clock: SystemClock::shared(),
        max_message_bytes: 1024 * 1024,
        nats: None,
    })
    .with_seal(Arc::new(rshep.signer));
    let regional = Arc::new(regional);
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let regional_addr = grpc.local_addr().expect("addr");
    tokio::spawn(egov_gateway::serve(
        regional.clone(),
        Listeners { grpc, http },
        std::future::pending(),
    ));

    // The national gateway routes the service to the regional one like to any system.
    sandbox.route(SERVICE, REGIONAL_GATEWAY.id, regional_addr, &[PORTAL.id]);

    let application = ServiceApplication {
        service_code: "A".into(),
        recipient_iin: "850102300131".into(),
        ..ServiceApplication::default()
    };
    let header = portal.header::<ServiceApplication>(SERVICE, REGIONAL_GATEWAY.id);
    let request = portal_identity
        .signer
        .seal_message(&header, &application)
        .expect("seal");
    let answer = portal
        .send(request)
        .await
        .expect("answered through both gateways");
    let echoed: ServiceApplication = decode_answer(&answer).expect("decodes");
    assert_eq!(echoed, application);
    // The national gateway accepted the answer because the regional one countersigned it.
    assert_eq!(answer.signatures.len(), 2);

    // Each gateway logged its own hops of the one exchange.
    regional.log().flush().await.expect("flush");
    sandbox.gateway().log().flush().await.expect("flush");
    let national = sandbox
        .gateway()
        .log()
        .by_correlation_id(&header.correlation_id)
        .await
        .expect("national log");
    let national = diagram("shep", &national);
    assert!(
        national.contains("portal->>shep: adoption.candidate.register (REQUEST)"),
        "{national}"
    );
    assert!(
        national.contains("shep->>rshep: adoption.candidate.register (REQUEST)"),
        "{national}"
    );
    let regional = regional
        .log()
        .by_correlation_id(&header.correlation_id)
        .await
        .expect("regional log");
    let regional = diagram(REGIONAL_GATEWAY.id, &regional);
    assert!(
        regional.contains("portal->>rshep: adoption.candidate.register (REQUEST)"),
        "{regional}"
    );
    assert!(
        regional.contains("rshep->>backoffice: adoption.candidate.register (REQUEST)"),
        "{regional}"
    );
    assert!(
        regional.contains("backoffice-->>rshep: adoption.candidate.register (RESPONSE)"),
        "{regional}"
    );
}
