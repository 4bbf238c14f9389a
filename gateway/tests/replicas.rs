//! Two gateway replicas behind one address: each a real gateway with its own listeners, both
//! on ONE PostgreSQL message log and ONE NATS server with JetStream, as a scaled-out
//! deployment runs them. They share replay protection and the message log (PostgreSQL), the
//! async channel's messages and states (JetStream), never process memory.
//!
//! The one address is a TCP round-robin forwarder in front of the two, as a layer-4 load
//! balancer would be: each new connection goes to the next replica. A gRPC channel keeps its
//! connection, so the client opens a new one per call: the n-th call then lands on replica
//! n mod 2, which makes "through one replica, then the other" a fact of the test rather than
//! of chance, while every call still goes to the one address.

#[allow(dead_code)] // shared with the other test binaries, which use the rest of it
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::clock::SystemClock;
use egov_core::envelope::StaticRevocation;
use egov_gateway::console::CONSOLE_PATH;
use egov_gateway::console::signin::{CONSOLE_APP, OPERATOR_ROLE};
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{AsyncSettings, Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{
    AcknowledgeMessagesRequest, DeliveryState, Envelope, FetchMessagesRequest,
    GetMessageStatusRequest, SendAsyncMessageRequest,
};
use egov_system::caller::{
    ACKNOWLEDGE_PROOF_SERVICE_ID, FETCH_PROOF_SERVICE_ID, STATUS_PROOF_SERVICE_ID, caller_proof,
    proven,
};
use egov_testkit::{NatsServer, PostgresServer, poll};
use prost::Message;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::Channel;

use common::{PERSON_GET, Pki, TO_CITIZENS, code_of, header_of, signer};

/// The console operator both replicas know: login and password.
const DUTY: (&str, &str) = ("duty", "duty-operator-password");

/// The longest any wait polls for.
const WAIT: Duration = Duration::from_secs(10);
const STEP: Duration = Duration::from_millis(20);

/// One replica: its HTTP address (the log) and the switch that stops it.
struct Replica {
    http: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: tokio::task::JoinHandle<()>,
}

/// Two replicas on one log and one NATS, behind one address.
struct Replicas {
    pki: Pki,
    address: SocketAddr,
    nats_url: String,
    replicas: Vec<Replica>,
    /// The registry file both replicas read.
    registry: std::path::PathBuf,
    _dir: TempDir,
    // Last, so the replicas' connections see them go only at the very end.
    _postgres: PostgresServer,
    _nats: NatsServer,
}

impl Replicas {
    async fn start() -> Replicas {
        let nats = NatsServer::start().expect("nats-server");
        let postgres = PostgresServer::start().expect("postgres");
        let log_url = postgres.create_database("message_log").expect("database");
        let console_url = postgres.create_database("console").expect("database");
        let pki = Pki::new();
        let echo = common::start_target(&pki).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = common::write_registry(dir.path(), echo);
        let mut replicas = Vec::new();
        for _ in 0..2 {
            let shared = Shared {
                registry: &registry,
                log_url: &log_url,
                console_url: &console_url,
                nats_url: &nats.url(),
            };
            replicas.push(start_replica(&pki, shared).await);
        }
        let address = round_robin(replicas.iter().map(|r| r.grpc).collect()).await;
        Replicas {
            pki,
            address,
            nats_url: nats.url(),
            replicas: replicas.into_iter().map(|r| r.replica).collect(),
            registry,
            _dir: dir,
            _postgres: postgres,
            _nats: nats,
        }
    }

    /// A client on a connection of its own to the one address: the next replica in turn.
    async fn next_replica(&self) -> GatewayClient<Channel> {
        self.try_next_replica()
            .await
            .expect("connected to the one address")
    }

    /// Like [`Replicas::next_replica`], `None` when the replica in turn is stopped.
    async fn try_next_replica(&self) -> Option<GatewayClient<Channel>> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.address))
            .expect("endpoint")
            .connect()
            .await
            .ok()?;
        Some(GatewayClient::new(channel))
    }

    /// Polls until no delivery of the citizens-DB waits for a JetStream ack.
    async fn wait_until_nothing_awaits_an_ack(&self) {
        let nats = async_nats::connect(self.nats_url.as_str())
            .await
            .expect("nats");
        let jetstream = async_nats::jetstream::new(nats);
        poll::until("no delivery to await its JetStream ack", WAIT, async || {
            let mut consumer: async_nats::jetstream::consumer::PullConsumer = jetstream
                .get_consumer_from_stream("deliver-citizens", "EGOV_DELIVER")
                .await
                .expect("the citizens-DB's delivery consumer");
            match consumer
                .info()
                .await
                .expect("consumer info")
                .num_ack_pending
            {
                0 => Ok(()),
                pending => Err(format!("{pending} awaiting their ack")),
            }
        })
        .await
    }

    /// Sends a citizen's request for `service_id` through each replica in turn; returns
    /// each one's status code.
    async fn codes_of_each_replica(&self, service_id: &str) -> Vec<StatusCode> {
        let mut codes = Vec::new();
        for _ in &self.replicas {
            let answer = self
                .next_replica()
                .await
                .send_message(egov_proto::v1::SendMessageRequest {
                    envelope: Some(self.pki.portal_request(service_id, |_| {})),
                })
                .await;
            codes.push(match answer {
                Ok(_) => StatusCode::Success,
                Err(status) => code_of(&status),
            });
        }
        codes
    }

    /// Replaces the first `from` in the registry file both replicas read with `to`.
    fn edit_registry(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(&self.registry).expect("registry");
        assert!(text.contains(from), "the registry file holds {from:?}");
        std::fs::write(&self.registry, text.replacen(from, to, 1)).expect("registry written");
    }

    /// Asks replica `index` to reload the registry, as an administrator.
    async fn reload_at(&self, index: usize) -> (u16, serde_json::Value) {
        let (status, body) = egov_testkit::service::operator_request(
            self.replicas[index].http,
            "localhost",
            "POST",
            "/admin/registry/reload",
            "",
        )
        .await;
        let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
        (status, body)
    }

    /// Stops replica `index` and waits until it has served its last call.
    async fn stop(&mut self, index: usize) {
        let replica = &mut self.replicas[index];
        if let Some(stop) = replica.stop.take() {
            let _ = stop.send(());
        }
        (&mut replica.stopped).await.expect("replica stopped");
    }

    /// A citizen's sync request on the portal, countersigned by the portal.
    fn sync_request(&self) -> Envelope {
        self.pki.portal_request(PERSON_GET, |_| {})
    }

    /// An async message from the portal to the citizens-DB.
    fn async_message(&self, body: &[u8]) -> Envelope {
        let header = egov_core::envelope::request_header(
            TO_CITIZENS,
            "portal",
            "citizens",
            OffsetDateTime::now_utc(),
        );
        signer(&self.pki.portal)
            .seal(&header, body.to_vec())
            .expect("seal")
    }

    /// Sends an async message through the next replica; returns its id, or `None` when
    /// the replica in turn is stopped or refused it.
    async fn send_async(&self, envelope: Envelope) -> Option<String> {
        self.try_next_replica()
            .await?
            .send_async_message(SendAsyncMessageRequest {
                envelope: Some(envelope),
            })
            .await
            .ok()
            .map(|answer| answer.into_inner().message_id)
    }

    /// Fetches the citizens-DB's waiting messages through the next replica.
    async fn fetch_as_citizens(&self) -> Vec<Envelope> {
        let proof = caller_proof(
            &signer(&self.pki.citizens),
            "citizens",
            FETCH_PROOF_SERVICE_ID,
            Vec::new(),
            OffsetDateTime::now_utc(),
        )
        .expect("proof");
        self.next_replica()
            .await
            .fetch_messages(FetchMessagesRequest {
                system_id: "citizens".into(),
                max_messages: 0,
                proof: Some(proof),
            })
            .await
            .expect("fetched")
            .into_inner()
            .envelopes
    }

    /// Acknowledges messages as the citizens-DB through the next replica.
    async fn acknowledge_as_citizens(&self, message_ids: Vec<String>) -> Result<(), StatusCode> {
        let request = AcknowledgeMessagesRequest {
            system_id: "citizens".into(),
            message_ids,
        };
        let proof = caller_proof(
            &signer(&self.pki.citizens),
            "citizens",
            ACKNOWLEDGE_PROOF_SERVICE_ID,
            request.encode_to_vec(),
            OffsetDateTime::now_utc(),
        )
        .expect("proof");
        self.next_replica()
            .await
            .acknowledge_messages(proven(request, &proof))
            .await
            .map(|_| ())
            .map_err(|status| code_of(&status))
    }

    /// Asks a message's state as its sender, the portal, through the next replica.
    async fn state(&self, message_id: &str) -> DeliveryState {
        let request = GetMessageStatusRequest {
            message_id: message_id.to_owned(),
        };
        let proof = caller_proof(
            &signer(&self.pki.portal),
            "portal",
            STATUS_PROOF_SERVICE_ID,
            request.encode_to_vec(),
            OffsetDateTime::now_utc(),
        )
        .expect("proof");
        self.next_replica()
            .await
            .get_message_status(proven(request, &proof))
            .await
            .expect("known message")
            .into_inner()
            .state()
    }

    /// Reads one correlation's hops from replica `index`'s log route, polling until `hops`
    /// are there: each replica writes its log behind its hot path.
    async fn exchange_from(&self, index: usize, correlation_id: &str, hops: usize) -> String {
        let path = format!("/correlations/{correlation_id}");
        poll::log_lists(self.replicas[index].http, &path, hops, WAIT).await
    }
}

/// A replica just started: its gRPC address beside the rest.
struct Started {
    grpc: SocketAddr,
    replica: Replica,
}

/// What the replicas share: the registry file's contents (one copy here), the message log's
/// and the console's databases, NATS.
#[derive(Clone, Copy)]
struct Shared<'a> {
    registry: &'a std::path::Path,
    log_url: &'a str,
    console_url: &'a str,
    nats_url: &'a str,
}

/// Starts one gateway replica on the shared log, console database and NATS, with listeners
/// of its own.
async fn start_replica(pki: &Pki, shared: Shared<'_>) -> Started {
    let Shared {
        registry,
        log_url,
        console_url,
        nats_url,
    } = shared;
    let console = egov_gateway::console::signin::open_with(
        console_url,
        egov_signin::Settings::new(CONSOLE_APP, "Gateway operator console"),
        SystemClock::shared(),
    )
    .await
    .expect("console sign-in");
    if !console.has_account(DUTY.0).await.expect("accounts") {
        console
            .add_account(DUTY.0, "Duty operator", &[OPERATOR_ROLE.to_owned()], DUTY.1)
            .await
            .expect("account");
    }
    let gateway = Gateway::new(GatewayParts {
        system_id: "shep".into(),
        registry: Arc::new(RegistryHandle::open(registry.to_owned()).expect("registry")),
        verifier: pki.verifier(Arc::new(StaticRevocation::new())),
        replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
        log: MessageLog::connect(log_url).await.expect("message log"),
        clock: SystemClock::shared(),
        max_message_bytes: common::MAX_MESSAGE_BYTES,
        nats: Some(async_nats::connect(nats_url).await.expect("nats")),
    })
    .with_operators(egov_testkit::service::operators());
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_addr = grpc.local_addr().expect("addr");
    let http_addr = http.local_addr().expect("addr");
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(egov_gateway::serve_with_console(
        Arc::new(gateway),
        AsyncSettings::default(),
        Some(console),
        Listeners { grpc, http },
        async move {
            let _ = stopping.await;
        },
    ));
    let stopped = tokio::spawn(async move {
        serving
            .await
            .expect("replica task")
            .expect("replica served");
    });
    Started {
        grpc: grpc_addr,
        replica: Replica {
            http: http_addr,
            stop: Some(stop),
            stopped,
        },
    }
}

/// Listens on one address and hands each new connection to the next backend in turn.
async fn round_robin(backends: Vec<SocketAddr>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    let next = AtomicUsize::new(0);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let backend = backends[next.fetch_add(1, Ordering::SeqCst) % backends.len()];
            tokio::spawn(async move {
                // A stopped replica refuses the connection; the client sees it closed.
                if let Ok(mut server) = TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn a_message_replayed_to_the_other_replica_is_refused_emsg003() {
    let stack = Replicas::start().await;
    let request = stack.sync_request();

    let first = stack
        .next_replica()
        .await
        .send_message(egov_proto::v1::SendMessageRequest {
            envelope: Some(request.clone()),
        })
        .await;
    assert!(first.is_ok(), "replica 0 answers: {first:?}");
    let replayed = stack
        .next_replica()
        .await
        .send_message(egov_proto::v1::SendMessageRequest {
            envelope: Some(request),
        })
        .await
        .expect_err("replica 1 refuses the replay");
    assert_eq!(code_of(&replayed), StatusCode::DuplicateMessageId);
}

#[tokio::test]
async fn both_replicas_log_into_one_message_log_and_either_returns_the_whole_exchange() {
    let stack = Replicas::start().await;
    let first = stack.sync_request();
    let correlation_id = header_of(&first).correlation_id;
    // A second request of the same exchange, through the other replica.
    let second = stack.pki.portal_request(PERSON_GET, |header| {
        header.correlation_id = correlation_id.clone()
    });
    for request in [first, second] {
        stack
            .next_replica()
            .await
            .send_message(egov_proto::v1::SendMessageRequest {
                envelope: Some(request),
            })
            .await
            .expect("answered");
    }

    // Two sync round trips, four hops each, written by two replicas into one log.
    let from_first = stack.exchange_from(0, &correlation_id, 8).await;
    let from_second = stack.exchange_from(1, &correlation_id, 8).await;
    assert_eq!(
        from_first, from_second,
        "either replica returns the whole exchange"
    );
}

#[tokio::test]
async fn an_async_message_sent_through_one_replica_is_acknowledged_through_the_other() {
    let stack = Replicas::start().await;
    // Through replica 0.
    let message_id = stack
        .send_async(stack.async_message(b"notice"))
        .await
        .expect("accepted");
    // Fetched through replica 1, which holds the delivery until the acknowledgement.
    let fetched = stack.fetch_as_citizens().await;
    let [received] = fetched.as_slice() else {
        panic!("one message expected, got {}", fetched.len());
    };
    assert_eq!(header_of(received).message_id, message_id);
    // Acknowledged through replica 0.
    stack
        .acknowledge_as_citizens(vec![message_id.clone()])
        .await
        .expect("acknowledged through the other replica");
    assert_eq!(stack.state(&message_id).await, DeliveryState::Delivered);
    // Settled in JetStream too: the delivery replica 1 holds got its ack.
    stack.wait_until_nothing_awaits_an_ack().await;
}

#[tokio::test]
async fn one_replica_stopping_mid_burst_loses_no_accepted_async_message() {
    let mut stack = Replicas::start().await;
    let mut accepted = Vec::new();
    for n in 0..20 {
        if n == 10 {
            // Replica 0 goes away mid-burst; its half of the later sends find it closed.
            stack.stop(0).await;
        }
        if let Some(message_id) = stack
            .send_async(stack.async_message(format!("burst {n}").as_bytes()))
            .await
        {
            accepted.push(message_id);
        }
    }
    // Ten before the stop, then replica 1's half of the ten after it.
    assert_eq!(accepted.len(), 15, "{accepted:?}");

    let mut fetched = Vec::new();
    for _ in 0..WAIT.as_millis() / STEP.as_millis() {
        if fetched.len() >= accepted.len() {
            break;
        }
        // Every other connection lands on the stopped replica and fails; retry.
        let proof = caller_proof(
            &signer(&stack.pki.citizens),
            "citizens",
            FETCH_PROOF_SERVICE_ID,
            Vec::new(),
            OffsetDateTime::now_utc(),
        )
        .expect("proof");
        let Some(mut client) = stack.try_next_replica().await else {
            continue;
        };
        let Ok(answer) = client
            .fetch_messages(FetchMessagesRequest {
                system_id: "citizens".into(),
                max_messages: 0,
                proof: Some(proof),
            })
            .await
        else {
            continue;
        };
        fetched.extend(
            answer
                .into_inner()
                .envelopes
                .iter()
                .map(|envelope| header_of(envelope).message_id),
        );
    }
    fetched.sort();
    accepted.sort();
    assert_eq!(fetched, accepted, "every accepted message, each once");
}

/// The citizen look-up's route renamed in the registry file, for the reload tests.
const RENAMED: &str = "citizens.person.get.renamed";

#[tokio::test]
async fn a_registry_reload_asked_of_one_replica_reloads_every_replica() {
    let stack = Replicas::start().await;
    stack.edit_registry(
        &format!("[services.\"{PERSON_GET}\"]"),
        &format!("[services.\"{RENAMED}\"]"),
    );
    // Neither replica has read the new file yet.
    assert_eq!(
        stack.codes_of_each_replica(RENAMED).await,
        [StatusCode::UnknownService, StatusCode::UnknownService]
    );

    let (status, body) = stack.reload_at(0).await;

    assert_eq!(status, 200, "{body}");
    let replicas = body["replicas"].as_array().expect("each replica's answer");
    assert_eq!(replicas.len(), 2, "both replicas reloaded: {body}");
    assert!(
        replicas
            .iter()
            .all(|replica| replica["error"].is_null() && replica["services"] == body["services"]),
        "{body}"
    );
    assert_ne!(replicas[0]["replica"], replicas[1]["replica"], "{body}");
    assert_eq!(
        stack.codes_of_each_replica(RENAMED).await,
        [StatusCode::Success, StatusCode::Success]
    );
    assert_eq!(
        stack.codes_of_each_replica(PERSON_GET).await,
        [StatusCode::UnknownService, StatusCode::UnknownService]
    );
}

#[tokio::test]
async fn a_registry_file_the_replica_asked_refuses_changes_no_replica() {
    let stack = Replicas::start().await;
    stack.edit_registry(
        &format!("[services.\"{PERSON_GET}\"]\ntarget"),
        &format!("[services.\"{RENAMED}\"]\ntarrget"),
    );

    let (status, body) = stack.reload_at(1).await;

    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("tarrget"), "{body}");
    assert_eq!(
        stack.codes_of_each_replica(PERSON_GET).await,
        [StatusCode::Success, StatusCode::Success],
        "the old table stays in force on both"
    );
}

#[tokio::test]
async fn an_operator_signed_in_at_one_replica_reads_the_console_at_the_other() {
    let stack = Replicas::start().await;
    let at = |index: usize| egov_http::HttpClient::new(&stack.replicas[index].http.to_string());
    let form = format!("login={}&password={}", DUTY.0, DUTY.1);
    let signed_in = at(0)
        .send(
            "POST",
            "/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            &form,
        )
        .await
        .expect("replica 0 answers");
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let cookie = signed_in
        .header("set-cookie")
        .find_map(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();

    let console = at(1)
        .send("GET", CONSOLE_PATH, &[("cookie", &cookie)], "")
        .await
        .expect("replica 1 answers");
    let stranger = at(1)
        .send("GET", CONSOLE_PATH, &[], "")
        .await
        .expect("replica 1 answers");

    assert_eq!(console.status, 200, "{}", console.body);
    assert_ne!(stranger.status, 200, "no session, no console");
}
