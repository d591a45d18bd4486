//! End-to-end tests of `zd-sfdc-sync-us-federal`: the real binary against the sandbox
//! (simulated Salesforce and Zendesk US Federal on loopback), checked through the
//! sandbox's state and request counts and the binary's report.

#[path = "suite/awkward.rs"]
mod awkward;
#[path = "suite/common.rs"]
mod common;
// One copy of the convergence checks for both org syncs.
#[path = "../../zd-sfdc-sync-global/tests/suite/convergence.rs"]
mod convergence;
#[path = "suite/converges.rs"]
mod converges;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/guards.rs"]
mod guards;
#[path = "suite/numbers.rs"]
mod numbers;
#[path = "suite/quirks.rs"]
mod quirks;
#[path = "suite/sync.rs"]
mod sync;
#[path = "suite/users.rs"]
mod users;
