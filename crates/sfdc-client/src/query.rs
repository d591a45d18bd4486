//! SOQL queries (reference §3): `query`/`queryAll` as a stream of typed records that
//! follows `nextRecordsUrl` until `done: true`, holding one page in memory, and
//! completes child relationship results that came back with `done: false` before a
//! record is yielded.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use futures::Stream;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::{decode, decode_value, Error};
use crate::http::Request;
use crate::limits::RequestKind;

/// One page of a query result. `done` is the only end-of-results signal; the last
/// page has no `nextRecordsUrl` key at all. Also the shape of a child relationship
/// value in a record (`Option<QueryPage<Child>>`: no children is `null`); the query
/// stream has already completed such child results (`done: true`) when it yields.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage<R> {
    /// Total rows across all pages (repeated on every page).
    pub total_size: u64,
    /// True on the last page.
    pub done: bool,
    /// Locator path of the next page, present only while `done` is false.
    #[serde(default)]
    pub next_records_url: Option<String>,
    /// The rows of this page.
    pub records: Vec<R>,
}

/// A query's `totalSize` (rows across all pages), known once its first page arrived.
/// Clones share it.
#[derive(Debug, Clone, Default)]
pub struct QueryTotal(Arc<OnceLock<u64>>);

impl QueryTotal {
    /// The total, once the first page arrived.
    pub fn get(&self) -> Option<u64> {
        self.0.get().copied()
    }

    /// Keeps the page's `totalSize` (the first page's wins) and hands the page back.
    fn set<R>(&self, page: QueryPage<R>) -> QueryPage<R> {
        let _ = self.0.set(page.total_size);
        page
    }
}

/// A record that could not be decoded into the caller's type. The stream goes on
/// after it; the caller reports it and skips the record.
#[derive(Debug)]
pub struct RecordError {
    /// The record's id, from `Id` or `attributes.url`, when known.
    pub record_id: Option<String>,
    /// The decode error ([`Error::Decode`]), naming the failing JSON path.
    pub error: Box<Error>,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.record_id {
            Some(id) => write!(f, "record {id}: {}", self.error),
            None => write!(f, "record without id: {}", self.error),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.error)
    }
}

/// One item of a query stream: the outer `Err` ends the stream (transport, auth, API
/// error), the inner `Err` is one undecodable record.
pub type QueryItem<T> = Result<Result<T, RecordError>, Error>;

enum State {
    Start(String),
    Page {
        records: VecDeque<Value>,
        next: Option<String>,
        url: String,
    },
    Finished,
}

impl Client {
    /// Runs a SOQL query and streams every record, following `nextRecordsUrl`.
    /// Use `T = serde_json::Value` for untyped records.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// #[derive(serde::Deserialize)]
    /// struct Account { #[serde(rename = "Id")] id: String, #[serde(rename = "Name")] name: String }
    /// # async fn f(client: sfdc_client::Client) -> Result<(), sfdc_client::Error> {
    /// let mut rows = std::pin::pin!(client.query::<Account>("SELECT Id, Name FROM Account"));
    /// while let Some(item) = rows.next().await {
    ///     match item? {
    ///         Ok(account) => println!("{} {}", account.id, account.name),
    ///         Err(bad) => eprintln!("skipped: {bad}"),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn query<T: DeserializeOwned>(
        &self,
        soql: &str,
    ) -> impl Stream<Item = QueryItem<T>> + Send + 'static {
        self.query_with_total(soql).0
    }

    /// Like [`Client::query`], with the query's `totalSize` as it arrives with the
    /// first page (for progress with totals).
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) {
    /// let (rows, total) = client.query_with_total::<serde_json::Value>("SELECT Id FROM Account");
    /// assert_eq!(total.get(), None); // no page read yet
    /// # }
    /// ```
    pub fn query_with_total<T: DeserializeOwned>(
        &self,
        soql: &str,
    ) -> (
        impl Stream<Item = QueryItem<T>> + Send + 'static,
        QueryTotal,
    ) {
        let total = QueryTotal::default();
        let rows = self.stream(
            self.data_path(&format!("/query?{}", encode_q(soql))),
            total.clone(),
        );
        (rows, total)
    }

    /// Like [`Client::query`], through `queryAll`: deleted and archived rows included.
    ///
    /// ```no_run
    /// # async fn f(client: sfdc_client::Client) {
    /// let rows = client.query_all::<serde_json::Value>("SELECT Id FROM Account WHERE IsDeleted = true");
    /// # }
    /// ```
    pub fn query_all<T: DeserializeOwned>(
        &self,
        soql: &str,
    ) -> impl Stream<Item = QueryItem<T>> + Send + 'static {
        self.stream(
            self.data_path(&format!("/queryAll?{}", encode_q(soql))),
            QueryTotal::default(),
        )
    }

    /// Fetches one page at `path` (a query path or a `nextRecordsUrl`).
    async fn fetch_page(
        &self,
        path: &str,
        kind: RequestKind,
    ) -> Result<(QueryPage<Value>, String), Error> {
        let mut headers = Vec::new();
        if let Some(size) = self.inner.batch_size {
            headers.push(("Sforce-Query-Options", format!("batchSize={size}")));
        }
        let req = Request {
            method: Method::GET,
            path: path.to_owned(),
            kind,
            body: None,
            idempotent: true,
            headers,
        };
        let response = self.execute(&req).await?;
        let page = decode(&response.body, &response.url)?;
        Ok((page, response.url))
    }

    fn stream<T: DeserializeOwned>(
        &self,
        first: String,
        total: QueryTotal,
    ) -> impl Stream<Item = QueryItem<T>> + Send + 'static {
        let client = self.clone();
        futures::stream::unfold(State::Start(first), move |state| {
            let client = client.clone();
            let total = total.clone();
            async move { client.step(state, &total).await }
        })
    }

    async fn step<T: DeserializeOwned>(
        &self,
        mut state: State,
        total: &QueryTotal,
    ) -> Option<(QueryItem<T>, State)> {
        loop {
            state = match state {
                State::Finished => return None,
                State::Start(path) => match self.fetch_page(&path, RequestKind::Query).await {
                    Ok((page, url)) => match page_state(total.set(page), url) {
                        Ok(state) => state,
                        Err(e) => return Some((Err(e), State::Finished)),
                    },
                    Err(e) => return Some((Err(e), State::Finished)),
                },
                State::Page {
                    mut records,
                    next,
                    url,
                } => match records.pop_front() {
                    Some(mut record) => {
                        if let Err(e) = self.complete_children(&mut record, &url).await {
                            return Some((Err(e), State::Finished));
                        }
                        let item = to_record(record, &url);
                        return Some((Ok(item), State::Page { records, next, url }));
                    }
                    None => match next {
                        None => return None,
                        Some(path) => match self.fetch_page(&path, RequestKind::QueryMore).await {
                            Ok((page, url)) => match page_state(page, url) {
                                Ok(state) => state,
                                Err(e) => return Some((Err(e), State::Finished)),
                            },
                            Err(e) => return Some((Err(e), State::Finished)),
                        },
                    },
                },
            }
        }
    }

    /// Follows `nextRecordsUrl` of every child relationship result with `done: false`
    /// until done, appending the rows, and recurses into child records (v58+ nesting).
    fn complete_children<'a>(
        &'a self,
        record: &'a mut Value,
        page_url: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let Some(fields) = record.as_object_mut() else {
                return Ok(());
            };
            for (name, value) in fields.iter_mut() {
                if !is_query_result(value) {
                    continue;
                }
                let mut next = match (value.get("done"), value.get("nextRecordsUrl")) {
                    (Some(Value::Bool(false)), Some(Value::String(url))) => Some(url.clone()),
                    (Some(Value::Bool(false)), _) => {
                        return Err(missing_next_url(
                            &format!("{name}.nextRecordsUrl"),
                            page_url,
                        ))
                    }
                    _ => None,
                };
                while let Some(path) = next.take() {
                    let (page, url) = self.fetch_page(&path, RequestKind::QueryMore).await?;
                    if let Some(Value::Array(rows)) = value.get_mut("records") {
                        rows.extend(page.records);
                    }
                    next = match (page.done, page.next_records_url) {
                        (true, _) => None,
                        (false, Some(next)) => Some(next),
                        (false, None) => return Err(missing_next_url("nextRecordsUrl", &url)),
                    };
                }
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("done".into(), Value::Bool(true));
                    obj.remove("nextRecordsUrl");
                }
                if let Some(Value::Array(rows)) = value.get_mut("records") {
                    for row in rows {
                        self.complete_children(row, page_url).await?;
                    }
                }
            }
            Ok(())
        })
    }
}

/// The stream state after a page. `done` decides whether there is more (§3.2); a page
/// that is not done but names no next page is an error, never a silent end.
fn page_state(page: QueryPage<Value>, url: String) -> Result<State, Error> {
    let next = match (page.done, page.next_records_url) {
        (true, _) => None,
        (false, Some(next)) => Some(next),
        (false, None) => return Err(missing_next_url("nextRecordsUrl", &url)),
    };
    Ok(State::Page {
        records: page.records.into(),
        next,
        url,
    })
}

/// The error for a result that says `done: false` without a `nextRecordsUrl` at `path`.
fn missing_next_url(path: &str, url: &str) -> Error {
    Error::Decode {
        url: url.to_owned(),
        path: path.to_owned(),
        message: "`done` is false but there is no nextRecordsUrl; the result cannot be completed"
            .to_owned(),
    }
}

/// A child relationship value: a QueryResult object (`null` when there are no children).
fn is_query_result(value: &Value) -> bool {
    value.as_object().is_some_and(|o| {
        o.get("records").is_some_and(Value::is_array)
            && o.get("done").is_some_and(Value::is_boolean)
    })
}

fn to_record<T: DeserializeOwned>(record: Value, url: &str) -> Result<T, RecordError> {
    let record_id = record_id(&record);
    decode_value(record, url).map_err(|error| RecordError {
        record_id,
        error: Box::new(error),
    })
}

/// The record id: `Id` if selected, else the last segment of `attributes.url`.
fn record_id(record: &Value) -> Option<String> {
    if let Some(Value::String(id)) = record.get("Id") {
        return Some(id.clone());
    }
    let url = record.get("attributes")?.get("url")?.as_str()?;
    url.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `q=<soql>` encoded as `application/x-www-form-urlencoded`: spaces become `+`, and
/// `+`, `&`, `%`, `#`, quotes and newlines are percent-encoded.
///
/// ```
/// assert_eq!(sfdc_client::encode_q("SELECT Id FROM A WHERE N = 'C++ & 100%'"),
///            "q=SELECT+Id+FROM+A+WHERE+N+%3D+%27C%2B%2B+%26+100%25%27");
/// ```
pub fn encode_q(soql: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", soql)
        .finish()
}
