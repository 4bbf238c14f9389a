//! The catalogue of services as data: one TOML file per service (`catalogue/A.toml` …
//! `F.toml`, embedded at build time), each with its names, provider, channels, the
//! Standard's item-9 documents and item-10 refusal grounds, the back-office steps with the
//! regulation's norms, and its result documents. A step with `channels = [...]` is taken
//! only by cases filed on those channels, where a seed gives a channel its own steps (F).
//! A service whose result is paper, handed over at the office (`result_form = "paper"`),
//! sends nothing to the citizen's cabinet. A seventh service is one more file in the
//! directory that `catalogue_dir` names, not new code.
//!
//! Files are read with `deny_unknown_fields`, then validated; every error names the file
//! and the entry (`B.toml: steps[2] (executor draft): bad duration "3 mins"…`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egov_proto::v1::{BackOfficeRole, Channel, FormFieldKind, ResultKind, ServiceApplication};
use serde::{Deserialize, Serialize};

use crate::norm::Norm;

/// The action that refuses the service at a deciding step, with an item-10 ground.
pub const REFUSE_ACTION: &str = "refuse";

/// The catalogue files shipped with the back office: services A–F of FLOWS.md.
const EMBEDDED: [(&str, &str); 6] = [
    ("A.toml", include_str!("../catalogue/A.toml")),
    ("B.toml", include_str!("../catalogue/B.toml")),
    ("C.toml", include_str!("../catalogue/C.toml")),
    ("D.toml", include_str!("../catalogue/D.toml")),
    ("E.toml", include_str!("../catalogue/E.toml")),
    ("F.toml", include_str!("../catalogue/F.toml")),
];

/// Describes why the catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A file is not valid TOML or has an unknown or missing key.
    #[error("catalogue file {file}: {message}")]
    Parse {
        /// The file's name.
        file: String,
        /// The TOML reader's message, with line and column.
        message: String,
    },
    /// An entry of a file breaks a rule (unknown role, bad duration, duplicate code…).
    #[error("catalogue file {file}: {entry}: {reason}")]
    Invalid {
        /// The file's name.
        file: String,
        /// The entry, e.g. `steps[2] (executor draft)` or `documents[1] (application)`.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two files of one directory define the same service code.
    #[error("service {code} is defined twice: in {first} and in {second}")]
    DuplicateService {
        /// The code.
        code: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// The catalogue directory could not be read.
    #[error("catalogue directory {}: {source}", dir.display())]
    Io {
        /// The directory or file.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A name or text in the three languages of the stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// Kazakh.
    pub kk: String,
    /// Russian.
    pub ru: String,
    /// English.
    pub en: String,
}

impl Names {
    /// Returns the Kazakh and Russian texts joined, as results show them.
    pub fn kk_ru(&self) -> String {
        format!("{} / {}", self.kk, self.ru)
    }
}

/// A back-office role: кеңсе / канцелярия, басшы / руководитель, жауапты орындаушы / ответственный исполнитель.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficeRole {
    /// The office clerk (кеңсе маманы / работник канцелярии).
    Clerk,
    /// The head (басшы / руководитель): resolves, assigns and signs.
    Head,
    /// The responsible executor or employee (жауапты орындаушы, қызметкер / ответственный исполнитель).
    Executor,
}

impl OfficeRole {
    /// Returns the role's name as the catalogue and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            OfficeRole::Clerk => "clerk",
            OfficeRole::Head => "head",
            OfficeRole::Executor => "executor",
        }
    }

    /// Reads a role name of the catalogue or the store.
    pub fn parse(name: &str) -> Option<OfficeRole> {
        match name {
            "clerk" => Some(OfficeRole::Clerk),
            "head" => Some(OfficeRole::Head),
            "executor" => Some(OfficeRole::Executor),
            _ => None,
        }
    }

    /// Returns the wire role.
    pub fn to_proto(self) -> BackOfficeRole {
        match self {
            OfficeRole::Clerk => BackOfficeRole::Clerk,
            OfficeRole::Head => BackOfficeRole::Head,
            OfficeRole::Executor => BackOfficeRole::Executor,
        }
    }

    /// Reads a wire role; `UNSPECIFIED` is none.
    pub fn from_proto(role: BackOfficeRole) -> Option<OfficeRole> {
        match role {
            BackOfficeRole::Clerk => Some(OfficeRole::Clerk),
            BackOfficeRole::Head => Some(OfficeRole::Head),
            BackOfficeRole::Executor => Some(OfficeRole::Executor),
            BackOfficeRole::Unspecified => None,
        }
    }
}

impl fmt::Display for OfficeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returns a channel's catalogue name (`portal`, `state_corporation`, `provider`).
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Portal => "portal",
        Channel::StateCorporation => "state_corporation",
        Channel::Provider => "provider",
        Channel::Unspecified => "unspecified",
    }
}

fn parse_channel(name: &str) -> Option<Channel> {
    match name {
        "portal" => Some(Channel::Portal),
        "state_corporation" => Some(Channel::StateCorporation),
        "provider" => Some(Channel::Provider),
        _ => None,
    }
}

/// Returns a result kind's catalogue name (`certificate`, `notification` …, `refusal`).
pub fn result_kind_name(kind: ResultKind) -> &'static str {
    match kind {
        ResultKind::Certificate => "certificate",
        ResultKind::Notification => "notification",
        ResultKind::Referral => "referral",
        ResultKind::Conclusion => "conclusion",
        ResultKind::Contract => "contract",
        ResultKind::Resolution => "resolution",
        ResultKind::Refusal => "refusal",
        ResultKind::Unspecified => "unspecified",
    }
}

/// Reads a result kind's catalogue name; a refusal is not a result document.
pub fn parse_result_kind(name: &str) -> Option<ResultKind> {
    match name {
        "certificate" => Some(ResultKind::Certificate),
        "notification" => Some(ResultKind::Notification),
        "referral" => Some(ResultKind::Referral),
        "conclusion" => Some(ResultKind::Conclusion),
        "contract" => Some(ResultKind::Contract),
        "resolution" => Some(ResultKind::Resolution),
        _ => None,
    }
}

/// The document a refusal is issued as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// Refusal to accept the application (өтінішті қабылдаудан бас тарту / отказ в приеме заявления).
    RefusalToAccept,
    /// A reasoned refusal (дәлелді бас тарту / мотивированный отказ).
    ReasonedRefusal,
    /// A refusal message (бас тарту туралы хабарлама / сообщение об отказе).
    RefusalMessage,
}

impl RefusalKind {
    /// Returns the kind's catalogue name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::RefusalToAccept => "refusal_to_accept",
            RefusalKind::ReasonedRefusal => "reasoned_refusal",
            RefusalKind::RefusalMessage => "refusal_message",
        }
    }

    fn parse(name: &str) -> Option<RefusalKind> {
        match name {
            "refusal_to_accept" => Some(RefusalKind::RefusalToAccept),
            "reasoned_refusal" => Some(RefusalKind::ReasonedRefusal),
            "refusal_message" => Some(RefusalKind::RefusalMessage),
            _ => None,
        }
    }
}

/// What the automatic policy checks a refusal ground against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoCheck {
    /// A required item-9 document is not attached.
    Missing,
    /// A required item-9 document is past its `valid_until` on the clock's date.
    Expired,
}

impl AutoCheck {
    /// Returns the check's catalogue name.
    pub fn as_str(self) -> &'static str {
        match self {
            AutoCheck::Missing => "missing",
            AutoCheck::Expired => "expired",
        }
    }

    fn parse(name: &str) -> Option<AutoCheck> {
        match name {
            "missing" => Some(AutoCheck::Missing),
            "expired" => Some(AutoCheck::Expired),
            _ => None,
        }
    }
}

/// Who provides a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The kind of body, e.g. `employment_centre`.
    pub kind: String,
    /// Its name.
    pub name: Names,
    /// Whether the seeds leave it unnamed and the catalogue infers it.
    pub inferred: bool,
}

/// A Standard item-9 document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The code an `AttachedDocument.kind` carries.
    pub code: String,
    /// Its name.
    pub name: Names,
    /// Whether the service cannot be given without it.
    pub required: bool,
    /// The channels that ask for it; empty means every channel.
    pub channels: Vec<Channel>,
    /// Whether the seeds do not name it and the catalogue infers it.
    pub inferred: bool,
    /// Where the seeds say so.
    pub source: Option<String>,
}

impl Document {
    /// Returns whether an application from `channel` must attach it.
    pub fn required_on(&self, channel: Channel) -> bool {
        self.required && (self.channels.is_empty() || self.channels.contains(&channel))
    }
}

/// A field of a service's request form, filled on the portal or at the State Corporation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// Its name: `child_iin` fills `ServiceApplication.child_iin`, any other `fields[code]`.
    pub code: String,
    /// Its label.
    pub name: Names,
    /// What it holds, and so how it is checked.
    pub kind: FormFieldKind,
    /// Whether it must be filled.
    pub required: bool,
    /// The longest text it takes, in characters; 0 means the kind's own limit.
    pub max_length: u32,
    /// Where the seeds or a target system ask for it.
    pub source: Option<String>,
}

/// Returns a form-field kind's catalogue name (`text`, `iin`, `boolean`, `date`).
pub fn form_field_kind_name(kind: FormFieldKind) -> &'static str {
    match kind {
        FormFieldKind::Text => "text",
        FormFieldKind::Iin => "iin",
        FormFieldKind::Boolean => "boolean",
        FormFieldKind::Date => "date",
        FormFieldKind::Unspecified => "unspecified",
    }
}

fn parse_form_field_kind(name: &str) -> Option<FormFieldKind> {
    match name {
        "text" => Some(FormFieldKind::Text),
        "iin" => Some(FormFieldKind::Iin),
        "boolean" => Some(FormFieldKind::Boolean),
        "date" => Some(FormFieldKind::Date),
        _ => None,
    }
}

/// A Standard item-10 ground for refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalGround {
    /// The code `TakeActionRequest.refusal_ground` and `ServiceResult.refusal_ground` carry.
    pub code: String,
    /// The document the refusal is issued as.
    pub kind: RefusalKind,
    /// The checks of the automatic policy that refuse on this ground; empty: a person's call only.
    pub auto: Vec<AutoCheck>,
    /// The ground's text.
    pub text: Names,
    /// Whether the seeds do not name it and the catalogue infers it.
    pub inferred: bool,
    /// Where the seeds say so.
    pub source: Option<String>,
}

/// A result document the provider issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultDocument {
    /// The kind.
    pub kind: ResultKind,
    /// The channels it is issued on; empty means every channel.
    pub channels: Vec<Channel>,
    /// Its name.
    pub name: Names,
    /// Where the seeds say so.
    pub source: Option<String>,
}

/// One back-office step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its index in the service's file, from 0.
    pub index: usize,
    /// The role that does it.
    pub role: OfficeRole,
    /// Its action, e.g. `register`, `assign`, `draft`, `sign`, `issue`.
    pub action: String,
    /// The regulation's duration, if the seed gives one.
    pub norm: Option<Norm>,
    /// Whether the service is approved or refused at this step.
    pub decides: bool,
    /// Whether the application is received at this step, where it may be refused acceptance
    /// on a `refusal_to_accept` ground; such a refusal closes the case at once.
    pub receives: bool,
    /// The channels whose cases take this step; empty means every channel (the seeds give
    /// some channels their own steps, e.g. F through ХҚО or the portal).
    pub channels: Vec<Channel>,
    /// Its name.
    pub name: Names,
    /// Whether part of it (e.g. the role) is inferred.
    pub inferred: bool,
    /// Where the seeds say so.
    pub source: Option<String>,
}

impl Step {
    /// Returns whether a case filed on `channel` takes this step.
    pub fn taken_on(&self, channel: Channel) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }

    /// Returns the actions a person may take at this step: its own action, and `refuse` at
    /// the deciding or receiving step (which then needs a ground [`Service::grounds_at`] lists).
    pub fn actions(&self) -> Vec<&str> {
        let mut actions = vec![self.action.as_str()];
        if self.refuses() {
            actions.push(REFUSE_ACTION);
        }
        actions
    }

    /// Returns whether the service may be refused at this step.
    pub fn refuses(&self) -> bool {
        self.decides || self.receives
    }
}

/// A public service of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The code, `A` … `F`.
    pub code: String,
    /// The file it was read from.
    pub file: String,
    /// The seed files it is read from.
    pub seeds: Vec<String>,
    /// Its name.
    pub name: Names,
    /// Who provides it.
    pub provider: Provider,
    /// Where it can be applied for.
    pub channels: Vec<Channel>,
    /// The overall term, if the seeds give one.
    pub term: Option<Norm>,
    /// The Standard item-9 documents.
    pub documents: Vec<Document>,
    /// The fields of its request form.
    pub fields: Vec<FormField>,
    /// The Standard item-10 grounds for refusal.
    pub refusal_grounds: Vec<RefusalGround>,
    /// The result documents, the default first.
    pub results: Vec<ResultDocument>,
    /// The back-office steps, in order, of every channel: a case takes those
    /// [`Service::steps_on`] its channel.
    pub steps: Vec<Step>,
    /// An application field whose value picks the result kind (D: the queue register's choice).
    pub result_kind_field: Option<String>,
    /// Application fields copied into the result (D: queue position, referral number).
    pub pass_fields: Vec<String>,
    /// An application field with the item-10 ground of a refusal the system that draws the
    /// result up decided, when `result_kind_field` says `refusal` (D: the queue register's).
    pub refusal_ground_field: Option<String>,
    /// An application field with why that system refused.
    pub refusal_reason_field: Option<String>,
    /// Whether the result is handed over on paper at the provider's office only
    /// (`result_form = "paper"`): nothing of the case goes to the citizen's cabinet.
    pub paper_result: bool,
}

impl Service {
    /// Returns the refusal ground with this code.
    pub fn ground(&self, code: &str) -> Option<&RefusalGround> {
        self.refusal_grounds
            .iter()
            .find(|ground| ground.code == code)
    }

    /// Returns the ground the automatic policy refuses with for a failed check; an expired
    /// document counts as a missing one where the seeds name no ground of its own.
    pub fn ground_for(&self, check: AutoCheck) -> Option<&RefusalGround> {
        let find = |check| {
            self.refusal_grounds
                .iter()
                .find(|ground| ground.auto.contains(&check))
        };
        find(check).or_else(|| find(AutoCheck::Missing))
    }

    /// Returns the grounds a step may refuse on: every ground at the deciding step, the
    /// refusals to accept at a step that only receives, none elsewhere.
    pub fn grounds_at(&self, step: &Step) -> Vec<&RefusalGround> {
        self.refusal_grounds
            .iter()
            .filter(|ground| {
                step.decides || (step.receives && ground.kind == RefusalKind::RefusalToAccept)
            })
            .collect()
    }

    /// Returns the codes of the refusal grounds.
    pub fn ground_codes(&self) -> Vec<&str> {
        self.refusal_grounds
            .iter()
            .map(|ground| ground.code.as_str())
            .collect()
    }

    /// Returns whether the service is offered on a channel.
    pub fn offers(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    /// Returns the result document an approved application gets: the kind its
    /// `result_kind_field` names, else the first issued on its channel, else the first.
    pub fn result_for(&self, application: &ServiceApplication) -> &ResultDocument {
        let channel = application.channel();
        let named = self
            .result_kind_field
            .as_ref()
            .and_then(|field| application.fields.get(field))
            .and_then(|value| parse_result_kind(value))
            .and_then(|kind| self.results.iter().find(|result| result.kind == kind));
        let on_channel = || {
            self.results
                .iter()
                .find(|result| result.channels.is_empty() || result.channels.contains(&channel))
        };
        // Validation guarantees at least one result.
        named.or_else(on_channel).unwrap_or(&self.results[0])
    }

    /// Returns the refusal the system that draws the result up decided, as (ground, reason):
    /// when the application's `result_kind_field` says `refusal`, the ground its
    /// `refusal_ground_field` names and the reason in `refusal_reason_field`. None for a
    /// service whose provider decides itself, or an application the system approved.
    pub fn drawn_up_refusal(&self, application: &ServiceApplication) -> Option<(String, String)> {
        let field = |name: &Option<String>| {
            name.as_ref()
                .and_then(|name| application.fields.get(name))
                .map(|value| value.trim().to_owned())
        };
        let refused = field(&self.result_kind_field)
            .is_some_and(|kind| kind == result_kind_name(ResultKind::Refusal));
        let ground = field(&self.refusal_ground_field).filter(|ground| !ground.is_empty())?;
        refused.then(|| {
            (
                ground,
                field(&self.refusal_reason_field).unwrap_or_default(),
            )
        })
    }

    /// Returns the steps a case filed on `channel` takes, in order.
    pub fn steps_on(&self, channel: Channel) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |step| step.taken_on(channel))
    }

    /// Returns the step a case filed on `channel` takes after the step at `index` (the
    /// first step when `index` is `None`); none after its last.
    pub fn step_after(&self, index: Option<usize>, channel: Channel) -> Option<&Step> {
        self.steps_on(channel)
            .find(|step| index.is_none_or(|index| step.index > index))
    }

    /// Returns when a case filed on `channel` and opened at `start` is due: the overall term
    /// if the seeds give one, else the sum of its steps' norms (steps without a norm take no
    /// time).
    pub fn term_due(
        &self,
        channel: Channel,
        start: time::OffsetDateTime,
        calendar: &egov_core::calendar::WorkingCalendar,
    ) -> Option<time::OffsetDateTime> {
        if let Some(term) = self.term {
            return term.due(start, calendar);
        }
        self.steps_on(channel)
            .try_fold(start, |at, step| match step.norm {
                Some(norm) => norm.due(at, calendar),
                None => Some(at),
            })
    }
}

/// Every service the back office knows, by code.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    services: BTreeMap<String, Arc<Service>>,
}

impl Catalogue {
    /// Returns the embedded catalogue of services A–F.
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_files(
            EMBEDDED
                .iter()
                .map(|(file, text)| ((*file).to_owned(), (*text).to_owned())),
        )
    }

    /// Returns the embedded catalogue, with every `*.toml` of `dir` added; a file whose code
    /// is an embedded one's replaces it, so a site can amend a service without a rebuild.
    pub fn load(dir: Option<&Path>) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::embedded()?;
        let Some(dir) = dir else {
            return Ok(catalogue);
        };
        let local = Catalogue::from_files(read_dir(dir)?)?;
        for (code, service) in local.services {
            if catalogue.services.contains_key(&code) {
                tracing::info!(code = %code, file = %service.file, "catalogue file replaces the embedded service");
            }
            catalogue.services.insert(code, service);
        }
        Ok(catalogue)
    }

    /// Builds a catalogue from `(file name, text)` pairs; two files of one code are refused.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut services: BTreeMap<String, Arc<Service>> = BTreeMap::new();
        for (file, text) in files {
            let service = parse_service(&file, &text)?;
            if let Some(first) = services.get(&service.code) {
                return Err(CatalogueError::DuplicateService {
                    code: service.code.clone(),
                    first: first.file.clone(),
                    second: file,
                });
            }
            services.insert(service.code.clone(), Arc::new(service));
        }
        Ok(Catalogue { services })
    }

    /// Returns the service with this code.
    pub fn service(&self, code: &str) -> Option<&Arc<Service>> {
        self.services.get(code)
    }

    /// Returns the codes, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.services.keys().map(String::as_str).collect()
    }

    /// Returns every service, by code.
    pub fn services(&self) -> impl Iterator<Item = &Arc<Service>> {
        self.services.values()
    }
}

/// Reads every `*.toml` of a directory, in name order.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, CatalogueError> {
    let io = |source| CatalogueError::Io {
        dir: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogueError::Io {
                dir: path.clone(),
                source,
            })?;
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            Ok((name, text))
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    code: String,
    seeds: Vec<String>,
    channels: Vec<String>,
    #[serde(default)]
    term: Option<String>,
    #[serde(default)]
    result_kind_field: Option<String>,
    #[serde(default)]
    pass_fields: Vec<String>,
    #[serde(default)]
    refusal_ground_field: Option<String>,
    #[serde(default)]
    refusal_reason_field: Option<String>,
    #[serde(default)]
    result_form: Option<String>,
    name: Names,
    provider: RawProvider,
    #[serde(default)]
    documents: Vec<RawDocument>,
    #[serde(default)]
    fields: Vec<RawField>,
    #[serde(default)]
    refusal_grounds: Vec<RawGround>,
    #[serde(default)]
    results: Vec<RawResult>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    kind: String,
    name: Names,
    #[serde(default)]
    inferred: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    code: String,
    required: bool,
    name: Names,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    inferred: bool,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    code: String,
    kind: String,
    required: bool,
    name: Names,
    #[serde(default)]
    max_length: u32,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGround {
    code: String,
    kind: String,
    text: Names,
    #[serde(default)]
    auto: Vec<String>,
    #[serde(default)]
    inferred: bool,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResult {
    kind: String,
    name: Names,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    role: String,
    action: String,
    #[serde(default)]
    norm: Option<String>,
    name: Names,
    #[serde(default)]
    decides: bool,
    #[serde(default)]
    receives: bool,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    inferred: bool,
    #[serde(default)]
    source: Option<String>,
}

/// Reads and validates one catalogue file; `file` names it in errors.
pub fn parse_service(file: &str, text: &str) -> Result<Service, CatalogueError> {
    let raw: RawService = toml::from_str(text).map_err(|error| CatalogueError::Parse {
        file: file.to_owned(),
        message: error.to_string().trim_end().to_owned(),
    })?;
    Check { file }.service(raw)
}

/// Validates a raw file, naming the file in every error.
struct Check<'a> {
    file: &'a str,
}

impl Check<'_> {
    fn invalid(&self, entry: impl Into<String>, reason: impl Into<String>) -> CatalogueError {
        CatalogueError::Invalid {
            file: self.file.to_owned(),
            entry: entry.into(),
            reason: reason.into(),
        }
    }

    fn names(&self, entry: &str, names: &Names) -> Result<(), CatalogueError> {
        for (lang, text) in [("kk", &names.kk), ("ru", &names.ru), ("en", &names.en)] {
            if text.trim().is_empty() {
                return Err(self.invalid(entry, format!("the {lang} text is empty")));
            }
        }
        Ok(())
    }

    fn channels(
        &self,
        entry: &str,
        names: &[String],
        allowed: Option<&[Channel]>,
    ) -> Result<Vec<Channel>, CatalogueError> {
        let mut channels = Vec::with_capacity(names.len());
        for name in names {
            let channel = parse_channel(name).ok_or_else(|| {
                self.invalid(
                    entry,
                    format!(
                        "unknown channel {name:?}: expected portal, state_corporation or provider"
                    ),
                )
            })?;
            if channels.contains(&channel) {
                return Err(self.invalid(entry, format!("channel {name:?} is listed twice")));
            }
            if let Some(allowed) = allowed
                && !allowed.contains(&channel)
            {
                return Err(self.invalid(
                    entry,
                    format!("channel {name:?} is not one of the service's channels"),
                ));
            }
            channels.push(channel);
        }
        Ok(channels)
    }

    fn norm(&self, entry: &str, norm: Option<&str>) -> Result<Option<Norm>, CatalogueError> {
        norm.map(|text| {
            text.parse::<Norm>()
                .map_err(|error| self.invalid(entry, error.to_string()))
        })
        .transpose()
    }

    fn code(
        &self,
        entry: &str,
        code: &str,
        seen: &mut HashSet<String>,
    ) -> Result<(), CatalogueError> {
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(self.invalid(
                entry,
                format!("code {code:?} must be non-empty letters, digits or `_`"),
            ));
        }
        if !seen.insert(code.to_owned()) {
            return Err(self.invalid(entry, format!("duplicate code {code:?}")));
        }
        Ok(())
    }

    fn service(&self, raw: RawService) -> Result<Service, CatalogueError> {
        let code = raw.code;
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(self.invalid("code", format!("{code:?} must be letters or digits")));
        }
        if let Some(stem) = self.file.strip_suffix(".toml")
            && stem != code
        {
            return Err(self.invalid(
                "code",
                format!("{code:?} differs from the file name; name the file {code}.toml"),
            ));
        }
        if raw.seeds.is_empty() {
            return Err(self.invalid("seeds", "name the seed files the service is read from"));
        }
        self.names("name", &raw.name)?;
        if raw.provider.kind.trim().is_empty() {
            return Err(self.invalid("provider.kind", "is empty"));
        }
        self.names("provider.name", &raw.provider.name)?;
        if raw.channels.is_empty() {
            return Err(self.invalid("channels", "at least one channel is needed"));
        }
        let channels = self.channels("channels", &raw.channels, None)?;
        let term = self.norm("term", raw.term.as_deref())?;

        let mut seen = HashSet::new();
        let mut documents = Vec::with_capacity(raw.documents.len());
        for (i, doc) in raw.documents.into_iter().enumerate() {
            let entry = format!("documents[{i}] ({})", doc.code);
            self.code(&entry, &doc.code, &mut seen)?;
            self.names(&entry, &doc.name)?;
            documents.push(Document {
                channels: self.channels(&entry, &doc.channels, Some(&channels))?,
                code: doc.code,
                name: doc.name,
                required: doc.required,
                inferred: doc.inferred,
                source: doc.source,
            });
        }

        let mut seen = HashSet::new();
        let mut fields = Vec::with_capacity(raw.fields.len());
        for (i, field) in raw.fields.into_iter().enumerate() {
            let entry = format!("fields[{i}] ({})", field.code);
            self.code(&entry, &field.code, &mut seen)?;
            self.names(&entry, &field.name)?;
            let kind = parse_form_field_kind(&field.kind).ok_or_else(|| {
                self.invalid(
                    &entry,
                    format!(
                        "unknown field kind {:?}: expected text, iin, boolean or date",
                        field.kind
                    ),
                )
            })?;
            fields.push(FormField {
                code: field.code,
                name: field.name,
                kind,
                required: field.required,
                max_length: field.max_length,
                source: field.source,
            });
        }

        let mut seen = HashSet::new();
        let mut claimed: Vec<(AutoCheck, String)> = Vec::new();
        let mut refusal_grounds = Vec::with_capacity(raw.refusal_grounds.len());
        for (i, ground) in raw.refusal_grounds.into_iter().enumerate() {
            let entry = format!("refusal_grounds[{i}] ({})", ground.code);
            self.code(&entry, &ground.code, &mut seen)?;
            self.names(&entry, &ground.text)?;
            let kind = RefusalKind::parse(&ground.kind).ok_or_else(|| {
                self.invalid(
                    &entry,
                    format!(
                        "unknown refusal kind {:?}: expected refusal_to_accept, reasoned_refusal or refusal_message",
                        ground.kind
                    ),
                )
            })?;
            let mut auto = Vec::with_capacity(ground.auto.len());
            for name in &ground.auto {
                let check = AutoCheck::parse(name).ok_or_else(|| {
                    self.invalid(
                        &entry,
                        format!("unknown auto check {name:?}: expected missing or expired"),
                    )
                })?;
                if let Some((_, other)) = claimed.iter().find(|(c, _)| *c == check) {
                    return Err(self.invalid(
                        &entry,
                        format!("auto check {name:?} is already ground {other:?}'s"),
                    ));
                }
                claimed.push((check, ground.code.clone()));
                auto.push(check);
            }
            refusal_grounds.push(RefusalGround {
                code: ground.code,
                kind,
                auto,
                text: ground.text,
                inferred: ground.inferred,
                source: ground.source,
            });
        }
        if refusal_grounds.is_empty() {
            return Err(self.invalid("refusal_grounds", "at least one item-10 ground is needed"));
        }
        if documents.iter().any(|doc| doc.required)
            && !claimed
                .iter()
                .any(|(check, _)| *check == AutoCheck::Missing)
        {
            return Err(self.invalid(
                "refusal_grounds",
                "no ground has auto = [\"missing\"], so a missing required document could not be refused",
            ));
        }

        let mut results = Vec::with_capacity(raw.results.len());
        for (i, result) in raw.results.into_iter().enumerate() {
            let entry = format!("results[{i}] ({})", result.kind);
            self.names(&entry, &result.name)?;
            let kind = parse_result_kind(&result.kind).ok_or_else(|| {
                self.invalid(
                    &entry,
                    format!(
                        "unknown result kind {:?}: expected certificate, notification, referral, conclusion, contract or resolution",
                        result.kind
                    ),
                )
            })?;
            if results.iter().any(|r: &ResultDocument| r.kind == kind) {
                return Err(
                    self.invalid(&entry, format!("duplicate result kind {:?}", result.kind))
                );
            }
            results.push(ResultDocument {
                channels: self.channels(&entry, &result.channels, Some(&channels))?,
                kind,
                name: result.name,
                source: result.source,
            });
        }
        if results.is_empty() {
            return Err(self.invalid("results", "at least one result document is needed"));
        }

        let mut steps = Vec::with_capacity(raw.steps.len());
        for (index, step) in raw.steps.into_iter().enumerate() {
            let entry = format!("steps[{index}] ({} {})", step.role, step.action);
            let role = OfficeRole::parse(&step.role).ok_or_else(|| {
                self.invalid(
                    &entry,
                    format!(
                        "unknown role {:?}: expected clerk, head or executor",
                        step.role
                    ),
                )
            })?;
            if step.action.is_empty()
                || !step
                    .action
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            {
                return Err(self.invalid(
                    &entry,
                    format!("action {:?} must be lowercase letters or `_`", step.action),
                ));
            }
            if step.action == REFUSE_ACTION {
                return Err(self.invalid(
                    &entry,
                    format!(
                        "{REFUSE_ACTION:?} is the refusal at a deciding step, not a step's action"
                    ),
                ));
            }
            self.names(&entry, &step.name)?;
            steps.push(Step {
                index,
                role,
                norm: self.norm(&entry, step.norm.as_deref())?,
                action: step.action,
                decides: step.decides,
                receives: step.receives,
                channels: self.channels(&entry, &step.channels, Some(&channels))?,
                name: step.name,
                inferred: step.inferred,
                source: step.source,
            });
        }
        if steps.is_empty() {
            return Err(self.invalid("steps", "at least one step is needed"));
        }
        // Each channel walks its own steps: each needs some, and exactly one that decides.
        let per_channel = steps.iter().any(|step| !step.channels.is_empty());
        for &channel in &channels {
            let whose = match per_channel {
                true => format!(" on the {} channel", channel_name(channel)),
                false => String::new(),
            };
            let taken: Vec<&Step> = steps.iter().filter(|s| s.taken_on(channel)).collect();
            if taken.is_empty() {
                return Err(self.invalid("steps", format!("no step is taken{whose}")));
            }
            match taken.iter().filter(|step| step.decides).count() {
                1 => {}
                n => {
                    return Err(self.invalid(
                        "steps",
                        format!("exactly one step{whose} must have decides = true, found {n}"),
                    ));
                }
            }
            // A refusal to accept closes the case where it is given, so the application is
            // received once, before anything is decided.
            let receiving: Vec<&&Step> = taken.iter().filter(|step| step.receives).collect();
            if receiving.len() > 1 {
                return Err(self.invalid(
                    "steps",
                    format!(
                        "at most one step{whose} may have receives = true, found {}",
                        receiving.len()
                    ),
                ));
            }
            if let Some(step) = receiving.first()
                && taken
                    .iter()
                    .any(|other| other.decides && other.index < step.index)
            {
                return Err(self.invalid(
                    format!("steps[{}] ({} {})", step.index, step.role, step.action),
                    format!("receives the application{whose} after the deciding step"),
                ));
            }
        }
        if let Some(step) = steps.iter().find(|step| step.receives)
            && !refusal_grounds
                .iter()
                .any(|ground: &RefusalGround| ground.kind == RefusalKind::RefusalToAccept)
        {
            return Err(self.invalid(
                format!("steps[{}] ({} {})", step.index, step.role, step.action),
                "receives = true needs a refusal_to_accept ground to refuse on",
            ));
        }

        let paper_result = match raw.result_form.as_deref() {
            None | Some("electronic") => false,
            Some("paper") => true,
            Some(other) => {
                return Err(self.invalid(
                    "result_form",
                    format!("{other:?} is not `paper` or `electronic`"),
                ));
            }
        };
        if raw.refusal_ground_field.is_some() && raw.result_kind_field.is_none() {
            return Err(self.invalid(
                "refusal_ground_field",
                "goes with result_kind_field, whose `refusal` value it explains",
            ));
        }
        Ok(Service {
            code,
            file: self.file.to_owned(),
            seeds: raw.seeds,
            name: raw.name,
            provider: Provider {
                kind: raw.provider.kind,
                name: raw.provider.name,
                inferred: raw.provider.inferred,
            },
            channels,
            term,
            documents,
            fields,
            refusal_grounds,
            results,
            steps,
            result_kind_field: raw.result_kind_field,
            pass_fields: raw.pass_fields,
            refusal_ground_field: raw.refusal_ground_field,
            refusal_reason_field: raw.refusal_reason_field,
            paper_result,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(service: &Service, channel: Channel) -> Vec<(OfficeRole, String, String)> {
        service
            .steps_on(channel)
            .map(|step| {
                (
                    step.role,
                    step.action.clone(),
                    step.norm.map(|n| n.to_string()).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn steps(spec: &[(OfficeRole, &str, &str)]) -> Vec<(OfficeRole, String, String)> {
        spec.iter()
            .map(|(role, action, norm)| (*role, (*action).to_owned(), (*norm).to_owned()))
            .collect()
    }

    #[test]
    fn the_embedded_catalogue_holds_services_a_to_f_with_the_seeds_norms() {
        use OfficeRole::{Clerk, Executor, Head};
        let catalogue = Catalogue::embedded().expect("embedded catalogue is valid");
        assert_eq!(catalogue.codes(), ["A", "B", "C", "D", "E", "F"]);
        let service = |code| catalogue.service(code).expect(code);
        assert_eq!(
            norms(service("A"), Channel::Provider),
            steps(&[
                (Clerk, "register", "15 min"),
                (Head, "assign", "1 cd"),
                (Executor, "draft", "13 cd"),
                (Head, "sign", "1 cd"),
                (Clerk, "issue", "15 min"),
            ])
        );
        assert_eq!(
            norms(service("B"), Channel::Provider),
            steps(&[
                (Clerk, "register", "2 min"),
                (Head, "assign", "1 min"),
                (Executor, "draft", "3 min"),
                (Head, "sign", "2 min"),
                (Clerk, "issue", "2 min"),
            ])
        );
        assert_eq!(
            norms(service("C"), Channel::Provider),
            steps(&[
                (Clerk, "register", "15 min"),
                (Head, "assign", "1 wd"),
                (Executor, "draft", "6 wd"),
                (Head, "sign", "1 wd"),
                (Clerk, "issue", "1 wd"),
            ])
        );
        assert_eq!(
            norms(service("D"), Channel::Provider),
            steps(&[(Executor, "register", "30 min")])
        );
        assert_eq!(
            norms(service("E"), Channel::Provider),
            steps(&[
                (Clerk, "register", "5 min"),
                (Executor, "draft", "15 min"),
                (Head, "sign", "5 min"),
                (Clerk, "issue", "5 min"),
            ])
        );
        assert_eq!(
            norms(service("F"), Channel::Provider),
            steps(&[
                (Clerk, "register", "30 min"),
                (Head, "assign", "20 min"),
                (Executor, "draft", "28 cd"),
                (Head, "sign", "1 cd"),
                (Clerk, "issue", "30 min"),
            ])
        );
    }

    #[test]
    fn guardianship_through_the_state_corporation_is_examined_28_days_then_sent_within_a_minute() {
        use OfficeRole::{Executor, Head};
        let catalogue = Catalogue::embedded().expect("embedded catalogue is valid");
        let f = catalogue.service("F").expect("F");
        assert_eq!(
            norms(f, Channel::StateCorporation),
            steps(&[(Executor, "examine", "28 cd"), (Head, "sign", "1 min")])
        );
    }

    #[test]
    fn guardianship_on_the_portal_is_examined_28_days_then_sent_within_90_seconds() {
        use OfficeRole::{Executor, Head};
        let catalogue = Catalogue::embedded().expect("embedded catalogue is valid");
        let f = catalogue.service("F").expect("F");
        assert_eq!(
            norms(f, Channel::Portal),
            steps(&[(Executor, "examine", "28 cd"), (Head, "sign", "90 s")])
        );
        let start = time::macros::datetime!(2026-03-02 09:00 +5);
        let calendar = egov_core::calendar::WorkingCalendar::kazakhstan();
        assert_eq!(
            f.term_due(Channel::Portal, start, calendar),
            Some(time::macros::datetime!(2026-03-30 09:01:30 +5)),
            "28 calendar days and 90 seconds"
        );
    }

    #[test]
    fn a_catalogue_file_is_refused_when_a_channel_has_no_deciding_step() {
        let text = MINIMAL
            .replace(
                "channels = [\"provider\"]",
                "channels = [\"portal\", \"provider\"]",
            )
            .replace("decides = true", "decides = true\nchannels = [\"portal\"]");
        let message = error(&text);
        assert!(
            message.contains("no step is taken on the provider channel"),
            "{message}"
        );
    }

    #[test]
    fn service_d_has_no_clerk_and_no_head() {
        let catalogue = Catalogue::embedded().expect("valid");
        let d = catalogue.service("D").expect("D");
        assert!(d.steps.iter().all(|step| step.role == OfficeRole::Executor));
    }

    #[test]
    fn b_c_and_d_refuse_documents_that_do_not_match_item_9_and_f_refuses_violations() {
        let catalogue = Catalogue::embedded().expect("valid");
        let ground = |code: &str| {
            catalogue
                .service(code)
                .and_then(|s| s.ground_for(AutoCheck::Missing))
                .map(|g| g.code.clone())
                .expect(code)
        };
        assert_eq!(ground("A"), "incomplete_package");
        assert_eq!(ground("B"), "documents_do_not_match_item_9");
        assert_eq!(ground("C"), "documents_do_not_match_item_9");
        assert_eq!(ground("D"), "incomplete_package");
        assert_eq!(ground("F"), "document_violations");
        let a = catalogue.service("A").expect("A");
        assert_eq!(
            a.ground_for(AutoCheck::Expired).map(|g| g.code.as_str()),
            Some("expired_documents")
        );
    }

    const MINIMAL: &str = r#"
code = "G"
seeds = ["999.txt"]
channels = ["provider"]
[name]
kk = "к"
ru = "р"
en = "e"
[provider]
kind = "test"
name = { kk = "к", ru = "р", en = "e" }
[[documents]]
code = "application"
required = true
name = { kk = "к", ru = "р", en = "e" }
[[refusal_grounds]]
code = "incomplete"
kind = "reasoned_refusal"
auto = ["missing"]
text = { kk = "к", ru = "р", en = "e" }
[[results]]
kind = "certificate"
name = { kk = "к", ru = "р", en = "e" }
[[steps]]
role = "executor"
action = "draft"
norm = "1 wd"
decides = true
name = { kk = "к", ru = "р", en = "e" }
"#;

    fn error(text: &str) -> String {
        parse_service("G.toml", text)
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn a_seventh_service_is_one_more_file_in_the_catalogue_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("G.toml"), MINIMAL).expect("write");
        let catalogue = Catalogue::load(Some(dir.path())).expect("loads");
        assert_eq!(catalogue.codes(), ["A", "B", "C", "D", "E", "F", "G"]);
        let g = catalogue.service("G").expect("G");
        assert_eq!(g.steps[0].norm, Some(Norm::WorkingDays(1)));
    }

    #[test]
    fn an_unknown_role_is_refused_naming_the_file_and_the_step() {
        let message = error(&MINIMAL.replace("role = \"executor\"", "role = \"director\""));
        assert!(message.contains("G.toml"), "{message}");
        assert!(message.contains("steps[0] (director draft)"), "{message}");
        assert!(message.contains("unknown role \"director\""), "{message}");
    }

    #[test]
    fn a_bad_duration_is_refused_naming_the_file_and_the_step() {
        let message = error(&MINIMAL.replace("\"1 wd\"", "\"1 weekday\""));
        assert!(
            message.contains("G.toml: steps[0] (executor draft)"),
            "{message}"
        );
        assert!(message.contains("\"1 weekday\""), "{message}");
    }

    #[test]
    fn a_duplicate_document_code_is_refused_naming_the_entry() {
        let doubled = MINIMAL.replace(
            "[[refusal_grounds]]",
            "[[documents]]\ncode = \"application\"\nrequired = false\nname = { kk = \"к\", ru = \"р\", en = \"e\" }\n[[refusal_grounds]]",
        );
        let message = error(&doubled);
        assert!(message.contains("documents[1] (application)"), "{message}");
        assert!(
            message.contains("duplicate code \"application\""),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_file() {
        let message =
            error(&MINIMAL.replace("decides = true", "decides = true\nduration = \"1 wd\""));
        assert!(message.contains("G.toml"), "{message}");
        assert!(message.contains("duration"), "{message}");
    }

    #[test]
    fn a_service_without_a_deciding_step_is_refused() {
        let message = error(&MINIMAL.replace("decides = true", ""));
        assert!(
            message.contains("exactly one step must have decides = true, found 0"),
            "{message}"
        );
    }

    #[test]
    fn a_receiving_step_without_a_refusal_to_accept_ground_is_refused() {
        let message = error(&MINIMAL.replace("decides = true", "decides = true\nreceives = true"));
        assert!(
            message.contains(
                "steps[0] (executor draft): receives = true needs a refusal_to_accept ground"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_step_receiving_after_the_deciding_step_is_refused() {
        let text = MINIMAL.replace(
            "kind = \"reasoned_refusal\"",
            "kind = \"refusal_to_accept\"",
        ) + "[[steps]]\nrole = \"clerk\"\naction = \"register\"\nreceives = true\nname = { kk = \"к\", ru = \"р\", en = \"e\" }\n";
        let message = error(&text);
        assert!(
            message.contains(
                "steps[1] (clerk register): receives the application after the deciding step"
            ),
            "{message}"
        );
    }

    #[test]
    fn adoption_candidates_are_refused_acceptance_at_the_clerks_reception_on_both_channels() {
        let catalogue = Catalogue::embedded().expect("valid");
        let a = catalogue.service("A").expect("A");
        for channel in [Channel::Portal, Channel::Provider] {
            let first = a.step_after(None, channel).expect("a first step");
            assert_eq!(
                (first.role, first.action.as_str()),
                (OfficeRole::Clerk, "register")
            );
            assert!(first.receives && !first.decides, "{channel:?}");
            let grounds: Vec<&str> = a
                .grounds_at(first)
                .iter()
                .map(|g| g.code.as_str())
                .collect();
            assert_eq!(grounds, ["incomplete_package", "expired_documents"]);
        }
    }

    #[test]
    fn a_file_whose_name_differs_from_its_code_is_refused() {
        let message = parse_service("H.toml", MINIMAL)
            .expect_err("refused")
            .to_string();
        assert!(message.contains("H.toml: code"), "{message}");
    }

    #[test]
    fn two_files_of_one_code_are_refused_naming_both() {
        let error = Catalogue::from_files([
            ("first".to_owned(), MINIMAL.to_owned()),
            ("second".to_owned(), MINIMAL.to_owned()),
        ]);
        let message = error.expect_err("refused").to_string();
        assert_eq!(
            message,
            "service G is defined twice: in first and in second"
        );
    }
}
