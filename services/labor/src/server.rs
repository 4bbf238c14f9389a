//! Starting the Labour Market AIS («Еңбек нарығы» ААЖ): enroll with the certification
//! centre, open the store, record the fixture employment on the first start, then serve gRPC
//! and HTTP on listeners bound by the caller, and the gateway's async channel
//! through the system's inbox, until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

pub use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::RevocationSource;
use egov_core::systems;
use egov_system::intake::{ApplicationHandler, Intake, KeepingReceiver};
use egov_system::{Enrolment, GatewayCaller, Inbox, InboxSettings, Receiver, SystemIdentity};
use tokio::net::TcpListener;

use crate::LaborError;
use crate::certificate::{DECIDED_SERVICE_ID, PROFILE, UnemployedCertificate};
use crate::config::Config;
use crate::store::Store;

/// What an enrolled system serves with.
pub type Parts<R> = egov_system::Parts<R, Store>;

/// Runs the system on the real clock until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaborError> {
    run_with_clock(config, SystemClock::shared(), grpc, http, shutdown).await
}

/// Runs the system on `clock` (e.g. the stack's virtual clock) until `shutdown` resolves:
/// enrolls as [`systems::LABOR`] with the centre at `config.pki_endpoint`, and checks every
/// sender's certificate against that centre's revocation status.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaborError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| LaborError::Io {
        action: format!("create data dir {}", config.data_dir.display()),
        source,
    })?;
    // The store first: a bad database fails the start at once, not after enrolment.
    let store = Store::open(&config.database_url()).await?;
    let enrolment = Enrolment::of(&systems::LABOR, &config.responsible_iin)
        .map_err(|error| LaborError::Config(error.to_string()))?;
    let identity = Arc::new(SystemIdentity::enroll(&config.pki_endpoint, &enrolment).await?);
    let verifier = identity.remote_verifier(&config.pki_endpoint, config.revocation_freshness())?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        pki = %config.pki_endpoint,
        gateway = %config.gateway_endpoint,
        "labour market AIS enrolled"
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

/// Serves an enrolled system until `shutdown` resolves: records the fixture employment on the
/// first start, answers the gateway (`MessageReceiver`: [`crate::SERVICE_IDS`]) and the HTTP
/// routes, and calls the citizens-DB, the notary registry and the back office through
/// `config.gateway_endpoint`. Generic over the verifier's revocation source, so tests pass a
/// sandbox's verifier and production the centre's.
/// The async channel stays off; see [`serve_with_inbox`].
pub async fn serve<R: RevocationSource + 'static>(
    config: Config,
    parts: Parts<R>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaborError> {
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
) -> Result<(), LaborError> {
    let Parts {
        identity,
        verifier,
        store,
        clock,
    } = parts;
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| LaborError::Config(format!("telemetry: {error}")))?;
    if crate::fixtures::load(&store, clock.as_ref()).await? {
        tracing::info!(
            set = crate::fixtures::FIXTURE_SET,
            "fixture employment recorded"
        );
    }
    let caller = GatewayCaller::new(identity.clone(), &config.gateway_endpoint, clock.clone())?;
    let intake = Arc::new(Intake::new(PROFILE, store.clone(), caller, clock.clone()));
    let handler = ApplicationHandler::new(intake, UnemployedCertificate::new(store.clone()));
    tracing::info!(
        system = %identity.system_id,
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        "labour market AIS starting"
    );

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let receiver = KeepingReceiver::new(
        Receiver::new(identity.clone(), verifier, Arc::new(handler), clock.clone()),
        vec![DECIDED_SERVICE_ID.to_owned()],
    );
    let inbox = Inbox::launch(receiver.clone(), identity, clock.clone(), inbox.as_ref()).await;
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .add_service(crate::grpc::LaborService::new(receiver.clone()).into_server())
        .add_service(receiver.into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        routes,
        listeners.http,
        crate::http::router(store.clone(), clock, metrics),
        &stop,
    )
    .await;
    // Before the store closes: the inbox's handlers use it.
    inbox.stop().await;
    store.close().await;
    served?;
    tracing::info!("labour market AIS stopped");
    Ok(())
}
