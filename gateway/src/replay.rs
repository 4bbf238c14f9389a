//! Replay protection's in-memory front: a message id is accepted once within
//! a bounded window, so a burst of replays is refused without a database
//! round trip. The durable, shared guard is the message log's replay table
//! (see `MessageLog::claim_message_id`), which every admitted id also passes.
//!
//! Bounded twice, by age and by count, so memory stays flat under any load;
//! an id older than the window is forgotten here, not in the replay table.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Remembers recently seen message ids.
#[derive(Debug)]
pub struct ReplayGuard {
    window: Duration,
    capacity: usize,
    // A std Mutex: each call is a hash look-up and a push, never across an await.
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl ReplayGuard {
    /// Creates a guard remembering ids for `window`, at most `capacity` of them.
    pub fn new(window: Duration, capacity: usize) -> ReplayGuard {
        ReplayGuard {
            window,
            capacity: capacity.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Records an id; returns false if it was already seen within the window.
    pub fn first_time(&self, message_id: &str) -> bool {
        let now = Instant::now();
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        while let Some((at, _)) = seen.order.front() {
            if now.duration_since(*at) <= self.window && seen.order.len() < self.capacity {
                break;
            }
            if let Some((_, id)) = seen.order.pop_front() {
                seen.ids.remove(&id);
            }
        }
        if seen.ids.contains(message_id) {
            return false;
        }
        seen.ids.insert(message_id.to_owned());
        seen.order.push_back((now, message_id.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_seen_twice_is_a_replay() {
        let guard = ReplayGuard::new(Duration::from_secs(60), 10);
        assert!(guard.first_time("a"));
        assert!(!guard.first_time("a"));
        assert!(guard.first_time("b"));
    }

    #[test]
    fn oldest_ids_are_forgotten_beyond_capacity() {
        let guard = ReplayGuard::new(Duration::from_secs(60), 2);
        assert!(guard.first_time("a"));
        assert!(guard.first_time("b"));
        assert!(guard.first_time("c"));
        assert!(guard.first_time("a"), "a was pushed out by c");
    }

    #[test]
    fn ids_older_than_the_window_are_forgotten() {
        let guard = ReplayGuard::new(Duration::ZERO, 10);
        assert!(guard.first_time("a"));
        std::thread::sleep(Duration::from_millis(2));
        assert!(guard.first_time("a"));
    }
}
