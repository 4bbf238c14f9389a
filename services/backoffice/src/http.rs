//! The back office's HTTP side: `/health` and `/metrics` for now. The clerk / head /
//! executor worklist pages are a later task and will call [`crate::workflow::Workflow`].

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

/// Returns the back office's routes: egov-bus's `/health` and `/metrics`.
pub fn router(metrics: PrometheusHandle) -> Router {
    egov_bus::http::router(crate::config::SERVICE, metrics, Router::new())
}
