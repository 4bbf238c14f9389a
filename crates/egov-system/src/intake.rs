//! The intake of an application (өтініш / заявление) that the target systems of FLOWS.md share:
//! the Labour Market AIS (service B), E-sobes (C) and the kindergarten queue register (D).
//!
//! FLOWS.md, common portal flow process 5 and State Corporation flow processes 3–6: a request
//! signed by the citizen (portal) or by a State Corporation operator reaches the target system;
//! it checks who signed it, asks the citizens-DB for the recipient and the notary registry for
//! the power of attorney ("the data cannot be obtained" when either is missing), registers the
//! electronic document under a number with its due date, and opens the provider's back-office
//! case. When the back office decides, the head-signed result arrives at
//! `<system>.application.decided`; it is kept with its signed envelope and answered at
//! `<system>.application.result`.
//!
//! Each system brings a small [`IntakeStore`] (its own SQL tables) and, for the plain
//! apply–decide–result shape of B and C, a [`Grounds`] check; [`ApplicationHandler`] then
//! answers its three service ids. The queue register (D) decides itself and uses the
//! [`Intake`] steps one by one.

use std::future::Future;
use std::sync::Arc;

use egov_core::calendar::{KAZAKHSTAN_OFFSET, WorkingCalendar};
use egov_core::clock::Clock;
use egov_core::envelope::{RevocationSource, to_timestamp};
use egov_core::pki::{CertificateInfo, Role};
use egov_core::systems::{self, SystemInfo};
use egov_core::{Bin, Iin, StatusCode};
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{
    ApplicationRegistered, Case, Channel, Envelope, FamilyLink, GetApplicationResultRequest,
    GetFamilyRequest, GetFamilyResponse, GetPersonRequest, GetPersonResponse,
    GetPowerOfAttorneyRequest, Header, Kinship, LifeStatus, OpenCaseRequest, Person,
    PowerOfAttorneyResponse, PowerOfAttorneyValidity, ResultKind, ServiceApplication,
    ServiceResult,
};
use prost::Message;
use time::OffsetDateTime;

use crate::caller::{CallError, GatewayCaller};
use crate::fault::Fault;
use crate::provider::check_result_author;
use crate::receiver::{EnvelopeReceiver, Handler, Receiver, Reply, Request};

/// Service id of the citizens-DB's person look-up (GetPersonRequest → GetPersonResponse).
pub const PERSON_GET: &str = "citizens.person.get";

/// Service id of the citizens-DB's family look-up (GetFamilyRequest → GetFamilyResponse).
pub const FAMILY_GET: &str = "citizens.family.get";

/// Service id of the notary registry's look-up by number (→ PowerOfAttorneyResponse).
pub const POWER_OF_ATTORNEY_GET: &str = "notary.power-of-attorney.get";

/// Service id that opens a back-office case (OpenCaseRequest → Case).
pub const OPEN_CASE: &str = "backoffice.case.open";

/// Application field saying how a representative's power of attorney (сенімхат / доверенность)
/// is certified, when it is not by a notary: [`POWER_OF_ATTORNEY_NOT_NOTARISED`]. Seed
/// `001_…` item 9, process 2: «нотариалды куәландырылған сенімхат болған жағдайда, басқаша
/// куәландырылған жағдайда сенімхатының мәліметтері толтырылмайды» — the operator enters the
/// power of attorney's data only when it is notarised; otherwise none, and the notary registry
/// is not asked.
pub const FIELD_POWER_OF_ATTORNEY_FORM: &str = "power_of_attorney_form";

/// The value of [`FIELD_POWER_OF_ATTORNEY_FORM`] for a power of attorney certified otherwise
/// than by a notary; accepted from the State Corporation only, whose operator saw the paper.
pub const POWER_OF_ATTORNEY_NOT_NOTARISED: &str = "not_notarised";

/// The longest registration number a result query may carry.
const MAX_NUMBER_LEN: usize = 64;

tokio::task_local! {
    /// The envelope being handled, for handlers that must keep the signed original.
    static ENVELOPE: Arc<Envelope>;
}

/// How long a service takes by the regulation, summed over the back office's step norms:
/// minutes first, then working days in Kazakhstan's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// Minutes of the steps measured in minutes.
    pub minutes: u32,
    /// Working days of the steps measured in working days.
    pub working_days: u32,
}

impl Term {
    /// Returns when an application registered at `from` is due.
    pub fn due(&self, from: OffsetDateTime, calendar: &WorkingCalendar) -> OffsetDateTime {
        // Working days count in Kazakhstan, so the time is moved there first.
        let local = from.checked_to_offset(KAZAKHSTAN_OFFSET).unwrap_or(from);
        let after_minutes = local
            .checked_add(time::Duration::minutes(i64::from(self.minutes)))
            .unwrap_or(local);
        calendar.add_working_days_at(after_minutes, self.working_days)
    }
}

/// What a target system is, for the intake: its ids, its service and its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The system (`systems::LABOR` …).
    pub system: SystemInfo,
    /// The public-service code of FLOWS.md (`B`, `C`, `D`), as the back office's catalogue names it.
    pub service_code: &'static str,
    /// The service id that applies (e.g. `labor.unemployed-certificate.apply`).
    pub apply_service_id: &'static str,
    /// The service id that answers a result by registration number.
    pub result_service_id: &'static str,
    /// The service id the back office delivers the decided result to.
    pub decided_service_id: &'static str,
    /// The registration number's prefix (`LM` gives `LM-2026-000001`).
    pub number_prefix: &'static str,
    /// The regulation's term, for the due date.
    pub term: Term,
    /// Whether the application must name the child it concerns (`child_iin`).
    pub child_required: bool,
}

/// Formats a registration number: `<prefix>-<year>-<sequence, six digits>`.
pub fn registration_number(prefix: &str, year: i32, sequence: u64) -> String {
    format!("{prefix}-{year:04}-{sequence:06}")
}

/// A registered application as the intake keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// Its registration number (unique).
    pub registration_number: String,
    /// The public-service code.
    pub service_code: String,
    /// The channel it came through.
    pub channel: Channel,
    /// The service recipient.
    pub recipient_iin: String,
    /// The representative acting by power of attorney, or empty.
    pub representative_iin: String,
    /// The child it concerns, or empty.
    pub child_iin: String,
    /// The system that sent it (`portal`, `con`).
    pub sender_system_id: String,
    /// The IIN of the person who signed it (the citizen or the operator), or empty.
    pub author_iin: String,
    /// The message id of the signed request.
    pub request_message_id: String,
    /// The application as passed to the back office, encoded.
    pub application: Vec<u8>,
    /// The back office's case id.
    pub case_id: String,
    /// When it was registered.
    pub registered_at: OffsetDateTime,
    /// When its result is due by the regulation.
    pub due_at: OffsetDateTime,
}

impl Registration {
    /// Returns the answer to the applicant.
    pub fn to_registered(&self) -> ApplicationRegistered {
        ApplicationRegistered {
            registration_number: self.registration_number.clone(),
            registered_at: Some(to_timestamp(self.registered_at)),
            due_at: Some(to_timestamp(self.due_at)),
        }
    }
}

/// A decided result as the intake keeps it: the document and the signed envelope it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    /// The registration number it decides.
    pub registration_number: String,
    /// The result kind (certificate, notification, referral, refusal …).
    pub kind: ResultKind,
    /// The item-10 ground of a refusal, or empty.
    pub refusal_ground: String,
    /// The encoded `ServiceResult` exactly as signed.
    pub result: Vec<u8>,
    /// The signed envelope exactly as received: the provider's evidence, verifiable later.
    pub envelope: Vec<u8>,
    /// The subject of the certificate that authored it (the provider's head).
    pub signer_subject: String,
    /// The IIN of that certificate, or empty.
    pub signer_iin: String,
    /// When it was received.
    pub received_at: OffsetDateTime,
}

impl StoredResult {
    /// Decodes the stored document.
    pub fn decode(&self) -> Result<ServiceResult, prost::DecodeError> {
        ServiceResult::decode(self.result.as_slice())
    }
}

/// The SQL a target system keeps its intake in: registration numbers, applications, results.
pub trait IntakeStore: Clone + Send + Sync + 'static {
    /// The store's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Returns the next number of a sequence (`prefix`, `year`), starting at 1.
    fn next_sequence(
        &self,
        prefix: &str,
        year: i32,
    ) -> impl Future<Output = Result<u64, Self::Error>> + Send;

    /// Stores a registered application.
    fn insert_registration(
        &self,
        registration: &Registration,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Returns the application registered under `number`.
    fn registration(
        &self,
        number: &str,
    ) -> impl Future<Output = Result<Option<Registration>, Self::Error>> + Send;

    /// Returns the application a request with this message id from `sender_system_id`
    /// registered, if any: a redelivered request is answered, not registered twice.
    fn registration_by_request(
        &self,
        sender_system_id: &str,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<Registration>, Self::Error>> + Send;

    /// Stores a decided result unless one is stored already; returns whether it was stored.
    fn insert_result(
        &self,
        result: &StoredResult,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Returns the decided result of `number`.
    fn result(
        &self,
        number: &str,
    ) -> impl Future<Output = Result<Option<StoredResult>, Self::Error>> + Send;
}

/// Who sent an application, as its signatures prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// The channel, as checked against the sending system.
    pub channel: Channel,
    /// The sending system.
    pub sender_system_id: String,
    /// The IIN of the person who signed (citizen or operator), if the certificate names one.
    pub author_iin: Option<Iin>,
    /// The subject of the author's certificate, for logs and refusals.
    pub author_subject: String,
}

/// An application whose signer and fields passed the intake's checks, before any look-up.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The application, with its channel and submission time filled in.
    pub application: ServiceApplication,
    /// Who sent it.
    pub applicant: Applicant,
    /// The recipient's IIN.
    pub recipient_iin: Iin,
    /// The representative acting by power of attorney, if any.
    pub representative_iin: Option<Iin>,
    /// The child the application concerns, if any.
    pub child_iin: Option<Iin>,
    /// The request's message id.
    pub message_id: String,
    /// The request's message time: every date rule is judged on it.
    pub message_time: OffsetDateTime,
}

/// An application whose signer, recipient and power of attorney passed the intake's checks.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The application, with its channel and submission time filled in.
    pub application: ServiceApplication,
    /// Who sent it.
    pub applicant: Applicant,
    /// The recipient's IIN.
    pub recipient_iin: Iin,
    /// The recipient as the citizens-DB holds them.
    pub recipient: Person,
    /// The representative acting by power of attorney, if any.
    pub representative_iin: Option<Iin>,
    /// The child the application concerns, if any.
    pub child_iin: Option<Iin>,
    /// The request's message id.
    pub message_id: String,
    /// The request's message time: every date rule is judged on it.
    pub message_time: OffsetDateTime,
}

/// A result the back office delivered, verified but not stored yet: a system that must act
/// on it first (the queue register withdraws a refused child) does so between
/// [`Intake::verify_decision`] and [`Intake::store_decision`], so no reader ever sees a
/// stored result whose effect is missing.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The application it decides.
    pub registration: Registration,
    /// The document.
    pub result: ServiceResult,
    /// The row to store, with the signed envelope as received.
    stored: StoredResult,
}

/// A result the back office delivered, as stored.
#[derive(Debug, Clone)]
pub struct Decided {
    /// The application it decides.
    pub registration: Registration,
    /// The document.
    pub result: ServiceResult,
    /// Whether this delivery stored it (false for a repeated delivery).
    pub first_time: bool,
}

impl Decided {
    /// Returns the acknowledgement a system answers the back office with: `egov.v1.Status`
    /// `SCSS001`, so the back office marks the result delivered.
    pub fn ack(&self) -> egov_proto::v1::Status {
        let message = if self.first_time {
            format!("result of {} stored", self.registration.registration_number)
        } else {
            format!(
                "result of {} was already stored",
                self.registration.registration_number
            )
        };
        StatusCode::Success.to_proto(message)
    }
}

/// The look-ups an intake makes through the gateway in its system's name.
#[derive(Debug, Clone)]
pub struct Lookups {
    caller: GatewayCaller,
}

impl Lookups {
    /// Wraps the system's gateway caller.
    pub fn new(caller: GatewayCaller) -> Lookups {
        Lookups { caller }
    }

    /// Returns the person with `iin` from the citizens-DB; none is a DataNotFound refusal
    /// ("the data cannot be obtained") naming `who`.
    pub async fn person(&self, who: &str, iin: &Iin) -> Result<Person, Fault> {
        let request = GetPersonRequest {
            iin: iin.to_string(),
        };
        match self
            .caller
            .call::<_, GetPersonResponse>(PERSON_GET, systems::CITIZENS.id, &request)
            .await
        {
            Ok(GetPersonResponse {
                person: Some(person),
            }) => Ok(person),
            Ok(GetPersonResponse { person: None }) => Err(not_in_citizens_db(who, iin)),
            Err(error) if error.code() == StatusCode::DataNotFound => {
                Err(not_in_citizens_db(who, iin))
            }
            Err(error) => Err(upstream("citizens-DB", error)),
        }
    }

    /// Returns the family links of `iin` (what each relative is to that person).
    pub async fn family(&self, who: &str, iin: &Iin) -> Result<Vec<FamilyLink>, Fault> {
        let request = GetFamilyRequest {
            iin: iin.to_string(),
        };
        match self
            .caller
            .call::<_, GetFamilyResponse>(FAMILY_GET, systems::CITIZENS.id, &request)
            .await
        {
            Ok(answer) => Ok(answer.links),
            Err(error) if error.code() == StatusCode::DataNotFound => {
                Err(not_in_citizens_db(who, iin))
            }
            Err(error) => Err(upstream("citizens-DB", error)),
        }
    }

    /// Returns whether `adult` is a PARENT or a GUARDIAN (legal representative) of `child` in
    /// the citizens-DB, whose links name what each relative is to the child; a child the
    /// citizens-DB lacks is DataNotFound.
    pub async fn is_parent_or_guardian(&self, child: &Iin, adult: &Iin) -> Result<bool, Fault> {
        let links = self.family("child", child).await?;
        Ok(links.iter().any(|link| {
            matches!(
                Kinship::try_from(link.kinship),
                Ok(Kinship::Parent | Kinship::Guardian)
            ) && link
                .relative
                .as_ref()
                .is_some_and(|relative| relative.iin == adult.as_str())
        }))
    }

    /// Returns the notary registry's answer for a power of attorney, judged for `service_code`.
    pub async fn power_of_attorney(
        &self,
        number: &str,
        service_code: &str,
    ) -> Result<PowerOfAttorneyResponse, Fault> {
        let request = GetPowerOfAttorneyRequest {
            number: number.to_owned(),
            service_id: service_code.to_owned(),
        };
        self.caller
            .call(POWER_OF_ATTORNEY_GET, systems::NOTARY.id, &request)
            .await
            .map_err(|error| upstream("notary registry", error))
    }

    /// Opens a back-office case; its result comes back to `reply_to`.
    pub async fn open_case(
        &self,
        application: ServiceApplication,
        registration_number: &str,
        reply_to: &str,
    ) -> Result<Case, Fault> {
        let request = OpenCaseRequest {
            application: Some(application),
            registration_number: registration_number.to_owned(),
            reply_to_system_id: reply_to.to_owned(),
        };
        self.caller
            .call(OPEN_CASE, systems::BACKOFFICE.id, &request)
            .await
            .map_err(|error| upstream("back office", error))
    }
}

/// The refusal of FLOWS.md's State Corporation process 4 for a person the citizens-DB lacks.
fn not_in_citizens_db(who: &str, iin: &Iin) -> Fault {
    Fault::not_found(format!(
        "the data cannot be obtained: {who} {iin} is not in the citizens-DB"
    ))
}

/// Keeps another system's code and names the system in the message.
fn upstream(system: &str, error: CallError) -> Fault {
    let code = error.code();
    let message = match error {
        CallError::Fault(fault) => fault.message,
        CallError::Refused { message, .. } => message,
        other => other.to_string(),
    };
    Fault::new(code, format!("{system}: {message}"))
}

/// Logs a store failure and returns the generic refusal a caller may see.
fn internal(system: &str, action: &str, error: &dyn std::error::Error) -> Fault {
    tracing::error!(system, action, error = %error, source = ?error.source(), "intake store failed");
    Fault::new(
        StatusCode::Internal,
        format!("internal error of {system}: could not {action}"),
    )
}

/// Parses an IIN field of the application, naming the field when it is malformed.
pub fn parse_iin(field: &str, value: &str) -> Result<Iin, Fault> {
    if value.is_empty() {
        return Err(Fault::invalid(format!("{field}: must not be empty")));
    }
    Iin::parse(value).map_err(|error| Fault::invalid(format!("{field}: {error}")))
}

/// Returns the full years between `birth` and `on`: the age the regulations count.
pub fn age_on(birth: time::Date, on: time::Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// Returns the date of `at` in Kazakhstan.
pub fn local_date(at: OffsetDateTime) -> time::Date {
    at.checked_to_offset(KAZAKHSTAN_OFFSET).unwrap_or(at).date()
}

/// Returns whether a certificate is a State Corporation operator's: an employee's with the
/// State Corporation's BIN.
fn is_state_corporation_operator(certificate: &CertificateInfo) -> bool {
    let con = Bin::parse(systems::STATE_CORPORATION.bin).ok();
    certificate.has_role(Role::Employee) && con.is_some() && certificate.bin == con
}

/// The application intake of one target system.
#[derive(Debug)]
pub struct Intake<St> {
    profile: Profile,
    store: St,
    lookups: Lookups,
    clock: Arc<dyn Clock>,
    calendar: &'static WorkingCalendar,
}

impl<St: IntakeStore> Intake<St> {
    /// Creates the intake of a system over its store, calling other systems through `caller`.
    pub fn new(
        profile: Profile,
        store: St,
        caller: GatewayCaller,
        clock: Arc<dyn Clock>,
    ) -> Intake<St> {
        Intake {
            profile,
            store,
            lookups: Lookups::new(caller),
            clock,
            calendar: WorkingCalendar::kazakhstan(),
        }
    }

    /// Returns the system's profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Returns the store.
    pub fn store(&self) -> &St {
        &self.store
    }

    /// Returns the look-ups through the gateway.
    pub fn lookups(&self) -> &Lookups {
        &self.lookups
    }

    /// Returns the clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Checks who signed an application: on the portal the citizen (the recipient, or the
    /// representative acting for them) whose IIN the header carries, at the State Corporation
    /// an operator (an employee's certificate with its BIN). A channel the sender contradicts
    /// is refused; an unspecified one is taken from the sender.
    pub fn check_applicant(
        &self,
        request: &Request,
        application: &mut ServiceApplication,
    ) -> Result<Applicant, Fault> {
        let header = request.header();
        let author = &request.verified.signer;
        let sender = header.sender_system_id.as_str();
        let channel = match sender {
            id if id == systems::PORTAL.id => Channel::Portal,
            id if id == systems::STATE_CORPORATION.id => Channel::StateCorporation,
            other => {
                return Err(Fault::new(
                    StatusCode::AccessDenied,
                    format!(
                        "{} takes applications from the portal and the State Corporation, not from {other:?}",
                        self.profile.system.id
                    ),
                ));
            }
        };
        match Channel::try_from(application.channel) {
            Ok(Channel::Unspecified) => application.channel = channel as i32,
            Ok(asked) if asked == channel => {}
            _ => {
                return Err(Fault::invalid(format!(
                    "application.channel: {} does not match the sending system {sender}",
                    Channel::try_from(application.channel).map_or_else(
                        |_| application.channel.to_string(),
                        |c| c.as_str_name().to_owned()
                    )
                )));
            }
        }
        if channel == Channel::Portal {
            // The gateway already matched user_iin to the author's certificate; checked again
            // here because this system, not the gateway, answers for whom it serves.
            let user_iin = header.user_iin.as_str();
            if user_iin.is_empty() || author.iin.as_ref().map(Iin::as_str) != Some(user_iin) {
                return Err(Fault::new(
                    StatusCode::IinMismatch,
                    format!(
                        "a portal application must be signed by the citizen named in header user_iin {user_iin:?}; it is signed by {}",
                        author.subject
                    ),
                ));
            }
            if !author.has_role(Role::Individual) {
                return Err(Fault::new(
                    StatusCode::CertificateNotAuthorized,
                    format!(
                        "a portal application must carry an individual's signature; {} is not one",
                        author.subject
                    ),
                ));
            }
            let acting = if application.representative_iin.is_empty() {
                &application.recipient_iin
            } else {
                &application.representative_iin
            };
            if acting != user_iin {
                let whom = if application.representative_iin.is_empty() {
                    "the recipient"
                } else {
                    "the representative"
                };
                return Err(Fault::new(
                    StatusCode::IinMismatch,
                    format!(
                        "IIN {user_iin} in the signature is not {whom} {acting:?} of the application"
                    ),
                ));
            }
        } else if !is_state_corporation_operator(author) {
            return Err(Fault::new(
                StatusCode::CertificateNotAuthorized,
                format!(
                    "a State Corporation application must be signed by its operator (an employee's certificate with BIN {}); {} is not one",
                    systems::STATE_CORPORATION.bin,
                    author.subject
                ),
            ));
        }
        Ok(Applicant {
            channel,
            sender_system_id: sender.to_owned(),
            author_iin: author.iin,
            author_subject: author.subject.clone(),
        })
    }

    /// Returns the application this very request registered before, if any: the async
    /// channel delivers at least once, and a system restarted between registering and
    /// acknowledging gets the request again; it must answer it, not register it twice.
    pub async fn registered_before(
        &self,
        request: &Request,
    ) -> Result<Option<Registration>, Fault> {
        let header = request.header();
        self.store
            .registration_by_request(&header.sender_system_id, &header.message_id)
            .await
            .map_err(|error| internal(self.profile.system.id, "read the application", &error))
    }

    /// Admits an application: [`Intake::check`], then [`Intake::confirm`].
    pub async fn admit(
        &self,
        request: &Request,
        application: Option<ServiceApplication>,
    ) -> Result<Admitted, Fault> {
        let checked = self.check(request, application)?;
        self.confirm(checked).await
    }

    /// Checks an application without asking anyone: the signer ([`Intake::check_applicant`]),
    /// the service code, and the recipient's, representative's and child's IINs.
    pub fn check(
        &self,
        request: &Request,
        application: Option<ServiceApplication>,
    ) -> Result<Checked, Fault> {
        let mut application =
            application.ok_or_else(|| Fault::invalid("application: is missing"))?;
        let applicant = self.check_applicant(request, &mut application)?;
        let profile = &self.profile;
        if application.service_code != profile.service_code {
            return Err(Fault::invalid(format!(
                "application.service_code: {:?} is not service {} of {}",
                application.service_code, profile.service_code, profile.system.id
            )));
        }
        let recipient_iin = parse_iin("application.recipient_iin", &application.recipient_iin)?;
        let representative_iin = match application.representative_iin.as_str() {
            "" => None,
            value => Some(parse_iin("application.representative_iin", value)?),
        };
        let not_notarised = application
            .fields
            .get(FIELD_POWER_OF_ATTORNEY_FORM)
            .is_some_and(|form| form == POWER_OF_ATTORNEY_NOT_NOTARISED);
        if not_notarised && applicant.channel != Channel::StateCorporation {
            return Err(Fault::invalid(format!(
                "application.fields.{FIELD_POWER_OF_ATTORNEY_FORM}: a power of attorney not certified by a notary is accepted at the State Corporation only"
            )));
        }
        match (
            &representative_iin,
            application.power_of_attorney_number.trim(),
        ) {
            (Some(_), "") if not_notarised => {}
            (Some(_), number) if not_notarised => {
                return Err(Fault::invalid(format!(
                    "application.power_of_attorney_number: {number} is given for a power of attorney not certified by a notary, whose data are not entered"
                )));
            }
            (None, _) if not_notarised => {
                return Err(Fault::invalid(
                    "application.representative_iin: must be given with a power of attorney",
                ));
            }
            (Some(_), "") => {
                return Err(Fault::invalid(
                    "application.power_of_attorney_number: must be given when a representative acts",
                ));
            }
            (None, number) if !number.is_empty() => {
                return Err(Fault::invalid(format!(
                    "application.representative_iin: must be given with power of attorney {number}"
                )));
            }
            _ => {}
        }
        if representative_iin == Some(recipient_iin) {
            return Err(Fault::invalid(format!(
                "application.representative_iin: {recipient_iin} is the recipient"
            )));
        }
        let child_iin = match application.child_iin.as_str() {
            "" if profile.child_required => {
                return Err(Fault::invalid("application.child_iin: must not be empty"));
            }
            "" => None,
            value => Some(parse_iin("application.child_iin", value)?),
        };
        let message_time = request.verified.message_time;
        if application.submitted_at.is_none() {
            application.submitted_at = Some(to_timestamp(message_time));
        }
        Ok(Checked {
            application,
            applicant,
            recipient_iin,
            representative_iin,
            child_iin,
            message_id: request.header().message_id.clone(),
            message_time,
        })
    }

    /// Confirms a checked application with the systems of record: the citizens-DB must hold the
    /// recipient (alive), and, when a representative acts, the notary registry the power of
    /// attorney (FLOWS.md, State Corporation process 3 and condition 1). Nothing is stored; a
    /// [`GroundRefusal`] is a refusal naming why (ServiceRefused).
    pub async fn confirm(&self, checked: Checked) -> Result<Admitted, Fault> {
        match self.confirm_on_grounds(checked).await? {
            (admitted, None) => Ok(admitted),
            (_, Some(refusal)) => Err(refusal.into()),
        }
    }

    /// Confirms a checked application like [`Intake::confirm`], but returns a refusal on a
    /// ground (a deceased recipient, a power of attorney not in force or between other persons)
    /// beside the admitted application, for a system whose provider answers such refusals with
    /// a reasoned document rather than at once (the queue register, service D). What cannot
    /// be obtained stays a [`Fault`] (DataNotFound). The first ground found ends the look-ups.
    pub async fn confirm_on_grounds(
        &self,
        checked: Checked,
    ) -> Result<(Admitted, Option<GroundRefusal>), Fault> {
        let Checked {
            application,
            applicant,
            recipient_iin,
            representative_iin,
            child_iin,
            message_id,
            message_time,
        } = checked;
        let recipient = self.lookups.person("recipient", &recipient_iin).await?;
        let mut refusal = (recipient.life_status == LifeStatus::Deceased as i32).then_some(
            GroundRefusal::RecipientDeceased {
                recipient: recipient_iin,
            },
        );
        // Without a number the power of attorney is not notarised ([`Intake::check`] allowed
        // it at the State Corporation only): the notary registry has nothing to look up.
        let number = application.power_of_attorney_number.trim();
        if refusal.is_none()
            && let Some(representative) = representative_iin
            && !number.is_empty()
        {
            refusal = power_of_attorney_refusal(
                &self.lookups,
                number,
                self.profile.service_code,
                &recipient_iin,
                &representative,
            )
            .await?;
        }
        let admitted = Admitted {
            application,
            applicant,
            recipient_iin,
            recipient,
            representative_iin,
            child_iin,
            message_id,
            message_time,
        };
        Ok((admitted, refusal))
    }

    /// Allocates the next registration number in the year (in Kazakhstan) of `at`.
    pub async fn allocate_number(&self, prefix: &str, at: OffsetDateTime) -> Result<String, Fault> {
        let year = local_date(at).year();
        let sequence = self
            .store
            .next_sequence(prefix, year)
            .await
            .map_err(|error| internal(self.profile.system.id, "number the application", &error))?;
        Ok(registration_number(prefix, year, sequence))
    }

    /// Registers an admitted application under a new number, opens its back-office case with
    /// `for_back_office` (the application as the provider should see it) and returns the
    /// registration (FLOWS.md, State Corporation process 6, "registers the electronic document").
    pub async fn register(
        &self,
        admitted: &Admitted,
        for_back_office: ServiceApplication,
    ) -> Result<ApplicationRegistered, Fault> {
        let number = self
            .allocate_number(self.profile.number_prefix, self.clock.now())
            .await?;
        self.register_as(admitted, &number, for_back_office)
            .await
            .map(|registration| registration.to_registered())
    }

    /// Registers an admitted application under `number` (already allocated): opens the
    /// back-office case first, so an application the back office refuses to open is not
    /// stored, then stores it. A result that races ahead of the insert is refused as unknown,
    /// and the back office delivers it again.
    pub async fn register_as(
        &self,
        admitted: &Admitted,
        number: &str,
        for_back_office: ServiceApplication,
    ) -> Result<Registration, Fault> {
        let system = self.profile.system.id;
        let encoded = for_back_office.encode_to_vec();
        let case = self
            .lookups
            .open_case(for_back_office, number, system)
            .await?;
        let registered_at = self.clock.now();
        let registration = Registration {
            registration_number: number.to_owned(),
            service_code: self.profile.service_code.to_owned(),
            channel: admitted.applicant.channel,
            recipient_iin: admitted.recipient_iin.to_string(),
            representative_iin: admitted
                .representative_iin
                .map(|iin| iin.to_string())
                .unwrap_or_default(),
            child_iin: admitted
                .child_iin
                .map(|iin| iin.to_string())
                .unwrap_or_default(),
            sender_system_id: admitted.applicant.sender_system_id.clone(),
            author_iin: admitted
                .applicant
                .author_iin
                .map(|iin| iin.to_string())
                .unwrap_or_default(),
            request_message_id: admitted.message_id.clone(),
            application: encoded,
            case_id: case.id,
            registered_at,
            due_at: self.profile.term.due(registered_at, self.calendar),
        };
        self.store
            .insert_registration(&registration)
            .await
            .map_err(|error| internal(system, "register the application", &error))?;
        metrics::counter!(
            "intake_registrations_total",
            "system" => system,
            "channel" => registration.channel.as_str_name()
        )
        .increment(1);
        tracing::info!(
            system,
            registration = %registration.registration_number,
            case = %registration.case_id,
            recipient = %registration.recipient_iin,
            "application registered"
        );
        Ok(registration)
    }

    /// Stores a result the back office delivered ([`Intake::verify_decision`], then
    /// [`Intake::store_decision`]).
    pub async fn decided(&self, request: &Request) -> Result<Decided, Fault> {
        let decision = self.verify_decision(request).await?;
        self.store_decision(decision).await
    }

    /// Checks a result the back office delivered: it must come from the back office, be
    /// authored by a certificate with the HEAD role whose BIN is the organisation's that
    /// decides the service (the provider's authorised person, [`check_result_author`]) and
    /// decide an application registered here. Nothing is stored yet.
    pub async fn verify_decision(&self, request: &Request) -> Result<Decision, Fault> {
        let system = self.profile.system.id;
        let header = request.header();
        if header.sender_system_id != systems::BACKOFFICE.id {
            return Err(Fault::new(
                StatusCode::AccessDenied,
                format!(
                    "results come from the back office, not from {:?}",
                    header.sender_system_id
                ),
            ));
        }
        let back_office = Bin::parse(systems::BACKOFFICE.bin).map_err(|error| {
            Fault::new(StatusCode::Internal, format!("back office BIN: {error}"))
        })?;
        if !request.verified.signed_by_bin(&back_office) {
            return Err(Fault::new(
                StatusCode::IinMismatch,
                format!("no signature of the result carries the back office's BIN {back_office}"),
            ));
        }
        // The service is this intake's, not what the document claims: a head cannot pass
        // as another service's by naming it.
        let author = &request.verified.signer;
        check_result_author(self.profile.service_code, author)?;
        let result: ServiceResult = request.decode()?;
        let number = result.registration_number.trim();
        if number.is_empty() {
            return Err(Fault::invalid("registration_number: must not be empty"));
        }
        let kind = ResultKind::try_from(result.kind).unwrap_or(ResultKind::Unspecified);
        if kind == ResultKind::Unspecified {
            return Err(Fault::invalid(format!(
                "kind: {} is not a result kind",
                result.kind
            )));
        }
        let registration = self
            .store
            .registration(number)
            .await
            .map_err(|error| internal(system, "read the application", &error))?
            .ok_or_else(|| {
                Fault::not_found(format!("no application {number} is registered in {system}"))
            })?;
        let envelope = current_envelope().ok_or_else(|| {
            Fault::new(
                StatusCode::Internal,
                format!("{system} did not keep the signed envelope of the result of {number}"),
            )
        })?;
        let stored = StoredResult {
            registration_number: registration.registration_number.clone(),
            kind,
            refusal_ground: result.refusal_ground.clone(),
            result: request.payload.clone(),
            envelope: envelope.encode_to_vec(),
            signer_subject: author.subject.clone(),
            signer_iin: author.iin.map(|iin| iin.to_string()).unwrap_or_default(),
            received_at: self.clock.now(),
        };
        Ok(Decision {
            registration,
            result,
            stored,
        })
    }

    /// Stores a verified result, keeping its signed envelope as received; a repeated
    /// delivery keeps the first.
    pub async fn store_decision(&self, decision: Decision) -> Result<Decided, Fault> {
        let system = self.profile.system.id;
        let Decision {
            registration,
            result,
            stored,
        } = decision;
        let kind = stored.kind;
        let author_subject = stored.signer_subject.clone();
        let first_time = self
            .store
            .insert_result(&stored)
            .await
            .map_err(|error| internal(system, "store the result", &error))?;
        if first_time {
            metrics::counter!(
                "intake_results_total",
                "system" => system,
                "kind" => kind.as_str_name()
            )
            .increment(1);
            tracing::info!(
                system,
                registration = %registration.registration_number,
                kind = kind.as_str_name(),
                signer = %author_subject,
                "result stored"
            );
        }
        Ok(Decided {
            registration,
            result,
            first_time,
        })
    }

    /// Answers a result query: the decided document, or DataNotFound while undecided, for an
    /// unknown number, or when the asking citizen is neither its recipient nor their
    /// representative (not telling them the number exists).
    pub async fn result(&self, request: &Request) -> Result<ServiceResult, Fault> {
        let system = self.profile.system.id;
        let asked: GetApplicationResultRequest = request.decode()?;
        let number = asked.registration_number.trim();
        if number.is_empty() {
            return Err(Fault::invalid("registration_number: must not be empty"));
        }
        if number.chars().count() > MAX_NUMBER_LEN {
            return Err(Fault::invalid(format!(
                "registration_number: is longer than {MAX_NUMBER_LEN} characters"
            )));
        }
        let unknown = || Fault::not_found(format!("no application {number} in {system}"));
        let registration = self
            .store
            .registration(number)
            .await
            .map_err(|error| internal(system, "read the application", &error))?
            .ok_or_else(unknown)?;
        if !may_read(
            request,
            &registration.recipient_iin,
            &registration.representative_iin,
        ) {
            return Err(unknown());
        }
        let stored = self
            .store
            .result(number)
            .await
            .map_err(|error| internal(system, "read the result", &error))?
            .ok_or_else(|| {
                Fault::not_found(format!(
                    "application {number} is not decided yet; it is due {}",
                    registration
                        .due_at
                        .checked_to_offset(KAZAKHSTAN_OFFSET)
                        .unwrap_or(registration.due_at)
                ))
            })?;
        let mut result: ServiceResult = stored
            .decode()
            .map_err(|error| internal(system, "read the result", &error))?;
        if asked.with_evidence {
            result.evidence = stored.envelope;
        }
        Ok(result)
    }
}

/// Returns whether the request may read an application of `recipient` (acted for by
/// `representative`): a portal citizen who is one of them, or a State Corporation operator.
pub fn may_read(request: &Request, recipient: &str, representative: &str) -> bool {
    let header = request.header();
    if header.sender_system_id == systems::PORTAL.id {
        let user = header.user_iin.as_str();
        !user.is_empty()
            && (user == recipient || (!representative.is_empty() && user == representative))
    } else if header.sender_system_id == systems::STATE_CORPORATION.id {
        is_state_corporation_operator(&request.verified.signer)
    } else {
        false
    }
}

/// Returns the signed envelope being handled, when the system serves through a
/// [`KeepingReceiver`]; handlers see only the payload otherwise.
pub fn current_envelope() -> Option<Arc<Envelope>> {
    ENVELOPE.try_with(Arc::clone).ok()
}

/// A system's service-specific grounds for the plain apply–decide–result shape (B, C).
pub trait Grounds: Send + Sync + 'static {
    /// The system's store.
    type Store: IntakeStore;
    /// The apply request's payload type.
    type Apply: Message + prost::Name + Default;

    /// Takes the application out of the apply request.
    fn application(apply: Self::Apply) -> Option<ServiceApplication>;

    /// Checks the service's own grounds for an admitted application and returns the
    /// application as the back office should get it; a ground that fails is a [`Fault`].
    fn check(
        &self,
        admitted: &Admitted,
        lookups: &Lookups,
    ) -> impl Future<Output = Result<ServiceApplication, Fault>> + Send;
}

/// Answers a system's apply, result and decided service ids through the [`Intake`].
pub struct ApplicationHandler<G: Grounds> {
    intake: Arc<Intake<G::Store>>,
    grounds: G,
}

impl<G: Grounds> std::fmt::Debug for ApplicationHandler<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationHandler")
            .field("profile", &self.intake.profile)
            .finish_non_exhaustive()
    }
}

impl<G: Grounds> ApplicationHandler<G> {
    /// Creates the handler.
    pub fn new(intake: Arc<Intake<G::Store>>, grounds: G) -> ApplicationHandler<G> {
        ApplicationHandler { intake, grounds }
    }

    /// Returns the intake.
    pub fn intake(&self) -> &Arc<Intake<G::Store>> {
        &self.intake
    }

    /// Admits, checks the grounds and registers one application.
    async fn apply(&self, request: &Request) -> Result<ApplicationRegistered, Fault> {
        let apply: G::Apply = request.decode()?;
        if let Some(registration) = self.intake.registered_before(request).await? {
            return Ok(registration.to_registered());
        }
        let admitted = self.intake.admit(request, G::application(apply)).await?;
        let for_back_office = self.grounds.check(&admitted, self.intake.lookups()).await?;
        self.intake.register(&admitted, for_back_office).await
    }
}

impl<G: Grounds> Handler for ApplicationHandler<G> {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        let profile = self.intake.profile();
        let service_id = request.header().service_id.as_str();
        if service_id == profile.apply_service_id {
            Ok(Reply::message(&self.apply(&request).await?))
        } else if service_id == profile.result_service_id {
            Ok(Reply::message(&self.intake.result(&request).await?))
        } else if service_id == profile.decided_service_id {
            Ok(Reply::message(&self.intake.decided(&request).await?.ack()))
        } else {
            Err(Fault::new(
                StatusCode::UnknownService,
                format!(
                    "service {service_id:?} is not one of {}'s [{}, {}, {}]",
                    profile.system.id,
                    profile.apply_service_id,
                    profile.result_service_id,
                    profile.decided_service_id
                ),
            ))
        }
    }
}

/// A [`Receiver`] that keeps the signed envelope of the service ids in `keep` at hand while
/// its handler runs ([`current_envelope`]): the receiver hands handlers only the payload, and
/// a decided result must be kept exactly as signed.
pub struct KeepingReceiver<H, R> {
    inner: Receiver<H, R>,
    keep: Vec<String>,
}

impl<H, R> Clone for KeepingReceiver<H, R> {
    fn clone(&self) -> Self {
        KeepingReceiver {
            inner: self.inner.clone(),
            keep: self.keep.clone(),
        }
    }
}

impl<H: Handler, R: RevocationSource + 'static> KeepingReceiver<H, R> {
    /// Wraps a receiver, keeping the envelopes of the service ids in `keep`.
    pub fn new(inner: Receiver<H, R>, keep: Vec<String>) -> KeepingReceiver<H, R> {
        KeepingReceiver { inner, keep }
    }

    /// Returns the tonic server to add to the system's gRPC routes.
    pub fn into_server(self) -> MessageReceiverServer<Self> {
        MessageReceiverServer::new(self)
    }

    /// Handles one envelope as [`Receiver::handle_envelope`] does, keeping it when asked.
    pub async fn handle_envelope(&self, envelope: Envelope) -> Result<Envelope, Fault> {
        // Only the few kept ids pay for the copy; an application may carry megabytes of scans.
        let kept = Header::decode(&envelope.header[..])
            .is_ok_and(|header| self.keep.contains(&header.service_id));
        if kept {
            let original = Arc::new(envelope.clone());
            ENVELOPE
                .scope(original, self.inner.handle_envelope(envelope))
                .await
        } else {
            self.inner.handle_envelope(envelope).await
        }
    }
}

impl<H: Handler, R: RevocationSource + 'static> EnvelopeReceiver for KeepingReceiver<H, R> {
    async fn handle_envelope(&self, envelope: Envelope) -> Result<Envelope, Fault> {
        KeepingReceiver::handle_envelope(self, envelope).await
    }
}

#[tonic::async_trait]
impl<H: Handler, R: RevocationSource + 'static> MessageReceiver for KeepingReceiver<H, R> {
    async fn receive(
        &self,
        request: tonic::Request<Envelope>,
    ) -> Result<tonic::Response<Envelope>, tonic::Status> {
        self.handle_envelope(request.into_inner())
            .await
            .map(tonic::Response::new)
            .map_err(|fault| fault.code.to_grpc(&fault.message))
    }
}

/// A refusal on a ground the intake finds while confirming an application with the systems
/// of record: the provider's to answer (a reasoned refusal for service D), unlike what cannot
/// be obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroundRefusal {
    /// The citizens-DB records the recipient deceased.
    #[error("recipient {recipient} is recorded deceased in the citizens-DB")]
    RecipientDeceased {
        /// The recipient.
        recipient: Iin,
    },
    /// The notary registry holds the power of attorney, but not in force for the service.
    #[error("power of attorney {number} is not in force for service {service_code}: {why}")]
    PowerOfAttorneyNotInForce {
        /// Its number.
        number: String,
        /// The service asked.
        service_code: String,
        /// Why: expired, revoked by its principal, or not covering the service.
        why: &'static str,
    },
    /// The power of attorney is from or to other persons than the application names.
    #[error(
        "power of attorney {number} is from {principal} to {holder}, not from recipient {recipient} to representative {representative}"
    )]
    PowerOfAttorneyBetweenOtherPersons {
        /// Its number.
        number: String,
        /// Its principal, as registered.
        principal: String,
        /// Its representative, as registered.
        holder: String,
        /// The application's recipient.
        recipient: Iin,
        /// The application's representative.
        representative: Iin,
    },
}

impl GroundRefusal {
    /// Returns the refusal ground's code, as the back office's catalogue names it.
    pub fn ground(&self) -> &'static str {
        match self {
            GroundRefusal::RecipientDeceased { .. } => "recipient_deceased",
            GroundRefusal::PowerOfAttorneyNotInForce { .. } => "power_of_attorney_not_in_force",
            GroundRefusal::PowerOfAttorneyBetweenOtherPersons { .. } => {
                "power_of_attorney_between_other_persons"
            }
        }
    }
}

impl From<GroundRefusal> for Fault {
    fn from(refusal: GroundRefusal) -> Fault {
        Fault::new(StatusCode::ServiceRefused, refusal.to_string())
    }
}

/// Checks a power of attorney in the notary registry for `service_code`, as the State
/// Corporation's desk and the providers' intakes both do: not registered is "the data cannot
/// be obtained" (DataNotFound); registered but not in force for this service, or between
/// other persons, is a refusal naming why (ServiceRefused).
pub async fn check_power_of_attorney(
    lookups: &Lookups,
    number: &str,
    service_code: &str,
    recipient: &Iin,
    representative: &Iin,
) -> Result<(), Fault> {
    match power_of_attorney_refusal(lookups, number, service_code, recipient, representative)
        .await?
    {
        Some(refusal) => Err(refusal.into()),
        None => Ok(()),
    }
}

/// Looks a power of attorney up in the notary registry for `service_code`: not registered is
/// "the data cannot be obtained" (a DataNotFound fault); registered but not in force for this
/// service, or between other persons, is the [`GroundRefusal`] returned.
pub async fn power_of_attorney_refusal(
    lookups: &Lookups,
    number: &str,
    service_code: &str,
    recipient: &Iin,
    representative: &Iin,
) -> Result<Option<GroundRefusal>, Fault> {
    let answer = lookups.power_of_attorney(number, service_code).await?;
    let why = match answer.validity() {
        PowerOfAttorneyValidity::Valid => None,
        PowerOfAttorneyValidity::NotFound | PowerOfAttorneyValidity::Unspecified => {
            return Err(Fault::not_found(format!(
                "the data cannot be obtained: power of attorney {number} is not in the notary registry"
            )));
        }
        PowerOfAttorneyValidity::Expired => Some("expired"),
        PowerOfAttorneyValidity::Revoked => Some("revoked by its principal"),
        _ => Some("it does not cover this service"),
    };
    if let Some(why) = why {
        return Ok(Some(GroundRefusal::PowerOfAttorneyNotInForce {
            number: number.to_owned(),
            service_code: service_code.to_owned(),
            why,
        }));
    }
    let power = answer.power_of_attorney.unwrap_or_default();
    if power.principal_iin != recipient.as_str()
        || power.representative_iin != representative.as_str()
    {
        return Ok(Some(GroundRefusal::PowerOfAttorneyBetweenOtherPersons {
            number: number.to_owned(),
            principal: power.principal_iin,
            holder: power.representative_iin,
            recipient: *recipient,
            representative: *representative,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn registration_numbers_carry_prefix_year_and_six_digits() {
        assert_eq!(registration_number("LM", 2026, 1), "LM-2026-000001");
        assert_eq!(registration_number("ES", 2027, 123_456), "ES-2027-123456");
    }

    #[test]
    fn age_counts_full_years_on_the_birthday() {
        let birth = date!(2019 - 09 - 05);
        assert_eq!(age_on(birth, date!(2026 - 09 - 04)), 6);
        assert_eq!(age_on(birth, date!(2026 - 09 - 05)), 7);
        assert_eq!(age_on(birth, date!(2019 - 09 - 05)), 0);
    }

    #[test]
    fn a_term_adds_minutes_then_working_days_in_kazakhstan() {
        let calendar = WorkingCalendar::rule_only();
        // Friday 2025-04-11 10:00 in Astana (05:00 UTC).
        let friday = datetime!(2025-04-11 05:00 UTC);
        let minutes = Term {
            minutes: 10,
            working_days: 0,
        };
        assert_eq!(
            minutes.due(friday, &calendar),
            datetime!(2025-04-11 10:10 +5)
        );
        let days = Term {
            minutes: 15,
            working_days: 1,
        };
        // The next working day after Friday is Monday.
        assert_eq!(days.due(friday, &calendar), datetime!(2025-04-14 10:15 +5));
    }

    #[test]
    fn the_local_date_is_kazakhstans() {
        assert_eq!(
            local_date(datetime!(2026-12-31 20:00 UTC)),
            date!(2027 - 01 - 01)
        );
    }
}
