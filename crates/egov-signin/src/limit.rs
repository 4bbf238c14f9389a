//! Login rate limiting: failed attempts counted per login and per client address in a sliding
//! window on the service's clock; past either limit the login is refused with 429 before the
//! password is even checked, so guessing costs the guesser time, not the server CPU.
//! Kept in memory: a restart forgets the counts, which only gives a guesser one more window.
//! A request whose address the server does not know (served without connect info) is
//! limited per login only: counting every such request under one key would let anyone lock
//! everyone out.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// How many failed attempts a window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failed attempts allowed within the window; the next one is refused.
    pub failures: usize,
    /// The window.
    pub window: Duration,
}

/// Entries kept before the map is swept of windows that have passed.
const SWEEP_AT: usize = 10_000;

/// Failed attempts per key, oldest first.
#[derive(Debug, Default)]
struct Counts(HashMap<String, VecDeque<OffsetDateTime>>);

impl Counts {
    /// Returns when the key may try again, if it is over `limit` now.
    fn blocked(&mut self, key: &str, limit: Limit, now: OffsetDateTime) -> Option<Duration> {
        let since = now - limit.window;
        let failures = self.0.get_mut(key)?;
        while failures.front().is_some_and(|at| *at <= since) {
            failures.pop_front();
        }
        if failures.len() < limit.failures {
            return None;
        }
        let oldest = *failures.front()?;
        let wait = (oldest + limit.window) - now;
        Some(
            Duration::try_from(wait)
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_secs(1)),
        )
    }

    fn record(&mut self, key: &str, limit: Limit, now: OffsetDateTime) {
        if self.0.len() >= SWEEP_AT {
            let since = now - limit.window;
            self.0
                .retain(|_, failures| failures.back().is_some_and(|at| *at > since));
        }
        let failures = self.0.entry(key.to_owned()).or_default();
        failures.push_back(now);
        // Only the last `failures` attempts decide; older ones need not be kept.
        while failures.len() > limit.failures.max(1) {
            failures.pop_front();
        }
    }
}

/// The limiter of one service's logins.
#[derive(Debug)]
pub struct Limiter {
    per_login: Limit,
    per_address: Limit,
    counts: Mutex<(Counts, Counts)>,
}

impl Limiter {
    /// Returns a limiter with the two limits.
    pub fn new(per_login: Limit, per_address: Limit) -> Limiter {
        Limiter {
            per_login,
            per_address,
            counts: Mutex::new((Counts::default(), Counts::default())),
        }
    }

    /// Returns how long to wait when the login or the address is over its limit.
    pub fn check(
        &self,
        login: &str,
        address: Option<&str>,
        now: OffsetDateTime,
    ) -> Option<Duration> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let by_login = counts.0.blocked(login, self.per_login, now);
        let by_address =
            address.and_then(|address| counts.1.blocked(address, self.per_address, now));
        by_login.max(by_address)
    }

    /// Counts a failed attempt against the login and the address.
    pub fn failed(&self, login: &str, address: Option<&str>, now: OffsetDateTime) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.0.record(login, self.per_login, now);
        if let Some(address) = address {
            counts.1.record(address, self.per_address, now);
        }
    }

    /// Forgets the login's failures after it signed in; the address keeps its count.
    pub fn succeeded(&self, login: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.0.0.remove(login);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn limiter() -> Limiter {
        Limiter::new(
            Limit {
                failures: 3,
                window: 10 * MINUTE,
            },
            Limit {
                failures: 5,
                window: 10 * MINUTE,
            },
        )
    }

    #[test]
    fn a_login_is_blocked_after_its_failures_until_the_window_passes() {
        let limiter = limiter();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..3 {
            assert_eq!(limiter.check("aigul", Some("a"), t0), None, "attempt {i}");
            limiter.failed("aigul", Some("a"), t0);
        }
        assert_eq!(limiter.check("aigul", Some("b"), t0), Some(10 * MINUTE));
        assert_eq!(
            limiter.check("daulet", Some("b"), t0),
            None,
            "other logins unaffected"
        );
        assert_eq!(limiter.check("aigul", Some("b"), t0 + 10 * MINUTE), None);
    }

    #[test]
    fn an_address_is_blocked_after_failures_across_logins() {
        let limiter = limiter();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..5 {
            limiter.failed(&format!("login{i}"), Some("10.0.0.1"), t0);
        }
        assert!(limiter.check("fresh", Some("10.0.0.1"), t0).is_some());
        assert_eq!(limiter.check("fresh", Some("10.0.0.2"), t0), None);
    }

    #[test]
    fn an_unknown_address_is_limited_per_login_only() {
        let limiter = limiter();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..10 {
            limiter.failed(&format!("login{i}"), None, t0);
        }
        assert_eq!(limiter.check("fresh", None, t0), None);
        assert!(limiter.check("login0", None, t0).is_none());
    }

    #[test]
    fn signing_in_clears_the_login_s_failures() {
        let limiter = limiter();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        limiter.failed("aigul", Some("a"), t0);
        limiter.failed("aigul", Some("b"), t0);
        limiter.succeeded("aigul");
        limiter.failed("aigul", Some("c"), t0);
        assert_eq!(limiter.check("aigul", Some("d"), t0), None);
    }
}
