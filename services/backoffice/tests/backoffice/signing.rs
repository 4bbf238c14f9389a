//! The result is the provider's signed document: authored with the head's HEAD certificate
//! carrying the back office's BIN, countersigned by the back office's seal.

use egov_core::envelope::{IdentityRule, VerifyPolicy};
use egov_core::pki::Role;
use egov_core::{Bin, systems};
use egov_proto::v1::{Channel, Header, ResultKind};
use prost::Message;

use crate::common::{HEAD_IIN, Options, Stack, application, next_monday_morning, service_result};

#[tokio::test]
async fn result_is_signed_by_a_head_certificate_with_the_providers_bin() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let opened = stack
        .open(
            systems::LABOR.id,
            application("B", Channel::Portal, &["application"]),
            "LABOR-SIGNED",
        )
        .await
        .expect("opened");
    stack.run_to_close(&opened.id).await;
    let received = stack.wait_received(systems::LABOR.id, 1).await;
    let envelope = &received[0];

    let provider = Bin::parse(systems::BACKOFFICE.bin).expect("BIN");
    let verified = stack
        .sandbox
        .verifier()
        .verify(
            envelope,
            &VerifyPolicy::any()
                .with_role(Role::Head)
                .with_identity(IdentityRule::Bin(provider)),
        )
        .await
        .expect("the result verifies as signed by the provider's head");
    assert!(verified.signer.has_role(Role::Head));
    assert_eq!(verified.signer.bin, Some(provider));
    assert_eq!(
        verified.signer.iin.as_ref().map(|iin| iin.as_str()),
        Some(HEAD_IIN)
    );
    assert_eq!(
        verified.signers.len(),
        2,
        "the head, then the system's seal"
    );
    assert!(verified.signers[1].has_role(Role::LegalEntity));
    assert!(!verified.signers[1].has_role(Role::Head));
    assert_eq!(verified.signers[1].bin, Some(provider));

    let header = Header::decode(envelope.header.as_slice()).expect("header");
    assert_eq!(header.service_id, "labor.application.decided");
    assert_eq!(header.sender_system_id, systems::BACKOFFICE.id);
    assert_eq!(header.user_iin, HEAD_IIN);
    assert_eq!(service_result(envelope).kind(), ResultKind::Certificate);
}
