//! The stack clock through a real nats-server: the authority moves it, services follow it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_bus::clock::{ClockError, ClockStore, StackClock, format_instant, parse_instant};
use egov_clock::{Authority, AuthorityError, Config, Pacing};
use egov_core::clock::{Clock, Step, StepError};
use egov_core::envelope::{from_timestamp, to_timestamp};
use egov_proto::v1::stack_clock_client::StackClockClient;
use egov_proto::v1::{AdvanceRequest, GetTimeRequest, SetTimeRequest};
use egov_testkit::NatsServer;
use futures::StreamExt as _;
use time::OffsetDateTime;
use time::macros::datetime;

const TOKEN: &str = "operator-token-for-tests";

/// Friday 5 March 2027, 09:00 in Astana.
const START: OffsetDateTime = datetime!(2027-03-05 04:00 UTC);

/// A nats-server with the stack's time set to [`START`] and an authority over it.
async fn stack() -> (NatsServer, ClockStore, Authority) {
    let nats = NatsServer::start().expect("nats-server");
    let store = ClockStore::connect(&nats.url()).await.expect("clock store");
    store.init_now(START).await.expect("first stack time");
    let pacing = Pacing {
        settle: Duration::from_millis(5),
        ack_timeout: Duration::from_secs(10),
    };
    let authority = Authority::open(store.clone(), pacing, Some(TOKEN.to_owned()))
        .await
        .expect("authority");
    (nats, store, authority)
}

/// Waits until the authority has heard from `n` followers.
async fn wait_for_followers(authority: &Authority, n: usize) {
    let mut watch = authority.watch_followers();
    while watch.borrow_and_update().len() < n {
        watch.changed().await.expect("authority alive");
    }
}

/// Waits until `n` followers have reported a next deadline.
async fn wait_for_deadlines(authority: &Authority, n: usize) {
    let mut watch = authority.watch_followers();
    while watch
        .borrow_and_update()
        .values()
        .filter(|report| report.next.is_some())
        .count()
        < n
    {
        watch.changed().await.expect("authority alive");
    }
}

type Log = Arc<Mutex<Vec<(&'static str, OffsetDateTime, OffsetDateTime)>>>;

/// Spawns a task of `service` that sleeps until each deadline and logs (service, deadline,
/// the time its clock read on waking).
fn timers(
    clock: &StackClock,
    service: &'static str,
    deadlines: Vec<OffsetDateTime>,
    log: &Log,
) -> tokio::task::JoinHandle<()> {
    let (clock, log) = (clock.clone(), log.clone());
    // Registered before the task runs, so the follower reports the first deadline at once.
    let first = deadlines.first().map(|&d| clock.sleep_until(d));
    tokio::spawn(async move {
        if let Some(first) = first {
            first.await;
        }
        for (i, deadline) in deadlines.iter().enumerate() {
            if i > 0 {
                clock.sleep_until(*deadline).await;
            }
            log.lock().unwrap().push((service, *deadline, clock.now()));
        }
    })
}

fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

#[tokio::test]
async fn stack_clock_is_followed_by_two_services() {
    let (_nats, store, authority) = stack().await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    let esobes = StackClock::follow(store.clone(), "esobes").await.unwrap();
    assert_eq!((labor.now(), esobes.now()), (START, START));
    wait_for_followers(&authority, 2).await;

    let to = START + days(3);
    let moved = authority.set(to).await.unwrap();

    assert_eq!(moved.now, to);
    assert_eq!(labor.now(), to);
    assert_eq!(esobes.now(), to);
    let followers = authority.followers();
    assert!(
        followers.keys().any(|k| k.starts_with("labor.")),
        "{followers:?}"
    );
    assert!(followers.values().all(|report| report.seen == to));
}

#[tokio::test]
async fn advancing_28_calendar_days_fires_timers_of_both_services_in_deadline_order() {
    let (_nats, store, authority) = stack().await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    let esobes = StackClock::follow(store.clone(), "esobes").await.unwrap();
    let log: Log = Arc::default();
    let a = timers(
        &labor,
        "labor",
        vec![START + days(3), START + days(10), START + days(20)],
        &log,
    );
    let b = timers(
        &esobes,
        "esobes",
        vec![
            START + days(1),
            START + days(7),
            START + days(14),
            START + days(28),
        ],
        &log,
    );
    wait_for_deadlines(&authority, 2).await;

    let moved = authority.advance("28d".parse().unwrap()).await.unwrap();
    a.await.unwrap();
    b.await.unwrap();

    assert_eq!(moved.now, START + days(28));
    assert_eq!(
        moved.stops, 7,
        "one stop per deadline, the last being the target"
    );
    let log = log.lock().unwrap().clone();
    let order: Vec<(&str, i64)> = log
        .iter()
        .map(|(service, deadline, _)| (*service, (*deadline - START).whole_days()))
        .collect();
    assert_eq!(
        order,
        [
            ("esobes", 1),
            ("labor", 3),
            ("esobes", 7),
            ("labor", 10),
            ("esobes", 14),
            ("labor", 20),
            ("esobes", 28)
        ]
    );
    for (service, deadline, woke_at) in log {
        assert_eq!(
            woke_at, deadline,
            "{service} read its own deadline on waking"
        );
    }
}

#[tokio::test]
async fn advancing_6_working_days_skips_8_and_15_march_2027_and_fires_timers_in_order() {
    let (_nats, store, authority) = stack().await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    let esobes = StackClock::follow(store.clone(), "esobes").await.unwrap();
    let log: Log = Arc::default();
    let a = timers(&labor, "labor", vec![datetime!(2027-03-12 04:00 UTC)], &log);
    let b = timers(
        &esobes,
        "esobes",
        vec![
            datetime!(2027-03-09 04:00 UTC),
            datetime!(2027-03-16 04:00 UTC),
        ],
        &log,
    );
    wait_for_deadlines(&authority, 2).await;

    let moved = authority.advance("6wd".parse().unwrap()).await.unwrap();
    a.await.unwrap();
    b.await.unwrap();

    // Monday 8 March (Women's Day) and Monday 15 March (Constitution Day) are days off.
    assert_eq!(moved.now, datetime!(2027-03-17 04:00 UTC));
    assert_eq!((labor.now(), esobes.now()), (moved.now, moved.now));
    let order: Vec<&str> = log.lock().unwrap().iter().map(|(s, _, _)| *s).collect();
    assert_eq!(order, ["esobes", "labor", "esobes"]);
}

#[tokio::test]
async fn the_stack_clock_never_goes_backwards() {
    let (_nats, store, authority) = stack().await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    wait_for_followers(&authority, 1).await;
    authority.set(START + days(2)).await.unwrap();

    let earlier = START + days(1);
    let refused = authority.set(earlier).await.unwrap_err();
    assert!(
        matches!(refused, AuthorityError::Clock(ClockError::Backwards { asked, .. }) if asked == earlier),
        "{refused}"
    );
    // Not even a direct write to the store moves it back.
    let refused = store.set_now(earlier).await.unwrap_err();
    assert!(matches!(refused, ClockError::Backwards { .. }), "{refused}");

    assert_eq!(authority.now().await.unwrap(), START + days(2));
    assert_eq!(labor.now(), START + days(2));
}

#[tokio::test]
async fn working_day_step_into_a_year_without_calendar_data_is_refused() {
    let (_nats, _store, authority) = stack().await;
    authority
        .set(datetime!(2027-12-28 04:00 UTC))
        .await
        .unwrap();
    let refused = authority.advance(Step::WorkingDays(6)).await.unwrap_err();
    assert!(
        matches!(refused, AuthorityError::Step(StepError::Calendar(_))),
        "{refused}"
    );
    assert!(refused.to_string().contains("2028"), "{refused}");
    assert_eq!(
        authority.now().await.unwrap(),
        datetime!(2027-12-28 04:00 UTC)
    );
}

#[tokio::test]
async fn a_follower_that_stops_following_is_no_longer_waited_for() {
    let (_nats, store, authority) = stack().await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    let esobes = StackClock::follow(store.clone(), "esobes").await.unwrap();
    wait_for_followers(&authority, 2).await;
    let leaving = labor.follower_key().to_owned();

    drop(labor);
    let mut watch = authority.watch_followers();
    while watch.borrow_and_update().contains_key(&leaving) {
        watch.changed().await.expect("authority alive");
    }

    let moved = authority.advance("1d".parse().unwrap()).await.unwrap();
    assert_eq!(esobes.now(), moved.now);
    assert_eq!(authority.followers().len(), 1);
}

/// Serves the authority over gRPC on a free port and returns a client.
async fn serve(nats: &NatsServer) -> StackClockClient<tonic::transport::Channel> {
    let config = Config {
        grpc_listen: "127.0.0.1:0".parse().unwrap(),
        http_listen: "127.0.0.1:0".parse().unwrap(),
        nats_url: nats.url(),
        operator_token: Some(TOKEN.to_owned()),
        ..Config::default()
    };
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen)
        .await
        .unwrap();
    let addr = grpc.local_addr().unwrap();
    tokio::spawn(egov_clock::run(config, grpc, http, std::future::pending()));
    StackClockClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

#[tokio::test]
async fn operator_call_without_the_operators_token_is_refused() {
    let (nats, _store, _authority) = stack().await;
    let mut client = serve(&nats).await;
    let advance = || AdvanceRequest { step: "3d".into() };

    let refused = client
        .advance(with_token(advance(), None))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused}");
    let refused = client
        .advance(with_token(advance(), Some("not-the-operator-token")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused}");
    let set = SetTimeRequest {
        to: Some(to_timestamp(START + days(9))),
    };
    let refused = client.set_time(with_token(set, None)).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused}");

    let state = client
        .get_time(GetTimeRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.now.as_ref().and_then(from_timestamp), Some(START));

    let state = client
        .advance(with_token(advance(), Some(TOKEN)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        state.now.as_ref().and_then(from_timestamp),
        Some(START + days(3))
    );
}

/// Guards the waits of a test against a hang; never a measured assertion.
const GUARD: Duration = Duration::from_secs(30);

/// The gateway's delivery stream and a receiver's durable consumer, as the gateway's async
/// channel creates them.
async fn delivery_stream(
    nats: &NatsServer,
    receiver: &str,
) -> (
    async_nats::jetstream::Context,
    async_nats::jetstream::consumer::PullConsumer,
) {
    use async_nats::jetstream::{self, consumer, stream};
    let client = async_nats::connect(nats.url()).await.expect("nats client");
    let context = jetstream::new(client);
    let deliveries = context
        .create_stream(stream::Config {
            name: egov_bus::clock::DELIVER_STREAM.to_owned(),
            subjects: vec!["egov.gw.deliver.*".to_owned()],
            ..Default::default()
        })
        .await
        .expect("delivery stream");
    let consumer = deliveries
        .create_consumer(consumer::pull::Config {
            durable_name: Some(format!("deliver-{receiver}")),
            filter_subject: format!("egov.gw.deliver.{receiver}"),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("receiver's consumer");
    (context, consumer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_set_by_work_a_step_started_fires_at_its_deadline_not_after_a_later_stop() {
    let (nats, store, authority) = stack().await;
    let (deliveries, consumer) = delivery_stream(&nats, "esobes").await;
    let labor = StackClock::follow(store.clone(), "labor").await.unwrap();
    let esobes = StackClock::follow(store.clone(), "esobes").await.unwrap();
    let log: Log = Arc::default();

    // Labour's timer fires on day 1; its work sends an async message to E-sobes, dated then.
    let day_1 = START + days(1);
    let fired = labor.sleep_until_held(day_1);
    let labor_work = {
        let (labor, log) = (labor.clone(), log.clone());
        tokio::spawn(async move {
            let work = fired.await;
            log.lock().unwrap().push(("labor", day_1, labor.now()));
            let sent = format_instant(labor.now());
            deliveries
                .publish("egov.gw.deliver.esobes", sent.into())
                .await
                .expect("published")
                .await
                .expect("stored");
            drop(work);
        })
    };
    // E-sobes picks it up a while later, handles it slowly (its clock held), sets a timer a
    // day after the message's time, and only then settles the message, as the inbox does.
    let esobes_work = {
        let (esobes, log) = (esobes.clone(), log.clone());
        tokio::spawn(async move {
            let mut messages = consumer.messages().await.expect("messages");
            let message = messages
                .next()
                .await
                .expect("a message")
                .expect("delivered");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let work = esobes.hold();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = std::str::from_utf8(&message.payload)
                .ok()
                .and_then(parse_instant)
                .expect("a message time");
            let due = sent + days(1);
            let timer = esobes.sleep_until(due);
            drop(work);
            message.ack().await.expect("acknowledged");
            timer.await;
            log.lock().unwrap().push(("esobes", due, esobes.now()));
        })
    };
    wait_for_deadlines(&authority, 1).await;

    let moved = tokio::time::timeout(GUARD, authority.advance("3d".parse().unwrap()))
        .await
        .expect("the advance ends")
        .unwrap();
    tokio::time::timeout(GUARD, labor_work)
        .await
        .expect("labour's work ends")
        .unwrap();
    tokio::time::timeout(GUARD, esobes_work)
        .await
        .expect("E-sobes' work ends")
        .unwrap();

    assert_eq!(moved.now, START + days(3));
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            ("labor", day_1, day_1),
            ("esobes", START + days(2), START + days(2)),
        ],
        "each timer fired at its deadline, in order"
    );
}

#[tokio::test]
async fn a_follower_started_before_the_authority_waits_for_it_and_never_sets_the_time() {
    let nats = NatsServer::start().expect("nats-server");
    let url = nats.url();
    let follower = tokio::spawn(async move {
        let store = ClockStore::join(&url).await.expect("joined");
        StackClock::follow(store, "labor").await.expect("following")
    });
    // Time for a follower that would create the buckets or the time to do so.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !follower.is_finished(),
        "a follower went on without the authority"
    );

    let store = ClockStore::connect(&nats.url()).await.expect("clock store");
    let first = store.init_now(START).await.expect("first stack time");
    let labor = tokio::time::timeout(GUARD, follower)
        .await
        .expect("the follower follows once the authority is there")
        .unwrap();

    assert_eq!(
        first, START,
        "the authority set the first time, no follower"
    );
    assert_eq!(labor.now(), START);
}
