//! [`Registry`]: the citizens-DB's look-ups as both channels answer them — the IIN or BIN
//! checked, the rows read, the `egov.v1` answer built — with a count and a latency sample
//! per look-up.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use egov_core::{Bin, Iin, StatusCode};
use egov_proto::v1::{
    FamilyLink, GetFamilyResponse, GetLegalEntityResponse, GetPersonResponse, Kinship, Person,
};

use crate::records::{bin_key, iin_key, key_text};
use crate::store::Store;
use crate::{CitizensError, FAMILY_GET, LEGAL_ENTITY_GET, PERSON_GET};

/// Counter of look-ups, labelled by `service` (the service id), `channel` and `outcome`.
pub const LOOKUPS_TOTAL: &str = "citizens_lookups_total";

/// Histogram of look-up latency in seconds, labelled by `service` and `channel`.
pub const LOOKUP_SECONDS: &str = "citizens_lookup_duration_seconds";

/// The way a look-up arrived, as the metrics label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Through the gateway, as a signed envelope to `MessageReceiver`.
    Gateway,
    /// Directly on the `egov.v1.Citizens` gRPC contract.
    Direct,
    /// In-process (measurements, tests).
    Local,
}

impl Channel {
    /// Returns the metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Gateway => "gateway",
            Channel::Direct => "grpc",
            Channel::Local => "local",
        }
    }
}

/// The citizens-DB's look-ups over a [`Store`].
#[derive(Debug, Clone)]
pub struct Registry {
    store: Store,
}

impl Registry {
    /// Wraps a store.
    pub fn new(store: Store) -> Registry {
        Registry { store }
    }

    /// Returns the store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Returns the person with an IIN, with every field the register holds.
    pub async fn person(
        &self,
        iin: &str,
        channel: Channel,
    ) -> Result<GetPersonResponse, CitizensError> {
        measured(PERSON_GET, channel, async {
            let key = parse_iin(iin)?;
            let person =
                self.load_person(key)
                    .await?
                    .ok_or_else(|| CitizensError::PersonNotFound {
                        iin: iin.to_owned(),
                    })?;
            Ok(GetPersonResponse {
                person: Some(person),
            })
        })
        .await
    }

    /// Returns the legal entity with a BIN.
    pub async fn legal_entity(
        &self,
        bin: &str,
        channel: Channel,
    ) -> Result<GetLegalEntityResponse, CitizensError> {
        measured(LEGAL_ENTITY_GET, channel, async {
            let key = Bin::parse(bin)
                .map(|bin| bin_key(&bin))
                .map_err(|error| CitizensError::invalid_bin("bin", error))?;
            let row = self.store.legal_entity(key).await?.ok_or_else(|| {
                CitizensError::LegalEntityNotFound {
                    bin: bin.to_owned(),
                }
            })?;
            Ok(GetLegalEntityResponse {
                legal_entity: Some(row.to_proto()),
            })
        })
        .await
    }

    /// Returns a person's family links, each with the relative's full record; a person
    /// with no recorded relatives has an empty list, an unknown IIN is refused.
    pub async fn family(
        &self,
        iin: &str,
        channel: Channel,
    ) -> Result<GetFamilyResponse, CitizensError> {
        measured(FAMILY_GET, channel, async {
            let key = parse_iin(iin)?;
            if self.store.person(key).await?.is_none() {
                return Err(CitizensError::PersonNotFound {
                    iin: iin.to_owned(),
                });
            }
            let mut links = Vec::new();
            for (relative, kinship) in self.store.links(key).await? {
                let person = self.load_person(relative).await?.ok_or_else(|| {
                    CitizensError::corrupt(
                        format!("family link of {iin}"),
                        format!("relative {} is not stored", key_text(relative)),
                    )
                })?;
                let kinship = Kinship::try_from(kinship).map_err(|_| {
                    CitizensError::corrupt(
                        format!("family link of {iin}"),
                        format!("kinship {kinship} is not an egov.v1.Kinship"),
                    )
                })?;
                links.push(FamilyLink {
                    kinship: kinship as i32,
                    relative: Some(person),
                });
            }
            Ok(GetFamilyResponse { links })
        })
        .await
    }

    /// Times `count` sequential person look-ups of IINs sampled across the table, after a
    /// warm-up pass over the same IINs: what one caller waits for, without the network.
    pub async fn time_person_lookups(&self, count: u32) -> Result<LookupTimes, CitizensError> {
        let iins: Vec<String> = self
            .store
            .sample_iins(count)
            .await?
            .into_iter()
            .map(key_text)
            .collect();
        for iin in &iins {
            self.person(iin, Channel::Local).await?;
        }
        let mut times = Vec::with_capacity(iins.len());
        for iin in &iins {
            let started = Instant::now();
            self.person(iin, Channel::Local).await?;
            times.push(started.elapsed());
        }
        times.sort();
        let at = |share: f64| {
            let index = ((times.len() as f64 * share).ceil() as usize).saturating_sub(1);
            times.get(index).copied().unwrap_or_default()
        };
        Ok(LookupTimes {
            count: times.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: times.last().copied().unwrap_or_default(),
        })
    }

    /// Reads a person and their documents.
    async fn load_person(&self, key: i64) -> Result<Option<Person>, CitizensError> {
        let Some(row) = self.store.person(key).await? else {
            return Ok(None);
        };
        let documents = self.store.documents(key).await?;
        Ok(Some(row.to_proto(&documents)))
    }
}

/// Latency of person look-ups, as [`Registry::time_person_lookups`] measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupTimes {
    /// Look-ups timed.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

impl fmt::Display for LookupTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed {} look-ups by IIN (person and documents, answer built): \
             p50 {} µs, p99 {} µs, max {} µs",
            self.count,
            self.p50.as_micros(),
            self.p99.as_micros(),
            self.max.as_micros()
        )
    }
}

/// Checks the request's IIN and returns its key.
fn parse_iin(iin: &str) -> Result<i64, CitizensError> {
    Iin::parse(iin)
        .map(|iin| iin_key(&iin))
        .map_err(|error| CitizensError::invalid_iin("iin", error))
}

/// Runs a look-up, counting it by outcome and timing it.
async fn measured<T>(
    service: &'static str,
    channel: Channel,
    lookup: impl Future<Output = Result<T, CitizensError>>,
) -> Result<T, CitizensError> {
    let started = Instant::now();
    let result = lookup.await;
    let outcome = match &result {
        Ok(_) => "found",
        Err(error) => match error.status() {
            StatusCode::DataNotFound => "not_found",
            StatusCode::InvalidRequest => "invalid",
            _ => "error",
        },
    };
    metrics::histogram!(LOOKUP_SECONDS, "service" => service, "channel" => channel.as_str())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        LOOKUPS_TOTAL,
        "service" => service,
        "channel" => channel.as_str(),
        "outcome" => outcome
    )
    .increment(1);
    result
}
