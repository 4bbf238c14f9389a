//! The back office against its contract in the conformance kit, called as the Labour Market AIS.

use egov_conformance::{Contract, Kit};
use egov_core::systems;

use crate::common::{Options, Stack, next_monday_morning};

#[tokio::test]
async fn the_simulated_back_office_conforms_to_its_contract() {
    let stack = Stack::start(next_monday_morning(), Options::default()).await;
    let contract = Contract::of(systems::BACKOFFICE.id).expect("a contract");
    let labor = stack.caller(systems::LABOR.id).identity().clone();
    let kit = Kit::new(labor, stack.sandbox.verifier()).with_clock(stack.clock.shared());
    // Twice: a team runs the kit again and again against the same system, which keeps the
    // case the first run opened.
    for _ in 0..2 {
        let report = kit
            .run(&contract, &stack.grpc_addr().to_string())
            .await
            .expect("the kit runs");
        println!("{report}");
        assert!(report.conforms(), "{report}");
        assert_eq!(report.score_percent(), 100.0);
    }
}
