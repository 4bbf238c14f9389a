//! Starts a real nats-server through the kit and talks to it with async-nats.

use std::net::TcpStream;

use egov_testkit::NatsServer;
use futures::StreamExt as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

#[tokio::test]
async fn a_published_message_reaches_a_subscriber() -> TestResult {
    let nats = NatsServer::start()?;
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{}", nats.port()));
    let client = async_nats::connect(nats.url()).await?;

    let mut subscriber = client.subscribe("egov.test.hello").await?;
    client.publish("egov.test.hello", "сәлем".into()).await?;
    client.flush().await?;

    let message = subscriber.next().await.ok_or("subscription closed")?;
    assert_eq!(message.payload.as_ref(), "сәлем".as_bytes());
    Ok(())
}

#[tokio::test]
async fn jetstream_stores_a_message_and_acknowledges_it() -> TestResult {
    let nats = NatsServer::start()?;
    let client = async_nats::connect(nats.url()).await?;
    let jetstream = async_nats::jetstream::new(client);

    jetstream
        .create_stream(async_nats::jetstream::stream::Config {
            name: "EGOV_TEST".into(),
            subjects: vec!["egov.test.js.>".into()],
            ..Default::default()
        })
        .await?;
    let ack = jetstream
        .publish("egov.test.js.one", "payload".into())
        .await?
        .await?;
    assert_eq!(ack.stream, "EGOV_TEST");
    assert_eq!(ack.sequence, 1);
    assert!(nats.store_dir().exists());
    Ok(())
}

#[test]
fn dropping_the_server_stops_the_process() -> TestResult {
    let nats = NatsServer::start()?;
    let port = nats.port();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());

    drop(nats);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    Ok(())
}

#[test]
fn two_servers_run_side_by_side_on_different_ports() -> TestResult {
    let first = NatsServer::start()?;
    let second = NatsServer::start()?;
    assert_ne!(first.port(), second.port());
    Ok(())
}
