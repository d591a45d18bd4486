//! [`JsonFields`]: a `changes[]` entry's `fields` or `before`, kept as compact JSON text
//! rather than a [`serde_json::Value`] tree (issue 13: a run's report holds one per
//! write, and a `Value` object costs several times its text).
//!
//! It serialises by re-emitting the same JSON through the serializer in use, so the
//! report's bytes (pretty or compact, docs/behaviour.md §8) are those a `Value` gave.

use std::fmt;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Error as _, Serialize, Serializer};
use serde_json::{Map, Value};

/// A JSON value (in the report, an object) held as its compact text; parsed on demand.
#[derive(Clone)]
pub struct JsonFields(Box<str>);

impl JsonFields {
    /// From a value (serialised compactly; key order kept).
    pub fn from_value(value: &Value) -> Self {
        // Serialising a `Value` to a string cannot fail (its keys are strings).
        Self(value.to_string().into_boxed_str())
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value, parsed (`Null` if the text were not JSON, which construction rules out).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    /// The object's entries in order, parsed (empty when the value is not an object).
    pub fn to_map(&self) -> Map<String, Value> {
        match self.to_value() {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

impl Default for JsonFields {
    /// The empty object.
    fn default() -> Self {
        Self("{}".into())
    }
}

impl From<Value> for JsonFields {
    fn from(value: Value) -> Self {
        Self::from_value(&value)
    }
}

impl From<&Value> for JsonFields {
    fn from(value: &Value) -> Self {
        Self::from_value(value)
    }
}

impl From<Map<String, Value>> for JsonFields {
    fn from(map: Map<String, Value>) -> Self {
        Self::from_value(&Value::Object(map))
    }
}

impl PartialEq for JsonFields {
    /// Equal as JSON values (the same text is equal without parsing).
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.to_value() == other.to_value()
    }
}

impl PartialEq<Value> for JsonFields {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for JsonFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for JsonFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonFields {
    /// Parsed for the duration of the call and emitted through `serializer`, so the
    /// formatting (indentation) is the serializer's, as it was for a `Value`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value: Value = serde_json::from_str(&self.0).map_err(S::Error::custom)?;
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|v| Self::from_value(&v))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_as_the_value_did_pretty_and_compact() {
        let value = json!({
            "name": "Acme \"Ltd\" — ünïcode",
            "organization_fields": {"z_last": 1.5, "a_first": null, "big": 18446744073709551615u64},
            "tags": ["b", "a"],
            "id": -3
        });
        let fields = JsonFields::from(value.clone());
        assert_eq!(
            serde_json::to_string_pretty(&fields).ok(),
            serde_json::to_string_pretty(&value).ok()
        );
        assert_eq!(serde_json::to_string(&fields).ok(), Some(value.to_string()));
        assert_eq!(fields.as_str(), value.to_string());
    }

    #[test]
    fn reads_keys_in_order_and_round_trips() {
        let fields = JsonFields::from(json!({"b": 1, "a": {"x": [true]}}));
        let map = fields.to_map();
        assert_eq!(map.get("a"), Some(&json!({"x": [true]})));
        assert_eq!(map.get("c"), None);
        assert!(map.contains_key("b"));
        let keys: Vec<&String> = map.keys().collect();
        assert_eq!(keys, ["b", "a"]);
        let pretty = serde_json::to_string_pretty(&fields).unwrap_or_default();
        let back: JsonFields = serde_json::from_str(&pretty).unwrap_or_default();
        assert_eq!(back.as_str(), r#"{"b":1,"a":{"x":[true]}}"#);
        assert_eq!(back, fields);
        assert_eq!(back, json!({"a": {"x": [true]}, "b": 1}));
    }

    proptest::proptest! {
        /// The report shows the number that was written, to the last digit: the text is
        /// parsed again when the report is written, and serde_json's default float
        /// parser may be one unit in the last place off (the workspace enables
        /// `float_roundtrip`).
        #[test]
        fn a_float_is_written_back_exactly(bits in proptest::prelude::any::<u64>()) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let fields = JsonFields::from(json!({ "n": x }));
            let written = serde_json::to_string(&fields).unwrap_or_default();
            proptest::prop_assert_eq!(written, fields.as_str());
        }
    }

    #[test]
    fn a_value_that_is_not_an_object_has_no_keys() {
        let fields = JsonFields::from(json!([1, 2]));
        assert_eq!(fields.to_map().get("0"), None);
        assert_eq!(fields.to_map().len(), 0);
        assert_eq!(fields.to_value(), json!([1, 2]));
    }
}
