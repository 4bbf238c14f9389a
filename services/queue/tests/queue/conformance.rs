//! The queue register against its contract in the conformance kit, placed at the State
//! Corporation's desk by its operator.

use egov_conformance::{Contract, Kit};
use egov_core::systems;

use crate::common::Stack;

#[tokio::test]
async fn the_simulated_queue_register_conforms_to_its_contract() {
    let stack = Stack::start().await;
    let contract = Contract::of(systems::QUEUE.id).expect("a contract");
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
