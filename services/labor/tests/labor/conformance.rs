//! The Labour Market AIS against its contract in the conformance kit, applied to at the State
//! Corporation's desk by its operator.

use egov_conformance::{Contract, Kit};
use egov_core::systems;

use crate::common::Stack;

#[tokio::test]
async fn the_simulated_labor_conforms_to_its_contract() {
    let stack = Stack::start().await;
    let contract = Contract::of(systems::LABOR.id).expect("a contract");
    let kit = Kit::new(stack.con.identity().clone(), stack.sandbox.verifier())
        .with_operator(stack.operator())
        .with_clock(stack.clock.shared());
    // Twice: a team runs the kit again and again against the same system, which keeps what
    // the first run registered.
    for _ in 0..2 {
        let report = kit
            .run(&contract, &stack.grpc.to_string())
            .await
            .expect("the kit runs");
        println!("{report}");
        assert!(report.conforms(), "{report}");
        assert_eq!(report.score_percent(), 100.0);
    }
}
