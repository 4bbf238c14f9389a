//! Runs `egov conformance` as a user does: a certification centre (egov-pki) and the
//! citizens-DB enrolled with it, both in-process on port 0, and the `egov` binary checking the
//! citizens-DB's endpoint with a key it has certified for a registrar.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use egov_core::pki::Role;
use egov_core::systems;
use tokio::net::TcpListener;

/// The registrar account the test gives the kit.
const REGISTRAR: (&str, &str) = ("kit-registrar", "a registrar's long password");

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// Runs `egov <args>` with `data_dir` as its data dir.
async fn egov(data_dir: &Path, args: Vec<String>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_egov"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("EGOV_DATA_DIR")
        .env_remove("EGOV_REGISTRAR_LOGIN")
        .env_remove("EGOV_REGISTRAR_PASSWORD");
    command.output().await.expect("egov runs")
}

/// A certification centre with a registrar account, and the citizens-DB enrolled with it.
struct Stack {
    pki: String,
    citizens: String,
    _dir: tempfile::TempDir,
}

impl Stack {
    async fn start() -> Stack {
        egov_testkit::service::quiet_logs("egov-cli-conformance", "warn");
        let dir = tempfile::tempdir().expect("temp dir");
        let pki_config = egov_pki::Config::with_data_dir(dir.path().join("pki"));
        egov_pki::registrar::add_registrar(&pki_config, REGISTRAR.0, REGISTRAR.1)
            .await
            .expect("registrar added");
        let token = egov_pki::enrolment::IssuedToken::new(
            "EGOV_CITIZENS__ENROLMENT_TOKEN",
            Role::LegalEntity,
            systems::CITIZENS.bin,
        )
        .expect("token");
        let (pki_grpc, pki_http) = (listener().await, listener().await);
        let pki = format!("http://{}", pki_grpc.local_addr().expect("addr"));
        tokio::spawn(egov_pki::run(
            egov_pki::Config {
                enrolment_grants: token.grant.line(),
                ..pki_config
            },
            pki_grpc,
            pki_http,
            std::future::pending(),
        ));
        let config = egov_citizens::Config {
            population: 200,
            pki_endpoint: pki.clone(),
            enrolment_token: Some(token.token.clone()),
            // Its async inbox waits on a port nothing listens on: the sync path is checked.
            nats_url: format!("nats://127.0.0.1:{}", egov_testkit::free_port()),
            ..egov_citizens::Config::with_data_dir(dir.path().join("citizens"))
        };
        let (grpc, http) = (listener().await, listener().await);
        let citizens = grpc.local_addr().expect("addr").to_string();
        tokio::spawn(egov_citizens::run(
            config,
            grpc,
            http,
            std::future::pending(),
        ));
        assert!(serving(&citizens).await, "the citizens-DB serves");
        Stack {
            pki,
            citizens,
            _dir: dir,
        }
    }
}

/// Waits until the citizens-DB's gRPC health answers (it enrolls and loads its population first).
async fn serving(grpc: &str) -> bool {
    for _ in 0..300 {
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
            .expect("url")
            .connect()
            .await
        {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            if health
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_ok()
            {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn egov_conformance_scores_the_citizens_db_100_percent_and_writes_junit() {
    let stack = Stack::start().await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let junit = data_dir.path().join("citizens.xml");
    let output = egov(
        data_dir.path(),
        vec![
            "conformance".into(),
            "citizens".into(),
            "--endpoint".into(),
            stack.citizens.clone(),
            "--pki".into(),
            stack.pki.clone(),
            "--registrar-login".into(),
            REGISTRAR.0.into(),
            "--registrar-password".into(),
            REGISTRAR.1.into(),
            "--junit".into(),
            junit.display().to_string(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "citizens.person.get — a known IIN is answered with the person's record: conforming"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("score: 100.0 %"), "{stdout}");
    assert!(!stdout.contains("NOT conforming"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(
        xml.contains(r#"<testsuite name="citizens conformance""#)
            && xml.contains(r#"failures="0""#),
        "{xml}"
    );
    // The kit's key stays with the kit, in its data dir.
    assert!(data_dir.path().join("conformance/portal.key").is_file());
}

#[tokio::test]
async fn egov_conformance_fails_and_names_the_check_against_the_wrong_system() {
    let stack = Stack::start().await;
    let data_dir = tempfile::tempdir().expect("data dir");
    // The citizens-DB's endpoint checked against the notary registry's contract.
    let output = egov(
        data_dir.path(),
        vec![
            "conformance".into(),
            "notary".into(),
            "--endpoint".into(),
            stack.citizens.clone(),
            "--pki".into(),
            stack.pki.clone(),
            "--registrar-login".into(),
            REGISTRAR.0.into(),
            "--registrar-password".into(),
            REGISTRAR.1.into(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stdout.contains("a power of attorney in force is answered VALID with its record: NOT conforming: no signed answer"),
        "{stdout}"
    );
    assert!(stdout.contains("score: 0.0 %"), "{stdout}");
}

#[tokio::test]
async fn egov_conformance_refuses_a_system_it_has_no_contract_for() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let output = egov(
        data_dir.path(),
        vec![
            "conformance".into(),
            "weather".into(),
            "--endpoint".into(),
            "127.0.0.1:1".into(),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(r#"no contract for system "weather"; the kit knows citizens, notary"#),
        "{stderr}"
    );
}
