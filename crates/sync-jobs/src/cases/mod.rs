//! The `salesforce-cases` job (docs/behaviour.md §7) against the APIs; its rules (Case key, Case
//! fields, the decision per ticket, the webhook body) are `sync_core::cases`.
//!
//! - [`args`]: the command line (`--instance`, then `event`, `serve` or `reconcile`);
//! - [`setup`]: flags and environment → a ready [`CasesJob`];
//! - [`salesforce`]: Case lookup by key in bulk (SOQL, 200 keys a query) and the upsert;
//! - [`job`]: [`CasesJob::handle_event`] for one event (CI trigger or webhook);
//! - [`reconcile`]: [`CasesJob::reconcile`] for the tickets changed in a window;
//! - [`serve`]: the webhook receiver and its per-ticket dispatcher;
//! - [`run`]: a command start to report. Each way in hands back the outcome of every
//!   ticket ([`Handled`]), and the report is built from those in one place
//!   ([`sync_core::report::CasesReportBuilder`]).
//!
//! The Salesforce client must be built with `auto_assign(false)` (`Sforce-Auto-Assign: FALSE`).

pub mod args;
pub mod job;
pub mod reconcile;
pub mod run;
pub mod salesforce;
pub mod serve;
pub mod setup;

pub use job::{
    CasesJob, Handled, CASE_WRITE_FAILED, MISSING_ACCOUNT, NO_ORGANIZATION, TICKET_NOT_FOUND,
};
