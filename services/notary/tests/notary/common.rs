//! Starting a registry behind a sandbox gateway, and the calls the tests make to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use egov_bus::service::Listeners;
use egov_core::clock::Clock;
use egov_core::systems;
use egov_notary::{FIND_SERVICE_ID, GET_SERVICE_ID, NotaryError, Store};
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyResponse,
};
use egov_system::{CallError, GatewayCaller};
use egov_testkit::Sandbox;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The systems the registry's routes admit, as in the stack's registry.
pub const SENDERS: [&str; 2] = [systems::STATE_CORPORATION.id, systems::PORTAL.id];

/// A registry running behind a sandbox gateway.
pub struct Running {
    pub sandbox: Sandbox,
    pub store: Store,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub con: GatewayCaller,
    pub portal: GatewayCaller,
    pub database: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), NotaryError>>,
}

impl Running {
    /// Starts a sandbox and a registry on the real clock with a fresh database.
    pub async fn start() -> Running {
        Running::start_with(Sandbox::start().await, None).await
    }

    /// Starts a sandbox and a registry that both read `clock`.
    pub async fn start_on(clock: Arc<dyn Clock>) -> Running {
        Running::start_with(Sandbox::start_with_clock(clock).await, None).await
    }

    /// Starts a registry behind `sandbox`, on the database file `database` or a fresh one.
    pub async fn start_with(sandbox: Sandbox, database: Option<PathBuf>) -> Running {
        egov_testkit::service::quiet_logs("egov-notary-tests", "warn");
        let database = database.unwrap_or_else(|| sandbox.dir().join("notary.db"));
        let store = Store::open(&format!("sqlite://{}?mode=rwc", database.display()))
            .await
            .expect("open store");
        let identity = sandbox.system(systems::NOTARY.id, systems::NOTARY.bin);
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let (grpc_addr, http_addr) = (grpc.local_addr().unwrap(), http.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let config = egov_notary::Config::with_data_dir(sandbox.dir().join("notary"));
        egov_testkit::service::write_operators_file(&config.data_dir);
        let task = tokio::spawn(egov_system::runtime::serve::<egov_notary::Notary, _>(
            config,
            egov_system::Parts {
                identity,
                verifier: sandbox.verifier(),
                store: store.clone(),
                clock: sandbox.clock(),
            },
            Listeners { grpc, http },
            None,
            async {
                let _ = stopped.await;
            },
        ));
        // The gateway's registry names only known systems, so the senders come first.
        let con = sandbox.caller(
            systems::STATE_CORPORATION.id,
            systems::STATE_CORPORATION.bin,
        );
        let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
        for service in [GET_SERVICE_ID, FIND_SERVICE_ID] {
            sandbox.route(service, systems::NOTARY.id, grpc_addr, &SENDERS);
        }
        let running = Running {
            sandbox,
            store,
            grpc: grpc_addr,
            http: http_addr,
            con,
            portal,
            database,
            stop,
            task,
        };
        running.wait_until_loaded().await;
        running
    }

    /// Waits until serve() loaded the fixtures, so no test races the first start.
    async fn wait_until_loaded(&self) {
        for _ in 0..200 {
            // The four fixtures and the flow matrix's nine (src/fixtures.rs).
            if self.store.all().await.map(|all| all.len()).unwrap_or(0) >= 4 + 9 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("fixtures were not loaded");
    }

    /// Stops the registry and waits for it, expecting a clean stop.
    pub async fn stop(self) -> Sandbox {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("join")
            .expect("registry stops cleanly");
        self.sandbox
    }

    /// Asks by number through the gateway as `caller`.
    pub async fn get(
        &self,
        caller: &GatewayCaller,
        number: &str,
        service_id: &str,
    ) -> Result<PowerOfAttorneyResponse, CallError> {
        let request = GetPowerOfAttorneyRequest {
            number: number.into(),
            service_id: service_id.into(),
        };
        caller
            .call(GET_SERVICE_ID, systems::NOTARY.id, &request)
            .await
    }

    /// Asks by principal and representative through the gateway as `caller`.
    pub async fn find(
        &self,
        caller: &GatewayCaller,
        principal_iin: &str,
        representative_iin: &str,
        service_id: &str,
    ) -> Result<PowerOfAttorneyResponse, CallError> {
        let request = FindPowerOfAttorneyRequest {
            principal_iin: principal_iin.into(),
            representative_iin: representative_iin.into(),
            service_id: service_id.into(),
        };
        caller
            .call(FIND_SERVICE_ID, systems::NOTARY.id, &request)
            .await
    }

    /// Sends one HTTP/1.1 request and returns the status and the body.
    pub async fn http(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        egov_testkit::service::operator_request(self.http, "notary", method, path, body).await
    }

    /// POSTs a registration and returns the status and the JSON answer.
    pub async fn register(&self, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, body) = self
            .http("POST", "/powers-of-attorney", &body.to_string())
            .await;
        let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON answer: {body}"));
        (status, json)
    }
}
