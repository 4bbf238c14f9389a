//! The scenario file: a name, faults, and steps, in TOML.
//!
//! A step is a `[[step]]` table whose keys say what it does:
//! - `[step.send]` sends one request through the gateway and `[step.expect]` checks the
//!   answer; a flow across several services is several such steps.
//! - `[step.desk]` files a request at the State Corporation's desk as its operator does: the
//!   request form's fields, and `[step.expect]` checks what the desk came to (see [`Desk`]).
//! - `[step.office]` hands a paper application in at the provider's office (`service`,
//!   `recipient_iin`, `documents`), or reads a case there (`case = "${case}"`): what the
//!   office registered, its steps and the paper result (see [`Office`]).
//! - `advance = "28d"` (or `"6wd"`, working days on Kazakhstan's calendar, as `egov clock
//!   advance` reads it) and `set = "2027-03-05T09:00:00+05:00"` move the stack's clock
//!   through the clock authority.
//! - `fault = [...]` (or `[[step.fault]]` tables) injects faults from that step on.
//!
//! `[[fault]]` tables at the top level are faults in force from the first step. A fault has
//! the fields of `egov_faults::Fault`, as the gateway's admin API takes them; every fault a
//! scenario injects is cleared when it ends, passed or failed. Unknown keys are refused,
//! naming the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use egov_faults::Fault;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::compare::invalid_patterns;
use crate::payload::Contracts;

/// A scenario: exchanges to replay through a gateway, and what each must answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What the scenario checks, shown in reports.
    pub name: String,
    /// Where it came from, e.g. the recorded exchange's correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Faults in force from the first step until the scenario ends.
    #[serde(rename = "fault", default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Spanned<Fault>>,
    /// The steps, in order.
    #[serde(rename = "step", default)]
    pub steps: Vec<Spanned<Step>>,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step does, shown in reports (the service id when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Faults injected before this step, in force from it on until the scenario ends.
    #[serde(rename = "fault", default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// The request to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<Send>,
    /// Moves the stack's clock forward by this step (`28d`, `6wd`, as `egov clock advance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<String>,
    /// Moves the stack's clock forward to this RFC 3339 instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Reads a citizen's personal cabinet on the portal, signed in as them over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cabinet: Option<Cabinet>,
    /// Files a request at the State Corporation's desk, as its operator fills the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<Desk>,
    /// Hands a paper application in at the provider's office, or reads a case there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<Office>,
    /// What the answer to `send` must be.
    #[serde(default, skip_serializing_if = "Expect::is_default")]
    pub expect: Expect,
    /// Sends the request again until the answer is as expected, for a result that comes later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
    /// Fields of the answer's payload kept for later steps, by name (`number =
    /// "registration_number"`); a later step writes `"${number}"` (see [`crate::saved`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub save: BTreeMap<String, String>,
}

/// How long a `send` step polls for its expected answer: `wait = { timeout = "30s" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// How long to keep asking (`250ms`, `30s`, `2m`); the last answer's differences are
    /// reported when it passes.
    pub timeout: String,
    /// How long between two requests; 200 ms when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
}

/// Why a step that does several things, or none, is refused.
const ONE_THING: &str = "a step does one thing: give one of `send`, `cabinet`, `desk`, `office`, \
                         `advance` or `set` (or only `fault`)";

/// The pause between two requests of a waiting step when the file gives none.
const DEFAULT_POLL: std::time::Duration = std::time::Duration::from_millis(200);

impl Wait {
    /// Returns the timeout and the pause between requests, or the field that does not read.
    pub fn durations(&self) -> Result<(std::time::Duration, std::time::Duration), String> {
        let timeout = egov_faults::parse_duration(&self.timeout)
            .map_err(|err| format!("timeout: {}", err.reason))?;
        let every = match &self.every {
            Some(every) => egov_faults::parse_duration(every)
                .map_err(|err| format!("every: {}", err.reason))?,
            None => DEFAULT_POLL,
        };
        if every.is_zero() {
            return Err("every: must be more than zero".into());
        }
        Ok((timeout, every))
    }
}

/// A citizen's personal cabinet to read: `cabinet = { iin = "…", number = "${number}" }`.
/// The answer is `notifications = [...]`, oldest first, each with `registration_number`,
/// `status`, `kind`, `text`, `fields`, `signer_subject`, `signer_iin`, `signer_bin`,
/// `signer_serial`, `signature_verified` and `received_at`; a notification is compared only on
/// the keys its expected row names, and their number must be as expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cabinet {
    /// Whose cabinet: the citizen the runner signs in as.
    pub iin: String,
    /// Only the notifications about this registration number, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// The request form an operator of the State Corporation (ЦОН / ХҚО) fills at the desk for a
/// recipient in the hall: `[step.desk]` with `service`, `recipient_iin`, and as the service
/// needs them `representative_iin` with `power_of_attorney` (`notarised` with its `number`, or
/// `other`), `child_iin`, `district`, `kindergarten_bin`, `documents` (the item-9 codes handed
/// in) and `consent`. The desk asks the registers, then sends the request signed with the
/// operator's certificate, or refuses at the desk. Its answer is `outcome` (`sent`,
/// `data_unavailable`, `refused`, `receipt`, `consent_missing`, `invalid`), `message`,
/// `target_system`, `registration_number`, the result it got at once (`result_kind`,
/// `result_text`), `receipt = { recipient_iin, recipient_name, missing = [...] }` and `errors =
/// [{ field, problem }]`; it is compared on the keys the expectation names.
///
/// `desk = { filing = "${filing}" }` instead asks the provider for that filing's result at the
/// desk, as the operator does when the recipient comes for it, and with `hand_over = true`
/// hands it over once it is there; it answers `filing_id`, `registration_number`, `ready`,
/// `result_kind`, `result_text`, `result_signer` (the subject of the certificate that signed
/// the result as the desk got it) and `handed_over_by`, and may `wait` for the result.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desk {
    /// The service's code: `B`, `C`, `D` or `F`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// The recipient's IIN.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipient_iin: String,
    /// The recipient's name as the application states it, for a receipt of refusal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipient_name: String,
    /// The representative's IIN, when one acts by power of attorney.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub representative_iin: String,
    /// How the power of attorney is certified: `notarised` or `other` (empty: none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub power_of_attorney: String,
    /// The notarised power of attorney's number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub power_of_attorney_number: String,
    /// The child's IIN (C, D).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub child_iin: String,
    /// The district code a kindergarten place is wanted in (D).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub district: String,
    /// The kindergarten asked for, or empty for any (D).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kindergarten_bin: String,
    /// The codes of the item-9 documents handed in.
    #[serde(default)]
    pub documents: Vec<String>,
    /// Whether the citizen consented to the use of legally protected secrets (D).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent: bool,
    /// The filing whose result to read, instead of filing a form (usually `"${filing}"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing: Option<String>,
    /// With `filing`: hand the result over to the recipient once it is there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hand_over: bool,
}

/// The provider's office (кеңсе / канцелярия), where the recipient of an office-only service
/// hands the paper application in and gets the paper result: `[step.office]` with `service`,
/// `recipient_iin` and `documents` (the item-9 codes handed in) files an application, which
/// the clerk registers; `office = { case = "${case}" }` reads that case at the office. Both
/// answer `case` (the office's case id), `registration_number`, `service`, `closed`, `steps =
/// [{ role, action, norm, late }]` and, once decided, `result = { kind, refusal_ground, text,
/// fields }`; compared on the keys the expectation names.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    /// The service's code, to file an application for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
    /// The recipient's IIN, to file an application for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub recipient_iin: String,
    /// The codes of the item-9 documents handed in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    /// The case to read, instead of filing one (usually `"${case}"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

/// What a step does, once read.
#[derive(Debug, Clone, PartialEq)]
pub enum Action<'a> {
    /// Sends a request and compares its answer.
    Send(&'a Send, &'a Expect),
    /// Moves the stack's clock forward by a step.
    Advance(egov_core::clock::Step),
    /// Moves the stack's clock forward to an instant.
    Set(time::OffsetDateTime),
    /// Reads a citizen's cabinet on the portal and compares it.
    Cabinet(&'a Cabinet, &'a Expect),
    /// Files a request at the State Corporation's desk and compares what it came to.
    Desk(&'a Desk, &'a Expect),
    /// Hands an application in at the provider's office, or reads a case there.
    Office(&'a Office, &'a Expect),
    /// Only injects its faults.
    Inject,
}

/// A request sent through the gateway, signed on the runner's side as `sender`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// The sending system's id, as the registry lists it.
    pub sender: String,
    /// The catalogue service id.
    pub service: String,
    /// The receiving system's id.
    pub receiver: String,
    /// The IIN of the person who authored the request, who signs it before the sender's seal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_iin: Option<String>,
    /// The IIN of the person whose certificate signs for `user_iin`, when it is another's: a
    /// request whose EDS does not match its author, which the gateway must refuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// The IIN of the person the request is made for (a principal), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub represented_iin: Option<String>,
    /// The BIN of the organisation the request is made for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub represented_bin: Option<String>,
    /// The payload's message type, e.g. `egov.v1.GetPersonRequest`.
    #[serde(rename = "type")]
    pub payload_type: String,
    /// The payload's fields (with where they stand in the file, for errors).
    #[serde(default = "empty_payload")]
    pub payload: Spanned<toml::Table>,
}

/// What an answer must be. Every value may be a matcher (see [`crate::compare`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status: `SCSS001` for an answer, the code of a signed `Fault` answer, or the
    /// gateway's refusal code.
    #[serde(default = "success")]
    pub status: String,
    /// The answer's payload type; absent when the gateway refused.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub payload_type: Option<String>,
    /// Fields of the answer's header (`egov.v1.Header`); those not named are not compared.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub header: toml::Table,
    /// The answer's payload fields, compared whole.
    #[serde(default)]
    pub payload: toml::Table,
}

fn empty_payload() -> Spanned<toml::Table> {
    Spanned::new(0..0, toml::Table::new())
}

fn success() -> String {
    egov_core::StatusCode::Success.as_str().to_owned()
}

impl Default for Expect {
    fn default() -> Expect {
        Expect {
            status: success(),
            payload_type: None,
            header: toml::Table::new(),
            payload: toml::Table::new(),
        }
    }
}

impl Expect {
    /// Returns whether nothing beyond success is expected (so it is left out of the file).
    pub fn is_default(&self) -> bool {
        *self == Expect::default()
    }
}

impl Step {
    /// Returns a step sending `send` and expecting `expect`.
    pub fn sending(name: Option<String>, send: Send, expect: Expect) -> Step {
        Step {
            name,
            faults: Vec::new(),
            send: Some(send),
            advance: None,
            set: None,
            cabinet: None,
            desk: None,
            office: None,
            expect,
            wait: None,
            save: BTreeMap::new(),
        }
    }

    /// Returns the step's name for reports: its own, else what it does.
    pub fn title(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(cabinet) = &self.cabinet {
            return format!("the cabinet of {}", cabinet.iin);
        }
        if let Some(desk) = &self.desk {
            return match &desk.filing {
                Some(filing) => format!("filing {filing} read at the State Corporation's desk"),
                None => format!(
                    "service {} filed at the State Corporation's desk",
                    desk.service
                ),
            };
        }
        if let Some(office) = &self.office {
            return match &office.case {
                Some(case) => format!("case {case} read at the provider's office"),
                None => format!(
                    "service {} handed in at the provider's office",
                    office.service
                ),
            };
        }
        match (&self.send, &self.advance, &self.set) {
            (Some(send), _, _) => send.service.clone(),
            (None, Some(step), _) => format!("advance the stack clock {step}"),
            (None, None, Some(to)) => format!("set the stack clock to {to}"),
            (None, None, None) => format!("inject {} fault(s)", self.faults.len()),
        }
    }

    /// Returns what the step does; its keys were checked when the scenario was read.
    pub fn action(&self) -> Result<Action<'_>, String> {
        if let Some(office) = &self.office {
            return match (
                &self.send,
                &self.advance,
                &self.set,
                &self.desk,
                &self.cabinet,
            ) {
                (None, None, None, None, None) => Ok(Action::Office(office, &self.expect)),
                _ => Err(ONE_THING.to_owned()),
            };
        }
        if let Some(cabinet) = &self.cabinet {
            return match (&self.send, &self.advance, &self.set, &self.desk) {
                (None, None, None, None) => Ok(Action::Cabinet(cabinet, &self.expect)),
                _ => Err(ONE_THING.to_owned()),
            };
        }
        if let Some(desk) = &self.desk {
            return match (&self.send, &self.advance, &self.set) {
                (None, None, None) => Ok(Action::Desk(desk, &self.expect)),
                _ => Err(ONE_THING.to_owned()),
            };
        }
        match (&self.send, &self.advance, &self.set) {
            (Some(send), None, None) => Ok(Action::Send(send, &self.expect)),
            (None, Some(step), None) => step
                .parse()
                .map(Action::Advance)
                .map_err(|err: egov_core::clock::StepError| err.to_string()),
            (None, None, Some(to)) => egov_bus::clock::parse_instant(to)
                .map(Action::Set)
                .ok_or_else(|| format!("{to:?} is not an RFC 3339 instant")),
            (None, None, None) if !self.faults.is_empty() => Ok(Action::Inject),
            _ => Err(ONE_THING.to_owned()),
        }
    }

    /// Returns whether it moves the stack's clock.
    pub fn moves_the_clock(&self) -> bool {
        self.advance.is_some() || self.set.is_some()
    }
}

impl Scenario {
    /// Returns whether any of its faults or steps injects a fault.
    pub fn injects_faults(&self) -> bool {
        !self.faults.is_empty()
            || self
                .steps
                .iter()
                .any(|step| !step.get_ref().faults.is_empty())
    }

    /// Returns whether any step reads a citizen's cabinet on the portal.
    pub fn reads_a_cabinet(&self) -> bool {
        self.steps
            .iter()
            .any(|step| step.get_ref().cabinet.is_some())
    }

    /// Returns whether any step files a request at the State Corporation's desk.
    pub fn uses_the_desk(&self) -> bool {
        self.steps.iter().any(|step| step.get_ref().desk.is_some())
    }

    /// Returns whether any step files at or reads from the provider's office.
    pub fn uses_the_office(&self) -> bool {
        self.steps
            .iter()
            .any(|step| step.get_ref().office.is_some())
    }

    /// Returns whether any step moves the stack's clock.
    pub fn moves_the_clock(&self) -> bool {
        self.steps
            .iter()
            .any(|step| step.get_ref().moves_the_clock())
    }
}

/// Why a scenario file could not be used; each names the file, the line and the field.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{origin}:{line}: {prefix}{message}", prefix = field_prefix(.field))]
    Invalid {
        /// The file (or `<text>`).
        origin: String,
        /// The line, from 1.
        line: usize,
        /// The field, e.g. `step[1].send.payload` (empty when the parser names it itself).
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

/// Returns the line (from 1) of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

impl Scenario {
    /// Reads and checks a scenario file against the contracts.
    pub fn load(path: &Path, contracts: &Contracts) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&text, &path.display().to_string(), contracts)
    }

    /// Parses and checks scenario text; `origin` names it in errors. Every payload type must be
    /// a message of the contracts and every request payload must encode as it.
    pub fn parse(
        text: &str,
        origin: &str,
        contracts: &Contracts,
    ) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|err| ScenarioError::Invalid {
            origin: origin.to_owned(),
            line: err.span().map_or(1, |span| line_of(text, span.start)),
            field: String::new(),
            message: err.message().trim_end().to_owned(),
        })?;
        let invalid = |line: usize, field: String, message: String| ScenarioError::Invalid {
            origin: origin.to_owned(),
            line,
            field,
            message,
        };
        if scenario.steps.is_empty() {
            return Err(invalid(
                line_of(text, text.len()),
                "step".into(),
                "a scenario needs at least one [[step]]".into(),
            ));
        }
        for (index, spanned) in scenario.faults.iter().enumerate() {
            spanned.get_ref().check().map_err(|err| {
                invalid(
                    line_of(text, spanned.span().start),
                    format!("fault[{}].{}", index + 1, err.field),
                    err.reason,
                )
            })?;
        }
        // Names saved by the steps before the one being checked.
        let mut saved: Vec<&str> = Vec::new();
        for (index, spanned) in scenario.steps.iter().enumerate() {
            let line = line_of(text, spanned.span().start);
            let step = spanned.get_ref();
            let field = |name: &str| format!("step[{}].{name}", index + 1);
            for (number, fault) in step.faults.iter().enumerate() {
                fault.check().map_err(|err| {
                    invalid(
                        line,
                        field(&format!("fault[{}].{}", number + 1, err.field)),
                        err.reason,
                    )
                })?;
            }
            let action = step.action().map_err(|message| {
                let name = if step.advance.is_some() && step.send.is_none() && step.set.is_none() {
                    "advance"
                } else if step.set.is_some() && step.send.is_none() && step.advance.is_none() {
                    "set"
                } else {
                    "send"
                };
                invalid(line, field(name), message)
            })?;
            // A desk or a cabinet answers a table, not a signed message.
            let payload_only = |expect: &Expect, what: &str, key: &str| {
                if expect.payload_type.is_some() || !expect.header.is_empty() {
                    return Err(invalid(
                        line,
                        field("expect"),
                        format!(
                            "{what} has no message type or header to expect: name its `payload.{key}`"
                        ),
                    ));
                }
                Ok(())
            };
            let (send, expect) = match action {
                Action::Send(send, expect) => (Some(send), expect),
                Action::Desk(desk, expect) => {
                    match &desk.filing {
                        Some(filing) => {
                            let form = Desk {
                                filing: None,
                                hand_over: false,
                                ..desk.clone()
                            };
                            if form != Desk::default() {
                                return Err(invalid(
                                    line,
                                    field("desk.filing"),
                                    "reads a filing's result: a step that files a form gives no \
                                     `filing`, and one that reads gives no form field"
                                        .into(),
                                ));
                            }
                            if let Some(why) = crate::saved::unsaved_reference(filing, &saved) {
                                return Err(invalid(line, field("desk.filing"), why));
                            }
                        }
                        None => {
                            if desk.service.is_empty() {
                                return Err(invalid(
                                    line,
                                    field("desk.service"),
                                    "name the service filed, or the `filing` to read".into(),
                                ));
                            }
                            if desk.hand_over {
                                return Err(invalid(
                                    line,
                                    field("desk.hand_over"),
                                    "a result is handed over by a step that reads its `filing`"
                                        .into(),
                                ));
                            }
                            for (name, iin) in [
                                ("desk.recipient_iin", &desk.recipient_iin),
                                ("desk.representative_iin", &desk.representative_iin),
                                ("desk.child_iin", &desk.child_iin),
                            ] {
                                if name == "desk.recipient_iin" || !iin.is_empty() {
                                    egov_core::Iin::parse(iin).map_err(|err| {
                                        invalid(line, field(name), err.to_string())
                                    })?;
                                }
                            }
                            if !matches!(
                                desk.power_of_attorney.as_str(),
                                "" | "notarised" | "other"
                            ) {
                                return Err(invalid(
                                    line,
                                    field("desk.power_of_attorney"),
                                    format!(
                                        "{:?} is not `notarised` or `other` (leave it out when \
                                         the recipient came in person)",
                                        desk.power_of_attorney
                                    ),
                                ));
                            }
                            if step.wait.is_some() {
                                return Err(invalid(
                                    line,
                                    field("wait"),
                                    "a request is filed at the desk once: a later step reads \
                                     its result"
                                        .into(),
                                ));
                            }
                        }
                    }
                    payload_only(expect, "the desk", "outcome")?;
                    (None, expect)
                }
                Action::Office(office, expect) => {
                    match &office.case {
                        Some(case) => {
                            if !office.service.is_empty()
                                || !office.recipient_iin.is_empty()
                                || !office.documents.is_empty()
                            {
                                return Err(invalid(
                                    line,
                                    field("office.case"),
                                    "reads a case: a step that files one gives no `case`".into(),
                                ));
                            }
                            if let Some(why) = crate::saved::unsaved_reference(case, &saved) {
                                return Err(invalid(line, field("office.case"), why));
                            }
                        }
                        None => {
                            if office.service.is_empty() {
                                return Err(invalid(
                                    line,
                                    field("office.service"),
                                    "name the service handed in, or the `case` to read".into(),
                                ));
                            }
                            egov_core::Iin::parse(&office.recipient_iin).map_err(|err| {
                                invalid(line, field("office.recipient_iin"), err.to_string())
                            })?;
                            if step.wait.is_some() {
                                return Err(invalid(
                                    line,
                                    field("wait"),
                                    "an application is handed in once: a later step reads its case"
                                        .into(),
                                ));
                            }
                        }
                    }
                    payload_only(expect, "the office", "result")?;
                    (None, expect)
                }
                Action::Cabinet(cabinet, expect) => {
                    egov_core::Iin::parse(&cabinet.iin)
                        .map_err(|err| invalid(line, field("cabinet.iin"), err.to_string()))?;
                    if let Some(number) = &cabinet.number
                        && let Some(why) = crate::saved::unsaved_reference(number, &saved)
                    {
                        return Err(invalid(line, field("cabinet.number"), why));
                    }
                    payload_only(expect, "a cabinet", "notifications")?;
                    (None, expect)
                }
                _ => {
                    if !step.expect.is_default() {
                        return Err(invalid(
                        line,
                        field("expect"),
                        "only a step that sends a request or reads a cabinet has an answer to expect".into(),
                    ));
                    }
                    if step.wait.is_some() {
                        return Err(invalid(
                        line,
                        field("wait"),
                        "only a step that sends a request or reads a cabinet can wait for its answer".into(),
                    ));
                    }
                    if !step.save.is_empty() {
                        return Err(invalid(
                        line,
                        field("save"),
                        "only a step that sends a request or reads a cabinet has an answer to save from".into(),
                    ));
                    }
                    continue;
                }
            };
            let empty = toml::Table::new();
            let sent_payload = send.map_or(&empty, |send| send.payload.get_ref());
            let used = crate::saved::references_in(sent_payload, &field("send.payload"))
                .into_iter()
                .chain(crate::saved::references_in(
                    &expect.payload,
                    &field("expect.payload"),
                ))
                .chain(crate::saved::references_in(
                    &expect.header,
                    &field("expect.header"),
                ));
            for (path, name) in used {
                if !saved.contains(&name.as_str()) {
                    return Err(invalid(
                        line,
                        path,
                        format!(
                            "${{{name}}} is not saved by an earlier step (`save = {{ {name} = \"<field>\" }}`)"
                        ),
                    ));
                }
            }
            for (name, path) in &step.save {
                if !crate::saved::valid_name(name) {
                    return Err(invalid(
                        line,
                        field(&format!("save.{name}")),
                        "a saved name is letters, digits and `_`, not starting with a digit".into(),
                    ));
                }
                if path.is_empty() {
                    return Err(invalid(
                        line,
                        field(&format!("save.{name}")),
                        "name the answer's field to save, e.g. \"registration_number\"".into(),
                    ));
                }
                saved.push(name);
            }
            if let Some(wait) = &step.wait {
                wait.durations().map_err(|message| {
                    let (name, message) = message.split_once(": ").unwrap_or(("", &message));
                    invalid(line, field(&format!("wait.{name}")), message.to_owned())
                })?;
            }
            if let Some(send) = send {
                let payload = &send.payload;
                // A payload written in the step's own table has no span of its own.
                let payload_line = match payload.span() {
                    span if span.start > spanned.span().start => line_of(text, span.start),
                    _ => line,
                };
                contracts
                    .encode(&send.payload_type, payload.get_ref())
                    .map_err(|err| invalid(payload_line, field("send.payload"), err.to_string()))?;
                if send.signed_by.is_some() && send.user_iin.is_none() {
                    return Err(invalid(
                        line,
                        field("send.signed_by"),
                        "a request signed by another person needs the `user_iin` it claims".into(),
                    ));
                }
                for (name, iin) in [
                    ("send.user_iin", &send.user_iin),
                    ("send.signed_by", &send.signed_by),
                    ("send.represented_iin", &send.represented_iin),
                ] {
                    if let Some(iin) = iin {
                        egov_core::Iin::parse(iin)
                            .map_err(|err| invalid(line, field(name), err.to_string()))?;
                    }
                }
                if let Some(bin) = &send.represented_bin {
                    egov_core::Bin::parse(bin).map_err(|err| {
                        invalid(line, field("send.represented_bin"), err.to_string())
                    })?;
                }
            }
            if let Some(payload_type) = &expect.payload_type {
                contracts
                    .message(payload_type)
                    .map_err(|err| invalid(line, field("expect.type"), err.to_string()))?;
            }
            // Saved values are known when the step runs; a stand-in checks the patterns now.
            let stand_ins: crate::saved::Saved = saved
                .iter()
                .map(|name| ((*name).to_owned(), "saved".to_owned()))
                .collect();
            for (part, table) in [("header", &expect.header), ("payload", &expect.payload)] {
                let table = crate::saved::substitute(table, &stand_ins).map_err(|name| {
                    invalid(
                        line,
                        field("expect"),
                        format!("${{{name}}} is not saved by an earlier step"),
                    )
                })?;
                if let Some((path, message)) =
                    invalid_patterns(&table, &field(&format!("expect.{part}")))
                {
                    return Err(invalid(line, path, format!("invalid pattern: {message}")));
                }
            }
        }
        Ok(scenario)
    }

    /// Writes the scenario as TOML.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

/// Why the scenario files to run could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// A directory could not be read.
    #[error("cannot read the directory {path}: {source}")]
    Unreadable {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A directory holds no scenario file.
    #[error("{path} holds no scenario file (*.toml)")]
    Empty {
        /// The directory.
        path: String,
    },
}

/// Returns the scenario files to run: each file as given, and for a directory every `.toml`
/// file under it, sorted by path (`egov scenario run tests/scenarios` runs the matrix).
pub fn scenario_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, ListError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ListError> {
        let unreadable = |source| ListError::Unreadable {
            path: dir.display().to_string(),
            source,
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if path.is_dir() {
                walk(&path, &mut found)?;
            } else if path.extension().is_some_and(|ext| ext == "toml") {
                found.push(path);
            }
        }
        found.sort();
        out.extend(found);
        Ok(())
    }
    let mut files = Vec::new();
    for path in given {
        if path.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            if files.len() == before {
                return Err(ListError::Empty {
                    path: path.display().to_string(),
                });
            }
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"name = "person"

[[step]]
name = "the portal asks for a person"
[step.send]
sender = "portal"
service = "citizens.person.get"
receiver = "citizens"
type = "egov.v1.GetPersonRequest"
payload = { iin = "950703300125" }
[step.expect]
type = "egov.v1.GetPersonResponse"
payload.person = { iin = "950703300125", surname = "<any>" }
"#;

    fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(text, "s.toml", &Contracts::egov().expect("contracts"))
    }

    #[test]
    fn a_valid_file_reads_its_steps_with_success_expected_by_default() {
        let scenario = parse(VALID).expect("valid");
        assert_eq!(scenario.name, "person");
        assert_eq!(scenario.steps.len(), 1);
        let step = scenario.steps[0].get_ref();
        assert_eq!(step.title(), "the portal asks for a person");
        assert_eq!(step.expect.status, "SCSS001");
    }

    #[test]
    fn a_written_scenario_reads_back_the_same() {
        let scenario = parse(VALID).expect("valid");
        let text = scenario.to_toml().expect("writes");
        let again = parse(&text).expect("reads back");
        assert_eq!(again.name, scenario.name);
        assert_eq!(again.steps[0].get_ref(), scenario.steps[0].get_ref());
    }

    #[test]
    fn an_unknown_key_names_its_line_and_key() {
        let err = parse(&VALID.replace("receiver =", "reciever =")).expect_err("typo");
        let text = err.to_string();
        assert!(text.starts_with("s.toml:8:"), "{text}");
        assert!(text.contains("reciever"), "{text}");
    }

    #[test]
    fn a_payload_field_the_type_lacks_names_the_step_and_field() {
        let err = parse(&VALID.replace("payload = { iin", "payload = { iinn")).expect_err("field");
        let text = err.to_string();
        assert!(
            text.starts_with("s.toml:10: step[1].send.payload:"),
            "{text}"
        );
        assert!(text.contains("iinn"), "{text}");
    }

    #[test]
    fn an_unknown_payload_type_names_the_step_and_type() {
        let err = parse(&VALID.replace("GetPersonResponse", "GetPersonAnswer")).expect_err("type");
        let text = err.to_string();
        assert!(text.contains("step[1].expect.type"), "{text}");
        assert!(text.contains("egov.v1.GetPersonAnswer"), "{text}");
    }

    #[test]
    fn a_step_without_send_names_the_missing_table() {
        let text = "name = \"x\"\n\n[[step]]\nname = \"nothing to send\"\n";
        let err = parse(text).expect_err("no send");
        assert!(err.to_string().contains("send"), "{err}");
        assert!(err.to_string().starts_with("s.toml:3:"), "{err}");
    }

    #[test]
    fn a_scenario_without_steps_is_refused() {
        let err = parse("name = \"empty\"\n").expect_err("no steps");
        assert!(err.to_string().contains("at least one [[step]]"), "{err}");
    }

    #[test]
    fn a_bad_pattern_names_its_field() {
        let err = parse(&VALID.replace("surname = \"<any>\"", "surname = \"<pattern:(>\""))
            .expect_err("bad regex");
        assert!(
            err.to_string()
                .contains("step[1].expect.payload.person.surname"),
            "{err}"
        );
    }

    #[test]
    fn faults_and_clock_steps_read_with_their_kinds() {
        let text = format!(
            "{VALID}\n[[fault]]\nsystem = \"citizens\"\nkind = \"down\"\n\n\
             [[step]]\nadvance = \"6wd\"\n\n[[step]]\nset = \"2027-03-05T09:00:00+05:00\"\n\n\
             [[step]]\n[[step.fault]]\nservice = \"citizens.person.get\"\nkind = \"timeout\"\n"
        );
        let scenario = parse(&text).expect("valid");
        assert_eq!(
            scenario.faults[0].get_ref().kind,
            egov_faults::FaultKind::Down
        );
        assert!(scenario.injects_faults() && scenario.moves_the_clock());
        let actions: Vec<_> = scenario
            .steps
            .iter()
            .map(|step| step.get_ref().action().expect("an action"))
            .collect();
        assert_eq!(
            actions[1],
            Action::Advance(egov_core::clock::Step::WorkingDays(6))
        );
        assert!(matches!(actions[2], Action::Set(_)));
        assert_eq!(actions[3], Action::Inject);
        assert_eq!(
            scenario.steps[1].get_ref().title(),
            "advance the stack clock 6wd"
        );
    }

    #[test]
    fn a_bad_fault_names_its_line_and_field() {
        let text = format!(
            "{VALID}\n[[fault]]\nsystem = \"citizens\"\nkind = {{ error = {{ code = \"SCSS001\" }} }}\n"
        );
        let err = parse(&text).expect_err("success is no error");
        assert!(
            err.to_string()
                .starts_with("s.toml:15: fault[1].kind.error.code:"),
            "{err}"
        );
        let text = format!("{VALID}\n[[fault]]\nsystem = \"citizens\"\nkind = \"asleep\"\n");
        let err = parse(&text).expect_err("unknown kind");
        assert!(err.to_string().starts_with("s.toml:17:"), "{err}");
        assert!(err.to_string().contains("asleep"), "{err}");
    }

    #[test]
    fn a_bad_clock_step_names_its_line_and_key() {
        let text = format!("{VALID}\n[[step]]\nadvance = \"28 days\"\n");
        let err = parse(&text).expect_err("bad step");
        assert!(
            err.to_string().starts_with("s.toml:15: step[2].advance:"),
            "{err}"
        );
        let text = format!("{VALID}\n[[step]]\nset = \"next monday\"\n");
        let err = parse(&text).expect_err("bad instant");
        assert!(
            err.to_string().starts_with("s.toml:15: step[2].set:"),
            "{err}"
        );
    }

    #[test]
    fn a_step_doing_two_things_or_expecting_without_sending_is_refused() {
        let text = VALID.replace("[step.send]", "advance = \"1d\"\n[step.send]");
        let err = parse(&text).expect_err("send and advance");
        assert!(
            err.to_string()
                .contains("one of `send`, `cabinet`, `desk`, `office`, `advance` or `set`"),
            "{err}"
        );
        let text =
            format!("{VALID}\n[[step]]\nadvance = \"1d\"\n[step.expect]\nstatus = \"ETRG002\"\n");
        let err = parse(&text).expect_err("expect on a clock step");
        assert!(err.to_string().contains("step[2].expect"), "{err}");
    }

    #[test]
    fn a_reference_to_a_value_no_earlier_step_saves_names_its_field() {
        let text = format!(
            "{VALID}\n[[step]]\n[step.send]\nsender = \"portal\"\nservice = \"s\"\nreceiver = \"r\"\n\
             type = \"egov.v1.GetPersonRequest\"\npayload = {{ iin = \"${{number}}\" }}\n"
        );
        let err = parse(&text).expect_err("never saved");
        assert!(
            err.to_string()
                .starts_with("s.toml:15: step[2].send.payload.iin:"),
            "{err}"
        );
        assert!(err.to_string().contains("${number}"), "{err}");
        let saving = text.replacen(
            "[step.send]",
            "save = { number = \"person.iin\" }\n[step.send]",
            1,
        );
        let scenario = parse(&saving).expect("saved by step 1");
        assert_eq!(scenario.steps[0].get_ref().save["number"], "person.iin");
    }

    #[test]
    fn a_signer_other_than_the_author_needs_the_author_and_a_valid_iin() {
        let text = VALID.replace(
            "receiver = \"citizens\"",
            "receiver = \"citizens\"\nsigned_by = \"950703390123\"",
        );
        let err = parse(&text).expect_err("no user_iin");
        assert!(err.to_string().contains("step[1].send.signed_by"), "{err}");
        let text = text.replace("signed_by", "user_iin = \"950703390123\"\nsigned_by");
        let bad = text.replace("signed_by = \"950703390123\"", "signed_by = \"12\"");
        let err = parse(&bad).expect_err("no IIN");
        assert!(err.to_string().contains("step[1].send.signed_by"), "{err}");
        let scenario = parse(&text).expect("valid");
        let step = scenario.steps[0].get_ref();
        assert_eq!(
            step.send
                .as_ref()
                .and_then(|send| send.signed_by.as_deref()),
            Some("950703390123")
        );
    }

    #[test]
    fn a_cabinet_step_reads_whose_cabinet_and_which_number_with_its_expectation() {
        let text = VALID.replace(
            "[step.send]",
            "save = { number = \"person.iin\" }\n[step.send]",
        ) + r#"
[[step]]
name = "the result in the citizen's cabinet"
cabinet = { iin = "950703390123", number = "${number}" }
wait = { timeout = "5s" }
[step.expect]
payload.notifications = [{ status = "registered" }, { status = "issued", signer_iin = "<digits>" }]
"#;
        let scenario = parse(&text).expect("valid");
        assert!(scenario.reads_a_cabinet());
        let step = scenario.steps[1].get_ref();
        let Action::Cabinet(cabinet, expect) = step.action().expect("an action") else {
            panic!("not a cabinet step: {step:?}");
        };
        assert_eq!(cabinet.iin, "950703390123");
        assert_eq!(cabinet.number.as_deref(), Some("${number}"));
        assert_eq!(
            expect.payload["notifications"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(step.title(), "the result in the citizen's cabinet");
    }

    #[test]
    fn a_cabinet_step_names_a_bad_iin_an_unsaved_number_and_a_second_action() {
        let step = |cabinet: &str| format!("{VALID}\n[[step]]\ncabinet = {cabinet}\n");
        let err = parse(&step(r#"{ iin = "12" }"#)).expect_err("no IIN");
        assert!(
            err.to_string()
                .starts_with("s.toml:15: step[2].cabinet.iin:"),
            "{err}"
        );
        let err = parse(&step(r#"{ iin = "950703390123", number = "${number}" }"#))
            .expect_err("never saved");
        assert!(err.to_string().contains("step[2].cabinet.number"), "{err}");
        let err = parse(&format!(
            "{VALID}\n[[step]]\nadvance = \"1d\"\ncabinet = {{ iin = \"950703390123\" }}\n"
        ))
        .expect_err("two things");
        assert!(err.to_string().contains("`cabinet`"), "{err}");
        let err = parse(&format!(
            "{}[step.expect]\ntype = \"egov.v1.GetPersonResponse\"\n",
            step(r#"{ iin = "950703390123" }"#)
        ))
        .expect_err("a type");
        assert!(err.to_string().contains("step[2].expect"), "{err}");
    }

    #[test]
    fn a_save_on_a_clock_step_is_refused() {
        let text = format!("{VALID}\n[[step]]\nadvance = \"1d\"\nsave = {{ n = \"x\" }}\n");
        let err = parse(&text).expect_err("nothing to save from");
        assert!(err.to_string().contains("step[2].save"), "{err}");
    }

    #[test]
    fn a_wait_names_its_bad_duration_and_belongs_to_a_send_step() {
        let text = VALID.replace("[step.send]", "wait = { timeout = \"soon\" }\n[step.send]");
        let err = parse(&text).expect_err("bad timeout");
        assert!(
            err.to_string()
                .starts_with("s.toml:3: step[1].wait.timeout:"),
            "{err}"
        );
        let text = format!("{VALID}\n[[step]]\nadvance = \"1d\"\nwait = {{ timeout = \"1s\" }}\n");
        let err = parse(&text).expect_err("wait on a clock step");
        assert!(err.to_string().contains("step[2].wait"), "{err}");
    }

    const DESK: &str = r#"name = "at the desk"

[[step]]
name = "the operator files B for a representative"
save = { number = "registration_number" }
[step.desk]
service = "B"
recipient_iin = "950703390123"
representative_iin = "760330490152"
power_of_attorney = "notarised"
power_of_attorney_number = "ENIS-000501"
documents = ["application", "identity_document"]
[step.expect]
payload = { outcome = "sent", registration_number = "<pattern:LM-\\d{4}-\\d{6}>" }
"#;

    #[test]
    fn a_desk_step_reads_the_request_form_and_what_the_desk_must_come_to() {
        let scenario = parse(DESK).expect("valid");
        assert!(scenario.uses_the_desk());
        let step = scenario.steps[0].get_ref();
        let Action::Desk(form, expect) = step.action().expect("an action") else {
            panic!("not a desk step: {step:?}");
        };
        assert_eq!(form.service, "B");
        assert_eq!(form.power_of_attorney, "notarised");
        assert_eq!(form.documents, ["application", "identity_document"]);
        assert!(!form.consent);
        assert_eq!(expect.payload["outcome"].as_str(), Some("sent"));
        let again = parse(&scenario.to_toml().expect("writes")).expect("reads back");
        assert_eq!(again.steps[0].get_ref(), step);
    }

    #[test]
    fn a_desk_step_names_a_bad_iin_an_unknown_power_of_attorney_a_wait_and_a_second_action() {
        let err = parse(&DESK.replace("\"760330490152\"", "\"12\"")).expect_err("no IIN");
        assert!(
            err.to_string()
                .starts_with("s.toml:3: step[1].desk.representative_iin:"),
            "{err}"
        );
        let err = parse(&DESK.replace("\"notarised\"", "\"verbal\"")).expect_err("no such form");
        assert!(
            err.to_string().contains("step[1].desk.power_of_attorney"),
            "{err}"
        );
        let err = parse(&DESK.replace("[step.desk]", "wait = { timeout = \"1s\" }\n[step.desk]"))
            .expect_err("filed once");
        assert!(err.to_string().contains("step[1].wait"), "{err}");
        let err = parse(&DESK.replace("[step.desk]", "advance = \"1m\"\n[step.desk]"))
            .expect_err("two things");
        assert!(err.to_string().contains("`desk`"), "{err}");
        let err = parse(&DESK.replace("[step.expect]", "[step.expect]\ntype = \"egov.v1.Fault\""))
            .expect_err("a type");
        assert!(err.to_string().contains("step[1].expect"), "{err}");
    }

    /// [`DESK`] saving its filing, then a step that reads and hands over its result.
    fn desk_with_a_result_read(read: &str) -> String {
        DESK.replace(
            "save = { number = \"registration_number\" }",
            "save = { number = \"registration_number\", filing = \"filing_id\" }",
        ) + &format!(
            "\n[[step]]\nwait = {{ timeout = \"5s\" }}\n[step.desk]\n{read}\n[step.expect]\n\
             payload = {{ ready = true, result_kind = \"RESULT_KIND_CERTIFICATE\" }}\n"
        )
    }

    #[test]
    fn a_desk_step_reads_a_saved_filings_result_and_hands_it_over() {
        let scenario = parse(&desk_with_a_result_read(
            "filing = \"${filing}\"\nhand_over = true",
        ))
        .expect("valid");
        let step = scenario.steps[1].get_ref();
        let Action::Desk(read, expect) = step.action().expect("an action") else {
            panic!("not a desk step: {step:?}");
        };
        assert_eq!(read.filing.as_deref(), Some("${filing}"));
        assert!(read.hand_over);
        assert_eq!(expect.payload["ready"].as_bool(), Some(true));
        assert_eq!(
            step.title(),
            "filing ${filing} read at the State Corporation's desk"
        );
        let again = parse(&scenario.to_toml().expect("writes")).expect("reads back");
        assert_eq!(again.steps[1].get_ref(), step);
    }

    #[test]
    fn a_desk_result_read_names_an_unsaved_filing_a_form_field_and_a_hand_over_without_one() {
        let err =
            parse(&desk_with_a_result_read("filing = \"${other}\"")).expect_err("never saved");
        assert!(err.to_string().contains("step[2].desk.filing"), "{err}");
        assert!(err.to_string().contains("${other}"), "{err}");
        let err = parse(&desk_with_a_result_read(
            "filing = \"${filing}\"\nservice = \"B\"",
        ))
        .expect_err("a form field");
        assert!(err.to_string().contains("step[2].desk.filing"), "{err}");
        let err = parse(&DESK.replace("[step.desk]", "[step.desk]\nhand_over = true"))
            .expect_err("nothing read");
        assert!(err.to_string().contains("step[1].desk.hand_over"), "{err}");
        let err = parse(&desk_with_a_result_read("recipient_iin = \"950703390123\""))
            .expect_err("no service, no filing");
        assert!(err.to_string().contains("step[2].desk.service"), "{err}");
    }

    const OFFICE: &str = r#"name = "at the provider's office"

[[step]]
name = "the parent hands the documents in"
save = { case = "case" }
[step.office]
service = "E"
recipient_iin = "960715490335"
documents = ["referral", "child_health_passport"]
[step.expect]
payload = { service = "E", closed = false }

[[step]]
name = "the contract at the office"
office = { case = "${case}" }
wait = { timeout = "1s" }
[step.expect]
payload = { closed = true, result = { kind = "RESULT_KIND_CONTRACT" } }
"#;

    #[test]
    fn an_office_step_hands_an_application_in_and_a_later_one_reads_its_case() {
        let scenario = parse(OFFICE).expect("valid");
        assert!(scenario.uses_the_office());
        let Action::Office(filed, _) = scenario.steps[0].get_ref().action().expect("an action")
        else {
            panic!("not an office step");
        };
        assert_eq!(filed.service, "E");
        assert_eq!(filed.documents, ["referral", "child_health_passport"]);
        let Action::Office(read, expect) = scenario.steps[1].get_ref().action().expect("an action")
        else {
            panic!("not an office step");
        };
        assert_eq!(read.case.as_deref(), Some("${case}"));
        assert_eq!(expect.payload["closed"].as_bool(), Some(true));
        let again = parse(&scenario.to_toml().expect("writes")).expect("reads back");
        assert_eq!(again.steps[1].get_ref(), scenario.steps[1].get_ref());
    }

    #[test]
    fn an_office_step_names_a_bad_iin_an_unsaved_case_a_mixed_form_and_a_second_action() {
        let err = parse(&OFFICE.replace("\"960715490335\"", "\"12\"")).expect_err("no IIN");
        assert!(
            err.to_string().contains("step[1].office.recipient_iin"),
            "{err}"
        );
        let err = parse(&OFFICE.replace("${case}", "${other}")).expect_err("unsaved");
        assert!(err.to_string().contains("step[2].office.case"), "{err}");
        let err = parse(&OFFICE.replace(
            "office = { case = \"${case}\" }",
            "office = { case = \"${case}\", service = \"E\" }",
        ))
        .expect_err("both");
        assert!(err.to_string().contains("step[2].office.case"), "{err}");
        let err = parse(&OFFICE.replace("[step.office]", "advance = \"1m\"\n[step.office]"))
            .expect_err("two things");
        assert!(err.to_string().contains("`office`"), "{err}");
    }

    #[test]
    fn a_directory_runs_every_scenario_file_under_it_in_path_order() {
        let dir = tempfile::tempdir().expect("dir");
        for path in ["B/b2.toml", "B/b1.toml", "A/a.toml", "A/a.mmd", "notes.md"] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, "").expect("file");
        }
        let single = dir.path().join("B/b2.toml");
        let files = scenario_files(&[single.clone(), dir.path().to_owned()]).expect("files");
        let shown: Vec<String> = files
            .iter()
            .map(|file| {
                file.strip_prefix(dir.path())
                    .expect("under the dir")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(shown, ["B/b2.toml", "A/a.toml", "B/b1.toml", "B/b2.toml"]);

        let empty = tempfile::tempdir().expect("dir");
        let error = scenario_files(&[empty.path().to_owned()])
            .expect_err("nothing to run")
            .to_string();
        assert!(error.contains("holds no scenario file"), "{error}");
    }
}
