//! One clock for the whole stack: the stack's virtual time kept in a NATS KV bucket.
//!
//! In [`ClockMode::Stack`] the clock authority (`services/clock`) is the only writer of the
//! time (key [`NOW_KEY`] of bucket [`CLOCK_BUCKET`], compare-and-set, never backwards). Every
//! service follows it through [`service_clock`]: a local [`VirtualClock`] that moves when the
//! key changes and that reports, in bucket [`FOLLOWERS_BUCKET`], the time it has reached and
//! its next deadline and whether it has work in hand ([`Clock::hold`]). The authority steps to
//! each next deadline in order, and moves on from a stop only when the stack is quiet (every
//! follower reached it, none busy, no async message in flight), so timers across the stack
//! fire in deadline order, also those set by work a stop started in another process.
//!
//! Followers never write the stack's time: one started before the authority waits for it.
//!
//! Wiring a service's startup to the stack clock is one call, whose result goes wherever the
//! service takes its `Arc<dyn Clock>`:
//!
//! ```no_run
//! # async fn wire() -> Result<(), egov_bus::clock::ClockError> {
//! use egov_bus::clock::{ClockMode, service_clock};
//! let clock = service_clock(ClockMode::Stack, "nats://127.0.0.1:4222", "labor").await?;
//! let shared: std::sync::Arc<dyn egov_core::clock::Clock> = clock.shared();
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_nats::jetstream::{self, kv};
use egov_core::clock::{Clock, HeldSleep, Hold, Sleep, SystemClock, VirtualClock};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::task::JoinHandle;

/// The bucket holding the stack's time.
pub const CLOCK_BUCKET: &str = "EGOV_CLOCK";

/// The key of the stack's time in [`CLOCK_BUCKET`], an RFC 3339 UTC instant.
pub const NOW_KEY: &str = "now";

/// The gateway's delivery stream of async messages, whose receivers' consumers count the
/// messages in flight.
pub const DELIVER_STREAM: &str = "EGOV_DELIVER";

/// The bucket where each following process reports the time it reached and its next deadline.
pub const FOLLOWERS_BUCKET: &str = "EGOV_CLOCK_FOLLOWERS";

/// How many compare-and-set attempts a write makes before giving up to a busy writer.
const MAX_CAS_ATTEMPTS: usize = 16;

/// Where a process's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClockMode {
    /// The wall clock (the default).
    #[default]
    Real,
    /// A virtual clock of this process alone, moved only by the code that holds it (tests).
    Virtual,
    /// The stack's virtual clock, kept by the clock authority in NATS and followed here.
    Stack,
}

impl FromStr for ClockMode {
    type Err = ClockError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "real" => Ok(Self::Real),
            "virtual" => Ok(Self::Virtual),
            "stack" => Ok(Self::Stack),
            other => Err(ClockError::Mode(other.to_owned())),
        }
    }
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Real => "real",
            Self::Virtual => "virtual",
            Self::Stack => "stack",
        })
    }
}

/// Which clock a service process runs on: the config key `clock` of every service that
/// follows the stack (`EGOV_<SERVICE>__CLOCK`). A process-local virtual clock is no choice
/// here, since nothing outside the process could move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockSource {
    /// The wall clock (the default).
    #[default]
    Real,
    /// The stack's virtual clock, kept by the clock authority in NATS (`nats_url`).
    Stack,
}

impl ClockSource {
    /// Returns the [`ClockMode`] this setting runs the process in.
    pub fn mode(self) -> ClockMode {
        match self {
            Self::Real => ClockMode::Real,
            Self::Stack => ClockMode::Stack,
        }
    }

    /// Checks the setting against the config's `nats_url`: the stack clock is read from NATS,
    /// so `clock = "stack"` without a NATS URL is refused, naming both keys.
    pub fn check(self, nats_url: &str) -> Result<(), String> {
        if self == Self::Stack && nats_url.trim().is_empty() {
            return Err(
                "`clock` = \"stack\" follows the stack clock in NATS, but `nats_url` is empty"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// What can fail while keeping or following the stack clock.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// The clock mode is not one of `real`, `virtual`, `stack`.
    #[error("clock mode `{0}` is not one of real, virtual, stack")]
    Mode(String),
    /// The stack clock was asked for without a NATS URL to follow it at.
    #[error("the stack clock is kept in NATS, but no NATS URL is configured (`nats_url`)")]
    NoNatsUrl,
    /// NATS could not be reached.
    #[error("cannot connect to NATS at {url} for the stack clock: {reason}")]
    Connect {
        /// The NATS URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A KV operation failed.
    #[error("stack clock store: {action} failed: {reason}")]
    Store {
        /// What was being done.
        action: &'static str,
        /// Why.
        reason: String,
    },
    /// A stored value is not what the clock writes.
    #[error("stack clock store: `{key}` holds {value:?}, which is not {expected}")]
    Corrupt {
        /// The key read.
        key: String,
        /// The value found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A write would move the stack's time backwards.
    #[error("the stack clock reads {now}; it never goes back to {asked}")]
    Backwards {
        /// The stack's time.
        now: OffsetDateTime,
        /// The time asked for.
        asked: OffsetDateTime,
    },
    /// Other writers kept winning the compare-and-set.
    #[error("the stack clock changed {attempts} times while writing; try again")]
    Contended {
        /// How many attempts were made.
        attempts: usize,
    },
}

/// Returns a [`ClockError::Store`] for `action`.
fn store_error(action: &'static str) -> impl FnOnce(String) -> ClockError {
    move |reason| ClockError::Store { action, reason }
}

/// Formats an instant as the clock stores it (RFC 3339, UTC).
pub fn format_instant(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Parses an RFC 3339 instant, as stored or as an operator types it.
pub fn parse_instant(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(|t| t.to_offset(time::UtcOffset::UTC))
}

/// What one following process reports in [`FOLLOWERS_BUCKET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerReport {
    /// The stack time this process has reached and fired its due timers at.
    #[serde(with = "time::serde::rfc3339")]
    pub seen: OffsetDateTime,
    /// This process's earliest pending deadline.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next: Option<OffsetDateTime>,
    /// How much work this process has in hand (messages being handled, fired timers' work);
    /// reported when it turns zero or non-zero, not on every change.
    #[serde(default)]
    pub busy: u32,
}

/// How often a follower started before the authority looks again for the stack's time.
const AUTHORITY_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// The two buckets of the stack clock.
#[derive(Debug, Clone)]
pub struct ClockStore {
    now: kv::Store,
    followers: kv::Store,
    jetstream: jetstream::Context,
    /// Where the store is, for log lines (never a password).
    address: String,
}

/// Connects to NATS at `url` for the stack clock.
async fn clock_connection(url: &str) -> Result<jetstream::Context, ClockError> {
    let client = crate::nats_accounts::connect(url, async_nats::ConnectOptions::new())
        .await
        .map_err(|e| ClockError::Connect {
            // Never the password the URL may carry.
            url: crate::nats_accounts::split_credentials(url).0,
            reason: e.to_string(),
        })?;
    Ok(jetstream::new(client))
}

impl ClockStore {
    /// Connects to NATS at `url` as the clock authority and opens (creating if needed) the
    /// clock's buckets.
    pub async fn connect(url: &str) -> Result<Self, ClockError> {
        let jetstream = clock_connection(url).await?;
        let mut store = Self::open(&jetstream).await?;
        store.address = crate::nats_accounts::split_credentials(url).0;
        Ok(store)
    }

    /// Connects to NATS at `url` as a follower: opens the clock's buckets without creating
    /// them, waiting (and saying so once) until the clock authority has.
    pub async fn join(url: &str) -> Result<Self, ClockError> {
        let jetstream = clock_connection(url).await?;
        let address = crate::nats_accounts::split_credentials(url).0;
        let mut said = false;
        loop {
            let now = jetstream.get_key_value(CLOCK_BUCKET).await;
            let followers = jetstream.get_key_value(FOLLOWERS_BUCKET).await;
            match (now, followers) {
                (Ok(now), Ok(followers)) => {
                    return Ok(Self {
                        now,
                        followers,
                        jetstream,
                        address,
                    });
                }
                (Err(error), _) | (_, Err(error))
                    if error.kind() != jetstream::context::KeyValueErrorKind::GetBucket =>
                {
                    return Err(store_error("opening the clock's buckets")(
                        error.to_string(),
                    ));
                }
                _ => {
                    if !said {
                        tracing::warn!(nats = %address, "waiting for the clock authority to open the stack clock's buckets");
                        said = true;
                    }
                    tokio::time::sleep(AUTHORITY_POLL).await;
                }
            }
        }
    }

    /// Opens (creating if needed) the clock's buckets, as the clock authority does.
    pub async fn open(jetstream: &jetstream::Context) -> Result<Self, ClockError> {
        let bucket = |name: &str, description: &str| kv::Config {
            bucket: name.to_owned(),
            description: description.to_owned(),
            history: 1,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        };
        let now = jetstream
            .create_or_update_key_value(bucket(CLOCK_BUCKET, "the stack's virtual time"))
            .await
            .map_err(|e| store_error("opening the clock bucket")(e.to_string()))?;
        let followers = jetstream
            .create_or_update_key_value(bucket(
                FOLLOWERS_BUCKET,
                "each process following the stack clock: time reached, next deadline",
            ))
            .await
            .map_err(|e| store_error("opening the followers bucket")(e.to_string()))?;
        Ok(Self {
            now,
            followers,
            jetstream: jetstream.clone(),
            address: "the given JetStream context".to_owned(),
        })
    }

    /// Returns how many async messages are in flight: accepted by the gateway into its
    /// delivery stream and not yet settled by their receiver (not yet delivered, or
    /// delivered and not acknowledged), summed over every receiver's consumer. None while
    /// the gateway has not created the stream.
    pub async fn deliveries_in_flight(&self) -> Result<u64, ClockError> {
        let stream = match self.jetstream.get_stream(DELIVER_STREAM).await {
            Ok(stream) => stream,
            Err(error) => {
                if let jetstream::context::GetStreamErrorKind::JetStream(inner) = error.kind()
                    && inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
                {
                    return Ok(0);
                }
                return Err(store_error("reading the delivery stream")(
                    error.to_string(),
                ));
            }
        };
        let mut consumers = stream.consumers();
        let mut in_flight = 0u64;
        while let Some(info) = consumers.next().await {
            let info =
                info.map_err(|e| store_error("reading the delivery consumers")(e.to_string()))?;
            in_flight = in_flight
                .saturating_add(info.num_pending)
                .saturating_add(info.num_ack_pending as u64);
        }
        Ok(in_flight)
    }

    /// Returns the stack's time, waiting (and saying so once) until the authority set it.
    async fn wait_for_now(&self) -> Result<OffsetDateTime, ClockError> {
        let mut said = false;
        loop {
            if let Some((now, _)) = self.read_now().await? {
                return Ok(now);
            }
            if !said {
                tracing::warn!(nats = %self.address, "waiting for the clock authority to set the stack's time");
                said = true;
            }
            tokio::time::sleep(AUTHORITY_POLL).await;
        }
    }

    /// Returns the stack's time and its revision, if it was ever set.
    pub async fn read_now(&self) -> Result<Option<(OffsetDateTime, u64)>, ClockError> {
        let entry = self
            .now
            .entry(NOW_KEY)
            .await
            .map_err(|e| store_error("reading the stack time")(e.to_string()))?;
        match entry {
            Some(entry) if entry.operation == kv::Operation::Put => {
                Ok(Some((decode_now(&entry.value)?, entry.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Returns the stack's time, setting it to `start` first if it was never set.
    pub async fn init_now(&self, start: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        for _ in 0..MAX_CAS_ATTEMPTS {
            if let Some((now, _)) = self.read_now().await? {
                return Ok(now);
            }
            match self.now.create(NOW_KEY, format_instant(start).into()).await {
                Ok(_) => return Ok(start),
                Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => continue,
                Err(e) => return Err(store_error("setting the first stack time")(e.to_string())),
            }
        }
        Err(ClockError::Contended {
            attempts: MAX_CAS_ATTEMPTS,
        })
    }

    /// Moves the stack's time to `to` by compare-and-set; refuses a time before the current.
    pub async fn set_now(&self, to: OffsetDateTime) -> Result<OffsetDateTime, ClockError> {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let written = match self.read_now().await? {
                Some((now, _)) if to < now => {
                    return Err(ClockError::Backwards { now, asked: to });
                }
                Some((now, _)) if to == now => return Ok(now),
                Some((_, revision)) => self
                    .now
                    .update(NOW_KEY, format_instant(to).into(), revision)
                    .await
                    .map_err(|e| {
                        (e.kind() != kv::UpdateErrorKind::WrongLastRevision)
                            .then(|| store_error("writing the stack time")(e.to_string()))
                    }),
                None => self
                    .now
                    .create(NOW_KEY, format_instant(to).into())
                    .await
                    .map_err(|e| {
                        (e.kind() != kv::CreateErrorKind::AlreadyExists)
                            .then(|| store_error("writing the stack time")(e.to_string()))
                    }),
            };
            match written {
                Ok(_) => return Ok(to),
                // Another writer won the race: read again and retry.
                Err(None) => continue,
                Err(Some(error)) => return Err(error),
            }
        }
        Err(ClockError::Contended {
            attempts: MAX_CAS_ATTEMPTS,
        })
    }

    /// Records what follower `key` has reached and waits for next.
    pub async fn report(&self, key: &str, report: FollowerReport) -> Result<(), ClockError> {
        let value = serde_json::to_vec(&report)
            .map_err(|e| store_error("encoding a follower report")(e.to_string()))?;
        self.followers
            .put(key, value.into())
            .await
            .map_err(|e| store_error("writing a follower report")(e.to_string()))?;
        Ok(())
    }

    /// Removes follower `key` (a process that stops following).
    pub async fn forget(&self, key: &str) -> Result<(), ClockError> {
        self.followers
            .purge(key)
            .await
            .map_err(|e| store_error("removing a follower")(e.to_string()))
    }

    /// Returns every follower's last report, by follower key; unreadable reports are skipped
    /// with a warning so one bad writer cannot stop the clock.
    pub async fn followers(&self) -> Result<BTreeMap<String, FollowerReport>, ClockError> {
        let mut keys = self
            .followers
            .keys()
            .await
            .map_err(|e| store_error("listing followers")(e.to_string()))?;
        let mut names = Vec::new();
        while let Some(key) = keys.next().await {
            names.push(key.map_err(|e| store_error("listing followers")(e.to_string()))?);
        }
        let mut out = BTreeMap::new();
        for name in names {
            let value = self
                .followers
                .get(&name)
                .await
                .map_err(|e| store_error("reading a follower report")(e.to_string()))?;
            let Some(value) = value else { continue };
            match serde_json::from_slice::<FollowerReport>(&value) {
                Ok(report) => {
                    out.insert(name, report);
                }
                Err(error) => {
                    tracing::warn!(follower = %name, %error, "unreadable follower report skipped")
                }
            }
        }
        Ok(out)
    }

    /// Returns a stream of follower changes: every current report first, then each change
    /// (`None` when a follower left).
    pub async fn watch_followers(
        &self,
    ) -> Result<impl futures::Stream<Item = (String, Option<FollowerReport>)> + use<>, ClockError>
    {
        let watch = self
            .followers
            .watch_with_history(">")
            .await
            .map_err(|e| store_error("watching followers")(e.to_string()))?;
        Ok(watch.filter_map(|entry| async move {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    tracing::warn!(%error, "follower watch error");
                    return None;
                }
            };
            if entry.operation != kv::Operation::Put {
                return Some((entry.key, None));
            }
            match serde_json::from_slice::<FollowerReport>(&entry.value) {
                Ok(report) => Some((entry.key, Some(report))),
                Err(error) => {
                    tracing::warn!(follower = %entry.key, %error, "unreadable follower report skipped");
                    None
                }
            }
        }))
    }

    /// Returns a stream of the stack's time: the current value first, then every change.
    async fn watch_now(&self) -> Result<kv::Watch, ClockError> {
        self.now
            .watch_with_history(NOW_KEY)
            .await
            .map_err(|e| store_error("watching the stack time")(e.to_string()))
    }
}

/// Parses the stored stack time.
fn decode_now(value: &[u8]) -> Result<OffsetDateTime, ClockError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(parse_instant)
        .ok_or_else(|| ClockError::Corrupt {
            key: NOW_KEY.to_owned(),
            value: String::from_utf8_lossy(value).into_owned(),
            expected: "an RFC 3339 instant",
        })
}

/// Aborts the follower task when the last handle of a [`StackClock`] is dropped.
#[derive(Debug)]
struct Follower {
    task: JoinHandle<()>,
    store: ClockStore,
    key: String,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
        // Best effort: the authority stops waiting for a process that said goodbye.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
            runtime.spawn(async move {
                if let Err(error) = store.forget(&key).await {
                    tracing::debug!(%error, "follower could not remove its report");
                }
            });
        }
    }
}

/// This process's view of the stack clock: a [`VirtualClock`] moved by the authority.
#[derive(Debug, Clone)]
pub struct StackClock {
    clock: VirtualClock,
    follower: Arc<Follower>,
}

impl StackClock {
    /// Follows the stack clock in `store` as follower `service` (one key per process).
    ///
    /// Returns once the local clock reads the stack's time; if the authority has not set it
    /// yet, waits for it (only the authority writes the time).
    pub async fn follow(store: ClockStore, service: &str) -> Result<Self, ClockError> {
        let now = store.wait_for_now().await?;
        let clock = VirtualClock::new(now);
        let key = format!("{service}.{}", uuid::Uuid::new_v4().simple());
        let watch = store.watch_now().await?;
        store
            .report(
                &key,
                FollowerReport {
                    seen: now,
                    next: None,
                    busy: 0,
                },
            )
            .await?;
        // Subscribed here, not in the task, so a timer set right after this returns is reported.
        let deadlines = clock.watch_next_deadline();
        let busy = clock.workload().watch();
        let task = tokio::spawn(follow(
            store.clone(),
            key.clone(),
            clock.clone(),
            watch,
            deadlines,
            busy,
        ));
        Ok(Self {
            clock,
            follower: Arc::new(Follower { task, store, key }),
        })
    }

    /// Returns the follower key this process reports under (`<service>.<id>`).
    pub fn follower_key(&self) -> &str {
        &self.follower.key
    }

    /// Returns a shareable handle for services that hold `Arc<dyn Clock>`.
    pub fn shared(&self) -> Arc<dyn Clock> {
        Arc::new(self.clone())
    }

    /// Returns the process-local virtual clock the authority moves, for in-process services
    /// that run on a [`VirtualClock`] (a test stack following the stack clock).
    pub fn local(&self) -> &VirtualClock {
        &self.clock
    }
}

impl Clock for StackClock {
    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        self.clock.sleep_until(deadline)
    }

    fn hold(&self) -> Hold {
        self.clock.hold()
    }

    fn sleep_until_held(&self, deadline: OffsetDateTime) -> HeldSleep {
        self.clock.sleep_until_held(deadline)
    }
}

/// How many times the follower yields after a step before it reports, so the tasks the step
/// woke run and set their next timers first.
const LOCAL_SETTLE_YIELDS: usize = 16;

/// The follower loop: moves the local clock with the stack's time and reports back the time
/// reached, the next deadline and the work in hand, also whenever the deadline changes or the
/// process turns busy or idle between steps. Changes of the busy count that leave it busy
/// (or idle) are not reported: the authority only asks whether it is zero, and a report is
/// a KV write.
async fn follow(
    store: ClockStore,
    key: String,
    clock: VirtualClock,
    mut watch: kv::Watch,
    mut deadlines: tokio::sync::watch::Receiver<Option<OffsetDateTime>>,
    mut busy: tokio::sync::watch::Receiver<u32>,
) {
    let mut reported_busy = false;
    loop {
        let report = tokio::select! {
            entry = watch.next() => {
                let entry = match entry {
                    Some(Ok(entry)) => entry,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "stack clock watch error");
                        continue;
                    }
                    None => {
                        tracing::error!("stack clock watch ended; this process's time stops here");
                        return;
                    }
                };
                if entry.operation != kv::Operation::Put {
                    continue;
                }
                let to = match decode_now(&entry.value) {
                    Ok(to) => to,
                    Err(error) => {
                        tracing::warn!(%error, "stack time ignored");
                        continue;
                    }
                };
                clock.advance_to(to).await;
                for _ in 0..LOCAL_SETTLE_YIELDS {
                    tokio::task::yield_now().await;
                }
                FollowerReport { seen: clock.now(), next: *deadlines.borrow_and_update(), busy: *busy.borrow_and_update() }
            }
            changed = deadlines.changed() => {
                if changed.is_err() {
                    return;
                }
                FollowerReport { seen: clock.now(), next: *deadlines.borrow_and_update(), busy: *busy.borrow_and_update() }
            }
            changed = busy.changed() => {
                if changed.is_err() {
                    return;
                }
                let now_busy = *busy.borrow_and_update();
                if (now_busy > 0) == reported_busy {
                    continue;
                }
                FollowerReport { seen: clock.now(), next: *deadlines.borrow(), busy: now_busy }
            }
        };
        reported_busy = report.busy > 0;
        if let Err(error) = store.report(&key, report).await {
            tracing::warn!(%error, "stack clock follower could not report");
        }
    }
}

/// The clock a service runs on, as chosen by its [`ClockMode`].
#[derive(Debug, Clone)]
pub enum ServiceClock {
    /// The wall clock.
    Real(SystemClock),
    /// A virtual clock of this process alone.
    Virtual(VirtualClock),
    /// The stack's virtual clock, followed from NATS.
    Stack(StackClock),
}

impl ServiceClock {
    /// Returns a shareable handle for services that hold `Arc<dyn Clock>`.
    pub fn shared(&self) -> Arc<dyn Clock> {
        Arc::new(self.clone())
    }

    /// Returns the process-local virtual clock behind a [`ClockMode::Virtual`] clock.
    pub fn as_virtual(&self) -> Option<&VirtualClock> {
        match self {
            Self::Virtual(clock) => Some(clock),
            _ => None,
        }
    }
}

impl Clock for ServiceClock {
    fn now(&self) -> OffsetDateTime {
        match self {
            Self::Real(clock) => clock.now(),
            Self::Virtual(clock) => clock.now(),
            Self::Stack(clock) => clock.now(),
        }
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        match self {
            Self::Real(clock) => clock.sleep_until(deadline),
            Self::Virtual(clock) => clock.sleep_until(deadline),
            Self::Stack(clock) => clock.sleep_until(deadline),
        }
    }

    fn hold(&self) -> Hold {
        match self {
            Self::Real(clock) => clock.hold(),
            Self::Virtual(clock) => clock.hold(),
            Self::Stack(clock) => clock.hold(),
        }
    }

    fn sleep_until_held(&self, deadline: OffsetDateTime) -> HeldSleep {
        match self {
            Self::Real(clock) => clock.sleep_until_held(deadline),
            Self::Virtual(clock) => clock.sleep_until_held(deadline),
            Self::Stack(clock) => clock.sleep_until_held(deadline),
        }
    }
}

/// Returns the clock `service` runs on in `mode`; in [`ClockMode::Stack`] it connects to
/// NATS at `nats_url` and follows the stack's time until the clock is dropped, and fails
/// (rather than fall back to real time) when NATS cannot be reached; until the clock authority
/// has opened the clock's buckets and set the time, it waits for it.
/// `service` begins the follower key, so it is the process's NATS user (its system id).
pub async fn service_clock(
    mode: ClockMode,
    nats_url: &str,
    service: &str,
) -> Result<ServiceClock, ClockError> {
    Ok(match mode {
        ClockMode::Real => ServiceClock::Real(SystemClock),
        ClockMode::Virtual => ServiceClock::Virtual(VirtualClock::new(OffsetDateTime::now_utc())),
        ClockMode::Stack => {
            if nats_url.trim().is_empty() {
                // Never a silent fall-back to real time: a stack follower needs NATS.
                return Err(ClockError::NoNatsUrl);
            }
            let store = ClockStore::join(nats_url).await?;
            ServiceClock::Stack(StackClock::follow(store, service).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_mode_parses_its_three_names_and_refuses_others() {
        for mode in [ClockMode::Real, ClockMode::Virtual, ClockMode::Stack] {
            assert_eq!(mode.to_string().parse::<ClockMode>().unwrap(), mode);
        }
        let err = "wall".parse::<ClockMode>().unwrap_err();
        assert!(err.to_string().contains("wall"), "{err}");
    }

    #[tokio::test]
    async fn real_and_virtual_service_clocks_need_no_nats() {
        // An unreachable URL: only the stack mode connects.
        let url = "nats://127.0.0.1:1";
        let real = service_clock(ClockMode::Real, url, "labor").await.unwrap();
        assert!(matches!(real, ServiceClock::Real(_)));
        let virtual_clock = service_clock(ClockMode::Virtual, url, "labor")
            .await
            .unwrap();
        let local = virtual_clock.as_virtual().unwrap();
        let before = virtual_clock.now();
        local.advance(std::time::Duration::from_secs(86_400)).await;
        assert_eq!(virtual_clock.now(), before + time::Duration::DAY);
    }

    #[test]
    fn clock_source_is_real_by_default_and_stack_needs_a_nats_url() {
        assert_eq!(ClockSource::default(), ClockSource::Real);
        assert_eq!(ClockSource::Stack.mode(), ClockMode::Stack);
        assert!(ClockSource::Real.check("").is_ok());
        assert!(ClockSource::Stack.check("nats://127.0.0.1:4222").is_ok());
        let refused = ClockSource::Stack.check(" ").unwrap_err();
        assert!(refused.contains("nats_url"), "{refused}");
    }

    #[tokio::test]
    async fn a_stack_clock_without_reachable_nats_is_an_error_not_real_time() {
        let unreachable = service_clock(ClockMode::Stack, "nats://127.0.0.1:1", "labor")
            .await
            .unwrap_err();
        assert!(
            matches!(unreachable, ClockError::Connect { .. }),
            "{unreachable}"
        );
        assert!(
            unreachable.to_string().contains("127.0.0.1:1"),
            "{unreachable}"
        );
        let unset = service_clock(ClockMode::Stack, "", "labor")
            .await
            .unwrap_err();
        assert!(unset.to_string().contains("nats_url"), "{unset}");
    }

    #[test]
    fn stored_instants_round_trip_in_utc() {
        let at = parse_instant("2027-03-05T09:00:00+05:00").unwrap();
        assert_eq!(format_instant(at), "2027-03-05T04:00:00Z");
        assert_eq!(parse_instant(&format_instant(at)), Some(at));
        assert!(parse_instant("5 March").is_none());
        assert!(decode_now(b"yesterday").is_err());
    }
}
