//! The gateway's HTTP face: the message log as JSON, Mermaid diagrams of an
//! exchange, and the registry reload for operators.
//!
//! Routes:
//! - `GET /messages/{message_id}`: the log records of one message.
//! - `GET /correlations/{correlation_id}`: every record of one exchange.
//! - `GET /correlations/{correlation_id}/diagram`: the exchange as a Mermaid sequence diagram.
//! - `POST /admin/registry/reload`: re-reads the registry file, here and on every other
//!   replica of this gateway (see [`crate::reload`]); answers each replica's counts.
//! - `/admin/faults[/{id}]`: the faults injected at run time (see [`crate::faults::admin`]).
//!
//! The log routes need an operator (role OPERATOR: bodies and headers name citizens), the
//! reload an administrator (ADMIN); without a token 401, with the wrong role 403.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use egov_core::envelope::RevocationSource;
use egov_signin::operator::Role;

use crate::exchange::Gateway;
use crate::message_log::{LogRecord, MessageLogError};

/// Builds the gateway's own HTTP routes.
pub fn routes<R: RevocationSource + 'static>(gateway: Arc<Gateway<R>>) -> Router {
    let operators = gateway.operators().clone();
    let log = Router::new()
        .route("/messages/{message_id}", get(message::<R>))
        .route("/correlations/{correlation_id}", get(correlation::<R>))
        .route("/correlations/{correlation_id}/diagram", get(diagram::<R>))
        .with_state(gateway.clone());
    let admin = Router::new()
        .route("/admin/registry/reload", post(reload::<R>))
        .with_state(gateway.clone())
        .merge(crate::faults::admin::routes(gateway));
    operators
        .require(Role::Operator, log)
        .merge(operators.require(Role::Admin, admin))
}

/// An HTTP error answer with a JSON body naming what failed.
enum AppError {
    Store(MessageLogError),
    NotFound(String),
    Registry(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AppError::Store(err) => {
                tracing::error!(error = %err, "message log query failed");
                (
                    HttpStatus::INTERNAL_SERVER_ERROR,
                    "message log query failed".to_owned(),
                )
            }
            AppError::NotFound(message) => (HttpStatus::NOT_FOUND, message),
            AppError::Registry(message) => (HttpStatus::UNPROCESSABLE_ENTITY, message),
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

async fn message<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    Path(message_id): Path<String>,
) -> Result<Json<Vec<LogRecord>>, AppError> {
    let records = gateway
        .log()
        .by_message_id(&message_id)
        .await
        .map_err(AppError::Store)?;
    if records.is_empty() {
        return Err(AppError::NotFound(format!(
            "no message with id {message_id}"
        )));
    }
    Ok(Json(records))
}

async fn correlation_records<R: RevocationSource + 'static>(
    gateway: &Gateway<R>,
    correlation_id: &str,
) -> Result<Vec<LogRecord>, AppError> {
    let records = gateway
        .log()
        .by_correlation_id(correlation_id)
        .await
        .map_err(AppError::Store)?;
    if records.is_empty() {
        return Err(AppError::NotFound(format!(
            "no exchange with correlation id {correlation_id}"
        )));
    }
    Ok(records)
}

async fn correlation<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    Path(correlation_id): Path<String>,
) -> Result<Json<Vec<LogRecord>>, AppError> {
    correlation_records(&gateway, &correlation_id)
        .await
        .map(Json)
}

async fn diagram<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    Path(correlation_id): Path<String>,
) -> Result<String, AppError> {
    let records = correlation_records(&gateway, &correlation_id).await?;
    Ok(crate::log_service::diagram(&gateway.system_id, &records))
}

async fn reload<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
) -> Result<Json<serde_json::Value>, AppError> {
    let replicas = crate::reload::reload_everywhere(&gateway)
        .await
        .map_err(|err| AppError::Registry(err.to_string()))?;
    // The replica asked comes first; its counts stay the answer's top level, as before.
    let (systems, services) = replicas
        .first()
        .map_or((0, 0), |own| (own.systems, own.services));
    Ok(Json(serde_json::json!({
        "systems": systems,
        "services": services,
        "replicas": replicas,
    })))
}
