//! egov-notary: the unified notary information system (БНАЖ / ЕНИС), the registry of
//! notarised powers of attorney (сенімхат / доверенность). FLOWS.md: the State Corporation
//! flow asks it, through the gateway, whether a representative acts by a power of attorney.
//! Run it with `cargo run -p egov-notary -- --data-dir .egov/notary` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`power_of_attorney`]: [`PowerOfAttorney`], its field rules and validity on a date.
//! - [`fixtures`]: the powers loaded on the first start, with their fixed numbers.
//! - [`store`]: [`Store`], the SQL state (SQLite or PostgreSQL).
//! - [`registry`]: [`Registry`], the look-ups and registration over store and clock.
//! - [`handler`]: [`NotaryHandler`], the service ids answered through the gateway.
//! - [`grpc`]: the direct `egov.v1.Notary` tonic service.
//! - [`registration`]: the operator's JSON body, checked field by field.
//! - [`http`]: `POST /powers-of-attorney`, `/health`, `/metrics`.
//! - [`system`]: [`Notary`], the registry the shared runtime (`egov_system::runtime`)
//!   enrolls, serves and stops.
//! - [`error`]: [`NotaryError`] and its mappings to a fault and a gRPC status.

pub mod config;
pub mod error;
pub mod fixtures;
pub mod grpc;
pub mod handler;
pub mod http;
pub mod power_of_attorney;
pub mod registration;
pub mod registry;
pub mod store;
pub mod system;

pub use config::Config;
pub use error::NotaryError;
pub use handler::{FIND_SERVICE_ID, GET_SERVICE_ID, NotaryHandler};
pub use power_of_attorney::PowerOfAttorney;
pub use registry::Registry;
pub use store::Store;
pub use system::Notary;
