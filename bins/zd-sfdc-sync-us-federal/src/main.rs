//! `zd-sfdc-sync-us-federal`: Salesforce Accounts → Zendesk US Federal organizations,
//! then Salesforce Contacts → Zendesk US Federal users, in one run.
//!
//! A shell: flags (`sync_jobs::cli::UsFederalCli`) → `sync_jobs::shell::run_us_federal`,
//! which reads the configuration, runs the job, writes the report files and a summary
//! table on stderr, and returns the exit code of docs/behaviour.md §8.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use std::process::ExitCode;

use sync_jobs::cli::UsFederalCli;

/// jemalloc: the plan is built from many small allocations, and what a phase frees goes
/// back to the system (docs/decisions.md, "The allocator, and what a run holds").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    sync_jobs::shell::run_us_federal(sync_jobs::cli::parse_for_binary::<UsFederalCli>(env!(
        "CARGO_PKG_VERSION"
    )))
}
