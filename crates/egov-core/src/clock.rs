//! The one clock every service reads time from: real by default, virtual in tests and demos.
//!
//! Services hold an `Arc<dyn Clock>`. [`SystemClock`] follows the wall clock; a
//! [`VirtualClock`] moves only when told to, so a scenario can jump 28 calendar days or six
//! working days in milliseconds while every timer that falls due fires in deadline order.
//!
//! For the stack-wide virtual time a [`VirtualClock`] follows an authority: the authority
//! moves it with [`VirtualClock::advance_to`], and [`VirtualClock::watch_next_deadline`] tells
//! the authority which deadline this process waits for next, so a long [`Step`] stops at
//! every process's timers in order.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;
use tokio::sync::{oneshot, watch};

use crate::calendar::{CalendarError, KAZAKHSTAN_OFFSET, WorkingCalendar};

/// A boxed future that completes when a clock's deadline is reached.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A boxed future that completes when a clock's deadline is reached, with a [`Hold`] on the
/// work the wake-up starts, taken as the timer fired.
pub type HeldSleep = Pin<Box<dyn Future<Output = Hold> + Send + 'static>>;

/// The work one process has in hand, counted by the [`Hold`]s alive; a stack-clock follower
/// reports it so the clock authority moves on only when the stack is quiet.
#[derive(Debug, Clone)]
pub struct Workload {
    busy: Arc<watch::Sender<u32>>,
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

impl Workload {
    /// Returns an idle workload.
    pub fn new() -> Self {
        Self {
            busy: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Counts one piece of work in hand until the returned hold is dropped.
    pub fn hold(&self) -> Hold {
        self.busy.send_modify(|busy| *busy = busy.saturating_add(1));
        Hold(Some(self.clone()))
    }

    /// Returns how many pieces of work are in hand.
    pub fn busy(&self) -> u32 {
        *self.busy.borrow()
    }

    /// Returns a receiver of the count, updated as holds are taken and dropped.
    pub fn watch(&self) -> watch::Receiver<u32> {
        self.busy.subscribe()
    }
}

/// One piece of work in hand (handling a message, a timer's work): while it lives, the
/// process counts as busy. Dropping it ends the work.
#[must_use = "the work counts as in hand only while the hold lives"]
#[derive(Debug)]
pub struct Hold(Option<Workload>);

impl Hold {
    /// A hold that counts nothing, for clocks no one waits on (the wall clock).
    pub fn none() -> Self {
        Self(None)
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(workload) = self.0.take() {
            workload
                .busy
                .send_modify(|busy| *busy = busy.saturating_sub(1));
        }
    }
}

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

    /// Counts work in hand (handling a message) until the hold is dropped, so a stack clock
    /// does not move on while it runs; clocks no one waits on count nothing.
    fn hold(&self) -> Hold {
        Hold::none()
    }

    /// Like [`Clock::sleep_until`], but the wake-up carries a hold on the work it starts,
    /// taken as the timer fires: keep it until that work is done.
    fn sleep_until_held(&self, deadline: OffsetDateTime) -> HeldSleep {
        let sleep = self.sleep_until(deadline);
        Box::pin(async move {
            sleep.await;
            Hold::none()
        })
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
    /// Each timer is handed a hold on the work its wake-up starts as it fires.
    timers: BTreeMap<(OffsetDateTime, u64), oneshot::Sender<Hold>>,
    next_seq: u64,
    prune_at: usize,
    /// The earliest live deadline, for whoever follows this clock's timers.
    next_deadline: watch::Sender<Option<OffsetDateTime>>,
    /// The work in hand in this process, fired timers' work included.
    workload: Workload,
}

impl State {
    /// Drops cancelled timers at the head and publishes the earliest live deadline if it changed.
    fn publish_next_deadline(&mut self) {
        while self
            .timers
            .first_key_value()
            .is_some_and(|(_, sender)| sender.is_closed())
        {
            self.timers.pop_first();
        }
        let next = self.timers.first_key_value().map(|(&(d, _), _)| d);
        self.next_deadline.send_if_modified(|current| {
            let changed = *current != next;
            *current = next;
            changed
        });
    }
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
                next_deadline: watch::Sender::new(None),
                workload: Workload::new(),
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
                        (sender, state.workload.hold())
                    })
                } else {
                    None
                }
            };
            let Some((sender, hold)) = due else {
                self.lock().publish_next_deadline();
                break;
            };
            // A closed receiver is a sleep that was dropped (cancelled): nothing to wake, and
            // the hold comes back and is dropped.
            if sender.send(hold).is_ok() {
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

    /// Like [`Self::advance_working_days`], but refuses a step through a year the calendar has
    /// no data for instead of counting it by the fixed holidays; the clock then stays put.
    pub async fn try_advance_working_days(
        &self,
        n: u32,
        calendar: &WorkingCalendar,
    ) -> Result<OffsetDateTime, StepError> {
        let target = Step::WorkingDays(n).target(self.now(), calendar)?;
        Ok(self.advance_to(target).await)
    }

    /// Returns a receiver of the earliest pending deadline, updated as timers are set and fire.
    ///
    /// A follower of the stack clock reports it to the authority, which steps to it in order.
    pub fn watch_next_deadline(&self) -> watch::Receiver<Option<OffsetDateTime>> {
        self.lock().next_deadline.subscribe()
    }

    /// Returns the work in hand in this process: holds taken on this clock and fired timers
    /// whose wake-up has not finished.
    pub fn workload(&self) -> Workload {
        self.lock().workload.clone()
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

impl VirtualClock {
    /// Registers a timer at `deadline`; `None` when the clock has already reached it.
    fn register(&self, deadline: OffsetDateTime) -> Option<oneshot::Receiver<Hold>> {
        let mut state = self.lock();
        if deadline <= state.now {
            return None;
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
        state.publish_next_deadline();
        Some(receiver)
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        self.lock().now
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        let held = self.sleep_until_held(deadline);
        // The fired timer's hold ends as the sleep completes: a plain sleep says nothing of
        // the work after it.
        Box::pin(async move {
            drop(held.await);
        })
    }

    fn hold(&self) -> Hold {
        self.lock().workload.hold()
    }

    fn sleep_until_held(&self, deadline: OffsetDateTime) -> HeldSleep {
        let Some(receiver) = self.register(deadline) else {
            return Box::pin(std::future::ready(self.hold()));
        };
        Box::pin(async move {
            // The sender disappears without sending only when the last clone of the clock is
            // dropped; that time never comes, so the sleep stays pending rather than lie.
            match receiver.await {
                Ok(hold) => hold,
                Err(_) => std::future::pending::<Hold>().await,
            }
        })
    }
}

/// How far an operator moves a virtual clock: calendar time (`90s`, `30m`, `2h`, `3d`, `1w`)
/// or working days on Kazakhstan's calendar (`6wd`, жұмыс күні / рабочий день).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A span of calendar time.
    Calendar(std::time::Duration),
    /// A number of working days, keeping the Kazakh time of day.
    WorkingDays(u32),
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The text is not a number followed by a unit.
    #[error("step `{text}` is not a number followed by s, m, h, d, w or wd (e.g. `3d`, `6wd`)")]
    Syntax {
        /// The text given.
        text: String,
    },
    /// The step leads past the last time the clock can represent.
    #[error("step `{step}` from {from} leads past the last representable time")]
    OutOfRange {
        /// The step.
        step: Step,
        /// Where it started.
        from: OffsetDateTime,
    },
    /// A working-day step crosses a year the calendar has no data for.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl Step {
    /// Returns where this step from `from` lands; working days are counted in Kazakh time.
    pub fn target(
        self,
        from: OffsetDateTime,
        calendar: &WorkingCalendar,
    ) -> Result<OffsetDateTime, StepError> {
        let out_of_range = || StepError::OutOfRange { step: self, from };
        match self {
            Self::Calendar(duration) => deadline_after(from, duration).ok_or_else(out_of_range),
            Self::WorkingDays(n) => {
                let local = from
                    .checked_to_offset(KAZAKHSTAN_OFFSET)
                    .ok_or_else(out_of_range)?;
                let target = calendar.try_add_working_days_at(local, n)?;
                Ok(target.to_offset(time::UtcOffset::UTC))
            }
        }
    }
}

impl FromStr for Step {
    type Err = StepError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || StepError::Syntax {
            text: text.to_owned(),
        };
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(syntax)?;
        let (number, unit) = trimmed.split_at(split);
        let n: u64 = number.parse().map_err(|_| syntax())?;
        let seconds = |per: u64| {
            n.checked_mul(per)
                .map(|s| Self::Calendar(std::time::Duration::from_secs(s)))
                .ok_or_else(syntax)
        };
        match unit {
            "s" => seconds(1),
            "m" => seconds(60),
            "h" => seconds(3600),
            "d" => seconds(86_400),
            "w" => seconds(7 * 86_400),
            "wd" => u32::try_from(n)
                .map(Self::WorkingDays)
                .map_err(|_| syntax()),
            _ => Err(syntax()),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WorkingDays(n) => write!(f, "{n}wd"),
            Self::Calendar(duration) => {
                let secs = duration.as_secs();
                match secs {
                    s if s % 86_400 == 0 && s > 0 => write!(f, "{}d", s / 86_400),
                    s if s % 3600 == 0 && s > 0 => write!(f, "{}h", s / 3600),
                    s if s % 60 == 0 && s > 0 => write!(f, "{}m", s / 60),
                    s => write!(f, "{s}s"),
                }
            }
        }
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

    #[test]
    fn steps_parse_calendar_units_and_working_days() {
        assert_eq!("3d".parse(), Ok(Step::Calendar(DAY * 3)));
        assert_eq!("28d".parse(), Ok(Step::Calendar(DAY * 28)));
        assert_eq!("2h".parse(), Ok(Step::Calendar(HOUR * 2)));
        assert_eq!("6wd".parse(), Ok(Step::WorkingDays(6)));
        assert_eq!(Step::WorkingDays(6).to_string(), "6wd");
        assert_eq!(Step::Calendar(DAY * 3).to_string(), "3d");
    }

    #[test]
    fn step_without_a_known_unit_is_refused_naming_it() {
        for bad in ["", "3", "d", "3y", "-3d", "3.5d", "99999999999999999999wd"] {
            let err = bad.parse::<Step>().unwrap_err();
            assert!(matches!(err, StepError::Syntax { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn working_day_step_into_an_uncovered_year_is_refused() {
        let err = Step::WorkingDays(6)
            .target(
                datetime!(2027-12-28 04:00 UTC),
                WorkingCalendar::kazakhstan(),
            )
            .unwrap_err();
        assert!(matches!(
            err,
            StepError::Calendar(CalendarError::UncoveredYear { year: 2028, .. })
        ));
    }

    #[tokio::test]
    async fn next_deadline_watch_follows_timers_as_they_are_set_and_fire() {
        let clock = VirtualClock::new(start());
        let watch = clock.watch_next_deadline();
        assert_eq!(*watch.borrow(), None);
        let _late = clock.sleep(DAY);
        let _early = clock.sleep(HOUR);
        assert_eq!(*watch.borrow(), Some(start() + time::Duration::HOUR));
        clock.advance(HOUR * 2).await;
        assert_eq!(*watch.borrow(), Some(start() + time::Duration::DAY));
        clock.advance(DAY).await;
        assert_eq!(*watch.borrow(), None);
    }

    #[tokio::test]
    async fn a_fired_timer_holds_the_clock_until_its_wake_up_is_done() {
        let clock = VirtualClock::new(start());
        let fired = clock.sleep_until_held(start() + time::Duration::DAY);
        assert_eq!(clock.workload().busy(), 0, "nothing fired yet");

        clock.advance(Duration::from_secs(86_400)).await;
        assert_eq!(clock.workload().busy(), 1, "fired, its wake-up not yet run");
        let work = fired.await;
        assert_eq!(clock.workload().busy(), 1, "the woken work holds it");
        drop(work);
        assert_eq!(clock.workload().busy(), 0);
    }

    #[tokio::test]
    async fn a_plain_sleep_or_a_cancelled_one_leaves_the_clock_idle() {
        let clock = VirtualClock::new(start());
        let plain = clock.sleep_until(start() + time::Duration::HOUR);
        let cancelled = clock.sleep_until_held(start() + time::Duration::HOUR);
        drop(cancelled);
        clock.advance(Duration::from_secs(7_200)).await;
        plain.await;
        assert_eq!(clock.workload().busy(), 0);
    }

    #[test]
    fn holds_count_work_in_hand_until_dropped() {
        let clock = VirtualClock::new(start());
        let first = clock.hold();
        let second = clock.hold();
        assert_eq!(clock.workload().busy(), 2);
        drop(first);
        drop(second);
        assert_eq!(clock.workload().busy(), 0);
        drop(SystemClock.hold());
    }
}
