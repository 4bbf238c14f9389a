//! [`Registry`]: the notary registry's (БНАЖ / ЕНИС) answers — look-up by number, by
//! principal and representative, and registration — over the store and the clock.
//!
//! The gateway path, the direct gRPC contract and the operator's HTTP route all come here,
//! so the three answer alike.

use std::sync::Arc;

use egov_core::clock::Clock;
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyResponse,
    PowerOfAttorneyValidity,
};
use time::Date;

use crate::NotaryError;
use crate::power_of_attorney::{
    PowerOfAttorney, answer, check_number, choose, local_date, parse_asked_service, parse_iin,
};
use crate::store::Store;

/// The registry: answers look-ups and records registrations.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Registry {
    /// Creates a registry over a store, reading time from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Registry {
        Registry { store, clock }
    }

    /// Returns the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Returns today's date in Kazakhstan on the registry's clock.
    pub fn today(&self) -> Date {
        local_date(self.clock.now())
    }

    /// Answers a look-up by number as of `date`; an unknown number is a NOT_FOUND answer.
    pub async fn get(
        &self,
        request: &GetPowerOfAttorneyRequest,
        date: Date,
    ) -> Result<PowerOfAttorneyResponse, NotaryError> {
        check_number(&request.number).map_err(|reason| NotaryError::invalid("number", reason))?;
        let service_id = parse_asked_service(&request.service_id)?;
        let power = self.store.by_number(&request.number).await?;
        let response = answer(power.as_ref(), date, service_id);
        count("get", &response);
        Ok(response)
    }

    /// Answers a look-up by principal and representative as of `date`: a valid power if
    /// there is one, otherwise the most recent; none between them is a NOT_FOUND answer.
    pub async fn find(
        &self,
        request: &FindPowerOfAttorneyRequest,
        date: Date,
    ) -> Result<PowerOfAttorneyResponse, NotaryError> {
        let principal = parse_iin("principal_iin", &request.principal_iin)?;
        let representative = parse_iin("representative_iin", &request.representative_iin)?;
        let service_id = parse_asked_service(&request.service_id)?;
        let powers = self.store.between(&principal, &representative).await?;
        let response = answer(choose(&powers, date, service_id), date, service_id);
        count("find", &response);
        Ok(response)
    }

    /// Records a checked power of attorney; its number must be new.
    pub async fn register(&self, power: &PowerOfAttorney) -> Result<(), NotaryError> {
        self.store.insert(power, self.clock.now()).await?;
        metrics::counter!("notary_registrations_total").increment(1);
        tracing::info!(
            number = %power.number,
            principal = %power.principal_iin,
            representative = %power.representative_iin,
            "power of attorney registered"
        );
        Ok(())
    }
}

/// Counts an answer by look-up kind and validity, so dashboards show refusals by reason.
fn count(lookup: &'static str, response: &PowerOfAttorneyResponse) {
    let validity = PowerOfAttorneyValidity::try_from(response.validity)
        .map_or("unknown", |validity| validity.as_str_name());
    metrics::counter!("notary_lookups_total", "lookup" => lookup, "validity" => validity)
        .increment(1);
}
