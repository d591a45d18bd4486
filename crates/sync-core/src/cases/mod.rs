//! The `salesforce-cases` job (SPEC §7): Zendesk tickets become Salesforce Cases.
//!
//! - [`rules`]: pure — the Case key (`case_key_prefix` + ticket id), the Case fields of
//!   a ticket, and [`decide`] (create, update without `Status`, close, or nothing);
//! - [`payload`]: the trigger webhook's body;
//! - [`salesforce`]: Case lookup by key in bulk (SOQL, 200 keys a query) and the upsert;
//! - [`job`]: [`CasesJob::handle_event`] for one event (CI trigger or webhook);
//! - [`reconcile`]: [`CasesJob::reconcile`] for the tickets changed in a window.
//!
//! The Salesforce client must be built with `auto_assign(false)` (`Sforce-Auto-Assign: FALSE`).

pub mod job;
pub mod payload;
pub mod reconcile;
pub mod rules;
pub mod salesforce;

pub use job::{
    CasesJob, Outcome, CASE_WRITE_FAILED, MISSING_ACCOUNT, NO_ORGANIZATION, TICKET_NOT_FOUND,
};
pub use payload::{parse_webhook_body, WebhookPayload};
pub use rules::{
    case_key, case_priority, decide, CaseFields, Decision, ExistingCase, Mode, TicketEvent,
    TicketFacts, TicketOrg,
};

#[cfg(test)]
mod tests;
