//! egov-portal: the e-gov portal (ЭҮП / портал «электронного правительства», www.egov.kz) of
//! FLOWS.md's common portal flow: registration with IIN and password, sign-in (refusal of
//! authorisation on wrong credentials), the catalogue read from the back office, the request
//! form of each service, signing in the external signer (egov-signer) with condition 2 checked
//! here, the signed request through the gateway, and the personal cabinet with its statuses and
//! results. Run it with `cargo run -p egov-portal` (or `egov up`), then open
//! http://127.0.0.1:7181/.
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and checks.
//! - [`catalogue`]: the back office's catalogue, read through the gateway.
//! - [`form`]: the request form's checks, uploads included.
//! - [`filing`]: the exact request bytes, condition 2 and process 5.
//! - [`signer_client`]: the hand-over to the external signer.
//! - [`cabinet`]: [`CabinetHandler`], the cabinet's inbox (`portal.cabinet.notify`).
//! - [`store`]: [`Store`], requests and notifications.
//! - [`web`]: the pages.
//! - [`text`]: the words in kk / ru / en.
//! - [`system`]: [`Portal`], the system the runtime runs.

pub mod cabinet;
pub mod catalogue;
pub mod config;
pub mod filing;
pub mod form;
pub mod signer_client;
pub mod store;
pub mod system;
pub mod text;
pub mod web;

pub use cabinet::CabinetHandler;
pub use config::Config;
pub use store::Store;
pub use system::Portal;

/// Why the portal refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Condition 2 failed: process 4, *EDS authenticity not confirmed*.
    #[error("EDS authenticity not confirmed: {0}")]
    EdsNotConfirmed(String),
    /// The target system or the gateway refused the request.
    #[error("{0}")]
    Refused(String),
    /// The portal offers no service of this code.
    #[error("unknown service {0:?}")]
    UnknownService(String),
    /// The catalogue could not be read from the back office.
    #[error("the catalogue cannot be read: {0}")]
    Catalogue(String),
    /// The external signer could not be reached or answered badly.
    #[error("the signer: {0}")]
    Signer(String),
    /// Sign-in could not be set up or failed.
    #[error("sign-in: {0}")]
    Signin(String),
    /// The database failed.
    #[error("portal database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] egov_store::StoreError),
    /// The runtime failed.
    #[error(transparent)]
    System(#[from] egov_system::SystemError),
}
