//! The recorder end to end: a sandbox gateway with the real citizens-DB behind it records an
//! exchange on a route with `record = true`, `export` turns the recording into a scenario file,
//! and the runner replays it through the gateway, signing on its own side.

use std::sync::Arc;

use egov_citizens::{Config, Listeners, PERSON_GET, Registry, Store, load};
use egov_core::envelope::Signer;
use egov_core::pki::Role;
use egov_core::systems;
use egov_proto::v1::{GetPersonRequest, GetPersonResponse};
use egov_scenario::{Contracts, ExportError, Identities, Runner, Scenario, export};
use egov_system::{GatewayCaller, SystemIdentity};
use egov_testkit::Sandbox;
use egov_testkit::service::{OPERATOR_TOKEN, PLAIN_OPERATOR_TOKEN};
use tempfile::TempDir;

/// A person of the citizens-DB's fixtures, whatever the generated population.
const PERSON: &str = egov_citizens::fixtures::UNEMPLOYED_ADULT;

/// A sandbox with the citizens-DB routed for the portal.
struct Stack {
    sandbox: Sandbox,
    portal: GatewayCaller,
    database_url: String,
    _dir: TempDir,
}

impl Stack {
    async fn start() -> Stack {
        egov_testkit::service::quiet_logs("egov-scenario-tests", "warn");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            population: 200,
            ..Config::with_data_dir(dir.path())
        };
        load::prepare(&config, false).await.expect("prepares");
        let database_url = config.database_url();
        let registry = Arc::new(Registry::new(
            Store::open(&database_url).await.expect("opens"),
        ));
        let sandbox = Sandbox::start().await;
        let identity = sandbox.system(systems::CITIZENS.id, systems::CITIZENS.bin);
        let (grpc, http) = egov_testkit::service::loopback_listeners().await;
        let addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_citizens::serve(
            identity,
            sandbox.verifier(),
            registry,
            sandbox.clock(),
            Listeners { grpc, http },
            std::future::pending(),
        ));
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
    async fn ask_for_the_person(&self) -> String {
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

    async fn export(&self, correlation_id: &str, token: &str) -> Result<Scenario, ExportError> {
        export(
            &self.sandbox.gateway_endpoint(),
            correlation_id,
            token,
            &Contracts::egov().expect("contracts"),
        )
        .await
    }

    fn runner(&self) -> Runner<SandboxKeys<'_>> {
        Runner::new(
            SandboxKeys(&self.sandbox),
            &self.sandbox.gateway_endpoint(),
            Contracts::egov().expect("contracts"),
            self.sandbox.clock(),
        )
    }
}

/// The sandbox's certification centre issues the runner's keys.
struct SandboxKeys<'a>(&'a Sandbox);

impl Identities for SandboxKeys<'_> {
    async fn system(&self, system_id: &str) -> Result<Arc<SystemIdentity>, String> {
        let system = systems::by_id(system_id).ok_or_else(|| format!("no system {system_id:?}"))?;
        Ok(self.0.system(system.id, system.bin))
    }

    async fn person(&self, iin: &str) -> Result<Arc<Signer>, String> {
        Ok(Arc::new(self.0.person(iin, Role::Individual, None)))
    }
}

/// Writes the scenario as a file and reads it back, as a team would keep it.
fn through_a_file(scenario: &Scenario, dir: &std::path::Path) -> Scenario {
    let path = dir.join("recorded.toml");
    std::fs::write(&path, scenario.to_toml().expect("writes")).expect("file");
    Scenario::load(&path, &Contracts::egov().expect("contracts")).expect("reads back")
}

#[tokio::test]
async fn a_recorded_exchange_replays_as_a_passing_scenario() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;

    let scenario = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");
    let text = scenario.to_toml().expect("writes");
    assert!(
        text.contains(PERSON),
        "the payload is written as readable fields:\n{text}"
    );
    assert!(
        text.contains("Серіков"),
        "the answer is written as values:\n{text}"
    );
    assert!(
        text.contains("<uuid>"),
        "message ids are written as matchers:\n{text}"
    );
    let scenario = through_a_file(&scenario, stack.sandbox.dir());

    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}\n{text}");
    assert_eq!(report.steps.len(), 1);
}

#[tokio::test]
async fn a_replay_fails_naming_the_field_when_the_answer_changes() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;
    let scenario = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");

    // The person moved: the citizens-DB now answers another street.
    let pool = sqlx::SqlitePool::connect(&stack.database_url)
        .await
        .expect("database");
    sqlx::query("UPDATE persons SET street = 'ул. Абая' WHERE iin = ?")
        .bind(PERSON.parse::<i64>().expect("IIN digits"))
        .execute(&pool)
        .await
        .expect("updated");

    let report = stack.runner().run(&scenario).await;
    assert!(!report.passed());
    assert_eq!(
        report.steps[0].failures,
        ["person.registration_address.street: expected \"ул. Кенесары\", got \"ул. Абая\""]
    );
}

#[tokio::test]
async fn a_route_without_record_keeps_no_exchange() {
    let stack = Stack::start().await;
    let correlation_id = stack.ask_for_the_person().await;
    let err = stack
        .export(&correlation_id, OPERATOR_TOKEN)
        .await
        .expect_err("nothing recorded");
    assert!(matches!(err, ExportError::NotRecorded { .. }), "{err}");
    assert!(err.to_string().contains("record = true"), "{err}");
}

#[tokio::test]
async fn registry_reload_turns_recording_off_at_run_time() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let recorded = stack.ask_for_the_person().await;
    stack.sandbox.record(PERSON_GET, false);
    let not_recorded = stack.ask_for_the_person().await;
    assert!(stack.export(&recorded, OPERATOR_TOKEN).await.is_ok());
    assert!(matches!(
        stack.export(&not_recorded, OPERATOR_TOKEN).await,
        Err(ExportError::NotRecorded { .. })
    ));
}

#[tokio::test]
async fn export_of_an_unknown_correlation_id_names_it() {
    let stack = Stack::start().await;
    let err = stack
        .export("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", OPERATOR_TOKEN)
        .await
        .expect_err("unknown");
    assert!(
        err.to_string()
            .contains("\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\""),
        "{err}"
    );
}

#[tokio::test]
async fn export_needs_an_operator() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let correlation_id = stack.ask_for_the_person().await;
    let err = stack
        .export(&correlation_id, "not-a-token")
        .await
        .expect_err("no operator");
    assert!(matches!(err, ExportError::NotAnOperator(_)), "{err}");
    // An operator's token reads it.
    assert!(
        stack
            .export(&correlation_id, PLAIN_OPERATOR_TOKEN)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_request_authored_by_a_person_is_signed_by_them_and_exported_with_their_iin() {
    let stack = Stack::start().await;
    stack.sandbox.record(PERSON_GET, true);
    let text = format!(
        r#"name = "a citizen asks for their own record through the portal"

[[step]]
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
user_iin = "{PERSON}"
type = "egov.v1.GetPersonRequest"
payload = {{ iin = "{PERSON}" }}

[step.expect]
type = "egov.v1.GetPersonResponse"
payload.person = {{ iin = "{PERSON}", surname = "<any>", name = "<any>", patronymic = "<any>", gender = "<any>", birth_date = "<any>", birth_place = "<any>", birth_certificate = "<any>", nationality = "<any>", citizenship = "<any>", life_status = "<any>", registration_address = "<any>", documents = "<any>" }}
"#
    );
    let scenario = Scenario::parse(
        &text,
        "by-hand.toml",
        &Contracts::egov().expect("contracts"),
    )
    .expect("valid");
    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}");

    stack
        .sandbox
        .gateway()
        .log()
        .flush()
        .await
        .expect("log flushed");
    let exported = stack
        .export(&report.steps[0].correlation_id, OPERATOR_TOKEN)
        .await
        .expect("exported");
    assert_eq!(
        exported.steps[0].get_ref().send.user_iin.as_deref(),
        Some(PERSON)
    );
}

#[tokio::test]
async fn a_scenario_with_faults_is_not_replayed_without_them() {
    let stack = Stack::start().await;
    let text = format!(
        r#"name = "citizens-DB down"

[[fault]]
system = "citizens"
kind = "down"

[[step]]
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
type = "egov.v1.GetPersonRequest"
payload = {{ iin = "{PERSON}" }}
"#
    );
    let scenario = Scenario::parse(&text, "faults.toml", &Contracts::egov().expect("contracts"))
        .expect("valid");
    let report = stack.runner().run(&scenario).await;
    assert!(!report.passed());
    assert!(report.steps.is_empty(), "no step ran: {report:#?}");
    assert!(
        report
            .error
            .as_deref()
            .is_some_and(|e| e.contains("[[fault]]")),
        "{report:#?}"
    );
}

#[tokio::test]
async fn the_example_scenario_passes_against_the_citizens_db() {
    let stack = Stack::start().await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/citizens_person_get.toml");
    let scenario = Scenario::load(&path, &Contracts::egov().expect("contracts")).expect("reads");
    let report = stack.runner().run(&scenario).await;
    assert!(report.passed(), "{report:#?}");
}
