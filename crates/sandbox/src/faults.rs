//! Fault injection for both simulated APIs: an axum middleware that, by rule, answers
//! 429 storms, 500/503, drops the connection (before or after the handler ran), slows a
//! response, expires Salesforce tokens, or makes bulk-job rows or whole jobs fail. Each
//! rule fires with a probability or on a schedule ("the Nth request to endpoint X");
//! draws come from one seeded ChaCha generator, so a run is repeatable.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which simulated API a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// The simulated Zendesk.
    Zendesk,
    /// The simulated Salesforce.
    Salesforce,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 429 with `Retry-After` and a plain-text body (Zendesk's form).
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// A 5xx answer (500, 503 with `Retry-After: 1`, ...), the handler not run.
    ServerError {
        /// The status code.
        status: u16,
    },
    /// The connection is dropped before the handler runs: nothing applied.
    Drop,
    /// The handler runs (the write is applied), then the connection is dropped.
    DropAfterApply,
    /// The response is delayed.
    Slow {
        /// Delay in milliseconds.
        millis: u64,
    },
    /// Rows of Zendesk bulk jobs on the endpoint fail (each row is one draw).
    FailJobRow,
    /// A whole Zendesk bulk job on the endpoint ends in `status` (`failed` by default;
    /// `killed` or any other value to exercise the older and unknown states, §6.1) with
    /// `results: null` and nothing applied (each job is one draw).
    FailJob {
        /// The final job status.
        #[serde(default = "failed_status")]
        status: String,
    },
    /// Salesforce access tokens are expired before the request is handled.
    ExpireSalesforceTokens,
    /// Salesforce could not lock the record (reference §7.3), nothing applied: a single
    /// write answers 400 `[{"errorCode":"UNABLE_TO_LOCK_ROW",…}]`; an sObject
    /// Collections write answers 200 with every item failing with that `statusCode`.
    LockRow,
    /// A ticket webhook is delivered twice with one invocation id (each webhook is one
    /// draw; `endpoint` matches `WEBHOOK created` / `WEBHOOK closed`).
    DuplicateWebhook,
}

fn failed_status() -> String {
    "failed".to_owned()
}

impl Fault {
    /// Whether the fault acts on something other than a request (job rows, webhooks).
    fn class(&self) -> Class {
        match self {
            Fault::FailJobRow => Class::JobRow,
            Fault::FailJob { .. } => Class::Job,
            Fault::DuplicateWebhook => Class::Webhook,
            Fault::RateLimited { .. }
            | Fault::ServerError { .. }
            | Fault::Drop
            | Fault::DropAfterApply
            | Fault::Slow { .. }
            | Fault::ExpireSalesforceTokens
            | Fault::LockRow => Class::Request,
        }
    }
}

/// What a draw is for: a request, a bulk job, a bulk-job row or a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Request,
    Job,
    JobRow,
    Webhook,
}

/// When a rule fires, counted over the requests (or job rows) it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// Every match.
    Always,
    /// Each match with this probability (0..=1), drawn from the seeded generator.
    Probability(f64),
    /// Only the Nth match (1-based).
    Nth(u64),
    /// Matches `from..=to` (1-based): a storm.
    Range {
        /// First match that fires.
        from: u64,
        /// Last match that fires.
        to: u64,
    },
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// When it happens.
    pub when: When,
    /// Only requests to this API (both if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    /// Only requests whose endpoint key (`METHOD /path/{id}`) or path starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// The whole fault setting: a seed and the rules, as `GET/PUT /__admin/faults` show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Seed of the generator behind probabilities.
    #[serde(default)]
    pub seed: u64,
    /// The rules, first firing rule wins.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// A fault that fired, with the rule index, as recorded in the log.
#[derive(Debug, Clone, Serialize)]
pub struct FiredFault {
    /// Endpoint key of the request.
    pub endpoint: String,
    /// The fault applied.
    pub fault: Fault,
}

struct Inner {
    plan: FaultPlan,
    counters: Vec<u64>,
    rng: ChaCha8Rng,
    fired: Vec<FiredFault>,
}

type Hook = Arc<dyn Fn() + Send + Sync>;

/// Shared, settable fault state used by both routers.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<Mutex<Inner>>,
    expire_salesforce: Arc<Mutex<Option<Hook>>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("plan", &self.plan())
            .finish()
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(FaultPlan::default())
    }
}

impl Faults {
    /// Fault state with the given plan.
    pub fn new(plan: FaultPlan) -> Faults {
        let faults = Faults {
            inner: Arc::new(Mutex::new(Inner {
                plan: FaultPlan::default(),
                counters: Vec::new(),
                rng: ChaCha8Rng::seed_from_u64(0),
                fired: Vec::new(),
            })),
            expire_salesforce: Arc::new(Mutex::new(None)),
        };
        faults.set(plan);
        faults
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the plan, resetting counters and the generator.
    pub fn set(&self, plan: FaultPlan) {
        let mut inner = self.lock();
        inner.counters = vec![0; plan.rules.len()];
        inner.rng = ChaCha8Rng::seed_from_u64(plan.seed);
        inner.plan = plan;
    }

    /// The current plan.
    pub fn plan(&self) -> FaultPlan {
        self.lock().plan.clone()
    }

    /// Faults that fired so far, in order.
    pub fn fired(&self) -> Vec<FiredFault> {
        self.lock().fired.clone()
    }

    /// Sets what `ExpireSalesforceTokens` calls.
    pub fn on_expire_salesforce(&self, hook: impl Fn() + Send + Sync + 'static) {
        *self
            .expire_salesforce
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(hook));
    }

    /// Draws the request-level fault for one request, if any rule fires.
    pub fn decide(&self, api: Api, endpoint: &str, path: &str) -> Option<Fault> {
        self.draw(api, endpoint, path, Class::Request)
    }

    /// Whether one row of a bulk job on `endpoint` must fail.
    pub fn fail_row(&self, endpoint: &str, path: &str) -> bool {
        self.draw(Api::Zendesk, endpoint, path, Class::JobRow)
            .is_some()
    }

    /// The status a whole bulk job on `endpoint` must end in, if a rule says it fails.
    pub fn fail_job(&self, endpoint: &str, path: &str) -> Option<String> {
        match self.draw(Api::Zendesk, endpoint, path, Class::Job) {
            Some(Fault::FailJob { status }) => Some(status),
            _ => None,
        }
    }

    /// Whether the webhook for `event` (`created`, `closed`) is delivered twice.
    pub fn duplicate_webhook(&self, event: &str) -> bool {
        let key = format!("WEBHOOK {event}");
        self.draw(Api::Zendesk, &key, &key, Class::Webhook)
            .is_some()
    }

    fn draw(&self, api: Api, endpoint: &str, path: &str, class: Class) -> Option<Fault> {
        let mut inner = self.lock();
        let Inner {
            plan,
            counters,
            rng,
            fired,
        } = &mut *inner;
        // Every matching rule counts the request, so "the Nth request" means the Nth
        // request to that endpoint whatever other rules did; the first rule firing wins.
        let mut chosen = None;
        for (i, rule) in plan.rules.iter().enumerate() {
            if rule.fault.class() != class {
                continue;
            }
            if rule.api.is_some_and(|a| a != api) {
                continue;
            }
            if let Some(p) = &rule.endpoint {
                if !endpoint.starts_with(p.as_str()) && !path.starts_with(p.as_str()) {
                    continue;
                }
            }
            let Some(n) = counters.get_mut(i) else {
                continue;
            };
            *n += 1;
            let fires = match &rule.when {
                When::Always => true,
                When::Probability(p) => rng.gen_bool(p.clamp(0.0, 1.0)),
                When::Nth(k) => *n == *k,
                When::Range { from, to } => (*from..=*to).contains(n),
            };
            if fires && chosen.is_none() {
                chosen = Some(rule.fault.clone());
            }
        }
        if let Some(fault) = &chosen {
            fired.push(FiredFault {
                endpoint: endpoint.to_owned(),
                fault: fault.clone(),
            });
        }
        chosen
    }

    fn expire_salesforce(&self) {
        let hook = self
            .expire_salesforce
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(hook) = hook {
            hook();
        }
    }
}

/// The key a request is counted and matched under: `METHOD /path` with numeric and job
/// ids as `{id}` and no `.json` suffix, e.g. `GET /api/v2/organizations/{id}`.
pub fn endpoint_key(method: &str, path: &str) -> String {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix(".json").unwrap_or(s))
        .map(|s| {
            let looks_like_id = s.chars().all(|c| c.is_ascii_digit())
                || s.starts_with("V3-")
                || (s.len() == 18
                    && s.chars().all(|c| c.is_ascii_alphanumeric())
                    && s.chars().any(|c| c.is_ascii_digit()));
            if looks_like_id {
                "{id}".to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    format!("{method} /{}", segs.join("/"))
}

/// Router state of [`middleware`]: the shared faults and which API this router serves.
#[derive(Clone, Debug)]
pub struct FaultLayer {
    /// Shared faults.
    pub faults: Faults,
    /// The API behind this router.
    pub api: Api,
}

/// The fault middleware; use with `axum::middleware::from_fn_with_state(FaultLayer, middleware)`.
pub async fn middleware(State(layer): State<FaultLayer>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let key = endpoint_key(req.method().as_str(), &path);
    match layer.faults.decide(layer.api, &key, &path) {
        None | Some(Fault::FailJobRow | Fault::FailJob { .. } | Fault::DuplicateWebhook) => {
            next.run(req).await
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Number of allowed API requests per minute exceeded",
            )
                .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            resp
        }
        Some(Fault::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"errors":[{"code":"Unavailable","title":"Internal Server Error"}]}"#,
            )
                .into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
            }
            resp
        }
        Some(Fault::Drop) => broken(),
        Some(Fault::DropAfterApply) => {
            // Run the handler to the end (the write happens), then lose the answer.
            let resp = next.run(req).await;
            drop(resp);
            broken()
        }
        Some(Fault::Slow { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(req).await
        }
        Some(Fault::ExpireSalesforceTokens) => {
            layer.faults.expire_salesforce();
            next.run(req).await
        }
        Some(Fault::LockRow) => lock_row(req).await,
    }
}

/// The answer of a write that could not lock its record (§7.3): per item on sObject
/// Collections (one failed item per record of the body), else the REST error array.
async fn lock_row(req: Request) -> Response {
    const MESSAGE: &str =
        "unable to obtain exclusive access to this record or 1 records: 500SDEMOLOCKED0001";
    let collections = req.uri().path().contains("/composite/sobjects");
    if !collections {
        let body = serde_json::json!([{
            "message": MESSAGE, "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []
        }]);
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let records = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["records"].as_array().map(Vec::len))
        .unwrap_or(0);
    let item = serde_json::json!({
        "id": null, "success": false, "created": false,
        "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": MESSAGE, "fields": []}]
    });
    let body = serde_json::Value::Array(vec![item; records]);
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A response whose body fails at once: hyper aborts the connection, and the client sees
/// it closed with no complete answer.
pub(crate) fn broken() -> Response {
    let stream = futures::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(stream))
}
