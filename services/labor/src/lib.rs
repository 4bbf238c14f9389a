//! egov-labor: the Labour Market automated IS («Еңбек нарығы» ААЖ), the target system of
//! service B (certificate for an unemployed citizen) in FLOWS.md. Takes the applications the
//! portal and the State Corporation send through the gateway, checks them, registers them and
//! opens the provider's back-office case; keeps the head-signed result and answers it.
//! Run it with `cargo run -p egov-labor -- --data-dir .egov/labor` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`certificate`]: service B's ids, its intake profile and the employment ground.
//! - [`employment`]: [`Employment`], the register of employed persons, and its JSON body.
//! - [`fixtures`]: the employment recorded on the first start.
//! - [`store`]: [`Store`], the SQLite state (the intake's tables and the employment).
//! - [`grpc`]: the direct gRPC contract (a signed call without the gateway).
//! - [`http`]: `POST /employment`, `DELETE /employment/{iin}`, `/health`, `/metrics`.
//! - [`system`]: [`Labor`], the system the shared runtime (`egov_system::runtime`) enrolls,
//!   serves and stops.
//! - [`error`]: [`LaborError`] and its mapping to a fault.

pub mod certificate;
pub mod config;
pub mod employment;
pub mod error;
pub mod fixtures;
pub mod grpc;
pub mod http;
pub mod store;
pub mod system;

pub use certificate::{
    APPLY_SERVICE_ID, DECIDED_SERVICE_ID, PROFILE, RESULT_SERVICE_ID, SERVICE_IDS,
    UnemployedCertificate,
};
pub use config::Config;
pub use employment::Employment;
pub use error::LaborError;
pub use store::Store;
pub use system::Labor;
