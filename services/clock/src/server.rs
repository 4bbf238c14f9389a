//! Starting the authority: open the clock store, then serve gRPC and HTTP on listeners bound
//! by the caller until the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

use egov_bus::clock::ClockStore;
use egov_bus::shutdown::Stop;
use tokio::net::TcpListener;

use crate::authority::{Authority, Pacing};
use crate::config::Config;
use crate::grpc::ClockService;

/// Runs the clock authority until `shutdown` resolves.
pub async fn run(
    config: Config,
    grpc: TcpListener,
    http: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let metrics = egov_bus::telemetry::prometheus_handle()?;
    let authority = Arc::new(open(&config).await?);
    tracing::info!(
        grpc = ?grpc.local_addr().ok(),
        http = ?http.local_addr().ok(),
        nats = %config.nats_url,
        operator_token = config.operator_token.is_some(),
        "clock authority starting"
    );
    let stop = Stop::spawn(shutdown);
    let routes = egov_bus::grpc::GrpcRoutes::new()
        .system("clock")
        .add_service(ClockService::new(authority.clone()).into_server());
    egov_bus::service::serve_grpc_and_http(
        grpc,
        routes,
        http,
        crate::http::router(authority, metrics),
        &stop,
    )
    .await?;
    tracing::info!("clock authority stopped");
    Ok(())
}

/// Opens the authority the config describes.
pub async fn open(config: &Config) -> anyhow::Result<Authority> {
    let store = ClockStore::connect(&config.nats_url).await?;
    let pacing = Pacing {
        settle: config.settle(),
        ack_timeout: config.ack_timeout(),
    };
    Ok(Authority::open(store, pacing, config.operator_token.clone()).await?)
}
