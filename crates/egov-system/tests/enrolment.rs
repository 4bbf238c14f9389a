//! A system's enrolment with a real certification centre (egov-pki in-process): the key is made
//! here, kept owner-only in the data dir, and re-used on restart without a token.

use egov_core::pki::Role;
use egov_core::systems;
use egov_pki::enrolment::IssuedToken;
use egov_system::{Enrolment, SystemIdentity};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[tokio::test]
async fn a_system_keeps_its_seal_key_owner_only_and_reuses_it_on_restart_while_valid_on_its_clock()
{
    let dir = tempfile::tempdir().expect("temp dir");
    let token = IssuedToken::new(
        "EGOV_LABOR__ENROLMENT_TOKEN",
        Role::LegalEntity,
        systems::LABOR.bin,
    )
    .expect("token");
    let (grpc, http) = (
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
    );
    let endpoint = format!("http://{}", grpc.local_addr().expect("addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let pki = tokio::spawn(egov_pki::run(
        egov_pki::Config {
            enrolment_grants: token.grant.line(),
            ..egov_pki::Config::with_data_dir(dir.path().join("pki"))
        },
        grpc,
        http,
        async {
            let _ = stopped.await;
        },
    ));
    let data_dir = dir.path().join("labor");
    let enrolment = Enrolment::of(&systems::LABOR, "751204400013")
        .expect("enrolment")
        .keep_key_in(&data_dir);

    let refused = SystemIdentity::enroll(&endpoint, &enrolment)
        .await
        .expect_err("no token, no seal");
    assert!(refused.to_string().contains("EPKI002"), "{refused}");

    let first = SystemIdentity::enroll(&endpoint, &enrolment.clone().with_token(Some(token.token)))
        .await
        .expect("enrolled with the token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(data_dir.join("seal.key"))
            .expect("seal.key kept")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "seal.key is owner-only");
    }
    // The restart: no token any more (it was used), the kept seal is re-used.
    let again = SystemIdentity::enroll(&endpoint, &enrolment)
        .await
        .expect("the kept seal");
    assert_eq!(
        again.signer.certificate().serial,
        first.signer.certificate().serial
    );
    // On a stack clock past the seal's validity the kept seal is not re-used: without a
    // token the centre is asked again and refuses.
    let not_after = first.signer.certificate().not_after;
    let expired = SystemIdentity::enroll(
        &endpoint,
        &enrolment.clone().judged_at(not_after + time::Duration::DAY),
    )
    .await
    .expect_err("an expired seal is not re-used");
    assert!(expired.to_string().contains("EPKI002"), "{expired}");

    let _ = stop.send(());
    pki.await.expect("join").expect("the centre stops");
}
