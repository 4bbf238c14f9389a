//! Starting the centre: open its state, then serve gRPC and HTTP on listeners
//! bound by the caller until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

use egov_bus::shutdown::Stop;
use egov_core::clock::Clock;
use tokio::net::TcpListener;

use crate::PkiError;
use crate::centre::Centre;
use crate::config::{Config, SERVICE};
use crate::grpc::CentreService;

/// Runs the centre on the clock its config's `clock` key names (the wall clock, or the
/// stack's followed from NATS, which must then be reachable) until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), PkiError> {
    let clock = egov_bus::clock::service_clock(config.clock.mode(), &config.nats_url, SERVICE)
        .await?
        .shared();
    run_with_clock(config, clock, grpc, http, shutdown).await
}

/// Runs the centre on `clock` (e.g. the stack's virtual clock) until `shutdown` resolves.
pub async fn run_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), PkiError> {
    // The process-wide recorder (installed on first use): logging stays
    // whatever main or the test set up.
    let metrics = egov_bus::telemetry::prometheus_handle()
        .map_err(|error| PkiError::Config(format!("metrics: {error}")))?;
    let centre = Arc::new(Centre::open(&config, clock).await?);
    tracing::info!(
        grpc = ?grpc.local_addr().ok(),
        http = ?http.local_addr().ok(),
        data_dir = %config.data_dir.display(),
        "certification centre starting"
    );

    // One shutdown future, two servers: [`Stop`] fans it out.
    let stop = Stop::spawn(shutdown);

    let routes = egov_bus::grpc::GrpcRoutes::new()
        .system("pki")
        .add_service(CentreService::new(centre.clone()).into_server());
    let served = egov_bus::service::serve_grpc_and_http(
        grpc,
        routes,
        http,
        crate::http::router(centre.clone(), metrics),
        &stop,
    )
    .await;
    centre.close().await;
    served?;
    tracing::info!("certification centre stopped");
    Ok(())
}
