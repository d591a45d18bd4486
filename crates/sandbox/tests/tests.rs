//! sandbox integration tests: the index. Each module is one area of a simulator, over real
//! HTTP against a running sandbox.

// Helpers outside `#[test]` functions (setup, receivers) fail loudly on purpose.
#![allow(clippy::unwrap_used)]

#[path = "suite/sf_common/mod.rs"]
mod sf_common;
#[path = "suite/zd_common/mod.rs"]
mod zd_common;

#[path = "suite/fault_rates.rs"]
mod fault_rates;
#[path = "suite/hold.rs"]
mod hold;
#[path = "suite/number_fields.rs"]
mod number_fields;
#[path = "suite/quirks.rs"]
mod quirks;
#[path = "suite/salesforce.rs"]
mod salesforce;
#[path = "suite/salesforce_fidelity.rs"]
mod salesforce_fidelity;
#[path = "suite/serve_flags.rs"]
mod serve_flags;
#[path = "suite/users_scan.rs"]
mod users_scan;
#[path = "suite/zendesk.rs"]
mod zendesk;
#[path = "suite/zendesk_fidelity.rs"]
mod zendesk_fidelity;
