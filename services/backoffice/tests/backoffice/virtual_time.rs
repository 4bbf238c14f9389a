//! The regulation's durations on the virtual clock: a 28-day examination passes in
//! milliseconds of wall time, and a working day skips weekends and holidays.

use std::time::{Duration, Instant};

use egov_core::systems;
use egov_proto::v1::{BackOfficeRole, Channel};
use time::macros::datetime;

use crate::common::{Options, Stack, application, at, next_monday_morning};

#[tokio::test]
async fn guardianship_examination_of_28_calendar_days_runs_in_milliseconds_on_the_virtual_clock() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = stack
        .open(
            systems::REGIONAL_GATEWAY.id,
            application(
                "F",
                Channel::Provider,
                &[
                    "application",
                    "child_birth_certificate",
                    "parental_care_loss_document",
                    "health_certificate",
                ],
            ),
            "RSHEP-F-28",
        )
        .await
        .expect("opened");
    // Clerk (30 min) and head (20 min) first.
    stack.clock.advance(Duration::from_secs(50 * 60)).await;
    let case = stack.wait_for_step(&opened.id, 2).await;
    let examination = &case.steps[2];
    assert_eq!(examination.role(), BackOfficeRole::Executor);
    assert_eq!(examination.norm, "28 cd");
    let started = at(examination.started_at.as_ref());
    assert_eq!(
        at(examination.due_at.as_ref()),
        started + time::Duration::days(28)
    );

    let wall = Instant::now();
    stack.clock.advance(Duration::from_secs(28 * 86_400)).await;
    let case = stack
        .wait_until(&opened.id, |case| case.steps[2].ended_at.is_some())
        .await;
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "{:?}",
        wall.elapsed()
    );
    assert_eq!(
        at(case.steps[2].ended_at.as_ref()),
        started + time::Duration::days(28)
    );
    assert!(!case.steps[2].late);
    assert_eq!(
        case.steps[3].role(),
        BackOfficeRole::Head,
        "the head signs next"
    );
}

#[tokio::test]
async fn working_day_step_due_on_friday_before_a_holiday_falls_on_the_next_working_day() {
    // Friday 7 March 2025, 09:00 in Astana; 8 March falls on Saturday and moves to Monday 10.
    // Opened at the desk: the sandbox's certificates are not valid in 2025, and no gateway
    // hop is needed to read the step's due time.
    let stack = Stack::start(datetime!(2025-03-07 04:00 UTC), Options::default()).await;
    let case = stack
        .open_at_desk(application("C", Channel::Provider, &["application"]))
        .await;
    assert_eq!(
        at(case.steps[0].due_at.as_ref()),
        datetime!(2025-03-07 04:15 UTC),
        "the clerk's 15 min"
    );
    stack
        .clock
        .advance_to(datetime!(2025-03-07 04:15 UTC))
        .await;
    let case = stack.wait_for_step(&case.id, 1).await;
    let head = &case.steps[1];
    assert_eq!(head.role(), BackOfficeRole::Head);
    assert_eq!(head.norm, "1 wd");
    assert_eq!(
        at(head.started_at.as_ref()),
        datetime!(2025-03-07 04:15 UTC)
    );
    assert_eq!(
        at(head.due_at.as_ref()),
        datetime!(2025-03-11 04:15 UTC),
        "Tuesday, the next working day"
    );
}
