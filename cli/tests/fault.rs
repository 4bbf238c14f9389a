//! Runs `egov fault` against a real gateway (the testkit's sandbox) and checks the gateway's
//! fault table after each command.

use std::process::Output;

use egov_testkit::Sandbox;
use egov_testkit::service::{OPERATOR_TOKEN, PLAIN_OPERATOR_TOKEN};

/// Runs `egov fault <args>` against the sandbox's gateway as the holder of `token`.
async fn egov_fault(sandbox: &Sandbox, token: &str, args: &[&str]) -> Output {
    let data_dir = tempfile::tempdir().expect("data dir");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_egov"))
        .arg("--data-dir")
        .arg(data_dir.path())
        .args(["fault", "--gateway-http"])
        .arg(sandbox.gateway_http().to_string())
        .args(["--token", token])
        .args(args)
        .env_remove("EGOV_OPERATOR_TOKEN")
        .env_remove("EGOV_GATEWAY_HTTP")
        .output()
        .await
        .expect("egov runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egov_fault_adds_lists_and_clears_the_gateways_faults() {
    let sandbox = Sandbox::start().await;
    let faults = sandbox.gateway().faults();

    let added = egov_fault(
        &sandbox,
        OPERATOR_TOKEN,
        &[
            "add",
            "--id",
            "labor-slow",
            "--system",
            "labor",
            "--latency",
            "3s",
        ],
    )
    .await;
    assert!(added.status.success(), "{added:?}");
    assert_eq!(
        stdout(&added).trim(),
        "fault labor-slow set: latency 3000 ms on system labor"
    );
    assert_eq!(
        faults.get("labor-slow").map(|fault| fault.kind.to_string()),
        Some("latency 3000 ms".to_owned())
    );

    let listed = egov_fault(&sandbox, OPERATOR_TOKEN, &["list"]).await;
    assert!(listed.status.success(), "{listed:?}");
    assert!(
        stdout(&listed).contains("labor-slow"),
        "{}",
        stdout(&listed)
    );

    let cleared = egov_fault(&sandbox, OPERATOR_TOKEN, &["clear", "labor-slow"]).await;
    assert!(cleared.status.success(), "{cleared:?}");
    assert!(faults.list().is_empty());

    for system in ["citizens", "notary"] {
        let added = egov_fault(
            &sandbox,
            OPERATOR_TOKEN,
            &["add", "--system", system, "--down"],
        )
        .await;
        assert!(added.status.success(), "{added:?}");
    }
    assert_eq!(faults.list().len(), 2);
    let cleared = egov_fault(&sandbox, OPERATOR_TOKEN, &["clear", "--all"]).await;
    assert_eq!(stdout(&cleared).trim(), "2 fault(s) cleared");
    assert!(faults.list().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn egov_fault_without_an_administrators_token_fails_with_the_gateways_answer() {
    let sandbox = Sandbox::start().await;

    let refused = egov_fault(
        &sandbox,
        PLAIN_OPERATOR_TOKEN,
        &["add", "--system", "labor", "--down"],
    )
    .await;

    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("answered 403"), "{stderr}");
    assert!(sandbox.gateway().faults().list().is_empty());
}
