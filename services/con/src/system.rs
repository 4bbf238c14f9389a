//! The State Corporation's integrated IS (ХҚО АЖ / ИИС ЦОН) as a [`System`] of the shared
//! runtime: enrolled for its seal, which countersigns what its operators sign; its operators
//! enrolled for their employee certificates; the workstation's pages on its HTTP port.

use std::sync::Arc;

use egov_core::clock::Clock;
use egov_core::envelope::RevocationSource;
use egov_core::systems::{self, SystemInfo};
use egov_signin::{Settings, Signin};
use egov_system::identity::EnrolmentProof;
use egov_system::{Mount, Mounted, System};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Config;
use crate::decided::DecidedHandler;
use crate::desk::Desk;
use crate::operator::Operators;
use crate::store::Store;
use crate::{ConError, web};

/// The workstation, for [`egov_system::runtime::run`] and its kin.
#[derive(Debug, Clone, Copy)]
pub struct Con;

/// Returns the workstation's sign-in settings from its config.
pub fn signin_settings(config: &Config) -> Settings {
    let mut settings = Settings::new(web::SIGNIN_APP, "ХҚО / ЦОН");
    settings.secure_cookie = config.signin_secure_cookie;
    settings.origins = config.signin_origins.clone();
    settings.idle = std::time::Duration::from_secs(config.signin_idle_minutes.saturating_mul(60));
    settings.absolute =
        std::time::Duration::from_secs(config.signin_absolute_hours.saturating_mul(3600));
    settings.bootstrap = config.signin_bootstrap.clone();
    settings.home = web::DESK_PATH.to_owned();
    settings
}

/// Opens the workstation's sign-in in its database, adding the bootstrap file's accounts.
pub async fn open_signin(
    config: &Config,
    store: &Store,
    clock: Arc<dyn Clock>,
) -> Result<Signin, ConError> {
    let signin = Signin::open(store.pool().clone(), signin_settings(config), clock)
        .await
        .map_err(|error| {
            ConError::from(egov_system::SystemError::Config(format!(
                "sign-in: {error}"
            )))
        })?;
    Ok(signin)
}

/// Returns the HTTP router: the workstation's pages, `/health` and `/metrics`.
pub fn http(desk: Desk, signin: &Signin, metrics: PrometheusHandle) -> axum::Router {
    egov_bus::http::router(crate::config::SERVICE, metrics, web::router(desk, signin))
}

/// Runs an `accounts` subcommand of the binary on the workstation's database.
pub async fn accounts(
    config: &Config,
    command: &egov_signin::cli::AccountsCommand,
) -> Result<(), ConError> {
    let store = Store::open(&config.database_url()).await?;
    let signin = open_signin(config, &store, egov_core::clock::SystemClock::shared()).await?;
    let result = command
        .run(
            &signin,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout(),
        )
        .await;
    store.close().await;
    result.map_err(|error| ConError::invalid("accounts", error.to_string()))
}

impl System for Con {
    const ENTRY: &'static SystemInfo = &systems::STATE_CORPORATION;
    const TITLE: &'static str = "State Corporation workstation";
    type Config = Config;
    type Store = Store;
    type Error = ConError;

    async fn open_store(config: &Config) -> Result<Store, ConError> {
        Store::open(&config.database_url()).await
    }

    async fn close_store(store: Store) {
        store.close().await;
    }

    /// Enrolls the configured operators, opens sign-in and serves the pages, and receives
    /// the providers' results ([`crate::DECIDED_SERVICE_ID`]) over gRPC and its inbox.
    async fn mount<R: RevocationSource + 'static>(
        config: &Config,
        mount: Mount<R, Store>,
    ) -> Result<Mounted, ConError> {
        let password = config
            .registrar_password()
            .map_err(|reason| ConError::invalid("registrar_password_file", reason))?;
        let registrar = match (&config.registrar_login, &password) {
            (Some(login), Some(password)) => Some(EnrolmentProof::Registrar { login, password }),
            _ => None,
        };
        let operators = Operators::enroll(
            &config.pki_endpoint,
            &config.operators,
            &config.data_dir,
            registrar,
            mount.clock.now(),
        )
        .await?;
        tracing::info!(operators = operators.len(), "operators enrolled");
        let signin = open_signin(config, &mount.store, mount.clock.clone()).await?;
        if signin
            .accounts()
            .await
            .map_err(|error| ConError::invalid("accounts", error.to_string()))?
            .is_empty()
        {
            tracing::warn!(
                "no operator accounts: add one with `egov-con accounts add <login> --name … --role operator`"
            );
        }
        let caller = mount.caller(&config.gateway_endpoint)?;
        let desk = Desk::new(
            mount.store.clone(),
            caller,
            operators,
            mount.clock.clone(),
            mount.verifier.clone(),
        );
        tokio::spawn(desk.clone().warm_up());
        // Providers' results for what the State Corporation filed (F), sync or async.
        let receiver = mount.receiver(DecidedHandler::new(
            mount.store.clone(),
            mount.clock.clone(),
        ));
        let inbox = mount.launch_inbox(receiver.clone()).await;
        Ok(Mounted {
            grpc: egov_bus::grpc::GrpcRoutes::new().add_service(receiver.into_server()),
            http: http(desk, &signin, mount.metrics.clone()),
            inbox,
            tasks: Vec::new(),
        })
    }
}
