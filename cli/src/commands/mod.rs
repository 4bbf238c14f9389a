//! One file per subcommand of `egov`.

pub mod clock;
pub mod conformance;
pub mod diagram;
pub mod down;
pub mod fault;
pub mod record;
pub mod scenario;
pub mod status;
pub mod up;
