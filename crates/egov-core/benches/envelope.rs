//! Envelope signing and verification throughput on this machine.
//!
//! Run with `cargo bench -p egov-core --bench envelope`; criterion prints
//! elements per second, i.e. signatures per second and verifications per
//! second (full chain check from cache plus a cached revocation answer).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use egov_core::envelope::{
    CachedRevocation, IdentityRule, Signer, StaticRevocation, Verifier, VerifyPolicy,
    request_header,
};
use egov_core::pki::authority::{CaHierarchy, Holder};
use egov_core::pki::{KeyPurpose, Role};
use egov_core::{Bin, Iin};
use time::macros::datetime;

fn bench_envelope(c: &mut Criterion) {
    let ca = CaHierarchy::generate(
        b"bench",
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2040-01-01 0:00 UTC),
    )
    .expect("hierarchy");
    let holder = Holder {
        surname: "ОПЕРАТОР".into(),
        given_name: "ХҚО".into(),
        iin: Iin::parse("850102300131").expect("iin"),
        bin: Some(Bin::parse("120140000057").expect("bin")),
        organization: Some("State Corporation".into()),
        role: Role::Employee,
        purpose: KeyPurpose::Sign,
    };
    let credential = ca
        .issue_derived(
            &holder,
            b"bench",
            &[1],
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2035-01-01 0:00 UTC),
        )
        .expect("credential");
    let signer = Signer::new(credential.key.pkcs8(), credential.chain.clone()).expect("signer");
    let mut header = request_header(
        "labor.unemployed-certificate.apply",
        "con",
        "labor",
        datetime!(2026-03-02 10:00 UTC),
    );
    header.user_iin = "850102300131".into();
    let payload = vec![0x5a; 1024];
    let envelope = signer.seal(&header, payload.clone()).expect("seal");

    let verifier = Verifier::new(
        vec![ca.root.certificate().clone()],
        CachedRevocation::new(Arc::new(StaticRevocation::new()), Duration::from_secs(3600)),
    );
    let policy = VerifyPolicy::any()
        .with_role(Role::Employee)
        .with_identity(IdentityRule::HeaderUserIin);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let mut group = c.benchmark_group("envelope_ed25519_1KiB");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign", |b| {
        b.iter(|| black_box(signer.seal(&header, payload.clone()).expect("seal")))
    });
    group.bench_function("verify", |b| {
        b.to_async(&runtime).iter(|| async {
            black_box(verifier.verify(&envelope, &policy).await.expect("verify"))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_envelope);
criterion_main!(benches);
