//! Single-record sObject calls (reference §5): create, get, update, upsert by
//! external id, delete.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{decode, ApiErrorItem, Error};
use crate::http::Request;
use crate::limits::RequestKind;

/// Characters left as is in a path segment (RFC 3986 unreserved); everything else,
/// `/` included, is percent-encoded, like `quote(value, safe='')`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one URL path segment.
pub(crate) fn segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The body of a 201 create: `{"id","success","errors"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SaveResult {
    /// The new record's id.
    pub id: String,
    /// Always true on a 201.
    pub success: bool,
    /// Usually empty.
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

/// The outcome of an upsert by external id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpsertOutcome {
    /// HTTP 201: no record matched, one was created.
    Created {
        /// The new record's id.
        id: String,
    },
    /// HTTP 200 (v46+, with the id) or 204 (older versions, no body, no id).
    Updated {
        /// The updated record's id, when the API version returns it.
        id: Option<String>,
    },
}

#[derive(Deserialize)]
struct UpsertBody {
    id: String,
}

/// Checks an sObject or field API name, which is spliced into a URL path.
pub(crate) fn validate_name(what: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Config(format!(
            "{what} {name:?} is not a valid API name"
        )));
    }
    Ok(())
}

impl Client {
    fn json_body(body: &impl Serialize) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("could not serialize the request body: {e}")))
    }

    /// Creates a record: `POST /sobjects/{sobject}` (201). Never retried after an
    /// unknown outcome (5xx, timeout): re-read before sending it again.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let saved = client.create("Case", &serde_json::json!({"Subject": "Cannot log in"})).await?;
    /// println!("created {}", saved.id);
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        sobject: &str,
        fields: &impl Serialize,
    ) -> Result<SaveResult, Error> {
        validate_name("sObject", sobject)?;
        let req = Request {
            method: Method::POST,
            path: self.data_path(&format!("/sobjects/{sobject}")),
            kind: RequestKind::Create,
            body: Some(Self::json_body(fields)?),
            idempotent: false,
            headers: self.write_headers(),
        };
        let response = self.execute(&req).await?;
        decode(&response.body, &response.url)
    }

    /// Reads a record: `GET /sobjects/{sobject}/{id}[?fields=...]`.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let case: serde_json::Value = client.get("Case", "500xx000000bXyzAAE", &["Status", "OwnerId"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get<T: DeserializeOwned>(
        &self,
        sobject: &str,
        id: &str,
        fields: &[&str],
    ) -> Result<T, Error> {
        validate_name("sObject", sobject)?;
        let mut path = self.data_path(&format!("/sobjects/{sobject}/{}", segment(id)));
        if !fields.is_empty() {
            for f in fields {
                validate_name("field", f)?;
            }
            path.push_str(&format!("?fields={}", fields.join(",")));
        }
        let req = Request {
            method: Method::GET,
            path,
            kind: RequestKind::Get,
            body: None,
            idempotent: true,
            headers: Vec::new(),
        };
        let response = self.execute(&req).await?;
        decode(&response.body, &response.url)
    }

    /// Updates fields of a record: `PATCH /sobjects/{sobject}/{id}` (204). Leave `Id` out of the body.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// client.update("Case", "500xx000000bXyzAAE", &serde_json::json!({"Status": "Closed"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        sobject: &str,
        id: &str,
        fields: &impl Serialize,
    ) -> Result<(), Error> {
        validate_name("sObject", sobject)?;
        let req = Request {
            method: Method::PATCH,
            path: self.data_path(&format!("/sobjects/{sobject}/{}", segment(id))),
            kind: RequestKind::Update,
            body: Some(Self::json_body(fields)?),
            idempotent: true,
            headers: self.write_headers(),
        };
        self.execute(&req).await.map(|_| ())
    }

    /// Upserts by external id: `PATCH /sobjects/{sobject}/{field}/{value}`. 201 →
    /// [`UpsertOutcome::Created`], 200/204 → [`UpsertOutcome::Updated`], 300 →
    /// [`Error::MultipleMatches`]. Leave the external-id field out of the body.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let outcome = client
    ///     .upsert("Case", "Ticket_Id__c", "4711", &serde_json::json!({"Subject": "Printer on fire"}))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upsert(
        &self,
        sobject: &str,
        field: &str,
        value: &str,
        fields: &impl Serialize,
    ) -> Result<UpsertOutcome, Error> {
        validate_name("sObject", sobject)?;
        validate_name("external id field", field)?;
        if value.is_empty() {
            return Err(Error::Config(format!(
                "empty external id value for {sobject}.{field}"
            )));
        }
        let req = Request {
            method: Method::PATCH,
            path: self.data_path(&format!("/sobjects/{sobject}/{field}/{}", segment(value))),
            kind: RequestKind::Upsert,
            body: Some(Self::json_body(fields)?),
            idempotent: true,
            headers: self.write_headers(),
        };
        let response = self.execute(&req).await?;
        match response.status {
            201 => {
                let body: UpsertBody = decode(&response.body, &response.url)?;
                Ok(UpsertOutcome::Created { id: body.id })
            }
            204 => Ok(UpsertOutcome::Updated { id: None }),
            300 => {
                let urls: Vec<String> = decode(&response.body, &response.url)?;
                let ids = urls
                    .iter()
                    .map(|u| u.rsplit('/').next().unwrap_or(u).to_owned())
                    .collect();
                Err(Error::MultipleMatches {
                    sobject: sobject.to_owned(),
                    field: field.to_owned(),
                    value: value.to_owned(),
                    ids,
                })
            }
            _ => {
                let body: UpsertBody = decode(&response.body, &response.url)?;
                Ok(UpsertOutcome::Updated { id: Some(body.id) })
            }
        }
    }

    /// Deletes a record: `DELETE /sobjects/{sobject}/{id}` (204).
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// client.delete("Contact", "003xx000004TmiQAAS").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, sobject: &str, id: &str) -> Result<(), Error> {
        validate_name("sObject", sobject)?;
        let req = Request {
            method: Method::DELETE,
            path: self.data_path(&format!("/sobjects/{sobject}/{}", segment(id))),
            kind: RequestKind::Delete,
            body: None,
            idempotent: true,
            headers: Vec::new(),
        };
        self.execute(&req).await.map(|_| ())
    }
}
