//! The citizens-DB as a [`System`] of the shared runtime: its registry entry, config and
//! store, its seal's organisation and holder, and what it mounts: `MessageReceiver` (for the
//! gateway) and `egov.v1.Citizens` (direct) on gRPC, `/health` and `/metrics` on HTTP, and
//! the gateway's async channel through its inbox.

use std::future::Future;
use std::sync::Arc;

pub use egov_bus::service::Listeners;
use egov_core::clock::Clock;
use egov_core::envelope::{RevocationSource, Verifier};
use egov_core::systems::{self, SystemInfo};
use egov_system::{Enrolment, Mount, Mounted, System, SystemError, SystemIdentity};
use tokio::net::TcpListener;

use crate::config::{Config, SERVICE};
use crate::grpc::CitizensService;
use crate::handler::CitizensHandler;
use crate::registry::Registry;
use crate::store::Store;
use crate::{CitizensError, load};

/// The organisation named in the citizens-DB's seal certificate (O).
pub const ORGANIZATION: &str = "Ministry of Digital Development (ЖТ МДБ / ГБД ФЛ operator)";

/// The citizens-DB, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Citizens;

/// Runs the citizens-DB on the real clock until `shutdown` resolves: prepares the database
/// (generating the population on first start), enrolls as [`systems::CITIZENS`], and serves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    egov_system::runtime::run::<Citizens>(config, Listeners { grpc, http }, shutdown).await
}

/// Serves a prepared registry under an identity until `shutdown` resolves, the async
/// channel off; generic over the verifier's revocation source, so tests pass a sandbox's.
pub async fn serve<R: RevocationSource + 'static>(
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), CitizensError> {
    let parts = egov_system::Parts {
        identity,
        verifier,
        store: registry.store().clone(),
        clock,
    };
    egov_system::runtime::serve::<Citizens, R>(Config::default(), parts, listeners, None, shutdown)
        .await
}

impl System for Citizens {
    const ENTRY: &'static SystemInfo = &systems::CITIZENS;
    const TITLE: &'static str = "citizens-DB";
    type Config = Config;
    type Store = Store;
    type Error = CitizensError;

    /// The seal names the ministry operating the databases, not the registry's name.
    fn enrolment(config: &Config) -> Result<Enrolment, SystemError> {
        Ok(Enrolment {
            organization: ORGANIZATION.to_owned(),
            ..Enrolment::of(Self::ENTRY, &config.responsible_iin)
                .map_err(|error| SystemError::Config(error.to_string()))?
        })
    }

    /// Prepares the database first (generating the population on first start): a large
    /// population takes a while, and the certification centre may be starting meanwhile.
    async fn open_store(config: &Config) -> Result<Store, CitizensError> {
        let prepared = load::prepare(config, false).await?;
        tracing::info!(
            database = %egov_store::redact(&config.database_url()),
            seed = %prepared.seed,
            population = prepared.size,
            "citizens-DB prepared"
        );
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    async fn mount<R: RevocationSource + 'static>(
        _config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, CitizensError> {
        let registry = Arc::new(Registry::new(mount.store.clone()));
        let receiver = mount.receiver(CitizensHandler::new(registry.clone()));
        let inbox = mount.launch_inbox(receiver.clone()).await;
        // The direct contract answers only a caller's signed envelope, through the receiver.
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(CitizensService::new(receiver.clone()).into_server())
            .add_service(receiver.into_server());
        Ok(Mounted {
            grpc,
            http: egov_bus::http::ops_router(SERVICE, mount.metrics.clone()),
            inbox,
            tasks: Vec::new(),
        })
    }
}
