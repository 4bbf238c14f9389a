//! Who does a service's steps: people through the worklist ([`Policy::Manual`]) or the
//! automatic policy ([`Policy::Auto`]), which completes each step when its norm runs out and
//! decides at the deciding step from the Standard's item-9 documents alone ([`decide`]).

use std::collections::BTreeMap;

use egov_proto::v1::{AttachedDocument, ServiceApplication};
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::catalogue::{AutoCheck, Catalogue, Names, RefusalKind, Service};

/// How a service's steps are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Each step completes when the clock reaches its due time; the deciding step approves
    /// when every required item-9 document is attached and valid, and refuses otherwise.
    #[default]
    Auto,
    /// Each step waits for a person's `TakeAction`.
    Manual,
}

impl Policy {
    /// Returns the policy's name as config and store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Auto => "auto",
            Policy::Manual => "manual",
        }
    }

    /// Reads a stored policy name.
    pub fn parse(name: &str) -> Option<Policy> {
        match name {
            "auto" => Some(Policy::Auto),
            "manual" => Some(Policy::Manual),
            _ => None,
        }
    }
}

/// The policy of every service: the configured ones, [`Policy::Auto`] for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    /// By upper-cased service code (env vars arrive lower-cased).
    by_code: BTreeMap<String, Policy>,
}

impl Policies {
    /// Builds the policies from the config's `policies` table.
    pub fn new(by_code: &BTreeMap<String, Policy>) -> Policies {
        Policies {
            by_code: by_code
                .iter()
                .map(|(code, policy)| (code.to_ascii_uppercase(), *policy))
                .collect(),
        }
    }

    /// Returns the policy of a service.
    pub fn of(&self, service_code: &str) -> Policy {
        self.by_code
            .get(&service_code.to_ascii_uppercase())
            .copied()
            .unwrap_or_default()
    }

    /// Refuses a policy for a service the catalogue does not hold (a typo would otherwise
    /// leave the intended service automatic), naming the key.
    pub fn check(&self, catalogue: &Catalogue) -> Result<(), String> {
        match self
            .by_code
            .keys()
            .find(|code| catalogue.service(code).is_none())
        {
            Some(code) => Err(format!(
                "`policies.{code}`: no service {code} in the catalogue, which holds {:?}",
                catalogue.codes()
            )),
            None => Ok(()),
        }
    }
}

/// What the deciding step concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The service is given.
    Approve,
    /// The service is refused on an item-10 ground.
    Refuse {
        /// The ground's code.
        ground: String,
        /// Why, naming the documents (e.g. "missing required item-9 documents: application").
        reason: String,
    },
}

/// Decides an application by its documents on `on` (the clock's date in Kazakhstan): every
/// document the service requires on the application's channel must be attached, and, when it
/// carries `valid_until`, be valid on that date.
pub fn decide(service: &Service, application: &ServiceApplication, on: Date) -> Decision {
    if let Some(decision) = drawn_up(service, application) {
        return decision;
    }
    let channel = application.channel();
    let required: Vec<_> = service
        .documents
        .iter()
        .filter(|doc| doc.required_on(channel))
        .collect();
    let copies = |code: &str| -> Vec<&AttachedDocument> {
        application
            .documents
            .iter()
            .filter(|attached| attached.kind == code)
            .collect()
    };

    let missing: Vec<&str> = required
        .iter()
        .filter(|doc| copies(&doc.code).is_empty())
        .map(|doc| doc.code.as_str())
        .collect();
    if !missing.is_empty() {
        return refuse(
            service,
            AutoCheck::Missing,
            format!("missing required item-9 documents: {}", missing.join(", ")),
        );
    }

    let expired: Vec<String> = required
        .iter()
        .filter_map(|doc| {
            let copies = copies(&doc.code);
            // One valid copy is enough; otherwise the first copy's problem is named.
            let problems: Vec<String> = copies
                .iter()
                .filter_map(|copy| validity_problem(copy, on))
                .collect();
            (problems.len() == copies.len())
                .then(|| format!("{} ({})", doc.code, problems.join("; ")))
        })
        .collect();
    if !expired.is_empty() {
        return refuse(
            service,
            AutoCheck::Expired,
            format!(
                "required item-9 documents past their validity on {on}: {}",
                expired.join(", ")
            ),
        );
    }
    Decision::Approve
}

/// Checks an application at the step that receives it, by its documents on `on`: a refusal
/// to accept when [`decide`] refuses on a `refusal_to_accept` ground, none when the
/// application is accepted and goes on to the later steps.
pub fn reception(
    service: &Service,
    application: &ServiceApplication,
    on: Date,
) -> Option<Decision> {
    match decide(service, application, on) {
        Decision::Refuse { ground, reason }
            if service
                .ground(&ground)
                .is_some_and(|ground| ground.kind == RefusalKind::RefusalToAccept) =>
        {
            Some(Decision::Refuse { ground, reason })
        }
        _ => None,
    }
}

/// Returns the refusal the system that draws the result up decided, which the deciding step
/// sends as it stands (seed `002_…` item 3, service D: «нәтижесі көрсетілетін қызметті
/// берушінің кезектілікті басқарудың арнайы ақпараттық жүйесі арқылы рәсімделеді», the result
/// is drawn up through the provider's queue management IS); none when the provider decides.
pub fn drawn_up(service: &Service, application: &ServiceApplication) -> Option<Decision> {
    service
        .drawn_up_refusal(application)
        .map(|(ground, reason)| Decision::Refuse { ground, reason })
}

/// One Standard item-9 document of a service, as an application has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentCheck {
    /// The document's code.
    pub code: String,
    /// Its name.
    pub name: Names,
    /// Whether the application's channel requires it.
    pub required: bool,
    /// Whether the application attaches at least one copy.
    pub present: bool,
}

/// Returns the service's item-9 list against an application: every document of the
/// catalogue, whether the application's channel requires it, and whether a copy is attached.
pub fn checklist(service: &Service, application: &ServiceApplication) -> Vec<DocumentCheck> {
    let channel = application.channel();
    service
        .documents
        .iter()
        .map(|doc| DocumentCheck {
            code: doc.code.clone(),
            name: doc.name.clone(),
            required: doc.required_on(channel),
            present: application
                .documents
                .iter()
                .any(|attached| attached.kind == doc.code),
        })
        .collect()
}

fn refuse(service: &Service, check: AutoCheck, reason: String) -> Decision {
    match service.ground_for(check) {
        Some(ground) => Decision::Refuse {
            ground: ground.code.clone(),
            reason,
        },
        // The catalogue refuses a service with required documents and no `missing` ground,
        // so this is a service with no required documents: nothing to refuse on.
        None => Decision::Approve,
    }
}

/// Returns why an attached document is not valid on `on`, if it is not.
fn validity_problem(document: &AttachedDocument, on: Date) -> Option<String> {
    let until = document.valid_until.as_ref()?;
    let date = u8::try_from(until.month)
        .ok()
        .and_then(|month| Month::try_from(month).ok())
        .zip(u8::try_from(until.day).ok())
        .and_then(|(month, day)| Date::from_calendar_date(until.year, month, day).ok());
    match date {
        Some(date) if date >= on => None,
        Some(date) => Some(format!("valid until {date}")),
        None => Some(format!(
            "valid_until {}-{:02}-{:02} is not a date",
            until.year, until.month, until.day
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use egov_proto::v1::Channel;
    use time::macros::date;

    fn attached(kind: &str, valid_until: Option<Date>) -> AttachedDocument {
        AttachedDocument {
            kind: kind.to_owned(),
            valid_until: valid_until.map(|d| egov_proto::v1::Date {
                year: d.year(),
                month: i32::from(u8::from(d.month())),
                day: i32::from(d.day()),
            }),
            ..AttachedDocument::default()
        }
    }

    fn application(channel: Channel, documents: Vec<AttachedDocument>) -> ServiceApplication {
        ServiceApplication {
            service_code: "A".into(),
            channel: channel as i32,
            documents,
            ..ServiceApplication::default()
        }
    }

    fn adoption() -> std::sync::Arc<Service> {
        Catalogue::embedded()
            .expect("valid")
            .service("A")
            .cloned()
            .expect("A")
    }

    #[test]
    fn a_complete_and_valid_package_is_approved() {
        let app = application(
            Channel::Portal,
            vec![
                attached("application", None),
                attached("health_certificate", Some(date!(2025 - 06 - 30))),
                attached("no_criminal_record_certificate", None),
            ],
        );
        assert_eq!(
            decide(&adoption(), &app, date!(2025 - 06 - 30)),
            Decision::Approve
        );
    }

    #[test]
    fn a_missing_required_document_refuses_on_the_missing_ground_naming_it() {
        let app = application(Channel::Portal, vec![attached("application", None)]);
        let Decision::Refuse { ground, reason } = decide(&adoption(), &app, date!(2025 - 06 - 30))
        else {
            panic!("refused")
        };
        assert_eq!(ground, "incomplete_package");
        assert!(reason.contains("health_certificate"), "{reason}");
    }

    #[test]
    fn a_document_past_its_validity_refuses_on_the_expired_ground() {
        let app = application(
            Channel::Portal,
            vec![
                attached("application", None),
                attached("health_certificate", Some(date!(2025 - 06 - 29))),
                attached("no_criminal_record_certificate", None),
            ],
        );
        let Decision::Refuse { ground, reason } = decide(&adoption(), &app, date!(2025 - 06 - 30))
        else {
            panic!("refused")
        };
        assert_eq!(ground, "expired_documents");
        assert!(reason.contains("valid until 2025-06-29"), "{reason}");
    }

    #[test]
    fn an_impossible_validity_date_counts_as_not_valid() {
        let mut health = attached("health_certificate", None);
        health.valid_until = Some(egov_proto::v1::Date {
            year: 2025,
            month: 13,
            day: 1,
        });
        let app = application(
            Channel::Portal,
            vec![
                attached("application", None),
                health,
                attached("no_criminal_record_certificate", None),
            ],
        );
        let decision = decide(&adoption(), &app, date!(2025 - 06 - 30));
        assert!(
            matches!(&decision, Decision::Refuse { reason, .. } if reason.contains("2025-13-01 is not a date")),
            "{decision:?}"
        );
    }

    #[test]
    fn reception_refuses_acceptance_of_an_incomplete_or_expired_package_and_accepts_the_rest() {
        let incomplete = application(Channel::Provider, vec![attached("application", None)]);
        assert!(matches!(
            reception(&adoption(), &incomplete, date!(2025 - 06 - 30)),
            Some(Decision::Refuse { ground, .. }) if ground == "incomplete_package"
        ));
        let complete = |until| {
            application(
                Channel::Provider,
                vec![
                    attached("application", None),
                    attached("health_certificate", Some(until)),
                    attached("no_criminal_record_certificate", None),
                ],
            )
        };
        assert!(matches!(
            reception(&adoption(), &complete(date!(2025 - 06 - 29)), date!(2025 - 06 - 30)),
            Some(Decision::Refuse { ground, .. }) if ground == "expired_documents"
        ));
        assert_eq!(
            reception(
                &adoption(),
                &complete(date!(2025 - 06 - 30)),
                date!(2025 - 06 - 30)
            ),
            None
        );
    }

    #[test]
    fn reception_leaves_refusals_other_than_to_accept_to_the_deciding_step() {
        let guardianship = Catalogue::embedded()
            .expect("valid")
            .service("F")
            .cloned()
            .expect("F");
        let mut app = application(Channel::Portal, vec![]);
        app.service_code = "F".into();
        assert_eq!(reception(&guardianship, &app, date!(2025 - 06 - 30)), None);
    }

    #[test]
    fn the_checklist_marks_each_item_9_document_present_or_missing() {
        let app = application(Channel::Portal, vec![attached("application", None)]);
        let list = checklist(&adoption(), &app);
        let marks: Vec<(&str, bool)> = list
            .iter()
            .map(|doc| (doc.code.as_str(), doc.present))
            .collect();
        assert_eq!(
            marks,
            [
                ("application", true),
                ("health_certificate", false),
                ("no_criminal_record_certificate", false),
                ("marriage_certificate", false)
            ]
        );
        let optional: Vec<&str> = list
            .iter()
            .filter(|doc| !doc.required)
            .map(|doc| doc.code.as_str())
            .collect();
        assert_eq!(optional, ["marriage_certificate"]);
    }

    #[test]
    fn documents_asked_off_the_portal_only_are_not_required_on_the_portal() {
        let queue = Catalogue::embedded()
            .expect("valid")
            .service("D")
            .cloned()
            .expect("D");
        let portal = application(Channel::Portal, vec![]);
        assert_eq!(
            decide(&queue, &portal, date!(2025 - 06 - 30)),
            Decision::Approve
        );
        let office = application(Channel::StateCorporation, vec![]);
        assert!(matches!(
            decide(&queue, &office, date!(2025 - 06 - 30)),
            Decision::Refuse { ground, .. } if ground == "incomplete_package"
        ));
    }

    /// Returns a D application carrying the queue register's choice.
    fn queue_application(decision: &str, ground: &str) -> ServiceApplication {
        let mut app = application(Channel::Portal, vec![]);
        app.service_code = "D".into();
        app.fields.insert("queue_decision".into(), decision.into());
        app.fields
            .insert("queue_refusal_ground".into(), ground.into());
        app.fields.insert(
            "queue_refusal_reason".into(),
            "child 160411690050 is 9".into(),
        );
        app
    }

    #[test]
    fn d_sends_the_reasoned_refusal_the_queue_register_drew_up() {
        let queue = Catalogue::embedded()
            .expect("valid")
            .service("D")
            .cloned()
            .expect("D");
        let refused = queue_application("refusal", "child_of_school_age");
        assert_eq!(
            decide(&queue, &refused, date!(2025 - 06 - 30)),
            Decision::Refuse {
                ground: "child_of_school_age".into(),
                reason: "child 160411690050 is 9".into(),
            }
        );
        let ground = queue
            .ground("child_of_school_age")
            .expect("an item-10 ground");
        assert_eq!(ground.kind.as_str(), "reasoned_refusal");
        // A placement the register decided is the provider's to send, not a refusal.
        let placed = queue_application("notification", "");
        assert_eq!(
            decide(&queue, &placed, date!(2025 - 06 - 30)),
            Decision::Approve
        );
    }

    #[test]
    fn a_service_whose_provider_decides_ignores_a_refusal_field() {
        let mut app = application(
            Channel::Portal,
            vec![
                attached("application", None),
                attached("health_certificate", Some(date!(2025 - 06 - 30))),
                attached("no_criminal_record_certificate", None),
            ],
        );
        app.fields.insert("queue_decision".into(), "refusal".into());
        app.fields
            .insert("queue_refusal_ground".into(), "child_of_school_age".into());
        assert_eq!(
            decide(&adoption(), &app, date!(2025 - 06 - 30)),
            Decision::Approve
        );
    }
}
