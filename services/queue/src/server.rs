//! Starting the kindergarten queue register: enroll with the certification centre, open the
//! store, load the fixture kindergartens on the first start, then serve gRPC and HTTP on
//! listeners bound by the caller, and the gateway's async channel
//! through the system's inbox, until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

pub use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::RevocationSource;
use egov_core::systems;
use egov_system::intake::{Intake, KeepingReceiver};
use egov_system::{Enrolment, GatewayCaller, Inbox, InboxSettings, Receiver, SystemIdentity};
use tokio::net::TcpListener;

use crate::QueueError;
use crate::cabinet::CabinetNotices;
use crate::config::Config;
use crate::placement::{DECIDED_SERVICE_ID, PROFILE, QueueHandler};
use crate::store::Store;

/// What an enrolled system serves with.
pub type Parts<R> = egov_system::Parts<R, Store>;

/// Runs the system on the real clock until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueueError> {
    run_with_clock(config, SystemClock::shared(), grpc, http, shutdown).await
}

/// Runs the system on `clock` (e.g. the stack's virtual clock) until `shutdown` resolves:
/// enrolls as [`systems::QUEUE`] with the centre at `config.pki_endpoint`, and checks every
/// sender's certificate against that centre's revocation status.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueueError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| QueueError::Io {
        action: format!("create data dir {}", config.data_dir.display()),
        source,
    })?;
    // The store first: a bad database fails the start at once, not after enrolment.
    let store = Store::open(&config.database_url()).await?;
    let enrolment = Enrolment::of(&systems::QUEUE, &config.responsible_iin)
        .map_err(|error| QueueError::Config(error.to_string()))?;
    let identity = Arc::new(SystemIdentity::enroll(&config.pki_endpoint, &enrolment).await?);
    let verifier = identity.remote_verifier(&config.pki_endpoint, config.revocation_freshness())?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        pki = %config.pki_endpoint,
        gateway = %config.gateway_endpoint,
        "queue register enrolled"
    );
    let parts = Parts {
        identity,
        verifier,
        store,
        clock,
    };
    let inbox = InboxSettings::new(
        &config.gateway_endpoint,
        &config.nats_url,
        config.async_pull,
    );
    serve_with_inbox(
        config,
        parts,
        Listeners { grpc, http },
        Some(inbox),
        shutdown,
    )
    .await
}

/// Serves an enrolled register until `shutdown` resolves: loads the fixture kindergartens on
/// the first start, answers the gateway (`MessageReceiver`: [`crate::SERVICE_IDS`]) and the HTTP
/// routes, and calls the citizens-DB, the notary registry and the back office through
/// `config.gateway_endpoint`. Generic over the verifier's revocation source, so tests pass a
/// sandbox's verifier and production the centre's.
/// The async channel stays off; see [`serve_with_inbox`].
pub async fn serve<R: RevocationSource + 'static>(
    config: Config,
    parts: Parts<R>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueueError> {
    serve_with_inbox(config, parts, listeners, None, shutdown).await
}

/// Serves like [`serve`], and also the gateway's async channel as `inbox` says (push on
/// NATS, pull from the gateway); `None`, or NATS unreachable, leaves the sync path alone.
pub async fn serve_with_inbox<R: RevocationSource + 'static>(
    config: Config,
    parts: Parts<R>,
    listeners: Listeners,
    inbox: Option<InboxSettings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueueError> {
    let Parts {
        identity,
        verifier,
        store,
        clock,
    } = parts;
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| QueueError::Config(format!("telemetry: {error}")))?;
    if crate::fixtures::load(&store, clock.as_ref()).await? {
        tracing::info!(
            set = crate::fixtures::FIXTURE_SET,
            "fixture kindergartens loaded"
        );
    }
    let caller = GatewayCaller::new(identity.clone(), &config.gateway_endpoint, clock.clone())?;
    let notices = CabinetNotices::new(store.clone(), caller.clone(), clock.clone());
    let intake = Arc::new(Intake::new(PROFILE, store.clone(), caller, clock.clone()));
    let handler = QueueHandler::new(intake, notices.clone());
    tracing::info!(
        system = %identity.system_id,
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        "queue register starting"
    );

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let notices_task = notices.clone().spawn(stop.receiver());
    let receiver = KeepingReceiver::new(
        Receiver::new(identity.clone(), verifier, Arc::new(handler), clock.clone()),
        vec![DECIDED_SERVICE_ID.to_owned()],
    );
    let inbox = Inbox::launch(receiver.clone(), identity, clock.clone(), inbox.as_ref()).await;
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .add_service(crate::grpc::QueueRegisterService::new(receiver.clone()).into_server())
        .add_service(receiver.into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        routes,
        listeners.http,
        crate::http::router(store.clone(), clock, notices, metrics),
        &stop,
    )
    .await;
    // Before the store closes: the inbox's handlers use it.
    inbox.stop().await;
    if let Err(error) = notices_task.await {
        tracing::warn!(%error, "the cabinet referral task failed");
    }
    store.close().await;
    served?;
    tracing::info!("queue register stopped");
    Ok(())
}
