//! A check every intake store passes on either database: [`intake_round_trips`] writes a
//! sequence, an application and its result through [`IntakeStore`] and reads them back.

use egov_proto::v1::{Channel, ResultKind};
use egov_system::intake::{IntakeStore, Registration, StoredResult};
use time::OffsetDateTime;
use time::macros::datetime;

/// Writes and reads back every intake table through `store`, with `prefix` numbering;
/// panics (it is for tests) naming the first value that did not come back.
pub async fn intake_round_trips<S: IntakeStore>(store: &S, prefix: &str) {
    let registered_at: OffsetDateTime = datetime!(2026-11-25 09:15:30.123456789 +05:00);
    assert_eq!(
        store.next_sequence(prefix, 2026).await.expect("sequence"),
        1
    );
    assert_eq!(
        store.next_sequence(prefix, 2026).await.expect("sequence"),
        2
    );
    assert_eq!(
        store.next_sequence(prefix, 2027).await.expect("sequence"),
        1
    );

    let number = format!("{prefix}-2026-000001");
    let registration = Registration {
        registration_number: number.clone(),
        service_code: prefix.to_owned(),
        channel: Channel::StateCorporation,
        recipient_iin: "751204400013".into(),
        representative_iin: "881111300454".into(),
        child_iin: String::new(),
        sender_system_id: "con".into(),
        author_iin: "881111300454".into(),
        request_message_id: "0193a4f2-0000-7000-8000-000000000001".into(),
        // Every byte value, NUL included: BLOB on SQLite, BYTEA on PostgreSQL.
        application: (0..=255).collect(),
        case_id: "case-1".into(),
        registered_at,
        due_at: registered_at + time::Duration::days(5),
    };
    store
        .insert_registration(&registration)
        .await
        .expect("registers");
    assert_eq!(
        store.registration(&number).await.expect("reads"),
        Some(registration)
    );
    assert_eq!(store.registration("nope").await.expect("reads"), None);

    let result = StoredResult {
        registration_number: number.clone(),
        kind: ResultKind::Refusal,
        refusal_ground: "item 10.2".into(),
        result: vec![0x0a, 0, 0xff],
        envelope: vec![0, 1, 2, 3],
        signer_subject: "CN=Head, SERIALNUMBER=IIN751204400013".into(),
        signer_iin: "751204400013".into(),
        received_at: registered_at + time::Duration::hours(3),
    };
    assert!(store.insert_result(&result).await.expect("stores"));
    let second = StoredResult {
        kind: ResultKind::Certificate,
        ..result.clone()
    };
    assert!(
        !store.insert_result(&second).await.expect("stores"),
        "a second result replaced the first"
    );
    assert_eq!(store.result(&number).await.expect("reads"), Some(result));
}
