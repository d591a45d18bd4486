//! Identifiers of sync-core's own. A [`SalesforceId`] is validated once, where a
//! record is decoded; past that point an account's id is known to be well formed.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize};

/// An 18-character Salesforce id (`Account_ID_18__c`): ASCII letters and digits only.
/// Serialised as the bare string; deserialising validates it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SalesforceId(String);

/// A string that is not an 18-character Salesforce id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSalesforceId(pub String);

impl fmt::Display for InvalidSalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not 18 alphanumeric characters", self.0)
    }
}

impl std::error::Error for InvalidSalesforceId {}

impl SalesforceId {
    /// Validates `id` (surrounding blanks are not trimmed: the caller decides).
    pub fn parse(id: &str) -> Result<SalesforceId, InvalidSalesforceId> {
        if id.len() == 18 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(SalesforceId(id.to_string()))
        } else {
            Err(InvalidSalesforceId(id.to_string()))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 15-character form (the first 15 characters).
    pub fn short(&self) -> &str {
        self.0.get(..15).unwrap_or(&self.0)
    }
}

impl Deref for SalesforceId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SalesforceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SalesforceId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<SalesforceId> for String {
    fn from(id: SalesforceId) -> String {
        id.0
    }
}

impl PartialEq<str> for SalesforceId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SalesforceId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for SalesforceId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<SalesforceId> for String {
    fn eq(&self, other: &SalesforceId) -> bool {
        self == &other.0
    }
}

impl PartialEq<SalesforceId> for &str {
    fn eq(&self, other: &SalesforceId) -> bool {
        *self == other.0
    }
}

impl<'de> Deserialize<'de> for SalesforceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        SalesforceId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_18_ascii_alphanumerics_are_an_id() {
        assert!(SalesforceId::parse("0018SDEMO000002QPA").is_ok());
        for bad in [
            "",
            "0018SDEMO000002QP",
            "0018SDEMO000002QPAX",
            "0018SDEMO00000-QPA",
            "0018SDEMO00000éQP",
        ] {
            assert_eq!(
                SalesforceId::parse(bad),
                Err(InvalidSalesforceId(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn it_serialises_as_the_bare_string_and_validates_when_read() {
        let id = SalesforceId::parse("0018SDEMO000002QPA").ok();
        let json = serde_json::to_string(&id).ok();
        assert_eq!(json.as_deref(), Some("\"0018SDEMO000002QPA\""));
        let back: Option<SalesforceId> = serde_json::from_str("\"0018SDEMO000002QPA\"").ok();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<SalesforceId>("\"short\"").is_err());
        assert_eq!(id.as_ref().map(|i| i.short()), Some("0018SDEMO000002"));
    }
}
