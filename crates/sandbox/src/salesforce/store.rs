//! The in-memory org: sObject records keyed by id, loaded from seed files or built by
//! the generator, read by the SOQL evaluator and written by the DML routes.
//!
//! A record is a map from canonical field name to its JSON value, because the SOQL
//! evaluator reads fields by name from any sObject; every value is checked against
//! [`schema`](super::schema) on the way in, so the map only ever holds well-typed values.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::schema::{self, FieldType, SObject};

/// One record: canonical field name → value (every schema field present, `null` when empty).
pub type Record = Map<String, Value>;

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A seed file is not a JSON array of objects.
    #[error("{path}: not a JSON array of records: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A file is named after no known sObject.
    #[error("{path}: unknown sObject {name:?} (known: Account, Contact, User, Case, Customer_Subscription__c, Zuora__Subscription__c, Zuora__CustomerAccount__c)")]
    UnknownSObject {
        /// The file.
        path: PathBuf,
        /// The name taken from the file name.
        name: String,
    },
    /// A record is invalid (unknown field, wrong type, bad id, dangling lookup).
    #[error("{sobject} record {index}: {message}")]
    Record {
        /// The sObject.
        sobject: String,
        /// Index of the record in its file.
        index: usize,
        /// What was wrong.
        message: String,
    },
}

/// The in-memory sObjects with their relationships (lookups by id).
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Records per sObject, in insertion order (the order of an unordered query).
    records: BTreeMap<&'static str, Vec<Record>>,
    /// Id (18 chars) → (sObject, index).
    index: HashMap<String, (&'static str, usize)>,
    /// Next id counter per key prefix.
    counters: HashMap<&'static str, u64>,
    /// (child sObject, lookup field, parent id) → child row indexes: child subqueries stay linear.
    by_ref: HashMap<(&'static str, &'static str, String), Vec<usize>>,
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 18-character form of a 15-character id: the case-safe suffix that encodes which
/// of the 15 characters are upper-case letters, five at a time.
pub fn id18(id15: &str) -> String {
    let mut out = String::from(id15);
    for chunk in id15.as_bytes().chunks(5) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        // `bits` < 32 (chunks of at most five), so the fallback is never taken.
        let suffix = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".get(bits).copied();
        out.push(char::from(suffix.unwrap_or(b'A')));
    }
    out
}

/// Normalises a 15- or 18-character id to its 18-character form; `None` if it is neither.
pub fn normalize_id(id: &str) -> Option<String> {
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match id.len() {
        15 => Some(id18(id)),
        18 if id18(&id[..15]).eq_ignore_ascii_case(id) => Some(id18(&id[..15])),
        _ => None,
    }
}

impl Store {
    /// An empty org.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads one JSON file per sObject from `dir` (`Account.json`, `Contact.json`, …):
    /// an array of records in the REST shape (`attributes` optional and ignored),
    /// lookups by id. Missing fields are `null` (booleans `false`); a missing `Id` is
    /// assigned; `Account_ID_18__c` defaults to the `Id`, `Contact.Name` to first + last name.
    pub fn load_dir(dir: &Path) -> Result<Store, SeedError> {
        let mut store = Store::new();
        let entries = std::fs::read_dir(dir).map_err(|source| SeedError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        // Parents before children does not matter: lookups are checked once everything is in.
        for path in files {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let Some(sobject) = schema::sobject(&name) else {
                return Err(SeedError::UnknownSObject { path, name });
            };
            let text = std::fs::read_to_string(&path).map_err(|source| SeedError::Io {
                path: path.clone(),
                source,
            })?;
            let rows: Vec<Map<String, Value>> =
                serde_json::from_str(&text).map_err(|e| SeedError::Json {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            for (index, row) in rows.into_iter().enumerate() {
                store
                    .insert_seed(sobject, row)
                    .map_err(|message| SeedError::Record {
                        sobject: sobject.name.to_string(),
                        index,
                        message,
                    })?;
            }
        }
        store.check_references()?;
        Ok(store)
    }

    /// Inserts a seed or generated record (fields checked, defaults filled); returns its id.
    pub fn insert_seed(
        &mut self,
        sobject: &'static SObject,
        row: Map<String, Value>,
    ) -> Result<String, String> {
        let mut rec = Record::new();
        let mut id = None;
        for (key, value) in row {
            if key == "attributes" {
                continue;
            }
            let field = sobject
                .field(&key)
                .ok_or_else(|| format!("no such field {key:?} on {}", sobject.name))?;
            if field.name == "Id" {
                let raw = value.as_str().ok_or("Id must be a string")?;
                let norm = normalize_id(raw)
                    .filter(|n| n.starts_with(sobject.key_prefix))
                    .ok_or_else(|| {
                        format!(
                            "Id {raw:?} is not a {}-prefixed 15/18-character id",
                            sobject.key_prefix
                        )
                    })?;
                if self.index.contains_key(&norm) {
                    return Err(format!("duplicate Id {norm}"));
                }
                id = Some(norm);
                continue;
            }
            let value =
                check_value(field.ty, value).map_err(|m| format!("field {}: {m}", field.name))?;
            rec.insert(field.name.to_string(), value);
        }
        let id = match id {
            Some(id) => id,
            None => self.new_id(sobject),
        };
        self.fill_defaults(sobject, &id, &mut rec);
        self.push(sobject, rec);
        Ok(id)
    }

    /// Allocates a fresh, unused 18-character id for `sobject`.
    pub fn new_id(&mut self, sobject: &'static SObject) -> String {
        loop {
            let n = self.counters.entry(sobject.key_prefix).or_insert(0);
            *n += 1;
            let mut digits = [b'0'; 10];
            let mut v = *n;
            for d in digits.iter_mut().rev() {
                // `v % 62` indexes the 62-character alphabet; the fallback is never taken.
                *d = BASE62.get((v % 62) as usize).copied().unwrap_or(b'0');
                v /= 62;
            }
            let id = id18(&format!(
                "{}8S{}",
                sobject.key_prefix,
                String::from_utf8_lossy(&digits)
            ));
            if !self.index.contains_key(&id) {
                return id;
            }
        }
    }

    /// Fills `Id`, every missing field (`null`, booleans `false`) and the derived fields.
    pub(crate) fn fill_defaults(&self, sobject: &'static SObject, id: &str, rec: &mut Record) {
        let mut full = Record::new();
        for field in sobject.fields {
            let v = if field.name == "Id" {
                Value::String(id.to_string())
            } else {
                rec.remove(field.name).unwrap_or(match field.ty {
                    FieldType::Boolean => Value::Bool(false),
                    _ => Value::Null,
                })
            };
            full.insert(field.name.to_string(), v);
        }
        if sobject.name == "Account" && full.get("Account_ID_18__c").is_none_or(Value::is_null) {
            full.insert("Account_ID_18__c".into(), Value::String(id.to_string()));
        }
        if sobject.name == "Contact" && full.get("Name").is_none_or(Value::is_null) {
            let name = ["FirstName", "LastName"]
                .iter()
                .filter_map(|k| full.get(*k).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            full.insert(
                "Name".into(),
                if name.is_empty() {
                    Value::Null
                } else {
                    Value::String(name)
                },
            );
        }
        *rec = full;
    }

    /// Appends a complete record.
    pub(crate) fn push(&mut self, sobject: &'static SObject, rec: Record) {
        let rows = self.records.entry(sobject.name).or_default();
        let at = rows.len();
        if let Some(Value::String(id)) = rec.get("Id") {
            self.index.insert(id.clone(), (sobject.name, at));
        }
        for field in sobject.fields {
            if let (FieldType::Reference(..), Some(Value::String(parent))) =
                (field.ty, rec.get(field.name))
            {
                self.by_ref
                    .entry((sobject.name, field.name, parent.clone()))
                    .or_default()
                    .push(at);
            }
        }
        rows.push(rec);
    }

    /// Indexes of the `sobject` rows whose lookup `field` holds `parent_id`.
    pub fn children(
        &self,
        sobject: &'static str,
        field: &'static str,
        parent_id: &str,
    ) -> &[usize] {
        self.by_ref
            .get(&(sobject, field, parent_id.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Sets one (already checked) field of a record, keeping the lookup index right.
    pub(crate) fn set_field(
        &mut self,
        sobject: &'static SObject,
        id: &str,
        field: &'static str,
        value: Value,
    ) {
        let Some(&(_, at)) = self.index.get(id) else {
            return;
        };
        if sobject.field(field).is_none() {
            return;
        }
        let is_ref = matches!(
            sobject.field(field).map(|f| f.ty),
            Some(FieldType::Reference(..))
        );
        let Some(rec) = self
            .records
            .get_mut(sobject.name)
            .and_then(|r| r.get_mut(at))
        else {
            return;
        };
        let old = rec.insert(field.to_string(), value.clone());
        if is_ref {
            if let Some(Value::String(old)) = old {
                if let Some(v) = self.by_ref.get_mut(&(sobject.name, field, old)) {
                    v.retain(|&i| i != at);
                }
            }
            if let Value::String(new) = value {
                self.by_ref
                    .entry((sobject.name, field, new))
                    .or_default()
                    .push(at);
            }
        }
    }

    fn check_references(&self) -> Result<(), SeedError> {
        for (name, rows) in &self.records {
            let Some(sobject) = schema::sobject(name) else {
                continue;
            };
            for (index, rec) in rows.iter().enumerate() {
                for field in sobject.fields {
                    if let (FieldType::Reference(target, _), Some(Value::String(id))) =
                        (field.ty, rec.get(field.name))
                    {
                        if self.get(target, id).is_none() {
                            return Err(SeedError::Record {
                                sobject: name.to_string(),
                                index,
                                message: format!(
                                    "{} points at {id}, which is no {target}",
                                    field.name
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// All records of `sobject`, in insertion order.
    pub fn rows(&self, sobject: &str) -> &[Record] {
        self.records
            .get(sobject)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The record of type `sobject` with this id (15 or 18 characters).
    pub fn get(&self, sobject: &str, id: &str) -> Option<&Record> {
        let id = normalize_id(id)?;
        let (name, i) = self.index.get(&id)?;
        (*name == sobject).then(|| self.records.get(name).and_then(|r| r.get(*i)))?
    }

    /// Every Account, in the REST shape without `attributes` (for the Zendesk half's generator).
    pub fn accounts(&self) -> Vec<Value> {
        self.rows("Account")
            .iter()
            .map(|r| Value::Object(r.clone()))
            .collect()
    }

    /// Every sObject's records: `{"Account":[...], "Case":[...], ...}`.
    pub fn dump(&self) -> Value {
        let mut out = Map::new();
        for (name, rows) in &self.records {
            out.insert(
                (*name).to_string(),
                Value::Array(rows.iter().cloned().map(Value::Object).collect()),
            );
        }
        Value::Object(out)
    }
}

/// Checks a JSON value against a field type; numbers become floats, ids are normalised.
pub fn check_value(ty: FieldType, value: Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(match ty {
            FieldType::Boolean => Value::Bool(false),
            _ => Value::Null,
        });
    }
    match ty {
        FieldType::Text => value
            .as_str()
            .map(|_| value.clone())
            .ok_or_else(|| format!("expected a string, got {value}")),
        FieldType::Boolean => value
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| format!("expected true/false, got {value}")),
        FieldType::Number => value
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("expected a number, got {value}")),
        FieldType::Date => match value.as_str() {
            Some(s) if parse_date(s).is_some() => Ok(value.clone()),
            _ => Err(format!("expected a date YYYY-MM-DD, got {value}")),
        },
        FieldType::DateTime => value
            .as_str()
            .and_then(normalize_datetime)
            .map(Value::String)
            .ok_or_else(|| format!("expected an ISO 8601 datetime with an offset, got {value}")),
        FieldType::Id | FieldType::Reference(..) => value
            .as_str()
            .and_then(normalize_id)
            .map(Value::String)
            .ok_or_else(|| format!("expected a 15/18-character id, got {value}")),
    }
}

/// A datetime as Salesforce writes it (reference §3.7): UTC, milliseconds and `+0000`
/// without a colon. Accepts RFC 3339 (`Z` or `±hh:mm`) and Salesforce's own `±hhmm` form.
pub fn normalize_datetime(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let parsed = time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| {
            time::OffsetDateTime::parse(
                s,
                format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
                ),
            )
        })
        .or_else(|_| {
            time::OffsetDateTime::parse(
                s,
                format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
                ),
            )
        })
        .ok()?;
    parsed
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
        ))
        .ok()
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id18_matches_salesforce_checksum() {
        // Known pair from Salesforce docs/examples.
        assert_eq!(id18("001D000000IRFma"), "001D000000IRFmaIAH");
        assert_eq!(
            normalize_id("001D000000IRFma").as_deref(),
            Some("001D000000IRFmaIAH")
        );
        assert_eq!(normalize_id("001D000000IRFmaXXX"), None);
        assert_eq!(normalize_id("001D00-000IRFma"), None);
    }
}
