//! egov-citizens: the state databases of individuals and legal entities (ЖТ МДБ / ГБД ФЛ,
//! ЗТ МДБ / ГБД ЮЛ), answering look-ups by IIN / BIN through the gateway.
//! FLOWS.md: the State Corporation's process 3 / condition 1 ("do the recipient's data exist
//! in the citizens-DB?") and service F's "request to the citizens-DB" end here.
//! Run it with `cargo run -p egov-citizens -- --data-dir .egov/citizens` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`dictionaries`]: nationalities, countries, regions, districts, localities, document
//!   types and legal-entity kinds, with their Kazakh and Russian names.
//! - [`names`]: Kazakh, Russian and other name lists with their male / female forms.
//! - [`rng`]: the seeded pseudo-random generator the population derives from.
//! - [`records`]: the rows as written and read, and their mapping to `egov.v1` messages.
//! - [`population`]: [`Population`], the deterministic synthetic population.
//! - [`fixtures`]: named people and organisations with fixed IINs / BINs, one per flow branch.
//! - [`load`]: bulk generation and load, and the first-start preparation.
//! - [`store`]: [`Store`], the read-only look-ups.
//! - [`registry`]: [`Registry`], validated look-ups with metrics, shared by both channels.
//! - [`handler`]: the `MessageReceiver` handler for the gateway's service ids.
//! - [`grpc`]: the direct `egov.v1.Citizens` tonic service.
//! - [`system`]: [`Citizens`], the citizens-DB as a system of the shared runtime; [`run`]
//!   and [`serve`].
//! - [`error`]: [`CitizensError`] and its mapping to faults and gRPC statuses.

pub mod config;
pub mod dictionaries;
pub mod error;
pub mod fixtures;
pub mod grpc;
pub mod handler;
pub mod load;
pub mod names;
pub mod population;
pub mod records;
pub mod registry;
pub mod rng;
pub mod store;
pub mod system;

pub use config::Config;
pub use error::CitizensError;
pub use population::Population;
pub use registry::Registry;
pub use store::Store;
pub use system::{Citizens, Listeners, run, serve};

/// Service id of the person look-up by IIN (GetPersonRequest → GetPersonResponse).
pub const PERSON_GET: &str = "citizens.person.get";

/// Service id of the legal-entity look-up by BIN (GetLegalEntityRequest → GetLegalEntityResponse).
pub const LEGAL_ENTITY_GET: &str = "citizens.legal-entity.get";

/// Service id of the family-links look-up by IIN (GetFamilyRequest → GetFamilyResponse).
pub const FAMILY_GET: &str = "citizens.family.get";

/// Every service id the citizens-DB answers through the gateway.
pub const SERVICE_IDS: [&str; 3] = [PERSON_GET, LEGAL_ENTITY_GET, FAMILY_GET];
