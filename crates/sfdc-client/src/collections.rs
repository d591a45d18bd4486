//! sObject Collections (reference §6.1): create, update and upsert up to 200 records per call
//! through `/composite/sobjects`, with per-record results in request order.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{decode, ApiErrorItem, Error};
use crate::http::Request;
use crate::limits::RequestKind;

/// Most records one collections call accepts.
pub const MAX_COLLECTION_RECORDS: usize = 200;

/// One record of a collections request: `{"attributes":{"type":..}, "id"?: .., ...fields}`.
#[derive(Debug, Clone)]
pub struct CollectionRecord<T> {
    /// sObject type, sent as `attributes.type`.
    pub sobject: String,
    /// Record id: required for update, absent for create.
    pub id: Option<String>,
    /// The fields, serialized flat beside `attributes` (a struct or a JSON object).
    pub fields: T,
}

#[derive(Serialize)]
struct Attributes<'a> {
    #[serde(rename = "type")]
    sobject: &'a str,
}

#[derive(Serialize)]
struct WireRecord<'a, T> {
    attributes: Attributes<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(flatten)]
    fields: &'a T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CollectionRequest<'a, T> {
    all_or_none: bool,
    records: Vec<WireRecord<'a, T>>,
}

/// One per-record result. Failed items have no id and errors keyed `statusCode`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CollectionResult {
    /// Record id; `None` for a failed item.
    #[serde(default)]
    pub id: Option<String>,
    /// Whether this record was saved.
    pub success: bool,
    /// Why it was not.
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
    /// Present on upserts only.
    #[serde(default)]
    pub created: Option<bool>,
}

impl CollectionResult {
    /// True when the record failed only for a transient reason (`UNABLE_TO_LOCK_ROW`)
    /// or was rolled back because of a sibling (`ALL_OR_NONE_OPERATION_ROLLED_BACK`),
    /// so sending it again may succeed.
    pub fn is_retriable(&self) -> bool {
        !self.success
            && !self.errors.is_empty()
            && self.errors.iter().all(|e| {
                matches!(
                    e.error_code.as_str(),
                    "UNABLE_TO_LOCK_ROW" | "ALL_OR_NONE_OPERATION_ROLLED_BACK"
                )
            })
    }
}

impl Client {
    /// Creates up to 200 records: `POST /composite/sobjects`. Results are in request
    /// order; a failing record does not fail the call unless `all_or_none`.
    ///
    /// ```no_run
    /// use sfdc_client::CollectionRecord;
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let records = vec![CollectionRecord {
    ///     sobject: "Contact".into(), id: None,
    ///     fields: serde_json::json!({"LastName": "Johnson"}),
    /// }];
    /// for (record, result) in records.iter().zip(client.create_collection(&records, false).await?) {
    ///     if !result.success { eprintln!("{:?}", result.errors); }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn create_collection<T: Serialize>(
        &self,
        records: &[CollectionRecord<T>],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>, Error> {
        if let Some(r) = records.iter().find(|r| r.id.is_some()) {
            return Err(Error::LimitViolation(format!(
                "a {} record to create carries an id; creates must not set one",
                r.sobject
            )));
        }
        self.send_collection(Method::POST, "", records, all_or_none, false)
            .await
    }

    /// Updates up to 200 records by id: `PATCH /composite/sobjects`.
    ///
    /// ```no_run
    /// use sfdc_client::CollectionRecord;
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let records = vec![CollectionRecord {
    ///     sobject: "Account".into(), id: Some("001xx000003DGb2AAG".into()),
    ///     fields: serde_json::json!({"Name": "Acme"}),
    /// }];
    /// let results = client.update_collection(&records, false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_collection<T: Serialize>(
        &self,
        records: &[CollectionRecord<T>],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>, Error> {
        if let Some(r) = records
            .iter()
            .find(|r| r.id.as_deref().is_none_or(str::is_empty))
        {
            return Err(Error::LimitViolation(format!(
                "a {} record to update has no id",
                r.sobject
            )));
        }
        self.send_collection(Method::PATCH, "", records, all_or_none, true)
            .await
    }

    /// Upserts up to 200 records of one type by an external id field (v46+):
    /// `PATCH /composite/sobjects/{sobject}/{field}`. Each record's fields must hold
    /// the external id; results carry `created`.
    ///
    /// ```no_run
    /// use sfdc_client::CollectionRecord;
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let records = vec![CollectionRecord {
    ///     sobject: "Case".into(), id: None,
    ///     fields: serde_json::json!({"Ticket_Id__c": "4711", "Subject": "Printer on fire"}),
    /// }];
    /// let results = client.upsert_collection("Case", "Ticket_Id__c", &records, false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert_collection<T: Serialize>(
        &self,
        sobject: &str,
        field: &str,
        records: &[CollectionRecord<T>],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>, Error> {
        crate::sobjects::validate_name("sObject", sobject)?;
        crate::sobjects::validate_name("external id field", field)?;
        if let Some(r) = records.iter().find(|r| r.sobject != sobject) {
            return Err(Error::LimitViolation(format!(
                "a {} record in a {sobject} upsert collection; one type per call",
                r.sobject
            )));
        }
        let path = format!("/{sobject}/{field}");
        self.send_collection(Method::PATCH, &path, records, all_or_none, true)
            .await
    }

    async fn send_collection<T: Serialize>(
        &self,
        method: Method,
        suffix: &str,
        records: &[CollectionRecord<T>],
        all_or_none: bool,
        idempotent: bool,
    ) -> Result<Vec<CollectionResult>, Error> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        if records.len() > MAX_COLLECTION_RECORDS {
            return Err(Error::LimitViolation(format!(
                "{} records in one sObject Collections call; the limit is {MAX_COLLECTION_RECORDS}",
                records.len()
            )));
        }
        let body = CollectionRequest {
            all_or_none,
            records: records
                .iter()
                .map(|r| WireRecord {
                    attributes: Attributes {
                        sobject: &r.sobject,
                    },
                    id: r.id.as_deref(),
                    fields: &r.fields,
                })
                .collect(),
        };
        let body = serde_json::to_vec(&body).map_err(|e| {
            Error::Config(format!("could not serialize the collection records: {e}"))
        })?;
        let req = Request {
            method,
            path: self.data_path(&format!("/composite/sobjects{suffix}")),
            kind: RequestKind::Collections,
            body: Some(body),
            idempotent,
            headers: self.write_headers(),
        };
        let response = self.execute(&req).await?;
        let results: Vec<CollectionResult> = decode(&response.body, &response.url)?;
        if results.len() != records.len() {
            return Err(Error::Decode {
                url: response.url,
                path: ".".into(),
                message: format!("{} results for {} records", results.len(), records.len()),
            });
        }
        Ok(results)
    }
}
