//! The clock authority: the one writer of the stack's time.
//!
//! A move (advance by a step, or set to an instant) goes deadline by deadline: it reads the
//! followers' next deadlines, writes the earliest one on the way as the stack's time, waits
//! until the stack is quiet, and repeats until the target. Quiet means: every follower has
//! reached the stop (and fired its timers), none has work in hand (a message being handled,
//! a fired timer's work), and no async message is in flight in the gateway's delivery stream
//! (accepted, not yet settled by its receiver); it is checked twice, a short settle margin
//! apart, so a report that crossed the in-flight count is seen. So a 28-day step fires every
//! service's timers in order, also a timer set by work that a stop started in another
//! process. The wait is bounded by the ack timeout, after which the authority names who held
//! it and goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use egov_bus::clock::{ClockError, ClockStore, FollowerReport};
use egov_core::calendar::WorkingCalendar;
use egov_core::clock::{Step, StepError};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

/// Why an authority call was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    /// No valid operator bearer token was given.
    #[error("moving the stack clock needs an operator's bearer token: {0}")]
    Unauthorized(&'static str),
    /// The step is not understood or cannot be taken.
    #[error(transparent)]
    Step(#[from] StepError),
    /// The clock store failed, or the move would go backwards.
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// The followers as last reported, by follower key.
pub type Followers = BTreeMap<String, FollowerReport>;

/// The outcome of a move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The stack's time before the move.
    pub from: OffsetDateTime,
    /// The stack's time after it.
    pub now: OffsetDateTime,
    /// How many times the stack's time was written (deadlines on the way plus the target).
    pub stops: u32,
}

/// How the authority paces a move.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// The margin between the two checks that the stack is quiet after a stop.
    pub settle: Duration,
    /// How long the stack may take to turn quiet after a stop.
    pub ack_timeout: Duration,
}

/// The clock authority.
#[derive(Debug)]
pub struct Authority {
    store: ClockStore,
    calendar: &'static WorkingCalendar,
    pacing: Pacing,
    operator_token: Option<String>,
    followers: watch::Receiver<Followers>,
    watcher: JoinHandle<()>,
    /// One move at a time, so two operators' steps do not interleave their stops.
    moving: Mutex<()>,
}

impl Drop for Authority {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl Authority {
    /// Opens the authority over `store`: sets the stack's time to the wall clock's now if it
    /// was never set, and starts following the followers' reports.
    pub async fn open(
        store: ClockStore,
        pacing: Pacing,
        operator_token: Option<String>,
    ) -> Result<Self, ClockError> {
        store.init_now(OffsetDateTime::now_utc()).await?;
        let mut changes = Box::pin(store.watch_followers().await?);
        let (sender, followers) = watch::channel(Followers::new());
        let watcher = tokio::spawn(async move {
            while let Some((key, report)) = changes.next().await {
                sender.send_modify(|map| match report {
                    Some(report) => {
                        map.insert(key, report);
                    }
                    None => {
                        map.remove(&key);
                    }
                });
            }
        });
        Ok(Self {
            store,
            calendar: WorkingCalendar::kazakhstan(),
            pacing,
            operator_token,
            followers,
            watcher,
            moving: Mutex::new(()),
        })
    }

    /// Returns the stack's time.
    pub async fn now(&self) -> Result<OffsetDateTime, ClockError> {
        match self.store.read_now().await? {
            Some((now, _)) => Ok(now),
            None => self.store.init_now(OffsetDateTime::now_utc()).await,
        }
    }

    /// Returns the followers as last reported.
    pub fn followers(&self) -> Followers {
        self.followers.borrow().clone()
    }

    /// Returns a receiver of the followers, updated as they report.
    pub fn watch_followers(&self) -> watch::Receiver<Followers> {
        self.followers.clone()
    }

    /// Checks an `Authorization` header value (`Bearer <token>`) against the operator token.
    pub fn authorize(&self, authorization: Option<&str>) -> Result<(), AuthorityError> {
        let Some(expected) = &self.operator_token else {
            return Err(AuthorityError::Unauthorized(
                "no operator token is configured (`operator_token`)",
            ));
        };
        let Some(value) = authorization else {
            return Err(AuthorityError::Unauthorized("no `authorization` header"));
        };
        let Some(given) = value.strip_prefix("Bearer ") else {
            return Err(AuthorityError::Unauthorized(
                "the `authorization` header is not `Bearer <token>`",
            ));
        };
        if same_secret(given.trim().as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(AuthorityError::Unauthorized(
                "the token is not the operator's",
            ))
        }
    }

    /// Moves the stack's time forward by `step`, stopping at every deadline on the way.
    pub async fn advance(&self, step: Step) -> Result<Moved, AuthorityError> {
        let _one_move = self.moving.lock().await;
        let from = self.now().await?;
        let target = step.target(from, self.calendar)?;
        Ok(self.move_to(from, target).await?)
    }

    /// Moves the stack's time forward to `to`, stopping at every deadline on the way; a `to`
    /// before the stack's time is refused.
    pub async fn set(&self, to: OffsetDateTime) -> Result<Moved, AuthorityError> {
        let _one_move = self.moving.lock().await;
        let from = self.now().await?;
        if to < from {
            return Err(ClockError::Backwards {
                now: from,
                asked: to,
            }
            .into());
        }
        Ok(self.move_to(from, to).await?)
    }

    /// Steps from `from` to `target` deadline by deadline; the caller holds `moving`.
    async fn move_to(
        &self,
        from: OffsetDateTime,
        target: OffsetDateTime,
    ) -> Result<Moved, ClockError> {
        let mut current = from;
        let mut stops = 0u32;
        // Followers that missed a step's acknowledgement are not waited for again this move.
        let mut lagging = BTreeSet::new();
        while current < target {
            let next_deadline = self
                .followers
                .borrow()
                .values()
                .filter_map(|report| report.next)
                .filter(|&deadline| deadline > current && deadline <= target)
                .min();
            let stop = next_deadline.unwrap_or(target);
            current = self.store.set_now(stop).await?;
            stops += 1;
            self.wait_for_quiet(stop, &mut lagging).await;
        }
        tracing::info!(from = %from, now = %current, stops, "stack clock moved");
        Ok(Moved {
            from,
            now: current,
            stops,
        })
    }

    /// Waits until the stack is quiet at `stop`: every follower not in `lagging` has reached
    /// it and has no work in hand, and no async message is in flight; seen twice, `settle`
    /// apart. After the ack timeout it names who held it, and the followers among them join
    /// `lagging`.
    async fn wait_for_quiet(&self, stop: OffsetDateTime, lagging: &mut BTreeSet<String>) {
        let deadline = Instant::now() + self.pacing.ack_timeout;
        let mut followers = self.followers.clone();
        let mut in_flight = 0u64;
        let mut confirmed = false;
        loop {
            let mut waited = false;
            let reached = tokio::time::timeout_at(deadline, async {
                loop {
                    if holders(&followers.borrow_and_update(), stop, lagging).is_empty() {
                        return;
                    }
                    waited = true;
                    if followers.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await;
            if reached.is_err() {
                break;
            }
            in_flight = match self.store.deliveries_in_flight().await {
                Ok(count) => count,
                Err(error) => {
                    // Without the count the followers' word is all there is.
                    tracing::warn!(%error, "async messages in flight could not be counted");
                    0
                }
            };
            if in_flight > 0 || waited {
                confirmed = false;
            } else if confirmed || self.pacing.settle.is_zero() {
                // No margin asked for: the first quiet look is taken as it is.
                return;
            } else {
                confirmed = true;
            }
            if Instant::now() >= deadline {
                break;
            }
            let pause = if in_flight > 0 || self.pacing.settle.is_zero() {
                IN_FLIGHT_POLL
            } else {
                self.pacing.settle
            };
            tokio::time::sleep_until(deadline.min(Instant::now() + pause)).await;
        }
        let held = holders(&followers.borrow(), stop, lagging);
        tracing::warn!(
            late = ?held.iter().filter(|(_, report)| report.seen < stop).map(|(key, _)| key).collect::<Vec<_>>(),
            busy = ?held.iter().filter(|(_, report)| report.busy > 0).map(|(key, report)| (key, report.busy)).collect::<Vec<_>>(),
            in_flight,
            %stop,
            "the stack did not turn quiet in time; going on, and not waiting for these followers again this move"
        );
        lagging.extend(held.into_iter().map(|(key, _)| key));
    }
}

/// How often the authority counts the async messages in flight while some are.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(5);

/// Returns the followers not in `lagging` that keep the stack from being quiet at `stop`:
/// behind it, or with work in hand.
fn holders(
    followers: &Followers,
    stop: OffsetDateTime,
    lagging: &BTreeSet<String>,
) -> Vec<(String, FollowerReport)> {
    followers
        .iter()
        .filter(|(key, report)| (report.seen < stop || report.busy > 0) && !lagging.contains(*key))
        .map(|(key, report)| (key.clone(), *report))
        .collect()
}

/// Compares two secrets in time that depends on their lengths only.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(same_secret(b"operator-token-1", b"operator-token-1"));
        assert!(!same_secret(b"operator-token-2", b"operator-token-1"));
        assert!(!same_secret(b"operator-token", b"operator-token-1"));
    }
}
