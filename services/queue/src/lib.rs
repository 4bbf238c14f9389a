//! egov-queue: the kindergarten queue management IS and the electronic register of the
//! pre-school queue (кезектілікті басқарудың арнайы АЖ; балаларды кезекке қою бойынша
//! электрондық Тізілім), the target system of service D in FLOWS.md. Places a child under 7
//! in the queue of a district, age group and kindergarten, or issues a referral (жолдама)
//! where a place is free; refuses with the reason otherwise.
//! Run it with `cargo run -p egov-queue -- --data-dir .egov/queue` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`entry`]: kindergartens, queue entries, referrals and age groups.
//! - [`placement`]: service D's ids, its intake profile and [`QueueHandler`].
//! - [`fixtures`]: the kindergartens and free places loaded on the first start.
//! - [`store`]: [`Store`], the SQLite state (the intake's tables, places and the queue).
//! - [`cabinet`]: referrals issued after the placement, handed to the citizen's cabinet.
//! - [`grpc`]: the direct gRPC contract (a signed call without the gateway).
//! - [`http`]: `GET /places`, `POST /places`, `/health`, `/metrics`.
//! - [`system`]: [`Queue`], the register the shared runtime (`egov_system::runtime`) enrolls,
//!   serves and stops.
//! - [`error`]: [`QueueError`] and its mapping to a fault.

pub mod cabinet;
pub mod config;
pub mod entry;
pub mod error;
pub mod fixtures;
pub mod grpc;
pub mod http;
pub mod placement;
pub mod store;
pub mod system;

pub use config::Config;
pub use error::QueueError;
pub use placement::{
    DECIDED_SERVICE_ID, PLACE_SERVICE_ID, POSITION_SERVICE_ID, PROFILE, QueueHandler,
    RESULT_SERVICE_ID, SERVICE_IDS,
};
pub use store::Store;
pub use system::Queue;
