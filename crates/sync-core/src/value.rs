//! Values of Zendesk organization fields, and how two of them compare.
//!
//! Zendesk and Salesforce disagree on representation (`1` vs `1.0`, `""` vs `null`,
//! an unset checkbox vs `false`), so the diff never compares raw JSON: it compares
//! [`Semantic`] forms, where those differences vanish.

use serde::{Deserialize, Serialize};

/// A value of one organization field, as written to or read from Zendesk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A checkbox.
    Bool(bool),
    /// A decimal field (Salesforce numbers arrive as floats), or any number read.
    Number(f64),
    /// A whole number written to a field Zendesk declares `integer` (docs/behaviour.md §8: sent as
    /// `5`, not `5.0`). Never produced by deserializing: a number read is a `Number`.
    Integer(i64),
    /// A text field, a date written as text, or a drop-down option value.
    Text(String),
    /// Any other shape (e.g. a multiselect list) on a field the sync does not manage.
    /// Boxed: a JSON value is large and rare here, and every field value is as large as
    /// the largest variant.
    Other(Box<serde_json::Value>),
}

/// The meaning of a field value for comparison: blank, `null`, absent and `false`
/// are all [`Semantic::Unset`]; strings are trimmed.
#[derive(Debug, Clone, PartialEq)]
pub enum Semantic {
    /// No value.
    Unset,
    /// A checkbox that is ticked.
    True,
    /// A number.
    Number(f64),
    /// A non-blank trimmed string.
    Text(String),
    /// Anything else, compared as JSON.
    Other(serde_json::Value),
}

impl Semantic {
    /// The semantic form of an optional value.
    pub fn of(value: Option<&FieldValue>) -> Semantic {
        match value {
            None | Some(FieldValue::Bool(false)) => Semantic::Unset,
            Some(FieldValue::Bool(true)) => Semantic::True,
            Some(FieldValue::Number(n)) => Semantic::Number(*n),
            Some(FieldValue::Integer(n)) => Semantic::Number(*n as f64),
            Some(FieldValue::Text(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    Semantic::Unset
                } else {
                    Semantic::Text(s.to_string())
                }
            }
            Some(FieldValue::Other(v)) if v.is_null() => Semantic::Unset,
            Some(FieldValue::Other(v)) => Semantic::Other(serde_json::Value::clone(v)),
        }
    }
}

/// [`Semantic`] borrowed: the same classes, without copying strings or JSON.
#[derive(PartialEq)]
enum SemanticRef<'a> {
    Unset,
    True,
    Number(f64),
    Text(&'a str),
    Other(&'a serde_json::Value),
}

impl<'a> SemanticRef<'a> {
    /// The same classification as [`Semantic::of`].
    fn of(value: Option<&'a FieldValue>) -> SemanticRef<'a> {
        match value {
            None | Some(FieldValue::Bool(false)) => SemanticRef::Unset,
            Some(FieldValue::Bool(true)) => SemanticRef::True,
            Some(FieldValue::Number(n)) => SemanticRef::Number(*n),
            Some(FieldValue::Integer(n)) => SemanticRef::Number(*n as f64),
            Some(FieldValue::Text(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    SemanticRef::Unset
                } else {
                    SemanticRef::Text(s)
                }
            }
            Some(FieldValue::Other(v)) if v.is_null() => SemanticRef::Unset,
            Some(FieldValue::Other(v)) => SemanticRef::Other(v),
        }
    }
}

/// Whether two optional field values mean the same: `1` = `1.0` = `"1.0"`,
/// `""` = null = absent = `false`, strings compared trimmed.
pub fn same_value(a: Option<&FieldValue>, b: Option<&FieldValue>) -> bool {
    match (SemanticRef::of(a), SemanticRef::of(b)) {
        (SemanticRef::Number(x), SemanticRef::Number(y)) => x == y,
        (SemanticRef::Number(x), SemanticRef::Text(t))
        | (SemanticRef::Text(t), SemanticRef::Number(x)) => t.parse::<f64>().is_ok_and(|y| y == x),
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> FieldValue {
        FieldValue::Text(s.to_string())
    }

    #[test]
    fn integer_and_float_are_the_same_number() {
        let one: FieldValue = serde_json::from_str("1").unwrap();
        let one_point_zero: FieldValue = serde_json::from_str("1.0").unwrap();
        assert!(same_value(Some(&one), Some(&one_point_zero)));
        assert!(same_value(Some(&FieldValue::Number(1.0)), Some(&t("1.0"))));
        assert!(!same_value(
            Some(&FieldValue::Number(1.0)),
            Some(&FieldValue::Number(1.5))
        ));
    }

    #[test]
    fn an_integer_is_the_same_number_as_its_float_and_serializes_whole() {
        assert!(same_value(
            Some(&FieldValue::Integer(5)),
            Some(&FieldValue::Number(5.0))
        ));
        assert!(!same_value(
            Some(&FieldValue::Integer(5)),
            Some(&FieldValue::Number(5.5))
        ));
        assert_eq!(serde_json::to_string(&FieldValue::Integer(5)).unwrap(), "5");
        let read: FieldValue = serde_json::from_str("5").unwrap();
        assert_eq!(read, FieldValue::Number(5.0));
    }

    #[test]
    fn blank_null_absent_and_false_are_all_unset() {
        let null: FieldValue = serde_json::from_str("null").unwrap();
        assert!(same_value(Some(&t("")), None));
        assert!(same_value(Some(&t("   ")), Some(&null)));
        assert!(same_value(Some(&FieldValue::Bool(false)), None));
        assert!(same_value(Some(&FieldValue::Bool(false)), Some(&null)));
        assert!(!same_value(Some(&FieldValue::Bool(true)), None));
        assert!(!same_value(Some(&t("x")), None));
    }

    #[test]
    fn a_field_value_is_no_larger_than_a_string_and_its_tag() {
        assert!(std::mem::size_of::<FieldValue>() <= 32);
        assert_eq!(
            std::mem::size_of::<Option<FieldValue>>(),
            std::mem::size_of::<FieldValue>()
        );
        let list: FieldValue = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(
            list,
            FieldValue::Other(Box::new(serde_json::json!(["a", "b"])))
        );
        assert_eq!(serde_json::to_string(&list).unwrap(), r#"["a","b"]"#);
    }

    #[test]
    fn strings_compare_trimmed_and_case_sensitive() {
        assert!(same_value(Some(&t(" Jane Doe ")), Some(&t("Jane Doe"))));
        assert!(!same_value(Some(&t("jane doe")), Some(&t("Jane Doe"))));
    }
}
