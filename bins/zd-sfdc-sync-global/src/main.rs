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

/// jemalloc: the plan is built from many small allocations, and what a phase frees goes
/// back to the system (docs/decisions.md, "The allocator, and what a run holds").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    sync_jobs::shell::run_global(sync_jobs::cli::parse_for_binary::<GlobalCli>(env!(
        "CARGO_PKG_VERSION"
    )))
}

#[cfg(test)]
mod tests {
    /// The decay of `.cargo/config.toml` is built into the allocator (this test binary
    /// has the same global allocator as the job).
    #[test]
    fn the_allocator_returns_freed_pages_after_100_ms() {
        let conf = tikv_jemalloc_ctl::config::malloc_conf::read().unwrap_or_default();
        assert!(conf.contains("dirty_decay_ms:100"), "malloc_conf {conf:?}");
        assert!(conf.contains("muzzy_decay_ms:0"), "malloc_conf {conf:?}");
    }
}
