//! The personal cabinet as JSON (`GET /api/cabinet`), for its signed-in citizen only: the
//! portal on port 0 behind the sandbox gateway with the real citizens-DB (registration asks
//! it), citizens registering and signing in over HTTP as a person does, and notifications kept
//! in the portal's store as its cabinet receiver keeps them.

use egov_citizens::fixtures::{ADOPTION_APPLICANT, GUARDIAN, PROVIDER_HEAD};
use egov_core::systems;
use egov_portal::store::NotificationRow;
use egov_scenario::PortalClient;
use egov_test_stack::{Neighbours, StartedPortal};

/// Every citizen's password in these tests.
const PASSWORD: &str = "qazaqstan-2026";

/// The portal running, and its store.
struct Stack {
    neighbours: Neighbours,
    store: egov_portal::Store,
    url: String,
}

impl Stack {
    async fn start() -> Stack {
        let neighbours = Neighbours::start(&systems::PORTAL, "egov-portal-cabinet-api").await;
        // Registration asks the citizens-DB through the gateway.
        neighbours.route_lookups_for(&[systems::PORTAL.id]);
        let StartedPortal { store, url, .. } = neighbours.start_portal(|_, _| {}).await;
        Stack {
            neighbours,
            store,
            url,
        }
    }

    /// Keeps a notification for `iin` about `number`, signed by the provider's head.
    async fn notify(&self, iin: &str, number: &str, status: &str, at: i64) {
        self.store
            .insert_notification(&NotificationRow {
                id: format!("{number}-{status}"),
                recipient_iin: iin.to_owned(),
                registration_number: number.to_owned(),
                status: status.to_owned(),
                kind: if status == "issued" {
                    "RESULT_KIND_RESOLUTION".to_owned()
                } else {
                    String::new()
                },
                text: format!("{status} {number}"),
                fields_json: format!(r#"{{"status":"{status}"}}"#),
                signer_subject: "CN=Head".to_owned(),
                signer_iin: PROVIDER_HEAD.to_owned(),
                signer_bin: systems::BACKOFFICE.bin.to_owned(),
                signer_serial: "0a1b".to_owned(),
                signer_roles: "Head".to_owned(),
                signer_not_after: "2027-12-31T00:00:00Z".to_owned(),
                received_at: at,
            })
            .await
            .expect("kept");
    }

    fn client(&self) -> PortalClient {
        PortalClient::new(&self.url, PASSWORD).expect("portal URL")
    }
}

/// The statuses of the cabinet's notifications, in order.
fn statuses(cabinet: &serde_json::Value) -> Vec<(String, String)> {
    cabinet["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|row| {
            (
                row["registration_number"].as_str().unwrap_or("").to_owned(),
                row["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_signed_in_citizen_reads_their_own_notifications_with_the_check_of_the_signature() {
    let stack = Stack::start().await;
    stack.notify(GUARDIAN, "KZ-0001", "registered", 1).await;
    stack.notify(GUARDIAN, "KZ-0002", "registered", 2).await;
    stack.notify(GUARDIAN, "KZ-0001", "issued", 3).await;
    let client = stack.client();

    let all = client.cabinet(GUARDIAN, None).await.expect("cabinet");
    let one = client
        .cabinet(GUARDIAN, Some("KZ-0001"))
        .await
        .expect("cabinet");

    assert_eq!(all["iin"], GUARDIAN);
    assert_eq!(
        statuses(&all),
        [
            ("KZ-0001".into(), "registered".into()),
            ("KZ-0002".into(), "registered".into()),
            ("KZ-0001".into(), "issued".into()),
        ]
    );
    assert_eq!(
        statuses(&one),
        [
            ("KZ-0001".into(), "registered".into()),
            ("KZ-0001".into(), "issued".into()),
        ]
    );
    let result = &one["notifications"][1];
    assert_eq!(result["kind"], "RESULT_KIND_RESOLUTION");
    assert_eq!(result["text"], "issued KZ-0001");
    assert_eq!(result["fields"]["status"], "issued");
    assert_eq!(result["signer_iin"], PROVIDER_HEAD);
    assert_eq!(result["signer_bin"], systems::BACKOFFICE.bin);
    assert_eq!(result["signature_verified"], true);
    assert_eq!(result["received_at"], "1970-01-01T00:00:00.000003Z");
}

#[tokio::test]
async fn another_citizens_notifications_are_never_shown_even_when_their_number_is_asked() {
    let stack = Stack::start().await;
    stack.notify(GUARDIAN, "KZ-0001", "issued", 1).await;
    let client = stack.client();

    let by_number = client
        .cabinet(ADOPTION_APPLICANT, Some("KZ-0001"))
        .await
        .expect("cabinet");
    let all = client
        .cabinet(ADOPTION_APPLICANT, None)
        .await
        .expect("cabinet");

    assert_eq!(by_number["iin"], ADOPTION_APPLICANT);
    assert_eq!(statuses(&by_number), []);
    assert_eq!(statuses(&all), []);
}

#[tokio::test]
async fn the_cabinet_is_refused_without_a_session() {
    let stack = Stack::start().await;
    stack.notify(GUARDIAN, "KZ-0001", "issued", 1).await;
    let client = stack.client();

    let without = client.read_cabinet(None, None).await.expect("answered");
    let forged = client
        .read_cabinet(Some("not-a-session"), Some("KZ-0001"))
        .await
        .expect("answered");

    assert_eq!(without.status, 401, "{}", without.body);
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert!(!forged.body.contains("KZ-0001"), "{}", forged.body);
}

#[tokio::test]
async fn a_citizen_whose_session_ended_on_the_stack_clock_signs_in_again() {
    let stack = Stack::start().await;
    stack.notify(GUARDIAN, "KZ-0001", "registered", 1).await;
    let client = stack.client();
    let first = client.session(GUARDIAN).await.expect("signed in");

    // Past the session's idle time (30 minutes) on the stack clock the cookie is refused.
    stack
        .neighbours
        .clock
        .advance(std::time::Duration::from_secs(31 * 60))
        .await;
    let stale = client
        .read_cabinet(Some(&first), None)
        .await
        .expect("answered");
    let cabinet = client.cabinet(GUARDIAN, None).await.expect("cabinet");

    assert_eq!(stale.status, 401, "{}", stale.body);
    assert_eq!(
        statuses(&cabinet),
        [("KZ-0001".into(), "registered".into())]
    );
    assert_ne!(client.session(GUARDIAN).await.expect("kept"), first);
}

#[tokio::test]
async fn a_cabinet_result_is_refused_when_signed_by_another_providers_head() {
    use egov_core::providers;
    use egov_proto::v1::{ResultKind, ServiceResult};
    use egov_system::cabinet::{
        CABINET_NOTIFY_SERVICE_ID, FIELD_RECIPIENT_IIN, FIELD_SERVICE_CODE, FIELD_STATUS,
    };

    let stack = Stack::start().await;
    let result = ServiceResult {
        registration_number: "GU-2026-000001".into(),
        kind: ResultKind::Resolution as i32,
        text: "қаулы / постановление".into(),
        fields: [
            (FIELD_STATUS, "issued"),
            (FIELD_SERVICE_CODE, "F"),
            (FIELD_RECIPIENT_IIN, GUARDIAN),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect(),
        ..ServiceResult::default()
    };
    // F is the guardianship body's (Kostanay district's education department): the
    // employment centre's head may not sign it.
    let other_head = stack
        .neighbours
        .provider_head(&providers::EMPLOYMENT_CENTRE);
    egov_test_stack::assert_refused_as_not_the_providers(
        stack
            .neighbours
            .deliver_result_as(&other_head, CABINET_NOTIFY_SERVICE_ID, &result)
            .await,
        &providers::EMPLOYMENT_CENTRE,
        &providers::KOSTANAY_EDUCATION_DEPARTMENT,
    );
    assert!(
        stack
            .store
            .notifications_of(GUARDIAN, None)
            .await
            .expect("read")
            .is_empty(),
        "nothing is kept in the cabinet"
    );

    let own_head = stack
        .neighbours
        .provider_head(&providers::KOSTANAY_EDUCATION_DEPARTMENT);
    stack
        .neighbours
        .deliver_result_as(&own_head, CABINET_NOTIFY_SERVICE_ID, &result)
        .await
        .expect("the guardianship body's head signs F's result");
}
