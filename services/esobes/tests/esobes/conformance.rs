//! The E-sobes against its contract in the conformance kit, applied to at the State
//! Corporation's desk by its operator.

use egov_conformance::{Contract, Kit};
use egov_core::systems;

use crate::common::Stack;

#[tokio::test]
async fn the_simulated_esobes_conforms_to_its_contract() {
    let stack = Stack::start().await;
    let contract = Contract::of(systems::ESOBES.id).expect("a contract");
    let report = Kit::new(stack.con.identity().clone(), stack.sandbox.verifier())
        .with_operator(stack.operator())
        .with_clock(stack.clock.shared())
        .run(&contract, &stack.grpc.to_string())
        .await
        .expect("the kit runs");
    println!("{report}");
    assert!(report.conforms(), "{report}");
    assert_eq!(report.score_percent(), 100.0);
}
