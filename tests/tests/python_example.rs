//! examples/python/enrol_and_send.py against a real certification centre, gateway and
//! citizens-DB started in this process: a client outside Rust enrols through a PKCS#10 request
//! with its one-time token, signs a request and gets SCSS001. Skipped, with the reason printed,
//! when python3 or its `cryptography`, `grpcio` and `grpcio-tools` modules are missing.

use std::process::Command;

use egov_core::pki::Role;
use egov_core::systems;
use egov_pki::enrolment::IssuedToken;
use egov_tests::repo_root;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Returns why the example cannot run here, if it cannot.
fn python_missing() -> Option<String> {
    let probe = Command::new("python3")
        .args(["-c", "import cryptography, grpc, grpc_tools"])
        .output();
    match probe {
        Err(error) => Some(format!("python3 does not run: {error}")),
        Ok(output) if !output.status.success() => Some(format!(
            "python3 lacks a module: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Ok(_) => None,
    }
}

async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

#[tokio::test]
async fn the_python_example_enrols_by_csr_signs_and_gets_scss001_from_the_gateway() {
    if let Some(reason) = python_missing() {
        println!("skipped: {reason} (pip install cryptography grpcio grpcio-tools)");
        return;
    }
    egov_testkit::service::quiet_logs("egov-python-example", "error");
    let dir = tempfile::tempdir().expect("temp dir");
    let token = |env: &str, system: &systems::SystemInfo| {
        IssuedToken::new(env, Role::LegalEntity, system.bin).expect("token")
    };
    let (gateway_token, citizens_token, portal_token) = (
        token("EGOV_GATEWAY__ENROLMENT_TOKEN", &systems::GATEWAY),
        token("EGOV_CITIZENS__ENROLMENT_TOKEN", &systems::CITIZENS),
        token("EGOV_PORTAL__ENROLMENT_TOKEN", &systems::PORTAL),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = futures::FutureExt::shared(async {
        let _ = stopped.await;
    });

    let (pki_grpc, pki_http) = (bind().await, bind().await);
    let pki_endpoint = format!("http://{}", pki_grpc.local_addr().expect("addr"));
    let pki_addr = pki_grpc.local_addr().expect("addr").to_string();
    let pki = tokio::spawn(egov_pki::run(
        egov_pki::Config {
            enrolment_grants: egov_pki::enrolment::grants_text(&[
                gateway_token.clone(),
                citizens_token.clone(),
                portal_token.clone(),
            ]),
            ..egov_pki::Config::with_data_dir(dir.path().join("pki"))
        },
        pki_grpc,
        pki_http,
        stopped.clone(),
    ));

    let (citizens_grpc, citizens_http) = (bind().await, bind().await);
    let citizens_addr = citizens_grpc.local_addr().expect("addr");
    let citizens = tokio::spawn(egov_citizens::run(
        egov_citizens::Config {
            population: 200,
            pki_endpoint: pki_endpoint.clone(),
            enrolment_token: Some(citizens_token.token.clone()),
            nats_url: String::new(),
            ..egov_citizens::Config::with_data_dir(dir.path().join("citizens"))
        },
        citizens_grpc,
        citizens_http,
        stopped.clone(),
    ));

    // The local registry, its citizens-DB routes pointed at the one started here.
    let registry = std::fs::read_to_string(repo_root().join("deploy/local/registry.toml"))
        .expect("the local registry")
        .replace("http://127.0.0.1:7120", &format!("http://{citizens_addr}"));
    let registry_path = dir.path().join("registry.toml");
    std::fs::write(&registry_path, registry).expect("registry");
    let (gateway_grpc, gateway_http) = (bind().await, bind().await);
    let gateway_addr = gateway_grpc.local_addr().expect("addr").to_string();
    let gateway = tokio::spawn(egov_gateway::run(
        egov_gateway::Config {
            registry: Some(registry_path),
            pki_endpoint: pki_endpoint.clone(),
            nats_url: "nats://127.0.0.1:1".into(),
            enrolment_token: Some(gateway_token.token.clone()),
            data_dir: dir.path().join("gateway"),
            ..egov_gateway::Config::default()
        },
        egov_gateway::Listeners {
            grpc: gateway_grpc,
            http: gateway_http,
        },
        stopped.clone(),
    ));
    // The citizens-DB answers once it has enrolled and serves.
    let mut ready = false;
    for _ in 0..600 {
        if egov_proto::v1::citizens_client::CitizensClient::connect(format!(
            "http://{citizens_addr}"
        ))
        .await
        .is_ok()
        {
            ready = true;
            break;
        }
        assert!(
            !citizens.is_finished(),
            "citizens-DB ended: {:?}",
            citizens.await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "the citizens-DB serves");

    let script = repo_root().join("examples/python/enrol_and_send.py");
    let output = tokio::process::Command::new("python3")
        .arg(&script)
        .args(["--pki", &pki_addr, "--gateway", &gateway_addr])
        .args(["--token", &portal_token.token])
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.starts_with("SCSS001"),
        "the example failed:\n{stdout}\n{stderr}"
    );

    let _ = stop.send(());
    let _ = gateway.await;
    let _ = citizens.await;
    let _ = pki.await;
}
