//! What became of each planned write, as the jobs hand it to the
//! [`ReportBuilder`](super::ReportBuilder).

use std::collections::BTreeMap;

/// What became of one planned write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied: the API's answer (a job row, a read-back) says so.
    Applied,
    /// Its answer was lost or unclear, and reading the records back showed it applied.
    Confirmed,
    /// Refused, or not confirmed: the API's code and message.
    Failed {
        /// The API's code (e.g. `RecordInvalid`), or the kind of a refused call.
        code: String,
        /// The API's message.
        message: String,
    },
    /// Not sent (or sent in the call that failed when the run stopped).
    NotAttempted,
    /// Not written after all: reading the record again found it in a state the rules
    /// leave alone (a finding says why). Neither done nor failed.
    Withdrawn,
}

impl Outcome {
    /// A failure with the API's code and message.
    pub fn failed(code: impl Into<String>, message: impl Into<String>) -> Outcome {
        Outcome::Failed {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Whether the write is confirmed applied.
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Applied | Outcome::Confirmed)
    }
}

/// The outcomes of one phase's writes, by record: the account (org writes) or the
/// email (user writes). A planned write without an entry was not attempted.
pub type Outcomes = BTreeMap<String, Outcome>;
