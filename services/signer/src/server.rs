//! Serves the signer: gRPC health and reflection, and the HTTP pages and API beside `/health`
//! and `/metrics`, until shutdown; the keys and the requests to sign stay in the data dir.

use std::future::Future;
use std::sync::Arc;

use egov_bus::service::Listeners;
use egov_bus::shutdown::Stop;

use crate::SignerError;
use crate::centre::CertificationCentre;
use crate::config::{Config, SERVICE};
use crate::keyring::Keyring;
use crate::requests::{Requests, random_hex};
use crate::web::{AppState, router};

/// Opens the keys and the kept requests in the config's data dir and serves until `shutdown`
/// resolves.
pub async fn serve(
    config: Config,
    centre: Arc<dyn CertificationCentre>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SignerError> {
    let keyring = Keyring::open(&config.data_dir)?;
    let requests = Requests::open(&config.data_dir).await?;
    let state = AppState {
        keyring,
        requests: requests.clone(),
        centre,
        form_token: random_hex(16)?,
        certificate_days: config.certificate_days,
    };
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| SignerError::Key(format!("telemetry: {error}")))?;
    let http = egov_bus::http::router(SERVICE, metrics, router(state));
    let stop = Stop::spawn(shutdown);
    tracing::info!(
        grpc = ?listeners.grpc.local_addr().ok(),
        http = ?listeners.http.local_addr().ok(),
        "signer starting"
    );
    let served = egov_bus::service::serve_grpc_and_http(
        listeners.grpc,
        egov_bus::grpc::GrpcRoutes::new(),
        listeners.http,
        http,
        &stop,
    )
    .await;
    requests.close().await;
    served?;
    Ok(())
}
