//! The gateway's async channel on a three-node NATS cluster with its streams and state bucket
//! replicated three times (`jetstream_replicas = 3`): the node leading the delivery stream is
//! killed in the middle of a burst, and every message the gateway accepted still reaches the
//! application exactly once and ends DELIVERED.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use egov_core::systems;
use egov_gateway::AsyncSettings;
use egov_gateway::async_channel::names;
use egov_proto::v1::{DeliveryState, Envelope, GetPersonRequest, Header};
use egov_system::GatewayCaller;
use egov_testkit::{NatsCluster, Sandbox};
use futures::StreamExt;
use prost::Message;

/// Messages in the burst; the node dies after half of them.
const MESSAGES: usize = 300;

/// An async service of the notary's, delivered by push to its NATS inbox.
const SERVICE: &str = "notary.deed.register";

/// How long the whole burst may take to settle, failover included.
const SETTLE_DEADLINE: Duration = Duration::from_secs(120);

/// Sends one async message from the portal to the notary and returns its id once accepted,
/// or the refusal's status code and reason.
async fn send(portal: &GatewayCaller, n: usize) -> Result<String, (String, String)> {
    let header = portal.header::<GetPersonRequest>(SERVICE, systems::NOTARY.id);
    let envelope = portal
        .identity()
        .signer
        .seal_message(
            &header,
            &GetPersonRequest {
                iin: format!("burst-{n}"),
            },
        )
        .map_err(|err| ("seal".to_owned(), err.to_string()))?;
    portal
        .send_async(envelope)
        .await
        .map_err(|err| (err.code().as_str().to_owned(), err.to_string()))
}

/// The application behind the notary's inbox: records the message id of every envelope it is
/// handed, duplicates included, and answers each.
async fn start_application(nats_url: &str) -> Arc<Mutex<Vec<String>>> {
    let client = async_nats::connect(nats_url)
        .await
        .expect("application's NATS");
    let subject = egov_bus::subjects::inbox(systems::NOTARY.id).expect("inbox subject");
    let mut inbox = client
        .queue_subscribe(subject, systems::NOTARY.id.to_owned())
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = received.clone();
    tokio::spawn(async move {
        while let Some(message) = inbox.next().await {
            if let Ok(envelope) = Envelope::decode(message.payload.as_ref())
                && let Ok(header) = Header::decode(&envelope.header[..])
            {
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(header.message_id);
            }
            if let Some(reply) = message.reply {
                let _ = client.publish(reply, "received".into()).await;
            }
        }
    });
    received
}

/// Moves the delivery stream's leadership off node 0 (where the gateway and the application
/// are connected) and returns the node now leading it: the one to kill.
async fn stream_leader_away_from_node_0(nats: &async_nats::Client, cluster: &NatsCluster) -> usize {
    let js = jetstream::new(nats.clone());
    for _ in 0..50 {
        // A stream just created on a cluster may not be known to every node yet: ask again.
        let mut stream = match js.get_stream(names::DELIVER_STREAM).await {
            Ok(stream) => stream,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let info = stream.info().await.expect("stream info").clone();
        let cluster_info = info.cluster.expect("a clustered stream");
        let replicas = info.config.num_replicas;
        assert_eq!(
            replicas, 3,
            "the delivery stream is not replicated three times"
        );
        match cluster_info
            .leader
            .as_deref()
            .and_then(|name| cluster.index_of(name))
        {
            Some(0) => {
                let subject = format!("$JS.API.STREAM.LEADER.STEPDOWN.{}", names::DELIVER_STREAM);
                let _ = nats.request(subject, "".into()).await;
            }
            Some(leader) => return leader,
            None => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the delivery stream was not found, or its leadership never left node 0");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_accepted_async_message_is_delivered_exactly_once_when_a_nats_node_dies_mid_burst() {
    egov_testkit::service::quiet_logs("nats-cluster", "warn");
    let mut cluster = NatsCluster::start(3).expect("three-node NATS cluster");
    let settings = AsyncSettings {
        replicas: 3,
        registry_poll: Duration::from_millis(200),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        max_deliveries: 50,
        ..AsyncSettings::default()
    };
    let sandbox = Sandbox::start_with_nats(&cluster.url(0), settings).await;
    let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
    sandbox.system(systems::NOTARY.id, systems::NOTARY.bin);
    sandbox.deliver_by_push(systems::NOTARY.id);
    // Async messages never use the route's address; the registry requires one.
    let unused: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    sandbox.route(SERVICE, systems::NOTARY.id, unused, &[systems::PORTAL.id]);
    let received = start_application(&cluster.url(0)).await;

    let nats = async_nats::connect(cluster.url(0))
        .await
        .expect("test's NATS");
    let victim = stream_leader_away_from_node_0(&nats, &cluster).await;

    let started = Instant::now();
    let mut accepted = BTreeSet::new();
    // Refusals by status code, with the first reason of each.
    let mut refused: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for n in 0..MESSAGES {
        if n == MESSAGES / 2 {
            cluster.kill(victim);
            println!(
                "killed {} (the delivery stream's leader) after {n} messages",
                NatsCluster::name(victim)
            );
        }
        // A refusal while the cluster elects a new leader is an answer the sender can act on:
        // it sends the message again, as a new message.
        loop {
            match send(&portal, n).await {
                Ok(id) => {
                    accepted.insert(id);
                    break;
                }
                Err((code, reason)) => {
                    refused.entry(code).or_insert((0, reason)).0 += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            assert!(
                started.elapsed() < SETTLE_DEADLINE,
                "sends refused: {refused:?}"
            );
        }
    }
    println!(
        "burst of {MESSAGES} accepted in {:?}; refusals during failover, resent: {refused:?}",
        started.elapsed()
    );

    let mut waiting: Vec<String> = accepted.iter().cloned().collect();
    let mut states = BTreeMap::new();
    // The sender asks, with its proof of being the sender: the gateway answers no one else.
    let mut last_error = None;
    while let Some(id) = waiting.last().cloned() {
        let state = match portal.message_status(&id).await {
            Ok(answer) => answer.state(),
            Err(err) => {
                last_error = Some(err.to_string());
                DeliveryState::Unspecified
            }
        };
        if matches!(
            state,
            DeliveryState::Delivered | DeliveryState::NotDelivered
        ) {
            states.insert(id, state);
            waiting.pop();
        } else {
            assert!(
                started.elapsed() < SETTLE_DEADLINE,
                "{} messages still not final, e.g. {id}: {state:?} (last status error: {last_error:?})",
                waiting.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    println!(
        "every message final {:?} after the burst began",
        started.elapsed()
    );

    let not_delivered: Vec<_> = states
        .iter()
        .filter(|(_, state)| **state != DeliveryState::Delivered)
        .collect();
    assert!(not_delivered.is_empty(), "not DELIVERED: {not_delivered:?}");
    let received = received.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut arrivals: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &received {
        *arrivals.entry(id.as_str()).or_default() += 1;
    }
    let duplicates: Vec<_> = arrivals.iter().filter(|(_, count)| **count > 1).collect();
    assert!(
        duplicates.is_empty(),
        "handed over more than once: {duplicates:?}"
    );
    let arrived: BTreeSet<String> = arrivals.keys().map(|id| (*id).to_owned()).collect();
    assert_eq!(
        arrived, accepted,
        "the application got exactly the accepted messages"
    );
}
