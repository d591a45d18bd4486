//! The simulated Zendesk Support API (`/api/v2`), written from `reference/zendesk-api.md`:
//! organizations, organization fields, users, tickets, search, incremental exports and job
//! statuses, with the real envelopes, pagination, bulk jobs, validation errors, a per-minute
//! rate limit and signed ticket webhooks. Routing is one `match` on (method, segments).

// Handlers answer errors as ready-made `Response`s through `Result`; boxing each one
// would only add noise to every early return.
#![allow(clippy::result_large_err)]

pub mod generate;
pub mod hold;
mod http;
mod incremental;
mod jobs;
pub mod model;
mod orgs;
mod paging;
pub mod quirks;
mod search;
mod store;
mod tickets;
mod users;
mod webhook;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State as AxState};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::json;

use crate::faults::{self, endpoint_key, Api, FaultLayer, Faults};
pub use http::Query;
pub use store::Data;
pub use webhook::{sign, WebhookDelivery, WebhookTarget};

use jobs::{Job, JobOp};

/// Credentials the simulated Zendesk requires; `None` in the config accepts any.
#[derive(Clone)]
pub enum ZendeskCredentials {
    /// `Basic base64("{email}/token:{token}")`.
    ApiToken {
        /// Agent email.
        email: String,
        /// API token.
        token: String,
    },
    /// `Bearer {token}`.
    OAuth {
        /// Access token.
        token: String,
    },
}

impl std::fmt::Debug for ZendeskCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZendeskCredentials::ApiToken { email, .. } => f
                .debug_struct("ApiToken")
                .field("email", email)
                .field("token", &"[redacted]")
                .finish(),
            ZendeskCredentials::OAuth { .. } => f
                .debug_struct("OAuth")
                .field("token", &"[redacted]")
                .finish(),
        }
    }
}

/// How the simulated Zendesk behaves.
#[derive(Debug, Clone)]
pub struct ZendeskConfig {
    /// Base URL it is reached at (no `/api/v2`), used in `url`, `Location` and links.
    pub base_url: String,
    /// Time a bulk job takes from queued to completed (seconds for real, ms in tests).
    pub job_latency: Duration,
    /// Most jobs queued or running at once (real: 30).
    pub job_limit: usize,
    /// Requests allowed per rate-limit window.
    pub rate_limit: u32,
    /// The rate-limit window (a minute, as the real API).
    pub rate_limit_window: Duration,
    /// Answer `users/create_many` and `users/create_or_update_many` with 403.
    pub bulk_user_create_disabled: bool,
    /// Where ticket webhooks go.
    pub webhook: Option<WebhookTarget>,
    /// Credentials to require.
    pub credentials: Option<ZendeskCredentials>,
    /// Account id sent in `X-Zendesk-Account-Id`.
    pub account_id: u64,
    /// Records changed this recently are left out of incremental exports; they appear in
    /// a later export from the saved cursor. The real API leaves out the last minute
    /// (§4.14): set 60 s to reproduce it. The default is 0 because end-to-end tests
    /// export tickets they have just made.
    pub incremental_lag: Duration,
    /// Requests per minute each incremental export (tickets, users, organizations) allows,
    /// on top of the account limit: 10 on the real API (§9), `None` for no such limit.
    /// Past it the export answers 429 with `Retry-After`.
    pub incremental_rate_limit: Option<u32>,
    /// How long `users/count` keeps a value before counting again: the real count is
    /// cached on big accounts and refreshed about daily (§5.11), so it misses the users
    /// created since. `Duration::ZERO` counts on every call.
    pub users_count_refresh: Duration,
    /// How the [UNCONFIRMED] shapes are answered at start (changeable at run time).
    pub quirks: quirks::Quirks,
    /// The write to hold, armed at start (changeable at run time).
    pub hold_write: Option<hold::HoldWrite>,
}

impl Default for ZendeskConfig {
    fn default() -> Self {
        ZendeskConfig {
            base_url: "http://127.0.0.1".to_owned(),
            job_latency: Duration::from_secs(3),
            job_limit: 30,
            rate_limit: 700,
            rate_limit_window: Duration::from_secs(60),
            bulk_user_create_disabled: false,
            webhook: None,
            credentials: None,
            account_id: 18_525_119,
            incremental_lag: Duration::ZERO,
            incremental_rate_limit: Some(10),
            users_count_refresh: Duration::from_secs(24 * 3600),
            quirks: quirks::Quirks::default(),
            hold_write: None,
        }
    }
}

struct RateWindow {
    start: Instant,
    used: u32,
}

struct State {
    data: Data,
    jobs: Vec<Job>,
    job_seq: u64,
    requests: BTreeMap<String, u64>,
    rate: RateWindow,
    webhooks: Vec<WebhookDelivery>,
    webhook_seq: u64,
    /// Where ticket webhooks go now: the config's target, replaceable at run time.
    webhook: Option<WebhookTarget>,
    events: Vec<(u64, &'static str)>,
    /// The per-export windows of the incremental exports' own limit, by export kind.
    incremental: BTreeMap<&'static str, RateWindow>,
    /// The cached answer of `users/count`.
    user_count: users::UserCount,
    /// How the [UNCONFIRMED] shapes are answered now.
    quirks: quirks::Quirks,
    /// Endpoint keys whose jobs stay queued until released ([`ZendeskSim::hold_jobs`]).
    held_jobs: BTreeSet<String>,
}

struct Shared {
    config: ZendeskConfig,
    state: Mutex<State>,
    holds: hold::Holds,
    faults: Faults,
    http: reqwest::Client,
}

/// The simulated Zendesk: cheap to clone, all clones share one account.
#[derive(Clone)]
pub struct ZendeskSim {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ZendeskSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZendeskSim")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// One parsed API request, as the handlers see it.
pub(crate) struct Req<'a> {
    pub method: &'a Method,
    pub segs: Vec<&'a str>,
    pub query: Query,
    pub body: &'a [u8],
    pub endpoint: String,
    pub path: &'a str,
    /// The agent email of `Basic {email}/token:…` credentials, for `users/me`.
    pub agent_email: Option<String>,
}

impl<'a> Req<'a> {
    /// The path segments after `/api/v2` (empty for a shorter path).
    pub fn rest(&self) -> &[&'a str] {
        self.segs.get(2..).unwrap_or_default()
    }
}

impl ZendeskSim {
    /// A simulator over `data`, with `faults` consulted for failed job rows.
    pub fn new(data: Data, config: ZendeskConfig, faults: Faults) -> ZendeskSim {
        let user_count = users::UserCount::take(&data);
        ZendeskSim {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    data,
                    jobs: Vec::new(),
                    job_seq: 0,
                    requests: BTreeMap::new(),
                    rate: RateWindow {
                        start: Instant::now(),
                        used: 0,
                    },
                    webhooks: Vec::new(),
                    webhook_seq: 0,
                    webhook: config.webhook.clone(),
                    events: Vec::new(),
                    incremental: BTreeMap::new(),
                    user_count,
                    quirks: config.quirks,
                    held_jobs: BTreeSet::new(),
                }),
                holds: hold::Holds::new(config.hold_write.clone()),
                config,
                faults,
                http: reqwest::Client::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn config(&self) -> &ZendeskConfig {
        &self.shared.config
    }

    /// The `/api/v2` router: request counting, then the write hold, then faults, then
    /// auth and rate limit.
    pub fn router(&self) -> Router {
        let layer = FaultLayer {
            faults: self.shared.faults.clone(),
            api: Api::Zendesk,
        };
        Router::new()
            .fallback(handle)
            .with_state(self.clone())
            .layer(axum::middleware::from_fn_with_state(
                layer,
                faults::middleware,
            ))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                hold_writes,
            ))
            .layer(axum::middleware::from_fn_with_state(self.clone(), count))
    }

    /// The write counters and the hold (`GET /__admin/writes`).
    pub fn writes(&self) -> hold::WriteStatus {
        self.shared.holds.status()
    }

    /// Arms a hold on the Nth matching write from now, or with `None` disarms it.
    pub fn set_hold(&self, hold: Option<hold::HoldWrite>) {
        self.shared.holds.set(hold);
    }

    /// Releases the write held now: with `apply` it goes on and is applied, else its
    /// connection is dropped with nothing applied.
    pub fn release_held(&self, apply: bool) {
        self.shared.holds.release(apply);
    }

    /// Requests received so far, per endpoint key.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.lock().requests.clone()
    }

    /// How the [UNCONFIRMED] shapes are answered now.
    pub fn quirks(&self) -> quirks::Quirks {
        self.lock().quirks
    }

    /// Switches how the [UNCONFIRMED] shapes are answered from now on (jobs already
    /// queued keep the switches they were queued with).
    pub fn set_quirks(&self, quirks: quirks::Quirks) {
        self.lock().quirks = quirks;
    }

    /// Jobs queued by requests to these endpoint keys (e.g.
    /// `POST /api/v2/users/create_many`) stay queued, and count against the job limit,
    /// until their endpoint is no longer in the set; then they run as their latency says
    /// (at once if it has passed). Replaces the set; an empty set releases every job. A
    /// test thus decides by an event, not a clock, when a job is still queued.
    pub fn hold_jobs(&self, endpoints: BTreeSet<String>) {
        self.lock().held_jobs = endpoints;
    }

    /// The endpoint keys whose jobs are held now.
    pub fn held_jobs(&self) -> BTreeSet<String> {
        self.lock().held_jobs.clone()
    }

    /// Webhook deliveries attempted so far.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.lock().webhooks.clone()
    }

    /// A snapshot of the whole account (after moving jobs on), for `/__admin/state`.
    pub fn dump(&self) -> serde_json::Value {
        let mut st = self.lock();
        self.advance_jobs(&mut st);
        let orgs: Vec<_> = st.data.orgs.values().map(|o| self.org_view(o)).collect();
        let users: Vec<_> = st.data.users.values().map(|u| self.user_view(u)).collect();
        let deleted_users: Vec<_> = st
            .data
            .deleted_users
            .values()
            .map(|u| self.user_view(u))
            .collect();
        let tickets: Vec<_> = st
            .data
            .tickets
            .values()
            .map(|t| self.ticket_view(t))
            .collect();
        let jobs: Vec<_> = st.jobs.iter().map(|j| j.status.clone()).collect();
        json!({
            "organizations": orgs,
            "users": users,
            "deleted_users": deleted_users,
            "tickets": tickets,
            "organization_fields": st.data.fields,
            "job_statuses": jobs,
            "webhook_deliveries": st.webhooks,
        })
    }

    /// Creates a ticket as an admin action (via `web`), firing the `created` webhook.
    /// Answers the API's error response when the input is refused.
    pub fn create_ticket(&self, input: &model::TicketInput) -> Result<model::Ticket, Response> {
        let (result, events) = {
            let mut st = self.lock();
            let result = tickets::create(&mut st, input, "web", None)
                .map(|id| st.data.tickets.get(&id).map(|t| self.ticket_view(t)));
            (result, tickets::take_events(&mut st))
        };
        for (id, event) in events {
            self.fire_webhook(id, event);
        }
        result?.ok_or_else(http::not_found)
    }

    /// Closes a ticket as an admin action, firing the `closed` webhook.
    pub fn close_ticket(&self, id: u64) -> Result<model::Ticket, Response> {
        let input = model::TicketInput {
            status: Some("closed".to_owned()),
            ..model::TicketInput::default()
        };
        let (result, events) = {
            let mut st = self.lock();
            let result = tickets::update(&mut st, id, &input)
                .map(|_| st.data.tickets.get(&id).map(|t| self.ticket_view(t)));
            (result, tickets::take_events(&mut st))
        };
        for (id, event) in events {
            self.fire_webhook(id, event);
        }
        result?.ok_or_else(http::not_found)
    }

    fn advance_jobs(&self, st: &mut State) {
        let now = Instant::now();
        let latency = self.config().job_latency;
        let State {
            jobs,
            data,
            held_jobs,
            ..
        } = st;
        for job in jobs.iter_mut() {
            if !held_jobs.contains(job.endpoint()) {
                job.advance(now, latency, data);
            }
        }
    }

    /// Queues a bulk job, or answers the job-limit error (429, [UNCONFIRMED] shape).
    fn enqueue(&self, st: &mut State, req: &Req<'_>, op: JobOp) -> Response {
        self.advance_jobs(st);
        let pending = st.jobs.iter().filter(|j| j.is_pending()).count();
        if pending >= self.config().job_limit {
            self.shared.holds.note_job_limit_refusal();
            return self.job_limit_answer(st.quirks.job_limit_answer);
        }
        let forced = (0..op.len())
            .filter(|_| self.shared.faults.fail_row(&req.endpoint, req.path))
            .collect();
        let end_as = self.shared.faults.fail_job(&req.endpoint, req.path);
        st.job_seq += 1;
        // Opaque, V3-prefixed 32-hex ids like the real ones.
        let mixed = st.job_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let id = format!("V3-{mixed:016x}{:016x}", st.job_seq);
        let url = format!("{}/api/v2/job_statuses/{id}.json", self.config().base_url);
        let job = Job::new(id, url, op, forced, end_as, st.quirks).queued_by(&req.endpoint);
        let body = json!({"job_status": job.status});
        st.jobs.push(job);
        http::ok(&body)
    }

    /// The answer past the job limit ([UNCONFIRMED] shape, §6.5), as the switch says.
    fn job_limit_answer(&self, answer: quirks::JobLimitAnswer) -> Response {
        let limit = self.config().job_limit;
        let description = format!("Number of queued or running jobs exceeds the limit of {limit}");
        match answer {
            quirks::JobLimitAnswer::TooManyJobs | quirks::JobLimitAnswer::NoRetryAfter => {
                let mut resp =
                    http::error(StatusCode::TOO_MANY_REQUESTS, "TooManyJobs", &description);
                if answer == quirks::JobLimitAnswer::TooManyJobs {
                    // A slot frees when a job completes: ask for about one job's
                    // latency, between 1 and 10 seconds.
                    let wait = self
                        .config()
                        .job_latency
                        .as_secs_f64()
                        .ceil()
                        .clamp(1.0, 10.0) as u64;
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
                }
                resp
            }
            quirks::JobLimitAnswer::ErrorsEnvelope => http::json(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"errors": [{"code": "TooManyRequests", "title": description}]}),
            ),
            quirks::JobLimitAnswer::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Service Unavailable: too many background jobs, try again later",
            )
                .into_response(),
        }
    }

    fn org_view(&self, o: &model::Organization) -> model::Organization {
        let mut o = o.clone();
        o.url = format!(
            "{}/api/v2/organizations/{}.json",
            self.config().base_url,
            o.id
        );
        o
    }

    fn user_view(&self, u: &model::User) -> model::User {
        let mut u = u.clone();
        u.url = format!("{}/api/v2/users/{}.json", self.config().base_url, u.id);
        u
    }

    fn ticket_view(&self, t: &model::Ticket) -> model::Ticket {
        let mut t = t.clone();
        t.url = format!("{}/api/v2/tickets/{}.json", self.config().base_url, t.id);
        t
    }

    fn check_auth(&self, headers: &HeaderMap) -> bool {
        let Some(required) = &self.config().credentials else {
            return true;
        };
        let Some(got) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        match required {
            ZendeskCredentials::ApiToken { email, token } => {
                let expected = base64::engine::general_purpose::STANDARD
                    .encode(format!("{email}/token:{token}"));
                got.strip_prefix("Basic ") == Some(expected.as_str())
            }
            ZendeskCredentials::OAuth { token } => got.strip_prefix("Bearer ") == Some(token),
        }
    }

    /// Whole seconds until the current rate-limit window resets (at least 1).
    fn window_reset_secs(&self) -> u64 {
        let st = self.lock();
        let elapsed = Instant::now().saturating_duration_since(st.rate.start);
        let left = self.config().rate_limit_window.saturating_sub(elapsed);
        left.as_secs_f64().ceil().max(1.0) as u64
    }

    /// Takes one request from the window; `Err(retry_after_secs)` when it is spent.
    fn take_rate(&self, st: &mut State) -> Result<u32, u64> {
        let cfg = self.config();
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(st.rate.start);
        if elapsed >= cfg.rate_limit_window {
            st.rate = RateWindow {
                start: now,
                used: 0,
            };
        }
        if st.rate.used >= cfg.rate_limit {
            let left = cfg.rate_limit_window.saturating_sub(elapsed);
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        st.rate.used += 1;
        Ok(cfg.rate_limit - st.rate.used)
    }

    fn route(&self, st: &mut State, req: &Req<'_>) -> Response {
        self.advance_jobs(st);
        let m = req.method;
        match (m, req.segs.as_slice()) {
            (_, ["api", "v2", "organizations", ..]) => orgs::route(self, st, req),
            (&Method::GET, ["api", "v2", "organization_fields"]) => {
                let fields: Vec<_> = st
                    .data
                    .fields
                    .iter()
                    .map(|f| {
                        let mut f = f.clone();
                        f.url = format!(
                            "{}/api/v2/organization_fields/{}.json",
                            self.config().base_url,
                            f.id
                        );
                        f
                    })
                    .collect();
                paging::all(fields, "organization_fields")
            }
            (&Method::GET, ["api", "v2", "organization_fields", id]) => {
                match st.data.fields.iter().find(|f| id.parse() == Ok(f.id)) {
                    Some(f) => {
                        let mut f = f.clone();
                        f.url = format!(
                            "{}/api/v2/organization_fields/{}.json",
                            self.config().base_url,
                            f.id
                        );
                        http::ok(&json!({ "organization_field": f }))
                    }
                    None => http::not_found(),
                }
            }
            (&Method::GET, ["api", "v2", "search"]) => search::general(self, st, req),
            (&Method::GET, ["api", "v2", "job_statuses"]) => {
                // Newest first (§6.3): keys count down as jobs are added.
                let items: Vec<_> = st
                    .jobs
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, j)| (u64::MAX - i as u64, j.status.clone()))
                    .collect();
                let url = paging::ListUrl {
                    base: &self.config().base_url,
                    path: "/api/v2/job_statuses.json",
                    extra: Vec::new(),
                };
                paging::page(items, |s| s, "job_statuses", &req.query, &url)
            }
            (_, ["api", "v2", "users", ..]) => users::route(self, st, req),
            (_, ["api", "v2", "tickets", ..]) => tickets::route(self, st, req),
            (_, ["api", "v2", "deleted_users", ..]) => users::deleted(self, st, req),
            (&Method::GET, ["api", "v2", "incremental", kind, rest @ ..]) => {
                if let Some(k) = incremental::Kind::from_segment(kind) {
                    if let Err(resp) = incremental::take_slot(self, st, k) {
                        return resp;
                    }
                }
                match (incremental::Kind::from_segment(kind), rest) {
                    (Some(kind), []) => incremental::time_based(self, st, req, kind),
                    (
                        Some(k @ (incremental::Kind::Tickets | incremental::Kind::Users)),
                        ["cursor"],
                    ) => incremental::cursor(self, st, req, k),
                    _ => unexpected(req),
                }
            }
            (&Method::GET, ["api", "v2", "job_statuses", "show_many"]) => {
                let ids = req.query.list("ids").unwrap_or_default();
                if ids.len() > paging::MAX_PAGE {
                    return http::too_many_values();
                }
                let found: Vec<_> = st
                    .jobs
                    .iter()
                    .filter(|j| ids.contains(&j.status.id))
                    .map(|j| j.status.clone())
                    .collect();
                http::ok(&json!({"job_statuses": found}))
            }
            (&Method::GET, ["api", "v2", "job_statuses", id]) => {
                match st.jobs.iter().find(|j| j.status.id == *id) {
                    Some(j) => http::ok(&json!({"job_status": j.status})),
                    None => http::not_found(),
                }
            }
            _ => unexpected(req),
        }
    }
}

/// The email in `Authorization: Basic base64("{email}/token:{token}")`, if that is the form.
fn agent_email(headers: &HeaderMap) -> Option<String> {
    let basic = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (user, _) = pair.split_once(':')?;
    Some(user.strip_suffix("/token").unwrap_or(user).to_lowercase())
}

/// 404 naming the route the simulator does not serve.
pub(crate) fn unexpected(req: &Req<'_>) -> Response {
    http::error(
        StatusCode::NOT_FOUND,
        "InvalidEndpoint",
        &format!(
            "the Zendesk sandbox does not serve {} {}",
            req.method, req.path
        ),
    )
}

/// Counts the request, and puts the rate-limit headers on answers that did not reach the
/// handler (fault-injected 429s and 5xx): the real API sends them on every response (§9).
async fn count(AxState(sim): AxState<ZendeskSim>, req: Request, next: Next) -> Response {
    let key = endpoint_key(req.method().as_str(), req.uri().path());
    *sim.lock().requests.entry(key).or_insert(0) += 1;
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key("x-rate-limit") {
        let limit = sim.config().rate_limit;
        let remaining = limit.saturating_sub(sim.lock().rate.used);
        let h = resp.headers_mut();
        h.insert("x-rate-limit", HeaderValue::from(limit));
        h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    }
    resp
}

/// Counts the writes under `/api/v2` and holds the one the armed hold names: nothing of
/// it runs until it is released (then it goes on, or its connection is dropped).
async fn hold_writes(AxState(sim): AxState<ZendeskSim>, req: Request, next: Next) -> Response {
    let write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !write || !req.uri().path().starts_with("/api/v2/") {
        return next.run(req).await;
    }
    let key = endpoint_key(req.method().as_str(), req.uri().path());
    match sim.shared.holds.on_write(&key, req.uri().path()) {
        hold::Decision::Pass => next.run(req).await,
        hold::Decision::Hold(mut rx, generation) => {
            // Clears the held write however this ends (released, or the client gone).
            let _held = hold::HeldGuard(&sim.shared.holds);
            let apply = match rx.wait_for(|(g, _)| *g != generation).await {
                Ok(now) => now.1,
                // The sandbox is gone: nothing is applied.
                Err(_) => false,
            };
            if apply {
                next.run(req).await
            } else {
                faults::broken()
            }
        }
    }
}

async fn handle(
    AxState(sim): AxState<ZendeskSim>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix(".json").unwrap_or(s))
        .collect();
    let req = Req {
        method: &method,
        segs,
        query: Query::parse(uri.query()),
        body: &body,
        endpoint: endpoint_key(method.as_str(), path),
        path,
        agent_email: agent_email(&headers),
    };
    let limit = sim.config().rate_limit;
    let (mut resp, remaining, events) = {
        let mut st = sim.lock();
        match sim.take_rate(&mut st) {
            Err(retry_after) => {
                let mut resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Number of allowed API requests per minute exceeded",
                )
                    .into_response();
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                (resp, 0, Vec::new())
            }
            Ok(remaining) => {
                let resp = if sim.check_auth(&headers) {
                    sim.route(&mut st, &req)
                } else {
                    http::json(
                        StatusCode::UNAUTHORIZED,
                        &json!({"error": "Couldn't authenticate you"}),
                    )
                };
                let events = tickets::take_events(&mut st);
                (resp, remaining, events)
            }
        }
    };
    for (ticket_id, event) in events {
        sim.fire_webhook(ticket_id, event);
    }
    let tickets_list = method == Method::GET && req.segs == ["api", "v2", "tickets"];
    let reset = sim.window_reset_secs();
    let h = resp.headers_mut();
    h.insert("x-rate-limit", HeaderValue::from(limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    if tickets_list {
        // Ticketing list endpoints also send the IETF-draft headers (§9).
        h.insert("ratelimit-limit", HeaderValue::from(limit));
        h.insert("ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("ratelimit-reset", HeaderValue::from(reset));
    }
    resp
}
