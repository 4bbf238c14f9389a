//! Clock steps: a scenario moves the stack's clock through a real clock authority (over a
//! real nats-server), with the operator's token, as `egov clock advance|set` does.

mod common;

use common::{PERSON_ANSWERED, Stack, person_request};
use egov_bus::clock::ClockStore;
use egov_core::clock::{Clock as _, VirtualClock};
use egov_testkit::NatsServer;
use time::OffsetDateTime;
use time::macros::datetime;

/// The clock authority's operator token in these tests.
const TOKEN: &str = "operator-token-for-scenario-tests";

/// Friday 5 March 2027, 09:00 in Astana.
const START: OffsetDateTime = datetime!(2027-03-05 04:00 UTC);

/// A nats-server holding the stack's time at [`START`], and a clock authority serving it.
struct Authority {
    _nats: NatsServer,
    store: ClockStore,
    endpoint: String,
}

async fn authority() -> Authority {
    let nats = NatsServer::start().expect("nats-server");
    let store = ClockStore::connect(&nats.url()).await.expect("clock store");
    store.init_now(START).await.expect("first stack time");
    let config = egov_clock::Config {
        grpc_listen: "127.0.0.1:0".parse().expect("address"),
        http_listen: "127.0.0.1:0".parse().expect("address"),
        nats_url: nats.url(),
        operator_token: Some(TOKEN.to_owned()),
        ..egov_clock::Config::default()
    };
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen)
        .await
        .expect("listeners");
    let endpoint = format!("http://{}", grpc.local_addr().expect("address"));
    tokio::spawn(egov_clock::run(config, grpc, http, std::future::pending()));
    Authority {
        _nats: nats,
        store,
        endpoint,
    }
}

impl Authority {
    async fn now(&self) -> OffsetDateTime {
        self.store
            .read_now()
            .await
            .expect("read")
            .expect("a stack time")
            .0
    }
}

/// Twenty-eight days, then a request, then a move to a set instant.
fn moving_scenario(stack: &Stack) -> egov_scenario::Scenario {
    stack.scenario(&format!(
        r#"name = "an examination of 28 days"

[[step]]
advance = "28d"

[[step]]
name = "the citizens-DB still answers"
{}
[[step]]
set = "2027-05-03T09:00:00+05:00"
"#,
        person_request(PERSON_ANSWERED)
    ))
}

#[tokio::test]
async fn an_advance_step_moves_the_stack_clock() {
    let authority = authority().await;
    let stack = Stack::start().await;
    let scenario = stack.scenario(
        "name = \"six working days\"\n\n[[step]]\nadvance = \"28d\"\n\n[[step]]\nadvance = \"6wd\"\n",
    );

    let report = stack
        .runner()
        .with_clock_authority(&authority.endpoint, Some(TOKEN.to_owned()))
        .run(&scenario)
        .await;

    assert!(report.passed(), "{report:#?}");
    // 2 April 2027 is a Friday; six working days on from it is Monday 12 April.
    assert_eq!(authority.now().await, datetime!(2027-04-12 04:00 UTC));
}

#[tokio::test]
async fn a_set_step_moves_the_stack_clock_to_its_instant_between_requests() {
    let authority = authority().await;
    let stack = Stack::start().await;

    let report = stack
        .runner()
        .with_clock_authority(&authority.endpoint, Some(TOKEN.to_owned()))
        .run(&moving_scenario(&stack))
        .await;

    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.steps[0].name, "advance the stack clock 28d");
    assert_eq!(authority.now().await, datetime!(2027-05-03 04:00 UTC));
}

#[tokio::test]
async fn a_clock_step_without_a_clock_authority_is_refused_naming_it() {
    let stack = Stack::start().await;
    let scenario = moving_scenario(&stack);
    let nobody = format!("http://127.0.0.1:{}", egov_testkit::ports::free_port());

    let report = stack
        .runner()
        .with_clock_authority(&nobody, Some(TOKEN.to_owned()))
        .run(&scenario)
        .await;
    assert!(report.steps.is_empty(), "no step ran: {report:#?}");
    let error = report.error.expect("refused");
    assert!(error.contains("no clock authority answers at"), "{error}");
    assert!(error.contains(&nobody), "{error}");

    let report = stack.runner().run(&scenario).await;
    let error = report.error.expect("refused");
    assert!(
        error.contains("the runner was given no clock authority"),
        "{error}"
    );
}

#[tokio::test]
async fn a_clock_step_without_the_operators_token_fails_and_leaves_the_clock() {
    let authority = authority().await;
    let stack = Stack::start().await;

    let report = stack
        .runner()
        .with_clock_authority(&authority.endpoint, Some("not-the-operator-token".into()))
        .run(&moving_scenario(&stack))
        .await;

    assert!(!report.passed());
    assert!(
        report.steps[0].failures[0].starts_with("the clock authority refused"),
        "{report:#?}"
    );
    assert_eq!(report.skipped.len(), 2);
    assert_eq!(authority.now().await, START);
}

#[tokio::test]
async fn a_runner_following_the_stack_clock_stamps_requests_with_the_stack_time() {
    let authority = authority().await;
    let stack = Stack::start().await;
    // Behind the stack's time: the runner reads the authority before the first step.
    let followed = VirtualClock::new(datetime!(2026-01-01 0:00 UTC));
    // The sandbox gateway judges message times on the wall clock: a request stamped with
    // the stack's time, months ahead of it, is out of its window.
    let scenario = stack.scenario(&format!(
        r#"name = "stamped with the stack's time"

[[step]]
advance = "28d"

[[step]]
name = "a request stamped on the stack clock"
{}"#,
        person_request("status = \"EMSG005\"\n")
    ));

    let report = stack
        .runner()
        .with_clock_authority(&authority.endpoint, Some(TOKEN.to_owned()))
        .following_the_stack_clock(followed.clone())
        .run(&scenario)
        .await;

    assert!(report.passed(), "{report:#?}");
    assert_eq!(followed.now(), START + time::Duration::days(28));
    assert_eq!(followed.now(), authority.now().await);
}
