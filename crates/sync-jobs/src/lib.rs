//! Running the rules of `sync-core` against the APIs: the three jobs (Global and US
//! Federal org sync, the cases job's `event`, `serve` and `reconcile`), applying plans
//! as Zendesk bulk jobs, configuration from the environment, the command-line types,
//! logging, exit codes, and the webhook dispatcher. The only crate where rules meet
//! I/O; each binary is a shell around one of [`shell::run_global`],
//! [`shell::run_us_federal`] or [`shell::run_cases`].
//!
//! - [`cli`]: the clap parsers of the three binaries and the flags they share;
//! - [`shell`]: parse → run → exit code, the same for every binary (logging, runtime,
//!   mapping, configuration or `--sandbox`, the job, report files, summary);
//! - [`jobs`]: the org-sync jobs ([`jobs::global`], [`jobs::us_federal`], both on
//!   [`jobs::org_sync`]); [`apply`]: their writes;
//! - [`cases`]: the cases job (reads tickets, looks Cases up, upserts) and its
//!   webhook server ([`cases::serve`]);
//! - [`explain`]: `explain SALESFORCE_ID`, read-only; [`csv_report`]: `--report-csv`;
//! - [`directory`]: the Zendesk users the user rules need, read the cheaper way;
//! - [`convert`]: client types → sync-core types (and ids back), in one place;
//! - [`config`], [`logging`], [`error`], [`exit`] (every error's exit code, in one match).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![deny(missing_docs)]

pub mod apply;
pub mod cases;
pub mod cli;
pub mod config;
pub mod convert;
pub mod csv_report;
pub mod directory;
pub mod error;
pub mod exit;
pub mod explain;
pub mod jobs;
pub mod logging;
pub mod progress;
pub mod shell;

pub use error::Error;
