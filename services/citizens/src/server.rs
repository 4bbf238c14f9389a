//! Starting the citizens-DB: prepare the database, enroll with the certification centre,
//! then serve `MessageReceiver` (for the gateway), `egov.v1.Citizens` (direct), health and
//! reflection on gRPC, `/health`, `/metrics` on HTTP, and the gateway's async channel
//! through the system's inbox, until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{RevocationSource, Verifier};
use egov_core::{Bin, Iin, systems};
use egov_system::{Enrolment, Inbox, InboxSettings, Receiver, SystemIdentity};
use tokio::net::TcpListener;

use crate::config::{Config, SERVICE};
use crate::grpc::CitizensService;
use crate::handler::CitizensHandler;
use crate::registry::Registry;
use crate::store::Store;
use crate::{CitizensError, fixtures, load};

/// The organisation named in the citizens-DB's seal certificate (O).
pub const ORGANIZATION: &str = "Ministry of Digital Development (ЖТ МДБ / ГБД ФЛ operator)";

/// Runs the citizens-DB on the real clock until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    run_with_clock(config, SystemClock::shared(), grpc, http, shutdown).await
}

/// Runs the citizens-DB on `clock` (e.g. the stack's virtual clock) until `shutdown` resolves:
/// prepares the database (generating the population on first start), enrolls with the
/// certification centre as [`systems::CITIZENS`], and serves.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    // The database first: generating a large population takes a while, and the
    // certification centre may be starting at the same time.
    let prepared = load::prepare(&config, false).await?;
    let store = Store::open(&config.database_url()).await?;
    let enrolment = Enrolment {
        system_id: systems::CITIZENS.id.to_owned(),
        bin: Bin::parse(systems::CITIZENS.bin)
            .map_err(|error| CitizensError::Config(format!("system BIN: {error}")))?,
        organization: ORGANIZATION.to_owned(),
        responsible_iin: Iin::parse(fixtures::CITIZENS_SEAL_HOLDER)
            .map_err(|error| CitizensError::Config(format!("seal holder IIN: {error}")))?,
        token: egov_system::identity::read_token(
            config.enrolment_token.as_deref(),
            config.enrolment_token_file.as_deref(),
        )?,
        key_dir: Some(config.data_dir.clone()),
    };
    let identity = Arc::new(SystemIdentity::enroll(&config.pki_endpoint, &enrolment).await?);
    let verifier = identity.remote_verifier(
        &config.pki_endpoint,
        Duration::from_secs(config.revocation_freshness_secs),
    )?;
    tracing::info!(
        grpc = ?grpc.local_addr().ok(),
        http = ?http.local_addr().ok(),
        database = %config.database_url(),
        seed = %prepared.seed,
        population = prepared.size,
        "citizens-DB starting"
    );
    let inbox = InboxSettings::new(
        &config.gateway_endpoint,
        &config.nats_url,
        config.async_pull,
    );
    serve_with_inbox(
        identity,
        verifier,
        Arc::new(Registry::new(store)),
        clock,
        Listeners { grpc, http },
        Some(inbox),
        shutdown,
    )
    .await
}

/// Serves a prepared registry under an identity until `shutdown` resolves; generic over
/// the verifier's revocation source, so tests pass a sandbox's. The async channel stays
/// off; see [`serve_with_inbox`].
pub async fn serve<R: RevocationSource + 'static>(
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    serve_with_inbox(
        identity, verifier, registry, clock, listeners, None, shutdown,
    )
    .await
}

/// Serves like [`serve`], and also the gateway's async channel as `inbox` says (push on
/// NATS, pull from the gateway); `None`, or NATS unreachable, leaves the sync path alone.
pub async fn serve_with_inbox<R: RevocationSource + 'static>(
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    inbox: Option<InboxSettings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| CitizensError::Config(format!("telemetry: {error}")))?;
    let handler = Arc::new(CitizensHandler::new(registry.clone()));
    let receiver = Receiver::new(identity.clone(), verifier, handler, clock.clone());
    let inbox = Inbox::launch(receiver.clone(), identity, clock, inbox.as_ref()).await;

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let routes = egov_bus::grpc::GrpcRoutes::new()
        .add_service(receiver.into_server())
        .add_service(CitizensService::new(registry.clone()).into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        routes,
        listeners.http,
        egov_bus::http::ops_router(SERVICE, metrics),
        &stop,
    )
    .await;
    // Before the store closes: the inbox's handlers use it.
    inbox.stop().await;
    registry.store().close().await;
    served?;
    tracing::info!("citizens-DB stopped");
    Ok(())
}
