//! The kindergarten queue register as a [`System`] of the shared runtime: its registry
//! entry, config and store, and what it mounts: the fixture kindergartens on the first
//! start, service D behind the gateway and the direct contract, the places routes, and the
//! task that hands referrals to the citizen's cabinet.

use std::sync::Arc;

use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_system::intake::{Intake, KeepingReceiver};
use egov_system::{Mount, Mounted, System};

use crate::QueueError;
use crate::cabinet::CabinetNotices;
use crate::config::Config;
use crate::placement::{DECIDED_SERVICE_ID, PROFILE, QueueHandler};
use crate::store::Store;

/// The queue register, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Queue;

impl System for Queue {
    const ENTRY: &'static SystemInfo = &systems::QUEUE;
    const TITLE: &'static str = "queue register";
    type Config = Config;
    type Store = Store;
    type Error = QueueError;

    async fn open_store(config: &Config) -> Result<Store, QueueError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Loads the fixture kindergartens on the first start, answers the gateway
    /// ([`crate::SERVICE_IDS`]) and the HTTP routes, calls the citizens-DB, the notary
    /// registry, the back office and the cabinet through `config.gateway_endpoint`.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, QueueError> {
        let store = &mount.store;
        let clock = mount.clock.clone();
        if crate::fixtures::load(store, clock.as_ref()).await? {
            tracing::info!(
                set = crate::fixtures::FIXTURE_SET,
                "fixture kindergartens loaded"
            );
        }
        let caller = mount.caller(&config.gateway_endpoint)?;
        let notices = CabinetNotices::new(store.clone(), caller.clone(), clock.clone());
        let intake = Arc::new(Intake::new(PROFILE, store.clone(), caller, clock.clone()));
        let handler = QueueHandler::new(intake, notices.clone());
        let notices_task = notices.clone().spawn(mount.stop.receiver());
        // The register sits behind the regional gateway for the portal's requests (seed `002_…`
        // item 7: «электрондық үкіметтің шлюзі / өңірлік шлюзі арқылы»): what the regional
        // gateway relays stays addressed to it.
        let receiver = KeepingReceiver::new(
            mount
                .receiver(handler)
                .also_addressed_as(systems::REGIONAL_GATEWAY.id),
            vec![DECIDED_SERVICE_ID.to_owned()],
        );
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let grpc = egov_bus::grpc::GrpcRoutes::new()
            .add_service(crate::grpc::QueueRegisterService::new(receiver.clone()).into_server())
            .add_service(receiver.into_server());
        let operators = egov_signin::operator::Operators::from_data_dir_or_none(&config.data_dir);
        let http = crate::http::router(
            store.clone(),
            clock,
            notices,
            &operators,
            mount.metrics.clone(),
        );
        Ok(Mounted {
            grpc,
            http,
            inbox,
            tasks: vec![("the cabinet referral task failed", notices_task)],
        })
    }
}
