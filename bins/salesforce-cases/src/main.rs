//! `salesforce-cases`: Zendesk tickets → Salesforce Cases (docs/behaviour.md §7), by CI trigger
//! (`event`), by signed webhook (`serve`), and by a reconcile pass (`reconcile`). One
//! binary for both Zendesk instances: `--instance`, the Zendesk URL and the secrets in
//! the environment decide which.
//!
//! A shell: flags (`sync_jobs::cli::CasesCli`) → `sync_jobs::shell::run_cases`, which
//! reads the configuration, runs the command, writes the report files and a summary
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

use sync_jobs::cli::CasesCli;

/// jemalloc: the plan is built from many small allocations, and what a phase frees goes
/// back to the system (docs/decisions.md, "The allocator, and what a run holds").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    sync_jobs::shell::run_cases(sync_jobs::cli::parse_for_binary::<CasesCli>(env!(
        "CARGO_PKG_VERSION"
    )))
}
