//! What sync-core reads of Zendesk: organizations, users and organization field
//! definitions, deserialized from the Zendesk API shape (reference/zendesk-api.md
//! §4, §5), and the *managed view* of an org: only the fields and tags the sync owns.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::ids::{ZendeskOrgId, ZendeskUserId};
use crate::mapping::Mapping;
use crate::value::FieldValue;

/// A Zendesk organization, as listed by `GET /api/v2/organizations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZendeskOrg {
    /// Organization id (64-bit).
    pub id: ZendeskOrgId,
    /// Its unique name.
    pub name: String,
    /// All its tags, managed or not.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Custom field values keyed by field key (`null` when unset).
    #[serde(default, deserialize_with = "null_as_default")]
    pub organization_fields: OrgFields,
    /// When it was created (ISO-8601 UTC).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
}

/// The custom field values of an org, compact (issue 13: every org of the account is
/// held while the plan is made): `(key, value)` pairs sorted by key in one `Vec`, the
/// keys shared between orgs (see [`SharedFieldKeys`]) instead of a map with its own copy of
/// each key. Serialized as a JSON object, like a map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrgFields(Vec<(Arc<str>, FieldValue)>);

impl OrgFields {
    /// No fields.
    pub fn new() -> OrgFields {
        OrgFields(Vec::new())
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&FieldValue> {
        let at = self.find(key).ok()?;
        self.0.get(at).map(|(_, v)| v)
    }

    /// Sets `key`, handing back the value it replaces.
    pub fn insert(&mut self, key: impl Into<Arc<str>>, value: FieldValue) -> Option<FieldValue> {
        let key = key.into();
        match self.find(&key) {
            Ok(at) => self.0.get_mut(at).map(|(_, v)| std::mem::replace(v, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    /// Unsets `key`, handing back its value.
    pub fn remove(&mut self, key: &str) -> Option<FieldValue> {
        let at = self.find(key).ok()?;
        Some(self.0.remove(at).1)
    }

    /// The fields in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    /// How many fields are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Fields whose keys are taken from `keys` (one shared copy of each key).
    pub fn from_iter_shared<K: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, FieldValue)>,
        keys: &mut SharedFieldKeys,
    ) -> OrgFields {
        let mut out: Vec<(Arc<str>, FieldValue)> = fields
            .into_iter()
            .map(|(k, v)| (keys.key(k.as_ref()), v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        // A key given twice keeps its last value, as a map insert would.
        let mut deduped: Vec<(Arc<str>, FieldValue)> = Vec::with_capacity(out.len());
        for (k, v) in out {
            match deduped.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => deduped.push((k, v)),
            }
        }
        deduped.shrink_to_fit();
        OrgFields(deduped)
    }
}

impl<K: AsRef<str>> FromIterator<(K, FieldValue)> for OrgFields {
    fn from_iter<I: IntoIterator<Item = (K, FieldValue)>>(iter: I) -> OrgFields {
        OrgFields::from_iter_shared(iter, &mut SharedFieldKeys::default())
    }
}

impl From<BTreeMap<String, FieldValue>> for OrgFields {
    fn from(map: BTreeMap<String, FieldValue>) -> OrgFields {
        map.into_iter().collect()
    }
}

impl Serialize for OrgFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for OrgFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrgFields, D::Error> {
        Ok(BTreeMap::<String, FieldValue>::deserialize(deserializer)?.into())
    }
}

/// One shared copy of each field key, for the [`OrgFields`] of many orgs.
#[derive(Debug, Clone, Default)]
pub struct SharedFieldKeys(HashSet<Arc<str>>);

impl SharedFieldKeys {
    /// The shared copy of `key`.
    pub fn key(&mut self, key: &str) -> Arc<str> {
        if let Some(k) = self.0.get(key) {
            return Arc::clone(k);
        }
        let k: Arc<str> = Arc::from(key);
        self.0.insert(Arc::clone(&k));
        k
    }
}

/// A user's role. Unknown roles are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A customer.
    EndUser,
    /// An agent.
    Agent,
    /// An admin.
    Admin,
    /// A role this code does not know.
    #[serde(untagged)]
    Other(String),
}

/// A Zendesk user, as listed by `GET /api/v2/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZendeskUser {
    /// User id (64-bit).
    pub id: ZendeskUserId,
    /// Display name.
    pub name: String,
    /// Primary email (may be null).
    #[serde(default)]
    pub email: Option<String>,
    /// Role; `end-user` by default.
    #[serde(default = "default_role")]
    pub role: Role,
    /// Default organization.
    #[serde(default)]
    pub organization_id: Option<ZendeskOrgId>,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// When it was created.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
}

/// `null` (or absent, with `#[serde(default)]`) becomes the type's default.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn default_role() -> Role {
    Role::EndUser
}

impl ZendeskUser {
    /// Agents and admins (and unknown roles) are never modified by the sync.
    pub fn is_protected(&self) -> bool {
        self.role != Role::EndUser
    }

    /// The lowercased, trimmed email, if any.
    pub fn email_key(&self) -> Option<String> {
        self.email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
    }
}

/// One option of a drop-down field definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOption {
    /// Option id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Human label.
    pub name: String,
    /// The value written to the org, and its tag.
    pub value: String,
}

/// An organization field definition (`GET /api/v2/organization_fields`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZendeskOrgField {
    /// Field id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The key used in `organization_fields`.
    pub key: String,
    /// `text`, `decimal`, `dropdown`, `checkbox`, …
    #[serde(rename = "type")]
    pub field_type: String,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Whether it is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// A checkbox's tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// A drop-down's options.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_field_options: Vec<FieldOption>,
}

fn yes() -> bool {
    true
}

/// The part of an org the sync owns: its name, managed fields and managed tags,
/// plus its unmanaged tags (kept untouched on every write).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedView {
    /// Org id.
    pub id: ZendeskOrgId,
    /// Name, trimmed.
    pub name: String,
    /// Managed field values by key (absent = unset).
    pub fields: BTreeMap<String, FieldValue>,
    /// Tags in the managed set.
    pub managed_tags: BTreeSet<String>,
    /// Tags outside it.
    pub unmanaged_tags: BTreeSet<String>,
}

/// The managed view of an org under a mapping.
pub fn managed_view(org: &ZendeskOrg, mapping: &Mapping) -> ManagedView {
    let managed = mapping.managed_tags();
    let keys = mapping.managed_keys();
    let (managed_tags, unmanaged_tags) =
        org.tags.iter().cloned().partition(|t| managed.contains(t));
    ManagedView {
        id: org.id,
        name: org.name.trim().to_string(),
        fields: org
            .organization_fields
            .iter()
            .filter(|(k, _)| keys.iter().any(|key| key == k))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        managed_tags,
        unmanaged_tags,
    }
}

impl ZendeskOrg {
    /// The org's `salesforce_id` field (trimmed), under the mapping's key.
    pub fn salesforce_id(&self, mapping: &Mapping) -> Option<String> {
        match self
            .organization_fields
            .get(&mapping.fields().salesforce_id)
        {
            Some(FieldValue::Text(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        }
    }

    /// Whether the org carries a tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.to_string())
    }

    #[test]
    fn org_fields_behave_as_the_map_they_replace() {
        let mut map: BTreeMap<String, FieldValue> = BTreeMap::new();
        let mut fields = OrgFields::new();
        for (k, v) in [("zeta", "1"), ("alpha", "2"), ("mid", "3"), ("alpha", "4")] {
            assert_eq!(
                fields.insert(k, text(v)),
                map.insert(k.to_string(), text(v))
            );
        }
        assert_eq!(fields.remove("mid"), map.remove("mid"));
        assert_eq!(fields.remove("absent"), None);
        assert_eq!(fields.get("alpha"), Some(&text("4")));
        assert_eq!(fields.get("absent"), None);
        let pairs: Vec<(&str, &FieldValue)> = fields.iter().collect();
        let expected: Vec<(&str, &FieldValue)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(pairs, expected);
        assert_eq!(
            serde_json::to_string(&fields).ok(),
            serde_json::to_string(&map).ok()
        );
        assert_eq!(OrgFields::from(map.clone()), fields);
        let back: OrgFields = serde_json::from_str(r#"{"zeta": "1", "alpha": "4"}"#).expect("json");
        assert_eq!(back, fields);
    }

    #[test]
    fn org_fields_share_their_keys_and_keep_the_last_of_a_repeated_key() {
        let mut keys = SharedFieldKeys::default();
        let a = OrgFields::from_iter_shared([("k", text("1")), ("j", text("2"))], &mut keys);
        let b = OrgFields::from_iter_shared([("k", text("3")), ("k", text("4"))], &mut keys);
        assert_eq!(b.len(), 1);
        assert_eq!(b.get("k"), Some(&text("4")));
        let key_of = |f: &OrgFields| {
            f.0.iter()
                .find(|(k, _)| &**k == "k")
                .map(|(k, _)| Arc::clone(k))
        };
        match (key_of(&a), key_of(&b)) {
            (Some(x), Some(y)) => assert!(Arc::ptr_eq(&x, &y), "one copy of the key"),
            other => panic!("keys missing: {other:?}"),
        }
    }
}
