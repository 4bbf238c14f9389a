//! Service C, compensation of the cost of home schooling of disabled children (мүгедек
//! балаларды үйде оқытуға жұмсалған шығындарды өтеу / возмещение затрат на обучение на дому
//! детей-инвалидов): its service ids, its [`PROFILE`] for the shared intake, and
//! [`HomeSchoolingCompensation`], E-sobes's grounds check (FLOWS.md, service C; State
//! Corporation flow condition 2, "the provider checks the documents and the grounds").

use egov_core::systems;
use egov_core::{Iin, StatusCode};
use egov_proto::v1::{ApplyHomeSchoolingCompensationRequest, ServiceApplication};
use egov_system::Fault;
use egov_system::intake::{Admitted, Grounds, Lookups, Profile, Term, age_on, local_date};

use crate::store::Store;

/// Service id that applies (ApplyHomeSchoolingCompensationRequest → ApplicationRegistered).
pub const APPLY_SERVICE_ID: &str = "esobes.home-schooling.apply";

/// Service id that answers a result (GetApplicationResultRequest → ServiceResult, or EDAT001).
pub const RESULT_SERVICE_ID: &str = "esobes.application.result";

/// Service id the back office delivers the head-signed result to (ServiceResult → Status).
pub const DECIDED_SERVICE_ID: &str = "esobes.application.decided";

/// Every service id E-sobes answers through the gateway.
pub const SERVICE_IDS: [&str; 3] = [APPLY_SERVICE_ID, RESULT_SERVICE_ID, DECIDED_SERVICE_ID];

/// The public-service code of FLOWS.md and the back office's catalogue.
pub const SERVICE_CODE: &str = "C";

/// The application field saying the child is schooled at home (`"true"`).
pub const FIELD_HOME_SCHOOLING: &str = "home_schooling";

/// The item-9 document kind of the school's certificate of home schooling.
pub const HOME_SCHOOLING_CERTIFICATE: &str = "home_schooling_certificate";

/// The age from which a person is no longer a child.
pub const ADULT_AGE: i32 = 18;

/// Service C for the intake: numbers `ES-YYYY-NNNNNN`, due after the back office's five steps
/// (15 minutes, then 1 + 6 + 1 + 1 working days, `001_…` item 5 of the second regulation).
pub const PROFILE: Profile = Profile {
    system: systems::ESOBES,
    service_code: SERVICE_CODE,
    apply_service_id: APPLY_SERVICE_ID,
    result_service_id: RESULT_SERVICE_ID,
    decided_service_id: DECIDED_SERVICE_ID,
    number_prefix: "ES",
    term: Term {
        minutes: 15,
        working_days: 9,
    },
    child_required: true,
};

/// E-sobes's grounds for service C: the child is a disabled child schooled at home, and the
/// recipient is the child's parent or guardian (legal representative) in the citizens-DB.
#[derive(Debug, Clone, Copy, Default)]
pub struct HomeSchoolingCompensation;

/// Refuses on a ground of service C, counted by ground so dashboards show refusals by reason.
fn refuse(ground: &'static str, message: String) -> Fault {
    metrics::counter!("esobes_refusals_total", "ground" => ground).increment(1);
    Fault::new(StatusCode::ServiceRefused, message)
}

impl Grounds for HomeSchoolingCompensation {
    type Store = Store;
    type Apply = ApplyHomeSchoolingCompensationRequest;

    fn application(apply: ApplyHomeSchoolingCompensationRequest) -> Option<ServiceApplication> {
        apply.application
    }

    async fn check(
        &self,
        admitted: &Admitted,
        lookups: &Lookups,
    ) -> Result<ServiceApplication, Fault> {
        let application = &admitted.application;
        // The profile requires the child, so admit() refused an application without one.
        let child_iin: Iin = admitted
            .child_iin
            .ok_or_else(|| Fault::invalid("application.child_iin: must not be empty"))?;
        let on = local_date(admitted.message_time);
        let age = age_on(child_iin.birth_date(), on);
        if age >= ADULT_AGE {
            return Err(refuse(
                "not_a_child",
                format!("child {child_iin} is {age} on {on}, not a child under {ADULT_AGE}"),
            ));
        }
        let child = lookups.person("child", &child_iin).await?;
        if !child.disabled {
            return Err(refuse(
                "not_disabled",
                format!("child {child_iin} has no disability recorded in the citizens-DB"),
            ));
        }
        let home_schooling = application
            .fields
            .get(FIELD_HOME_SCHOOLING)
            .map_or("", String::as_str);
        if home_schooling != "true" {
            return Err(refuse(
                "not_schooled_at_home",
                format!(
                    "child {child_iin} is not shown schooled at home: fields.{FIELD_HOME_SCHOOLING} is {home_schooling:?}, not \"true\""
                ),
            ));
        }
        if !application
            .documents
            .iter()
            .any(|document| document.kind == HOME_SCHOOLING_CERTIFICATE)
        {
            return Err(refuse(
                "not_schooled_at_home",
                format!(
                    "child {child_iin} is not shown schooled at home: no {HOME_SCHOOLING_CERTIFICATE} document is attached"
                ),
            ));
        }
        let recipient = admitted.recipient_iin;
        let related = lookups
            .is_parent_or_guardian(&child_iin, &recipient)
            .await?;
        if !related {
            return Err(refuse(
                "not_parent_or_guardian",
                format!(
                    "recipient {recipient} is neither a parent nor a guardian of child {child_iin} in the citizens-DB"
                ),
            ));
        }
        Ok(application.clone())
    }
}
