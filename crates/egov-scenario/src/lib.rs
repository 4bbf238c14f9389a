//! Scenario files: exchanges through the gateway written as TOML a person can read and edit,
//! kept as regression tests. A team records their real system once (`record = true` on a
//! route of the gateway's registry), exports the exchange (`egov record export`) and replays it
//! against any stack (`egov scenario run`), the answers compared field by field.
//!
//! ```toml
//! name = "the portal asks the citizens-DB for a person"
//!
//! [[step]]
//! name = "citizens.person.get"
//! [step.send]
//! sender = "portal"
//! service = "citizens.person.get"
//! receiver = "citizens"
//! type = "egov.v1.GetPersonRequest"
//! payload = { iin = "950703300125" }
//! [step.expect]
//! status = "SCSS001"
//! type = "egov.v1.GetPersonResponse"
//! header = { message_id = "<uuid>", message_time = "<timestamp>" }
//! payload.person = { iin = "950703300125", surname = "Серіков" }
//! ```
//!
//! A scenario may also inject faults (`[[fault]]`, or a step's `fault = […]`), set through
//! the gateway's admin API and cleared when it ends, and move the stack's clock
//! (`advance = "28d"`, `set = "…"` steps) through the clock authority, and read a citizen's
//! personal cabinet on the portal (`cabinet = { iin = "…", number = "${number}" }`), where the
//! outcome of a request reaches them, and file a request at the State Corporation's desk as its
//! operator does (`[step.desk]`, through a [`StateCorporationDesk`]), and hand a paper
//! application in at the provider's office and read its case there (`[step.office]`, through a
//! [`ProviderOffice`]).
//!
//! # Layout
//! - [`file`]: [`Scenario`], its steps, and parsing with errors naming the line and the field.
//! - [`payload`]: [`Contracts`], payloads as readable fields and back, over the descriptors of
//!   `proto/egov/v1` (`prost-reflect`, no system protoc).
//! - [`compare`]: expected values and matchers (`<any>`, `<uuid>`, `<timestamp>`, `<digits>`,
//!   `<pattern:…>`) against an answer, each difference named by its field path.
//! - [`export`]: a recorded exchange, as the gateway's log returns it, turned into a scenario.
//! - [`saved`]: values a step saves from its answer (`save = { number = "registration_number" }`)
//!   and later steps use as `"${number}"`.
//! - [`portal`]: [`PortalClient`], a citizen on the portal over HTTP (sign-in, registration,
//!   the cabinet as JSON) for `cabinet` steps.
//! - [`desk`]: [`DeskClient`], the State Corporation's desk as its operator uses it over HTTP
//!   (kiosk ticket, sign-in, call, the request form as JSON) for `desk` steps against a
//!   running stack.
//! - [`office`]: [`OfficeClient`], the provider's office through the back office's gRPC API
//!   (its clerk's intake of a paper application, the case it keeps) for `office` steps.
//! - [`live_log`]: [`LiveLog`], a running gateway's message log over gRPC, asked as an
//!   operator (exchanges to export, the newest hops, one exchange drawn).
//! - [`diagram`]: the scenario's exchanges as one Mermaid diagram drawn from the gateway's
//!   message log, compared with the golden diagram beside the file, shown side by side.
//! - [`run`]: [`Runner`], which replays a scenario through a gateway, signing each request on
//!   its own side, setting and clearing its faults, moving the clock, and reports each step
//!   (and JUnit XML).

pub mod compare;
pub mod desk;
pub mod diagram;
pub mod export;
pub mod file;
pub mod live_log;
pub mod office;
mod operator_endpoint;
pub mod payload;
pub mod portal;
pub mod run;
pub mod saved;

pub use compare::{Difference, compare};
pub use desk::{DeskClient, DeskError};
pub use export::{ExportError, export, scenario_of_exchange};
pub use file::{Action, Cabinet, Desk, Expect, Office, Scenario, ScenarioError, Send, Step, Wait};
pub use live_log::{LiveLog, LiveLogError};
pub use office::{OfficeClient, OfficeError, case_table};
pub use payload::{Contracts, PayloadError};
pub use portal::PortalClient;
pub use run::{
    Identities, ProviderOffice, Runner, ScenarioReport, StateCorporationDesk, StepReport,
    employer_of_signers,
};
