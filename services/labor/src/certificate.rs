//! Service B, the certificate for an unemployed citizen (жұмыссыз азаматтарға анықтама /
//! справка безработным гражданам): its service ids, its [`PROFILE`] for the shared intake,
//! and [`UnemployedCertificate`], the Labour Market AIS's own ground — the recipient must not
//! be in employment (FLOWS.md, service B; State Corporation flow condition 2).

use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::{ApplyUnemployedCertificateRequest, ServiceApplication};
use egov_system::Fault;
use egov_system::intake::{Admitted, Grounds, Lookups, Profile, Term};

use crate::store::Store;

/// Service id that applies (ApplyUnemployedCertificateRequest → ApplicationRegistered).
pub const APPLY_SERVICE_ID: &str = "labor.unemployed-certificate.apply";

/// Service id that answers a result (GetApplicationResultRequest → ServiceResult, or EDAT001).
pub const RESULT_SERVICE_ID: &str = "labor.application.result";

/// Service id the back office delivers the head-signed result to (ServiceResult → Status).
pub const DECIDED_SERVICE_ID: &str = "labor.application.decided";

/// Every service id the Labour Market AIS answers through the gateway.
pub const SERVICE_IDS: [&str; 3] = [APPLY_SERVICE_ID, RESULT_SERVICE_ID, DECIDED_SERVICE_ID];

/// The public-service code of FLOWS.md and the back office's catalogue.
pub const SERVICE_CODE: &str = "B";

/// The application field telling the provider whether the recipient is employed.
pub const FIELD_EMPLOYED: &str = "employed";

/// Service B for the intake: numbers `LM-YYYY-NNNNNN`, due after the back office's five steps
/// (2 + 1 + 3 + 2 + 2 minutes, `001_…` item 5).
pub const PROFILE: Profile = Profile {
    system: systems::LABOR,
    service_code: SERVICE_CODE,
    apply_service_id: APPLY_SERVICE_ID,
    result_service_id: RESULT_SERVICE_ID,
    decided_service_id: DECIDED_SERVICE_ID,
    number_prefix: "LM",
    term: Term {
        minutes: 10,
        working_days: 0,
    },
    child_required: false,
};

/// The Labour Market AIS's ground for service B: the recipient is not in employment.
#[derive(Debug, Clone)]
pub struct UnemployedCertificate {
    store: Store,
}

impl UnemployedCertificate {
    /// Checks against the employment recorded in `store`.
    pub fn new(store: Store) -> UnemployedCertificate {
        UnemployedCertificate { store }
    }
}

impl Grounds for UnemployedCertificate {
    type Store = Store;
    type Apply = ApplyUnemployedCertificateRequest;

    fn application(apply: ApplyUnemployedCertificateRequest) -> Option<ServiceApplication> {
        apply.application
    }

    /// Refuses an employed recipient here: the back office's catalogue for B has no
    /// employment ground (its item-10 grounds are the documents only), so the Labour Market
    /// AIS, which holds the employment, refuses with ServiceRefused and the employer named.
    async fn check(
        &self,
        admitted: &Admitted,
        _lookups: &Lookups,
    ) -> Result<ServiceApplication, Fault> {
        if let Some(job) = self.store.employment(&admitted.recipient_iin).await? {
            metrics::counter!("labor_refusals_total", "ground" => "employed").increment(1);
            return Err(Fault::new(
                StatusCode::ServiceRefused,
                format!(
                    "recipient {} is employed by {} (BIN {}) since {}: the certificate for an unemployed citizen is refused",
                    job.iin,
                    job.employer_name,
                    job.employer_bin,
                    crate::employment::format_date(job.since)
                ),
            ));
        }
        let mut application = admitted.application.clone();
        application
            .fields
            .insert(FIELD_EMPLOYED.to_owned(), "false".to_owned());
        Ok(application)
    }
}
