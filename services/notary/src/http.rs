//! The registry's (БНАЖ / ЕНИС) HTTP side for operators, next to egov-bus's `/health`
//! and `/metrics`:
//!
//! - `POST /powers-of-attorney`: registers a power of attorney from a JSON body
//!   (see [`crate::registration`]); `201` with the stored record, `400` naming every bad
//!   field, `409` when the number is taken. A refused body stores nothing.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use egov_core::StatusCode;
use egov_signin::operator::{Operators, Role};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

use crate::NotaryError;
use crate::registration::{self, FieldError, PowerOfAttorneyJson};
use crate::registry::Registry;

/// The path operators register powers of attorney at.
pub const POWERS_OF_ATTORNEY_PATH: &str = "/powers-of-attorney";

/// Returns the registry's routes merged with `/health` and `/metrics`.
pub fn router(registry: Registry, operators: &Operators, metrics: PrometheusHandle) -> Router {
    let routes = Router::new()
        .route(POWERS_OF_ATTORNEY_PATH, post(register))
        .with_state(registry);
    // Operator writes (and the operator's views) need an OPERATOR or ADMIN token.
    let routes = operators.require(Role::Operator, routes);
    egov_bus::http::router(crate::config::SERVICE, metrics, routes)
}

/// The body of a `201 Created`.
#[derive(Debug, Serialize)]
struct Registered {
    power_of_attorney: PowerOfAttorneyJson,
}

/// The body of a refusal: the status code, one line for people, every field for programs.
#[derive(Debug, Serialize)]
struct Refusal {
    code: &'static str,
    message: String,
    errors: Vec<FieldError>,
}

async fn register(State(registry): State<Registry>, body: Bytes) -> Response {
    let power = match registration::parse(&body, registry.today()) {
        Ok(power) => power,
        Err(errors) => return refuse(HttpStatus::BAD_REQUEST, StatusCode::InvalidRequest, errors),
    };
    match registry.register(&power).await {
        Ok(()) => (
            HttpStatus::CREATED,
            Json(Registered {
                power_of_attorney: PowerOfAttorneyJson::from(&power),
            }),
        )
            .into_response(),
        Err(NotaryError::Duplicate { number }) => refuse(
            HttpStatus::CONFLICT,
            StatusCode::ServiceRefused,
            vec![FieldError {
                field: "number".to_owned(),
                message: format!("power of attorney {number} is already registered"),
            }],
        ),
        Err(NotaryError::InvalidArgument { field, reason }) => refuse(
            HttpStatus::BAD_REQUEST,
            StatusCode::InvalidRequest,
            vec![FieldError {
                field: field.to_owned(),
                message: reason,
            }],
        ),
        Err(error) => {
            let body = Refusal {
                code: StatusCode::Internal.as_str(),
                message: error.public_message(),
                errors: Vec::new(),
            };
            (HttpStatus::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}

/// Answers a refusal naming each field, with one joined line for people.
fn refuse(status: HttpStatus, code: StatusCode, errors: Vec<FieldError>) -> Response {
    let message = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ");
    let body = Refusal {
        code: code.as_str(),
        message,
        errors,
    };
    (status, Json(body)).into_response()
}
