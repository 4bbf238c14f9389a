//! egov-esobes: the social-protection IS («Е-собес» АЖ), the target system of service C
//! (compensation of the cost of home schooling of disabled children) in FLOWS.md. Takes the
//! applications the portal and the State Corporation send through the gateway, checks the
//! grounds, registers them and opens the provider's back-office case; keeps the head-signed
//! notification of the assigned benefit (or the refusal) and answers it.
//! Run it with `cargo run -p egov-esobes -- --data-dir .egov/esobes` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`compensation`]: service C's ids, its intake profile and its grounds check.
//! - [`store`]: [`Store`], the SQLite state (the intake's tables).
//! - [`grpc`]: the direct gRPC contract (a signed call without the gateway).
//! - [`system`]: [`Esobes`], the system the shared runtime (`egov_system::runtime`) enrolls,
//!   serves and stops.
//! - [`error`]: [`EsobesError`] and its mapping to a fault.

pub mod compensation;
pub mod config;
pub mod error;
pub mod grpc;
pub mod store;
pub mod system;

pub use compensation::{
    APPLY_SERVICE_ID, DECIDED_SERVICE_ID, HomeSchoolingCompensation, PROFILE, RESULT_SERVICE_ID,
    SERVICE_IDS,
};
pub use config::Config;
pub use error::EsobesError;
pub use store::Store;
pub use system::Esobes;
