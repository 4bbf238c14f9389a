//! A scenario's hops read from a running gateway's log over gRPC, as `egov scenario run`
//! reads them: drawn in the order calls nest, compared with the golden diagram beside the
//! file, and shown side by side when they differ.

mod common;

use std::collections::HashSet;

use common::{PERSON_ANSWERED, Stack, person_request};
use egov_core::StatusCode;
use egov_proto::v1::GetMessagesRequest;
use egov_proto::v1::gateway_log_client::GatewayLogClient;
use egov_proto::v1::get_messages_request::Key;
use egov_scenario::LiveLog;
use egov_scenario::diagram::{self, GoldenError, RowKey};
use egov_testkit::service::{OPERATOR_TOKEN, as_operator};

/// The portal asks the citizens-DB for the person once.
fn asking_for_the_person() -> String {
    format!(
        "name = \"the person, asked once\"\n\n[[step]]\nname = \"the portal asks\"\n{}",
        person_request(PERSON_ANSWERED)
    )
}

#[tokio::test]
async fn the_hops_a_scenario_caused_are_read_from_the_live_log_and_compared_with_its_golden() {
    let stack = Stack::start().await;
    // Traffic before the scenario is not its own.
    stack.ask_for_the_person().await;
    let log = LiveLog::new(&stack.sandbox.gateway_endpoint(), OPERATOR_TOKEN).expect("log");
    let before: HashSet<RowKey> = log
        .settled()
        .await
        .expect("the log reads")
        .iter()
        .map(diagram::row_key)
        .collect();
    assert_eq!(
        before.len(),
        4,
        "the earlier exchange: in and out, both ways"
    );

    let scenario = stack.scenario(&asking_for_the_person());
    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}");
    let after = log.settled().await.expect("the log reads");
    let drawn = diagram::scenario_diagram(&before, &after, &report);
    assert_eq!(
        drawn,
        "sequenceDiagram\n\
         \x20   participant portal as portal\n\
         \x20   participant shep as ШЭП\n\
         \x20   participant citizens as citizens\n\
         \x20   portal->>shep: citizens.person.get (REQUEST)\n\
         \x20   Note over portal,shep: SCSS001, «duration»\n\
         \x20   shep->>citizens: citizens.person.get (REQUEST)\n\
         \x20   Note over shep,citizens: SCSS001, «duration»\n\
         \x20   citizens-->>shep: citizens.person.get (RESPONSE)\n\
         \x20   Note over citizens,shep: SCSS001, «duration»\n\
         \x20   shep-->>portal: citizens.person.get (RESPONSE)\n\
         \x20   Note over shep,portal: SCSS001, «duration»\n"
    );

    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("person.toml");
    std::fs::write(diagram::golden_path(&file), &drawn).expect("golden");
    assert_eq!(diagram::check_golden(&file, &drawn), Ok(()));

    // A golden that expects the citizens-DB to refuse.
    let refused = drawn.replacen(
        "citizens-->>shep: citizens.person.get (RESPONSE)\n    Note over citizens,shep: SCSS001",
        "citizens-->>shep: citizens.person.get (RESPONSE)\n    Note over citizens,shep: EDAT001",
        1,
    );
    std::fs::write(diagram::golden_path(&file), &refused).expect("golden");
    match diagram::check_golden(&file, &drawn) {
        Err(GoldenError::Differs { side_by_side, .. }) => {
            let expected_only: Vec<&str> = side_by_side
                .lines()
                .filter(|line| line.starts_with("< "))
                .collect();
            let actual_only: Vec<&str> = side_by_side
                .lines()
                .filter(|line| line.starts_with("> "))
                .collect();
            assert_eq!(expected_only.len(), 1, "{side_by_side}");
            assert!(expected_only[0].contains("EDAT001"), "{side_by_side}");
            assert_eq!(actual_only.len(), 1, "{side_by_side}");
            assert!(actual_only[0].ends_with("Note over citizens,shep: SCSS001, «duration»"));
        }
        other => panic!("the golden differs, not {other:?}"),
    }
    std::fs::remove_file(diagram::golden_path(&file)).expect("removed");
    assert!(matches!(
        diagram::check_golden(&file, &drawn),
        Err(GoldenError::Missing { .. })
    ));
}

#[tokio::test]
async fn the_recent_hops_are_asked_for_by_an_operator_and_in_bounds() {
    let stack = Stack::start().await;
    stack.ask_for_the_person().await;
    let channel = tonic::transport::Endpoint::from_shared(stack.sandbox.gateway_endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connects");
    let mut client = GatewayLogClient::new(channel);
    let recent = |count: u32| GetMessagesRequest {
        key: Some(Key::Recent(count)),
    };

    let two = client
        .get_messages(as_operator(recent(2)))
        .await
        .expect("answered")
        .into_inner()
        .messages;
    assert_eq!(two.len(), 2);
    let at = |message: &egov_proto::v1::LoggedMessage| {
        message
            .received_at
            .as_ref()
            .map(|time| (time.seconds, time.nanos))
    };
    assert!(at(&two[0]) <= at(&two[1]), "oldest first: {two:#?}");
    assert_eq!(two[1].message_type, "RESPONSE", "the newest is the answer");

    for count in [0, 10_001] {
        let refused = client
            .get_messages(as_operator(recent(count)))
            .await
            .expect_err("out of bounds");
        assert_eq!(
            StatusCode::from_grpc(&refused),
            Some(StatusCode::InvalidRequest),
            "{count}: {refused:?}"
        );
        assert!(refused.message().contains("1 to 10000"), "{refused:?}");
    }
    let anonymous = client
        .get_messages(recent(2))
        .await
        .expect_err("no operator");
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    let log = LiveLog::new(&stack.sandbox.gateway_endpoint(), "not-a-token").expect("log");
    let refused = log
        .recent()
        .await
        .expect_err("a token the gateway does not know");
    assert!(
        refused.to_string().contains("did not answer its log"),
        "{refused}"
    );
}
