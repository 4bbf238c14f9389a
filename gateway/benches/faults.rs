//! What the fault table costs a message that no fault hits, against a table
//! with no fault at all (the baseline, one atomic load), in one run.
//!
//! Run with `cargo bench -p egov-gateway --bench faults`. Every exchange asks
//! the table twice (the sender's certificate at admission, then the route's
//! faults before forwarding) and once more on the target's answer, so three
//! times the per-lookup figure is what faults set on other routes add to each
//! exchange; compare it with the gateway's CPU per exchange that
//! `--bench exchange` prints (about 250 µs on the project's machine).
//! Criterion runs in this one process: its time per lookup is this process's
//! CPU per lookup.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use egov_core::StatusCode;
use egov_gateway::faults::{Fault, FaultKind, FaultTable};

/// A route no fault of the table names.
const SYSTEM: &str = "labor";
const SERVICE: &str = "labor.unemployed-certificate.apply";

/// An error fault on another system's service.
fn elsewhere(index: usize) -> Fault {
    Fault {
        id: format!("other-{index}"),
        system: Some(format!("system-{index}")),
        service: Some(format!("service-{index}.get")),
        kind: FaultKind::Error {
            code: StatusCode::TargetUnavailable,
            message: String::new(),
        },
        limit: None,
        probability: None,
    }
}

/// A table holding `others` faults on other routes and, when `near_miss`, one on
/// this route that almost never hits (its probability rolled on every lookup).
fn table(runtime: &tokio::runtime::Runtime, others: usize, near_miss: bool) -> FaultTable {
    let table = FaultTable::default();
    runtime.block_on(async {
        for index in 0..others {
            table.add(elsewhere(index)).await.expect("fault");
        }
        if near_miss {
            let mut fault = elsewhere(others);
            fault.system = Some(SYSTEM.into());
            fault.service = Some(SERVICE.into());
            fault.probability = Some(1e-12);
            table.add(fault).await.expect("fault");
        }
    });
    table
}

fn bench_lookup(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("fault table lookup, no fault hits");
    for (name, others, near_miss) in [
        ("empty table (baseline)", 0, false),
        ("10 faults on other routes", 10, false),
        ("100 faults on other routes", 100, false),
        (
            "100 others + 1 on this route, probability rolled",
            100,
            true,
        ),
    ] {
        let table = table(&runtime, others, near_miss);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                black_box(
                    table
                        .take(SYSTEM, SERVICE, FaultKind::acts_on_exchanges)
                        .await,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_lookup);
criterion_main!(benches);
