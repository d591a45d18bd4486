//! sync-core integration tests: the index. Each module is one area of the rules.

#[path = "suite/bad_input.rs"]
mod bad_input;
#[path = "suite/common.rs"]
mod common;
#[path = "suite/diff.rs"]
mod diff;
#[path = "suite/evaluate.rs"]
mod evaluate;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/guards.rs"]
mod guards;
#[path = "suite/mapping.rs"]
mod mapping;
#[path = "suite/props.rs"]
mod props;
#[path = "suite/records.rs"]
mod records;
#[path = "suite/users.rs"]
mod users;
#[path = "suite/zendesk.rs"]
mod zendesk;
