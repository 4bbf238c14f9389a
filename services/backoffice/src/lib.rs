//! egov-backoffice: the provider back office (көрсетілетін қызметті беруші / услугодатель) of
//! every service A–F in FLOWS.md — the office clerk (кеңсе / канцелярия), the head (басшы /
//! руководитель) and the responsible executor (жауапты орындаушы / ответственный исполнитель)
//! walking each case through the regulation's steps, norms and item-10 refusals.
//! Run it with `cargo run -p egov-backoffice -- --data-dir .egov/backoffice` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`catalogue`]: [`Catalogue`], the services as data (`catalogue/*.toml`) and their checks.
//! - [`norm`]: [`Norm`], a step's duration (`15 min`, `1 cd`, `6 wd`) and its due time.
//! - [`policy`]: [`Policy`] (auto / manual) and the automatic decision by item-9 documents.
//! - [`workflow`]: [`Workflow`], cases walking their steps; what gRPC, gateway and web call.
//! - [`messages`]: the result and status `ServiceResult`s, and the service ids they go to.
//! - [`delivery`]: [`Outbox`], sending results (head-signed) and statuses, with retries.
//! - [`store`]: [`Store`], the SQL state (SQLite or PostgreSQL): cases, steps, results,
//!   deliveries.
//! - [`head`]: the heads' HEAD-role credentials: each provider organisation's head signs its results.
//! - [`handler`]: [`BackOfficeHandler`], the service ids answered through the gateway.
//! - [`listing`]: the catalogue as the portal and the State Corporation read it.
//! - [`grpc`]: the direct `egov.v1.BackOffice` tonic service.
//! - [`web`]: the worklist — pages and JSON API for clerk, head and executor.
//! - [`http`]: the worklist's routes beside `/health` and `/metrics`.
//! - [`system`]: [`BackOffice`], the back office as a system of the shared runtime; [`run`]
//!   (enrolls, then serves) and [`serve`] (serves an enrolled back office).
//! - [`error`]: [`BackOfficeError`] and its mappings to a fault and a gRPC status.

pub mod catalogue;
pub mod config;
pub mod delivery;
pub mod error;
pub mod grpc;
pub mod handler;
pub mod head;
pub mod http;
pub mod listing;
pub mod messages;
pub mod norm;
pub mod policy;
pub mod store;
pub mod system;
pub mod web;
pub mod workflow;

pub use catalogue::{Catalogue, CatalogueError, OfficeRole, Service};
pub use config::Config;
pub use delivery::Outbox;
pub use error::BackOfficeError;
pub use handler::{
    ADOPTION_APPLY_SERVICE_ID, BackOfficeHandler, GET_CASE_SERVICE_ID,
    GUARDIANSHIP_APPLY_SERVICE_ID, OPEN_CASE_SERVICE_ID,
};
pub use head::Heads;
pub use listing::{LIST_SERVICES_SERVICE_ID, list_services};
pub use messages::{CABINET_NOTIFY_SERVICE_ID, decided_service_id};
pub use norm::Norm;
pub use policy::{Decision, Policy};
pub use store::Store;
pub use system::{BackOffice, Listeners, Office, Parts, run, serve};
pub use workflow::{CaseFile, Workflow};
