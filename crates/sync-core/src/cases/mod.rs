//! The rules of the `salesforce-cases` job (docs/behaviour.md §7): Zendesk tickets become Salesforce
//! Cases. Pure; the job that reads tickets and writes Cases is `sync_jobs::cases`.
//!
//! - [`rules`]: the Case key (`case_key_prefix` + ticket id), the Case fields of a
//!   ticket, and [`decide`] (create, update without `Status`, close, or nothing);
//! - [`payload`]: the trigger webhook's body.

pub mod payload;
pub mod rules;

pub use payload::{parse_webhook_body, WebhookPayload};
pub use rules::{
    case_key, case_priority, decide, CaseFields, Decision, ExistingCase, Mode, TicketEvent,
    TicketFacts, TicketOrg, TicketPriority, CASE_WRITE_FAILED, MISSING_ACCOUNT, NO_ORGANIZATION,
    TICKET_NOT_FOUND,
};

#[cfg(test)]
mod tests;
