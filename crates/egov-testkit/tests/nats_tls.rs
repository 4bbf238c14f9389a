//! NATS over TLS, chosen by the URL (`egov_bus::nats_tls`): against a TLS-only nats-server
//! with the stack's users, the gateway and a system connect through
//! `nats_accounts::connect` with the CA named in their URL and exchange an async delivery and
//! a request/reply; a client that does not trust the CA is refused with a TLS error, and a
//! plain client gets no service at all.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use egov_bus::nats_accounts::{self, GATEWAY_INBOX_PREFIX, NatsUser};
use egov_testkit::NatsServer;
use futures::StreamExt as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Guards the waits below against a hang; never a measured assertion.
const GUARD: Duration = Duration::from_secs(20);

fn tls_server() -> Result<(NatsServer, Vec<NatsUser>), Box<dyn std::error::Error>> {
    let users = nats_accounts::stack_users(&["labor"]);
    let server = NatsServer::start_tls(&nats_accounts::authorization_block(&users))?;
    Ok((server, users))
}

fn user<'a>(users: &'a [NatsUser], name: &str) -> &'a NatsUser {
    users
        .iter()
        .find(|user| user.name == name)
        .expect("a user of the stack")
}

#[tokio::test]
async fn the_gateway_and_a_system_exchange_a_delivery_and_a_request_over_tls() -> TestResult {
    let (server, users) = tls_server()?;
    assert!(server.tls_url().starts_with("tls://127.0.0.1:"));
    let gateway = nats_accounts::connect(
        &user(&users, "gateway").url(&server.tls_url()),
        async_nats::ConnectOptions::new().custom_inbox_prefix(GATEWAY_INBOX_PREFIX),
    )
    .await?;
    let labor = nats_accounts::connect(
        &user(&users, "labor").url(&server.tls_url()),
        async_nats::ConnectOptions::new(),
    )
    .await?;

    // The system subscribes to its request subject, then to its inbox: the server takes one
    // connection's commands in order, so once a delivery arrives both are in place.
    let mut requests = labor.subscribe("egov.sys.labor.request").await?;
    let mut inbox = labor.subscribe("egov.sys.labor.inbox").await?;
    labor.flush().await?;

    // An async delivery into the system's own inbox subject, sent again until one arrives
    // (as the gateway redelivers): the client's flush does not wait for the server's SUB.
    let delivered = tokio::time::timeout(GUARD, async {
        loop {
            gateway
                .publish("egov.sys.labor.inbox", "delivery".into())
                .await?;
            gateway.flush().await?;
            if let Ok(next) = tokio::time::timeout(Duration::from_millis(200), inbox.next()).await {
                return Ok::<_, Box<dyn std::error::Error>>(next);
            }
        }
    })
    .await??
    .ok_or("inbox closed")?;
    assert_eq!(delivered.payload.as_ref(), b"delivery");

    // A request the system answers.
    let answering = tokio::spawn(async move {
        if let Some(request) = requests.next().await
            && let Some(reply) = request.reply
        {
            let _ = labor.publish(reply, "answer".into()).await;
            let _ = labor.flush().await;
        }
    });
    let answer = tokio::time::timeout(
        GUARD,
        gateway.request("egov.sys.labor.request", "question".into()),
    )
    .await??;
    assert_eq!(answer.payload.as_ref(), b"answer");
    answering.await?;
    Ok(())
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_servers_ca_is_refused_with_a_tls_error() -> TestResult {
    let (server, users) = tls_server()?;
    // TLS required, but verified against the system's roots, which never signed this server.
    let untrusted = format!("tls://127.0.0.1:{}", server.port());
    let error = nats_accounts::connect(
        &user(&users, "labor").url(&untrusted),
        async_nats::ConnectOptions::new(),
    )
    .await
    .expect_err("the server's certificate is not trusted");
    assert_eq!(error.kind(), async_nats::ConnectErrorKind::Tls, "{error}");
    assert!(error.to_string().contains("TLS"), "{error}");

    // Another CA named in the URL is no better.
    let other = tempfile::tempdir()?;
    let other_ca = egov_bus::nats_tls::LocalTls::create(other.path())?.ca;
    let wrong_ca = egov_bus::nats_tls::tls_url(&server.url(), &other_ca, None);
    let error = nats_accounts::connect(
        &user(&users, "labor").url(&wrong_ca),
        async_nats::ConnectOptions::new(),
    )
    .await
    .expect_err("signed by another CA");
    assert_eq!(error.kind(), async_nats::ConnectErrorKind::Tls, "{error}");
    Ok(())
}

#[tokio::test]
async fn a_plain_client_gets_no_service_from_a_tls_only_server() -> TestResult {
    let (server, users) = tls_server()?;
    // A plain NATS client speaks the protocol in clear text after the server's INFO.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port()))?;
    stream.set_read_timeout(Some(GUARD))?;
    let mut info = [0_u8; 4096];
    let read = stream.read(&mut info)?;
    let info = String::from_utf8_lossy(&info[..read]).into_owned();
    assert!(info.starts_with("INFO "), "{info}");
    assert!(info.contains("\"tls_required\":true"), "{info}");
    let labor = user(&users, "labor");
    let connect = format!(
        "CONNECT {{\"user\":{:?},\"pass\":{:?},\"verbose\":false}}\r\nPING\r\n",
        labor.name, labor.password
    );
    // The server may already have closed the connection: a failed write is a refusal too.
    let _ = stream.write_all(connect.as_bytes());
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        !rest.contains("PONG"),
        "a plain client was served: {rest:?}"
    );
    Ok(())
}
