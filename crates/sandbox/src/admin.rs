//! The admin side of the sandbox, for both simulators: a handle for tests and binaries,
//! and the same actions over HTTP under `/__admin` on the Zendesk port:
//!
//! | route | what |
//! |---|---|
//! | `GET /__admin/state` | both accounts' data |
//! | `GET /__admin/requests` | requests per endpoint, both APIs |
//! | `GET`/`PUT /__admin/faults` | the fault plan ([`crate::FaultPlan`]) |
//! | `GET /__admin/faults/fired` | how many times each kind of fault fired (`{"rate_limited": 98, …}`) |
//! | `GET`/`PUT /__admin/zendesk/quirks` | the [UNCONFIRMED]-shape switches ([`crate::Quirks`]) |
//! | `GET /__admin/writes` | Zendesk write counters and the hold ([`crate::WriteStatus`]) |
//! | `GET`/`PUT /__admin/jobs/held` | endpoint keys whose jobs stay queued until released: `["POST /api/v2/users/create_many"]`; `[]` releases all |
//! | `PUT /__admin/hold` | hold the Nth write from now: `{"nth": N, "endpoint": "POST /api/v2/…"}` ([`crate::HoldWrite`]) |
//! | `DELETE /__admin/hold` | disarm the hold and drop the held write (nothing applied) |
//! | `POST /__admin/hold/release` | release the held write: `{"apply": true}` lets it go on, else it is dropped |
//! | `POST /__admin/tickets`, `POST /__admin/tickets/{id}/close` | ticket events that fire webhooks |
//! | `POST /__admin/salesforce/expire_tokens` | Salesforce token expiry |

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::{FaultPlan, Faults};
use crate::salesforce::SalesforceSim;
use crate::zendesk::hold::{HoldWrite, WriteStatus};
use crate::zendesk::model::{Ticket, TicketInput};
use crate::zendesk::quirks::Quirks;
use crate::zendesk::{WebhookDelivery, WebhookTarget, ZendeskSim};

/// Requests received per endpoint key, for both APIs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Zendesk, e.g. `"GET /api/v2/organizations": 3`.
    pub zendesk: BTreeMap<String, u64>,
    /// Salesforce, as its simulator counts them.
    pub salesforce: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// Total Zendesk requests.
    pub fn zendesk_total(&self) -> u64 {
        self.zendesk.values().sum()
    }
}

/// Why an admin ticket action was refused: the API's own status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// HTTP status the API would answer.
    pub status: u16,
    /// Its body.
    pub body: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused with {}: {}", self.status, self.body)
    }
}

/// Handle on a running sandbox's simulators.
#[derive(Clone)]
pub struct Admin {
    zendesk: ZendeskSim,
    salesforce: SalesforceSim,
    faults: Faults,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

async fn refused(resp: Response) -> Refused {
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Refused { status, body }
}

impl Admin {
    pub(crate) fn new(zendesk: ZendeskSim, salesforce: SalesforceSim, faults: Faults) -> Admin {
        Admin {
            zendesk,
            salesforce,
            faults,
        }
    }

    /// The whole Zendesk account: organizations, users, tickets, fields, jobs, webhooks.
    pub fn zendesk_state(&self) -> Value {
        self.zendesk.dump()
    }

    /// The Salesforce simulator's dump.
    pub fn salesforce_state(&self) -> Value {
        self.salesforce.dump()
    }

    /// Requests received by both APIs.
    pub fn request_counts(&self) -> RequestCounts {
        RequestCounts {
            zendesk: self.zendesk.request_counts(),
            salesforce: self.salesforce.request_counts(),
        }
    }

    /// Replaces the fault plan (counters and generator restart).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.faults.set(plan);
    }

    /// The current fault plan.
    pub fn faults(&self) -> FaultPlan {
        self.faults.plan()
    }

    /// How many times each kind of fault fired so far (`"server_error_after_apply": 12`).
    pub fn fired_faults(&self) -> BTreeMap<String, u64> {
        self.faults.fired_counts()
    }

    /// How the simulated Zendesk answers the [UNCONFIRMED] shapes now.
    pub fn zendesk_quirks(&self) -> Quirks {
        self.zendesk.quirks()
    }

    /// Switches how the simulated Zendesk answers the [UNCONFIRMED] shapes from now on.
    pub fn set_zendesk_quirks(&self, quirks: Quirks) {
        self.zendesk.set_quirks(quirks);
    }

    /// Holds the jobs queued by requests to these Zendesk endpoint keys (e.g.
    /// `POST /api/v2/users/create_many`) in `queued` until released by a set without
    /// them; an empty set releases all ([`crate::zendesk::ZendeskSim::hold_jobs`]).
    pub fn hold_jobs<S: AsRef<str>>(&self, endpoints: &[S]) {
        self.zendesk
            .hold_jobs(endpoints.iter().map(|e| e.as_ref().to_owned()).collect());
    }

    /// The Zendesk endpoint keys whose jobs are held now.
    pub fn held_jobs(&self) -> Vec<String> {
        self.zendesk.held_jobs().into_iter().collect()
    }

    /// The Zendesk write counters and the hold.
    pub fn writes(&self) -> WriteStatus {
        self.zendesk.writes()
    }

    /// Holds the Nth matching Zendesk write from now (`None`: disarms; a write already
    /// held stays held until released).
    pub fn hold_write(&self, hold: Option<HoldWrite>) {
        self.zendesk.set_hold(hold);
    }

    /// Releases the held write: with `apply` it goes on and is applied, else its
    /// connection is dropped with nothing applied.
    pub fn release_held_write(&self, apply: bool) {
        self.zendesk.release_held(apply);
    }

    /// Waits until a write is held (polling the counters), up to `timeout`; the held
    /// write, or `None` when none was held in time.
    pub async fn wait_for_held_write(
        &self,
        timeout: std::time::Duration,
    ) -> Option<crate::HeldWrite> {
        // A timeout past the clock's range waits without a deadline.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        loop {
            if let Some(held) = self.writes().held {
                return Some(held);
            }
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Creates a ticket (fires the `created` webhook).
    pub async fn create_ticket(&self, input: TicketInput) -> Result<Ticket, Refused> {
        match self.zendesk.create_ticket(&input) {
            Ok(t) => Ok(t),
            Err(resp) => Err(refused(resp).await),
        }
    }

    /// Closes a ticket (fires the `closed` webhook).
    pub async fn close_ticket(&self, id: u64) -> Result<Ticket, Refused> {
        match self.zendesk.close_ticket(id) {
            Ok(t) => Ok(t),
            Err(resp) => Err(refused(resp).await),
        }
    }

    /// Expires every Salesforce access token: the next call gets 401 INVALID_SESSION_ID.
    pub fn expire_salesforce_tokens(&self) {
        self.salesforce.expire_tokens();
    }

    /// Sets the Salesforce org's daily API request limit: once reached, every REST call
    /// answers 403 `REQUEST_LIMIT_EXCEEDED` (0: exhausted from the first call).
    pub fn set_salesforce_daily_limit(&self, limit: u64) {
        self.salesforce.set_daily_limit(limit);
    }

    /// Sets or replaces (or, with `None`, removes) where ticket webhooks go from now
    /// on: a test starts its receiver on port 0 first, then points the sandbox at it.
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.zendesk.set_webhook(target);
    }

    /// Webhook deliveries attempted so far.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.zendesk.webhook_deliveries()
    }

    /// The `/__admin` routes (no faults, no rate limit).
    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route("/__admin/state", get(state))
            .route("/__admin/requests", get(requests))
            .route("/__admin/faults", get(get_faults).put(put_faults))
            .route("/__admin/faults/fired", get(get_fired))
            .route("/__admin/zendesk/quirks", get(get_quirks).put(put_quirks))
            .route("/__admin/writes", get(get_writes))
            .route("/__admin/jobs/held", get(get_held_jobs).put(put_held_jobs))
            .route("/__admin/hold", put(put_hold).delete(delete_hold))
            .route("/__admin/hold/release", post(release_hold))
            .route("/__admin/tickets", post(create_ticket))
            .route("/__admin/tickets/{id}/close", post(close_ticket))
            .route("/__admin/salesforce/expire_tokens", post(expire_tokens))
            .with_state(self.clone())
    }
}

async fn state(State(admin): State<Admin>) -> Json<Value> {
    Json(json!({"zendesk": admin.zendesk_state(), "salesforce": admin.salesforce_state()}))
}

async fn requests(State(admin): State<Admin>) -> Json<RequestCounts> {
    Json(admin.request_counts())
}

async fn get_faults(State(admin): State<Admin>) -> Json<FaultPlan> {
    Json(admin.faults())
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "InvalidFaults", "description": message})),
    )
        .into_response()
}

async fn put_faults(State(admin): State<Admin>, body: Bytes) -> Response {
    let de = &mut serde_json::Deserializer::from_slice(&body);
    match serde_path_to_error::deserialize::<_, FaultPlan>(de) {
        Ok(plan) => {
            admin.set_faults(plan.clone());
            Json(plan).into_response()
        }
        Err(e) => bad_request(format!("at `{}`: {}", e.path(), e.inner())),
    }
}

async fn get_fired(State(admin): State<Admin>) -> Json<BTreeMap<String, u64>> {
    Json(admin.fired_faults())
}

async fn get_quirks(State(admin): State<Admin>) -> Json<Quirks> {
    Json(admin.zendesk_quirks())
}

async fn put_quirks(State(admin): State<Admin>, body: Bytes) -> Response {
    let de = &mut serde_json::Deserializer::from_slice(&body);
    match serde_path_to_error::deserialize::<_, Quirks>(de) {
        Ok(quirks) => {
            admin.set_zendesk_quirks(quirks);
            Json(quirks).into_response()
        }
        Err(e) => bad_request(format!("at `{}`: {}", e.path(), e.inner())),
    }
}

async fn get_writes(State(admin): State<Admin>) -> Json<WriteStatus> {
    Json(admin.writes())
}

async fn get_held_jobs(State(admin): State<Admin>) -> Json<Vec<String>> {
    Json(admin.held_jobs())
}

async fn put_held_jobs(State(admin): State<Admin>, body: Bytes) -> Response {
    match serde_json::from_slice::<Vec<String>>(&body) {
        Ok(endpoints) => {
            admin.hold_jobs(&endpoints);
            Json(admin.held_jobs()).into_response()
        }
        Err(e) => bad_request(format!("a list of endpoint keys: {e}")),
    }
}

async fn put_hold(State(admin): State<Admin>, body: Bytes) -> Response {
    let de = &mut serde_json::Deserializer::from_slice(&body);
    match serde_path_to_error::deserialize::<_, HoldWrite>(de) {
        Ok(hold) if hold.nth > 0 => {
            admin.hold_write(Some(hold));
            Json(admin.writes()).into_response()
        }
        Ok(_) => bad_request("nth counts from 1".to_owned()),
        Err(e) => bad_request(format!("at `{}`: {}", e.path(), e.inner())),
    }
}

async fn delete_hold(State(admin): State<Admin>) -> Json<WriteStatus> {
    admin.hold_write(None);
    admin.release_held_write(false);
    Json(admin.writes())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Release {
    #[serde(default)]
    apply: bool,
}

async fn release_hold(State(admin): State<Admin>, body: Bytes) -> Response {
    let release = if body.iter().all(u8::is_ascii_whitespace) {
        Release::default()
    } else {
        match serde_json::from_slice::<Release>(&body) {
            Ok(r) => r,
            Err(e) => return bad_request(format!("invalid release: {e}")),
        }
    };
    admin.release_held_write(release.apply);
    Json(admin.writes()).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NewTicket {
    Wrapped { ticket: TicketInput },
    Bare(TicketInput),
}

fn answer(result: Result<Ticket, Refused>, status: StatusCode) -> Response {
    match result {
        Ok(t) => (status, Json(json!({"ticket": t}))).into_response(),
        Err(r) => (
            StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST),
            r.body,
        )
            .into_response(),
    }
}

async fn create_ticket(State(admin): State<Admin>, body: Bytes) -> Response {
    let input = match serde_json::from_slice::<NewTicket>(&body) {
        Ok(NewTicket::Wrapped { ticket }) | Ok(NewTicket::Bare(ticket)) => ticket,
        Err(e) => return bad_request(format!("invalid ticket: {e}")),
    };
    answer(admin.create_ticket(input).await, StatusCode::CREATED)
}

async fn close_ticket(State(admin): State<Admin>, Path(id): Path<u64>) -> Response {
    answer(admin.close_ticket(id).await, StatusCode::OK)
}

async fn expire_tokens(State(admin): State<Admin>) -> StatusCode {
    admin.expire_salesforce_tokens();
    StatusCode::NO_CONTENT
}
