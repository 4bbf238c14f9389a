//! The one runtime every simulated system plugs into: a [`System`] names itself (its
//! registry entry, config, store) and mounts its domain handlers and routes; [`run`] does
//! the rest: enrolment with the certification centre (НУЦ), the store, gRPC and HTTP
//! serving, the async inbox, and a graceful shutdown. [`main`] adds the process edge:
//! config loading and checks, `--dump-config`, telemetry, binding the listeners.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use egov_bus::service::{Listeners, ServiceArgs};
use egov_bus::shutdown::Stop;
use egov_core::clock::Clock;
use egov_core::config::{ConfigError, Validate};
use egov_core::envelope::{RevocationSource, Verifier};
use egov_core::systems::SystemInfo;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use crate::config::{ClockSource, SystemConfig, SystemDefaults};
use crate::{
    CallError, Enrolment, EnvelopeReceiver, GatewayCaller, Handler, Inbox, InboxSettings, Receiver,
    RunningInbox, SystemError, SystemIdentity,
};

/// Returns the clock a system process runs on, as its config's `clock` key says: the wall
/// clock, or the stack's one virtual clock followed from NATS at its `nats_url` as follower
/// `system_id` (its NATS user). The one place a process's clock is chosen; a stack clock that
/// cannot be followed is an error, never a silent fall-back to real time.
pub async fn process_clock<C: Settings>(
    config: &C,
    system_id: &str,
) -> Result<Arc<dyn Clock>, SystemError> {
    let source = config.clock();
    let clock = egov_bus::clock::service_clock(source.mode(), config.nats_url(), system_id)
        .await
        .map_err(SystemError::Clock)?;
    if source == ClockSource::Stack {
        tracing::info!(now = %clock.now(), "following the stack clock");
    }
    Ok(clock.shared())
}

/// The keys the runtime reads from a system's config, whatever else it holds.
pub trait Settings:
    Serialize + DeserializeOwned + Default + Validate + Send + Sync + 'static
{
    /// The service name: the config loader's env prefix (`EGOV_<SERVICE>__`), the log name.
    const SERVICE: &'static str;
    /// The gRPC and HTTP listen addresses.
    fn listen(&self) -> (SocketAddr, SocketAddr);
    /// The directory of the system's state, created on start.
    fn data_dir(&self) -> &Path;
    /// The gRPC endpoint of the certification centre.
    fn pki_endpoint(&self) -> &str;
    /// The IIN of the person responsible for the seal.
    fn responsible_iin(&self) -> &str;
    /// The one-time enrolment token of the seal, from `enrolment_token` or `enrolment_token_file`.
    fn enrolment_token(&self) -> Result<Option<String>, crate::IdentityError>;
    /// How long a revocation answer is trusted.
    fn revocation_freshness(&self) -> Duration;
    /// How the async channel reaches the system (push on NATS, pull from the gateway).
    fn inbox(&self) -> InboxSettings;
    /// Which clock the system runs on (`clock`: real, or the stack's from NATS).
    fn clock(&self) -> ClockSource;
    /// The NATS URL the stack clock is followed at (`nats_url`).
    fn nats_url(&self) -> &str;
}

impl<D: SystemDefaults + Send + Sync + 'static> Settings for SystemConfig<D> {
    const SERVICE: &'static str = D::SERVICE;

    fn listen(&self) -> (SocketAddr, SocketAddr) {
        (self.grpc_listen, self.http_listen)
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn pki_endpoint(&self) -> &str {
        &self.pki_endpoint
    }

    fn responsible_iin(&self) -> &str {
        &self.responsible_iin
    }

    fn enrolment_token(&self) -> Result<Option<String>, crate::IdentityError> {
        crate::identity::read_token(
            self.enrolment_token.as_deref(),
            self.enrolment_token_file.as_deref(),
        )
    }

    fn revocation_freshness(&self) -> Duration {
        SystemConfig::revocation_freshness(self)
    }

    fn inbox(&self) -> InboxSettings {
        InboxSettings::new(&self.gateway_endpoint, &self.nats_url, self.async_pull)
    }

    fn clock(&self) -> ClockSource {
        self.clock
    }

    fn nats_url(&self) -> &str {
        &self.nats_url
    }
}

/// A simulated information system: its name, config and store, and what it serves.
pub trait System: Send + Sync + 'static {
    /// Its entry in the gateway registry (id and BIN of its seal).
    const ENTRY: &'static SystemInfo;
    /// Its name in log lines ("labour market AIS").
    const TITLE: &'static str;
    /// Its configuration.
    type Config: Settings;
    /// Its database; a clone shares the pool.
    type Store: Clone + Send + Sync + 'static;
    /// Its error; every runtime failure converts into it.
    type Error: From<SystemError> + std::error::Error + Send + Sync + 'static;

    /// Opens the store the config names, applying pending migrations.
    fn open_store(
        config: &Self::Config,
    ) -> impl Future<Output = Result<Self::Store, Self::Error>> + Send;

    /// Returns what the system asks the certification centre for: by default its registry
    /// entry's id, BIN and name, its seal in the name of the config's `responsible_iin`.
    fn enrolment(config: &Self::Config) -> Result<Enrolment, SystemError> {
        Enrolment::of(Self::ENTRY, config.responsible_iin())
            .map_err(|error| SystemError::Config(error.to_string()))
    }

    /// Closes the store once the servers and the inbox have stopped.
    fn close_store(store: Self::Store) -> impl Future<Output = ()> + Send;

    /// Builds what the system serves: its domain gRPC handlers, its HTTP routes, its inbox
    /// (through [`Mount::launch_inbox`]) and its background tasks.
    fn mount<R: RevocationSource + 'static>(
        config: &Self::Config,
        mount: Mount<R, Self::Store>,
    ) -> impl Future<Output = Result<Mounted, Self::Error>> + Send;
}

/// What a system mounts its handlers with: its seal, the verifier, its store, the clock,
/// the metrics handle, the shutdown signal and its inbox settings.
pub struct Mount<R, St> {
    /// The system's seal: it signs every answer and every call.
    pub identity: Arc<SystemIdentity>,
    /// Verifies every request the gateway forwards.
    pub verifier: Arc<Verifier<R>>,
    /// The database.
    pub store: St,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
    /// The Prometheus handle `/metrics` renders.
    pub metrics: PrometheusHandle,
    /// Tells background tasks to stop.
    pub stop: Stop,
    inbox: Option<InboxSettings>,
}

impl<R: RevocationSource + 'static, St> Mount<R, St> {
    /// Returns the receiver that verifies what the gateway forwards, hands it to `handler`
    /// and signs the answer with the system's seal.
    pub fn receiver<H: Handler>(&self, handler: H) -> Receiver<H, R> {
        Receiver::new(
            self.identity.clone(),
            self.verifier.clone(),
            Arc::new(handler),
            self.clock.clone(),
        )
    }

    /// Returns the client that calls other systems through the gateway at `endpoint`.
    pub fn caller(&self, gateway_endpoint: &str) -> Result<GatewayCaller, CallError> {
        GatewayCaller::new(self.identity.clone(), gateway_endpoint, self.clock.clone())
    }

    /// Starts the async inbox over `receiver`, as the settings say (nothing when off).
    pub async fn launch_inbox<E: EnvelopeReceiver>(&self, receiver: E) -> RunningInbox {
        Inbox::launch(
            receiver,
            self.identity.clone(),
            self.clock.clone(),
            self.inbox.as_ref(),
        )
        .await
    }
}

/// What a mounted system serves.
pub struct Mounted {
    /// Its gRPC services (health and reflection are added).
    pub grpc: egov_bus::grpc::GrpcRoutes,
    /// Its HTTP router (with `/health` and `/metrics`).
    pub http: axum::Router,
    /// Its running async inbox, stopped before the store closes.
    pub inbox: RunningInbox,
    /// Background tasks that end on stop, each with the line logged if it fails.
    pub tasks: Vec<(&'static str, JoinHandle<()>)>,
}

/// Runs `S` on its [`process_clock`] until `shutdown` resolves; in stack mode the clock is
/// followed first, so a stack clock out of reach stops the start before anything else.
pub async fn run<S: System>(
    config: S::Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), S::Error> {
    let clock = process_clock(&config, S::ENTRY.id).await?;
    run_with_clock::<S>(config, clock, listeners, shutdown).await
}

/// Runs `S` on `clock` until `shutdown` resolves: creates the data dir, opens the store,
/// enrolls as [`System::ENTRY`] with the centre at the config's `pki_endpoint`, checks every
/// sender's certificate against that centre's revocation status, then [`serve`]s with the
/// async inbox the config asks for.
pub async fn run_with_clock<S: System>(
    config: S::Config,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), S::Error> {
    let data_dir = config.data_dir();
    std::fs::create_dir_all(data_dir).map_err(|source| SystemError::Io {
        action: format!("create data dir {}", data_dir.display()),
        source,
    })?;
    // The store first: a bad database fails the start at once, not after enrolment.
    let store = S::open_store(&config).await?;
    let enrolment = S::enrolment(&config)?
        .with_token(config.enrolment_token().map_err(SystemError::from)?)
        .keep_key_in(data_dir)
        .judged_at(clock.now());
    let pki = config.pki_endpoint();
    let identity = SystemIdentity::enroll(pki, &enrolment)
        .await
        .map_err(SystemError::from)?;
    let identity = Arc::new(identity);
    let verifier = identity
        .remote_verifier(pki, config.revocation_freshness())
        .map_err(SystemError::from)?;
    tracing::info!(
        data_dir = %data_dir.display(),
        pki = %pki,
        "{} enrolled",
        S::TITLE
    );
    let inbox = config.inbox();
    let parts = crate::Parts {
        identity,
        verifier,
        store,
        clock,
    };
    serve::<S, _>(config, parts, listeners, Some(inbox), shutdown).await
}

/// Serves an enrolled `S` until `shutdown` resolves: mounts it, serves gRPC and HTTP,
/// runs the async inbox as `inbox` says (`None`, or NATS unreachable, leaves the sync path
/// alone), then stops the inbox and the tasks before the store closes. Generic over the
/// verifier's revocation source, so tests pass a sandbox's verifier and production the
/// centre's.
pub async fn serve<S: System, R: RevocationSource + 'static>(
    config: S::Config,
    parts: crate::Parts<R, S::Store>,
    listeners: Listeners,
    inbox: Option<InboxSettings>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), S::Error> {
    let crate::Parts {
        identity,
        verifier,
        store,
        clock,
    } = parts;
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| SystemError::Config(format!("telemetry: {error}")))?;
    // One shutdown future, every server and worker: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);
    let system_id = identity.system_id.clone();
    let mount = Mount {
        identity,
        verifier,
        store: store.clone(),
        clock,
        metrics,
        stop: stop.clone(),
        inbox,
    };
    let mounted = S::mount(&config, mount).await?;
    tracing::info!(
        system = %system_id,
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        "{} starting",
        S::TITLE
    );
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        mounted.grpc.system(system_id.clone()),
        listeners.http,
        mounted.http,
        &stop,
    )
    .await;
    // Before the store closes: the inbox's handlers and the tasks use it.
    mounted.inbox.stop().await;
    for (failed, task) in mounted.tasks {
        if let Err(error) = task.await {
            tracing::warn!(%error, "{failed}");
        }
    }
    S::close_store(store).await;
    served.map_err(SystemError::from)?;
    tracing::info!("{} stopped", S::TITLE);
    Ok(())
}

/// Why a system's process could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum MainError {
    /// The config did not load or failed its checks.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Telemetry could not start.
    #[error(transparent)]
    Telemetry(#[from] egov_bus::telemetry::TelemetryError),
    /// A listener could not be bound.
    #[error(transparent)]
    Bind(#[from] egov_bus::BusError),
    /// The system failed.
    #[error(transparent)]
    System(Box<dyn std::error::Error + Send + Sync>),
}

/// Loads a system's config through every layer: defaults, the `--config` file,
/// `EGOV_<SERVICE>__*` env vars, then the flags in `args`; then checks it.
pub fn load_config<C: Settings>(args: &ServiceArgs) -> Result<C, ConfigError> {
    egov_core::config::load(
        C::SERVICE,
        args.config.as_deref(),
        std::env::vars(),
        &args.overrides(),
    )
}

/// The whole process of a system: [`load_config`], prints the config on `--dump-config`,
/// or starts telemetry, binds the listeners and [`run`]s until Ctrl-C or SIGTERM.
pub async fn main<S: System>(args: ServiceArgs) -> Result<(), MainError> {
    let config: S::Config = load_config(&args)?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    serve_process::<S>(config).await
}

/// Starts telemetry, binds the config's listeners and [`run`]s `S` until Ctrl-C or SIGTERM:
/// the process edge after the config is loaded, for a `main` that does more than [`main`].
pub async fn serve_process<S: System>(config: S::Config) -> Result<(), MainError> {
    let telemetry = egov_bus::telemetry::init(<S::Config as Settings>::SERVICE)?;
    let (grpc_listen, http_listen) = config.listen();
    let (grpc, http) = egov_bus::service::bind(grpc_listen, http_listen).await?;
    run::<S>(
        config,
        Listeners { grpc, http },
        egov_bus::shutdown::shutdown_signal(),
    )
    .await
    .map_err(|error| MainError::System(Box::new(error)))?;
    telemetry.shutdown().await;
    Ok(())
}
