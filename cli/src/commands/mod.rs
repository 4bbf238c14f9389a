//! One file per subcommand of `egov`.

pub mod clock;
pub mod conformance;
pub mod diagram;
pub mod down;
pub mod status;
pub mod up;
