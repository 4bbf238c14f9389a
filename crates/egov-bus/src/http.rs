//! The operational HTTP endpoints every service has, and the server that runs them.
//!
//! - `GET /health`: `200 {"status":"ok","service":<name>}`.
//! - `GET /metrics`: Prometheus text from the process-wide recorder.

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::BusError;

/// The path of the liveness endpoint.
pub const HEALTH_PATH: &str = "/health";

/// The path of the Prometheus scrape endpoint.
pub const METRICS_PATH: &str = "/metrics";

/// The content type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone)]
struct OpsState {
    service: String,
    metrics: PrometheusHandle,
}

/// Returns a router with only `/health` and `/metrics`.
pub fn ops_router(service: impl Into<String>, metrics: PrometheusHandle) -> Router {
    let state = OpsState {
        service: service.into(),
        metrics,
    };
    Router::new()
        .route(HEALTH_PATH, get(health))
        .route(METRICS_PATH, get(render_metrics))
        .with_state(state)
}

/// Returns the service's own `routes` merged with `/health` and `/metrics`.
pub fn router(service: impl Into<String>, metrics: PrometheusHandle, routes: Router) -> Router {
    routes.merge(ops_router(service, metrics))
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains open requests.
pub async fn serve_http<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
) -> Result<(), BusError>
where
    F: Future<Output = ()> + Send + 'static,
{
    tracing::info!(addr = ?listener.local_addr().ok(), "HTTP server listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(BusError::Http)
}

async fn health(State(state): State<OpsState>) -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok", "service": state.service }))
}

async fn render_metrics(State(state): State<OpsState>) -> impl IntoResponse {
    // No background upkeep task runs (install_recorder does not start one), so
    // histograms are drained here, once per scrape.
    state.metrics.run_upkeep();
    (
        [(CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}
