//! `run` as `egov up` starts it: the back office enrolls its seal and its heads' HEAD
//! certificates (its own and each provider organisation's) with a real certification centre,
//! then serves.

use egov_backoffice::Config;
use egov_proto::v1::back_office_client::BackOfficeClient;
use egov_proto::v1::{Channel, OpenCaseRequest};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::common::application;

#[tokio::test]
async fn run_enrolls_the_seal_and_the_head_with_the_certification_centre_and_serves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki_grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let pki_http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let pki_endpoint = format!("http://{}", pki_grpc.local_addr().expect("addr"));
    let (pki_stop, pki_stopped) = oneshot::channel::<()>();
    // The tokens `egov up` hands the back office: its seal, its own head's HEAD certificate
    // and each provider organisation's head's.
    let tokens = egov_pki::enrolment::stack_tokens().expect("tokens");
    let token = |env: &str| {
        tokens
            .iter()
            .find(|token| token.env == env)
            .map(|token| token.token.clone())
    };
    let pki = tokio::spawn(egov_pki::run(
        egov_pki::Config {
            enrolment_grants: egov_pki::enrolment::grants_text(&tokens),
            ..egov_pki::Config::with_data_dir(dir.path().join("pki"))
        },
        pki_grpc,
        pki_http,
        async {
            let _ = pki_stopped.await;
        },
    ));

    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = grpc.local_addr().expect("addr");
    let mut config = Config::with_data_dir(dir.path().join("backoffice"));
    egov_testkit::service::write_operators_file(&config.data_dir);
    config.pki_endpoint = pki_endpoint;
    config.enrolment_token = token("EGOV_BACKOFFICE__ENROLMENT_TOKEN");
    config.head_enrolment_token = token(egov_pki::enrolment::HEAD_TOKEN_ENV);
    for organisation in egov_core::providers::SIGNING {
        let head = token(&egov_pki::enrolment::head_token_env(&organisation))
            .expect("each organisation's head has a token");
        config
            .head_enrolment_tokens
            .insert(organisation.key.to_owned(), head);
    }
    // No gateway runs: the cabinet notification just waits for one.
    config.gateway_endpoint = "http://127.0.0.1:1".into();
    let (stop, stopped) = oneshot::channel::<()>();
    let backoffice = tokio::spawn(egov_backoffice::run(config, grpc, http, async {
        let _ = stopped.await;
    }));

    let mut client = None;
    for _ in 0..500 {
        if let Ok(connected) = BackOfficeClient::connect(format!("http://{addr}")).await {
            client = Some(connected);
            break;
        }
        assert!(
            !backoffice.is_finished(),
            "run ended: {:?}",
            backoffice.await
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut client = client.expect("the back office serves after enrolling");
    let case = client
        .open_case(egov_testkit::service::as_operator(OpenCaseRequest {
            application: Some(application(
                "E",
                Channel::Provider,
                &["referral", "child_health_passport"],
            )),
            ..OpenCaseRequest::default()
        }))
        .await
        .expect("opened at the desk")
        .into_inner();
    assert_eq!(case.service_code, "E");
    assert_eq!(case.steps.len(), 1);

    let _ = stop.send(());
    backoffice
        .await
        .expect("join")
        .expect("the back office stops cleanly");
    let _ = pki_stop.send(());
    pki.await.expect("join").expect("the centre stops cleanly");
}
