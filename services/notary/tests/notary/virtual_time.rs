//! Validity on the virtual clock: the registry judges each request at its message time,
//! so advancing the stack's clock past an expiry date turns the answer to EXPIRED.

use std::time::Duration;

use egov_core::calendar::KAZAKHSTAN_OFFSET;
use egov_core::clock::{Clock, VirtualClock};
use egov_notary::fixtures::VALID_NUMBER;
use egov_proto::v1::PowerOfAttorneyValidity;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::common::Running;

#[tokio::test]
async fn power_of_attorney_valid_today_is_expired_after_its_expiry_date() {
    // The sandbox's certificates are valid around the real today, so virtual time starts there.
    let clock = VirtualClock::new(OffsetDateTime::now_utc());
    let notary = Running::start_on(clock.shared()).await;
    let answer = notary
        .get(&notary.con, VALID_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);
    let expiry = answer
        .power_of_attorney
        .expect("the record")
        .expiry_date
        .expect("expiry");
    let expiry = time::Date::from_calendar_date(
        expiry.year,
        u8::try_from(expiry.month).unwrap().try_into().unwrap(),
        u8::try_from(expiry.day).unwrap(),
    )
    .unwrap();

    // Noon in Astana on the expiry date: still in force, the date is inclusive.
    let noon =
        PrimitiveDateTime::new(expiry, time::macros::time!(12:00)).assume_offset(KAZAKHSTAN_OFFSET);
    clock.advance_to(noon).await;
    let answer = notary
        .get(&notary.con, VALID_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Valid);

    clock.advance(Duration::from_secs(24 * 3600)).await;
    assert!(clock.now() > noon);
    let answer = notary
        .get(&notary.con, VALID_NUMBER, "B")
        .await
        .expect("answer");
    assert_eq!(answer.validity(), PowerOfAttorneyValidity::Expired);
    notary.stop().await;
}
