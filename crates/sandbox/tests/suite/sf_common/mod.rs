//! Shared setup for the simulated-Salesforce tests: the demo seed, a server on a
//! loopback port, a token, and small request helpers.

#![allow(dead_code)]

use std::path::PathBuf;

use sandbox::salesforce::{SalesforceConfig, SalesforceSim, Store};
use serde_json::Value;

/// RSA key pair for JWT-bearer tests (test-only keys, generated with openssl).
pub const JWT_KEY: &str = include_str!("jwt_test_key.pem");
/// Public half of [`JWT_KEY`].
pub const JWT_PUB: &str = include_str!("jwt_test_key.pub.pem");
/// A key the simulator does not trust.
pub const OTHER_KEY: &str = include_str!("jwt_other_key.pem");

/// A running simulator.
pub struct Sf {
    pub sim: SalesforceSim,
    pub url: String,
    pub http: reqwest::Client,
}

pub fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sandbox/salesforce")
}

pub fn demo_store() -> Store {
    Store::load_dir(&seed_dir()).expect("demo seed loads")
}

/// Serves `store` on 127.0.0.1:0.
pub async fn start_with(store: Store, config: SalesforceConfig) -> Sf {
    let sim = SalesforceSim::new(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = sim.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Sf {
        sim,
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

pub async fn start() -> Sf {
    start_with(demo_store(), SalesforceConfig::default()).await
}

impl Sf {
    /// POSTs a form to the token endpoint; returns status and body.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/services/oauth2/token", self.url))
            .form(form)
            .send()
            .await
            .expect("token request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    /// A fresh access token (client-credentials flow).
    pub async fn token(&self) -> String {
        let (status, body) = self
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", "id"),
                ("client_secret", "secret"),
            ])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// Sends an authorised request; returns status, headers and body (`Null` when empty).
    pub async fn call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("json")
        };
        (status, headers, json)
    }

    /// Runs a query and follows every `nextRecordsUrl`; returns all records.
    pub async fn query_all_pages(&self, token: &str, soql: &str) -> Vec<Value> {
        let mut url = format!("{}/services/data/v62.0/query?{}", self.url, form_q(soql));
        let mut out = Vec::new();
        loop {
            let resp = self
                .http
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("query");
            assert_eq!(resp.status().as_u16(), 200);
            let page: Value = resp.json().await.expect("json");
            out.extend(page["records"].as_array().cloned().unwrap_or_default());
            if page["done"] == Value::Bool(true) {
                assert!(
                    page.get("nextRecordsUrl").is_none(),
                    "last page has no nextRecordsUrl key"
                );
                return out;
            }
            url = format!(
                "{}{}",
                self.url,
                page["nextRecordsUrl"].as_str().expect("nextRecordsUrl")
            );
        }
    }
}

/// `q=<soql>` form-encoded (spaces as `+`, as real clients send it).
pub fn form_q(soql: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", soql)
        .finish()
}

/// Sorted values of `key` over `records`.
pub fn sorted(records: &[Value], key: &str) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| r[key].as_str().unwrap_or("<null>").to_string())
        .collect();
    v.sort();
    v
}
