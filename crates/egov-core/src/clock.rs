//! The one clock every service reads time from: real by default, virtual in tests and demos.
//!
//! Services hold an `Arc<dyn Clock>`. [`SystemClock`] follows the wall clock; a
//! [`VirtualClock`] moves only when told to, so a scenario can jump 28 calendar days or six
//! working days in milliseconds while every timer that falls due fires in deadline order.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use tokio::sync::oneshot;

use crate::calendar::{KAZAKHSTAN_OFFSET, WorkingCalendar};

/// A boxed future that completes when a clock's deadline is reached.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of the current time and of timers; object-safe so services can share `Arc<dyn Clock>`.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Returns the current time in UTC.
    fn now(&self) -> OffsetDateTime;

    /// Returns a future that completes once the clock reaches `deadline`; at once if it has.
    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep;

    /// Returns a future that completes after `duration` of this clock's time.
    fn sleep(&self, duration: std::time::Duration) -> Sleep {
        match deadline_after(self.now(), duration) {
            Some(deadline) => self.sleep_until(deadline),
            // A deadline past the end of representable time never comes.
            None => Box::pin(std::future::pending()),
        }
    }
}

/// Returns `from + duration`, or `None` when it is past the last representable time.
fn deadline_after(from: OffsetDateTime, duration: std::time::Duration) -> Option<OffsetDateTime> {
    time::Duration::try_from(duration)
        .ok()
        .and_then(|d| from.checked_add(d))
}

/// The real clock: wall-clock time, timers on tokio's timer wheel.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// Returns a shareable handle to the real clock.
    pub fn shared() -> Arc<dyn Clock> {
        Arc::new(Self)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        // The remaining time is measured once, so the sleep runs on the monotonic clock and a
        // later wall-clock step (NTP, manual change) does not stretch or shorten it.
        let remaining = deadline - self.now();
        match std::time::Duration::try_from(remaining) {
            // Built inside the future so that merely creating a sleep needs no runtime.
            Ok(wait) if !wait.is_zero() => Box::pin(async move { tokio::time::sleep(wait).await }),
            // Negative or zero: the deadline has passed.
            _ => Box::pin(std::future::ready(())),
        }
    }
}

/// Cancelled timers are swept once the map reaches this size, then at twice the survivors.
const PRUNE_MIN: usize = 64;

/// The virtual clock's state, shared by every clone.
#[derive(Debug)]
struct State {
    now: OffsetDateTime,
    /// Pending timers by (deadline, registration number): the number keeps equal deadlines
    /// apart and fires them in the order they were set.
    timers: BTreeMap<(OffsetDateTime, u64), oneshot::Sender<()>>,
    next_seq: u64,
    prune_at: usize,
}

/// A clock that moves only when advanced, for tests, demos and the stack-wide virtual time.
///
/// Cheap to clone: clones share one time and one timer list.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    /// A std Mutex is fine here: it is held only for map operations and never across an
    /// await, so it cannot block the runtime, and it keeps `now()` synchronous.
    state: Arc<Mutex<State>>,
}

impl VirtualClock {
    /// Creates a virtual clock that reads `start` until advanced.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                now: start,
                timers: BTreeMap::new(),
                next_seq: 0,
                prune_at: PRUNE_MIN,
            })),
        }
    }

    /// Returns a shareable `Arc<dyn Clock>` over this clock (sharing its time and timers).
    pub fn shared(&self) -> Arc<dyn Clock> {
        Arc::new(self.clone())
    }

    /// Locks the state; a poisoned lock is still consistent because no code panics under it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves time forward by `duration`, firing due timers in deadline order; returns the new time.
    ///
    /// A duration past the last representable time leaves the clock where it is.
    pub async fn advance(&self, duration: std::time::Duration) -> OffsetDateTime {
        let now = self.now();
        match deadline_after(now, duration) {
            Some(target) => self.advance_to(target).await,
            None => {
                tracing::warn!(?duration, %now, "virtual clock advance past the representable time refused");
                now
            }
        }
    }

    /// Moves time forward to `target`, firing due timers in deadline order; returns the new time.
    ///
    /// Before each timer fires, the clock reads that timer's deadline, and the advancing task
    /// yields so the woken task runs and sees it; a timer it sets within the range fires in
    /// the same advance. A `target` in the past leaves the clock unchanged: time never goes back.
    pub async fn advance_to(&self, target: OffsetDateTime) -> OffsetDateTime {
        loop {
            let due = {
                let mut state = self.lock();
                let first_due = state
                    .timers
                    .first_key_value()
                    .is_some_and(|(&(deadline, _), _)| deadline <= target);
                if first_due {
                    state.timers.pop_first().map(|((deadline, _), sender)| {
                        if deadline > state.now {
                            state.now = deadline;
                        }
                        sender
                    })
                } else {
                    None
                }
            };
            let Some(sender) = due else { break };
            // A closed receiver is a sleep that was dropped (cancelled): nothing to wake.
            if sender.send(()).is_ok() {
                // On a current-thread runtime one yield runs every task the send made ready
                // before this loop fires the next timer, so wake-ups follow deadline order.
                tokio::task::yield_now().await;
            }
        }
        let mut state = self.lock();
        if target > state.now {
            state.now = target;
        }
        state.now
    }

    /// Moves to the same Kazakh time of day `n` working days later on `calendar`, firing timers.
    ///
    /// Working days are counted in Kazakhstan's time zone ([`KAZAKHSTAN_OFFSET`]), so 20:00 UTC
    /// on a Friday counts as Saturday 01:00, as it does for the people of the regulation.
    pub async fn advance_working_days(&self, n: u32, calendar: &WorkingCalendar) -> OffsetDateTime {
        let now = self.now();
        let Some(local) = now.checked_to_offset(KAZAKHSTAN_OFFSET) else {
            tracing::warn!(%now, "virtual clock time cannot be read in Kazakhstan's offset");
            return now;
        };
        let target = calendar.add_working_days_at(local, n);
        self.advance_to(target).await
    }

    /// Returns the number of timers waiting (including cancelled ones not yet swept).
    pub fn pending_timers(&self) -> usize {
        self.lock().timers.len()
    }

    /// Returns the earliest pending deadline, if any; useful to step a scenario timer by timer.
    pub fn next_deadline(&self) -> Option<OffsetDateTime> {
        self.lock()
            .timers
            .first_key_value()
            .map(|(&(deadline, _), _)| deadline)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        self.lock().now
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        let receiver = {
            let mut state = self.lock();
            if deadline <= state.now {
                return Box::pin(std::future::ready(()));
            }
            if state.timers.len() >= state.prune_at {
                // Sleeps dropped before their deadline (a lost `select!`) would otherwise pile up.
                state.timers.retain(|_, sender| !sender.is_closed());
                state.prune_at = (state.timers.len() * 2).max(PRUNE_MIN);
            }
            let seq = state.next_seq;
            state.next_seq = state.next_seq.wrapping_add(1);
            let (sender, receiver) = oneshot::channel();
            state.timers.insert((deadline, seq), sender);
            receiver
        };
        Box::pin(async move {
            // The sender disappears without sending only when the last clone of the clock is
            // dropped; that time never comes, so the sleep stays pending rather than lie.
            if receiver.await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;
    use time::macros::datetime;

    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(86_400);

    fn poll_once(sleep: &mut Sleep) -> Poll<()> {
        sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    }

    fn start() -> OffsetDateTime {
        datetime!(2025-03-03 04:00 UTC)
    }

    #[tokio::test]
    async fn sleepers_wake_in_deadline_order_and_see_their_own_deadline() {
        let clock = VirtualClock::new(start());
        let woke: Arc<StdMutex<Vec<(u32, OffsetDateTime)>>> = Arc::default();
        let mut tasks = Vec::new();
        // Registered out of order on purpose.
        for (id, hours) in [(3u32, 3u32), (1, 1), (2, 2)] {
            let sleep = clock.sleep(HOUR * hours);
            let (clock, woke) = (clock.clone(), woke.clone());
            tasks.push(tokio::spawn(async move {
                sleep.await;
                woke.lock().unwrap().push((id, clock.now()));
            }));
        }
        let end = clock.advance(HOUR * 4).await;
        for task in tasks {
            task.await.unwrap();
        }
        let hour = time::Duration::HOUR;
        assert_eq!(
            *woke.lock().unwrap(),
            [
                (1, start() + hour),
                (2, start() + hour * 2),
                (3, start() + hour * 3)
            ]
        );
        assert_eq!(end, start() + hour * 4);
        assert_eq!(clock.now(), end);
    }

    #[tokio::test]
    async fn virtual_sleep_of_28_days_completes_instantly_after_advance() {
        let clock = VirtualClock::new(start());
        let shared: Arc<dyn Clock> = clock.shared();
        let sleeper = tokio::spawn(async move { shared.sleep(DAY * 28).await });
        tokio::task::yield_now().await;
        let wall = std::time::Instant::now();
        clock.advance(DAY * 28).await;
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleeper woke")
            .unwrap();
        assert!(wall.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn sleep_not_yet_due_stays_pending_until_the_clock_reaches_it() {
        let clock = VirtualClock::new(start());
        let mut sleep = clock.sleep(DAY);
        assert!(poll_once(&mut sleep).is_pending());
        clock.advance(HOUR * 23).await;
        assert!(poll_once(&mut sleep).is_pending());
        clock.advance(HOUR).await;
        assert!(poll_once(&mut sleep).is_ready());
        assert_eq!(clock.pending_timers(), 0);
    }

    #[test]
    fn sleep_whose_deadline_has_passed_resolves_at_once() {
        let clock = VirtualClock::new(start());
        let mut past = clock.sleep_until(start() - time::Duration::SECOND);
        assert!(poll_once(&mut past).is_ready());
        let mut now = clock.sleep(Duration::ZERO);
        assert!(poll_once(&mut now).is_ready());
        assert_eq!(clock.pending_timers(), 0);
    }

    #[tokio::test]
    async fn periodic_task_fires_once_per_period_within_one_long_advance() {
        let clock = VirtualClock::new(start());
        let ticks: Arc<StdMutex<Vec<OffsetDateTime>>> = Arc::default();
        let (task_clock, task_ticks) = (clock.clone(), ticks.clone());
        let mut first = task_clock.sleep(DAY);
        assert!(poll_once(&mut first).is_pending());
        let task = tokio::spawn(async move {
            first.await;
            loop {
                task_ticks.lock().unwrap().push(task_clock.now());
                task_clock.sleep(DAY).await;
            }
        });
        clock.advance(DAY * 28).await;
        assert_eq!(ticks.lock().unwrap().len(), 28);
        assert_eq!(
            ticks.lock().unwrap().last().copied(),
            Some(start() + time::Duration::DAY * 28)
        );
        task.abort();
    }

    #[tokio::test]
    async fn advance_to_an_earlier_instant_leaves_the_clock_unchanged() {
        let clock = VirtualClock::new(start());
        let now = clock.advance_to(start() - time::Duration::DAY).await;
        assert_eq!(now, start());
        assert_eq!(clock.now(), start());
    }

    #[tokio::test]
    async fn dropped_sleeps_are_skipped_and_swept() {
        let clock = VirtualClock::new(start());
        for _ in 0..(PRUNE_MIN * 3) {
            drop(clock.sleep(DAY));
        }
        assert!(clock.pending_timers() <= PRUNE_MIN + 1);
        let mut live = clock.sleep(HOUR);
        assert_eq!(clock.next_deadline(), Some(start() + time::Duration::HOUR));
        clock.advance(DAY * 2).await;
        assert!(poll_once(&mut live).is_ready());
        assert_eq!(clock.pending_timers(), 0);
    }

    #[tokio::test]
    async fn advance_working_days_keeps_the_kazakh_time_of_day() {
        // Friday 7 March 2025, 15:00 in Astana; 8 March is Saturday, Monday 10 March is off.
        let clock = VirtualClock::new(datetime!(2025-03-07 10:00 UTC));
        let mut due = clock.sleep_until(datetime!(2025-03-11 09:59 UTC));
        let now = clock
            .advance_working_days(1, WorkingCalendar::kazakhstan())
            .await;
        assert_eq!(now, datetime!(2025-03-11 10:00 UTC));
        assert!(poll_once(&mut due).is_ready());
    }

    #[tokio::test]
    async fn advance_working_days_counts_days_in_kazakh_time_not_utc() {
        // 20:00 UTC on Friday 7 March is already Saturday 01:00 in Astana. One working day
        // after that Saturday is Tuesday 11 March 01:00 (Monday is the transferred 8 March),
        // which is Monday 10 March 20:00 UTC; counting UTC dates would give Tuesday 20:00.
        let clock = VirtualClock::new(datetime!(2025-03-07 20:00 UTC));
        let now = clock
            .advance_working_days(1, WorkingCalendar::kazakhstan())
            .await;
        assert_eq!(now, datetime!(2025-03-10 20:00 UTC));
    }

    #[tokio::test]
    async fn advance_past_the_representable_time_is_refused_without_panic() {
        let clock = VirtualClock::new(start());
        assert_eq!(clock.advance(Duration::MAX).await, start());
        let mut never = clock.sleep(Duration::MAX);
        assert!(poll_once(&mut never).is_pending());
    }

    #[tokio::test]
    async fn system_clock_reads_utc_and_sleeps_in_real_time() {
        let clock = SystemClock::shared();
        let before = OffsetDateTime::now_utc();
        let now = clock.now();
        assert!(now >= before && now.offset().is_utc());
        let wall = std::time::Instant::now();
        clock.sleep(Duration::from_millis(20)).await;
        assert!(wall.elapsed() >= Duration::from_millis(15));
        clock.sleep_until(before - time::Duration::DAY).await;
    }
}
