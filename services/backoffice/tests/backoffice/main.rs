//! egov-backoffice end to end: the back office started in-process on loopback port 0 behind a
//! sandbox gateway on a virtual clock; the target systems open cases through the gateway and
//! receive the head-signed results on their `<system>.application.decided` endpoints, exactly
//! as in the stack; and the worklist's pages and API in-process. Run with `cargo test -p egov-backoffice`.

mod cabinet;
mod catalogue;
mod common;
mod conformance;
mod delivery;
mod enrolment;
mod happy_paths;
mod lookups;
mod manual;
mod refusals;
mod restart;
mod signing;
mod virtual_time;
mod worklist;
