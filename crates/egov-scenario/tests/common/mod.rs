//! The stack the scenario tests run against: a sandbox gateway with the real citizens-DB
//! behind it, routed for the portal, and the runner over it.

#![allow(dead_code)] // each test file uses its part

use std::sync::Arc;

use egov_citizens::PERSON_GET;
use egov_core::envelope::Signer;
use egov_core::pki::Role;
use egov_core::systems;
use egov_faults::admin::FaultAdmin;
use egov_proto::v1::{GetPersonRequest, GetPersonResponse};
use egov_scenario::{Contracts, ExportError, Identities, Runner, Scenario, export};
use egov_system::{GatewayCaller, SystemIdentity};
use egov_test_stack::CitizensDb;
use egov_testkit::Sandbox;
use egov_testkit::service::OPERATOR_TOKEN;
use tempfile::TempDir;

/// A person of the citizens-DB's fixtures, whatever the generated population.
pub const PERSON: &str = egov_citizens::fixtures::UNEMPLOYED_ADULT;

/// A sandbox with the citizens-DB routed for the portal.
pub struct Stack {
    pub sandbox: Sandbox,
    pub portal: GatewayCaller,
    pub database_url: String,
    _dir: TempDir,
}

impl Stack {
    /// Starts the sandbox and the citizens-DB with a small generated population.
    pub async fn start() -> Stack {
        egov_testkit::service::quiet_logs("egov-scenario-tests", "warn");
        let dir = tempfile::tempdir().expect("temp dir");
        let sandbox = Sandbox::start().await;
        let citizens = CitizensDb::start(&sandbox, dir.path(), 200, sandbox.clock()).await;
        let (addr, database_url) = (citizens.grpc, citizens.database_url);
        let portal = sandbox.caller(systems::PORTAL.id, systems::PORTAL.bin);
        sandbox.route(
            PERSON_GET,
            systems::CITIZENS.id,
            addr,
            &[systems::PORTAL.id],
        );
        Stack {
            sandbox,
            portal,
            database_url,
            _dir: dir,
        }
    }

    /// The portal asks for the person; returns the exchange's correlation id.
    pub async fn ask_for_the_person(&self) -> String {
        let header = self
            .portal
            .header::<GetPersonRequest>(PERSON_GET, systems::CITIZENS.id);
        let envelope = self
            .portal
            .identity()
            .signer
            .seal_message(&header, &GetPersonRequest { iin: PERSON.into() })
            .expect("signs");
        let answer = self.portal.send(envelope).await.expect("answered");
        egov_system::caller::decode_answer::<GetPersonResponse>(&answer).expect("a person");
        self.sandbox
            .gateway()
            .log()
            .flush()
            .await
            .expect("log flushed");
        header.correlation_id
    }

    pub async fn export(&self, correlation_id: &str, token: &str) -> Result<Scenario, ExportError> {
        export(
            &self.sandbox.gateway_endpoint(),
            correlation_id,
            token,
            &Contracts::egov().expect("contracts"),
        )
        .await
    }

    pub fn runner(&self) -> Runner<SandboxKeys<'_>> {
        Runner::new(
            SandboxKeys(&self.sandbox),
            &self.sandbox.gateway_endpoint(),
            Contracts::egov().expect("contracts"),
            self.sandbox.clock(),
        )
    }
}

/// The sandbox's certification centre issues the runner's keys.
pub struct SandboxKeys<'a>(&'a Sandbox);

impl Identities for SandboxKeys<'_> {
    async fn system(&self, system_id: &str) -> Result<Arc<SystemIdentity>, String> {
        let system = systems::by_id(system_id).ok_or_else(|| format!("no system {system_id:?}"))?;
        Ok(self.0.system(system.id, system.bin))
    }

    async fn person(&self, iin: &str, sender: &str) -> Result<Arc<Signer>, String> {
        Ok(Arc::new(match egov_scenario::employer_of_signers(sender) {
            Some(employer) => self.0.person(iin, Role::Employee, Some(employer.bin)),
            None => self.0.person(iin, Role::Individual, None),
        }))
    }
}

impl Stack {
    /// Returns a runner that may also set faults through the gateway's admin API, as an
    /// administrator.
    pub fn runner_with_faults(&self) -> Runner<SandboxKeys<'_>> {
        self.runner().with_fault_admin(self.fault_admin())
    }

    /// Returns the gateway's fault admin API, as an administrator.
    pub fn fault_admin(&self) -> FaultAdmin {
        FaultAdmin::new(&self.sandbox.gateway_http().to_string(), OPERATOR_TOKEN)
    }

    /// Reads a scenario from text.
    pub fn scenario(&self, text: &str) -> Scenario {
        Scenario::parse(text, "test.toml", &Contracts::egov().expect("contracts")).expect("valid")
    }
}

/// A step's request for [`PERSON`] from the portal to the citizens-DB, then `expect` (the
/// step's `[step.expect]` table, as TOML lines).
pub fn person_request(expect: &str) -> String {
    format!(
        "[step.send]\nsender = \"portal\"\nservice = \"citizens.person.get\"\nreceiver = \"citizens\"\n\
         type = \"egov.v1.GetPersonRequest\"\npayload = {{ iin = \"{PERSON}\" }}\n[step.expect]\n{expect}"
    )
}

/// The `[step.expect]` lines of a person answered.
pub const PERSON_ANSWERED: &str =
    "type = \"egov.v1.GetPersonResponse\"\npayload.person = \"<any>\"\n";
