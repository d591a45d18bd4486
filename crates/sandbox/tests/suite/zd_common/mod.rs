//! Shared setup for the Zendesk simulator tests: serve a `ZendeskSim` over the repo's
//! Global seed on a loopback port, and small request helpers.

// Each test binary uses only part of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use sandbox::faults::{FaultPlan, Faults};
use sandbox::zendesk::{Data, ZendeskConfig, ZendeskSim};
use serde_json::Value;

/// A running simulated Zendesk.
pub struct Zd {
    pub url: String,
    pub sim: ZendeskSim,
    pub faults: Faults,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Fast defaults for tests: 40 ms jobs, a high rate limit.
pub fn fast() -> ZendeskConfig {
    ZendeskConfig {
        job_latency: Duration::from_millis(40),
        rate_limit: 10_000,
        ..ZendeskConfig::default()
    }
}

/// Starts the simulator over the Global demo seed.
pub async fn start(config: ZendeskConfig, plan: FaultPlan) -> Zd {
    let data = Data::load_dir(&sandbox::fixtures_dir().join("zendesk/global")).unwrap();
    start_with(data, config, plan).await
}

/// Starts the simulator over `data`.
pub async fn start_with(data: Data, config: ZendeskConfig, plan: FaultPlan) -> Zd {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let faults = Faults::new(plan);
    let sim = ZendeskSim::new(
        data,
        ZendeskConfig {
            base_url: url.clone(),
            ..config
        },
        faults.clone(),
    );
    let router = sim.router();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Zd {
        url,
        sim,
        faults,
        http: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Zd {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// A GET answer's status, `Retry-After` (if any) and body.
    pub async fn get_full(&self, path: &str) -> (u16, Option<String>, Value) {
        let resp = self
            .http
            .get(format!("{}{}", self.url, path))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        (
            status,
            retry,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Follows cursor pages from `first` (a path) to the end; every record under `key`.
    pub async fn walk(&self, first: &str, key: &str) -> Vec<Value> {
        let mut next = format!("{}{}", self.url, first);
        let mut all = Vec::new();
        loop {
            let body: Value = self
                .http
                .get(&next)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            all.extend(body[key].as_array().unwrap().iter().cloned());
            if body["meta"]["has_more"] == false {
                assert!(body["links"]["next"].is_string(), "{body}");
                return all;
            }
            next = body["links"]["next"].as_str().unwrap().to_owned();
        }
    }

    /// Polls a job until it is no longer queued or working.
    pub async fn wait_job(&self, id: &str) -> Value {
        for _ in 0..100 {
            let (status, body) = self.get(&format!("/api/v2/job_statuses/{id}.json")).await;
            assert_eq!(status, 200, "{body}");
            let st = body["job_status"]["status"].as_str().unwrap().to_owned();
            if st != "queued" && st != "working" {
                return body["job_status"].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {id} never finished");
    }

    /// The org named `name` in the state dump.
    pub fn org_named(&self, name: &str) -> Option<Value> {
        let state = self.sim.dump();
        state["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .cloned()
    }
}
