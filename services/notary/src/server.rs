//! Starting the registry (БНАЖ / ЕНИС): enroll with the certification centre, open the
//! store, load the fixtures on the first start, then serve gRPC and HTTP on listeners
//! bound by the caller, and the gateway's async channel through the system's inbox,
//! until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

pub use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{RevocationSource, Verifier};
use egov_core::systems;
use egov_system::{Enrolment, Inbox, InboxSettings, Receiver, SystemIdentity};
use tokio::net::TcpListener;

use crate::NotaryError;
use crate::config::Config;
use crate::grpc::NotaryService;
use crate::handler::NotaryHandler;
use crate::registry::Registry;
use crate::store::Store;

/// Runs the registry on the real clock until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NotaryError> {
    run_with_clock(config, SystemClock::shared(), grpc, http, shutdown).await
}

/// Runs the registry on `clock` (e.g. the stack's virtual clock) until `shutdown` resolves:
/// enrolls as [`systems::NOTARY`] with the centre at `config.pki_endpoint`, and checks every
/// sender's certificate against that centre's revocation status.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NotaryError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| NotaryError::Io {
        action: format!("create data dir {}", config.data_dir.display()),
        source,
    })?;
    // The store first: a bad database fails the start at once, not after enrolment.
    let store = Store::open(&config.database_url()).await?;
    let enrolment = Enrolment::of(&systems::NOTARY, &config.responsible_iin)
        .map_err(|error| NotaryError::Config(error.to_string()))?;
    let identity = Arc::new(SystemIdentity::enroll(&config.pki_endpoint, &enrolment).await?);
    let verifier = identity.remote_verifier(&config.pki_endpoint, config.revocation_freshness())?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        pki = %config.pki_endpoint,
        "notary registry enrolled"
    );
    let inbox = InboxSettings::new(
        &config.gateway_endpoint,
        &config.nats_url,
        config.async_pull,
    );
    serve_with_inbox(
        identity,
        verifier,
        store,
        clock,
        Listeners { grpc, http },
        Some(inbox),
        shutdown,
    )
    .await
}

/// Serves an enrolled registry until `shutdown` resolves: loads the fixtures on the first
/// start, then answers the gateway (`MessageReceiver`), the direct `Notary` contract and
/// the HTTP routes. Generic over the verifier's revocation source, so tests pass a
/// sandbox's verifier and production the centre's. The async channel stays off; see
/// [`serve_with_inbox`].
pub async fn serve<R: RevocationSource + 'static>(
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    store: Store,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NotaryError> {
    serve_with_inbox(identity, verifier, store, clock, listeners, None, shutdown).await
}

/// Serves like [`serve`], and also the gateway's async channel as `inbox` says (push on
/// NATS, pull from the gateway); `None`, or NATS unreachable, leaves the sync path alone.
pub async fn serve_with_inbox<R: RevocationSource + 'static>(
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    store: Store,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    inbox: Option<InboxSettings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NotaryError> {
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| NotaryError::Config(format!("telemetry: {error}")))?;
    if crate::fixtures::load(&store, clock.as_ref()).await? {
        tracing::info!(
            set = crate::fixtures::FIXTURE_SET,
            "fixture powers of attorney loaded"
        );
    }
    let registry = Registry::new(store.clone(), clock.clone());
    tracing::info!(
        system = %identity.system_id,
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        "notary registry starting"
    );

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let handler = Arc::new(NotaryHandler::new(registry.clone()));
    let receiver = Receiver::new(identity.clone(), verifier, handler, clock.clone());
    let inbox = Inbox::launch(receiver.clone(), identity, clock, inbox.as_ref()).await;
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .add_service(receiver.into_server())
        .add_service(NotaryService::new(registry.clone()).into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        routes,
        listeners.http,
        crate::http::router(registry, metrics),
        &stop,
    )
    .await;
    // Before the store closes: the inbox's handlers use it.
    inbox.stop().await;
    store.close().await;
    served?;
    tracing::info!("notary registry stopped");
    Ok(())
}
