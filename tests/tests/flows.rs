//! The flow matrix: every regulated branch of the services the stack implements as a scenario
//! file under `tests/scenarios/<service>/`: A (registration of candidate adoptive parents, the
//! provider's workstation), B (unemployed certificate, Labour Market AIS), C (home-schooling
//! compensation, E-sobes), D (placing a pre-school child in the kindergarten queue, the queue
//! register), E (enrolment in a pre-school organisation, at the kindergarten's office only, on
//! paper) and F (guardianship, the provider's workstation). Each file is a test of its own,
//! named after it (build.rs lists them), and runs through `egov_scenario::Runner` against an
//! in-process stack of its own: the sandbox gateway and certification
//! centre, the regional gateway (РШЭП), the real citizens-DB, notary registry, back office and
//! portal, labor, esobes and the queue register, routed as `deploy/local/registry.toml` and
//! `registry-regional.toml` route them (D's placement, A's and F's applications national →
//! regional → queue register or workstation; the back office's statuses and results to the
//! portal's cabinet), all on the stack clock a real clock authority moves (over a real
//! nats-server). `cabinet` steps read a citizen's cabinet on the portal over HTTP, signed in
//! as that citizen; `desk` steps file at the State Corporation's real desk (egov-con), which
//! asks the registers and sends the operator-signed request through the gateway itself;
//! `office` steps hand a paper application in at the provider's office (E, office-only) and
//! read its case there, through the back office's own gRPC API as its clerk.
//!
//! Each scenario's exchanges, as the gateway's message log draws them in Mermaid, must equal
//! its golden diagram `<scenario>.mmd` beside it (durations, generated numbers, times and ids
//! replaced by placeholders). `EGOV_UPDATE_GOLDEN=1` writes the goldens instead;
//! `cargo nextest run -p egov-tests --test flows <part of a name>` runs only the branches whose
//! name contains it, and `--profile ci` also writes them as JUnit XML
//! (`target/nextest/ci/junit.xml`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use egov_bus::clock::{ClockStore, StackClock};
use egov_core::envelope::Signer;
use egov_core::pki::Role;
use egov_core::systems;
use egov_gateway::message_log::{LogRecord, RecentFilter};
use egov_scenario::diagram::{self, RowKey, row_key, scenario_diagram};
use egov_scenario::{
    Contracts, Identities, PortalClient, Runner, Scenario, ScenarioReport, StateCorporationDesk,
};
use egov_system::SystemIdentity;
use egov_test_stack::{Neighbours, Target, next_monday_morning};
use egov_testkit::NatsServer;

/// The clock authority's operator token in this test.
const CLOCK_TOKEN: &str = "operator-token-of-the-flow-matrix";

/// The password the runner signs citizens in on the portal with (registering them with it).
const CITIZEN_PASSWORD: &str = egov_scenario::portal::DEFAULT_CITIZEN_PASSWORD;

/// The State Corporation operator's account at the desk: login and name (the name is on D's
/// receipts of refusal, as the scenarios expect it).
const DESK_OPERATOR: (&str, &str) = ("flows-operator", "Әбілова Мадина");

/// The operator's password at the desk on the web.
const DESK_PASSWORD: &str = "ЦОН-operator-of-the-flow-matrix";

/// The most rows of the message log one run reads back to draw a scenario's diagram.
const LOG_ROWS: u32 = 100_000;

/// The stack the scenarios run against.
struct Stack {
    neighbours: Neighbours,
    authority: String,
    /// The portal's HTTP address, where citizens read their cabinets.
    portal: String,
    /// The State Corporation's desk, where `desk` steps file.
    desk: Arc<InProcessDesk>,
    _clock: StackClock,
    _nats: NatsServer,
}

impl Stack {
    async fn start() -> Stack {
        let nats = NatsServer::start().expect("nats-server");
        let store = ClockStore::connect(&nats.url()).await.expect("clock store");
        store
            .init_now(next_monday_morning())
            .await
            .expect("first stack time");
        let config = egov_clock::Config {
            grpc_listen: "127.0.0.1:0".parse().expect("address"),
            http_listen: "127.0.0.1:0".parse().expect("address"),
            nats_url: nats.url(),
            operator_token: Some(CLOCK_TOKEN.to_owned()),
            ..egov_clock::Config::default()
        };
        let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen)
            .await
            .expect("clock authority listeners");
        let authority = format!("http://{}", grpc.local_addr().expect("address"));
        tokio::spawn(egov_clock::run(config, grpc, http, std::future::pending()));
        let clock = StackClock::follow(store, "flows")
            .await
            .expect("follows the stack clock");

        let neighbours =
            Neighbours::start_on(&systems::LABOR, "egov-flows", clock.local().clone()).await;
        let (_, labor, _) = neighbours
            .start_system::<egov_labor::Labor>(|data_dir, gateway| {
                let mut config = egov_labor::Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;
        let (_, esobes, _) = neighbours
            .start_system_beside::<egov_esobes::Esobes>(|data_dir, gateway| {
                let mut config = egov_esobes::Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;
        let (_, queue, _) = neighbours
            .start_system_beside::<egov_queue::Queue>(|data_dir, gateway| {
                let mut config = egov_queue::Config::with_data_dir(data_dir);
                config.gateway_endpoint = gateway;
                config
            })
            .await;
        neighbours.route_targets(&[
            Target {
                system: &systems::LABOR,
                addr: labor,
                front: &[egov_labor::APPLY_SERVICE_ID, egov_labor::RESULT_SERVICE_ID],
                decided: egov_labor::DECIDED_SERVICE_ID,
            },
            Target {
                system: &systems::ESOBES,
                addr: esobes,
                front: &[
                    egov_esobes::APPLY_SERVICE_ID,
                    egov_esobes::RESULT_SERVICE_ID,
                ],
                decided: egov_esobes::DECIDED_SERVICE_ID,
            },
            Target {
                system: &systems::QUEUE,
                addr: queue,
                front: &[
                    egov_queue::POSITION_SERVICE_ID,
                    egov_queue::RESULT_SERVICE_ID,
                ],
                decided: egov_queue::DECIDED_SERVICE_ID,
            },
        ]);
        // D's placement, A's and F's applications go national → regional gateway → queue
        // register or the provider's workstation, as deploy/local/registry.toml and
        // registry-regional.toml route them (seeds `002_…` item 7, `003_…` item 9, `004_…`
        // annex 2).
        let fronts: &[&str] = &[systems::PORTAL.id, systems::STATE_CORPORATION.id];
        let [adoption, guardianship] = neighbours.workstation_routes(fronts);
        neighbours
            .sandbox
            .start_regional_gateway(&[
                (
                    egov_queue::PLACE_SERVICE_ID,
                    systems::QUEUE.id,
                    queue,
                    fronts,
                ),
                adoption,
                guardianship,
            ])
            .await;
        let portal = neighbours.start_portal(|_, _| {}).await.url;
        let con = start_state_corporation_inbox(&neighbours).await;
        let desk = Arc::new(InProcessDesk::open(&neighbours, con).await);
        Stack {
            neighbours,
            authority,
            portal,
            desk,
            _clock: clock,
            _nats: nats,
        }
    }

    fn runner(&self) -> Runner<StackKeys<'_>> {
        self.runner_at(self.desk.clone())
    }

    /// Returns the runner filing `desk` steps at `desk`.
    fn runner_at(&self, desk: Arc<dyn StateCorporationDesk>) -> Runner<StackKeys<'_>> {
        Runner::new(
            StackKeys {
                neighbours: &self.neighbours,
                people: Mutex::default(),
            },
            &self.neighbours.sandbox.gateway_endpoint(),
            Contracts::egov().expect("contracts"),
            self.neighbours.clock.shared(),
        )
        .with_clock_authority(&self.authority, Some(CLOCK_TOKEN.to_owned()))
        .with_portal(PortalClient::new(&self.portal, CITIZEN_PASSWORD).expect("portal URL"))
        .with_desk(desk)
        .with_office(Arc::new(
            egov_scenario::OfficeClient::new(
                &format!("http://{}", self.neighbours.backoffice_addr()),
                egov_testkit::service::OPERATOR_TOKEN,
            )
            .expect("the back office's URL"),
        ))
    }

    /// Serves the desk's pages and JSON API (egov-con's web, behind its sign-in, the operator's
    /// account added) over the same desk the in-process steps file at; returns its URL.
    async fn serve_desk_on_the_web(&self) -> String {
        let config = egov_con::Config::with_data_dir(self.neighbours.sandbox.dir().join("con"));
        self.neighbours
            .serve_state_corporation_desk(
                &config,
                self.desk.desk.clone(),
                DESK_OPERATOR,
                DESK_PASSWORD,
            )
            .await
            .url
    }

    /// Runs one scenario and checks its exchanges against its golden diagram; returns its
    /// report and its failures, one line each (none when it passed).
    async fn run_checked(
        &self,
        runner: &Runner<StackKeys<'_>>,
        path: &Path,
        scenario: &Scenario,
    ) -> (ScenarioReport, Vec<String>) {
        let before: HashSet<RowKey> = self.settled_log().await.iter().map(row_key).collect();
        let report = runner.run(scenario).await;
        let mut lines = failures(&report);
        if report.passed() {
            let drawn = scenario_diagram(&before, &self.settled_log().await, &report);
            if std::env::var_os("EGOV_UPDATE_GOLDEN").is_some_and(|value| value == "1") {
                let golden = diagram::golden_path(path);
                std::fs::write(&golden, &drawn)
                    .unwrap_or_else(|err| panic!("{}: {err}", golden.display()));
            } else if let Err(err) = diagram::check_golden(path, &drawn) {
                lines.push(format!("{err} (EGOV_UPDATE_GOLDEN=1 rewrites it)"));
            }
        }
        (report, lines)
    }

    /// Returns every row of the gateway's message log, once it is written, oldest first.
    async fn log(&self) -> Vec<LogRecord> {
        let log = self.neighbours.sandbox.gateway().log();
        log.flush().await.expect("log flushed");
        let mut rows = log
            .recent(&RecentFilter::default(), LOG_ROWS)
            .await
            .expect("log read");
        rows.reverse();
        rows
    }

    /// Returns the log once it has settled (see [`diagram::settled`]).
    async fn settled_log(&self) -> Vec<LogRecord> {
        diagram::settled(async || Ok::<_, std::convert::Infallible>(self.log().await))
            .await
            .unwrap_or_else(|never| match never {})
    }
}

/// Starts the State Corporation's receiver of the provider's results (`con.application.decided`,
/// routed for the back office), the real one of egov-con over its own store; returns the store.
async fn start_state_corporation_inbox(neighbours: &Neighbours) -> egov_con::Store {
    let config = egov_con::Config::with_data_dir(neighbours.sandbox.dir().join("con"));
    std::fs::create_dir_all(&config.data_dir).expect("con dir");
    let store = egov_con::Store::open(&config.database_url())
        .await
        .expect("con store");
    neighbours
        .serve_state_corporation_inbox(store.clone())
        .await;
    store
}

/// The State Corporation's desk of egov-con, in process, over the same store as its receiver of
/// the provider's results: `desk` steps take a ticket at the kiosk, the operator calls it and
/// files the form, and the desk asks the registers and sends through the gateway as in
/// production.
struct InProcessDesk {
    desk: egov_con::Desk,
    operator: egov_signin::Person,
}

impl InProcessDesk {
    /// Opens the desk with the State Corporation operator's employee certificate, and reads the
    /// back office's catalogue now: the desk reads it once, when first needed, which would
    /// otherwise show in the diagram of the first scenario filed at the desk.
    async fn open(neighbours: &Neighbours, store: egov_con::Store) -> InProcessDesk {
        let (login, name) = DESK_OPERATOR;
        let operators = egov_con::Operators::new([(login.to_owned(), neighbours.operator())]);
        let desk = egov_con::Desk::new(
            store,
            neighbours.con.clone(),
            operators,
            neighbours.clock.shared(),
            neighbours.sandbox.verifier(),
        );
        desk.services().await.expect("the back office's catalogue");
        InProcessDesk {
            desk,
            operator: egov_signin::Person {
                login: login.to_owned(),
                name: name.to_owned(),
                roles: vec![egov_con::OPERATOR_ROLE.to_owned()],
            },
        }
    }

    async fn file_form(&self, form: &egov_scenario::Desk) -> Result<toml::Table, String> {
        let failed = |err: egov_con::ConError| err.to_string();
        self.desk.take_ticket().await.map_err(failed)?;
        let ticket = self
            .desk
            .call_next(&self.operator)
            .await
            .map_err(failed)?
            .ok_or("no ticket waits at the desk")?;
        // The step's form as the desk's JSON API reads it: one mapping of the fields.
        let filed: egov_con::FilingForm = serde_json::to_value(form)
            .and_then(serde_json::from_value)
            .map_err(|err| format!("the desk step's form: {err}"))?;
        let filed = egov_con::FilingForm {
            ticket_id: ticket.id,
            ..filed
        };
        let outcome = self
            .desk
            .file(&self.operator, &filed)
            .await
            .map_err(failed)?;
        toml::Table::try_from(egov_con::api::OutcomeJson::from(&outcome))
            .map_err(|err| format!("the desk's outcome: {err}"))
    }

    /// Reads the filing's result as the desk's JSON API does, and hands it over when asked
    /// and it is there.
    async fn read_result(&self, filing: &str, hand_over: bool) -> Result<toml::Table, String> {
        let failed = |err: egov_con::ConError| err.to_string();
        let read = self
            .desk
            .fetch_result(&self.operator, filing)
            .await
            .map_err(failed)?;
        let mut answer = egov_con::api::FilingJson::from(&read);
        if hand_over && read.ready && read.filing.handed_over_by.is_empty() {
            let handed = self
                .desk
                .hand_over(&self.operator, filing)
                .await
                .map_err(failed)?;
            answer = egov_con::api::FilingJson::of(&handed, true, read.correlation_id);
        }
        toml::Table::try_from(answer).map_err(|err| format!("the desk's filing: {err}"))
    }
}

impl StateCorporationDesk for InProcessDesk {
    fn file<'a>(
        &'a self,
        form: &'a egov_scenario::Desk,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<toml::Table, String>> + Send + 'a>>
    {
        Box::pin(self.file_form(form))
    }

    fn result<'a>(
        &'a self,
        filing: &'a str,
        hand_over: bool,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<toml::Table, String>> + Send + 'a>>
    {
        Box::pin(self.read_result(filing, hand_over))
    }
}

/// The runner's keys: the portal's and the State Corporation's seals, the citizens' own
/// signing certificates, and the State Corporation operator's employee certificate.
struct StackKeys<'a> {
    neighbours: &'a Neighbours,
    people: Mutex<HashMap<String, Arc<Signer>>>,
}

impl Identities for StackKeys<'_> {
    async fn system(&self, system_id: &str) -> Result<Arc<SystemIdentity>, String> {
        match system_id {
            id if id == systems::PORTAL.id => Ok(self.neighbours.portal.identity().clone()),
            id if id == systems::STATE_CORPORATION.id => Ok(self.neighbours.con.identity().clone()),
            other => Err(format!(
                "no scenario of the flow matrix sends as {other:?}: only the portal and the \
                 State Corporation are front doors"
            )),
        }
    }

    async fn person(&self, iin: &str, sender: &str) -> Result<Arc<Signer>, String> {
        let employer = egov_scenario::employer_of_signers(sender);
        let key = format!("{iin}/{}", employer.map_or("", |system| system.bin));
        let mut people = self.people.lock().map_err(|_| "keys poisoned".to_owned())?;
        let signer = people.entry(key).or_insert_with(|| {
            Arc::new(match employer {
                Some(employer) => {
                    self.neighbours
                        .sandbox
                        .person(iin, Role::Employee, Some(employer.bin))
                }
                None => self.neighbours.citizen(iin),
            })
        });
        Ok(signer.clone())
    }
}

/// Returns the scenario files under `tests/scenarios/`, sorted by path.
fn scenario_files() -> Vec<PathBuf> {
    egov_scenario::file::scenario_files(&[scenarios_dir()]).unwrap_or_else(|err| panic!("{err}"))
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Returns a path relative to `tests/scenarios/`, as failures name it.
fn shown(path: &Path) -> String {
    path.strip_prefix(scenarios_dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Returns why a report failed, one line each.
fn failures(report: &ScenarioReport) -> Vec<String> {
    let mut lines: Vec<String> = report.error.iter().cloned().collect();
    for step in report.steps.iter().filter(|step| !step.passed()) {
        lines.push(format!("step {:?}:", step.name));
        lines.extend(step.failures.iter().map(|failure| format!("  {failure}")));
    }
    lines
}

/// Runs the scenario `file` (a path under `tests/scenarios/`) against a stack of its own and
/// checks its outcome, step by step, and its exchanges against its golden diagram.
async fn run_branch(file: &str) {
    let path = scenarios_dir().join(file);
    let contracts = Contracts::egov().expect("contracts");
    let scenario = Scenario::load(&path, &contracts).unwrap_or_else(|err| panic!("{file}: {err}"));
    let stack = Stack::start().await;
    let runner = stack.runner();
    runner
        .sign_in_cabinet_readers(&scenario)
        .await
        .unwrap_or_else(|err| panic!("{file}: {err}"));
    let (report, lines) = stack.run_checked(&runner, &path, &scenario).await;
    assert_eq!(
        report.steps.len(),
        scenario.steps.len(),
        "{file}: every step ran\n{}",
        lines.join("\n")
    );
    assert!(
        lines.is_empty(),
        "{file} failed after {:.1} s:\n{}",
        report.time().as_secs_f64(),
        lines.join("\n")
    );
}

/// One test per regulated branch: `branch!(name, "B/name.toml")` for every scenario file, as
/// build.rs lists them.
macro_rules! branch {
    ($name:ident, $file:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            run_branch($file).await;
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/branches.rs"));

/// The State Corporation scenarios the desk on the web files in
/// [`state_corporation_scenarios_file_at_the_desk_on_the_web_as_its_signed_in_operator`]: B's
/// request sent to the Labour Market AIS, its result read and handed over at the desk, and D's
/// refusal at reception with its receipt.
const FILED_ON_THE_WEB: &[&str] = &[
    "B/unemployed_certificate_issued_at_the_state_corporation.toml",
    "D/kindergarten_queue_refused_at_reception_when_the_package_is_incomplete_at_the_state_corporation.toml",
];

/// `egov scenario run --desk-operator …` against a running stack: the runner files `desk` steps
/// over HTTP as the operator signed in on the desk's own sign-in (egov-scenario's
/// `DeskClient`, as the CLI builds it), and the scenarios pass with the same exchanges as in
/// process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn state_corporation_scenarios_file_at_the_desk_on_the_web_as_its_signed_in_operator() {
    let contracts = Contracts::egov().expect("contracts");
    let stack = Stack::start().await;
    let url = stack.serve_desk_on_the_web().await;
    let desk = egov_scenario::DeskClient::new(&url, DESK_OPERATOR.0, DESK_PASSWORD)
        .expect("the desk's URL");
    desk.sign_in().await.expect("the operator signs in");
    let runner = stack.runner_at(Arc::new(desk));
    let mut failed = Vec::new();
    for file in FILED_ON_THE_WEB {
        let path = scenarios_dir().join(file);
        let scenario = Scenario::load(&path, &contracts).expect("scenario reads");
        let (report, lines) = stack.run_checked(&runner, &path, &scenario).await;
        assert_eq!(
            report.steps.len(),
            scenario.steps.len(),
            "{file}: every step ran"
        );
        if !lines.is_empty() {
            failed.push(format!("{file}:\n{}", lines.join("\n")));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

#[test]
fn every_scenario_quotes_its_seed_and_has_its_golden_diagram() {
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenario under tests/scenarios");
    let mut missing = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("scenario readable");
        if !text.starts_with("# Seed ") {
            missing.push(format!(
                "{}: does not start with `# Seed <file>, <item>:` quoting the seed",
                shown(path)
            ));
        }
        if !path.with_extension("mmd").is_file() {
            missing.push(format!("{}: has no golden diagram beside it", shown(path)));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
