//! US Federal under the reliability mix of faults (issue 16), several seeds: every
//! faulty run makes progress and undoes nothing (no duplicate org or user, no contact
//! user lost or moved), a fault-free run after two faulty ones reaches exactly the
//! fault-free state, and the run after it writes nothing.

use crate::common;
use crate::convergence::faulty_then_clean;

#[tokio::test]
async fn us_federal_converges_under_the_fault_mix_seed_1() {
    faulty_then_clean(common::demo(), 1).await;
}

#[tokio::test]
async fn us_federal_converges_under_the_fault_mix_seed_2() {
    faulty_then_clean(common::demo(), 2).await;
}

#[tokio::test]
async fn us_federal_converges_under_the_fault_mix_seed_3_at_300_accounts() {
    faulty_then_clean(common::generated(300), 3).await;
}
