//! The fault table over HTTP JSON, for administrators (role ADMIN, as the registry reload:
//! a fault changes how the stack behaves). Without a token 401, with a lesser role 403.
//!
//! - `GET /admin/faults`: the faults in force.
//! - `POST /admin/faults`: sets one (`egov_faults::Fault` as JSON; an id is made when none
//!   is given); 201 with the fault as set, 400 naming the field that was wrong, 409 when
//!   the id is taken.
//! - `GET /admin/faults/{id}`: one fault, or 404.
//! - `DELETE /admin/faults/{id}`: clears one (204), or 404.
//! - `DELETE /admin/faults`: clears every fault; answers `{"cleared": n}`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use egov_core::envelope::RevocationSource;

use super::{Fault, FaultError, FaultTableError};
use crate::exchange::Gateway;

/// Builds the fault routes; the caller puts them behind the ADMIN role.
pub fn routes<R: RevocationSource + 'static>(gateway: Arc<Gateway<R>>) -> Router {
    Router::new()
        .route(
            "/admin/faults",
            get(list::<R>).post(add::<R>).delete(clear::<R>),
        )
        .route("/admin/faults/{id}", get(one::<R>).delete(remove::<R>))
        .with_state(gateway)
}

/// An error answer: its HTTP status and a JSON body naming what was wrong.
enum AdminError {
    Invalid(FaultError),
    NotFound(String),
    Exists(String),
    Unavailable(String),
}

impl From<FaultTableError> for AdminError {
    fn from(err: FaultTableError) -> AdminError {
        match err {
            FaultTableError::Invalid(err) => AdminError::Invalid(err),
            FaultTableError::Exists(id) => AdminError::Exists(id),
            FaultTableError::Unavailable(reason) => AdminError::Unavailable(reason),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            AdminError::Invalid(err) => (
                HttpStatus::BAD_REQUEST,
                serde_json::json!({ "error": err.to_string(), "field": err.field }),
            ),
            AdminError::NotFound(id) => (
                HttpStatus::NOT_FOUND,
                serde_json::json!({ "error": format!("no fault with id {id:?}") }),
            ),
            AdminError::Exists(id) => (
                HttpStatus::CONFLICT,
                serde_json::json!({ "error": format!("a fault with id {id} is already set"), "field": "id" }),
            ),
            AdminError::Unavailable(reason) => {
                tracing::error!(reason, "fault table unavailable");
                (
                    HttpStatus::SERVICE_UNAVAILABLE,
                    serde_json::json!({ "error": "the shared fault table is unavailable; retry later" }),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

async fn list<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
) -> Json<Vec<Fault>> {
    Json(gateway.faults().list())
}

async fn add<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    body: Bytes,
) -> Result<(HttpStatus, Json<Fault>), AdminError> {
    let fault = Fault::from_json(&body).map_err(AdminError::Invalid)?;
    let fault = gateway.faults().add(fault).await?;
    Ok((HttpStatus::CREATED, Json(fault)))
}

async fn one<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    Path(id): Path<String>,
) -> Result<Json<Fault>, AdminError> {
    gateway
        .faults()
        .get(&id)
        .map(Json)
        .ok_or(AdminError::NotFound(id))
}

async fn remove<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
    Path(id): Path<String>,
) -> Result<HttpStatus, AdminError> {
    match gateway.faults().remove(&id).await? {
        true => Ok(HttpStatus::NO_CONTENT),
        false => Err(AdminError::NotFound(id)),
    }
}

async fn clear<R: RevocationSource + 'static>(
    State(gateway): State<Arc<Gateway<R>>>,
) -> Result<Json<serde_json::Value>, AdminError> {
    let cleared = gateway.faults().clear().await?;
    Ok(Json(serde_json::json!({ "cleared": cleared })))
}
