//! Each system's contract as data: who calls it, and the checks its answers must pass.

use egov_core::StatusCode;
use egov_core::systems::{self, SystemInfo};
use egov_proto::v1::{ApplicationRegistered, Status};

use crate::check::{Check, Shape};
use crate::kit::ConformanceError;

pub mod backoffice;
pub mod citizens;
pub mod esobes;
pub mod gateway;
pub mod intake;
pub mod labor;
pub mod notary;
pub mod queue;

/// The systems the kit has a contract for, by system id (the national gateway is `shep`).
pub const SYSTEMS: [&str; 7] = [
    systems::CITIZENS.id,
    systems::NOTARY.id,
    systems::LABOR.id,
    systems::ESOBES.id,
    systems::QUEUE.id,
    systems::BACKOFFICE.id,
    systems::GATEWAY.id,
];

/// IIN of the State Corporation operator whose certificate signs [`Signatory::Operator`]
/// requests: the citizens-DB's fixture operator.
pub const OPERATOR_IIN: &str = egov_citizens::fixtures::STATE_CORPORATION_OPERATOR;

/// Whose signature the requests of a contract carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signatory {
    /// The caller system's seal alone.
    Seal,
    /// The State Corporation's operator (an employee's certificate of the ЦОН's BIN, its IIN
    /// in the header's `user_iin`), countersigned by the caller's seal, as the ЦОН sends an
    /// application made at its desk.
    Operator,
}

/// Where the kit sends a contract's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// To the system's `MessageReceiver.Receive`, as the gateway forwards them.
    Receiver,
    /// To a gateway's `Gateway.SendMessage`, which relays the good ones to `target`.
    Gateway {
        /// The system behind the gateway that answers the good requests.
        target: SystemInfo,
    },
}

/// One system's contract.
#[derive(Debug, Clone)]
pub struct Contract {
    /// The system whose contract it is; its answers must be signed by its BIN.
    pub system: SystemInfo,
    /// The system the requests come from, as the gateway forwards them.
    pub caller: SystemInfo,
    /// Whose signature the requests carry.
    pub signatory: Signatory,
    /// Where the requests go.
    pub via: Via,
    /// The checks, in the order they run.
    pub checks: Vec<Check>,
}

impl Contract {
    /// The contract of the system with id `system` (`citizens`, `notary`, `shep`, …).
    pub fn of(system: &str) -> Result<Contract, ConformanceError> {
        match system {
            id if id == systems::CITIZENS.id => Ok(citizens::contract()),
            id if id == systems::NOTARY.id => Ok(notary::contract()),
            id if id == systems::LABOR.id => Ok(labor::contract()),
            id if id == systems::ESOBES.id => Ok(esobes::contract()),
            id if id == systems::QUEUE.id => Ok(queue::contract()),
            id if id == systems::BACKOFFICE.id => Ok(backoffice::contract()),
            id if id == systems::GATEWAY.id || id == "gateway" => Ok(gateway::contract()),
            other => Err(ConformanceError::UnknownSystem(other.to_owned())),
        }
    }

    /// The system the requests are addressed to and whose seal must sign the answers: the
    /// target behind a gateway.
    pub fn answerer(&self) -> SystemInfo {
        match self.via {
            Via::Receiver => self.system,
            Via::Gateway { target } => target,
        }
    }
}

/// A call of a service id the system does not answer: refused with `ESRV001`.
fn unknown_service(system: SystemInfo) -> Check {
    let service_id = format!("{}.no-such-service", system.id);
    Check::call(
        &service_id,
        "a service id the system does not answer is refused with ESRV001",
        &Status::default(),
    )
    .refused_with(StatusCode::UnknownService)
}

/// The fields of a registered application: a number with the system's prefix, the times.
fn registered(answer: &ApplicationRegistered, prefix: &str, shape: &mut Shape) {
    shape
        .holds(
            answer
                .registration_number
                .starts_with(&format!("{prefix}-")),
            || {
                format!(
                    "field registration_number {:?} does not start with {prefix}-",
                    answer.registration_number
                )
            },
        )
        .present("registered_at", answer.registered_at.is_some())
        .present("due_at", answer.due_at.is_some());
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_system_the_kit_names_has_a_contract_of_its_own() {
        for system in SYSTEMS {
            let contract = Contract::of(system).expect("a contract");
            assert_eq!(contract.system.id, system);
            assert!(!contract.checks.is_empty(), "{system}");
        }
    }

    #[test]
    fn a_system_without_a_contract_is_refused_by_name() {
        let error = Contract::of("weather").expect_err("no contract");
        assert!(
            error
                .to_string()
                .starts_with(r#"no contract for system "weather"; the kit knows citizens"#),
            "{error}"
        );
    }

    #[test]
    fn check_names_are_unique_within_a_contract() {
        for system in SYSTEMS {
            let contract = Contract::of(system).expect("a contract");
            let mut names = HashSet::new();
            for check in &contract.checks {
                assert!(
                    names.insert(&check.name),
                    "{system}: {:?} twice",
                    check.name
                );
            }
        }
    }

    #[test]
    fn every_contract_has_valid_and_invalid_inputs() {
        for system in SYSTEMS {
            let contract = Contract::of(system).expect("a contract");
            let refusals = contract
                .checks
                .iter()
                .filter(|check| !check.expect.code().is_success())
                .count();
            assert!(refusals > 0, "{system} has no invalid input");
        }
    }
}
