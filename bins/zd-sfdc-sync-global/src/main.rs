//! `zd-sfdc-sync-global`: Salesforce Accounts → Zendesk Global organizations, sold-to
//! users for new organizations, and deletion of greatly-expired organizations.
//!
//! A shell: flags (`sync_jobs::cli::GlobalCli`) → `sync_jobs::shell::run_global`, which
//! reads the configuration, runs the job, writes the report files and a summary table
//! on stderr, and returns the exit code of docs/behaviour.md §8.
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

use sync_jobs::cli::GlobalCli;

/// mimalloc: the plan is built from many small allocations (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    sync_jobs::shell::run_global(sync_jobs::cli::parse_for_binary::<GlobalCli>(env!(
        "CARGO_PKG_VERSION"
    )))
}
