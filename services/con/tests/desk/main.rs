//! The State Corporation workstation's desk through the real gateway (the test stack's
//! sandbox), one test per branch of FLOWS.md's State Corporation flow and service D at the ЦОН.

mod common;
mod faults;
mod filing;
mod guardianship;
mod web;
