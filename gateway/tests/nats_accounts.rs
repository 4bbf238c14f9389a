//! NATS users with per-system permissions (`egov_bus::nats_accounts`), against a real
//! nats-server: a system's credentials reach its own subjects and the clock, never another
//! system's subjects or final states, the gateway's delivery subjects, its state stream or its
//! bucket of redelivery counts, and only the clock authority moves the stack's time.

use std::time::Duration;

use async_nats::jetstream;
use egov_bus::clock::{CLOCK_BUCKET, ClockStore, NOW_KEY, format_instant};
use egov_bus::nats_accounts::{self, GATEWAY_INBOX_PREFIX, NatsUser};
use egov_gateway::async_channel::names::{ATTEMPTS_BUCKET, NOTIFY_STREAM};
use egov_testkit::NatsServer;
use futures::StreamExt as _;
use tokio::sync::mpsc;

/// Guards the waits below against a hang; never a measured assertion.
const GUARD: Duration = Duration::from_secs(20);

struct Accounts {
    server: NatsServer,
    gateway: NatsUser,
    clock: NatsUser,
    labor: NatsUser,
}

fn start() -> Accounts {
    let users = nats_accounts::stack_users(&["labor", "esobes"]);
    let server = NatsServer::start_with_config(&nats_accounts::authorization_block(&users))
        .expect("nats-server with users");
    let find = |name: &str| {
        users
            .iter()
            .find(|user| user.name == name)
            .cloned()
            .expect("user")
    };
    Accounts {
        gateway: find("gateway"),
        clock: find(nats_accounts::CLOCK_USER),
        labor: find("labor"),
        server,
    }
}

/// Connects as `user`, passing every server error (permission violations) to the receiver.
async fn connect(
    accounts: &Accounts,
    user: &NatsUser,
    inbox_prefix: Option<&str>,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (errors, received) = mpsc::unbounded_channel();
    let mut options = async_nats::ConnectOptions::new().event_callback(move |event| {
        let errors = errors.clone();
        async move {
            let _ = errors.send(event.to_string());
        }
    });
    if let Some(prefix) = inbox_prefix {
        options = options.custom_inbox_prefix(prefix);
    }
    let client = nats_accounts::connect(&user.url(&accounts.server.url()), options)
        .await
        .expect("connects with its credentials");
    (client, received)
}

/// Waits for the server's permission violation naming `subject`.
async fn violation(errors: &mut mpsc::UnboundedReceiver<String>, subject: &str) {
    let found = tokio::time::timeout(GUARD, async {
        while let Some(error) = errors.recv().await {
            if error.contains("Permissions Violation") && error.contains(subject) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "no permission violation for {subject}");
}

#[tokio::test]
async fn a_client_without_credentials_is_refused() {
    let accounts = start();
    let refused = async_nats::connect(accounts.server.url()).await;
    assert!(refused.is_err(), "anonymous clients are refused");
    let mut wrong = accounts.labor.clone();
    wrong.password = "guessed".into();
    let refused = nats_accounts::connect(
        &wrong.url(&accounts.server.url()),
        async_nats::ConnectOptions::new(),
    )
    .await;
    assert!(refused.is_err(), "a wrong password is refused");
}

#[tokio::test]
async fn a_systems_credentials_cannot_read_another_systems_subjects() {
    let accounts = start();
    let (labor, mut errors) = connect(&accounts, &accounts.labor, None).await;
    let _other_inbox = labor
        .subscribe("egov.sys.esobes.inbox")
        .await
        .expect("sent");
    violation(&mut errors, "egov.sys.esobes.inbox").await;
    let _deliveries = labor
        .subscribe("egov.gw.deliver.esobes")
        .await
        .expect("sent");
    violation(&mut errors, "egov.gw.deliver.esobes").await;
    let _gateway_answers = labor
        .subscribe(format!("{GATEWAY_INBOX_PREFIX}.>"))
        .await
        .expect("sent");
    violation(&mut errors, GATEWAY_INBOX_PREFIX).await;
    labor
        .publish("egov.gw.deliver.esobes", "forged".into())
        .await
        .expect("sent");
    labor.flush().await.expect("flushed");
    violation(&mut errors, "egov.gw.deliver.esobes").await;
}

#[tokio::test]
async fn a_systems_credentials_cannot_read_the_redelivery_counts() {
    let accounts = start();
    let (gateway, _) = connect(&accounts, &accounts.gateway, Some(GATEWAY_INBOX_PREFIX)).await;
    let attempts = jetstream::new(gateway)
        .create_key_value(jetstream::kv::Config {
            bucket: ATTEMPTS_BUCKET.into(),
            ..Default::default()
        })
        .await
        .expect("the gateway creates its bucket");
    attempts
        .put("message-1", "2".into())
        .await
        .expect("the gateway writes");

    let (labor, mut errors) = connect(&accounts, &accounts.labor, None).await;
    let mut labor_js = jetstream::new(labor);
    labor_js.set_timeout(Duration::from_millis(500));
    let refused = labor_js.get_key_value(ATTEMPTS_BUCKET).await;
    assert!(refused.is_err(), "the bucket is out of a system's reach");
    violation(&mut errors, &format!("KV_{ATTEMPTS_BUCKET}")).await;
}

#[tokio::test]
async fn a_system_hears_its_own_messages_final_states_and_no_other_systems() {
    let accounts = start();
    let (gateway, _) = connect(&accounts, &accounts.gateway, Some(GATEWAY_INBOX_PREFIX)).await;
    let gateway_js = jetstream::new(gateway);
    gateway_js
        .create_stream(jetstream::stream::Config {
            name: NOTIFY_STREAM.into(),
            subjects: vec![egov_bus::subjects::NOTIFY_ALL.into()],
            ..Default::default()
        })
        .await
        .expect("the gateway creates its state stream");

    let (labor, mut errors) = connect(&accounts, &accounts.labor, None).await;
    let mut own = labor
        .subscribe("egov.gw.notify.labor.*")
        .await
        .expect("its own final states");
    labor.flush().await.expect("subscribed");
    let _others = labor
        .subscribe("egov.gw.notify.esobes.*")
        .await
        .expect("sent");
    violation(&mut errors, "egov.gw.notify.esobes.*").await;

    // The server takes a subscription a moment after the client's flush: store until heard.
    let heard = tokio::time::timeout(GUARD, async {
        loop {
            gateway_js
                .publish("egov.gw.notify.labor.m-1", "DELIVERED".into())
                .await
                .expect("published")
                .await
                .expect("stored");
            if let Ok(Some(message)) =
                tokio::time::timeout(Duration::from_millis(100), own.next()).await
            {
                return message;
            }
        }
    })
    .await
    .expect("heard within the guard");
    assert_eq!(heard.subject.as_str(), "egov.gw.notify.labor.m-1");

    let mut labor_js = jetstream::new(labor);
    labor_js.set_timeout(Duration::from_millis(500));
    let refused = labor_js.get_stream(NOTIFY_STREAM).await;
    assert!(
        refused.is_err(),
        "the state stream is out of a system's reach"
    );
    violation(&mut errors, &format!("STREAM.INFO.{NOTIFY_STREAM}")).await;
}

#[tokio::test]
async fn a_system_answers_on_its_own_inbox_and_follows_the_clock() {
    let accounts = start();
    let (gateway, _) = connect(&accounts, &accounts.gateway, Some(GATEWAY_INBOX_PREFIX)).await;
    let (labor, _) = connect(&accounts, &accounts.labor, None).await;
    let mut inbox = labor
        .queue_subscribe("egov.sys.labor.inbox", "labor".into())
        .await
        .expect("its own inbox");
    labor.flush().await.expect("subscribed");
    let answering = tokio::spawn(async move {
        let request = inbox.next().await.expect("a delivery");
        let reply = request.reply.expect("a request");
        labor.publish(reply, "received".into()).await.expect("sent");
        labor.flush().await.expect("flushed");
    });
    // A client's flush does not wait for the server to take the subscription: ask again
    // while no one is there yet.
    let mut answer = None;
    for _ in 0..200 {
        match gateway
            .request("egov.sys.labor.inbox", "message".into())
            .await
        {
            Ok(message) => {
                answer = Some(message);
                break;
            }
            Err(error) if error.kind() == async_nats::RequestErrorKind::NoResponders => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("the request failed: {error}"),
        }
    }
    let answer = answer.expect("answered");
    assert_eq!(answer.payload.as_ref(), b"received");
    answering.await.expect("joined");

    let authority = ClockStore::connect(&accounts.clock.url(&accounts.server.url()))
        .await
        .expect("the authority opens the clock's buckets");
    authority
        .init_now(time::OffsetDateTime::now_utc())
        .await
        .expect("the authority sets the stack's time");
    let clock = ClockStore::join(&accounts.labor.url(&accounts.server.url()))
        .await
        .expect("a system opens the clock's buckets");
    let follower = egov_bus::clock::StackClock::follow(clock, "labor")
        .await
        .expect("a system follows the stack's time and reports under its own name");
    assert!(follower.follower_key().starts_with("labor."));
}

#[tokio::test]
async fn a_systems_credentials_cannot_move_the_stack_time() {
    let accounts = start();
    let authority = ClockStore::connect(&accounts.clock.url(&accounts.server.url()))
        .await
        .expect("the authority opens the clock's buckets");
    let start = authority
        .init_now(time::OffsetDateTime::now_utc())
        .await
        .expect("the authority sets the stack's time");
    let later = start + time::Duration::days(3);

    // A plain publish on the time's key subject is refused by the server.
    let (labor, mut errors) = connect(&accounts, &accounts.labor, None).await;
    let subject = format!("$KV.{CLOCK_BUCKET}.{NOW_KEY}");
    labor
        .publish(subject.clone(), format_instant(later).into())
        .await
        .expect("sent");
    labor.flush().await.expect("flushed");
    violation(&mut errors, &subject).await;

    // So is the compare-and-set a follower's store would make, and a change of the bucket.
    let follower = ClockStore::join(&accounts.labor.url(&accounts.server.url()))
        .await
        .expect("a system opens the clock's buckets to read them");
    let refused = tokio::time::timeout(GUARD, follower.set_now(later))
        .await
        .expect("answered or timed out by the client");
    assert!(refused.is_err(), "a system moved the time: {refused:?}");
    let update = jetstream::new(labor)
        .create_or_update_key_value(jetstream::kv::Config {
            bucket: CLOCK_BUCKET.to_owned(),
            history: 5,
            ..Default::default()
        })
        .await;
    assert!(update.is_err(), "a system changed the clock's bucket");

    let (now, _) = authority
        .read_now()
        .await
        .expect("read")
        .expect("the time is set");
    assert_eq!(
        now, start,
        "the stack's time stayed where the authority put it"
    );
}
