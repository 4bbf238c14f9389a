//! The Labour Market AIS's («Еңбек нарығы» ААЖ) HTTP side for operators, next to egov-bus's
//! `/health` and `/metrics`:
//!
//! - `POST /employment`: records (or replaces) a person's employment from a JSON body
//!   `{"iin", "employer_bin", "employer_name", "since"?}`; `201` with the record, `400`
//!   (`EDAT002`) naming every bad field. A refused body stores nothing.
//! - `DELETE /employment/{iin}`: ends it; `204`, `404` (`EDAT001`) when none is recorded,
//!   `400` for a malformed IIN.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use egov_core::clock::Clock;
use egov_core::{Iin, StatusCode};
use egov_signin::operator::{Operators, Role};
use egov_system::intake::local_date;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

use crate::LaborError;
use crate::employment::{self, EmploymentJson, FieldError};
use crate::store::Store;

/// The path operators record employment at.
pub const EMPLOYMENT_PATH: &str = "/employment";

/// What the handlers share.
#[derive(Debug, Clone)]
struct Http {
    store: Store,
    clock: Arc<dyn Clock>,
}

/// Returns the system's routes merged with `/health` and `/metrics`.
pub fn router(
    store: Store,
    clock: Arc<dyn Clock>,
    operators: &Operators,
    metrics: PrometheusHandle,
) -> Router {
    let routes = Router::new()
        .route(EMPLOYMENT_PATH, post(record))
        .route("/employment/{iin}", delete(end))
        .with_state(Http { store, clock });
    // Operator writes (and the operator's views) need an OPERATOR or ADMIN token.
    let routes = operators.require(Role::Operator, routes);
    egov_bus::http::router(crate::config::SERVICE, metrics, routes)
}

/// The body of a `201 Created`.
#[derive(Debug, Serialize)]
struct Recorded {
    employment: EmploymentJson,
}

/// The body of a refusal: the status code, one line for people, every field for programs.
#[derive(Debug, Serialize)]
struct Refusal {
    code: &'static str,
    message: String,
    errors: Vec<FieldError>,
}

async fn record(State(http): State<Http>, body: Bytes) -> Response {
    let employment = match employment::parse(&body, local_date(http.clock.now())) {
        Ok(employment) => employment,
        Err(errors) => return refuse(HttpStatus::BAD_REQUEST, StatusCode::InvalidRequest, errors),
    };
    match http
        .store
        .record_employment(&employment, http.clock.now())
        .await
    {
        Ok(()) => {
            tracing::info!(iin = %employment.iin, employer = %employment.employer_bin, "employment recorded");
            (
                HttpStatus::CREATED,
                Json(Recorded {
                    employment: EmploymentJson::from(&employment),
                }),
            )
                .into_response()
        }
        Err(error) => failure(&error),
    }
}

async fn end(State(http): State<Http>, Path(iin): Path<String>) -> Response {
    let iin = match Iin::parse(&iin) {
        Ok(iin) => iin,
        Err(error) => {
            return refuse(
                HttpStatus::BAD_REQUEST,
                StatusCode::InvalidRequest,
                vec![FieldError {
                    field: "iin".into(),
                    message: error.to_string(),
                }],
            );
        }
    };
    match http.store.end_employment(&iin).await {
        Ok(()) => {
            tracing::info!(iin = %iin, "employment ended");
            HttpStatus::NO_CONTENT.into_response()
        }
        Err(error @ LaborError::EmploymentNotFound { .. }) => refuse(
            HttpStatus::NOT_FOUND,
            StatusCode::DataNotFound,
            vec![FieldError {
                field: "iin".into(),
                message: error.to_string(),
            }],
        ),
        Err(error) => failure(&error),
    }
}

/// Answers an internal failure with a generic line; the details go to the log.
fn failure(error: &LaborError) -> Response {
    let body = Refusal {
        code: error.status().as_str(),
        message: error.public_message(),
        errors: Vec::new(),
    };
    (HttpStatus::INTERNAL_SERVER_ERROR, Json(body)).into_response()
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
