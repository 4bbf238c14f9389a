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
use fantoccini::{Client, Locator};
use tokio::net::TcpListener;

/// How long chromedriver may take to listen, and a page to show an element.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// The operator's account.
const OPERATOR: (&str, &str) = ("duty-operator", "Aigerim Operator");
/// An account without the operator role.
const VIEWER: (&str, &str) = ("auditor", "Nurlan Auditor");
/// Both accounts' password.
const PASSWORD: &str = "console-password-1";

/// A route whose target is down: nothing listens on the discard port.
const PERSON_DOWN: &str = "citizens.person.down";

/// Waits for an element and returns its text; an element found on the page being left
/// (a navigation under way) is looked up again on the new one.
async fn text_of(client: &Client, css: &str) -> String {
    let deadline = std::time::Instant::now() + READY_WITHIN;
    loop {
        let element = client
            .wait()
            .at_most(READY_WITHIN)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no {css} on the page: {error}"));
        match element.text().await {
            Ok(text) => return text,
            Err(error) if std::time::Instant::now() < deadline => {
                eprintln!("text of {css} not read ({error}); looking again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("no text of {css}: {error}"),
        }
    }
}

/// Clicks an element once it is there.
async fn click(client: &Client, css: &str) {
    client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to click: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css} failed: {error}"));
}

/// Types into a field once it is there, replacing what it held.
async fn fill(client: &Client, css: &str, text: &str) {
    let field = client
        .wait()
        .at_most(READY_WITHIN)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css} to fill: {error}"));
    field.clear().await.expect("clear the field");
    field.send_keys(text).await.expect("type into the field");
}

/// Submits the login form on the page.
async fn sign_in(client: &Client, login: &str) {
    fill(client, "#login", login).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "#signin-submit").await;
}

/// Returns the rows of the messages table, each as its text.
async fn message_rows(client: &Client) -> Vec<String> {
    text_of(client, "#messages").await;
    let rows = client
        .find_all(Locator::Css("#messages tbody tr"))
        .await
        .expect("the rows");
    let mut texts = Vec::new();
    for row in rows {
        texts.push(row.text().await.expect("a row's text"));
    }
    texts
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
async fn walk_the_console(client: Client, base: String, logged: Logged) {
    // A visitor is sent to the login page, and back to the console once signed in.
    client
        .goto(&format!("{base}/console"))
        .await
        .expect("the console opens");
    text_of(&client, "#login").await;
    sign_in(&client, OPERATOR.0).await;
    assert_eq!(text_of(&client, "h1").await, "Operator console");
    assert_eq!(text_of(&client, "#operator").await, OPERATOR.1);

    // Every exchange is listed; the async one with its delivery state.
    let rows = message_rows(&client).await;
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
    let rates = text_of(&client, "#rates").await;
    assert!(
        rates.contains(PERSON_GET) && rates.contains(TO_CITIZENS),
        "{rates}"
    );
    let down = text_of(
        &client,
        &format!("#rates tr[data-service=\"{PERSON_DOWN}\"]"),
    )
    .await;
    assert!(down.contains(&logged.failed_code), "{down}");

    // Filtered by status: only the failed exchange's refused hop.
    fill(&client, "#filter-status", &logged.failed_code).await;
    click(&client, "#apply-filters").await;
    let rows = message_rows(&client).await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|row| row.contains(logged.failed.as_str())
                && row.contains(logged.failed_code.as_str())),
        "{rows:#?}"
    );

    // Filtered by correlation id (the status cleared): both hops of the forwarded request.
    fill(&client, "#filter-status", "").await;
    fill(&client, "#filter-correlation_id", &logged.forwarded).await;
    click(&client, "#apply-filters").await;
    let rows = message_rows(&client).await;
    assert_eq!(rows.len(), 4, "request and answer, in and out: {rows:#?}");

    // One exchange: its hops drawn as a sequence diagram.
    client
        .find(Locator::LinkText(&logged.forwarded))
        .await
        .expect("the exchange's link")
        .click()
        .await
        .expect("the exchange opens");
    assert_eq!(text_of(&client, "#correlation-id").await, logged.forwarded);
    let participants = client
        .find_all(Locator::Css("#diagram svg g.participant"))
        .await
        .expect("the participants");
    let mut names = Vec::new();
    for participant in participants {
        names.push(
            participant
                .attr("data-name")
                .await
                .expect("a name")
                .unwrap_or_default(),
        );
    }
    assert_eq!(names, ["portal", "shep", "citizens"]);
    let hops = client
        .find_all(Locator::Css("#diagram svg g.hop"))
        .await
        .expect("the hops");
    assert_eq!(hops.len(), 4);

    let screenshot = client.screenshot().await.expect("a screenshot");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots dir");
    let path = dir.join("console-exchange.png");
    std::fs::write(&path, screenshot).expect("the screenshot is saved");
    println!("screenshot of the exchange: {}", path.display());

    // An account without the operator role is refused.
    click(&client, "#signout").await;
    client
        .goto(&format!("{base}/console"))
        .await
        .expect("the console opens");
    sign_in(&client, VIEWER.0).await;
    let refused = text_of(&client, "body").await;
    assert!(refused.contains(OPERATOR_ROLE), "{refused}");
    assert!(!refused.contains(logged.forwarded.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_filters_the_messages_and_opens_an_exchanges_diagram() {
    let chromium = browser::chromium();
    let mut driver = browser::ChromeDriver::start();
    let webdriver = driver.ready().await;

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

    let browser_client = browser::session(&webdriver, &chromium, 1400, 1000).await;
    // The walk runs as its own task so that a failed assertion still closes the browser.
    let walked = tokio::spawn(walk_the_console(
        browser_client.clone(),
        format!("http://{http_addr}"),
        logged,
    ))
    .await;
    let _ = browser_client.close().await;
    if let Err(error) = walked {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the browser walk did not finish: {error}"),
        }
    }
}
