//! The notary registry (БНАЖ / ЕНИС) as a [`System`] of the shared runtime: its registry
//! entry, config and store, and what it mounts: the fixture powers of attorney on the first
//! start, the look-ups behind the gateway and the direct `Notary` contract, the operator's
//! registration route.

use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_system::{Mount, Mounted, System};

use crate::NotaryError;
use crate::config::Config;
use crate::grpc::NotaryService;
use crate::handler::NotaryHandler;
use crate::registry::Registry;
use crate::store::Store;

/// The notary registry, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Notary;

impl System for Notary {
    const ENTRY: &'static SystemInfo = &systems::NOTARY;
    const TITLE: &'static str = "notary registry";
    type Config = Config;
    type Store = Store;
    type Error = NotaryError;

    async fn open_store(config: &Config) -> Result<Store, NotaryError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Loads the fixtures on the first start, then answers the gateway (`MessageReceiver`),
    /// the direct `Notary` contract and the HTTP routes.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, NotaryError> {
        for set in crate::fixtures::load(&mount.store, mount.clock.as_ref()).await? {
            tracing::info!(set, "fixture powers of attorney loaded");
        }
        let operators = egov_signin::operator::Operators::from_data_dir_or_none(&config.data_dir);
        let registry = Registry::new(mount.store.clone(), mount.clock.clone());
        let receiver = mount.receiver(NotaryHandler::new(registry.clone()));
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(NotaryService::new(receiver.clone()).into_server())
            .add_service(receiver.into_server());
        Ok(Mounted {
            grpc,
            http: crate::http::router(registry, &operators, mount.metrics.clone()),
            inbox,
            tasks: Vec::new(),
        })
    }
}
