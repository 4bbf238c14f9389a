//! How long a 28-calendar-day step of the stack clock takes, through a real nats-server:
//! with no timers pending, and with two followers that each wake once a day (28 stops).
//!
//! Run with `cargo bench -p egov-clock`; prints one line per case.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use egov_bus::clock::{ClockStore, StackClock};
use egov_clock::{Authority, Pacing};
use egov_core::clock::{Clock, Step};

const RUNS: u32 = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nats = egov_testkit::NatsServer::start()?;
    let store = ClockStore::connect(&nats.url()).await?;
    for settle_ms in [0u64, 5] {
        let pacing = Pacing {
            settle: Duration::from_millis(settle_ms),
            ack_timeout: Duration::from_secs(2),
        };
        let authority = Authority::open(store.clone(), pacing, None).await?;
        let step: Step = "28d".parse()?;
        let idle = measure(&authority, step).await?;
        println!(
            "28d step, no timers, settle {settle_ms} ms: {:.2} ms per step (mean of {RUNS})",
            idle.as_secs_f64() * 1e3
        );

        let fired = Arc::new(AtomicU32::new(0));
        let mut followers = Vec::new();
        let mut tasks = Vec::new();
        for service in ["labor", "esobes"] {
            let clock = StackClock::follow(store.clone(), service).await?;
            let (task_clock, fired) = (clock.clone(), fired.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    task_clock.sleep(Duration::from_secs(86_400)).await;
                    fired.fetch_add(1, Ordering::Relaxed);
                }
            }));
            followers.push(clock);
        }
        let mut watch = authority.watch_followers();
        while watch.borrow_and_update().len() < followers.len() {
            watch.changed().await?;
        }
        let busy = measure(&authority, step).await?;
        println!(
            "28d step, 2 followers with a daily timer each, settle {settle_ms} ms: {:.2} ms per step (mean of {RUNS}, {} timers fired)",
            busy.as_secs_f64() * 1e3,
            fired.load(Ordering::Relaxed)
        );
        for task in tasks {
            task.abort();
        }
        drop(followers);
    }
    Ok(())
}

/// Returns the mean wall time of `RUNS` steps.
async fn measure(authority: &Authority, step: Step) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for _ in 0..RUNS {
        authority.advance(step).await?;
    }
    Ok(started.elapsed() / RUNS)
}
