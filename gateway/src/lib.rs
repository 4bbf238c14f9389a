//! The e-government gateway: ЭҮШ / ШЭП (national) or ЭҮАШ / РШЭП (regional),
//! one binary whose role is set by config. Every message between two systems
//! crosses it: it verifies the signed envelope, checks the route and access
//! rights, forwards it (gRPC sync or NATS), verifies the signed answer and logs
//! every hop. Run: `cargo run -p egov-gateway -- --help`.
//!
//! # Layout
//! - [`async_channel`]: the async channel over NATS JetStream (delivery states, pull and push).
//! - [`config`]: the gateway's configuration (role, listeners, store, PKI).
//! - [`registry`]: the route table (service id → system, transport, allowed senders).
//! - [`reload`]: registry reloads announced to every replica of the gateway.
//! - [`exchange`]: admission checks and the sync exchange.
//! - [`faults`]: faults injected at run time (latency, errors, systems down, …) and their admin API.
//! - [`replay`]: replay protection by message id.
//! - [`message_log`]: the durable log of every hop and its Mermaid export.
//! - [`grpc`]: the `egov.v1.Gateway` service.
//! - [`http`]: the log as JSON, diagrams, registry reload.
//! - [`nats_start`]: the async channel and the shared fault table, started late when NATS is.
//! - [`console`]: the operator console (`/console`) behind the gateway's operator sign-in.
//! - [`log_service`]: the log and its diagrams over gRPC (`egov.v1.GatewayLog`).

pub mod async_channel;
pub mod config;
pub mod console;
pub mod exchange;
pub mod faults;
pub mod grpc;
pub mod http;
pub mod log_service;
pub mod message_log;
pub mod nats_start;
pub mod registry;
pub mod reload;
pub mod replay;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use egov_core::envelope::{CachedRevocation, RevocationSource, TimeLimited, Verifier};
use egov_core::pki::CertificateInfo;
use egov_proto::v1::GetCaCertificatesRequest;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::gateway_server::GatewayServer;
use tokio::net::TcpListener;

pub use async_channel::AsyncSettings;
pub use config::{Config, GatewayRole};
pub use exchange::{Gateway, GatewayParts, Refusal};

use crate::grpc::GatewayService;
use crate::message_log::MessageLog;
use crate::registry::RegistryHandle;
use crate::replay::ReplayGuard;

/// Failures starting or running the gateway.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The registry file is missing or invalid.
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    /// The message log could not be opened.
    #[error(transparent)]
    MessageLog(#[from] message_log::MessageLogError),
    /// The certification centre could not be reached for the trust roots.
    #[error("certification centre at {endpoint}: {reason}")]
    Pki {
        /// Its endpoint.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// NATS could not be reached.
    #[error("NATS at {url}: {reason}")]
    Nats {
        /// Its URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A server failed.
    #[error(transparent)]
    Bus(#[from] egov_bus::BusError),
    /// Metrics could not be set up.
    #[error(transparent)]
    Telemetry(#[from] egov_bus::TelemetryError),
    /// The operator console's sign-in could not be opened.
    #[error("operator console sign-in: {0}")]
    Console(String),
    /// The operators file (`operators.toml` in the data directory) is malformed.
    #[error(transparent)]
    Operators(egov_signin::SigninError),
    /// The stack clock the config asks for (`clock = "stack"`) could not be followed.
    #[error("clock: {0}")]
    Clock(#[from] egov_bus::clock::ClockError),
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Bytes a gRPC request may carry beyond one envelope (its framing and fields).
const REQUEST_OVERHEAD_BYTES: usize = 16 * 1024;

/// The gateway's bound listeners.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC (Gateway, health, reflection).
    pub grpc: TcpListener,
    /// HTTP (log, diagrams, admin, metrics).
    pub http: TcpListener,
}

/// Starts the gateway from its config: trust roots and revocation from the
/// certification centre, the registry file, the message log, then serves until `shutdown`.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| GatewayError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    // First: a stack clock out of reach stops the start, rather than leave this gateway
    // judging message times on a clock of its own.
    let clock =
        egov_bus::clock::service_clock(config.clock.mode(), &config.nats_url, &config.system_id)
            .await?
            .shared();
    let channel = pki_channel(&config.pki_endpoint, config.pki_timeout())?;
    let roots = trust_roots(&config.pki_endpoint, channel.clone()).await?;
    let revocation = CachedRevocation::new(
        TimeLimited::new(
            egov_pki::client::RemoteRevocation::new(channel),
            config.pki_timeout(),
        ),
        Duration::from_secs(config.revocation_freshness_secs),
    );
    // A regional gateway relays synchronous requests only: the async channel and NATS routes
    // are the national gateway's, and its NATS user (a system's) may follow the clock only.
    let nats = if config.role == GatewayRole::Regional {
        None
    } else {
        Some(connect_nats(&config.nats_url).await?)
    };
    let console = console::signin::open(&config, clock.clone()).await?;
    let gateway = Gateway::new(GatewayParts {
        system_id: config.system_id.clone(),
        registry: Arc::new(RegistryHandle::open(config.registry_path())?),
        verifier: Verifier::new(roots, revocation),
        replay: ReplayGuard::new(
            Duration::from_secs(config.replay_window_secs),
            config.replay_capacity,
        ),
        log: MessageLog::connect(&config.database_url()).await?,
        clock: clock.clone(),
        max_message_bytes: config.max_message_bytes,
        nats,
    })
    .with_message_time_window(Duration::from_secs(config.message_time_window_secs))
    // One sign-in for the gateway: the console's accounts, sessions and tokens also open the
    // log and admin routes, beside the operators file's tokens.
    .with_operators(
        egov_signin::operator::Operators::from_data_dir(&config.data_dir)
            .map_err(GatewayError::Operators)?
            .with_signin(console.clone()),
    );
    let gateway = match seal(&config, clock.now()).await? {
        Some(seal) => gateway.with_seal(seal),
        None => {
            tracing::warn!(system_id = %config.system_id, "no BIN for this gateway: relayed answers go out without its countersignature");
            gateway
        }
    };
    tracing::info!(role = ?config.role, system_id = %config.system_id, "gateway starting");
    let settings = AsyncSettings::from_config(&config);
    serve_with_console(
        Arc::new(gateway),
        settings,
        Some(console),
        listeners,
        shutdown,
    )
    .await
}

/// Connects to NATS at `url`; when it does not answer, the client goes on connecting in the
/// background, and the NATS routes and the async channel serve once it has (see [`nats_start`]).
async fn connect_nats(url: &str) -> Result<async_nats::Client, GatewayError> {
    // Its own inbox prefix: systems may subscribe to `_INBOX.>`, never to the answers the
    // gateway gets (its state bucket's reads among them).
    let options = || {
        async_nats::ConnectOptions::new()
            .name("egov-gateway")
            .custom_inbox_prefix(egov_bus::nats_accounts::GATEWAY_INBOX_PREFIX)
    };
    match egov_bus::nats_accounts::connect(url, options()).await {
        Ok(client) => Ok(client),
        Err(err) => {
            tracing::warn!(url = %egov_bus::nats_accounts::split_credentials(url).0, error = %err, "NATS unreachable; connecting in the background, NATS routes and the async channel serve once connected");
            egov_bus::nats_accounts::connect(url, options().retry_on_initial_connect())
                .await
                .map_err(|err| GatewayError::Nats {
                    url: egov_bus::nats_accounts::split_credentials(url).0,
                    reason: err.to_string(),
                })
        }
    }
}

/// Serves an assembled gateway on its listeners until `shutdown`; tests call
/// this with their own verifier and registry. The async channel runs with
/// default settings when the gateway has NATS.
pub async fn serve<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    serve_with(gateway, AsyncSettings::default(), listeners, shutdown).await
}

/// Serves like [`serve`], running the async channel with these settings when
/// the gateway has NATS; without JetStream the async calls refuse.
pub async fn serve_with<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    async_settings: AsyncSettings,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    serve_with_console(gateway, async_settings, None, listeners, shutdown).await
}

/// Serves like [`serve_with`], with the operator console on the HTTP port behind `console`'s
/// sign-in when one is given (see [`console`]).
pub async fn serve_with_console<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    async_settings: AsyncSettings,
    console: Option<egov_signin::Signin>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let metrics = egov_bus::telemetry::prometheus_handle()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let reload = tokio::spawn(reload_on_sighup(gateway.clone(), stop_rx.clone()));

    // The async channel and the shared fault table start now, or in the background once NATS
    // and JetStream are there; async calls are refused until then.
    let async_channel = nats_start::AsyncChannelSlot::empty();
    let nats_start = match gateway.nats() {
        Some(client) => {
            nats_start::start(
                gateway.clone(),
                client.clone(),
                async_settings,
                async_channel.clone(),
                stop_rx.clone(),
            )
            .await
        }
        None => None,
    };
    // Replicas of this gateway reload their registries together (see [`reload`]).
    let reloads = match (gateway.nats(), reload::subject(&gateway.system_id)) {
        (Some(client), Some(subject)) => match client.subscribe(subject).await {
            Ok(announcements) => Some(tokio::spawn(reload::serve_announcements(
                gateway.clone(),
                client.clone(),
                announcements,
            ))),
            Err(err) => {
                tracing::warn!(error = %err, "registry reloads of other replicas not followed; reload each replica itself");
                None
            }
        },
        _ => None,
    };
    let service = GatewayService::new(gateway.clone()).with_async_slot(async_channel.clone());
    // The decoder refuses what the log would refuse anyway, before it is held
    // in memory: one envelope's limit plus room for the request around it.
    let decode_limit = gateway
        .max_message_bytes()
        .saturating_add(REQUEST_OVERHEAD_BYTES);
    let grpc_service = GatewayServer::new(service).max_decoding_message_size(decode_limit);
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .system(gateway.system_id.clone())
        .add_service(grpc_service)
        .add_service(log_service::LogService::new(gateway.clone()).into_server())
        .add_service(
            egov_proto::v1::message_receiver_server::MessageReceiverServer::new(
                grpc::RelayService::new(gateway.clone()),
            )
            .max_decoding_message_size(decode_limit),
        );
    let mut own_routes = http::routes(gateway.clone());
    if let Some(signin) = &console {
        own_routes = own_routes.merge(console::router(
            gateway.clone(),
            async_channel.clone(),
            signin,
        ));
    }
    let http_router = egov_bus::http::router(
        format!("egov-gateway/{}", gateway.system_id),
        metrics,
        own_routes,
    );

    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let grpc = egov_bus::grpc::serve(listeners.grpc, routes, stopped(stop_rx.clone()));
    let web = egov_bus::http::serve_http(listeners.http, http_router, stopped(stop_rx));
    let signal = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let (grpc, web, ()) = tokio::join!(grpc, web, signal);
    reload.abort();
    if let Some(reloads) = reloads {
        reloads.abort();
    }
    if let Some(nats_start) = nats_start {
        nats_start.abort();
    }
    if let Some(channel) = async_channel.get() {
        channel.stop();
    }
    if let Err(err) = gateway.log().flush().await {
        tracing::error!(error = %err, "message log flush at shutdown failed");
    }
    grpc?;
    web?;
    Ok(())
}

/// Re-reads the registry on SIGHUP; a bad file is logged and the old table kept.
async fn reload_on_sighup<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        tracing::warn!("SIGHUP handler unavailable; reload the registry over HTTP");
        return;
    };
    loop {
        tokio::select! {
            _ = hangups.recv() => match gateway.registry().reload() {
                Ok(registry) => tracing::info!(services = registry.services.len(), "registry reloaded on SIGHUP"),
                Err(err) => tracing::error!(error = %err, "registry reload failed; the previous table stays in force"),
            },
            _ = stop.changed() => return,
        }
    }
}

/// Enrolls the gateway's own seal with the certification centre.
async fn seal(
    config: &Config,
    now: time::OffsetDateTime,
) -> Result<Option<Arc<egov_core::envelope::Signer>>, GatewayError> {
    let Some(bin) = config.seal_bin() else {
        return Ok(None);
    };
    let pki = |reason: String| GatewayError::Pki {
        endpoint: config.pki_endpoint.clone(),
        reason,
    };
    let enrolment = egov_system::Enrolment {
        system_id: config.system_id.clone(),
        bin: egov_core::Bin::parse(&bin).map_err(|err| pki(format!("bin: {err}")))?,
        organization: format!("egov-stack {}", config.system_id),
        responsible_iin: egov_core::Iin::parse(&config.seal_holder_iin)
            .map_err(|err| pki(format!("seal_holder_iin: {err}")))?,
        token: egov_system::identity::read_token(
            config.enrolment_token.as_deref(),
            config.enrolment_token_file.as_deref(),
        )
        .map_err(|err| pki(err.to_string()))?,
        key_dir: Some(config.data_dir.clone()),
        // A kept seal is judged on the gateway's clock (the stack's, in stack mode).
        now: Some(now),
    };
    // Enrolment makes a few calls; each is bounded, so the whole is too.
    let limit = config.pki_timeout() * 4;
    let identity = tokio::time::timeout(
        limit,
        egov_system::SystemIdentity::enroll(&config.pki_endpoint, &enrolment),
    )
    .await
    .map_err(|_| {
        pki(format!(
            "enrolment took longer than {} ms",
            limit.as_millis()
        ))
    })?
    .map_err(|err| pki(err.to_string()))?;
    Ok(Some(Arc::new(identity.signer)))
}

/// A channel to the certification centre on which every call is bounded by `timeout`.
fn pki_channel(
    endpoint: &str,
    timeout: Duration,
) -> Result<tonic::transport::Channel, GatewayError> {
    Ok(tonic::transport::Endpoint::from_shared(endpoint.to_owned())
        .map_err(|err| GatewayError::Pki {
            endpoint: endpoint.to_owned(),
            reason: err.to_string(),
        })?
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect_lazy())
}

/// Asks the certification centre for its root, retrying while it starts.
async fn trust_roots(
    endpoint: &str,
    channel: tonic::transport::Channel,
) -> Result<Vec<CertificateInfo>, GatewayError> {
    let mut client = CertificationCentreClient::new(channel);
    let mut last_error = String::new();
    for _ in 0..50 {
        match client
            .get_ca_certificates(GetCaCertificatesRequest {})
            .await
        {
            Ok(answer) => {
                let root =
                    CertificateInfo::from_der(&answer.into_inner().root_der).map_err(|err| {
                        GatewayError::Pki {
                            endpoint: endpoint.to_owned(),
                            reason: format!("root certificate: {err}"),
                        }
                    })?;
                return Ok(vec![root]);
            }
            Err(status) => last_error = status.message().to_owned(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(GatewayError::Pki {
        endpoint: endpoint.to_owned(),
        reason: last_error,
    })
}
