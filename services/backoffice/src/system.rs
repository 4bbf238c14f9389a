//! The back office as a [`System`] of the shared runtime: its registry entry, config and
//! store, and what it mounts: the head's credential, the catalogue, the open cases'
//! timers resumed, `MessageReceiver` and the direct `BackOffice` contract, the worklist, the
//! outbox delivering results through the gateway.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use egov_bus::service::Listeners;
use egov_core::envelope::{RevocationSource, Verifier};
use egov_core::systems::{self, SystemInfo};
use egov_system::{Mount, Mounted, RunningInbox, System, SystemIdentity};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::BackOfficeError;
use crate::catalogue::Catalogue;
use crate::config::Config;
use crate::delivery::{Outbox, Retry, Wake};
use crate::grpc::BackOfficeService;
use crate::handler::BackOfficeHandler;
use crate::head::Heads;
use crate::policy::Policies;
use crate::store::Store;
use crate::workflow::{Workflow, WorkflowParts};

/// The back office, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct BackOffice;

/// The back office's store, and the heads' signing credentials (HEAD role, each its
/// organisation's BIN) when they were issued beforehand (tests).
#[derive(Clone)]
pub struct Office {
    /// The database.
    pub store: Store,
    /// The heads' credentials; `None` enrolls the heads once the seal is enrolled (the
    /// centre is up by then).
    pub heads: Option<Arc<Heads>>,
}

/// What an enrolled back office serves with.
pub struct Parts<R> {
    /// The back office's seal: it signs answers and countersigns results.
    pub identity: Arc<SystemIdentity>,
    /// The heads' signing credentials (HEAD role, each its organisation's BIN): they sign
    /// results.
    pub heads: Heads,
    /// Verifies every request the gateway forwards.
    pub verifier: Arc<Verifier<R>>,
    /// The database.
    pub store: Store,
    /// The stack's clock.
    pub clock: Arc<dyn egov_core::clock::Clock>,
}

/// Runs the back office on the real clock until `shutdown` resolves: opens the store,
/// enrolls its seal and its head with the centre at `config.pki_endpoint`, and serves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BackOfficeError> {
    egov_system::runtime::run::<BackOffice>(config, Listeners { grpc, http }, shutdown).await
}

/// Serves an enrolled back office until `shutdown` resolves, the async channel off; generic
/// over the verifier's revocation source, so tests pass a sandbox's verifier.
pub async fn serve<R: RevocationSource + 'static>(
    config: Config,
    parts: Parts<R>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BackOfficeError> {
    let parts = egov_system::Parts {
        identity: parts.identity,
        verifier: parts.verifier,
        store: Office {
            store: parts.store,
            heads: Some(Arc::new(parts.heads)),
        },
        clock: parts.clock,
    };
    egov_system::runtime::serve::<BackOffice, R>(config, parts, listeners, None, shutdown).await
}

impl System for BackOffice {
    const ENTRY: &'static SystemInfo = &systems::BACKOFFICE;
    const TITLE: &'static str = "back office";
    type Config = Config;
    type Store = Office;
    type Error = BackOfficeError;

    async fn open_store(config: &Config) -> Result<Office, BackOfficeError> {
        let store = Store::open(&config.database_url()).await?;
        Ok(Office { store, heads: None })
    }

    async fn close_store(office: Office) {
        office.store.close().await;
    }

    /// Enrolls the head (unless given), loads the catalogue (embedded, plus
    /// `config.catalogue_dir`), resumes every open case's
    /// timers, answers the gateway and the direct contract, serves the worklist, and delivers
    /// the outbox through `config.gateway_endpoint`.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Office>,
    ) -> Result<Mounted, BackOfficeError> {
        let Office { store, heads } = mount.store.clone();
        let heads = match heads {
            Some(heads) => heads,
            None => {
                let heads = crate::head::enroll(config, mount.clock.now()).await?;
                tracing::info!(heads = ?heads.subjects(), "back office heads enrolled");
                Arc::new(heads)
            }
        };
        let clock = mount.clock.clone();
        let catalogue = Arc::new(Catalogue::load(config.catalogue_dir.as_deref())?);
        let policies = Policies::new(&config.policies);
        policies
            .check(&catalogue)
            .map_err(BackOfficeError::config)?;
        heads.check()?;
        let signin = crate::web::open_signin(config, &store, clock.clone()).await?;
        let operators = egov_signin::operator::Operators::from_data_dir_or_none(&config.data_dir)
            .with_signin(signin.clone());

        let wake = Wake::new(clock.clone());
        let workflow = Workflow::new(WorkflowParts {
            store: store.clone(),
            catalogue: catalogue.clone(),
            clock: clock.clone(),
            policies,
            deliveries: wake.clone(),
            heads: heads.clone(),
        });
        let resumed = workflow.resume().await?;
        let outbox = Outbox::new(
            store,
            mount.identity.clone(),
            heads,
            mount.caller(&config.gateway_endpoint)?,
            clock,
            wake,
            Retry {
                initial: Duration::from_secs(config.delivery_retry_initial_secs),
                max: Duration::from_secs(config.delivery_retry_max_secs),
            },
        );
        let (outbox_stop, outbox_stopped) = watch::channel(false);
        let outbox_task = tokio::spawn(outbox.run(outbox_stopped));
        tracing::info!(services = ?catalogue.codes(), resumed, "back office cases resumed");

        // The provider's workstation sits behind the regional gateway (РШЭП АРМ): what the
        // regional gateway relays stays addressed to it.
        let receiver = mount
            .receiver(BackOfficeHandler::new(workflow.clone()))
            .also_addressed_as(systems::REGIONAL_GATEWAY.id);
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(receiver.into_server())
            .add_service(BackOfficeService::new(workflow.clone(), operators).into_server());
        let people = crate::web::People::from_config(config);
        let http = crate::http::router(mount.metrics.clone(), workflow.clone(), people, &signin);
        // In this order on stop: the inbox (its handlers open cases on the workflow), the
        // timers (so no step ends after the outbox has stopped), the outbox. Nothing is lost
        // either way: the store keeps the open cases and the pending messages.
        let stopped = mount.stop.stopped();
        let shutdown = tokio::spawn(async move {
            stopped.await;
            inbox.stop().await;
            workflow.stop().await;
            outbox_stop.send_replace(true);
            if let Err(error) = outbox_task.await {
                tracing::error!(error = %error, "delivery worker ended abnormally");
            }
        });
        Ok(Mounted {
            grpc,
            http,
            inbox: RunningInbox::idle(),
            tasks: vec![("back office shutdown ended abnormally", shutdown)],
        })
    }
}
