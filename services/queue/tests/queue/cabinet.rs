//! Service D's referral issued after the placement: when a place frees later, the register
//! refers the waiting child and sends the referral, signed with its seal, to the cabinet of
//! the recipient (FLOWS.md, service D: «a reply (a referral) … is sent to the cabinet»); it
//! keeps the referral and retries while the cabinet cannot be reached.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_citizens::fixtures::{CHILD_UNDER_7, PARENT_OF_CHILD_UNDER_7};
use egov_core::clock::Clock;
use egov_core::{Bin, Iin, systems};
use egov_proto::v1::{Channel, ResultKind, ServiceResult};
use egov_queue::cabinet::{CABINET_NOTIFY_SERVICE_ID, FIELD_STATUS, STATUS_REFERRAL_ISSUED};
use egov_queue::entry::{age_group, age_group_name};
use egov_queue::fixtures::{BALAPAN, SHIELI_DISTRICT};
use egov_system::intake::{age_on, local_date};
use egov_system::{Fault, Handler, Receiver, Reply, Request};
use tokio::net::TcpListener;

use crate::common::{Stack, request};

/// The portal's cabinet as the register sees it: records every referral it is sent.
#[derive(Debug, Default)]
struct Cabinet {
    referrals: Mutex<Vec<(String, ServiceResult)>>,
}

impl Handler for Cabinet {
    async fn handle(&self, request: Request) -> Result<Reply, Fault> {
        let result: ServiceResult = request.decode()?;
        let queue =
            Bin::parse(systems::QUEUE.bin).map_err(|error| Fault::invalid(error.to_string()))?;
        if result.fields.get(FIELD_STATUS).map(String::as_str) == Some(STATUS_REFERRAL_ISSUED)
            && request.verified.signed_by_bin(&queue)
        {
            let sender = request.header().sender_system_id.clone();
            self.referrals
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((sender, result));
        }
        Ok(Reply::message(
            &egov_core::StatusCode::Success.to_proto("kept in the cabinet"),
        ))
    }
}

impl Cabinet {
    fn referrals(&self) -> Vec<(String, ServiceResult)> {
        self.referrals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// Serves the cabinet as the portal and returns its address (not routed yet).
async fn start_cabinet(stack: &Stack) -> (Arc<Cabinet>, std::net::SocketAddr) {
    let cabinet = Arc::new(Cabinet::default());
    let receiver = Receiver::new(
        stack.portal.identity().clone(),
        stack.sandbox.verifier(),
        cabinet.clone(),
        stack.clock.shared(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(egov_bus::grpc::serve(
        listener,
        egov_bus::grpc::GrpcRoutes::new().add_service(receiver.into_server()),
        std::future::pending(),
    ));
    (cabinet, addr)
}

/// A placement that waited for a free place, and the referral it got when one freed.
struct Referred {
    /// The register's number the placement was answered under.
    registration_number: String,
    /// The referral's number.
    referral_number: String,
}

/// Serves the cabinet as the portal and routes it, as the registry does, for the back office
/// and the queue register.
async fn start_routed_cabinet(stack: &Stack) -> Arc<Cabinet> {
    let (cabinet, addr) = start_cabinet(stack).await;
    stack.sandbox.route(
        CABINET_NOTIFY_SERVICE_ID,
        systems::PORTAL.id,
        addr,
        &[systems::QUEUE.id, systems::BACKOFFICE.id],
    );
    cabinet
}

/// Queues the fixture child in a district without free places, then frees one there.
async fn queue_then_free_a_place(stack: &Stack) -> Referred {
    let placed = stack
        .place_on_portal(
            PARENT_OF_CHILD_UNDER_7,
            request(
                PARENT_OF_CHILD_UNDER_7,
                CHILD_UNDER_7,
                SHIELI_DISTRICT,
                "",
                Channel::Portal,
            ),
        )
        .await
        .expect("placed");
    assert_eq!(placed.kind(), ResultKind::Notification);
    let birth = Iin::parse(CHILD_UNDER_7).expect("IIN").birth_date();
    let group = age_group(age_on(birth, local_date(stack.clock.now()))).expect("pre-school");
    let body = serde_json::json!({
        "kindergarten_bin": BALAPAN,
        "age_group": age_group_name(group),
    });
    let (status, answer) = stack.http("POST", "/places", &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let now = stack
        .position_on_portal(PARENT_OF_CHILD_UNDER_7, CHILD_UNDER_7)
        .await
        .expect("position");
    assert_eq!(now.kind(), ResultKind::Referral);
    Referred {
        registration_number: placed.registration_number,
        referral_number: now.referral_number,
    }
}

/// Waits (bounded) until the cabinet holds a referral.
async fn wait_for_referral(cabinet: &Cabinet) -> Vec<(String, ServiceResult)> {
    for _ in 0..400 {
        let referrals = cabinet.referrals();
        if !referrals.is_empty() {
            return referrals;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no referral reached the cabinet");
}

#[tokio::test]
async fn kindergarten_referral_issued_when_a_place_frees_later_reaches_the_cabinet_signed_by_the_register()
 {
    let stack = Stack::start().await;
    let cabinet = start_routed_cabinet(&stack).await;
    let referral_number = queue_then_free_a_place(&stack).await.referral_number;

    let referrals = wait_for_referral(&cabinet).await;
    assert_eq!(referrals.len(), 1, "one referral, sent once");
    let (sender, referral) = &referrals[0];
    assert_eq!(sender, systems::QUEUE.id);
    assert_eq!(referral.kind(), ResultKind::Referral);
    assert_eq!(referral.fields["referral_number"], referral_number);
    assert_eq!(referral.fields["kindergarten_bin"], BALAPAN);
    assert_eq!(referral.fields["recipient_iin"], PARENT_OF_CHILD_UNDER_7);
    assert_eq!(referral.fields["child_iin"], CHILD_UNDER_7);
    // The register notes the delivery once the cabinet's answer is back.
    let mut settled = false;
    for _ in 0..200 {
        if stack
            .store
            .pending_cabinet_notices(10)
            .await
            .expect("read")
            .is_empty()
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(settled, "delivered, so nothing stays pending");
    assert_eq!(cabinet.referrals().len(), 1, "and it is not sent again");
}

/// Seed `002_…` item 9, 2): the result «... "жеке кабинетіне" жолданады»; the placement was
/// answered under its `DQ-` number, which the portal and the desk keep as the request's, so the
/// referral a freed place brings later comes under that number too.
#[tokio::test]
async fn kindergarten_referral_issued_when_a_place_frees_later_reaches_the_same_request() {
    let stack = Stack::start().await;
    let cabinet = start_routed_cabinet(&stack).await;
    let referred = queue_then_free_a_place(&stack).await;
    assert!(
        referred.registration_number.starts_with("DQ-"),
        "the placement is answered under the register's number"
    );

    let referrals = wait_for_referral(&cabinet).await;
    let (_, referral) = &referrals[0];
    assert_eq!(referral.registration_number, referred.registration_number);
    assert_eq!(referral.fields["referral_number"], referred.referral_number);
}

#[tokio::test]
async fn kindergarten_referral_is_kept_while_the_cabinet_is_unreachable_and_delivered_once_it_is_routed()
 {
    let stack = Stack::start().await;
    let referral_number = queue_then_free_a_place(&stack).await.referral_number;

    // No route to the cabinet yet: the referral stays pending, with the failed attempt noted.
    let mut attempted = false;
    for _ in 0..200 {
        let pending = stack.store.pending_cabinet_notices(10).await.expect("read");
        assert_eq!(pending.len(), 1, "the referral is kept");
        if pending[0].1 > 0 {
            attempted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(attempted, "the register tried the cabinet");

    let cabinet = start_routed_cabinet(&stack).await;
    let referrals = wait_for_referral(&cabinet).await;
    assert_eq!(referrals[0].1.fields["referral_number"], referral_number);
}
