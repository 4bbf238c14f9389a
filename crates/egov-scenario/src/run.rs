//! Replaying a scenario through a gateway: each step's request is signed on the runner's side
//! (with a certificate for the recorded sender, and the author's own when the request names
//! one), sent by the gateway's sync channel, and its answer compared with the expectation.
//! The scenario's faults are set through the gateway's admin API ([`FaultAdmin`]) and cleared
//! when it ends, whatever its outcome; clock steps move the stack's clock through the clock
//! authority ([`ClockAuthority`]); cabinet steps read a citizen's cabinet on the portal
//! ([`PortalClient`]), signed in as them.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egov_bus::clock_authority::{ClockAuthority, now_of};
use egov_core::clock::{Clock, VirtualClock};
use egov_core::envelope::{Signer, party_bin, party_iin, request_header};
use egov_faults::Fault;
use egov_faults::admin::FaultAdmin;
use egov_junit::{Suite, TestCase};
use egov_proto::v1::{Envelope, Header};
use egov_system::caller::CallError;
use egov_system::{GatewayCaller, SystemIdentity};
use prost::Message as _;
use time::OffsetDateTime;

use crate::compare::{Difference, compare, compare_value};
use crate::file::{
    Action, Cabinet, Desk as DeskForm, Expect, Office as OfficeForm, Scenario, Send, Step, Wait,
};
use crate::payload::{Contracts, type_name};
use crate::portal::PortalClient;
use crate::saved::{Saved, substitute};

/// Where the runner gets the keys it signs with: a certificate for each sender system's seal,
/// and for each person who authors a request. The keys stay on the runner's side.
pub trait Identities {
    /// Returns the seal identity of a system (its id as the registry lists it).
    fn system(
        &self,
        system_id: &str,
    ) -> impl Future<Output = Result<Arc<SystemIdentity>, String>> + std::marker::Send;
    /// Returns a signer for the person with this IIN who signs what `sender` sends: an
    /// employee of [`employer_of_signers`]`(sender)` under its BIN, when it names one.
    fn person(
        &self,
        iin: &str,
        sender: &str,
    ) -> impl Future<Output = Result<Arc<Signer>, String>> + std::marker::Send;
}

/// Returns the organisation whose employees sign what `sender` sends, for
/// [`Identities::person`]: the State Corporation's requests are signed by its operators,
/// employees under its BIN (the registers answer results only to those); what any other
/// system sends, by the person in it (`None`).
pub fn employer_of_signers(sender: &str) -> Option<&'static egov_core::systems::SystemInfo> {
    (sender == egov_core::systems::STATE_CORPORATION.id)
        .then_some(&egov_core::systems::STATE_CORPORATION)
}

/// The State Corporation's desk a `desk` step files at, as its signed-in operator: takes a
/// ticket, calls it, fills the request form and files it; the desk asks the registers and sends
/// the request through the gateway itself. Returns what the desk came to, as
/// [`crate::file::Desk`] lists its keys.
pub trait StateCorporationDesk: std::marker::Send + Sync {
    /// Files `form` for a new ticket and returns the desk's outcome.
    fn file<'a>(
        &'a self,
        form: &'a DeskForm,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>>;
    /// Asks the provider for the result of the sent `filing` at the desk, and hands it over to
    /// the recipient when `hand_over` and it is there; returns the filing as
    /// [`crate::file::Desk`] lists its keys, with the `correlation_id` of the request the read
    /// sent, if it sent one.
    fn result<'a>(
        &'a self,
        filing: &'a str,
        hand_over: bool,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>>;
}

/// The provider's office an `office` step hands a paper application in at, or reads a case
/// at, through the back office's own API (its clerk's intake, `OpenCase`; the case,
/// `GetCase`). Returns the case as [`crate::file::Office`] lists its keys.
pub trait ProviderOffice: std::marker::Send + Sync {
    /// Hands `form` in at the office; returns the case the clerk opened.
    fn file<'a>(
        &'a self,
        form: &'a OfficeForm,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>>;
    /// Reads the case `id` at the office.
    fn case<'a>(
        &'a self,
        id: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>>;
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The step's title.
    pub name: String,
    /// How long it took.
    pub time: Duration,
    /// The correlation id of the exchange it sent (empty if it sent none), for `egov diagram`;
    /// of a waiting step, its last request's.
    pub correlation_id: String,
    /// The correlation ids of a waiting step's requests before the last (answered otherwise
    /// than expected), so a diagram of the scenario may leave them out.
    pub retried: Vec<String>,
    /// Why it failed, one line each (a field's difference, or what could not be done); empty
    /// when it passed.
    pub failures: Vec<String>,
}

impl StepReport {
    /// Returns whether the step passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How one scenario ended, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub name: String,
    /// Its steps; a step after a failed one is not run.
    pub steps: Vec<StepReport>,
    /// Why the scenario could not run at all, if so.
    pub error: Option<String>,
    /// Steps not run after a failure.
    pub skipped: Vec<String>,
}

impl ScenarioReport {
    /// Returns whether every step passed.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.steps.iter().all(StepReport::passed)
    }

    /// Returns the total time of the steps.
    pub fn time(&self) -> Duration {
        self.steps.iter().map(|step| step.time).sum()
    }

    /// Adds the scenario's steps to a JUnit suite, one case per step.
    pub fn add_to(&self, suite: &mut Suite) {
        if let Some(error) = &self.error {
            suite.push(TestCase::failed(
                &self.name,
                "scenario",
                Duration::ZERO,
                error,
            ));
        }
        for step in &self.steps {
            suite.push(if step.passed() {
                TestCase::passed(&self.name, &step.name, step.time)
            } else {
                TestCase::failed(&self.name, &step.name, step.time, step.failures.join("\n"))
            });
        }
        for name in &self.skipped {
            suite.push(TestCase::skipped(
                &self.name,
                name,
                "an earlier step failed",
            ));
        }
    }
}

/// Replays scenarios through one gateway.
pub struct Runner<I> {
    identities: I,
    gateway: String,
    contracts: Contracts,
    clock: Arc<dyn Clock>,
    faults: Option<FaultAdmin>,
    authority: Option<AuthorityEndpoint>,
    portal: Option<PortalClient>,
    desk: Option<Arc<dyn StateCorporationDesk>>,
    office: Option<Arc<dyn ProviderOffice>>,
    /// The stack's virtual time as the runner follows it, when it stamps requests with it.
    followed: Option<VirtualClock>,
}

/// Where the clock authority is and the operator token that moves it.
struct AuthorityEndpoint {
    endpoint: String,
    token: Option<String>,
}

/// The answer as the runner compares it.
struct Answer {
    status: String,
    payload_type: Option<String>,
    header: toml::Table,
    payload: toml::Table,
}

impl<I: Identities> Runner<I> {
    /// Creates a runner sending through the gateway at `gateway` (its gRPC URL), stamping
    /// requests with `clock`'s time.
    pub fn new(
        identities: I,
        gateway: &str,
        contracts: Contracts,
        clock: Arc<dyn Clock>,
    ) -> Runner<I> {
        Runner {
            identities,
            gateway: gateway.to_owned(),
            contracts,
            clock,
            faults: None,
            authority: None,
            portal: None,
            desk: None,
            office: None,
            followed: None,
        }
    }

    /// Stamps requests with the stack's virtual time instead of the runner's `clock`: `clock`
    /// (set to the clock authority's time when the run began; share it with whatever else
    /// must read the stack's time) is read again from the authority at each scenario's start
    /// and moved with each clock step. A virtual stack's gateway refuses a message stamped
    /// far from its own time (EMSG005).
    pub fn following_the_stack_clock(mut self, clock: VirtualClock) -> Runner<I> {
        self.clock = clock.shared();
        self.followed = Some(clock);
        self
    }

    /// Brings the followed clock to `now`, the stack's time (it never goes back).
    async fn follow(&self, now: OffsetDateTime) {
        if let Some(clock) = &self.followed {
            clock.advance_to(now).await;
        }
    }

    /// Reads the stack's time from the authority into the followed clock; a failure leaves
    /// the clock where it was, for the scenario's own steps to report.
    async fn refresh_followed(&self) {
        let (Some(_), Some(endpoint)) = (&self.followed, &self.authority) else {
            return;
        };
        if let Ok(authority) =
            ClockAuthority::connect(&endpoint.endpoint, endpoint.token.clone()).await
            && let Ok(state) = authority.show().await
            && let Ok(now) = now_of(&state)
        {
            self.follow(now).await;
        }
    }

    /// Lets the runner inject the scenarios' faults through the gateway's admin API.
    pub fn with_fault_admin(mut self, admin: FaultAdmin) -> Runner<I> {
        self.faults = Some(admin);
        self
    }

    /// Lets the runner move the stack's clock through the authority at `endpoint` (its gRPC
    /// URL) with the operator's bearer `token`.
    pub fn with_clock_authority(mut self, endpoint: &str, token: Option<String>) -> Runner<I> {
        self.authority = Some(AuthorityEndpoint {
            endpoint: endpoint.to_owned(),
            token,
        });
        self
    }

    /// Lets the runner read citizens' cabinets on the portal `client` reaches.
    pub fn with_portal(mut self, client: PortalClient) -> Runner<I> {
        self.portal = Some(client);
        self
    }

    /// Signs in, on the portal, every citizen whose cabinet `scenario` reads, registering
    /// those the portal does not know yet, and keeps their sessions for its cabinet steps: a
    /// registration asks the citizens-DB through the gateway, which would otherwise show
    /// among the scenario's hops. Call it before reading the log the scenario's diagram
    /// starts from; without a portal there is nothing to do.
    pub async fn sign_in_cabinet_readers(&self, scenario: &Scenario) -> Result<(), String> {
        let Some(portal) = &self.portal else {
            return Ok(());
        };
        let citizens: std::collections::BTreeSet<&str> = scenario
            .steps
            .iter()
            .filter_map(|step| step.get_ref().cabinet.as_ref())
            .map(|cabinet| cabinet.iin.as_str())
            .collect();
        for iin in citizens {
            portal
                .session(iin)
                .await
                .map_err(|err| format!("{iin} cannot sign in on the portal: {err}"))?;
        }
        Ok(())
    }

    /// Lets the runner file `desk` steps at the State Corporation's `desk`.
    pub fn with_desk(mut self, desk: Arc<dyn StateCorporationDesk>) -> Runner<I> {
        self.desk = Some(desk);
        self
    }

    /// Lets the runner hand applications in and read cases at the provider's `office`.
    pub fn with_office(mut self, office: Arc<dyn ProviderOffice>) -> Runner<I> {
        self.office = Some(office);
        self
    }

    /// Runs every step in order; the first failed step ends the scenario, the rest are skipped.
    /// The scenario's faults are set before its first step (a step's own before that step)
    /// and every fault it set is cleared at the end, also when it failed.
    pub async fn run(&self, scenario: &Scenario) -> ScenarioReport {
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            steps: Vec::new(),
            error: None,
            skipped: Vec::new(),
        };
        let authority = match self.prepare(scenario).await {
            Ok(authority) => authority,
            Err(reason) => {
                report.error = Some(reason);
                return report;
            }
        };
        self.refresh_followed().await;
        let mut applied = Vec::new();
        let mut saved = Saved::new();
        let top_level: Vec<&Fault> = scenario.faults.iter().map(|f| f.get_ref()).collect();
        if let Err(reason) = self.inject(&top_level, &mut applied).await {
            report.error = Some(reason);
        } else {
            for step in &scenario.steps {
                let step = step.get_ref();
                if report.steps.last().is_some_and(|last| !last.passed()) {
                    report.skipped.push(step.title());
                    continue;
                }
                let started = Instant::now();
                let mut sent = Sent::default();
                let step_faults: Vec<&Fault> = step.faults.iter().collect();
                let outcome = match self.inject(&step_faults, &mut applied).await {
                    Ok(()) => {
                        self.act(step, authority.as_ref(), &mut saved, &mut sent)
                            .await
                    }
                    Err(reason) => Err(reason),
                };
                let failures = outcome.unwrap_or_else(|reason| vec![reason]);
                report.steps.push(StepReport {
                    name: step.title(),
                    time: started.elapsed(),
                    correlation_id: sent.correlation_id,
                    retried: sent.retried,
                    failures,
                });
            }
        }
        let left = self.clear(&applied).await;
        if !left.is_empty() {
            let left = left.join("; ");
            report.error = Some(match report.error.take() {
                Some(error) => format!("{error}; {left}"),
                None => left,
            });
        }
        report
    }

    /// Checks the runner can do what the scenario asks before any step runs: inject its
    /// faults, reach the clock authority its clock steps need (returned connected).
    async fn prepare(&self, scenario: &Scenario) -> Result<Option<ClockAuthority>, String> {
        if scenario.injects_faults() && self.faults.is_none() {
            return Err(
                "the scenario injects faults, but the runner was given no gateway admin \
                 API to set them (the gateway's HTTP address and an administrator's token)"
                    .to_owned(),
            );
        }
        if scenario.reads_a_cabinet() && self.portal.is_none() {
            return Err(NO_PORTAL.to_owned());
        }
        if scenario.uses_the_desk() && self.desk.is_none() {
            return Err(NO_DESK.to_owned());
        }
        if scenario.uses_the_office() && self.office.is_none() {
            return Err(NO_OFFICE.to_owned());
        }
        if !scenario.moves_the_clock() {
            return Ok(None);
        }
        let Some(endpoint) = &self.authority else {
            return Err(
                "the scenario moves the stack clock, but the runner was given no clock authority \
                 (start the stack with `--clock virtual`)"
                    .to_owned(),
            );
        };
        let refused = |err: egov_bus::clock_authority::AuthorityClientError| {
            format!("the scenario moves the stack clock, but {err}")
        };
        let authority = ClockAuthority::connect(&endpoint.endpoint, endpoint.token.clone())
            .await
            .map_err(refused)?;
        authority.show().await.map_err(refused)?;
        Ok(Some(authority))
    }

    /// Sets `faults` through the gateway's admin API, adding each one's id to `applied`; an
    /// error names the fault by its place (`fault[2] (…) could not be set: …`).
    async fn inject(&self, faults: &[&Fault], applied: &mut Vec<String>) -> Result<(), String> {
        if faults.is_empty() {
            return Ok(());
        }
        let admin = self
            .faults
            .as_ref()
            .ok_or("the runner was given no gateway admin API to set faults")?;
        for (index, fault) in faults.iter().enumerate() {
            let set = admin.add(fault).await.map_err(|err| {
                format!(
                    "fault[{}] ({} on {}) could not be set: {err}",
                    index + 1,
                    fault.kind,
                    fault.target()
                )
            })?;
            applied.push(set.id);
        }
        Ok(())
    }

    /// Clears the faults the scenario set; returns what could not be cleared.
    async fn clear(&self, applied: &[String]) -> Vec<String> {
        let Some(admin) = &self.faults else {
            return Vec::new();
        };
        let mut left = Vec::new();
        for id in applied {
            // A fault spent by its limit is gone already: nothing to clear.
            if let Err(err) = admin.remove(id).await {
                left.push(format!("fault {id} could not be cleared: {err}"));
            }
        }
        left
    }

    /// Does one step: sends its request (again until the answer is as expected, when it
    /// waits) with the values saved so far, and saves what it names from a passing answer;
    /// or moves the clock. Returns its failures, one line each.
    async fn act(
        &self,
        step: &Step,
        authority: Option<&ClockAuthority>,
        saved: &mut Saved,
        sent: &mut Sent,
    ) -> Result<Vec<String>, String> {
        let moved = match step.action()? {
            Action::Send(send, expect) => {
                let unsaved =
                    |name: String| format!("${{{name}}} was not saved by an earlier step");
                let send = Send {
                    payload: toml::Spanned::new(
                        send.payload.span(),
                        substitute(send.payload.get_ref(), saved).map_err(unsaved)?,
                    ),
                    ..send.clone()
                };
                let expect = Expect {
                    header: substitute(&expect.header, saved).map_err(unsaved)?,
                    payload: substitute(&expect.payload, saved).map_err(unsaved)?,
                    ..expect.clone()
                };
                let once = async |sent: &mut Sent| self.step(&send, &expect, sent).await;
                let (failures, payload) = self.answer_of(step.wait.as_ref(), sent, once).await?;
                return self.save(step, saved, failures, &payload);
            }
            Action::Cabinet(cabinet, expect) => {
                let unsaved =
                    |name: String| format!("${{{name}}} was not saved by an earlier step");
                let number = match &cabinet.number {
                    Some(number) => Some(substitute_text(number, saved).map_err(unsaved)?),
                    None => None,
                };
                let cabinet = Cabinet {
                    iin: cabinet.iin.clone(),
                    number,
                };
                let expect = Expect {
                    payload: substitute(&expect.payload, saved).map_err(unsaved)?,
                    ..expect.clone()
                };
                let once = async |_: &mut Sent| self.cabinet(&cabinet, &expect).await;
                let (failures, payload) = self.answer_of(step.wait.as_ref(), sent, once).await?;
                return self.save(step, saved, failures, &payload);
            }
            Action::Office(office, expect) => {
                let unsaved =
                    |name: String| format!("${{{name}}} was not saved by an earlier step");
                let provider = self.office.as_ref().ok_or(NO_OFFICE)?;
                let office = OfficeForm {
                    case: match &office.case {
                        Some(case) => Some(substitute_text(case, saved).map_err(unsaved)?),
                        None => None,
                    },
                    ..office.clone()
                };
                let expect = Expect {
                    payload: substitute(&expect.payload, saved).map_err(unsaved)?,
                    ..expect.clone()
                };
                let once = async |_: &mut Sent| {
                    let answer = match &office.case {
                        Some(case) => provider.case(case).await?,
                        None => provider.file(&office).await?,
                    };
                    Ok((named_differences(&expect, &answer), answer))
                };
                let (failures, payload) = self.answer_of(step.wait.as_ref(), sent, once).await?;
                return self.save(step, saved, failures, &payload);
            }
            Action::Desk(form, expect) => {
                let desk = self.desk.as_ref().ok_or(NO_DESK)?;
                let Some(filing) = &form.filing else {
                    let answer = desk.file(form).await?;
                    let differences = named_differences(expect, &answer);
                    return self.save(step, saved, lines(&differences), &answer);
                };
                let unsaved =
                    |name: String| format!("${{{name}}} was not saved by an earlier step");
                let filing = substitute_text(filing, saved).map_err(unsaved)?;
                let expect = Expect {
                    payload: substitute(&expect.payload, saved).map_err(unsaved)?,
                    ..expect.clone()
                };
                let once = async |sent: &mut Sent| {
                    let answer = desk.result(&filing, form.hand_over).await?;
                    // The read's own request: asked again while waiting, it is left out of the
                    // diagram as a `send` step's repeated request is.
                    if let Some(id) = answer.get("correlation_id").and_then(toml::Value::as_str) {
                        sent.correlation_id = id.to_owned();
                    }
                    Ok((named_differences(&expect, &answer), answer))
                };
                let (failures, payload) = self.answer_of(step.wait.as_ref(), sent, once).await?;
                return self.save(step, saved, failures, &payload);
            }
            Action::Inject => return Ok(Vec::new()),

            Action::Advance(by) => match authority {
                Some(authority) => authority.advance(by).await,
                None => return Err("no clock authority to move the clock".to_owned()),
            },
            Action::Set(to) => match authority {
                Some(authority) => authority.set(to).await,
                None => return Err("no clock authority to move the clock".to_owned()),
            },
        };
        let now = moved
            .and_then(|state| now_of(&state))
            .map_err(|err| err.to_string())?;
        self.follow(now).await;
        Ok(Vec::new())
    }

    /// Keeps what the step names from a passing answer for later steps; returns the step's
    /// failures (one more when a field to save is missing).
    fn save(
        &self,
        step: &Step,
        saved: &mut Saved,
        failures: Vec<String>,
        payload: &toml::Table,
    ) -> Result<Vec<String>, String> {
        if failures.is_empty() {
            for (name, path) in &step.save {
                match crate::saved::field(payload, path) {
                    Some(value) => {
                        saved.insert(name.clone(), value);
                    }
                    None => {
                        return Ok(vec![format!(
                            "save.{name}: the answer has no field {path} to save"
                        )]);
                    }
                }
            }
        }
        Ok(failures)
    }

    /// Asks `once` (again every `wait.every` until its answer is as expected or
    /// `wait.timeout` has passed, when the step waits); the last answer's differences are
    /// the failures.
    async fn answer_of(
        &self,
        wait: Option<&Wait>,
        sent: &mut Sent,
        mut once: impl AsyncFnMut(&mut Sent) -> Result<(Vec<Difference>, toml::Table), String>,
    ) -> Result<(Vec<String>, toml::Table), String> {
        let Some(wait) = wait else {
            let (differences, payload) = once(sent).await?;
            return Ok((lines(&differences), payload));
        };
        let (timeout, every) = wait.durations().map_err(|err| format!("wait.{err}"))?;
        let started = Instant::now();
        let mut requests = 0;
        loop {
            if !sent.correlation_id.is_empty() {
                sent.retried.push(std::mem::take(&mut sent.correlation_id));
            }
            let (differences, payload) = once(sent).await?;
            requests += 1;
            if differences.is_empty() {
                return Ok((Vec::new(), payload));
            }
            if started.elapsed() + every > timeout {
                let mut failures = vec![format!(
                    "no expected answer within {} ({requests} request(s)); the last one differs:",
                    wait.timeout
                )];
                failures.extend(lines(&differences));
                return Ok((failures, payload));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Sends one step's request and returns the differences of its answer and the answer's
    /// payload; the exchange's correlation id is written to `sent` once the request is made.
    async fn step(
        &self,
        send: &Send,
        expect: &Expect,
        sent: &mut Sent,
    ) -> Result<(Vec<Difference>, toml::Table), String> {
        let identity = self.identities.system(&send.sender).await?;
        let (envelope, id) = self.request(send, &identity).await?;
        sent.correlation_id = id;
        let caller = GatewayCaller::new(identity, &self.gateway, self.clock.clone())
            .map_err(|err| err.to_string())?;
        let answer = match caller.send(envelope).await {
            Ok(envelope) => self.answer(&envelope)?,
            Err(CallError::Refused { code, .. }) => Answer {
                status: code.as_str().to_owned(),
                payload_type: None,
                header: toml::Table::new(),
                payload: toml::Table::new(),
            },
            Err(err) => return Err(err.to_string()),
        };
        let mut differences = compare_value(
            &expect.status.clone().into(),
            Some(&answer.status.into()),
            "status",
        );
        if let Some(want) = &expect.payload_type {
            differences.extend(compare_value(
                &type_name(want).to_owned().into(),
                answer.payload_type.map(Into::into).as_ref(),
                "type",
            ));
        }
        // The header is compared on the fields the expectation names only.
        let header: toml::Table = answer
            .header
            .into_iter()
            .filter(|(key, _)| expect.header.contains_key(key))
            .collect();
        differences.extend(compare(&expect.header, &header, "header"));
        differences.extend(compare(&expect.payload, &answer.payload, ""));
        Ok((differences, answer.payload))
    }

    /// Reads the cabinet on the portal and returns its differences from the expectation and
    /// the answer as compared: each notification only on the keys its expected row names.
    async fn cabinet(
        &self,
        cabinet: &Cabinet,
        expect: &Expect,
    ) -> Result<(Vec<Difference>, toml::Table), String> {
        let portal = self.portal.as_ref().ok_or(NO_PORTAL)?;
        let answer = portal
            .cabinet(&cabinet.iin, cabinet.number.as_deref())
            .await
            .map_err(|err| err.to_string())?;
        let answer = cabinet_as_expected(&answer, &expect.payload);
        let mut differences = compare_value(
            &expect.status.clone().into(),
            Some(&egov_core::StatusCode::Success.as_str().to_owned().into()),
            "status",
        );
        differences.extend(compare(&expect.payload, &answer, ""));
        Ok((differences, answer))
    }

    /// Builds and signs a step's request: the author's signature first, then the sender's seal.
    async fn request(
        &self,
        send: &Send,
        identity: &SystemIdentity,
    ) -> Result<(Envelope, String), String> {
        let payload = self
            .contracts
            .encode(&send.payload_type, send.payload.get_ref())
            .map_err(|err| format!("send.payload: {err}"))?;
        let mut header = request_header(
            &send.service,
            &send.sender,
            &send.receiver,
            self.clock.now(),
        );
        header.payload_type = crate::payload::type_url(&send.payload_type);
        if let Some(iin) = &send.represented_iin {
            header.represented_party = Some(party_iin(iin));
        } else if let Some(bin) = &send.represented_bin {
            header.represented_party = Some(party_bin(bin));
        }
        let signed = match &send.user_iin {
            Some(iin) => {
                header.user_iin = iin.clone();
                let signer = send.signed_by.as_ref().unwrap_or(iin);
                let author = self.identities.person(signer, &send.sender).await?;
                let mut envelope = author
                    .seal(&header, payload)
                    .map_err(|err| format!("signing as {signer}: {err}"))?;
                identity
                    .signer
                    .countersign(&mut envelope)
                    .map_err(|err| format!("sealing as {}: {err}", send.sender))?;
                envelope
            }
            None => identity
                .signer
                .seal(&header, payload)
                .map_err(|err| format!("sealing as {}: {err}", send.sender))?,
        };
        Ok((signed, header.correlation_id))
    }

    /// Reads a signed answer: its status (a `Fault` payload's code), type, header and payload.
    fn answer(&self, envelope: &Envelope) -> Result<Answer, String> {
        let header = Header::decode(&envelope.header[..])
            .map_err(|err| format!("the answer's header does not decode: {err}"))?;
        let payload = self
            .contracts
            .decode(&header.payload_type, &envelope.payload)
            .map_err(|err| format!("the answer's payload: {err}"))?;
        let payload_type = type_name(&header.payload_type).to_owned();
        let status = if payload_type == "egov.v1.Fault" {
            payload
                .get("code")
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        } else {
            egov_core::StatusCode::Success.as_str().to_owned()
        };
        let header_fields = self
            .contracts
            .decode("egov.v1.Header", &envelope.header)
            .map_err(|err| format!("the answer's header: {err}"))?;
        Ok(Answer {
            status,
            payload_type: Some(payload_type),
            header: header_fields,
            payload,
        })
    }
}

/// The exchanges one step sent: its last request's correlation id and its earlier ones.
#[derive(Default)]
struct Sent {
    correlation_id: String,
    retried: Vec<String>,
}

/// Why a scenario with a cabinet step cannot run on a runner without a portal.
const NO_PORTAL: &str = "the scenario reads a citizen's cabinet, but the runner was given no \
                         portal URL (`egov scenario run --portal http://host:port`)";

/// Why a scenario with a desk step cannot run on a runner without a desk.
const NO_DESK: &str = "the scenario files a request at the State Corporation's desk, but this \
                       stack gives the runner no desk to file at: name the desk's operator \
                       (`egov scenario run --desk-operator <login>`, the password in \
                       EGOV_DESK_PASSWORD or --desk-password-file; the desk at --desk)";

/// Why a scenario with an office step cannot run on a runner without the provider's office.
const NO_OFFICE: &str = "the scenario hands an application in at the provider's office, but \
                         this stack gives the runner no office: name the back office's gRPC \
                         address and an operator's token (`egov scenario run --office \
                         http://host:port`, the token in EGOV_OFFICE_TOKEN)";

/// Returns a text with the saved values it names put in.
fn substitute_text(text: &str, saved: &Saved) -> Result<String, String> {
    let table = toml::Table::from_iter([("text".to_owned(), toml::Value::String(text.to_owned()))]);
    let table = substitute(&table, saved)?;
    Ok(table
        .get("text")
        .and_then(toml::Value::as_str)
        .unwrap_or(text)
        .to_owned())
}

/// Returns the differences of a desk's or an office's answer from the expectation, compared
/// on the top-level keys the expectation names (the whole answer is saved from).
fn named_differences(expect: &Expect, answer: &toml::Table) -> Vec<Difference> {
    let named: toml::Table = answer
        .iter()
        .filter(|(key, _)| expect.payload.contains_key(*key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut differences = compare_value(
        &expect.status.clone().into(),
        Some(&egov_core::StatusCode::Success.as_str().to_owned().into()),
        "status",
    );
    differences.extend(compare(&expect.payload, &named, ""));
    differences
}

/// Returns the cabinet's JSON as a table to compare with `expected`: only the top-level keys
/// it names, and each notification only on the keys of the expected row at its place.
pub fn cabinet_as_expected(answer: &serde_json::Value, expected: &toml::Table) -> toml::Table {
    let Some(answer) = answer.as_object() else {
        return toml::Table::new();
    };
    let mut table = toml::Table::new();
    for (key, value) in answer {
        let Some(want) = expected.get(key) else {
            continue;
        };
        let value = match (value, want) {
            (serde_json::Value::Array(rows), toml::Value::Array(wanted)) => toml::Value::Array(
                rows.iter()
                    .enumerate()
                    .filter_map(|(index, row)| {
                        let row = match (row, wanted.get(index)) {
                            (serde_json::Value::Object(row), Some(toml::Value::Table(keys))) => {
                                let named: serde_json::Map<String, serde_json::Value> = row
                                    .iter()
                                    .filter(|(key, _)| keys.contains_key(*key))
                                    .map(|(key, value)| (key.clone(), value.clone()))
                                    .collect();
                                serde_json::Value::Object(named)
                            }
                            (row, _) => row.clone(),
                        };
                        toml_of(&row)
                    })
                    .collect(),
            ),
            (value, _) => match toml_of(value) {
                Some(value) => value,
                None => continue,
            },
        };
        table.insert(key.clone(), value);
    }
    table
}

/// Returns a JSON value as TOML (`null` has none).
pub(crate) fn toml_of(value: &serde_json::Value) -> Option<toml::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(flag) => toml::Value::Boolean(*flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => toml::Value::Integer(integer),
            None => toml::Value::Float(number.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(text) => toml::Value::String(text.clone()),
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.iter().filter_map(toml_of).collect())
        }
        serde_json::Value::Object(fields) => toml::Value::Table(
            fields
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), toml_of(value)?)))
                .collect(),
        ),
    })
}

/// Returns the differences as failure lines.
fn lines(differences: &[Difference]) -> Vec<String> {
    differences.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cabinet_is_compared_on_the_keys_each_expected_notification_names() {
        let answer = serde_json::json!({
            "iin": "751212490092",
            "notifications": [
                { "status": "registered", "kind": "", "signer_iin": "900715400349" },
                { "status": "issued", "kind": "RESULT_KIND_RESOLUTION", "signature_verified": true },
                { "status": "issued", "text": null },
            ],
        });
        let expected: toml::Table = toml::from_str(
            "notifications = [{ status = \"registered\" }, { status = \"issued\", signature_verified = true }]",
        )
        .expect("expectation");

        let compared = cabinet_as_expected(&answer, &expected);

        let want: toml::Table = toml::from_str(
            "notifications = [{ status = \"registered\" }, { status = \"issued\", signature_verified = true }, { status = \"issued\" }]",
        )
        .expect("want");
        assert_eq!(compared, want);
        // The third notification the expectation does not name is a difference.
        assert_eq!(compare(&expected, &compared, "").len(), 1);
    }
}
