//! Applying a plan to Zendesk: the only part of the sync that writes. Bulk jobs of
//! 100 records, submitted in windows below Zendesk's 30 queued jobs and polled
//! together; every record ends applied or failed (with Zendesk's message), and a write
//! whose answer was lost is re-read before anything is sent again (docs/behaviour.md §9).
//!
//! A refused record is data for the report; an `Err` from these functions means Zendesk
//! cannot be reached or refuses us, and the run stops (exit 4).

pub mod federal_users;
pub mod orgs;
pub mod sold_to;

use zendesk_client::Error as ZdError;

/// Jobs submitted before waiting for them: below Zendesk's 30 queued jobs, so the
/// client's job slots are never all held by handles nobody is polling yet.
pub const JOB_WINDOW: usize = 25;

/// Writes that an API error stopped part-way: what was done (confirmed by job
/// results) before the error, and the error, which stops the run (exit 4). The
/// report is built from `done`, so it never claims the planned writes.
#[derive(Debug)]
pub struct Stopped<T> {
    /// What was applied, or failed, before the error.
    pub done: T,
    /// The error that stopped the writes.
    pub error: ZdError,
}

/// A record write that did not happen, with Zendesk's code and message.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFailure {
    /// The account the record is for.
    pub salesforce_id: String,
    /// Zendesk's row code (e.g. `OrganizationUpdateFailed`), or the kind of a refused call.
    pub code: String,
    /// Zendesk's message.
    pub message: String,
}

/// Whether an error means Zendesk cannot be reached or refuses us, so the run cannot
/// finish (exit 4), rather than a refusal of the records one call carried. The one
/// place apply asks it (orgs, sold-to and US Federal users alike).
pub fn zendesk_stops_run(error: &ZdError) -> bool {
    error.stops_run()
}

/// A short code for a refused call, in the spirit of Zendesk's row codes.
pub fn error_code(error: &ZdError) -> String {
    match error {
        ZdError::DuplicateValue(_) => "DuplicateValue",
        ZdError::WriteOutcomeUnknown { .. } => "OutcomeUnknown",
        ZdError::NotFound(_) => "RecordNotFound",
        ZdError::TooManyValues(_) => "TooManyValues",
        _ => "RequestFailed",
    }
    .to_string()
}
