//! The portal as a system of the stack: its seal from the centre, the cabinet's receiver for
//! `portal.cabinet.notify`, its pages beside `/health` and `/metrics`.

use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_signin::{Settings as SigninSettings, Signin};
use egov_system::runtime::{Mount, Mounted};
use egov_system::{System, SystemError};

use crate::PortalError;
use crate::cabinet::CabinetHandler;
use crate::config::{Config, SERVICE};
use crate::filing::Filing;
use crate::signer_client::SignerClient;
use crate::store::Store;
use crate::web::{AppState, router};

/// The e-gov portal (ЭҮП).
#[derive(Debug, Clone, Copy)]
pub struct Portal;

/// The sign-in settings of the portal: citizens land in their cabinet.
pub fn signin_settings() -> SigninSettings {
    let mut settings = SigninSettings::new("portal", "egov.kz — ЭҮП / Портал");
    settings.home = "/cabinet".to_owned();
    settings
}

impl System for Portal {
    const ENTRY: &'static SystemInfo = &systems::PORTAL;
    const TITLE: &'static str = "e-gov portal";
    type Config = Config;
    type Store = Store;
    type Error = PortalError;

    async fn open_store(config: &Config) -> Result<Store, PortalError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Serves the cabinet's receiver over gRPC and the pages over HTTP.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, PortalError> {
        let signin = Signin::open(
            mount.store.pool().clone(),
            signin_settings(),
            mount.clock.clone(),
        )
        .await
        .map_err(|error| PortalError::Signin(error.to_string()))?;
        let caller = mount
            .caller(&config.gateway_endpoint)
            .map_err(|error| SystemError::Config(error.to_string()))?;
        let receiver = mount.receiver(CabinetHandler::new(
            mount.store.clone(),
            mount.clock.clone(),
        ));
        let inbox = mount.launch_inbox(receiver.clone()).await;
        let state = AppState {
            store: mount.store.clone(),
            signin,
            filing: Filing {
                caller: caller.clone(),
                check: mount.verifier.clone(),
                clock: mount.clock.clone(),
            },
            caller,
            signer: SignerClient::with_public_base(&config.signer_url, config.signer_public_url()),
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            max_upload_bytes: config.max_upload_bytes,
            clock: mount.clock.clone(),
        };
        let grpc = egov_bus::grpc::GrpcRoutes::new().add_service(receiver.into_server());
        Ok(Mounted {
            grpc,
            http: egov_bus::http::router(SERVICE, mount.metrics.clone(), router(state)),
            inbox,
            tasks: Vec::new(),
        })
    }
}
