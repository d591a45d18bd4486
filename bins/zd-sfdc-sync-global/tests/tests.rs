//! End-to-end tests of `zd-sfdc-sync-global`: the real binary against the sandbox
//! (simulated Salesforce and Zendesk on loopback), checked through the sandbox's state
//! and request counts.

#[path = "suite/awkward.rs"]
mod awkward;
#[path = "suite/bad_input.rs"]
mod bad_input;
#[path = "suite/common.rs"]
mod common;
#[path = "suite/config.rs"]
mod config;
#[path = "suite/convergence.rs"]
mod convergence;
#[path = "suite/crash.rs"]
mod crash;
#[path = "suite/explain.rs"]
mod explain;
#[path = "suite/faults.rs"]
mod faults;
#[path = "suite/guards.rs"]
mod guards;
#[path = "suite/stopped.rs"]
mod stopped;
#[path = "suite/sync.rs"]
mod sync;
#[path = "suite/users.rs"]
mod users;
