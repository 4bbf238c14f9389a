//! The Labour Market AIS («Еңбек нарығы» ААЖ) as a [`System`] of the shared runtime: its
//! registry entry, config and store, and what it mounts: the fixture employment on the
//! first start, service B's intake behind the gateway and the direct contract, the
//! employment routes.

use std::sync::Arc;

use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_system::intake::{ApplicationHandler, Intake, KeepingReceiver};
use egov_system::{Mount, Mounted, System};

use crate::LaborError;
use crate::certificate::{DECIDED_SERVICE_ID, PROFILE, UnemployedCertificate};
use crate::config::Config;
use crate::store::Store;

/// The Labour Market AIS, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Labor;

impl System for Labor {
    const ENTRY: &'static SystemInfo = &systems::LABOR;
    const TITLE: &'static str = "labour market AIS";
    type Config = Config;
    type Store = Store;
    type Error = LaborError;

    async fn open_store(config: &Config) -> Result<Store, LaborError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Records the fixture employment on the first start, answers the gateway
    /// ([`crate::SERVICE_IDS`]) and the HTTP routes, and calls the citizens-DB, the notary
    /// registry and the back office through `config.gateway_endpoint`.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, LaborError> {
        let store = &mount.store;
        if crate::fixtures::load(store, mount.clock.as_ref()).await? {
            tracing::info!(
                set = crate::fixtures::FIXTURE_SET,
                "fixture employment recorded"
            );
        }
        let clock = mount.clock.clone();
        let caller = mount.caller(&config.gateway_endpoint)?;
        let intake = Arc::new(Intake::new(PROFILE, store.clone(), caller, clock.clone()));
        let handler = ApplicationHandler::new(intake, UnemployedCertificate::new(store.clone()));
        let receiver =
            KeepingReceiver::new(mount.receiver(handler), vec![DECIDED_SERVICE_ID.to_owned()]);
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(crate::grpc::LaborService::new(receiver.clone()).into_server())
            .add_service(receiver.into_server());
        let operators = egov_signin::operator::Operators::from_data_dir_or_none(&config.data_dir);
        let http = crate::http::router(store.clone(), clock, &operators, mount.metrics.clone());
        Ok(Mounted {
            grpc,
            http,
            inbox,
            tasks: Vec::new(),
        })
    }
}
