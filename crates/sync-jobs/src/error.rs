//! The one error type of sync-jobs: what stops a run (or keeps it from starting).
//! Problems with one record are not errors: they are entries in the report. Each
//! variant's exit code is decided in one place, [`crate::exit::for_error`].

use std::fmt::Write as _;

/// Everything that can stop a job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mapping file cannot be used or does not fit Zendesk (exit 2).
    #[error(transparent)]
    Rules(#[from] sync_core::Error),
    /// The environment or flags do not make a usable configuration (exit 2); the
    /// message names every missing or bad variable.
    #[error("configuration error: {0}")]
    Config(String),
    /// Salesforce could not be reached or refused us (exit 4; exit 2 for a client
    /// that could not be configured).
    #[error("Salesforce: {0}")]
    Salesforce(#[from] sfdc_client::Error),
    /// Zendesk could not be reached or refused us (exit 4; exit 2 for a client that
    /// could not be configured).
    #[error("Zendesk: {0}")]
    Zendesk(#[from] zendesk_client::Error),
    /// A local file or stream could not be written or opened (a report file, stdout,
    /// the listening socket, the async runtime) (exit 1).
    #[error("{what}: {source}")]
    Io {
        /// What was being done, e.g. `cannot write the JSON report to r.json`.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether trying the same thing again may succeed: asked of the client that
    /// failed; a configuration, mapping or local I/O problem stays as it is.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Salesforce(e) => e.is_retriable(),
            Error::Zendesk(e) => e.is_retriable(),
            Error::Rules(_) | Error::Config(_) | Error::Io { .. } => false,
        }
    }

    /// An [`Error::Io`] naming what was being done.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// The error and each of its causes, `: `-separated (the form printed on stderr).
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let _ = write!(out, ": {c}");
        cause = c.source();
    }
    out
}
