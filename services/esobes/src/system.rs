//! E-sobes («Е-собес» АЖ) as a [`System`] of the shared runtime: its registry entry, config
//! and store, and what it mounts: service C's intake behind the gateway and the direct
//! contract.

use std::sync::Arc;

use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_system::intake::{ApplicationHandler, Intake, KeepingReceiver};
use egov_system::{Mount, Mounted, System};

use crate::EsobesError;
use crate::compensation::{DECIDED_SERVICE_ID, HomeSchoolingCompensation, PROFILE};
use crate::config::Config;
use crate::store::Store;

/// E-sobes, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Esobes;

impl System for Esobes {
    const ENTRY: &'static SystemInfo = &systems::ESOBES;
    const TITLE: &'static str = "E-sobes";
    type Config = Config;
    type Store = Store;
    type Error = EsobesError;

    async fn open_store(config: &Config) -> Result<Store, EsobesError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Answers the gateway ([`crate::SERVICE_IDS`]) and calls the citizens-DB, the notary
    /// registry and the back office through `config.gateway_endpoint`.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, EsobesError> {
        let caller = mount.caller(&config.gateway_endpoint)?;
        let intake = Arc::new(Intake::new(
            PROFILE,
            mount.store.clone(),
            caller,
            mount.clock.clone(),
        ));
        let handler = ApplicationHandler::new(intake, HomeSchoolingCompensation);
        let receiver =
            KeepingReceiver::new(mount.receiver(handler), vec![DECIDED_SERVICE_ID.to_owned()]);
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(crate::grpc::EsobesService::new(receiver.clone()).into_server())
            .add_service(receiver.into_server());
        let http = egov_bus::http::ops_router(crate::config::SERVICE, mount.metrics.clone());
        Ok(Mounted {
            grpc,
            http,
            inbox,
            tasks: Vec::new(),
        })
    }
}
