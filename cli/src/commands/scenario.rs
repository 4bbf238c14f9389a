//! `egov scenario run <file>... [--junit report.xml]`: replays scenario files against a running
//! stack through its gateway. Each request is signed on this side: the keys are made here and
//! certified by the stack's certification centre under the registration desk's registrar
//! account (`egov up` keeps its password in the data dir), so no private key leaves the runner.
//! A scenario's faults are set through the gateway's admin API with the administrator's token
//! (as `egov fault`), its clock steps move the stack clock with the clock's operator token (as
//! `egov clock`). Its desk steps file at the State Corporation's desk over HTTP as the operator
//! who runs the command (`--desk-operator`, the password from a file or EGOV_DESK_PASSWORD),
//! signed in once before the first scenario that files there. Its office steps hand paper
//! applications in at the back office's gRPC API (`--office`, with an operator's token). A
//! scenario with a golden diagram beside it (`<file>.mmd`) also has the hops it caused, read
//! from the gateway's log with the operator's token, compared with it, side by side on failure.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use egov_bus::clock_authority::{ClockAuthority, now_of};
use egov_core::clock::{Clock, SystemClock, VirtualClock};
use egov_core::envelope::Signer;
use egov_core::pki::authority::Holder;
use egov_core::pki::{KeyPurpose, Role};
use egov_core::{Bin, Iin, systems};
use egov_faults::admin::FaultAdmin;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_scenario::diagram;
use egov_scenario::{Contracts, DeskClient, Identities, LiveLog, PortalClient, Runner, Scenario};
use egov_system::identity::{EnrolmentProof, ca_certificates, enrol_holder};
use egov_system::{Enrolment, SystemIdentity};
use tokio::sync::Mutex;

/// Where the runner sends and enrols.
#[derive(Debug, Clone)]
pub struct Options {
    /// The scenario files.
    pub files: Vec<PathBuf>,
    /// The gateway's gRPC URL.
    pub gateway: String,
    /// The certification centre's gRPC URL.
    pub pki: String,
    /// The registrar's login.
    pub registrar_login: String,
    /// The registrar's password.
    pub registrar_password: String,
    /// Where to write JUnit XML, if anywhere.
    pub junit: Option<PathBuf>,
    /// Runs only the scenarios whose name or file path contains this text.
    pub filter: Option<String>,
    /// The gateway's HTTP address (its admin API, where faults are set).
    pub gateway_http: String,
    /// The administrator's bearer token for the fault admin API, if there is one.
    pub admin_token: Option<String>,
    /// The clock authority's gRPC URL.
    pub clock: String,
    /// The clock's operator token, if there is one.
    pub clock_token: Option<String>,
    /// The portal's HTTP address, for cabinet steps.
    pub portal: Option<String>,
    /// The password citizens are signed in (and registered) with on the portal.
    pub portal_password: String,
    /// The State Corporation desk's HTTP address.
    pub desk: String,
    /// The operator desk steps file as, if one was named.
    pub desk_operator: Option<DeskOperator>,
    /// The back office's gRPC URL, for office steps.
    pub office: Option<String>,
    /// An operator's token the back office admits.
    pub office_token: Option<String>,
}

/// A running stack's host, whose services listen on the standard ports (README's port table):
/// `--stack HOST` gives every endpoint the command is not given explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackHost(String);

impl StackHost {
    /// Reads a host (`10.0.0.5`, `stack.example`, `[::1]`) or a URL of it
    /// (`http://stack.example:7100/`): the scheme, port and path are dropped.
    pub fn parse(value: &str) -> anyhow::Result<StackHost> {
        let rest = value.trim();
        let rest = rest.split_once("://").map_or(rest, |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((address, _)) => format!("[{address}]"),
                None => anyhow::bail!("--stack {value:?}: an IPv6 address needs its closing ']'"),
            },
            None => authority.split(':').next().unwrap_or_default().to_owned(),
        };
        let valid = (host.len() > 2 && host.starts_with('['))
            || (!host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        anyhow::ensure!(
            valid,
            "--stack {value:?}: not a host name or address (e.g. 10.0.0.5 or stack.example)"
        );
        Ok(StackHost(host))
    }

    /// Returns `http://HOST:port` for the service's port.
    pub fn url(&self, port: u16) -> String {
        format!("http://{}:{port}", self.0)
    }

    /// Returns `HOST:port`.
    pub fn address(&self, port: u16) -> String {
        format!("{}:{port}", self.0)
    }
}

/// The endpoints `egov scenario run` was given, each `None` when not given.
#[derive(Debug, Clone, Default)]
pub struct GivenEndpoints {
    /// `--gateway`.
    pub gateway: Option<String>,
    /// `--gateway-http`.
    pub gateway_http: Option<String>,
    /// `--pki`.
    pub pki: Option<String>,
    /// `--clock`.
    pub clock: Option<String>,
    /// `--desk`.
    pub desk: Option<String>,
    /// `--portal`.
    pub portal: Option<String>,
    /// `--office`.
    pub office: Option<String>,
}

/// Every endpoint a run uses, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The gateway's gRPC URL.
    pub gateway: String,
    /// The gateway's HTTP address.
    pub gateway_http: String,
    /// The certification centre's gRPC URL.
    pub pki: String,
    /// The clock authority's gRPC URL.
    pub clock: String,
    /// The State Corporation desk's URL.
    pub desk: String,
    /// The portal's URL, if known.
    pub portal: Option<String>,
    /// The back office's gRPC URL, if known.
    pub office: Option<String>,
}

impl GivenEndpoints {
    /// Resolves each endpoint: as given, else on `stack`'s host at its standard port, else the
    /// local stack's default (the portal and the office have none: without them, cabinet and
    /// office steps are refused naming the flag).
    pub fn resolve(self, stack: Option<&StackHost>) -> Endpoints {
        let port = |name: &str, grpc: bool| {
            crate::stack::SERVICES
                .iter()
                .chain([&crate::stack::CLOCK])
                .find(|service| service.name == name)
                .map(|service| match grpc {
                    true => service.grpc_port,
                    false => service.http_port,
                })
                .unwrap_or_default()
        };
        let url = |given: Option<String>, name: &str, grpc: bool, default: &str| {
            given
                .or_else(|| stack.map(|host| host.url(port(name, grpc))))
                .unwrap_or_else(|| default.to_owned())
        };
        Endpoints {
            gateway: url(
                self.gateway,
                "gateway",
                true,
                crate::stack::GATEWAY_ENDPOINT,
            ),
            gateway_http: self
                .gateway_http
                .or_else(|| stack.map(|host| host.address(port("gateway", false))))
                .unwrap_or_else(|| crate::stack::GATEWAY_HTTP.to_owned()),
            pki: url(self.pki, "pki", true, crate::stack::PKI_ENDPOINT),
            clock: url(self.clock, "clock", true, crate::stack::CLOCK_ENDPOINT),
            desk: url(self.desk, "con", false, crate::stack::DESK_URL),
            portal: self
                .portal
                .or_else(|| stack.map(|host| host.url(port("portal", false)))),
            office: self
                .office
                .or_else(|| stack.map(|host| host.url(port("backoffice", true)))),
        }
    }
}

/// The ЦОН operator desk steps sign in as: the person running the command.
#[derive(Clone)]
pub struct DeskOperator {
    /// The operator's login.
    pub login: String,
    /// Their password.
    pub password: String,
}

impl std::fmt::Debug for DeskOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOperator")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// The environment variable the desk operator's password is read from without a file.
pub const DESK_PASSWORD_ENV: &str = "EGOV_DESK_PASSWORD";

/// Returns the desk operator's password: the first line of `file`, else [`DESK_PASSWORD_ENV`].
pub fn desk_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let password = match file {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| {
                format!(
                    "cannot read the desk operator's password from {}",
                    file.display()
                )
            })?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => std::env::var(DESK_PASSWORD_ENV).with_context(|| {
            format!(
                "--desk-operator needs the operator's password: --desk-password-file <file> or \
                 {DESK_PASSWORD_ENV}"
            )
        })?,
    };
    anyhow::ensure!(
        !password.is_empty(),
        "the desk operator's password is empty"
    );
    Ok(password)
}

/// Runs every file; exits non-zero when any step failed or any file could not be read.
pub async fn run(options: Options) -> anyhow::Result<ExitCode> {
    let contracts = Contracts::egov()?;
    // A stack on virtual time judges message times and certificates on its clock, which
    // moves only when asked: the runner follows it rather than the wall clock.
    let stack_time =
        match ClockAuthority::connect(&options.clock, options.clock_token.clone()).await {
            Ok(authority) => authority
                .show()
                .await
                .ok()
                .and_then(|state| now_of(&state).ok()),
            Err(_) => None,
        };
    let followed = stack_time.map(VirtualClock::new);
    let clock: Arc<dyn Clock> = match &followed {
        Some(clock) => {
            let now = clock
                .now()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            println!("the stack runs on virtual time ({now}): requests are stamped with it");
            clock.shared()
        }
        None => SystemClock::shared(),
    };
    let keys = CentreKeys::new(&options, clock.clone());
    let mut runner = Runner::new(keys, &options.gateway, contracts.clone(), clock)
        .with_clock_authority(&options.clock, options.clock_token.clone());
    if let Some(clock) = followed {
        runner = runner.following_the_stack_clock(clock);
    }
    if let Some(token) = &options.admin_token {
        runner = runner.with_fault_admin(FaultAdmin::new(&options.gateway_http, token));
    }
    if let Some(portal) = &options.portal {
        runner = runner
            .with_portal(PortalClient::new(portal, &options.portal_password).context("--portal")?);
    }
    if let Some(office) = &options.office {
        let token = options
            .office_token
            .as_deref()
            .context("--office needs an operator's token the back office admits: --office-token or EGOV_OFFICE_TOKEN")?;
        runner = runner.with_office(Arc::new(
            egov_scenario::OfficeClient::new(office, token).context("--office")?,
        ));
    }
    let desk = match &options.desk_operator {
        Some(operator) => {
            let desk = Arc::new(
                DeskClient::new(&options.desk, &operator.login, &operator.password)
                    .context("--desk")?,
            );
            runner = runner.with_desk(desk.clone());
            Some(desk)
        }
        None => None,
    };
    // The hops are drawn from the gateway's log, which an operator's token opens.
    let log = options
        .admin_token
        .as_deref()
        .map(|token| LiveLog::new(&options.gateway, token))
        .transpose()
        .context("--gateway")?;
    let mut unchecked_diagrams = 0;
    let mut signed_in = false;
    let mut suite = egov_junit::Suite::new("egov scenario run");
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let files = egov_scenario::file::scenario_files(&options.files)?;
    for file in &files {
        let scenario = match Scenario::load(file, &contracts) {
            Ok(scenario) => scenario,
            Err(err) => {
                println!("FAIL {}\n  {err}", file.display());
                suite.push(egov_junit::TestCase::failed(
                    file.display().to_string(),
                    "scenario file",
                    std::time::Duration::ZERO,
                    err.to_string(),
                ));
                failed += 1;
                continue;
            }
        };
        if let Some(filter) = &options.filter
            && !scenario.name.contains(filter.as_str())
            && !file.display().to_string().contains(filter.as_str())
        {
            skipped += 1;
            continue;
        }
        // One sign-in up front: a wrong password fails the run once, before the operator's
        // account is locked by a refused sign-in per scenario.
        if let Some(desk) = &desk
            && !signed_in
            && scenario.uses_the_desk()
        {
            desk.sign_in().await?;
            signed_in = true;
        }
        // A golden diagram beside the file: the hops the scenario causes are compared with
        // it, read from the log before and after the run. The citizens whose cabinets it
        // reads sign in first, so that a registration's look-up is not among them (a failure
        // shows at their cabinet steps).
        let golden = diagram::golden_path(file).is_file();
        if golden {
            let _ = runner.sign_in_cabinet_readers(&scenario).await;
            if log.is_none() {
                unchecked_diagrams += 1;
            }
        }
        let diagram_log = log.as_ref().filter(|_| golden);
        let before = match diagram_log {
            Some(log) => Some(log.settled().await.map(|rows| {
                rows.iter()
                    .map(diagram::row_key)
                    .collect::<HashSet<diagram::RowKey>>()
            })),
            None => None,
        };
        let report = runner.run(&scenario).await;
        let hops = match (diagram_log, before) {
            (Some(log), Some(before)) if report.passed() => {
                Some(compare_hops(log, file, before, &report).await)
            }
            _ => None,
        };
        let diagram_failed = matches!(hops, Some(Err(_)));
        let verdict = if report.passed() && !diagram_failed {
            "PASS"
        } else {
            "FAIL"
        };
        println!(
            "{verdict} {} ({}, {} ms)",
            report.name,
            file.display(),
            report.time().as_millis()
        );
        if let Some(error) = &report.error {
            println!("  {error}");
        }
        for step in report.steps.iter().filter(|step| !step.passed()) {
            println!(
                "  {} (exchange {}, see `egov diagram`):",
                step.name, step.correlation_id
            );
            for failure in &step.failures {
                println!("    {failure}");
            }
        }
        for name in &report.skipped {
            println!("  {name}: skipped after the failure");
        }
        if let Some(Err(why)) = &hops {
            println!("  {}", why.replace('\n', "\n  "));
        }
        if report.passed() && !diagram_failed {
            passed += 1;
        } else {
            failed += 1;
        }
        report.add_to(&mut suite);
        if let Some(hops) = hops {
            let name = "golden diagram";
            suite.push(match hops {
                Ok(()) => egov_junit::TestCase::passed(&report.name, name, report.time()),
                Err(why) => egov_junit::TestCase::failed(&report.name, name, report.time(), why),
            });
        }
    }
    if unchecked_diagrams > 0 {
        println!(
            "{unchecked_diagrams} golden diagram(s) not compared: reading the gateway's log needs an operator's token (--token or EGOV_OPERATOR_TOKEN)"
        );
    }
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if let Some(path) = &options.junit {
        suite
            .write(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Compares the hops `report`'s scenario caused, the log's rows since `before`, with the
/// golden diagram beside `file`; the error says why they differ or could not be read.
async fn compare_hops(
    log: &LiveLog,
    file: &std::path::Path,
    before: Result<HashSet<diagram::RowKey>, egov_scenario::LiveLogError>,
    report: &egov_scenario::ScenarioReport,
) -> Result<(), String> {
    let unread = |err: egov_scenario::LiveLogError| format!("the hops could not be read: {err}");
    let before = before.map_err(unread)?;
    let after = log.settled().await.map_err(unread)?;
    diagram::check_golden(file, &diagram::scenario_diagram(&before, &after, report))
        .map_err(|err| err.to_string())
}

/// Keys made here, certified by the stack's centre under the registrar account; one per
/// system and person for the whole run.
struct CentreKeys {
    pki: String,
    login: String,
    password: String,
    clock: Arc<dyn Clock>,
    systems: Mutex<HashMap<String, Arc<SystemIdentity>>>,
    persons: Mutex<HashMap<String, Arc<Signer>>>,
}

impl CentreKeys {
    fn new(options: &Options, clock: Arc<dyn Clock>) -> CentreKeys {
        CentreKeys {
            pki: options.pki.clone(),
            login: options.registrar_login.clone(),
            password: options.registrar_password.clone(),
            clock,
            systems: Mutex::new(HashMap::new()),
            persons: Mutex::new(HashMap::new()),
        }
    }

    async fn certified(
        &self,
        holder: &Holder,
    ) -> Result<(Signer, egov_core::pki::CertificateInfo), String> {
        let channel = tonic::transport::Endpoint::from_shared(self.pki.clone())
            .map_err(|err| format!("{:?} is not a certification centre URL: {err}", self.pki))?
            .connect_lazy();
        let mut client = CertificationCentreClient::new(channel);
        let (root, intermediate) = ca_certificates(&self.pki, &mut client)
            .await
            .map_err(|err| err.to_string())?;
        let proof = EnrolmentProof::Registrar {
            login: &self.login,
            password: &self.password,
        };
        let signer = enrol_holder(
            &self.pki,
            &mut client,
            holder,
            Some(proof),
            None,
            &intermediate,
            self.clock.now(),
        )
        .await
        .map_err(|err| err.to_string())?;
        Ok((signer, root))
    }
}

impl Identities for CentreKeys {
    async fn system(&self, system_id: &str) -> Result<Arc<SystemIdentity>, String> {
        let mut known = self.systems.lock().await;
        if let Some(identity) = known.get(system_id) {
            return Ok(identity.clone());
        }
        let system = systems::by_id(system_id)
            .ok_or_else(|| format!("sender {system_id:?} is not a system of the stack"))?;
        let enrolment = Enrolment::of(&system, egov_system::config::DEFAULT_RESPONSIBLE_IIN)
            .map_err(|err| err.to_string())?;
        let (signer, root) = self.certified(&enrolment.holder()).await?;
        let identity = Arc::new(SystemIdentity {
            system_id: system_id.to_owned(),
            bin: enrolment.bin,
            signer,
            root,
        });
        known.insert(system_id.to_owned(), identity.clone());
        Ok(identity)
    }

    async fn person(&self, iin: &str, sender: &str) -> Result<Arc<Signer>, String> {
        let employer = egov_scenario::employer_of_signers(sender);
        let key = format!("{iin}/{}", employer.map_or("", |system| system.bin));
        let mut known = self.persons.lock().await;
        if let Some(signer) = known.get(&key) {
            return Ok(signer.clone());
        }
        let bin = employer
            .map(|system| Bin::parse(system.bin))
            .transpose()
            .map_err(|err| format!("the BIN of the signer's employer: {err}"))?;
        let holder = Holder {
            surname: "SCENARIO".into(),
            given_name: iin.to_owned(),
            iin: Iin::parse(iin).map_err(|err| format!("user_iin {iin:?}: {err}"))?,
            bin,
            organization: employer.map(|system| system.name.to_owned()),
            role: match employer {
                Some(_) => Role::Employee,
                None => Role::Individual,
            },
            purpose: KeyPurpose::Sign,
        };
        let signer = Arc::new(self.certified(&holder).await?.0);
        known.insert(key, signer.clone());
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_host_gives_every_endpoint_not_given_on_its_standard_port() {
        let host = StackHost::parse("http://stack.example:7100/console").expect("a host");
        let endpoints = GivenEndpoints {
            gateway_http: Some("127.0.0.1:9101".into()),
            ..GivenEndpoints::default()
        }
        .resolve(Some(&host));
        assert_eq!(endpoints.gateway, "http://stack.example:7100");
        assert_eq!(endpoints.gateway_http, "127.0.0.1:9101", "as given");
        assert_eq!(endpoints.pki, "http://stack.example:7110");
        assert_eq!(endpoints.clock, "http://stack.example:7200");
        assert_eq!(endpoints.desk, "http://stack.example:7191");
        assert_eq!(
            endpoints.portal.as_deref(),
            Some("http://stack.example:7181")
        );
        assert_eq!(
            endpoints.office.as_deref(),
            Some("http://stack.example:7170")
        );

        let local = GivenEndpoints::default().resolve(None);
        assert_eq!(local.gateway, crate::stack::GATEWAY_ENDPOINT);
        assert_eq!(local.portal, None);
        assert_eq!(local.office, None);
    }

    #[test]
    fn a_stack_that_is_no_host_is_refused_naming_it() {
        assert_eq!(
            StackHost::parse("[::1]:7100").expect("IPv6").url(7110),
            "http://[::1]:7110"
        );
        for bad in ["", "http://", "stack example", "[::1"] {
            let error = StackHost::parse(bad).expect_err(bad).to_string();
            assert!(error.contains("--stack"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_desk_operators_password_is_the_first_line_of_its_file() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("desk.password");
        std::fs::write(&file, "ЦОН-operator-2026\n").expect("written");
        assert_eq!(
            desk_password(Some(&file)).expect("read"),
            "ЦОН-operator-2026"
        );
    }

    #[test]
    fn an_empty_desk_password_file_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("desk.password");
        std::fs::write(&file, "\n").expect("written");
        let error = desk_password(Some(&file)).expect_err("refused").to_string();
        assert!(error.contains("password is empty"), "{error}");
    }
}
