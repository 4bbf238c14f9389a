//! The operator's desk (FLOWS.md, the common State Corporation flow and service D at the
//! ЦОН): the electronic queue, the request form's checks, the look-ups through the gateway
//! (process 3, condition 1, process 4), service D's consent and receipt of refusal, the
//! request signed with the operator's certificate and sent through the gateway (process 5),
//! the result brought back and handed over. Every action is journalled with the operator's
//! name. The web pages and the tests drive the same [`Desk`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use egov_core::calendar::KAZAKHSTAN_OFFSET;
use egov_core::clock::Clock;
use egov_core::envelope::{RevocationSource, Verifier, VerifyPolicy};
use egov_core::pki::CertificateInfo;
use egov_core::{Iin, StatusCode};
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest,
    ApplyUnemployedCertificateRequest, AttachedDocument, Channel, GetApplicationResultRequest,
    PlaceInQueueRequest, PlaceInQueueResponse, ResultKind, ServiceApplication, ServiceResult,
};
use egov_signin::Person;
use egov_system::caller::decode_answer;
use egov_system::intake::{
    FIELD_POWER_OF_ATTORNEY_FORM, Lookups, POWER_OF_ATTORNEY_NOT_NOTARISED, check_power_of_attorney,
};
use egov_system::intake_sql::rfc3339;
use egov_system::provider::check_result_author;
use egov_system::{CallError, Fault, GatewayCaller};
use prost::Message;

use crate::ConError;
use crate::operator::Operators;
use crate::services::{DeskService, DeskServices};
use crate::store::{Filing, JournalEntry, Receipt, Store, Ticket, outcome};

/// The item-9 document of service C that is the school's certificate of home schooling.
const HOME_SCHOOLING_CERTIFICATE: &str = "home_schooling_certificate";

/// The application field E-sobes reads to know the child is schooled at home (`"true"`).
const FIELD_HOME_SCHOOLING: &str = "home_schooling";

/// How a representative's power of attorney is certified (seed `001_…` item 9, process 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum PowerOfAttorneyForm {
    /// No representative: the recipient came in person.
    #[default]
    None,
    /// Notarised: its number is entered and looked up in the notary registry.
    Notarised,
    /// Certified otherwise: its data are not entered, the registry is not asked.
    Other,
}

impl PowerOfAttorneyForm {
    /// Reads the form field (`none`, `notarised`, `other`).
    pub fn parse(value: &str) -> Option<PowerOfAttorneyForm> {
        match value {
            "" | "none" => Some(PowerOfAttorneyForm::None),
            "notarised" => Some(PowerOfAttorneyForm::Notarised),
            "other" => Some(PowerOfAttorneyForm::Other),
            _ => None,
        }
    }
}

impl TryFrom<String> for PowerOfAttorneyForm {
    type Error = String;

    fn try_from(value: String) -> Result<PowerOfAttorneyForm, String> {
        PowerOfAttorneyForm::parse(&value)
            .ok_or_else(|| format!("{value:?} is not one of none, notarised, other"))
    }
}

/// The request form an operator fills for a ticket (FLOWS.md, State Corporation process 2).
/// As JSON (the desk's API) it has the page's field names, the service under `service`, absent
/// fields empty, and no ticket: the API's path names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FilingForm {
    /// The ticket being served.
    #[serde(skip)]
    pub ticket_id: String,
    /// The service, `B`, `C` or `D`.
    #[serde(rename = "service")]
    pub service_code: String,
    /// The recipient's IIN.
    pub recipient_iin: String,
    /// The recipient's name as the application states it, written on a receipt of refusal:
    /// an incomplete package is refused before any register is asked.
    pub recipient_name: String,
    /// The representative's IIN, when one acts by power of attorney.
    pub representative_iin: String,
    /// How the power of attorney is certified.
    pub power_of_attorney: PowerOfAttorneyForm,
    /// The notarised power of attorney's number.
    pub power_of_attorney_number: String,
    /// The child's IIN (C, D).
    pub child_iin: String,
    /// The district code a kindergarten place is wanted in (D).
    pub district: String,
    /// The kindergarten asked for, or empty for any (D).
    pub kindergarten_bin: String,
    /// The codes of the item-9 documents the recipient handed in.
    pub documents: Vec<String>,
    /// Whether the citizen consented to the use of legally protected secrets (D).
    pub consent: bool,
}

/// What is wrong with a form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It must be filled.
    Empty,
    /// Not a valid IIN (12 digits with the right check digit).
    MalformedIin(String),
    /// The representative is the recipient.
    RepresentativeIsRecipient,
    /// A representative without a power of attorney, or one without a representative.
    PowerOfAttorneyMismatch,
    /// A number given for a power of attorney that is not notarised.
    NumberNotEntered,
    /// The service is not filed at the State Corporation.
    UnknownService,
    /// The value is not one of the choices.
    UnknownChoice,
}

/// A problem with one field, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name.
    pub field: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

/// What filing a ticket's request came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Fields are missing or malformed; nothing was asked nor stored.
    Invalid(Vec<FieldError>),
    /// Service D without the citizen's consent: refused before any query, nothing stored.
    ConsentMissing,
    /// The ticket has a filing already (a double submit): that one.
    AlreadyFiled(Filing),
    /// FLOWS.md process 4: the citizens-DB lacks the recipient, or the notary registry the
    /// power of attorney: "the data cannot be obtained".
    DataUnavailable(Filing),
    /// Refused for another reason (a power of attorney not in force, the target's refusal).
    Refused(Filing),
    /// Service D with an incomplete item-9 package: refused to accept, with a receipt.
    Receipt(Filing, Receipt),
    /// Sent through the gateway, signed with the operator's certificate, and registered.
    Sent(Filing),
}

impl Outcome {
    /// Returns the filing the outcome stored, if any.
    pub fn filing(&self) -> Option<&Filing> {
        match self {
            Outcome::AlreadyFiled(filing)
            | Outcome::DataUnavailable(filing)
            | Outcome::Refused(filing)
            | Outcome::Receipt(filing, _)
            | Outcome::Sent(filing) => Some(filing),
            Outcome::Invalid(_) | Outcome::ConsentMissing => None,
        }
    }
}

/// A form whose fields passed the desk's checks.
#[derive(Debug, Clone)]
struct Checked {
    service: Arc<DeskService>,
    recipient: Iin,
    representative: Option<Iin>,
    child: Option<Iin>,
}

/// The journal's action names.
pub mod action {
    /// A ticket called.
    pub const CALL: &str = "call";
    /// A request sent through the gateway.
    pub const FILE: &str = "file";
    /// A request refused at the desk (data unavailable, no consent, refused by the target).
    pub const REFUSE: &str = "refuse";
    /// A receipt of refusal issued.
    pub const RECEIPT: &str = "receipt";
    /// A result brought back.
    pub const RESULT: &str = "result";
    /// A result handed over.
    pub const HAND_OVER: &str = "hand_over";
}

/// How often [`Desk::warm_up`] asks for the back office's catalogue at start.
pub const WARM_UP_ATTEMPTS: u32 = 10;

/// The desk: what the workstation's pages call.
#[derive(Debug, Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    caller: GatewayCaller,
    lookups: Lookups,
    operators: Operators,
    /// The catalogue as last read; asked again while it could not be read.
    services: std::sync::RwLock<Option<DeskServices>>,
    clock: Arc<dyn Clock>,
    evidence: Evidence,
}

/// The desk's [`ResultEvidence`], shown by name only.
struct Evidence(Arc<dyn ResultEvidence>);

impl std::fmt::Debug for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResultEvidence")
    }
}

/// Process 4: a register that does not answer (down, or slower than its route allows) leaves
/// the data as unobtainable as one that lacks them; other refusals stay as they are.
fn unobtainable(fault: Fault) -> Fault {
    match fault.code {
        StatusCode::TargetUnavailable | StatusCode::TargetTimeout => {
            Fault::not_found(format!("the data cannot be obtained: {}", fault.message))
        }
        _ => fault,
    }
}

/// What [`ResultEvidence::verify`] comes to: the author's certificate and the payload.
pub type VerifiedEvidence<'a> = Pin<
    Box<
        dyn Future<Output = Result<(Arc<CertificateInfo>, Vec<u8>), String>>
            + std::marker::Send
            + 'a,
    >,
>;

/// Verifies the evidence a register answers with a result: the envelope that delivered it
/// from the back office, signed by the provider's head, against the stack's root and
/// revocation list. The desk hands over only a result whose evidence holds.
pub trait ResultEvidence: std::marker::Send + Sync + 'static {
    /// Verifies the envelope `evidence`; returns its author's certificate and its payload.
    fn verify<'a>(&'a self, evidence: &'a [u8]) -> VerifiedEvidence<'a>;
}

impl<R: RevocationSource + 'static> ResultEvidence for Verifier<R> {
    fn verify<'a>(&'a self, evidence: &'a [u8]) -> VerifiedEvidence<'a> {
        Box::pin(async move {
            let (envelope, verified) = self
                .verify_bytes(evidence, &VerifyPolicy::any())
                .await
                .map_err(|err| err.to_string())?;
            Ok((verified.signer, envelope.payload.into()))
        })
    }
}

/// What reading a filing's result at the desk came to.
#[derive(Debug, Clone)]
pub struct ResultRead {
    /// The filing, with its result when it is there.
    pub filing: Filing,
    /// Whether the result is there.
    pub ready: bool,
    /// The correlation id of the request the read sent to the provider, if it sent one.
    pub correlation_id: Option<String>,
}

/// Returns the operator's display name and login, as recorded.
pub fn actor(person: &Person) -> String {
    format!("{} ({})", person.name, person.login)
}

impl Desk {
    /// Creates the desk over its store, calling through `caller` (the State Corporation's seal
    /// countersigns what its operators sign) and checking results' evidence with `evidence`
    /// (the system's own verifier); the services are read from the back office's catalogue
    /// when first needed.
    pub fn new(
        store: Store,
        caller: GatewayCaller,
        operators: Operators,
        clock: Arc<dyn Clock>,
        evidence: Arc<dyn ResultEvidence>,
    ) -> Desk {
        Desk {
            inner: Arc::new(Inner {
                store,
                lookups: Lookups::new(caller.clone()),
                caller,
                operators,
                services: std::sync::RwLock::new(None),
                clock,
                evidence: Evidence(evidence),
            }),
        }
    }

    /// Returns the store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Returns the services filed here, from the back office's catalogue (read once, then
    /// kept: the catalogue changes with a back-office release, not during a day).
    pub async fn services(&self) -> Result<DeskServices, ConError> {
        let cached = self
            .inner
            .services
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(services) = cached {
            return Ok(services);
        }
        let services = DeskServices::fetch(&self.inner.caller)
            .await
            .map_err(|error| {
                ConError::Conflict(format!(
                    "the back office's catalogue cannot be read now: {error}"
                ))
            })?;
        *self
            .inner
            .services
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(services.clone());
        Ok(services)
    }

    /// Reads the back office's catalogue as the desk starts, so that the first filing does not
    /// ask for it in the middle of its exchange; while the back office does not answer, asks
    /// again [`WARM_UP_ATTEMPTS`] times, a second more apart each time, then leaves it to the
    /// first filing.
    pub async fn warm_up(self) {
        for attempt in 1..=WARM_UP_ATTEMPTS {
            match self.services().await {
                Ok(services) => {
                    tracing::info!(
                        attempt,
                        services = services.all().count(),
                        "the back office's catalogue is read"
                    );
                    return;
                }
                Err(error) => {
                    tracing::debug!(attempt, %error, "the back office's catalogue is not read yet");
                    tokio::time::sleep(std::time::Duration::from_secs(u64::from(attempt))).await;
                }
            }
        }
        tracing::warn!("the back office's catalogue is not read; the first filing asks for it");
    }

    fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    /// Takes a ticket of the electronic queue (the hall's kiosk).
    pub async fn take_ticket(&self) -> Result<Ticket, ConError> {
        let now = self.now();
        let day = now.to_offset(KAZAKHSTAN_OFFSET).date().to_string();
        let ticket = self.inner.store.take_ticket(&day, now).await?;
        metrics::counter!("con_tickets_total").increment(1);
        Ok(ticket)
    }

    /// Calls the next waiting ticket to the operator's desk.
    pub async fn call_next(&self, operator: &Person) -> Result<Option<Ticket>, ConError> {
        self.inner.operators.signer(operator)?;
        let now = self.now();
        let ticket = self.inner.store.call_next(operator, now).await?;
        if let Some(ticket) = &ticket {
            self.inner
                .store
                .record(
                    operator,
                    action::CALL,
                    &format!("ticket {}", ticket.id),
                    now,
                )
                .await?;
        }
        Ok(ticket)
    }

    /// Returns the journal, newest first.
    pub async fn journal(&self, limit: i64) -> Result<Vec<JournalEntry>, ConError> {
        self.inner.store.journal(limit).await
    }

    /// Checks the form's fields (nothing is asked of anyone).
    fn check(services: &DeskServices, form: &FilingForm) -> Result<Checked, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut iin = |field: &'static str, value: &str, required: bool| -> Option<Iin> {
            let value = value.trim();
            if value.is_empty() {
                if required {
                    errors.push(FieldError {
                        field,
                        problem: Problem::Empty,
                    });
                }
                return None;
            }
            match Iin::parse(value) {
                Ok(iin) => Some(iin),
                Err(error) => {
                    errors.push(FieldError {
                        field,
                        problem: Problem::MalformedIin(error.to_string()),
                    });
                    None
                }
            }
        };
        let service = services.get(form.service_code.trim()).cloned();
        let recipient = iin("recipient_iin", &form.recipient_iin, true);
        let representative = iin("representative_iin", &form.representative_iin, false);
        let child = iin(
            "child_iin",
            &form.child_iin,
            service.as_ref().is_some_and(|s| s.concerns_child()),
        );
        if service.is_none() {
            errors.push(FieldError {
                field: "service_code",
                problem: Problem::UnknownService,
            });
        }
        if recipient.is_some() && representative == recipient {
            errors.push(FieldError {
                field: "representative_iin",
                problem: Problem::RepresentativeIsRecipient,
            });
        }
        let acting = !form.representative_iin.trim().is_empty();
        let number = form.power_of_attorney_number.trim();
        match (form.power_of_attorney, acting) {
            (PowerOfAttorneyForm::None, true)
            | (PowerOfAttorneyForm::Notarised | PowerOfAttorneyForm::Other, false) => {
                errors.push(FieldError {
                    field: "power_of_attorney",
                    problem: Problem::PowerOfAttorneyMismatch,
                });
            }
            (PowerOfAttorneyForm::Notarised, true) if number.is_empty() => {
                errors.push(FieldError {
                    field: "power_of_attorney_number",
                    problem: Problem::Empty,
                });
            }
            (PowerOfAttorneyForm::Other | PowerOfAttorneyForm::None, _) if !number.is_empty() => {
                errors.push(FieldError {
                    field: "power_of_attorney_number",
                    problem: Problem::NumberNotEntered,
                });
            }
            _ => {}
        }
        if service.as_ref().is_some_and(|s| s.code == "D") && form.district.trim().is_empty() {
            errors.push(FieldError {
                field: "district",
                problem: Problem::Empty,
            });
        }
        match (service, recipient, errors.is_empty()) {
            (Some(service), Some(recipient), true) => Ok(Checked {
                service,
                recipient,
                representative,
                child,
            }),
            _ => Err(errors),
        }
    }

    /// Files a ticket's request: checks the form, takes D's consent, refuses an incomplete D
    /// package with a receipt, asks the citizens-DB and the notary registry, then signs the
    /// request with the operator's certificate and sends it through the gateway.
    pub async fn file(&self, operator: &Person, form: &FilingForm) -> Result<Outcome, ConError> {
        let signer = self.inner.operators.signer(operator)?.clone();
        let store = &self.inner.store;
        let ticket = store.ticket(form.ticket_id.trim()).await?;
        if ticket.called_at.is_none() {
            return Err(ConError::Conflict(format!(
                "ticket {} has not been called to a desk",
                ticket.id
            )));
        }
        if let Some(filing) = store.filing_of_ticket(&ticket.id).await? {
            return Ok(Outcome::AlreadyFiled(filing));
        }
        let services = self.services().await?;
        let checked = match Self::check(&services, form) {
            Ok(checked) => checked,
            Err(errors) => return Ok(Outcome::Invalid(errors)),
        };
        let service = checked.service.clone();
        // `002_…` item 9: consent first, before any information system is asked.
        if service.needs_consent() && !form.consent {
            store
                .record(
                    operator,
                    action::REFUSE,
                    &format!("ticket {}: service {} without consent to the use of legally protected secrets", ticket.id, service.code),
                    self.now(),
                )
                .await?;
            return Ok(Outcome::ConsentMissing);
        }
        let mut filing = Filing {
            id: uuid::Uuid::now_v7().to_string(),
            ticket_id: ticket.id.clone(),
            service_code: service.code.clone(),
            recipient_iin: checked.recipient.to_string(),
            representative_iin: checked
                .representative
                .map(|iin| iin.to_string())
                .unwrap_or_default(),
            outcome: String::new(),
            message: String::new(),
            target_system: String::new(),
            registration_number: String::new(),
            operator_login: operator.login.clone(),
            operator_name: operator.name.clone(),
            filed_at: rfc3339(self.now())?,
            ..Filing::default()
        };
        // `002_…` item 9.2: with an incomplete package the employee refuses to accept the
        // documents and hands the receipt; no register is asked for a request not accepted.
        if service.refuses_incomplete_at_desk() {
            let missing: Vec<String> = service
                .documents
                .iter()
                .filter(|document| document.required && !form.documents.contains(&document.code))
                .map(|document| format!("{} / {}", document.name.kk, document.name.ru))
                .collect();
            if !missing.is_empty() {
                let name = form.recipient_name.trim().to_owned();
                return self
                    .receipt(operator, filing, &service, name, missing)
                    .await;
            }
        }
        // Process 3 and condition 1: the recipient in the citizens-DB, the notarised power of
        // attorney in the notary registry.
        if let Err(fault) = self
            .inner
            .lookups
            .person("recipient", &checked.recipient)
            .await
        {
            return self.refuse(operator, filing, unobtainable(fault)).await;
        }
        if let (Some(representative), PowerOfAttorneyForm::Notarised) =
            (checked.representative, form.power_of_attorney)
        {
            let number = form.power_of_attorney_number.trim();
            if let Err(fault) = check_power_of_attorney(
                &self.inner.lookups,
                number,
                &service.code,
                &checked.recipient,
                &representative,
            )
            .await
            {
                return self.refuse(operator, filing, unobtainable(fault)).await;
            }
        }
        // Process 5: the request, signed by the operator, countersigned by the State
        // Corporation's seal, through the gateway.
        let application = self.application(form, &checked);
        let route = service.route;
        filing.target_system = route.target.id.to_owned();
        let sent = match service.code.as_str() {
            "B" => {
                let request = ApplyUnemployedCertificateRequest {
                    application: Some(application),
                };
                self.send::<_, ApplicationRegistered>(
                    &signer,
                    route.apply,
                    route.apply_to,
                    &request,
                )
                .await
                .map(|(registered, _)| (registered.registration_number, None))
            }
            "C" => {
                let request = ApplyHomeSchoolingCompensationRequest {
                    application: Some(application),
                };
                self.send::<_, ApplicationRegistered>(
                    &signer,
                    route.apply,
                    route.apply_to,
                    &request,
                )
                .await
                .map(|(registered, _)| (registered.registration_number, None))
            }
            // Seed 004_… annex 2, the ХҚО reference: the operator's EDS-signed request is
            // registered in the regional gateway's workstation; the provider answers later.
            "F" => self
                .send::<_, ApplicationRegistered>(
                    &signer,
                    route.apply,
                    route.apply_to,
                    &application,
                )
                .await
                .map(|(registered, _)| (registered.registration_number, None)),
            _ => {
                let request = PlaceInQueueRequest {
                    application: Some(application),
                    district: form.district.trim().to_owned(),
                    kindergarten_bin: form.kindergarten_bin.trim().to_owned(),
                };
                // The filing keeps the register's number whatever it answered: the provider's
                // signed result comes under it (seed `002_…` item 9, 2): «... "жеке
                // кабинетіне" жолданады (отыз минуттан аспайды)»), the reasoned refusal of an
                // item-10 ground as well as the notification or the referral, and so does a
                // referral issued later, when a place frees. A placement's own answer is
                // handed over at once.
                self.send::<_, PlaceInQueueResponse>(&signer, route.apply, route.apply_to, &request)
                    .await
                    .map(|(placed, signer)| match placed.kind() {
                        ResultKind::Unspecified => (placed.registration_number, None),
                        _ => (placed.registration_number.clone(), Some((placed, signer))),
                    })
            }
        };
        let (number, placed) = match sent {
            Ok(sent) => sent,
            Err(error) => {
                let fault = match error {
                    CallError::Fault(fault) => fault,
                    other => Fault::new(other.code(), other.to_string()),
                };
                return self.refuse(operator, filing, fault).await;
            }
        };
        filing.outcome = outcome::SENT.to_owned();
        filing.registration_number = number.clone();
        filing.message = if number.is_empty() {
            format!("sent to {}", route.target.id)
        } else {
            format!("registered in {} under {number}", route.target.id)
        };
        self.store_filing(&filing).await?;
        let now = self.now();
        store
            .record(
                operator,
                action::FILE,
                &format!(
                    "filing {} ({}), ticket {}",
                    filing.id, filing.message, ticket.id
                ),
                now,
            )
            .await?;
        // D: a placement is decided at once; its signed answer is the result to hand over.
        if let Some((placed, answer_signer)) = placed {
            let kind = placed.kind().as_str_name().to_owned();
            let text = match placed.kind() {
                ResultKind::Referral => format!(
                    "referral {} to kindergarten {}",
                    placed.referral_number, placed.kindergarten_bin
                ),
                _ => format!("placed in the queue at position {}", placed.position),
            };
            store
                .set_result(&filing.id, &kind, &text, &answer_signer, now)
                .await?;
        }
        metrics::counter!("con_filings_total", "outcome" => outcome::SENT).increment(1);
        Ok(Outcome::Sent(store.filing(&filing.id).await?))
    }

    /// Builds the application the target system gets.
    fn application(&self, form: &FilingForm, checked: &Checked) -> ServiceApplication {
        let mut fields = BTreeMap::new();
        if form.power_of_attorney == PowerOfAttorneyForm::Other {
            fields.insert(
                FIELD_POWER_OF_ATTORNEY_FORM.to_owned(),
                POWER_OF_ATTORNEY_NOT_NOTARISED.to_owned(),
            );
        }
        // C: the school's certificate of home schooling handed in is what shows at the desk
        // that the child is schooled at home, the field E-sobes reads.
        if checked.service.code == "C"
            && form
                .documents
                .iter()
                .any(|code| code == HOME_SCHOOLING_CERTIFICATE)
        {
            fields.insert(FIELD_HOME_SCHOOLING.to_owned(), "true".to_owned());
        }
        if checked.service.code == "D" {
            fields.insert("district".to_owned(), form.district.trim().to_owned());
            if !form.kindergarten_bin.trim().is_empty() {
                fields.insert(
                    "kindergarten_bin".to_owned(),
                    form.kindergarten_bin.trim().to_owned(),
                );
            }
        }
        let documents = checked
            .service
            .documents
            .iter()
            .filter(|document| form.documents.contains(&document.code))
            .map(|document| AttachedDocument {
                kind: document.code.clone(),
                // Handed in on paper: the operator saw it; the scan is not kept here.
                file_name: format!("{}.pdf", document.code),
                content_type: "application/pdf".into(),
                ..AttachedDocument::default()
            })
            .collect();
        ServiceApplication {
            service_code: checked.service.code.clone(),
            channel: Channel::StateCorporation as i32,
            recipient_iin: checked.recipient.to_string(),
            representative_iin: checked
                .representative
                .map(|iin| iin.to_string())
                .unwrap_or_default(),
            power_of_attorney_number: match form.power_of_attorney {
                PowerOfAttorneyForm::Notarised => form.power_of_attorney_number.trim().to_owned(),
                _ => String::new(),
            },
            child_iin: checked.child.map(|iin| iin.to_string()).unwrap_or_default(),
            documents,
            fields: fields.into_iter().collect(),
            submitted_at: None,
        }
    }

    /// Signs `request` with the operator's certificate (the operator's IIN in header
    /// user_iin), has the State Corporation's seal countersign it, sends it through the
    /// gateway and decodes the answer; returns it with the subject of its signer.
    async fn send<Req, Resp>(
        &self,
        operator: &egov_core::envelope::Signer,
        service_id: &str,
        receiver: &str,
        request: &Req,
    ) -> Result<(Resp, String), CallError>
    where
        Req: Message + prost::Name,
        Resp: Message + prost::Name + Default,
    {
        self.send_traced(operator, service_id, receiver, request)
            .await
            .0
    }

    /// [`Desk::send`], also returning the correlation id the request went under (the message
    /// log's key for its hops).
    async fn send_traced<Req, Resp>(
        &self,
        operator: &egov_core::envelope::Signer,
        service_id: &str,
        receiver: &str,
        request: &Req,
    ) -> (Result<(Resp, String), CallError>, String)
    where
        Req: Message + prost::Name,
        Resp: Message + prost::Name + Default,
    {
        let mut header = self.inner.caller.header::<Req>(service_id, receiver);
        header.user_iin = operator
            .certificate()
            .iin
            .map(|iin| iin.to_string())
            .unwrap_or_default();
        let correlation_id = header.correlation_id.clone();
        let answer = async {
            let envelope = operator.seal_message(&header, request)?;
            let answer = self.inner.caller.forward(envelope).await?;
            let decoded = decode_answer(&answer)?;
            let signer = answer
                .signatures
                .first()
                .and_then(|signature| signature.certificate_chain.first())
                .and_then(|der| egov_core::pki::CertificateInfo::from_der(der).ok())
                .map(|certificate| certificate.subject)
                .unwrap_or_default();
            Ok((decoded, signer))
        }
        .await;
        (answer, correlation_id)
    }

    /// Stores a refused filing (process 4's "the data cannot be obtained", or another
    /// refusal) and journals it.
    async fn refuse(
        &self,
        operator: &Person,
        mut filing: Filing,
        fault: Fault,
    ) -> Result<Outcome, ConError> {
        filing.outcome = outcome::REFUSED.to_owned();
        filing.message = fault.message.clone();
        self.store_filing(&filing).await?;
        self.inner
            .store
            .record(
                operator,
                action::REFUSE,
                &format!(
                    "filing {}, ticket {}: {}",
                    filing.id, filing.ticket_id, fault.message
                ),
                self.now(),
            )
            .await?;
        metrics::counter!("con_filings_total", "outcome" => outcome::REFUSED).increment(1);
        let filing = self.inner.store.filing(&filing.id).await?;
        Ok(match fault.code {
            StatusCode::DataNotFound => Outcome::DataUnavailable(filing),
            _ => Outcome::Refused(filing),
        })
    }

    /// Refuses to accept an incomplete package with a receipt (`002_…` item 9.2).
    async fn receipt(
        &self,
        operator: &Person,
        mut filing: Filing,
        service: &DeskService,
        recipient_name: String,
        missing: Vec<String>,
    ) -> Result<Outcome, ConError> {
        filing.outcome = outcome::RECEIPT.to_owned();
        filing.message = format!(
            "incomplete package of Standard item 9: {}",
            missing.join("; ")
        );
        self.store_filing(&filing).await?;
        let receipt = Receipt {
            id: uuid::Uuid::now_v7().to_string(),
            filing_id: filing.id.clone(),
            service_code: service.code.clone(),
            recipient_iin: filing.recipient_iin.clone(),
            recipient_name,
            missing: missing.join("\n"),
            operator_name: operator.name.clone(),
            issued_at: rfc3339(self.now())?,
        };
        self.inner.store.insert_receipt(&receipt).await?;
        self.inner
            .store
            .record(
                operator,
                action::RECEIPT,
                &format!("receipt {}, ticket {}", receipt.id, filing.ticket_id),
                self.now(),
            )
            .await?;
        metrics::counter!("con_filings_total", "outcome" => outcome::RECEIPT).increment(1);
        Ok(Outcome::Receipt(
            self.inner.store.filing(&filing.id).await?,
            receipt,
        ))
    }

    async fn store_filing(&self, filing: &Filing) -> Result<(), ConError> {
        if !self.inner.store.insert_filing(filing).await? {
            return Err(ConError::Conflict(format!(
                "ticket {} was filed meanwhile",
                filing.ticket_id
            )));
        }
        Ok(())
    }

    /// Asks the target system for the result of a sent filing, signed by the operator; keeps
    /// it when it is ready. Returns the filing, whether the result is there, and the
    /// correlation id of the request this read sent (none when it sent none).
    pub async fn fetch_result(&self, operator: &Person, id: &str) -> Result<ResultRead, ConError> {
        let signer = self.inner.operators.signer(operator)?.clone();
        let filing = self.inner.store.filing(id).await?;
        let kept = |filing: Filing, ready: bool| ResultRead {
            filing,
            ready,
            correlation_id: None,
        };
        if filing.result_at.is_some() {
            return Ok(kept(filing, true));
        }
        if filing.outcome != outcome::SENT || filing.registration_number.is_empty() {
            return Err(ConError::Conflict(format!("filing {id} awaits no result")));
        }
        let route = DeskServices::route_of(&filing.service_code).ok_or_else(|| {
            ConError::corrupt(
                "filing",
                format!("service {} has no route", filing.service_code),
            )
        })?;
        // The provider sends this one to the State Corporation's IS when it has decided.
        let Some(result_service_id) = route.result else {
            return Ok(kept(filing, false));
        };
        let request = GetApplicationResultRequest {
            registration_number: filing.registration_number.clone(),
            with_evidence: true,
        };
        let (answer, correlation_id) = self
            .send_traced::<_, ServiceResult>(&signer, result_service_id, route.target.id, &request)
            .await;
        let correlation_id = Some(correlation_id);
        match answer {
            Ok((result, _seal)) => {
                let head = self.check_evidence(&filing, &result).await?;
                let now = self.now();
                self.inner
                    .store
                    .set_result(id, result.kind().as_str_name(), &result.text, &head, now)
                    .await?;
                self.inner
                    .store
                    .record(
                        operator,
                        action::RESULT,
                        &format!("filing {id}: {}", result.kind().as_str_name()),
                        now,
                    )
                    .await?;
                Ok(ResultRead {
                    filing: self.inner.store.filing(id).await?,
                    ready: true,
                    correlation_id,
                })
            }
            Err(error) if error.code() == StatusCode::DataNotFound => Ok(ResultRead {
                filing,
                ready: false,
                correlation_id,
            }),
            Err(error) => Err(ConError::Conflict(format!(
                "{} did not answer the result of {}: {error}",
                route.target.id, filing.registration_number
            ))),
        }
    }

    /// Checks the result's evidence: the envelope the provider's head signed, verified, by a
    /// head of the organisation that decides the service, carrying this very result. Returns
    /// the head's certificate subject, which the filing keeps.
    async fn check_evidence(
        &self,
        filing: &Filing,
        result: &ServiceResult,
    ) -> Result<String, ConError> {
        let refused = |why: String| {
            ConError::Conflict(format!(
                "the result of {} from {} is not handed over: {why}",
                filing.registration_number, filing.target_system
            ))
        };
        if result.evidence.is_empty() {
            return Err(refused(
                "it came without the document the provider's head signed".to_owned(),
            ));
        }
        let (author, payload) = self
            .inner
            .evidence
            .0
            .verify(&result.evidence)
            .await
            .map_err(|why| refused(format!("its signed document does not verify: {why}")))?;
        check_result_author(&filing.service_code, &author)
            .map_err(|fault| refused(fault.message))?;
        let signed = ServiceResult::decode(payload.as_slice())
            .map_err(|err| refused(format!("its signed document is not a result: {err}")))?;
        if signed.registration_number != result.registration_number
            || signed.kind != result.kind
            || signed.text != result.text
        {
            return Err(refused(
                "the document the head signed is not the result answered".to_owned(),
            ));
        }
        Ok(author.subject.clone())
    }

    /// Records that the operator handed the result over to the recipient.
    pub async fn hand_over(&self, operator: &Person, id: &str) -> Result<Filing, ConError> {
        self.inner.operators.signer(operator)?;
        let now = self.now();
        if !self
            .inner
            .store
            .hand_over(id, &actor(operator), now)
            .await?
        {
            let filing = self.inner.store.filing(id).await?;
            return Err(ConError::Conflict(match filing.result_at {
                None => format!("filing {id} has no result to hand over yet"),
                Some(_) => format!(
                    "the result of filing {id} was handed over by {}",
                    filing.handed_over_by
                ),
            }));
        }
        self.inner
            .store
            .record(operator, action::HAND_OVER, &format!("filing {id}"), now)
            .await?;
        self.inner.store.filing(id).await
    }
}
