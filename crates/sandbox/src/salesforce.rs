//! The simulated Salesforce REST API: OAuth token endpoint, SOQL query and queryMore
//! (with a SOQL-subset evaluator), sObject create/read/update/delete/upsert, request
//! counting and admin endpoints — all from `reference/salesforce-api.md`, with wire
//! types of its own (it depends on no client crate).
//!
//! Routes (all under one [`axum::Router`], see [`routes`]):
//!
//! | route | what |
//! |---|---|
//! | `POST /services/oauth2/token` | client_credentials, JWT bearer, password, refresh_token |
//! | `GET /services/data` | API versions |
//! | `GET /services/data/vNN.N/query?q=` and `/queryAll?q=` | first page |
//! | `GET /services/data/vNN.N/query/<cursor>-<offset>` | next pages (top level and child sets) |
//! | `POST /services/data/vNN.N/sobjects/{T}` | create |
//! | `GET`/`PATCH`/`DELETE /services/data/vNN.N/sobjects/{T}/{id}` | read / update / delete |
//! | `PATCH`/`GET /services/data/vNN.N/sobjects/{T}/{ExtField}/{value}` | upsert / read by external id |
//! | `POST`/`PATCH /services/data/vNN.N/composite/sobjects` | collection create / update (≤ 200) |
//! | `PATCH /services/data/vNN.N/composite/sobjects/{T}/{ExtField}` | collection upsert (≤ 200, v46+) |
//! | `POST /services/data/vNN.N/composite` | up to 25 subrequests with `@{ref.field}` references |
//! | `GET /__admin/state`, `GET /__admin/requests`, `POST /__admin/tokens/expire`, `POST /__admin/limits?daily=N` | test and demo hooks |

#![deny(missing_docs)]

mod collections;
mod composite;
mod dml;
pub mod eval;
pub mod generate;
mod oauth;
mod query;
mod routes;
pub mod schema;
pub mod soql;
pub mod store;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use generate::GenerateConfig;
pub use query::QueryError;
pub use store::{SeedError, Store};

/// How the simulated org behaves.
#[derive(Clone)]
pub struct SalesforceConfig {
    /// Top-level query page size (default 2000; a `Sforce-Query-Options: batchSize` header can lower it).
    pub page_size: usize,
    /// Child records returned inline per parent before the child set pages (default 200).
    pub child_page_size: usize,
    /// A token answers 401 after this many API requests.
    pub token_ttl_requests: Option<u64>,
    /// A token answers 401 after this long.
    pub token_ttl: Option<Duration>,
    /// `(client_id, client_secret)` the token endpoint requires; `None` accepts any.
    pub required_client: Option<(String, String)>,
    /// PEM public key that JWT assertions must be signed with; `None` accepts any well-formed assertion.
    pub jwt_public_key_pem: Option<String>,
    /// A refresh token the org accepts on the `refresh_token` grant, as if a web-server
    /// flow (not simulated) had issued it; `None` refuses every refresh token.
    pub refresh_token: Option<String>,
}

impl Default for SalesforceConfig {
    fn default() -> Self {
        Self {
            page_size: 2000,
            child_page_size: 200,
            token_ttl_requests: None,
            token_ttl: None,
            required_client: None,
            jwt_public_key_pem: None,
            refresh_token: None,
        }
    }
}

impl std::fmt::Debug for SalesforceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret never reaches Debug output.
        f.debug_struct("SalesforceConfig")
            .field("page_size", &self.page_size)
            .field("child_page_size", &self.child_page_size)
            .field("token_ttl_requests", &self.token_ttl_requests)
            .field("token_ttl", &self.token_ttl)
            .field(
                "required_client",
                &self
                    .required_client
                    .as_ref()
                    .map(|(id, _)| (id, "<redacted>")),
            )
            .field("jwt_public_key_pem", &self.jwt_public_key_pem.is_some())
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Mutable state behind the simulator's lock.
pub(crate) struct SimState {
    pub(crate) store: Store,
    pub(crate) config: SalesforceConfig,
    pub(crate) tokens: HashMap<String, oauth::TokenState>,
    pub(crate) cursors: HashMap<String, query::Cursor>,
    pub(crate) cursor_order: VecDeque<String>,
    pub(crate) next_cursor: u64,
    pub(crate) next_token: u64,
    pub(crate) counts: BTreeMap<String, u64>,
    pub(crate) api_usage: u64,
    pub(crate) daily_limit: u64,
    pub(crate) case_number: u64,
}

/// The simulated Salesforce org; cheap to clone (shared state inside).
#[derive(Clone)]
pub struct SalesforceSim {
    inner: Arc<Mutex<SimState>>,
}

impl SalesforceSim {
    /// A simulator serving `store` with `config`.
    pub fn new(store: Store, config: SalesforceConfig) -> Self {
        let mut store = store;
        dml::ensure_system_users(&mut store);
        Self {
            inner: Arc::new(Mutex::new(SimState {
                store,
                config,
                tokens: HashMap::new(),
                cursors: HashMap::new(),
                cursor_order: VecDeque::new(),
                next_cursor: 0,
                next_token: 0,
                counts: BTreeMap::new(),
                api_usage: 0,
                daily_limit: routes::DEFAULT_DAILY_LIMIT,
                case_number: 1000,
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic in one handler must not take the whole simulator down.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The whole API, including `/services/oauth2/token` and `/__admin/*`.
    pub fn router(&self) -> axum::Router {
        routes::router(self.clone())
    }

    /// Requests received so far, by endpoint (e.g. `"GET query"`, `"PATCH sobjects/Case upsert"`).
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.lock().counts.clone()
    }

    /// Every issued token now answers 401 `INVALID_SESSION_ID`.
    pub fn expire_tokens(&self) {
        for t in self.lock().tokens.values_mut() {
            t.revoked = true;
        }
    }

    /// Sets the org's daily API request limit: once `Sforce-Limit-Info` usage reaches
    /// it, every REST call answers 403 `REQUEST_LIMIT_EXCEEDED` (reference §7.4).
    pub fn set_daily_limit(&self, limit: u64) {
        self.lock().daily_limit = limit;
    }

    /// Every row of the SOQL query `text` as the REST API renders it (API `version`,
    /// e.g. `v62.0`), each child set whole and inline, handed to `each` in order;
    /// returns how many. No request is counted and no cursor kept: for reading a
    /// generated org's query in-process (the benchmark harness), without serving it.
    pub fn query_rows(
        &self,
        text: &str,
        version: &str,
        each: impl FnMut(serde_json::Value),
    ) -> Result<usize, QueryError> {
        query::each_row(&mut self.lock(), text, version, each)
    }

    /// Every sObject's records: `{"Account":[...], "Case":[...], ...}`.
    pub fn dump(&self) -> serde_json::Value {
        self.lock().store.dump()
    }
}

#[cfg(test)]
mod tests;
