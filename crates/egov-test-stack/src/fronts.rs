//! The front doors' own systems, real and in-process, for tests that follow a request to
//! where its recipient sees the outcome: the portal (egov-portal) with its personal cabinet,
//! and the State Corporation IS's receiver of the providers' results and its operator's desk
//! on the web (egov-con).

use std::net::SocketAddr;
use std::sync::Arc;

use egov_core::systems;
use egov_system::cabinet::CABINET_NOTIFY_SERVICE_ID;
use egov_testkit::sandbox::RegionalRoute;

use crate::{Neighbours, loopback_listeners};

/// The real portal [`Neighbours::start_portal`] started.
pub struct StartedPortal {
    /// Its store: the citizens' accounts and the personal cabinet.
    pub store: egov_portal::Store,
    /// Its gRPC address (the cabinet's receiver).
    pub grpc: SocketAddr,
    /// Its pages, `http://host:port`.
    pub url: String,
}

/// The State Corporation's desk on the web [`Neighbours::serve_state_corporation_desk`] served.
pub struct ServedDesk {
    /// Its sign-in, with the operator's account.
    pub signin: egov_signin::Signin,
    /// Its HTTP address.
    pub addr: SocketAddr,
    /// Its pages and JSON API, `http://host:port`.
    pub url: String,
}

impl Neighbours {
    /// Serves egov-con's pages and JSON API over `desk` on a loopback port, behind the sign-in
    /// of `config` (its accounts in the desk's store) with one operator account, `(login,
    /// name)` with `password`; the login must be one of the desk's operators.
    pub async fn serve_state_corporation_desk(
        &self,
        config: &egov_con::Config,
        desk: egov_con::Desk,
        operator: (&str, &str),
        password: &str,
    ) -> ServedDesk {
        let signin = egov_con::system::open_signin(config, desk.store(), self.clock.shared())
            .await
            .expect("sign-in opens");
        signin
            .add_account(
                operator.0,
                operator.1,
                &[egov_con::OPERATOR_ROLE.to_owned()],
                password,
            )
            .await
            .expect("operator account");
        let metrics = egov_bus::telemetry::prometheus_handle().expect("metrics");
        let router = egov_con::system::http(desk, &signin, metrics);
        let (_, http) = loopback_listeners().await;
        let addr = http.local_addr().expect("addr");
        tokio::spawn(egov_bus::http::serve_http(
            http,
            router,
            std::future::pending(),
        ));
        ServedDesk {
            signin,
            addr,
            url: format!("http://{addr}"),
        }
    }

    /// Returns the regional gateway's routes of services A and F to the provider's
    /// workstation (the back office) for the front systems `fronts`, as
    /// `registry-regional.toml` routes them.
    pub fn workstation_routes<'a>(&self, fronts: &'a [&'a str]) -> [RegionalRoute<'a>; 2] {
        let workstation = self.backoffice_addr();
        [
            (
                egov_backoffice::ADOPTION_APPLY_SERVICE_ID,
                systems::BACKOFFICE.id,
                workstation,
                fronts,
            ),
            (
                egov_backoffice::GUARDIANSHIP_APPLY_SERVICE_ID,
                systems::BACKOFFICE.id,
                workstation,
                fronts,
            ),
        ]
    }

    /// Starts the real portal with the portal's seal, its data under the sandbox's dir and
    /// calling through the sandbox's gateway, after `configure` adjusts its config (given the
    /// portal's own URL); routes `portal.cabinet.notify` to it for the back office, as the
    /// stack's registry does.
    pub async fn start_portal(
        &self,
        configure: impl FnOnce(&mut egov_portal::Config, &str),
    ) -> StartedPortal {
        let mut config = egov_portal::Config::with_data_dir(self.sandbox.dir().join("portal"));
        config.gateway_endpoint = self.sandbox.gateway_endpoint();
        let (grpc, http) = loopback_listeners().await;
        let grpc_addr = grpc.local_addr().expect("addr");
        let url = format!("http://{}", http.local_addr().expect("addr"));
        configure(&mut config, &url);
        std::fs::create_dir_all(&config.data_dir).expect("portal dir");
        let store = egov_portal::Store::open(&config.database_url())
            .await
            .expect("portal store");
        tokio::spawn(egov_system::runtime::serve::<egov_portal::Portal, _>(
            config,
            egov_system::Parts {
                identity: self.portal.identity().clone(),
                verifier: self.sandbox.verifier(),
                store: store.clone(),
                clock: self.clock.shared(),
            },
            egov_bus::service::Listeners { grpc, http },
            None,
            std::future::pending(),
        ));
        self.sandbox.route(
            CABINET_NOTIFY_SERVICE_ID,
            systems::PORTAL.id,
            grpc_addr,
            &[systems::BACKOFFICE.id],
        );
        StartedPortal {
            store,
            grpc: grpc_addr,
            url,
        }
    }

    /// Serves the State Corporation IS's receiver of the providers' results (egov-con's
    /// `con.application.decided`) over `store`, sealed as the State Corporation, and routes it
    /// for the back office; returns its address.
    pub async fn serve_state_corporation_inbox(&self, store: egov_con::Store) -> SocketAddr {
        let receiver = egov_system::Receiver::new(
            self.con.identity().clone(),
            self.sandbox.verifier(),
            Arc::new(egov_con::DecidedHandler::new(store, self.clock.shared())),
            self.clock.shared(),
        );
        let (grpc, _) = loopback_listeners().await;
        let addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_bus::grpc::serve(
            grpc,
            egov_bus::grpc::GrpcRoutes::new().add_service(receiver.into_server()),
            std::future::pending(),
        ));
        self.sandbox.route(
            egov_con::DECIDED_SERVICE_ID,
            systems::STATE_CORPORATION.id,
            addr,
            &[systems::BACKOFFICE.id],
        );
        addr
    }
}
