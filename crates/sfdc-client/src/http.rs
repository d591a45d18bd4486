//! The transport: sends one logical request with the session token, retries transient
//! failures per [`RetryPolicy`], renews the session once on 401 `INVALID_SESSION_ID`,
//! counts every attempt and records `Sforce-Limit-Info`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use secrecy::ExposeSecret;
use url::Url;

use crate::auth::{Auth, Session};
use crate::error::{ApiErrorItem, Error, TransportKind};
use crate::limits::{RequestKind, Usage};
use crate::retry::{parse_retry_after, RetryPolicy};
use api_transport::{describe, read_capped, ReadFail};

/// One logical REST request, relative to the instance URL.
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Absolute path (with query string), e.g. `/services/data/v62.0/query?q=...`.
    pub(crate) path: String,
    pub(crate) kind: RequestKind,
    pub(crate) body: Option<Vec<u8>>,
    /// Whether repeating the request after an unknown outcome is safe.
    pub(crate) idempotent: bool,
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// A response as received: status, body and the headers callers need.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    pub(crate) url: String,
    request_id: Option<Box<str>>,
    retry_after: Option<Duration>,
}

/// The HTTP client plus the shared retry policy, run budget and usage counters.
pub(crate) struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    pub(crate) usage: Usage,
    max_response_bytes: u64,
    run_budget: Option<Duration>,
    run_spent: Mutex<Duration>,
    /// Set when a call gave up without any answer, cleared by the next answer: while set,
    /// calls make one attempt only, so an unreachable Salesforce costs one call's budget,
    /// not one per call.
    unreachable: AtomicBool,
}

impl Http {
    pub(crate) fn new(
        client: reqwest::Client,
        policy: RetryPolicy,
        max_response_bytes: u64,
        run_budget: Option<Duration>,
    ) -> Http {
        Http {
            client,
            policy,
            usage: Usage::default(),
            max_response_bytes,
            run_budget,
            run_spent: Mutex::new(Duration::ZERO),
            unreachable: AtomicBool::new(false),
        }
    }

    /// What is left of the run budget of retry waiting (`None`: no run budget).
    pub(crate) fn run_budget_left(&self) -> Option<Duration> {
        let budget = self.run_budget?;
        let spent = self.run_spent.lock().map(|s| *s).unwrap_or(budget);
        Some(budget.saturating_sub(spent))
    }

    /// Books `wait` on the run budget; false (nothing booked) when it does not fit.
    fn take_run_budget(&self, wait: Duration) -> bool {
        let Some(budget) = self.run_budget else {
            return true;
        };
        let Ok(mut spent) = self.run_spent.lock() else {
            return false;
        };
        let after = spent.saturating_add(wait);
        if after > budget {
            return false;
        }
        *spent = after;
        true
    }

    /// Whether retry number `retry` may wait `delay`: within the call's time budget and
    /// the attempt ceiling, then within the run budget (booked if so).
    fn may_wait(&self, retry: u32, started: tokio::time::Instant, delay: Duration) -> bool {
        self.policy.allows(retry, started.elapsed(), delay) && self.take_run_budget(delay)
    }

    /// Posts a token request form, retrying transient failures (it has no side effect).
    pub(crate) async fn send_token_request(
        &self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<RawResponse, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish()
            .into_bytes();
        self.send_with_retry(true, RequestKind::Auth, || {
            Ok(self
                .client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(body.clone()))
        })
        .await
    }

    /// Sends `req` with the current session; on 401 `INVALID_SESSION_ID` renews the
    /// session once (single-flight) and repeats. Returns responses with status < 400.
    pub(crate) async fn execute(&self, auth: &Auth, req: &Request) -> Result<RawResponse, Error> {
        let mut renewed = false;
        loop {
            let session = auth.session(self).await?;
            let response = self
                .send_with_retry(req.idempotent, req.kind, || self.build(&session, req))
                .await?;
            if response.status == 401 && is_invalid_session(&response.body) {
                if renewed {
                    return Err(Error::Auth {
                        status: Some(401),
                        error: "INVALID_SESSION_ID".into(),
                        description: format!(
                            "{} {} was refused again right after re-authenticating; not retrying",
                            req.method, response.url
                        ),
                    });
                }
                tracing::info!(url = %response.url, "Salesforce session expired; re-authenticating once");
                auth.renew(self, Some(session.generation)).await?;
                renewed = true;
                continue;
            }
            if response.status >= 400 {
                return Err(self.error_for(method_name(&req.method), &response));
            }
            return Ok(response);
        }
    }

    fn error_for(&self, method: &'static str, response: &RawResponse) -> Error {
        Error::from_response(
            response.status,
            method,
            &response.url,
            &response.body,
            response.request_id.clone(),
            self.usage.latest(),
        )
    }

    fn build(&self, session: &Session, req: &Request) -> Result<reqwest::RequestBuilder, Error> {
        let url = session
            .instance_url
            .join(&req.path)
            .map_err(|e| Error::Config(format!("bad request path {:?}: {e}", req.path)))?;
        let mut builder = self
            .client
            .request(req.method.clone(), url)
            .header(
                AUTHORIZATION,
                format!("Bearer {}", session.access_token.expose_secret()),
            )
            .header(ACCEPT, "application/json");
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        Ok(builder)
    }

    /// The retry caller: sends, classifies, sleeps, repeats within the policy.
    /// Error statuses are returned as responses; only transport failures are `Err`.
    async fn send_with_retry<B>(
        &self,
        idempotent: bool,
        kind: RequestKind,
        build: B,
    ) -> Result<RawResponse, Error>
    where
        B: Fn() -> Result<reqwest::RequestBuilder, Error>,
    {
        let started = tokio::time::Instant::now();
        let mut retry = 0u32;
        // Whether any attempt got an answer: until one does, the shorter budget for an
        // unreachable Salesforce applies.
        let mut answered = false;
        loop {
            let request = build()?
                .build()
                .map_err(|e| Error::Config(format!("could not build a request: {e}")))?;
            let (method, url) = (method_name(request.method()), request.url().to_string());
            self.usage.count(kind);
            let outcome = match self.client.execute(request).await {
                Ok(resp) => {
                    answered = true;
                    self.unreachable.store(false, Ordering::Relaxed);
                    Ok(self.read(resp, method, &url).await)
                }
                Err(e) => Err(transport_error(method, &url, &e)),
            };
            if let Ok(Err(e @ Error::ResponseTooLarge { .. })) = outcome {
                return Err(e);
            }
            let (error, delay) = match outcome {
                Ok(Ok(response)) if response.status < 500 && !has_retriable_code(&response) => {
                    return Ok(response)
                }
                Ok(Ok(response)) => {
                    let error = self.error_for(method, &response);
                    let retry_after = response.retry_after;
                    if !may_repeat(&error, idempotent) {
                        return Ok(response);
                    }
                    let next = retry.saturating_add(1);
                    let delay = self
                        .policy
                        .backoff(next, retry_after, &mut rand::thread_rng());
                    if !self.may_wait(next, started, delay) {
                        return Ok(response);
                    }
                    (error, delay)
                }
                Ok(Err(e)) | Err(e) => {
                    if !may_repeat(&e, idempotent) {
                        return Err(e);
                    }
                    let next = retry.saturating_add(1);
                    let delay = self.policy.backoff(next, None, &mut rand::thread_rng());
                    let unreachable = !answered
                        && (self.unreachable.load(Ordering::Relaxed)
                            || started.elapsed().saturating_add(delay)
                                > self.policy.max_elapsed_without_answer);
                    if unreachable {
                        self.unreachable.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    if !self.may_wait(next, started, delay) {
                        return Err(e);
                    }
                    (e, delay)
                }
            };
            retry = retry.saturating_add(1);
            // Every transient failure names its cause at warn, within the budget (not only
            // once it is spent).
            tracing::warn!(retry, ?delay, error = %error, "transient Salesforce failure; retrying within the call's budget");
            tokio::time::sleep(delay).await;
        }
    }

    async fn read(
        &self,
        resp: reqwest::Response,
        method: &'static str,
        url: &str,
    ) -> Result<RawResponse, Error> {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        if let Some(info) = header_str(&headers, "sforce-limit-info") {
            self.usage.record_header(info);
        }
        let body = match read_capped(resp, self.max_response_bytes).await {
            Ok(body) => body,
            Err(ReadFail::TooLarge) => {
                return Err(Error::ResponseTooLarge {
                    method,
                    url: url.to_owned(),
                    limit: self.max_response_bytes,
                })
            }
            Err(ReadFail::Transport(e)) => return Err(transport_error(method, url, &e)),
        };
        Ok(RawResponse {
            status,
            body,
            url: url.to_owned(),
            request_id: header_str(&headers, "x-sfdc-request-id")
                .or_else(|| header_str(&headers, "x-request-id"))
                .map(Box::from),
            retry_after: header_str(&headers, "retry-after")
                .and_then(|v| parse_retry_after(v, time::OffsetDateTime::now_utc())),
        })
    }
}

/// The method as a static name, for error values.
pub(crate) fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        _ => "OTHER",
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The classifier: a transient error, on a request that is idempotent or was not applied.
fn may_repeat(error: &Error, idempotent: bool) -> bool {
    error.is_retriable() && (idempotent || !error.needs_idempotent_request())
}

fn has_retriable_code(response: &RawResponse) -> bool {
    response.status == 400
        && serde_json::from_slice::<Vec<ApiErrorItem>>(&response.body)
            .map(|items| items.iter().any(|e| e.error_code == "UNABLE_TO_LOCK_ROW"))
            .unwrap_or(false)
}

fn is_invalid_session(body: &[u8]) -> bool {
    serde_json::from_slice::<Vec<ApiErrorItem>>(body)
        .map(|items| items.iter().any(|e| e.error_code == "INVALID_SESSION_ID"))
        .unwrap_or(false)
}

fn transport_error(method: &'static str, url: &str, e: &reqwest::Error) -> Error {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    let message = match Url::parse(url) {
        Ok(parsed) => describe(e, &parsed),
        Err(_) => e.to_string(),
    };
    Error::Transport {
        method,
        url: url.to_owned(),
        kind,
        message,
    }
}
