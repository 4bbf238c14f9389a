//! egov-signer: the citizen's external signer, as NCALayer is beside www.egov.kz (FLOWS.md,
//! common portal flow process 3, "picks an EDS certificate to sign with"). It makes each
//! citizen's key pair itself, has the certification centre (НУЦ) certify the public key, keeps
//! the private key, shows the exact request bytes the portal prepared and hands back only the
//! signature: the portal never sees a private key. Run it with `cargo run -p egov-signer`.
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and checks.
//! - [`centre`]: [`CertificationCentre`], who certifies a public key; [`PkiCentre`] over gRPC.
//! - [`keyring`]: [`Keyring`], the citizens' keys and certificates, kept in the data dir.
//! - [`requests`]: [`Requests`], the requests waiting for a signature and their signatures,
//!   kept in the data dir's `requests.db` across restarts.
//! - [`web`]: the pages (keys, the request to sign) and the portal's JSON API.
//! - [`server`]: [`serve`], gRPC health and HTTP until shutdown.

pub mod centre;
pub mod config;
pub mod keyring;
pub mod requests;
pub mod server;
pub mod web;

pub use centre::{CertificationCentre, Issued, PkiCentre};
pub use config::Config;
pub use keyring::Keyring;
pub use requests::Requests;
pub use server::serve;

/// Why the signer refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The IIN is not 12 digits with a valid check digit.
    #[error("IIN {0:?} is not valid")]
    InvalidIin(String),
    /// A name field is empty or too long.
    #[error("{0}: give 1 to 100 characters")]
    InvalidName(&'static str),
    /// No key is kept for this IIN.
    #[error("no key is kept for IIN {0}")]
    NoKey(String),
    /// No request to sign has this id, or it was already signed.
    #[error("no request {0:?} waits for a signature")]
    UnknownRequest(String),
    /// The request the portal sent is malformed.
    #[error("the request to sign is malformed: {0}")]
    BadRequest(String),
    /// The certification centre refused or is unreachable.
    #[error("certification centre {endpoint}: {reason}")]
    Centre {
        /// Its endpoint.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// Making or using a key failed.
    #[error("key: {0}")]
    Key(String),
    /// The key files could not be read or written.
    #[error("key store {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The registrar's password file (`registrar_password_file`) could not be read.
    #[error("registrar password file {path}: {source}")]
    RegistrarPassword {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The kept requests (`requests.db`) could not be opened or migrated.
    #[error("request store: {0}")]
    Store(#[from] egov_store::StoreError),
    /// A statement on the kept requests failed.
    #[error("request store failed")]
    Database(#[from] sqlx::Error),
    /// A kept request does not read back (a hand-edited or damaged file).
    #[error("request store is corrupt: {0}")]
    Corrupt(String),
    /// A server could not start or failed.
    #[error(transparent)]
    Bus(#[from] egov_bus::BusError),
}
