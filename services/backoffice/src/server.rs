//! Starting the back office: enroll with the certification centre (the seal, and the head's
//! HEAD certificate), open the store, resume the open cases' timers, then serve gRPC and HTTP
//! on listeners bound by the caller and the gateway's async channel through the system's
//! inbox, and deliver the outbox, until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

pub use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{RevocationSource, Signer, Verifier};
use egov_core::{Bin, Iin, systems};
use egov_system::{Enrolment, GatewayCaller, Inbox, InboxSettings, Receiver, SystemIdentity};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::BackOfficeError;
use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::delivery::{Outbox, Retry};
use crate::grpc::BackOfficeService;
use crate::handler::BackOfficeHandler;
use crate::policy::Policies;
use crate::store::Store;
use crate::workflow::{Workflow, WorkflowParts};

/// What an enrolled back office serves with.
pub struct Parts<R> {
    /// The back office's seal: it signs answers and countersigns results.
    pub identity: Arc<SystemIdentity>,
    /// The head's signing credential (HEAD role, the back office's BIN): it signs results.
    pub head: Signer,
    /// Verifies every request the gateway forwards.
    pub verifier: Arc<Verifier<R>>,
    /// The database.
    pub store: Store,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
}

/// Runs the back office on the real clock until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BackOfficeError> {
    run_with_clock(config, SystemClock::shared(), grpc, http, shutdown).await
}

/// Runs the back office on `clock` (e.g. the stack's virtual clock) until `shutdown`
/// resolves: enrolls as [`systems::BACKOFFICE`] and its head with the centre at
/// `config.pki_endpoint`, and checks every sender's certificate against that centre.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BackOfficeError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| BackOfficeError::Io {
        action: format!("create data dir {}", config.data_dir.display()),
        source,
    })?;
    // The store first: a bad database fails the start at once, not after enrolment.
    let store = Store::open(&config.database_url()).await?;
    let enrolment = Enrolment {
        system_id: systems::BACKOFFICE.id.to_owned(),
        bin: Bin::parse(systems::BACKOFFICE.bin)
            .map_err(|error| BackOfficeError::Config(format!("back office BIN: {error}")))?,
        organization: systems::BACKOFFICE.name.to_owned(),
        responsible_iin: Iin::parse(&config.responsible_iin)
            .map_err(|error| BackOfficeError::Config(format!("responsible_iin: {error}")))?,
        token: egov_system::identity::read_token(
            config.enrolment_token.as_deref(),
            config.enrolment_token_file.as_deref(),
        )?,
        key_dir: Some(config.data_dir.clone()),
    };
    let identity = Arc::new(SystemIdentity::enroll(&config.pki_endpoint, &enrolment).await?);
    let head = crate::head::enroll(&config).await?;
    let verifier = identity.remote_verifier(&config.pki_endpoint, config.revocation_freshness())?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        pki = %config.pki_endpoint,
        head = %head.certificate().subject,
        "back office enrolled"
    );
    let parts = Parts {
        identity,
        head,
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

/// Serves an enrolled back office until `shutdown` resolves: loads the catalogue (embedded,
/// plus `config.catalogue_dir`), resumes every open case's timers, answers the gateway
/// (`MessageReceiver`) and the direct `BackOffice` contract, and delivers the outbox through
/// `config.gateway_endpoint`. Generic over the verifier's revocation source, so tests pass a
/// sandbox's verifier and production the centre's.
/// The async channel stays off; see [`serve_with_inbox`].
pub async fn serve<R: RevocationSource + 'static>(
    config: Config,
    parts: Parts<R>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BackOfficeError> {
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
) -> Result<(), BackOfficeError> {
    let Parts {
        identity,
        head,
        verifier,
        store,
        clock,
    } = parts;
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| BackOfficeError::Config(format!("telemetry: {error}")))?;
    let catalogue = Arc::new(Catalogue::load(config.catalogue_dir.as_deref())?);
    let policies = Policies::new(&config.policies);
    policies
        .check(&catalogue)
        .map_err(BackOfficeError::Config)?;
    crate::head::check(&head)?;
    let signin = crate::web::open_signin(&config, &store, clock.clone()).await?;

    let wake = Arc::new(Notify::new());
    let workflow = Workflow::new(WorkflowParts {
        store: store.clone(),
        catalogue: catalogue.clone(),
        clock: clock.clone(),
        policies,
        deliveries: wake.clone(),
    });
    let resumed = workflow.resume().await?;
    let caller = GatewayCaller::new(identity.clone(), &config.gateway_endpoint, clock.clone())?;
    let outbox = Outbox::new(
        store.clone(),
        identity.clone(),
        Arc::new(head),
        caller,
        clock.clone(),
        wake,
        Retry {
            initial: std::time::Duration::from_secs(config.delivery_retry_initial_secs),
            max: std::time::Duration::from_secs(config.delivery_retry_max_secs),
        },
    );
    let (outbox_stop, outbox_stopped) = watch::channel(false);
    let outbox_task = tokio::spawn(outbox.run(outbox_stopped));
    tracing::info!(
        system = %identity.system_id,
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        services = ?catalogue.codes(),
        resumed,
        "back office starting"
    );

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let handler = Arc::new(BackOfficeHandler::new(workflow.clone()));
    let receiver = Receiver::new(identity.clone(), verifier, handler, clock.clone());
    let inbox = Inbox::launch(receiver.clone(), identity, clock, inbox.as_ref()).await;
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .add_service(receiver.into_server())
        .add_service(BackOfficeService::new(workflow.clone()).into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        routes,
        listeners.http,
        crate::http::router(
            metrics,
            workflow.clone(),
            crate::web::People::from_config(&config),
            &signin,
        ),
        &stop,
    )
    .await;
    // The inbox first: its handlers open cases on the workflow.
    inbox.stop().await;
    // Timers next, so no step ends after the outbox has stopped; nothing is lost either
    // way, since the store keeps the open cases and the pending messages.
    workflow.stop().await;
    outbox_stop.send_replace(true);
    if let Err(error) = outbox_task.await {
        tracing::error!(error = %error, "delivery worker ended abnormally");
    }
    store.close().await;
    served?;
    tracing::info!("back office stopped");
    Ok(())
}
