//! Identifiers of sync-core's own. A [`SalesforceId`] is validated once, where a
//! record is decoded; past that point an account's id is known to be well formed.
//! [`ZendeskOrgId`] and [`ZendeskUserId`] keep a Zendesk organization id and a user id
//! apart from each other and from counts; `sync-jobs` converts them from and to the
//! Zendesk client's ids at the edge (`convert`). All three serialise as before: the
//! bare string, the bare number.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The length of a [`SalesforceId`].
const SALESFORCE_ID_LEN: usize = 18;

/// An 18-character Salesforce id (`Account_ID_18__c`): ASCII letters and digits only.
/// Stored inline (`Copy`, no allocation). Serialised as the bare string; deserialising
/// validates it. Equality, order and hash are those of its `str` form, so a map keyed
/// by `SalesforceId` can be searched with a `&str` ([`Borrow<str>`]).
// Equality and order are the bytes': the same as the `str` forms' (every id has the
// same length), without a UTF-8 check per comparison.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SalesforceId([u8; SALESFORCE_ID_LEN]);

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
        match <[u8; SALESFORCE_ID_LEN]>::try_from(id.as_bytes()) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_alphanumeric) => Ok(SalesforceId(bytes)),
            _ => Err(InvalidSalesforceId(id.to_string())),
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        // The bytes were checked to be ASCII alphanumerics by `parse`, the only way
        // to build one, so this is always `Ok`; the `Err` arm only keeps it total.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 15-character form (the first 15 characters).
    pub fn short(&self) -> &str {
        let id = self.as_str();
        id.get(..15).unwrap_or(id)
    }
}

impl fmt::Debug for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SalesforceId").field(&self.as_str()).finish()
    }
}

impl Hash for SalesforceId {
    /// The hash of the `str` form, as [`Borrow<str>`] requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for SalesforceId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SalesforceId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SalesforceId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SalesforceId> for String {
    fn from(id: SalesforceId) -> String {
        id.as_str().to_string()
    }
}

impl PartialEq<str> for SalesforceId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SalesforceId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SalesforceId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SalesforceId> for String {
    fn eq(&self, other: &SalesforceId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SalesforceId> for &str {
    fn eq(&self, other: &SalesforceId) -> bool {
        *self == other.as_str()
    }
}

impl Serialize for SalesforceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SalesforceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = SalesforceId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an 18-character Salesforce id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SalesforceId, E> {
                SalesforceId::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

macro_rules! zendesk_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The bare number.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            /// The bare number.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }
    };
}

zendesk_id!(
    /// A Zendesk organization id (64-bit). Serialised as the bare number.
    ZendeskOrgId
);
zendesk_id!(
    /// A Zendesk user id (64-bit). Serialised as the bare number.
    ZendeskUserId
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::{BTreeMap, HashMap, HashSet};

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn only_18_ascii_alphanumerics_are_an_id() {
        assert!(SalesforceId::parse("0018SDEMO000002QPA").is_ok());
        for bad in [
            "",
            "0018SDEMO000002QP",
            "0018SDEMO000002QPAX",
            "0018SDEMO00000-QPA",
            "0018SDEMO00000éQP",
            "0018SDEMO00000 QPA",
            "0018SDEMO000002QP\0",
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
        // An escaped string (not borrowable from the input) is read too.
        let escaped: Option<SalesforceId> =
            serde_json::from_str("\"0018SDEMO000002\\u0051PA\"").ok();
        assert_eq!(escaped, id);
        assert!(serde_json::from_str::<SalesforceId>("\"short\"").is_err());
        assert!(serde_json::from_str::<SalesforceId>("18").is_err());
        assert_eq!(id.as_ref().map(|i| i.short()), Some("0018SDEMO000002"));
        assert_eq!(
            id.map(|i| (i.as_str().len(), i.to_string(), format!("{i:?}"))),
            Some((
                18,
                "0018SDEMO000002QPA".to_string(),
                "SalesforceId(\"0018SDEMO000002QPA\")".to_string()
            ))
        );
    }

    #[test]
    fn a_salesforce_id_is_stored_inline() {
        // 18 bytes, no heap (a `String` was 24 bytes plus an allocation).
        assert_eq!(std::mem::size_of::<SalesforceId>(), 18);
        assert_eq!(std::mem::size_of::<ZendeskOrgId>(), 8);
    }

    #[test]
    fn hash_eq_and_order_agree_with_str() {
        let ids = [
            "0018SDEMO000002QPA",
            "0018SDEMO000002QPb",
            "001000000000000AAA",
        ];
        let parsed: Vec<SalesforceId> = ids
            .iter()
            .filter_map(|s| SalesforceId::parse(s).ok())
            .collect();
        assert_eq!(parsed.len(), ids.len());
        for (id, s) in parsed.iter().zip(ids) {
            assert_eq!(hash_of(id), hash_of(s));
            assert_eq!(Borrow::<str>::borrow(id), s);
            assert_eq!(*id, s);
            for (other, t) in parsed.iter().zip(ids) {
                assert_eq!(id.cmp(other), s.cmp(t), "{s} vs {t}");
                assert_eq!(id == other, s == t);
            }
        }
        // Looked up by `&str` in hashed and ordered maps.
        let set: HashSet<SalesforceId> = parsed.iter().copied().collect();
        let map: HashMap<SalesforceId, usize> = parsed.iter().copied().zip(0..).collect();
        let tree: BTreeMap<SalesforceId, usize> = parsed.iter().copied().zip(0..).collect();
        for (i, s) in ids.iter().enumerate() {
            assert!(set.contains(*s));
            assert_eq!(map.get(*s), Some(&i));
            assert_eq!(tree.get(*s), Some(&i));
        }
        assert!(!set.contains("0018SDEMO000002QPa"));
    }

    #[test]
    fn zendesk_ids_serialise_as_bare_numbers() {
        let org = ZendeskOrgId(360_000_000_123);
        let user = ZendeskUserId(u64::MAX);
        assert_eq!(
            serde_json::to_string(&org).ok().as_deref(),
            Some("360000000123")
        );
        assert_eq!(
            serde_json::to_string(&user).ok().as_deref(),
            Some("18446744073709551615")
        );
        assert_eq!(
            serde_json::from_str::<ZendeskOrgId>("360000000123").ok(),
            Some(org)
        );
        assert_eq!(
            serde_json::from_str::<ZendeskUserId>("18446744073709551615").ok(),
            Some(user)
        );
        assert!(serde_json::from_str::<ZendeskOrgId>("\"12\"").is_err());
        assert!(serde_json::from_str::<ZendeskOrgId>("-1").is_err());
        let opt: Option<Option<ZendeskOrgId>> = serde_json::from_str("null").ok();
        assert_eq!(opt, Some(None));
        assert_eq!(org.to_string(), "360000000123");
        assert_eq!(format!("{user}"), "18446744073709551615");
        assert_eq!(u64::from(org), 360_000_000_123);
        assert_eq!(ZendeskUserId::from(7).get(), 7);
        assert!(ZendeskOrgId(2) < ZendeskOrgId(10));
    }
}
