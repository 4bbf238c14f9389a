//! Waiting in tests for something that happens elsewhere (a delivery state, a log row, a
//! consumer drained): ask again every few milliseconds, and fail naming what never came.

use std::fmt::{Debug, Display};
use std::time::Duration;

use egov_proto::v1::{Envelope, Header};
use egov_system::GatewayCaller;
use prost::Message as _;

/// How often [`until`] asks again.
pub const STEP: Duration = Duration::from_millis(20);

/// Calls `probe` every [`STEP`] until it answers `Ok`, for at most `wait`, and returns that
/// answer; panics naming `what` it waited for and the last `Err` the probe gave (what it saw
/// instead).
pub async fn until<T, Seen: Debug>(
    what: impl Display,
    wait: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, Seen>,
) -> T {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let seen = match probe().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("waited {wait:?} for {what}; last saw {seen:?}");
        }
        tokio::time::sleep(STEP).await;
    }
}

/// Fetches `caller`'s async queue until exactly one answer is there, acknowledges it and
/// returns it; panics if none came within `wait` or more than one did.
pub async fn one_answer(caller: &GatewayCaller, wait: Duration) -> Envelope {
    let what = format!("an answer in {}'s queue", caller.identity().system_id);
    let mut answers = until(what, wait, async || {
        let answers = caller.fetch(0).await.map_err(|err| err.to_string())?;
        if answers.is_empty() {
            Err("none yet".to_owned())
        } else {
            Ok(answers)
        }
    })
    .await;
    assert_eq!(answers.len(), 1, "one answer expected, got {answers:?}");
    let answer = answers.remove(0);
    let answer_id = Header::decode(&answer.header[..])
        .expect("the answer's header decodes")
        .message_id;
    caller
        .acknowledge(vec![answer_id])
        .await
        .expect("the answer is acknowledged");
    answer
}

/// Reads the gateway's log route `path` (`/correlations/<id>`, `/messages/<id>`) on its
/// operator port `http` until it lists `hops` records, and returns the body; the gateway
/// writes its log behind the hot path. Panics if it lists fewer within `wait`, or more.
pub async fn log_lists(
    http: std::net::SocketAddr,
    path: &str,
    hops: usize,
    wait: Duration,
) -> String {
    let count = |body: &str| body.matches("\"direction\"").count();
    let body = until(format!("{path} to list {hops} hops"), wait, async || {
        match crate::service::operator_request(http, "localhost", "GET", path, "").await {
            (200, body) if count(&body) >= hops => Ok(body),
            seen => Err(seen),
        }
    })
    .await;
    assert_eq!(count(&body), hops, "{path}: {body}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn until_returns_the_first_answer_that_is_ok() {
        let mut calls = 0;
        let value = until("the third call", Duration::from_secs(5), async || {
            calls += 1;
            if calls == 3 { Ok(calls) } else { Err(calls) }
        })
        .await;
        assert_eq!(value, 3);
    }

    #[tokio::test]
    #[should_panic(expected = "waited 50ms for a state that never comes; last saw \"pending\"")]
    async fn until_fails_naming_what_it_waited_for_and_what_it_saw() {
        until(
            "a state that never comes",
            Duration::from_millis(50),
            async || Err::<(), _>("pending"),
        )
        .await;
    }
}
