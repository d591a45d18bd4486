//! The client: builder (base URL, credentials, limits), and the one request path every
//! handler goes through — limiter, pacing, counting, sending, retrying, error mapping.

use crate::decode::decode;
use crate::error::{mentions_job_limit, ApiError};
use crate::jobs::{Jobs, PollPolicy};
use crate::organizations::Organizations;
use crate::rate::RateHeaders;
use crate::retry::{classify, RetryPolicy, Safety, Verdict};
use crate::tickets::Tickets;
use crate::users::Users;
use crate::{Error, Result};
use api_transport::{describe, read_capped, ReadFail};
use base64::Engine as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use url::Url;

/// Zendesk Team plan's limit, the default for the limiter.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 200;
/// Zendesk's limit of queued or running jobs per account.
pub const DEFAULT_JOB_LIMIT: usize = 30;
/// Default cap on one answer's body: 64 MiB (a page of 100 records is well under 1 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Default per-request timeout: 30 s, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default run budget of retry waiting shared by all calls of a client: 30 minutes.
pub const DEFAULT_RUN_RETRY_BUDGET: Duration = Duration::from_secs(30 * 60);

/// Credentials. `Debug` never shows the secret.
#[derive(Clone)]
pub enum Auth {
    /// API token: `Basic base64("{email}/token:{token}")`.
    ApiToken {
        /// The agent's email.
        email: String,
        /// The API token.
        token: SecretString,
    },
    /// OAuth access token: `Bearer {token}`.
    OAuth(SecretString),
}

impl Auth {
    /// API-token credentials.
    ///
    /// ```
    /// let auth = zendesk_client::Auth::api_token("ops@example.com", "t0ken");
    /// assert!(!format!("{auth:?}").contains("t0ken"));
    /// ```
    pub fn api_token(email: impl Into<String>, token: impl Into<String>) -> Self {
        Auth::ApiToken {
            email: email.into(),
            token: SecretString::from(token.into()),
        }
    }

    /// OAuth bearer-token credentials.
    ///
    /// ```
    /// let auth = zendesk_client::Auth::oauth("abc123");
    /// assert!(!format!("{auth:?}").contains("abc123"));
    /// ```
    pub fn oauth(token: impl Into<String>) -> Self {
        Auth::OAuth(SecretString::from(token.into()))
    }

    /// The `Authorization` header value, marked sensitive.
    fn header(&self) -> Result<HeaderValue> {
        let bad = |s: &str| s.chars().any(|c| c.is_control());
        match self {
            Auth::ApiToken { email, token } => {
                if bad(email) || email.trim().is_empty() {
                    return Err(Error::Config(
                        "the Zendesk email is empty or contains a control character (a newline?)"
                            .into(),
                    ));
                }
                if bad(token.expose_secret()) || token.expose_secret().trim().is_empty() {
                    return Err(Error::Config(
                        "the Zendesk API token is empty or contains a control character (a newline?)"
                            .into(),
                    ));
                }
            }
            Auth::OAuth(token) => {
                if bad(token.expose_secret()) || token.expose_secret().trim().is_empty() {
                    return Err(Error::Config(
                        "the Zendesk OAuth token is empty or contains a control character (a newline?)"
                            .into(),
                    ));
                }
            }
        }
        let raw = match self {
            Auth::ApiToken { email, token } => {
                // Zendesk and its clients append `/token` unless it is already there.
                let user = if email.ends_with("/token") {
                    email.clone()
                } else {
                    format!("{email}/token")
                };
                let pair = format!("{user}:{}", token.expose_secret());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Auth::OAuth(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&raw).map_err(|_| {
            Error::Config("credentials contain characters not allowed in a header".into())
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ApiToken { email, .. } => f
                .debug_struct("ApiToken")
                .field("email", email)
                .field("token", &"[REDACTED]")
                .finish(),
            Auth::OAuth(_) => f.write_str("OAuth([REDACTED])"),
        }
    }
}

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    url: Option<String>,
    subdomain: Option<String>,
    auth: Option<Auth>,
    requests_per_minute: Option<u32>,
    job_limit: Option<usize>,
    retry: Option<RetryPolicy>,
    poll: Option<PollPolicy>,
    timeout: Option<Option<Duration>>,
    connect_timeout: Option<Option<Duration>>,
    max_response_bytes: Option<u64>,
    run_retry_budget: Option<Option<Duration>>,
}

impl ClientBuilder {
    /// The account's URL, any scheme and port, e.g. `https://example.zendesk.com` or
    /// `http://127.0.0.1:8080`; `/api/v2` is added unless present.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The account's subdomain: `example` means `https://example.zendesk.com`.
    pub fn subdomain(mut self, subdomain: impl Into<String>) -> Self {
        self.subdomain = Some(subdomain.into());
        self
    }

    /// The credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The limiter's requests per minute (default [`DEFAULT_REQUESTS_PER_MINUTE`]).
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = Some(n);
        self
    }

    /// Jobs allowed queued or running at once (default [`DEFAULT_JOB_LIMIT`]).
    pub fn job_limit(mut self, n: usize) -> Self {
        self.job_limit = Some(n);
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// How jobs are polled (default [`PollPolicy::default`]).
    pub fn poll_policy(mut self, policy: PollPolicy) -> Self {
        self.poll = Some(policy);
        self
    }

    /// Per-request timeout, connecting and reading the body included (default
    /// [`DEFAULT_TIMEOUT`], 30 s); `None` disables it. A Zendesk that never answers costs
    /// one timeout per attempt, within the call's retry time budget
    /// ([`RetryPolicy::max_elapsed`]).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Connect timeout (default [`DEFAULT_CONNECT_TIMEOUT`], 10 s); `None` disables it.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Largest body read from one answer (default [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB).
    /// A larger answer is [`Error::ResponseTooLarge`] (or, for a write,
    /// [`Error::WriteOutcomeUnknown`]); reading stops at the cap.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = Some(bytes);
        self
    }

    /// Total retry waiting (429 waits and backoffs) all calls of this client may spend
    /// together (default [`DEFAULT_RUN_RETRY_BUDGET`], 30 minutes); `None` is no run
    /// budget (each call still has its own, [`RetryPolicy::max_elapsed`]). Once spent, a
    /// call that would retry returns its error instead.
    pub fn run_retry_budget(mut self, budget: Option<Duration>) -> Self {
        self.run_retry_budget = Some(budget);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// ```
    /// use zendesk_client::{Auth, Client};
    /// let client = Client::builder()
    ///     .url("http://127.0.0.1:8080")
    ///     .auth(Auth::oauth("token"))
    ///     .build()
    ///     .expect("valid settings");
    /// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8080/api/v2/");
    /// ```
    pub fn build(self) -> Result<Client> {
        let base = match (self.url, self.subdomain) {
            (Some(url), _) => base_from_url(&url)?,
            (None, Some(sub)) => base_from_subdomain(&sub)?,
            (None, None) => {
                return Err(Error::Config("neither a URL nor a subdomain given".into()))
            }
        };
        let auth = self
            .auth
            .ok_or_else(|| Error::Config("no credentials given".into()))?;
        let auth_header = auth.header()?;
        let rpm = self
            .requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
        let rpm = NonZeroU32::new(rpm)
            .ok_or_else(|| Error::Config("requests per minute must be at least 1".into()))?;
        let job_limit = self.job_limit.unwrap_or(DEFAULT_JOB_LIMIT);
        if job_limit == 0 {
            return Err(Error::Config("job limit must be at least 1".into()));
        }
        let max_response_bytes = self
            .max_response_bytes
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        if max_response_bytes == 0 {
            return Err(Error::Config(
                "the response size cap must be at least 1 byte".into(),
            ));
        }
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("zd-sfdc-sync/", env!("CARGO_PKG_VERSION")));
        if let Some(t) = self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT)) {
            http = http.timeout(t);
        }
        if let Some(t) = self
            .connect_timeout
            .unwrap_or(Some(DEFAULT_CONNECT_TIMEOUT))
        {
            http = http.connect_timeout(t);
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth_header,
                limiter: RateLimiter::direct(Quota::per_minute(rpm)),
                pace_until: Mutex::new(None),
                counts: Mutex::new(BTreeMap::new()),
                waits: Mutex::new(Waits::default()),
                retry: self.retry.unwrap_or_default(),
                poll: self.poll.unwrap_or_default(),
                jobs: Arc::new(Semaphore::new(job_limit)),
                max_response_bytes,
                run_budget: self
                    .run_retry_budget
                    .unwrap_or(Some(DEFAULT_RUN_RETRY_BUDGET)),
                run_spent: Mutex::new(Duration::ZERO),
                unreachable: AtomicBool::new(false),
            }),
        })
    }
}

fn base_from_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("bad Zendesk URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "bad Zendesk URL {raw:?}: the scheme must be https or http, not {:?}",
            url.scheme()
        )));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(Error::Config(format!("bad Zendesk URL {raw:?}: no host")));
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    let path = if path.ends_with("/api/v2") {
        format!("{path}/")
    } else {
        format!("{path}/api/v2/")
    };
    url.set_path(&path);
    Ok(url)
}

fn base_from_subdomain(sub: &str) -> Result<Url> {
    let ok = sub.len() >= 3
        && sub
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !sub.starts_with('-')
        && !sub.ends_with('-');
    if !ok {
        return Err(Error::Config(format!(
            "bad Zendesk subdomain {sub:?}: expected lowercase letters, digits and inner dashes"
        )));
    }
    base_from_url(&format!("https://{sub}.zendesk.com"))
}

/// A Zendesk Support client. Cheap to clone; clones share the limiter, the job slots and
/// the request counts.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth_header: HeaderValue,
    limiter: DefaultDirectRateLimiter,
    pace_until: Mutex<Option<tokio::time::Instant>>,
    counts: Mutex<BTreeMap<String, u64>>,
    waits: Mutex<Waits>,
    retry: RetryPolicy,
    poll: PollPolicy,
    jobs: Arc<Semaphore>,
    max_response_bytes: u64,
    run_budget: Option<Duration>,
    run_spent: Mutex<Duration>,
    /// Set when a call gave up without any answer, cleared by the next answer: while set,
    /// calls make one attempt only, so an unreachable Zendesk costs one call's budget,
    /// not one per call.
    unreachable: AtomicBool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("auth", &"[REDACTED]")
            .finish()
    }
}

/// Time spent waiting instead of sending, by cause: what the rate limits cost a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Waits {
    /// Waiting out 429/503 answers (`Retry-After`, or backoff on repeats).
    pub throttled: Duration,
    /// Slowing down because the rate-limit headers showed a low budget.
    pub paced: Duration,
    /// Backing off after transport errors and 5xx answers.
    pub backoff: Duration,
}

/// One request as the handlers describe it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    /// Path under `/api/v2/`, e.g. `organizations.json`, or an absolute URL.
    pub path: String,
    /// Counting label, e.g. `GET organizations`.
    pub label: &'static str,
    pub query: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
    pub safety: Safety,
    /// A bulk job submit: a refusal at the job limit applied nothing and is waited out.
    pub bulk: bool,
}

impl Request {
    pub(crate) fn get(path: impl Into<String>, label: &'static str) -> Self {
        Request {
            method: Method::GET,
            path: path.into(),
            label,
            query: Vec::new(),
            body: None,
            safety: Safety::Idempotent,
            bulk: false,
        }
    }

    pub(crate) fn write(
        method: Method,
        path: impl Into<String>,
        label: &'static str,
        safety: Safety,
    ) -> Self {
        Request {
            method,
            path: path.into(),
            label,
            query: Vec::new(),
            body: None,
            safety,
            bulk: false,
        }
    }

    pub(crate) fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks a bulk job submit.
    pub(crate) fn bulk(mut self) -> Self {
        self.bulk = true;
        self
    }
}

/// A success answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub url: String,
    pub body: bytes::Bytes,
}

impl Answer {
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        decode(&self.url, &self.body)
    }
}

impl Client {
    /// Starts a builder.
    ///
    /// ```no_run
    /// let client = zendesk_client::Client::builder()
    ///     .subdomain("example")
    ///     .auth(zendesk_client::Auth::api_token("ops@example.com", "token"))
    ///     .build();
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API root, ending in `/api/v2/`.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Organizations and their fields.
    pub fn organizations(&self) -> Organizations {
        Organizations::new(self.clone())
    }

    /// Users.
    pub fn users(&self) -> Users {
        Users::new(self.clone())
    }

    /// Tickets and the incremental ticket export.
    pub fn tickets(&self) -> Tickets {
        Tickets::new(self.clone())
    }

    /// Bulk job statuses.
    pub fn jobs(&self) -> Jobs {
        Jobs::new(self.clone())
    }

    /// Requests sent so far (retries included), by endpoint label such as
    /// `GET organizations` or `POST organizations/create_many`.
    ///
    /// ```no_run
    /// # fn demo(client: &zendesk_client::Client) {
    /// for (endpoint, n) in client.request_counts() {
    ///     println!("{endpoint}: {n}");
    /// }
    /// # }
    /// ```
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.inner
            .counts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// All requests sent so far.
    ///
    /// ```no_run
    /// # fn demo(client: &zendesk_client::Client) {
    /// println!("{} Zendesk calls", client.total_requests());
    /// # }
    /// ```
    pub fn total_requests(&self) -> u64 {
        self.request_counts().values().sum()
    }

    pub(crate) fn poll_policy(&self) -> &PollPolicy {
        &self.inner.poll
    }

    pub(crate) fn job_slots(&self) -> Arc<Semaphore> {
        Arc::clone(&self.inner.jobs)
    }

    /// Time spent waiting so far, by cause.
    ///
    /// ```no_run
    /// # fn demo(client: &zendesk_client::Client) {
    /// let w = client.waits();
    /// println!("throttled {:?}, paced {:?}", w.throttled, w.paced);
    /// # }
    /// ```
    pub fn waits(&self) -> Waits {
        self.inner.waits.lock().map(|w| *w).unwrap_or_default()
    }

    /// What is left of the run budget of retry waiting (`None`: no run budget).
    ///
    /// ```no_run
    /// # fn demo(client: &zendesk_client::Client) {
    /// println!("{:?} of retry waiting left", client.run_retry_budget_left());
    /// # }
    /// ```
    pub fn run_retry_budget_left(&self) -> Option<Duration> {
        let budget = self.inner.run_budget?;
        let spent = self.inner.run_spent.lock().map(|s| *s).unwrap_or(budget);
        Some(budget.saturating_sub(spent))
    }

    /// Books `wait` on the run budget; false (nothing booked) when it does not fit.
    fn take_run_budget(&self, wait: Duration) -> bool {
        let Some(budget) = self.inner.run_budget else {
            return true;
        };
        let Ok(mut spent) = self.inner.run_spent.lock() else {
            return false;
        };
        let after = spent.saturating_add(wait);
        if after > budget {
            return false;
        }
        *spent = after;
        true
    }

    /// Sleeps `wait`, booking it under `cause`.
    async fn sleep(&self, wait: Duration, cause: fn(&mut Waits) -> &mut Duration) {
        if let Ok(mut w) = self.inner.waits.lock() {
            let slot = cause(&mut w);
            *slot = slot.saturating_add(wait);
        }
        tokio::time::sleep(wait).await;
    }

    fn count(&self, label: &str) {
        if let Ok(mut c) = self.inner.counts.lock() {
            let n = c.entry(label.to_owned()).or_insert(0);
            *n = n.saturating_add(1);
        }
    }

    fn url_for(&self, req: &Request) -> Result<Url> {
        let mut url = if req.path.starts_with("http://") || req.path.starts_with("https://") {
            Url::parse(&req.path)
                .map_err(|e| Error::Config(format!("bad URL {:?}: {e}", req.path)))?
        } else {
            self.inner
                .base
                .join(&req.path)
                .map_err(|e| Error::Config(format!("bad path {:?}: {e}", req.path)))?
        };
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        Ok(url)
    }

    /// Waits for the limiter and for any pause the rate-limit headers asked for.
    async fn wait_turn(&self) {
        self.inner.limiter.until_ready().await;
        // Every request waits for the pause, not only the first to see it.
        let until = self.inner.pace_until.lock().ok().and_then(|p| *p);
        if let Some(until) = until {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if !left.is_zero() {
                self.sleep(left, |w| &mut w.paced).await;
            }
        }
    }

    fn note_rate(&self, headers: &HeaderMap) {
        if let Some(delay) = RateHeaders::from_headers(headers).pacing_delay() {
            tracing::debug!(?delay, "Zendesk rate-limit budget low, slowing down");
            if let Ok(mut p) = self.inner.pace_until.lock() {
                *p = tokio::time::Instant::now().checked_add(delay);
            }
        }
    }

    /// Sends one request with the retry policy; a success answer or a typed error.
    ///
    /// Retries are bounded in time (the policy's `max_elapsed` per call, the client's run
    /// budget across calls) with a large attempt ceiling as a safety net. A write is
    /// repeated only when Zendesk did nothing: a 429, a connection that never opened, a
    /// refusal at the job limit. The first transient failure of a call is logged at warn
    /// with its cause; later ones at debug.
    pub(crate) async fn execute(&self, req: Request) -> Result<Answer> {
        let url = self.url_for(&req)?;
        let method = req.method.as_str().to_owned();
        let policy = &self.inner.retry;
        let idempotent = req.safety == Safety::Idempotent;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        // Whether any attempt of this call got an answer: until one does, the shorter
        // budget for an unreachable Zendesk applies.
        let mut answered = false;
        loop {
            attempt = attempt.saturating_add(1);
            self.wait_turn().await;
            self.count(req.label);
            let mut builder = self
                .inner
                .http
                .request(req.method.clone(), url.clone())
                .header(AUTHORIZATION, self.inner.auth_header.clone())
                .header("accept", "application/json");
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            let retry = match builder.send().await {
                Err(e) => {
                    let message = describe(&e, &url);
                    // A connection that never opened applied nothing, even for a write.
                    if !(idempotent || e.is_connect()) {
                        return Err(lost(false, &method, &url, message));
                    }
                    Retry::backoff(lost(true, &method, &url, message))
                }
                Ok(response) => {
                    answered = true;
                    self.inner.unreachable.store(false, Ordering::Relaxed);
                    match self.answer(&req, &method, &url, response, attempt).await? {
                        Step::Done(answer) => return Ok(answer),
                        Step::Retry(retry) => retry,
                    }
                }
            };
            let (wait, bucket): (Duration, fn(&mut Waits) -> &mut Duration) = match retry.after {
                Some(after) => (policy.throttle_wait(after, attempt), |w| &mut w.throttled),
                None => (policy.backoff(attempt), |w| &mut w.backoff),
            };
            let next = attempt.saturating_add(1);
            let unreachable = !answered
                && (self.inner.unreachable.load(Ordering::Relaxed)
                    || started.elapsed().saturating_add(wait) > policy.max_elapsed_without_answer);
            if unreachable {
                self.inner.unreachable.store(true, Ordering::Relaxed);
            }
            if unreachable || !policy.allows(next, started.elapsed(), wait) {
                tracing::warn!(%url, attempt, error = %retry.reason(), "Zendesk retry budget of the call spent, giving up");
                return Err(retry.error);
            }
            if !self.take_run_budget(wait) {
                tracing::warn!(%url, attempt, error = %retry.reason(), "Zendesk retry budget of the run spent, giving up");
                return Err(retry.error);
            }
            // Every transient failure names its cause at warn, within the budget (not
            // only once it is spent).
            tracing::warn!(%url, attempt, ?wait, error = %retry.reason(), "Zendesk call failed, retrying within its budget");
            self.sleep(wait, bucket).await;
        }
    }

    /// Reads and classifies one answer: done, retry (with the error to return if the
    /// budget does not allow it), or a final error.
    async fn answer(
        &self,
        req: &Request,
        method: &str,
        url: &Url,
        response: reqwest::Response,
        attempt: u32,
    ) -> Result<Step> {
        let idempotent = req.safety == Safety::Idempotent;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.note_rate(&headers);
        let body = match read_capped(response, self.inner.max_response_bytes).await {
            Ok(b) => b,
            Err(ReadFail::TooLarge) => {
                let limit = self.inner.max_response_bytes;
                return Err(if idempotent {
                    Error::ResponseTooLarge {
                        method: method.to_owned(),
                        url: url.to_string(),
                        limit,
                    }
                } else {
                    lost(
                        false,
                        method,
                        url,
                        format!("HTTP {status} answer larger than {limit} bytes; reading stopped"),
                    )
                });
            }
            Err(ReadFail::Transport(e)) => {
                let message = format!("reading the answer: {}", describe(&e, url));
                if !idempotent {
                    return Err(lost(false, method, url, message));
                }
                return Ok(Step::Retry(Retry::backoff(lost(
                    true, method, url, message,
                ))));
            }
        };
        let retry_after = headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::retry::parse_retry_after(v, time::OffsetDateTime::now_utc()));
        let api = || ApiError::parse(status, method, url.as_str(), request_id(&headers), &body);
        let verdict = classify(status, req.safety, retry_after);
        // A refusal at the job limit in another form than a 429 applied nothing either.
        if req.bulk && status >= 400 && status != 429 && verdict != Verdict::Done {
            let e = api();
            if mentions_job_limit(&e) {
                return Ok(Step::Retry(
                    Retry::throttled(retry_after, Error::JobLimit(Box::new(e))).status(status),
                ));
            }
        }
        Ok(match verdict {
            Verdict::Done => Step::Done(Answer {
                status,
                url: url.to_string(),
                body,
            }),
            Verdict::Throttled(after) => Step::Retry(
                Retry::throttled(
                    after,
                    Error::RateLimited {
                        method: method.to_owned(),
                        url: url.to_string(),
                        retry_after: after,
                        attempts: attempt,
                    },
                )
                .status(status),
            ),
            Verdict::ServerFault => {
                Step::Retry(Retry::backoff(Error::from_api(api())).status(status))
            }
            Verdict::OutcomeUnknown => {
                return Err(Error::WriteOutcomeUnknown {
                    method: method.to_owned(),
                    url: url.to_string(),
                    message: api().to_string(),
                })
            }
            Verdict::Fail => return Err(Error::from_api(api())),
        })
    }
}

/// The outcome of one attempt.
enum Step {
    Done(Answer),
    Retry(Retry),
}

/// A failure worth repeating: the error to return if the budget says no, and the
/// `Retry-After` when it was throttling (`Some(None)`: throttled without one).
struct Retry {
    error: Error,
    after: Option<Option<Duration>>,
    /// The HTTP status, when Zendesk answered.
    status: Option<u16>,
}

impl Retry {
    fn backoff(error: Error) -> Self {
        Retry {
            error,
            after: None,
            status: None,
        }
    }

    fn throttled(after: Option<Duration>, error: Error) -> Self {
        Retry {
            error,
            after: Some(after),
            status: None,
        }
    }

    fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// What failed, for the log: the status first when there was one.
    fn reason(&self) -> String {
        match self.status {
            Some(status) => format!("HTTP {status}: {}", self.error),
            None => self.error.to_string(),
        }
    }
}

fn lost(repeatable: bool, method: &str, url: &Url, message: String) -> Error {
    if repeatable {
        Error::Transport {
            method: method.to_owned(),
            url: url.to_string(),
            message,
        }
    } else {
        Error::WriteOutcomeUnknown {
            method: method.to_owned(),
            url: url.to_string(),
            message,
        }
    }
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "x-zendesk-request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_forms() {
        assert_eq!(
            base_from_url("https://example.zendesk.com")
                .map(|u| u.to_string())
                .ok(),
            Some("https://example.zendesk.com/api/v2/".into())
        );
        assert_eq!(
            base_from_url("http://127.0.0.1:9000/api/v2/")
                .map(|u| u.to_string())
                .ok(),
            Some("http://127.0.0.1:9000/api/v2/".into())
        );
        assert_eq!(
            base_from_subdomain("acme-eu").map(|u| u.to_string()).ok(),
            Some("https://acme-eu.zendesk.com/api/v2/".into())
        );
        assert!(base_from_subdomain("Acme").is_err());
        assert!(base_from_subdomain("-ab").is_err());
        assert!(base_from_url("not a url").is_err());
    }

    #[test]
    fn api_token_header_matches_the_documented_example() {
        let auth = Auth::api_token(
            "jdoe@example.com",
            "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
        );
        let h = auth.header().expect("header");
        assert_eq!(
            h.to_str().expect("ascii"),
            "Basic amRvZUBleGFtcGxlLmNvbS90b2tlbjo2d2lJQldiR2tCTW8xbVJETXVWd2t3MUVQc05rZVVqOTVQSXoyYWt2"
        );
        assert!(h.is_sensitive());
        let again = Auth::api_token(
            "jdoe@example.com/token",
            "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
        );
        assert_eq!(again.header().expect("header"), h);
    }

    #[test]
    fn debug_hides_secrets() {
        let client = Client::builder()
            .url("http://127.0.0.1:1")
            .auth(Auth::oauth("super-secret"))
            .build()
            .expect("client");
        assert!(!format!("{client:?}").contains("super-secret"));
        let a = Auth::api_token("a@b.c", "tok-123");
        assert!(!format!("{a:?}").contains("tok-123"));
    }
}
