//! The certification centre's HTTP side: the revocation list and the CA
//! certificates as DER files, next to egov-bus's `/health` and `/metrics`.
//!
//! - `GET /crl`: a fresh CRL signed by the intermediate (`application/pkix-crl`).
//! - `GET /ca/root.der`, `GET /ca/intermediate.der`: the CA certificates (`application/pkix-cert`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::PkiError;
use crate::centre::Centre;

/// The path of the revocation list.
pub const CRL_PATH: &str = "/crl";

/// The path of the root CA certificate.
pub const ROOT_PATH: &str = "/ca/root.der";

/// The path of the intermediate CA certificate.
pub const INTERMEDIATE_PATH: &str = "/ca/intermediate.der";

/// The media type of a DER CRL (RFC 2585).
pub const CRL_CONTENT_TYPE: &str = "application/pkix-crl";

/// The media type of a DER certificate (RFC 2585).
pub const CERT_CONTENT_TYPE: &str = "application/pkix-cert";

/// Returns the centre's routes merged with `/health` and `/metrics`.
pub fn router(centre: Arc<Centre>, metrics: PrometheusHandle) -> Router {
    let routes = Router::new()
        .route(CRL_PATH, get(crl))
        .route(ROOT_PATH, get(root))
        .route(INTERMEDIATE_PATH, get(intermediate))
        .with_state(centre);
    egov_bus::http::router(crate::config::SERVICE, metrics, routes)
}

async fn crl(State(centre): State<Arc<Centre>>) -> Result<Response, AppError> {
    let der = centre.revocation_list().await?;
    Ok(([(CONTENT_TYPE, CRL_CONTENT_TYPE)], der).into_response())
}

async fn root(State(centre): State<Arc<Centre>>) -> Response {
    let der = centre.root().certificate().der.to_vec();
    ([(CONTENT_TYPE, CERT_CONTENT_TYPE)], der).into_response()
}

async fn intermediate(State(centre): State<Arc<Centre>>) -> Response {
    let der = centre.intermediate().certificate().der.to_vec();
    ([(CONTENT_TYPE, CERT_CONTENT_TYPE)], der).into_response()
}

/// A failed HTTP request: logged here, answered with a generic 500.
struct AppError(PkiError);

impl From<PkiError> for AppError {
    fn from(error: PkiError) -> AppError {
        AppError(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self.0, source = ?std::error::Error::source(&self.0), "HTTP request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error of the certification centre",
        )
            .into_response()
    }
}
