//! The one error type of sync-core. Problems with one record are not errors: they
//! are [`crate::Finding`]s in the report. Errors here stop a run before any write
//! (a mapping file that cannot be used, a mapping that does not fit Zendesk). Not
//! `non_exhaustive`: sync-jobs maps every variant to an exit code in one exhaustive match.

/// Everything sync-core can refuse.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mapping file could not be read from disk.
    #[error("cannot read mapping file {path}: {source}")]
    MappingRead {
        /// The path given with `--mapping`.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A mapping file is larger than [`crate::mapping::MAX_MAPPING_BYTES`]: refused
    /// before it is read whole.
    #[error(
        "mapping file {path} is too large: more than {limit} bytes (a mapping file is a few KB)"
    )]
    MappingTooLarge {
        /// The path given with `--mapping`.
        path: String,
        /// The cap, [`crate::mapping::MAX_MAPPING_BYTES`].
        limit: u64,
    },
    /// A mapping file is not valid TOML or does not have the expected shape.
    #[error("mapping file {origin} is not valid: {message}")]
    MappingParse {
        /// Where the mapping came from (a path, or `embedded global`).
        origin: String,
        /// The parser's message, naming the key that failed.
        message: String,
    },
    /// A mapping file parsed but breaks its own rules; every problem is listed.
    #[error("mapping file {origin} has {} problem(s): {}", problems.len(), problems.join("; "))]
    MappingInvalid {
        /// Where the mapping came from.
        origin: String,
        /// One line per problem, each naming its key.
        problems: Vec<String>,
    },
    /// The mapping names fields or options Zendesk does not have; every mismatch is listed.
    #[error("mapping does not match Zendesk organization_fields ({} mismatch(es)): {}", mismatches.len(), mismatches.join("; "))]
    FieldsMismatch {
        /// One line per mismatch, each naming the field key and option value.
        mismatches: Vec<String>,
    },
}
