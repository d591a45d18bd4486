//! Newtype ids: Zendesk record ids are 64-bit integers, job ids are opaque strings.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! u64_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }
    };
}

u64_id!(
    /// An organization id.
    OrgId
);
u64_id!(
    /// A user id.
    UserId
);
u64_id!(
    /// A ticket id.
    TicketId
);
u64_id!(
    /// A custom field definition id.
    FieldId
);

/// A job status id: an opaque string such as `V3-fa64d3aa439866d78c7431b346baf458`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Joins ids with commas, the form `ids=` query parameters take.
pub(crate) fn join_ids<T: fmt::Display>(ids: &[T]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
