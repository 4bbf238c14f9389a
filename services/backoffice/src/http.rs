//! The back office's HTTP side: the worklist's pages and JSON API ([`crate::web`]) beside
//! egov-bus's `/health` and `/metrics`.

use axum::Router;
use egov_signin::Signin;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::web::People;
use crate::workflow::Workflow;

/// Returns the back office's routes: the worklist behind `signin`, `/health` and `/metrics`.
pub fn router(
    metrics: PrometheusHandle,
    workflow: Workflow,
    people: People,
    signin: &Signin,
) -> Router {
    egov_bus::http::router(
        crate::config::SERVICE,
        metrics,
        crate::web::router(workflow, people, signin),
    )
}
