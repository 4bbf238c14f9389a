//! egov-con: the State Corporation "Government for Citizens" operator workstation
//! (Мемлекеттік корпорация «Азаматтарға арналған үкімет», ХҚО / ЦОН), the front office of
//! FLOWS.md's State Corporation flow (services B, C, D; F at the ХҚО): the electronic queue, the operator's
//! sign-in, the request form, the look-ups through the gateway, service D's consent and receipt
//! of refusal, the request signed with the operator's certificate, the result handed over.
//! Run it with `cargo run -p egov-con -- --data-dir .egov/con` (or `egov up`); open
//! `http://127.0.0.1:7191/desk` (operators) and `http://127.0.0.1:7191/kiosk` (the hall).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults (operators' IINs, sign-in) and loading.
//! - [`services`]: the services filed here, from the back office's catalogue, and their routes.
//! - [`operator`]: [`Operators`], each operator's employee certificate.
//! - [`desk`]: [`Desk`], the queue and every step of filing.
//! - [`decided`]: [`DecidedHandler`], the providers' results sent to the State Corporation's IS.
//! - [`receipt`]: the receipt of refusal as a page and as PDF.
//! - [`store`]: [`Store`], tickets, filings, receipts and the journal.
//! - [`web`]: the pages behind sign-in, and the kiosk.
//! - [`api`]: the same desk as JSON beside the pages (kiosk ticket, call, file).
//! - [`system`]: [`Con`], the system the shared runtime enrolls, serves and stops.
//! - [`error`]: [`ConError`], every refusal and failure of the workstation.

pub mod api;
pub mod config;
pub mod decided;
pub mod desk;
pub mod error;
pub mod operator;
pub mod receipt;
pub mod services;
pub mod store;
pub mod system;
pub mod web;

pub use config::Config;
pub use decided::DecidedHandler;
pub use desk::{Desk, FilingForm, Outcome, PowerOfAttorneyForm, ResultRead};
pub use error::ConError;
pub use operator::{OPERATOR_ROLE, Operators};
pub use services::{DECIDED_SERVICE_ID, DeskServices};
pub use store::Store;
pub use system::Con;
