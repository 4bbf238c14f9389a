//! The registry on the gateway's async channel: started with `serve_with_inbox` as `run`
//! starts it, registered push-mode, it answers a look-up sent with `SendAsyncMessage` and the
//! State Corporation fetches the signed answer from its queue.

use std::time::Duration;

use egov_bus::service::Listeners;
use egov_core::systems;
use egov_notary::fixtures::VALID_NUMBER;
use egov_notary::{GET_SERVICE_ID, Store};
use egov_proto::v1::{
    GetPowerOfAttorneyRequest, Header, MessageType, PowerOfAttorneyResponse,
    PowerOfAttorneyValidity,
};
use egov_system::InboxSettings;
use egov_system::caller::decode_answer;
use egov_system::inbox::reply_service_id;
use egov_testkit::sandbox::AsyncSettings;
use egov_testkit::{NatsServer, Sandbox};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[tokio::test]
async fn async_look_up_is_answered_through_the_async_channel() {
    let nats = NatsServer::start().expect("nats-server");
    let settings = AsyncSettings {
        push_timeout: Duration::from_millis(500),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        registry_poll: Duration::from_millis(50),
        ..AsyncSettings::default()
    };
    let sandbox = Sandbox::start_with_nats(&nats.url(), settings).await;
    let identity = sandbox.system(systems::NOTARY.id, systems::NOTARY.bin);
    sandbox.deliver_by_push(systems::NOTARY.id);
    let con = sandbox.caller(
        systems::STATE_CORPORATION.id,
        systems::STATE_CORPORATION.bin,
    );
    let store = Store::open(&format!(
        "sqlite://{}?mode=rwc",
        sandbox.dir().join("notary.db").display()
    ))
    .await
    .expect("open store");
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
    let grpc_addr = grpc.local_addr().expect("gRPC address");
    sandbox.route(
        GET_SERVICE_ID,
        systems::NOTARY.id,
        grpc_addr,
        &[systems::STATE_CORPORATION.id],
    );
    sandbox.route(
        &reply_service_id(systems::STATE_CORPORATION.id),
        systems::STATE_CORPORATION.id,
        grpc_addr,
        &[systems::NOTARY.id],
    );
    let inbox = InboxSettings::new(&sandbox.gateway_endpoint(), &nats.url(), false);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(egov_system::runtime::serve::<egov_notary::Notary, _>(
        egov_notary::Config::default(),
        egov_system::Parts {
            identity,
            verifier: sandbox.verifier(),
            store,
            clock: sandbox.clock(),
        },
        Listeners { grpc, http },
        Some(inbox),
        async {
            let _ = stopped.await;
        },
    ));

    let header = con.header::<GetPowerOfAttorneyRequest>(GET_SERVICE_ID, systems::NOTARY.id);
    let request = GetPowerOfAttorneyRequest {
        number: VALID_NUMBER.into(),
        service_id: "B".into(),
    };
    let envelope = con
        .identity()
        .signer
        .seal_message(&header, &request)
        .expect("seal");
    let request_id = con.send_async(envelope).await.expect("stored");

    let mut answer = None;
    for _ in 0..500 {
        if let Some(found) = con.fetch(0).await.expect("fetch").pop() {
            answer = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = answer.expect("an answer reached the State Corporation");
    let answer_header = Header::decode(&answer.header[..]).expect("header");
    assert_eq!(answer_header.message_type, MessageType::Response as i32);
    assert_eq!(answer_header.in_reply_to, request_id);
    assert_eq!(answer_header.correlation_id, request_id);
    assert_eq!(answer_header.sender_system_id, systems::NOTARY.id);
    let found: PowerOfAttorneyResponse = decode_answer(&answer).expect("look-up answer");
    assert_eq!(found.validity(), PowerOfAttorneyValidity::Valid);
    con.acknowledge(vec![answer_header.message_id])
        .await
        .expect("acknowledge");

    let _ = stop.send(());
    task.await.expect("join").expect("registry stops cleanly");
}
