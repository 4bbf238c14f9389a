//! The citizens-DB started the way `egov up` starts it: `run()` with a certification
//! centre (egov-pki in-process) to enroll with, an empty data dir it populates, and the
//! direct `egov.v1.Citizens` contract and `/health`, `/metrics` answering.

use std::time::Duration;

use egov_citizens::fixtures::PARENT_OF_CHILD_UNDER_7;
use egov_citizens::{Config, Store};
use egov_proto::v1::GetPersonRequest;
use egov_proto::v1::citizens_client::CitizensClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect HTTP");
    let request = format!("GET {path} HTTP/1.1\r\nHost: citizens\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test]
async fn run_populates_an_empty_database_enrolls_and_serves_until_shutdown() {
    let quiet = egov_bus::telemetry::TelemetryConfig {
        log_filter: "warn".into(),
        json: false,
        otlp_endpoint: None,
    };
    egov_bus::telemetry::init_with("egov-citizens-tests", &quiet).expect("telemetry");
    let pki_dir = tempfile::tempdir().expect("temp dir");
    let (pki_grpc, pki_http) = (listener().await, listener().await);
    let pki_addr = pki_grpc.local_addr().expect("addr");
    let (stop_pki, pki_stopped) = oneshot::channel::<()>();
    // The token `egov up` would hand the citizens-DB: its seal, its BIN.
    let token = egov_pki::enrolment::IssuedToken::new(
        "EGOV_CITIZENS__ENROLMENT_TOKEN",
        egov_core::pki::Role::LegalEntity,
        egov_core::systems::CITIZENS.bin,
    )
    .expect("token");
    let pki = tokio::spawn(egov_pki::run(
        egov_pki::Config {
            enrolment_grants: token.grant.line(),
            ..egov_pki::Config::with_data_dir(pki_dir.path())
        },
        pki_grpc,
        pki_http,
        async {
            let _ = pki_stopped.await;
        },
    ));

    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        population: 500,
        pki_endpoint: format!("http://{pki_addr}"),
        enrolment_token: Some(token.token.clone()),
        ..Config::with_data_dir(dir.path().join("citizens"))
    };
    let database_url = config.database_url();
    let (grpc, http) = (listener().await, listener().await);
    let (grpc_addr, http_addr) = (
        grpc.local_addr().expect("addr"),
        http.local_addr().expect("addr"),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let citizens = tokio::spawn(egov_citizens::run(config, grpc, http, async {
        let _ = stopped.await;
    }));

    let mut client = None;
    for _ in 0..100 {
        if let Ok(connected) = CitizensClient::connect(format!("http://{grpc_addr}")).await {
            client = Some(connected);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut client = client.expect("the citizens-DB serves");
    // The direct contract serves only signed calls: an unsigned look-up is refused by name.
    let refused = client
        .get_person(GetPersonRequest {
            iin: PARENT_OF_CHILD_UNDER_7.into(),
        })
        .await
        .expect_err("unsigned");
    assert_eq!(
        egov_core::StatusCode::from_grpc(&refused),
        Some(egov_core::StatusCode::SignatureMissing),
        "{refused:?}"
    );

    let health = http_get(http_addr, "/health").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"citizens\""), "{health}");
    // A refused call is no look-up: nothing is counted (signed look-ups are, see gateway.rs).
    let metrics = http_get(http_addr, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(!metrics.contains("citizens_lookups_total"), "{metrics}");

    let _ = stop.send(());
    citizens.await.expect("join").expect("stops cleanly");
    let store = Store::open(&database_url).await.expect("opens");
    let population = store.population().await.expect("reads").expect("generated");
    assert_eq!(
        (population.seed.as_str(), population.size),
        ("egov-stack", 500)
    );
    store.close().await;
    let _ = stop_pki.send(());
    pki.await.expect("join").expect("pki stops cleanly");
}
