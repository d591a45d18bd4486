//! Fault injection for both simulated APIs: an axum middleware that, by rule, answers
//! 429 storms, 500/503 (before the handler ran, or after it applied the write), drops the
//! connection (before or after the handler ran), slows a response, expires Salesforce
//! tokens, or makes bulk-job rows or whole jobs fail. Each rule fires with a probability,
//! a share, or on a schedule ("the Nth request to endpoint X", "every 10th request");
//! draws come from one seeded ChaCha generator, so a run is repeatable.
//!
//! Rates that hold together, e.g. the reliability mix of issue 16 (10 % 429s, 5 % 5xx of
//! which half after the write applied, 2 % dropped connections of which half after
//! applying, 5 % failed job rows, a Salesforce token that expires every 10 requests):
//!
//! ```text
//! zendesk:429@10%  zendesk:503@2.5%  zendesk:503-after@2.5%  zendesk:drop@1%
//! zendesk:drop-after@1%  zendesk:job-row@5%  salesforce:expire-token@every10
//! ```
//!
//! (one `--fault` each, see [`parse_rule`]): `%` is a share, so the request faults are
//! exclusive and add up to exactly 17 % of the requests.

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
    /// The handler runs (the write is applied), then its answer is replaced by a 5xx.
    ServerErrorAfterApply {
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
            | Fault::ServerErrorAfterApply { .. }
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
    /// Each match with this probability (0..=1), drawn from the seeded generator; each
    /// such rule draws on its own (the first rule that fires wins).
    Probability(f64),
    /// A share (0..=1) of one draw per request (or job row, job, webhook): the `share`
    /// rules a request matches split a single draw in rule order, so they are exclusive
    /// and their rates add up exactly (10 % + 5 % = 15 % of the matching requests).
    Share(f64),
    /// Every Nth match (the Nth, 2Nth, …; 1-based).
    Every(u64),
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

    /// How many times each kind of fault fired so far (`"rate_limited": 98`, …).
    pub fn fired_counts(&self) -> std::collections::BTreeMap<String, u64> {
        let mut counts = std::collections::BTreeMap::new();
        for f in &self.lock().fired {
            let kind = serde_json::to_value(&f.fault)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_default();
            *counts.entry(kind).or_insert(0) += 1;
        }
        counts
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
        // One draw shared by the `share` rules, taken when the first one is met.
        let mut share_draw: Option<f64> = None;
        let mut share_from = 0.0_f64;
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
                When::Share(p) => {
                    let u = *share_draw.get_or_insert_with(|| rng.gen::<f64>());
                    let to = share_from + p.clamp(0.0, 1.0);
                    let hit = u >= share_from && u < to;
                    share_from = to;
                    hit
                }
                When::Every(k) => *k > 0 && *n % *k == 0,
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
        Some(Fault::ServerError { status }) => server_error(status),
        Some(Fault::ServerErrorAfterApply { status }) => {
            // Run the handler to the end (the write happens), then answer a 5xx.
            let resp = next.run(req).await;
            drop(resp);
            server_error(status)
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

/// A 5xx answer in the errors envelope; a 503 carries `Retry-After: 1`.
fn server_error(status: u16) -> Response {
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

/// The syntax of `zd-sfdc-sandbox serve --fault`, for its `--help`.
pub const RULE_SYNTAX: &str = "\
A rule is JSON (a FaultRule, e.g. '{\"fault\":{\"kind\":\"server_error\",\"status\":503},\"when\":{\"nth\":3},\"api\":\"zendesk\"}')
or the short form  [API:]KIND@WHEN[ ENDPOINT]
  API       zendesk | salesforce (default: both)
  KIND      429 | 429=SECS (Retry-After, default 1)
            500 | 502 | 503 | 504           5xx, nothing applied
            500-after | 503-after | …       5xx after the write was applied
            drop | drop-after               connection dropped before / after applying
            slow=MS                         answer delayed
            job-row                         a bulk-job row fails (each row one draw)
            job | job=STATUS                a whole bulk job ends failed (or STATUS)
            expire-token                    Salesforce tokens expire, then the request runs
            lock-row                        Salesforce UNABLE_TO_LOCK_ROW
            duplicate-webhook               a ticket webhook is delivered twice
  WHEN      10%        a share of one draw: share rules are exclusive, rates add up
            p0.1       a probability, drawn on its own
            #3         the 3rd match only
            3..7       matches 3 to 7
            every10    every 10th match
            always
  ENDPOINT  only requests whose endpoint key or path starts with it
            (e.g. 'POST /api/v2/organizations/create_many')
Example, the reliability mix: --fault zendesk:429@10% --fault zendesk:503@2.5%
  --fault zendesk:503-after@2.5% --fault zendesk:drop@1% --fault zendesk:drop-after@1%
  --fault zendesk:job-row@5% --fault salesforce:expire-token@every10 --fault-seed 1";

/// Parses a fault rule: JSON (a [`FaultRule`]) when it starts with `{`, else the short
/// form of [`RULE_SYNTAX`] (`zendesk:503-after@2.5%`, `salesforce:expire-token@every10`,
/// `500@#3 POST /api/v2/organizations/create_many`).
pub fn parse_rule(text: &str) -> Result<FaultRule, String> {
    let text = text.trim();
    if text.starts_with('{') {
        return serde_json::from_str(text).map_err(|e| format!("invalid fault rule JSON: {e}"));
    }
    let (rule, endpoint) = match text.split_once(' ') {
        Some((rule, endpoint)) => (rule, Some(endpoint.trim().to_owned())),
        None => (text, None),
    };
    let (kind, when) = rule
        .split_once('@')
        .ok_or_else(|| format!("`{text}`: expected KIND@WHEN"))?;
    let (api, kind) = match kind.split_once(':') {
        Some(("zendesk", k)) => (Some(Api::Zendesk), k),
        Some(("salesforce", k)) => (Some(Api::Salesforce), k),
        Some((other, _)) => return Err(format!("`{text}`: unknown API `{other}`")),
        None => (None, kind),
    };
    let (name, param) = match kind.split_once('=') {
        Some((n, p)) => (n, Some(p)),
        None => (kind, None),
    };
    let number = |p: Option<&str>, default: Option<u64>| -> Result<u64, String> {
        match (p, default) {
            (Some(p), _) => p
                .parse()
                .map_err(|_| format!("`{text}`: `{p}` is not a whole number")),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(format!("`{text}`: `{name}` needs =VALUE")),
        }
    };
    let status = |s: &str| -> Option<u16> { s.parse().ok().filter(|c| (500..600).contains(c)) };
    let fault = match name {
        "429" => Fault::RateLimited {
            retry_after_secs: number(param, Some(1))?,
        },
        "drop" => Fault::Drop,
        "drop-after" => Fault::DropAfterApply,
        "slow" => Fault::Slow {
            millis: number(param, None)?,
        },
        "job-row" => Fault::FailJobRow,
        "job" => Fault::FailJob {
            status: param.unwrap_or("failed").to_owned(),
        },
        "expire-token" => Fault::ExpireSalesforceTokens,
        "lock-row" => Fault::LockRow,
        "duplicate-webhook" => Fault::DuplicateWebhook,
        other => match other.strip_suffix("-after") {
            Some(code) => Fault::ServerErrorAfterApply {
                status: status(code).ok_or_else(|| format!("`{text}`: unknown kind `{other}`"))?,
            },
            None => Fault::ServerError {
                status: status(other).ok_or_else(|| format!("`{text}`: unknown kind `{other}`"))?,
            },
        },
    };
    let fraction = |p: &str, scale: f64| -> Result<f64, String> {
        p.parse::<f64>()
            .ok()
            .map(|v| v / scale)
            .filter(|v| (0.0..=1.0).contains(v))
            .ok_or_else(|| {
                format!("`{text}`: `{when}` is not a rate between 0 and 1 (0 and 100 %)")
            })
    };
    let when = if when == "always" {
        When::Always
    } else if let Some(p) = when.strip_suffix('%') {
        When::Share(fraction(p, 100.0)?)
    } else if let Some(p) = when.strip_prefix('p') {
        When::Probability(fraction(p, 1.0)?)
    } else if let Some(n) = when.strip_prefix('#') {
        When::Nth(number(Some(n), None)?)
    } else if let Some(n) = when.strip_prefix("every") {
        let n = number(Some(n), None)?;
        if n == 0 {
            return Err(format!("`{text}`: every0 never fires"));
        }
        When::Every(n)
    } else if let Some((from, to)) = when.split_once("..") {
        When::Range {
            from: number(Some(from), None)?,
            to: number(Some(to), None)?,
        }
    } else {
        return Err(format!("`{text}`: unknown WHEN `{when}`"));
    };
    Ok(FaultRule {
        fault,
        when,
        api,
        endpoint,
    })
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
        .and_then(|v| {
            v.get("records")
                .and_then(serde_json::Value::as_array)
                .map(Vec::len)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_form_reads_every_kind_and_schedule() {
        let rule = |t: &str| parse_rule(t).unwrap();
        assert_eq!(
            rule("zendesk:503-after@2.5%"),
            FaultRule {
                fault: Fault::ServerErrorAfterApply { status: 503 },
                when: When::Share(0.025),
                api: Some(Api::Zendesk),
                endpoint: None,
            }
        );
        assert_eq!(
            rule("salesforce:expire-token@every10").when,
            When::Every(10)
        );
        assert_eq!(
            rule("429=7@p0.1").fault,
            Fault::RateLimited {
                retry_after_secs: 7
            }
        );
        let scoped = rule("500@#3 POST /api/v2/organizations/create_many");
        assert_eq!(scoped.when, When::Nth(3));
        assert_eq!(
            scoped.endpoint.as_deref(),
            Some("POST /api/v2/organizations/create_many")
        );
        assert_eq!(rule("drop-after@2..4").when, When::Range { from: 2, to: 4 });
        assert_eq!(
            rule("job=killed@always").fault,
            Fault::FailJob {
                status: "killed".into()
            }
        );
        assert_eq!(rule("job-row@5%").fault, Fault::FailJobRow);
        assert_eq!(
            rule(r#"{"fault":{"kind":"drop"},"when":"always"}"#).fault,
            Fault::Drop
        );
        for bad in [
            "503",
            "zendesk:418@5%",
            "nowhere:drop@5%",
            "drop@150%",
            "slow@5%",
            "drop@every0",
            "drop@soon",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_are_exclusive_and_every_counts_matches() {
        let faults = Faults::new(FaultPlan {
            seed: 3,
            rules: vec![
                parse_rule("zendesk:429@50%").unwrap(),
                parse_rule("zendesk:500@50%").unwrap(),
                parse_rule("salesforce:expire-token@every3").unwrap(),
            ],
        });
        let mut zendesk = std::collections::BTreeMap::new();
        for _ in 0..200 {
            let f = faults.decide(Api::Zendesk, "GET /x", "/x");
            *zendesk.entry(format!("{f:?}")).or_insert(0) += 1;
        }
        // 50 % + 50 %: every request gets exactly one of the two.
        assert_eq!(zendesk.values().sum::<i32>(), 200);
        assert!(!zendesk.contains_key("None"), "{zendesk:?}");
        let fired: Vec<bool> = (0..9)
            .map(|_| faults.decide(Api::Salesforce, "GET /y", "/y").is_some())
            .collect();
        assert_eq!(
            fired,
            [false, false, true, false, false, true, false, false, true]
        );
    }
}
