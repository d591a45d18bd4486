//! The Salesforce side of the cases job: looking Cases up by key in bulk (one SOQL
//! `WHERE <key field> IN (…)` per 200 keys) and writing one Case by upsert on the key
//! field (reference §5.5, §8), with `Sforce-Auto-Assign: FALSE` set on the client.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use sync_core::cases::rules::{CaseFields, ExistingCase};
use sync_core::mapping::CaseSettings;

/// Keys per lookup query.
pub const KEYS_PER_QUERY: usize = 200;

/// The Case standard fields read back; the key and URL fields come from the mapping.
const CASE_FIELDS: &[&str] = &[
    "Id",
    "Status",
    "IsClosed",
    "AccountId",
    "Subject",
    "Description",
    "Priority",
    "Origin",
    "SuppliedEmail",
    "SuppliedName",
];

#[derive(Debug, Deserialize)]
struct CaseRow {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Status", default)]
    status: Option<String>,
    #[serde(rename = "IsClosed", default)]
    is_closed: Option<bool>,
    #[serde(rename = "AccountId", default)]
    account_id: Option<String>,
    #[serde(rename = "Subject", default)]
    subject: Option<String>,
    #[serde(rename = "Description", default)]
    description: Option<String>,
    #[serde(rename = "Priority", default)]
    priority: Option<String>,
    #[serde(rename = "Origin", default)]
    origin: Option<String>,
    #[serde(rename = "SuppliedEmail", default)]
    supplied_email: Option<String>,
    #[serde(rename = "SuppliedName", default)]
    supplied_name: Option<String>,
    /// The mapping-named fields (key and ticket URL), and `attributes`.
    #[serde(flatten)]
    named: BTreeMap<String, Value>,
}

/// Cases found for a set of keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseLookup {
    /// Lowercased key → the Cases holding it (more than one is an error for that key).
    pub by_key: BTreeMap<String, Vec<ExistingCase>>,
    /// Rows that could not be read, each with its reason.
    pub bad_rows: Vec<String>,
    /// Queries sent.
    pub queries: usize,
}

impl CaseLookup {
    /// The Cases of one key (matching is case-insensitive, as Salesforce's is).
    pub fn get(&self, key: &str) -> &[ExistingCase] {
        self.by_key
            .get(&key.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Quotes a string literal for SOQL (reference §4.2: backslash escapes).
pub fn soql_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn is_api_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The lookup query for a batch of keys.
pub fn lookup_soql(settings: &CaseSettings, keys: &[String]) -> Result<String, crate::Error> {
    for name in [&settings.external_id_field, &settings.ticket_url_field] {
        if !is_api_name(name) {
            return Err(crate::Error::Config(format!(
                "mapping cases field {name:?} is not a Salesforce API name"
            )));
        }
    }
    let list: Vec<String> = keys.iter().map(|k| soql_literal(k)).collect();
    Ok(format!(
        "SELECT {}, {}, {} FROM Case WHERE {} IN ({})",
        CASE_FIELDS.join(", "),
        settings.ticket_url_field,
        settings.external_id_field,
        settings.external_id_field,
        list.join(", ")
    ))
}

fn named_str(row: &CaseRow, field: &str) -> Option<String> {
    row.named
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Looks up the Cases of `keys`, [`KEYS_PER_QUERY`] keys a query. A row that cannot be
/// decoded is listed in `bad_rows` and the rest go on; an API error stops the lookup.
pub async fn find_cases(
    client: &sfdc_client::Client,
    settings: &CaseSettings,
    keys: &[String],
) -> Result<CaseLookup, crate::Error> {
    let unique: Vec<String> = keys
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut lookup = CaseLookup::default();
    for batch in unique.chunks(KEYS_PER_QUERY) {
        let soql = lookup_soql(settings, batch)?;
        lookup.queries += 1;
        let mut rows = std::pin::pin!(client.query::<CaseRow>(&soql));
        while let Some(item) = rows.next().await {
            match item? {
                Ok(row) => {
                    let Some(key) = named_str(&row, &settings.external_id_field) else {
                        lookup.bad_rows.push(format!(
                            "Case {} has no {}",
                            row.id, settings.external_id_field
                        ));
                        continue;
                    };
                    let case = ExistingCase {
                        fields: CaseFields {
                            account_id: row.account_id.clone(),
                            subject: row.subject.clone(),
                            description: row.description.clone(),
                            priority: row.priority.clone(),
                            origin: row.origin.clone(),
                            supplied_email: row.supplied_email.clone(),
                            supplied_name: row.supplied_name.clone(),
                            ticket_url: named_str(&row, &settings.ticket_url_field),
                        },
                        id: row.id,
                        status: row.status,
                        is_closed: row.is_closed.unwrap_or(false),
                    };
                    lookup
                        .by_key
                        .entry(key.to_lowercase())
                        .or_default()
                        .push(case);
                }
                Err(bad) => lookup.bad_rows.push(bad.to_string()),
            }
        }
    }
    Ok(lookup)
}

/// Upserts one Case by its key. `Ok(true)` when Salesforce created it.
pub async fn upsert_case(
    client: &sfdc_client::Client,
    settings: &CaseSettings,
    key: &str,
    body: &Map<String, Value>,
) -> Result<bool, sfdc_client::Error> {
    let outcome = client
        .upsert("Case", &settings.external_id_field, key, body)
        .await?;
    Ok(matches!(
        outcome,
        sfdc_client::UpsertOutcome::Created { .. }
    ))
}

/// Upserts up to 200 Cases in one sObject Collections call (`allOrNone: false`), each
/// by its own key. Returns one result per item, in order: `Ok(created)` or the item's
/// errors. An `Err` is the whole call failing.
pub async fn upsert_cases(
    client: &sfdc_client::Client,
    settings: &CaseSettings,
    items: &[(String, Map<String, Value>)],
) -> Result<Vec<Result<bool, sfdc_client::CollectionResult>>, sfdc_client::Error> {
    let records: Vec<sfdc_client::CollectionRecord<Map<String, Value>>> = items
        .iter()
        .map(|(key, body)| {
            let mut fields = body.clone();
            fields.insert(
                settings.external_id_field.clone(),
                Value::from(key.as_str()),
            );
            sfdc_client::CollectionRecord {
                sobject: "Case".to_string(),
                id: None,
                fields,
            }
        })
        .collect();
    let results = client
        .upsert_collection("Case", &settings.external_id_field, &records, false)
        .await?;
    Ok((0..items.len())
        .map(|i| match results.get(i) {
            Some(r) if r.success => Ok(r.created.unwrap_or(false)),
            Some(r) => Err(r.clone()),
            None => Err(sfdc_client::CollectionResult {
                id: None,
                success: false,
                errors: vec![sfdc_client::ApiErrorItem {
                    message: format!(
                        "Salesforce answered {} results for {} records",
                        results.len(),
                        items.len()
                    ),
                    error_code: "MISSING_RESULT".to_string(),
                    fields: Vec::new(),
                }],
                created: None,
            }),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::mapping::{Instance, Mapping};

    fn settings(instance: Instance) -> CaseSettings {
        Mapping::embedded(instance).unwrap().cases().clone()
    }

    #[test]
    fn lookup_query_quotes_keys() {
        assert_eq!(soql_literal(r"a'b\c"), r"'a\'b\\c'");
        let s = settings(Instance::UsFederal);
        let q = lookup_soql(&s, &["usfed-1".into(), "usfed-2".into()]).unwrap();
        assert_eq!(
            q,
            "SELECT Id, Status, IsClosed, AccountId, Subject, Description, Priority, Origin, \
             SuppliedEmail, SuppliedName, Zendesk_Support_Ticket_URL__c, Zendesk_Support_Ticket_ID__c \
             FROM Case WHERE Zendesk_Support_Ticket_ID__c IN ('usfed-1', 'usfed-2')"
        );
        let mut bad = s.clone();
        bad.external_id_field = "Key__c) OR (Id".into();
        assert!(lookup_soql(&bad, &["1".into()]).is_err());
    }
}
