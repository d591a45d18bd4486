//! Integration tests for sfdc-client against httpmock servers answering with the
//! fixtures in `fixtures/salesforce/` (real response shapes from the reference).

// Test helpers outside #[test] fns panic on broken fixtures by design (clippy.toml
// allows unwrap in tests, but does not see helper functions as tests).
#![allow(clippy::unwrap_used)]

#[path = "suite/common.rs"]
mod common;

#[path = "suite/auth.rs"]
mod auth;
#[path = "suite/budgets.rs"]
mod budgets;
#[path = "suite/messages.rs"]
mod messages;
#[path = "suite/query.rs"]
mod query;
#[path = "suite/records.rs"]
mod records;
#[path = "suite/retry.rs"]
mod retry;
