//! Replaying a scenario through a gateway: each step's request is signed on the runner's side
//! (with a certificate for the recorded sender, and the author's own when the request names
//! one), sent by the gateway's sync channel, and its answer compared with the expectation.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egov_core::clock::Clock;
use egov_core::envelope::{Signer, party_bin, party_iin, request_header};
use egov_junit::{Suite, TestCase};
use egov_proto::v1::{Envelope, Header};
use egov_system::caller::CallError;
use egov_system::{GatewayCaller, SystemIdentity};
use prost::Message as _;

use crate::compare::{Difference, compare, compare_value};
use crate::file::{Scenario, Step};
use crate::payload::{Contracts, type_name};

/// Where the runner gets the keys it signs with: a certificate for each sender system's seal,
/// and for each person who authors a request. The keys stay on the runner's side.
pub trait Identities {
    /// Returns the seal identity of a system (its id as the registry lists it).
    fn system(
        &self,
        system_id: &str,
    ) -> impl Future<Output = Result<Arc<SystemIdentity>, String>> + std::marker::Send;
    /// Returns a signer for the person with this IIN.
    fn person(
        &self,
        iin: &str,
    ) -> impl Future<Output = Result<Arc<Signer>, String>> + std::marker::Send;
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The step's title.
    pub name: String,
    /// How long it took.
    pub time: Duration,
    /// The correlation id of the exchange it sent (empty if it sent none), for `egov diagram`.
    pub correlation_id: String,
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
        }
    }

    /// Runs every step in order; the first failed step ends the scenario, the rest are skipped.
    pub async fn run(&self, scenario: &Scenario) -> ScenarioReport {
        let mut report = ScenarioReport {
            name: scenario.name.clone(),
            steps: Vec::new(),
            error: None,
            skipped: Vec::new(),
        };
        if !scenario.faults.is_empty() {
            report.error = Some(format!(
                "the scenario has {} [[fault]] entries; this runner does not inject faults yet, \
                 and replaying without them would not test what the scenario says",
                scenario.faults.len()
            ));
            return report;
        }
        for step in &scenario.steps {
            let step = step.get_ref();
            if report.steps.last().is_some_and(|last| !last.passed()) {
                report.skipped.push(step.title().to_owned());
                continue;
            }
            let started = Instant::now();
            let mut correlation_id = String::new();
            let failures = match self.step(step, &mut correlation_id).await {
                Ok(differences) => differences.iter().map(ToString::to_string).collect(),
                Err(reason) => vec![reason],
            };
            report.steps.push(StepReport {
                name: step.title().to_owned(),
                time: started.elapsed(),
                correlation_id,
                failures,
            });
        }
        report
    }

    /// Sends one step's request and returns the differences of its answer; the exchange's
    /// correlation id is written to `correlation_id` once the request is made.
    async fn step(
        &self,
        step: &Step,
        correlation_id: &mut String,
    ) -> Result<Vec<Difference>, String> {
        let identity = self.identities.system(&step.send.sender).await?;
        let (envelope, id) = self.request(step, &identity).await?;
        *correlation_id = id;
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
        let expect = &step.expect;
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
        Ok(differences)
    }

    /// Builds and signs a step's request: the author's signature first, then the sender's seal.
    async fn request(
        &self,
        step: &Step,
        identity: &SystemIdentity,
    ) -> Result<(Envelope, String), String> {
        let send = &step.send;
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
                let author = self.identities.person(iin).await?;
                let mut envelope = author
                    .seal(&header, payload)
                    .map_err(|err| format!("signing as {iin}: {err}"))?;
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
        let header = Header::decode(envelope.header.as_slice())
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
