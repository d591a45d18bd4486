//! [`FieldMap`]: org field values by key, compact, for the plan's creates, patches and
//! before values (issue 13: a first run at 100k accounts holds some 70,000 of them; a
//! `BTreeMap<String, _>` cost each a node of eleven slots and a copy of every key).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// Org field values by key, in key order, each key once. The keys are one shared,
/// sorted list (a mapping's org keys, see [`crate::Mapping::org_keys`]) and each entry
/// holds the index of its key, so a map costs one allocation for its entries and none
/// per key. What the plan's readers used of the `BTreeMap<String, V>` it replaces
/// (`get`, iteration in key order, equality, `Debug`, serialising as a JSON object in
/// key order) reads the same; it is built whole, not edited (no `insert`/`remove`), and
/// turns back into a `BTreeMap` with `From`.
#[derive(Clone)]
pub struct FieldMap<V> {
    /// Sorted and unique; shared. `None` for a map made empty (no allocation).
    keys: Option<Arc<[String]>>,
    /// `(index into keys, value)`, indexes ascending and unique.
    entries: Vec<(usize, V)>,
}

impl<V> FieldMap<V> {
    /// No fields.
    pub fn new() -> Self {
        FieldMap {
            keys: None,
            entries: Vec::new(),
        }
    }

    /// The key list the indexes point into.
    fn key_list(&self) -> &[String] {
        self.keys.as_deref().unwrap_or_default()
    }

    /// A map over `keys` (sorted, unique) from `(index, value)` entries with ascending,
    /// unique indexes; an entry whose index is not above the last one's, or past the
    /// keys, is left out.
    pub(crate) fn from_indexed(keys: Arc<[String]>, mut entries: Vec<(usize, V)>) -> Self {
        debug_assert!(
            keys.windows(2).all(|w| matches!(w, [a, b] if a < b)),
            "keys not sorted"
        );
        debug_assert!(
            entries
                .windows(2)
                .all(|w| matches!(w, [(a, _), (b, _)] if a < b))
                && entries.last().is_none_or(|(i, _)| *i < keys.len()),
            "entries out of order or past the keys"
        );
        let mut last: Option<usize> = None;
        entries.retain(|(i, _)| {
            let keep = *i < keys.len() && last.is_none_or(|l| *i > l);
            if keep {
                last = Some(*i);
            }
            keep
        });
        FieldMap {
            keys: Some(keys),
            entries,
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        let index = self
            .key_list()
            .binary_search_by(|k| k.as_str().cmp(key))
            .ok()?;
        self.entries
            .binary_search_by_key(&index, |(i, _)| *i)
            .ok()
            .and_then(|at| self.entries.get(at))
            .map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The fields, in key order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            keys: self.key_list(),
            entries: self.entries.iter(),
        }
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(k, _)| k)
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<V> Default for FieldMap<V> {
    fn default() -> Self {
        FieldMap::new()
    }
}

/// Like a map's: the same keys with equal values (whatever key lists hold them).
impl<V: PartialEq> PartialEq for FieldMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for FieldMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a map would: sorted, a later value of a key wins.
impl<K: Into<String>, V> FromIterator<(K, V)> for FieldMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let sorted: BTreeMap<String, V> = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        let mut keys = Vec::with_capacity(sorted.len());
        let mut entries = Vec::with_capacity(sorted.len());
        for (i, (k, v)) in sorted.into_iter().enumerate() {
            keys.push(k);
            entries.push((i, v));
        }
        FieldMap {
            keys: Some(Arc::from(keys)),
            entries,
        }
    }
}

impl<V> From<FieldMap<V>> for BTreeMap<String, V> {
    fn from(map: FieldMap<V>) -> Self {
        let keys = map.keys.unwrap_or_else(|| Arc::from(Vec::new()));
        map.entries
            .into_iter()
            .filter_map(|(i, v)| keys.get(i).map(|k| (k.clone(), v)))
            .collect()
    }
}

/// The fields of a [`FieldMap`], in key order.
pub struct Iter<'a, V> {
    keys: &'a [String],
    entries: std::slice::Iter<'a, (usize, V)>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a String, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        // Every index is within the keys (`from_indexed`); one that were not is skipped.
        self.entries
            .by_ref()
            .find_map(|(i, v)| self.keys.get(*i).map(|k| (k, v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.entries.len()))
    }
}

impl<'a, V> IntoIterator for &'a FieldMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = Iter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<V: Serialize> Serialize for FieldMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Arc<[String]> {
        list.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .into()
    }

    #[test]
    fn it_reads_and_serialises_like_the_btreemap_it_replaces() {
        let pairs = [("b", 2), ("a", 1), ("c", 3), ("a", 9)];
        let map: FieldMap<i32> = pairs.iter().map(|(k, v)| (*k, *v)).collect();
        let tree: BTreeMap<String, i32> = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        assert_eq!(format!("{map:?}"), format!("{tree:?}"));
        assert_eq!(map.get("a"), Some(&9));
        assert_eq!(map.get("z"), None);
        assert_eq!(map.len(), 3);
        assert_eq!(BTreeMap::from(map), tree);
    }

    #[test]
    fn shared_keys_hold_only_the_entries_given() {
        let shared = keys(&["a", "b", "c", "d"]);
        let map = FieldMap::from_indexed(Arc::clone(&shared), vec![(1, "B"), (3, "D")]);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "d"]);
        assert_eq!(map.get("b"), Some(&"B"));
        assert_eq!(map.get("a"), None);
        assert!(!map.contains_key("c"));
        // Equal to a map of the same pairs over other keys.
        let own: FieldMap<&str> = [("d", "D"), ("b", "B")].into_iter().collect();
        assert_eq!(map, own);
        assert_ne!(map, FieldMap::from_indexed(shared, vec![(1, "B")]));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "entries out of order or past the keys")]
    fn entries_out_of_order_are_a_bug_caught_in_debug_builds() {
        let _ = FieldMap::from_indexed(keys(&["a", "b"]), vec![(1, 1), (0, 0)]);
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn entries_out_of_order_or_past_the_keys_are_left_out() {
        let map = FieldMap::from_indexed(keys(&["a", "b"]), vec![(1, 1), (0, 0), (1, 2), (5, 5)]);
        assert_eq!(map.iter().collect::<Vec<_>>(), [(&"b".to_string(), &1)]);
    }
}
