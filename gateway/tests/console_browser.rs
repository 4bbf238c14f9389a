//! The operator console in a real browser: a gateway in-process on loopback with NATS (for
//! async delivery states) and its console sign-in over a SQLite file, a signed echo target,
//! and three exchanges logged — a forwarded request, one whose target is down, an async
//! message waiting for its fetch. Debian's `chromedriver` drives headless Chromium through
//! fantoccini: the console sends a visitor to the login page; an operator signs in, reads the
//! rates and the recent messages with the async one's delivery state, filters by status and
//! by correlation id, opens one exchange and sees its hops drawn as an SVG sequence diagram
//! (saved as a screenshot, whose path the test prints); an account without the operator role
//! is refused. Needs `apt-get install chromium chromium-driver` and `nats-server`; fails,
//! never skips.

#[allow(dead_code)] // shared with the other test binaries, which use the rest of it
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{CITIZENS_BIN, NOTARY_BIN, PERSON_GET, PORTAL_BIN, Pki, TO_CITIZENS, header_of};
use egov_core::StatusCode;
use egov_core::clock::SystemClock;
use egov_core::envelope::StaticRevocation;
use egov_gateway::console::signin::{CONSOLE_APP, OPERATOR_ROLE, open_with};
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{AsyncSettings, Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{SendAsyncMessageRequest, SendMessageRequest};
use egov_testkit::NatsServer;
use egov_testkit::browser;
use egov_testkit::browser::Page;
use tokio::net::TcpListener;

/// The operator's account.
const OPERATOR: (&str, &str) = ("duty-operator", "Aigerim Operator");
/// An account without the operator role.
const VIEWER: (&str, &str) = ("auditor", "Nurlan Auditor");
/// Both accounts' password.
const PASSWORD: &str = "console-password-1";

/// A route whose target is down: nothing listens on the discard port.
const PERSON_DOWN: &str = "citizens.person.down";

/// Submits the login form on the page.
async fn sign_in(page: &Page, login: &str) {
    page.fill("#login", login).await;
    page.fill("#password", PASSWORD).await;
    page.submit("#signin-submit").await;
}

/// Returns the rows of the messages table, each as its text.
async fn message_rows(page: &Page) -> Vec<String> {
    page.element("#messages").await;
    page.texts_of("#messages tbody tr").await
}

/// The three exchanges the console shows.
struct Logged {
    forwarded: String,
    failed: String,
    failed_code: String,
    queued: String,
}

/// Sends the three exchanges through the gateway and waits until the log holds them.
async fn log_three_exchanges(
    pki: &Pki,
    client: &GatewayClient<tonic::transport::Channel>,
    log: &MessageLog,
) -> Logged {
    let forwarded = pki.portal_request(PERSON_GET, |_| {});
    let forwarded_id = header_of(&forwarded).correlation_id;
    client
        .clone()
        .send_message(SendMessageRequest {
            envelope: Some(forwarded),
        })
        .await
        .expect("the echo answers");

    let failed = pki.portal_request(PERSON_DOWN, |_| {});
    let failed_id = header_of(&failed).correlation_id;
    let refused = client
        .clone()
        .send_message(SendMessageRequest {
            envelope: Some(failed),
        })
        .await
        .expect_err("the target is down");
    let failed_code = StatusCode::from_grpc(&refused)
        .expect("our code")
        .as_str()
        .to_owned();

    let queued = pki.portal_request(TO_CITIZENS, |_| {});
    let queued_id = header_of(&queued).correlation_id;
    client
        .clone()
        .send_async_message(SendAsyncMessageRequest {
            envelope: Some(queued),
        })
        .await
        .expect("the async message is stored");

    log.flush().await.expect("the log is written");
    Logged {
        forwarded: forwarded_id,
        failed: failed_id,
        failed_code,
        queued: queued_id,
    }
}

/// Walks the console as an operator, then as an account without the role.
async fn walk_the_console(page: Page, base: String, logged: Logged) {
    // A visitor is sent to the login page, and back to the console once signed in.
    page.goto(&format!("{base}/console")).await;
    page.text_of("#login").await;
    sign_in(&page, OPERATOR.0).await;
    assert_eq!(page.text_of("h1").await, "Operator console");
    assert_eq!(page.text_of("#operator").await, OPERATOR.1);

    // Every exchange is listed; the async one with its delivery state.
    let rows = message_rows(&page).await;
    for id in [&logged.forwarded, &logged.failed, &logged.queued] {
        assert!(
            rows.iter().any(|row| row.contains(id.as_str())),
            "{id} in {rows:#?}"
        );
    }
    let queued = rows
        .iter()
        .find(|row| row.contains(logged.queued.as_str()))
        .expect("the async row");
    assert!(
        queued.contains("ASYNC") && queued.contains("ON_DELIVERY"),
        "{queued}"
    );

    // The rates: each service's messages and the down target's code.
    let rates = page.text_of("#rates").await;
    assert!(
        rates.contains(PERSON_GET) && rates.contains(TO_CITIZENS),
        "{rates}"
    );
    let down = page
        .text_of(&format!("#rates tr[data-service=\"{PERSON_DOWN}\"]"))
        .await;
    assert!(down.contains(&logged.failed_code), "{down}");

    // Filtered by status: only the failed exchange's refused hop.
    page.fill("#filter-status", &logged.failed_code).await;
    page.submit("#apply-filters").await;
    let rows = message_rows(&page).await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|row| row.contains(logged.failed.as_str())
                && row.contains(logged.failed_code.as_str())),
        "{rows:#?}"
    );

    // Filtered by correlation id (the status cleared): both hops of the forwarded request.
    page.fill("#filter-status", "").await;
    page.fill("#filter-correlation_id", &logged.forwarded).await;
    page.submit("#apply-filters").await;
    let rows = message_rows(&page).await;
    assert_eq!(rows.len(), 4, "request and answer, in and out: {rows:#?}");

    // One exchange: its hops drawn as a sequence diagram.
    page.follow_link(&logged.forwarded).await;
    assert_eq!(page.text_of("#correlation-id").await, logged.forwarded);
    let names = page
        .attrs_of("#diagram svg g.participant", "data-name")
        .await;
    assert_eq!(names, ["portal", "shep", "citizens"]);
    assert_eq!(page.texts_of("#diagram svg g.hop").await.len(), 4);
    page.screenshot("console-exchange").await;

    // An account without the operator role is refused.
    page.submit("#signout").await;
    page.goto(&format!("{base}/console")).await;
    sign_in(&page, VIEWER.0).await;
    let refused = page.text_of("body").await;
    assert!(refused.contains(OPERATOR_ROLE), "{refused}");
    assert!(!refused.contains(logged.forwarded.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_filters_the_messages_and_opens_an_exchanges_diagram() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = Pki::new();
    let echo = common::start_target(&pki).await;
    let registry = dir.path().join("registry.toml");
    std::fs::write(
        &registry,
        format!(
            r#"
[systems.portal]
bin = "{PORTAL_BIN}"
[systems.citizens]
bin = "{CITIZENS_BIN}"
[systems.notary]
bin = "{NOTARY_BIN}"

[services."{PERSON_GET}"]
target = "citizens"
grpc = "http://{echo}"
allowed_senders = ["portal"]

[services."{PERSON_DOWN}"]
target = "citizens"
grpc = "http://127.0.0.1:9"
allowed_senders = ["portal"]
timeout_ms = 2000

[services."{TO_CITIZENS}"]
target = "citizens"
grpc = "http://{echo}"
allowed_senders = ["portal"]
"#
        ),
    )
    .expect("registry");

    let nats = NatsServer::start().expect("nats-server");
    let log = MessageLog::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gateway.db").display()
    ))
    .await
    .expect("log");
    let gateway = Arc::new(Gateway::new(GatewayParts {
        system_id: "shep".into(),
        registry: Arc::new(RegistryHandle::open(registry).expect("registry")),
        verifier: pki.verifier(StaticRevocation::default()),
        replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
        log: log.clone(),
        clock: SystemClock::shared(),
        max_message_bytes: common::MAX_MESSAGE_BYTES,
        nats: Some(async_nats::connect(nats.url()).await.expect("NATS")),
    }));

    let settings = egov_signin::Settings::new(CONSOLE_APP, "Gateway operator console");
    let console = open_with(
        &format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("console.db").display()
        ),
        egov_signin::Settings {
            home: "/console".into(),
            ..settings
        },
        SystemClock::shared(),
    )
    .await
    .expect("the console's sign-in opens");
    console
        .add_account(
            OPERATOR.0,
            OPERATOR.1,
            &[OPERATOR_ROLE.to_owned()],
            PASSWORD,
        )
        .await
        .expect("the operator's account");
    console
        .add_account(VIEWER.0, VIEWER.1, &["auditor".to_owned()], PASSWORD)
        .await
        .expect("the auditor's account");

    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_addr = grpc.local_addr().expect("addr");
    let http_addr = http.local_addr().expect("addr");
    tokio::spawn(egov_gateway::serve_with_console(
        gateway.clone(),
        AsyncSettings::default(),
        Some(console),
        Listeners { grpc, http },
        std::future::pending(),
    ));
    let client = GatewayClient::new(
        tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
            .expect("endpoint")
            .connect_lazy(),
    );
    let logged = log_three_exchanges(&pki, &client, &log).await;

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("screenshots");
    let (_driver, page) = browser::open(1400, 1000, shots).await;
    // The walk runs as its own task so that a failed assertion still closes the browser.
    let walked = tokio::spawn(walk_the_console(
        page.clone(),
        format!("http://{http_addr}"),
        logged,
    ))
    .await;
    page.close().await;
    if let Err(error) = walked {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the browser walk did not finish: {error}"),
        }
    }
}
