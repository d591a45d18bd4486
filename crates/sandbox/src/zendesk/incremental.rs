//! Incremental exports (§4.14, §5.10, §11.19), both schemes:
//! - cursor-based for tickets and users (`incremental/{tickets,users}/cursor?start_time=`,
//!   then `?cursor=`): `after_url`, `after_cursor`, `before_url: null`,
//!   `before_cursor: null`, `end_of_stream`; the cursor is kept at the end for the next run;
//! - time-based for tickets, users and organizations (`incremental/{kind}?start_time=`):
//!   `count`, `end_time`, `end_of_stream`, and a `next_page` that stays non-null at the end.
//!
//! Records are ordered by (updated_at, id), up to 1000 a page; changes newer than the
//! configured lag are left out; `start_time` must be at least a minute in the past.

use std::time::Instant;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::http;
use super::{RateWindow, Req, State, ZendeskSim};

/// Largest page either scheme serves.
const MAX_PER_PAGE: usize = 1000;

/// What an export walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `tickets`.
    Tickets,
    /// `users`.
    Users,
    /// `organizations` (time-based only, §4.14).
    Organizations,
}

impl Kind {
    /// The kind named by a path segment.
    pub(super) fn from_segment(seg: &str) -> Option<Kind> {
        match seg {
            "tickets" => Some(Kind::Tickets),
            "users" => Some(Kind::Users),
            "organizations" => Some(Kind::Organizations),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Tickets => "tickets",
            Kind::Users => "users",
            Kind::Organizations => "organizations",
        }
    }

    /// (updated_at as unix seconds, id) of every record, sorted.
    fn positions(self, st: &State) -> Vec<(i64, u64)> {
        let mut rows: Vec<(i64, u64)> = match self {
            Kind::Tickets => st
                .data
                .tickets
                .values()
                .map(|t| (unix(&t.updated_at), t.id))
                .collect(),
            // Deleted users stay in the export, `active: false`.
            Kind::Users => st
                .data
                .users
                .values()
                .chain(st.data.deleted_users.values())
                .map(|u| (unix(&u.updated_at), u.id))
                .collect(),
            Kind::Organizations => st
                .data
                .orgs
                .values()
                .map(|o| (unix(&o.updated_at), o.id))
                .collect(),
        };
        rows.sort_unstable();
        rows
    }

    /// The wire form of record `id`.
    fn view(self, sim: &ZendeskSim, st: &State, id: u64) -> Value {
        match self {
            Kind::Tickets => json!(st.data.tickets.get(&id).map(|t| sim.ticket_view(t))),
            Kind::Users => json!(st
                .data
                .users
                .get(&id)
                .or_else(|| st.data.deleted_users.get(&id))
                .map(|u| sim.user_view(u))),
            Kind::Organizations => json!(st.data.orgs.get(&id).map(|o| sim.org_view(o))),
        }
    }
}

/// Takes one request from the export's own per-minute window (10 a minute on the real
/// API, §9, on top of the account limit), or answers 429 with `Retry-After` when it is
/// spent. Each export kind has its own window.
pub(super) fn take_slot(sim: &ZendeskSim, st: &mut State, kind: Kind) -> Result<(), Response> {
    let Some(limit) = sim.config().incremental_rate_limit else {
        return Ok(());
    };
    let window = sim.config().rate_limit_window;
    let now = Instant::now();
    let w = st.incremental.entry(kind.key()).or_insert(RateWindow {
        start: now,
        used: 0,
    });
    let mut elapsed = now.saturating_duration_since(w.start);
    if elapsed >= window {
        *w = RateWindow {
            start: now,
            used: 0,
        };
        elapsed = std::time::Duration::ZERO;
    }
    if w.used >= limit {
        let wait = window.saturating_sub(elapsed).as_secs_f64().ceil().max(1.0) as u64;
        let mut resp = (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Number of allowed incremental export API requests per minute exceeded",
        )
            .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Err(resp);
    }
    w.used += 1;
    Ok(())
}

fn unix(iso: &str) -> i64 {
    time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or(0)
}

/// The real cursor decodes to `"{unix_ts}.0||{id}|"` (§5.10); opaque to clients.
fn encode_cursor(ts: i64, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{ts}.0||{id}|"))
}

fn decode_cursor(raw: &str) -> Option<(i64, u64)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (ts, rest) = text.split_once(".0||")?;
    Some((ts.parse().ok()?, rest.trim_end_matches('|').parse().ok()?))
}

fn invalid(message: &str) -> Response {
    http::error(StatusCode::BAD_REQUEST, "InvalidValue", message)
}

fn per_page(req: &Req<'_>) -> Result<usize, Response> {
    match req.query.get("per_page").map(str::parse::<usize>) {
        None => Ok(MAX_PER_PAGE),
        Some(Ok(n)) if n > 0 => Ok(n.min(MAX_PER_PAGE)),
        Some(_) => Err(invalid("per_page must be a positive integer")),
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `start_time`, which must be given and at least a minute in the past.
fn start_time(req: &Req<'_>) -> Result<i64, Response> {
    match req.query.get("start_time").map(str::parse::<i64>) {
        Some(Ok(t)) if t <= now() - 60 => Ok(t),
        Some(Ok(_)) => Err(invalid(
            "Too recent start_time. Use a start_time older than 1 minute",
        )),
        _ => Err(invalid("start_time or cursor is required")),
    }
}

/// The newest `updated_at` an export may show now (the last minute is left out).
fn newest(sim: &ZendeskSim) -> i64 {
    let lag = i64::try_from(sim.config().incremental_lag.as_secs()).unwrap_or(i64::MAX);
    now().saturating_sub(lag)
}

fn url(sim: &ZendeskSim, path: &str, params: &[(&str, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!(
        "{}/api/v2/{path}.json?{}",
        sim.config().base_url,
        ser.finish()
    )
}

/// `incremental/{tickets,users}/cursor`.
pub(super) fn cursor(sim: &ZendeskSim, st: &State, req: &Req<'_>, kind: Kind) -> Response {
    let per_page = match per_page(req) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let position = match req.query.get("cursor") {
        Some(c) => match decode_cursor(c) {
            Some(p) => p,
            None => return invalid("cursor is not valid"),
        },
        None => match start_time(req) {
            Ok(t) => (t, 0),
            Err(resp) => return resp,
        },
    };
    let newest = newest(sim);
    let mut rows: Vec<(i64, u64)> = kind
        .positions(st)
        .into_iter()
        .filter(|&(ts, id)| (ts, id) > position && ts <= newest)
        .collect();
    let end_of_stream = rows.len() <= per_page;
    rows.truncate(per_page);
    let last = rows.last().copied().unwrap_or(position);
    let after_cursor = encode_cursor(last.0, last.1);
    let after_url = url(
        sim,
        &format!("incremental/{}/cursor", kind.key()),
        &[
            ("cursor", after_cursor.clone()),
            ("per_page", per_page.to_string()),
        ],
    );
    let records: Vec<Value> = rows.iter().map(|&(_, id)| kind.view(sim, st, id)).collect();
    let mut body = Map::new();
    body.insert(kind.key().to_owned(), Value::Array(records));
    body.insert("after_url".to_owned(), json!(after_url));
    body.insert("after_cursor".to_owned(), json!(after_cursor));
    body.insert("before_url".to_owned(), Value::Null);
    body.insert("before_cursor".to_owned(), Value::Null);
    body.insert("end_of_stream".to_owned(), json!(end_of_stream));
    http::ok(&body)
}

/// `incremental/{tickets,users,organizations}?start_time=`: records with
/// `updated_at >= start_time`. A page ends with every record of its last second (so
/// `end_time` moves on), and the next page starts at `end_time`, inclusive: records of
/// that second come again, the duplicates the docs tell clients to drop (§4.14).
pub(super) fn time_based(sim: &ZendeskSim, st: &State, req: &Req<'_>, kind: Kind) -> Response {
    let per_page = match per_page(req) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let start = match start_time(req) {
        Ok(t) => t,
        Err(resp) => return resp,
    };
    let newest = newest(sim);
    let rows: Vec<(i64, u64)> = kind
        .positions(st)
        .into_iter()
        .filter(|&(ts, _)| ts >= start && ts <= newest)
        .collect();
    let mut take = rows.len().min(per_page);
    if let Some(&(last_ts, _)) = take.checked_sub(1).and_then(|i| rows.get(i)) {
        while rows.get(take).is_some_and(|&(ts, _)| ts == last_ts) {
            take += 1;
        }
    }
    let end_of_stream = take == rows.len();
    let end_time = match rows.get(..take).and_then(<[_]>::last) {
        // A page all of one second would be served again from `end_time`: step past it.
        Some(&(ts, _)) if ts == start && !end_of_stream => ts.saturating_add(1),
        Some(&(ts, _)) => ts,
        None => start,
    };
    let mut params = vec![("start_time", end_time.to_string())];
    if req.query.get("per_page").is_some() {
        params.push(("per_page", per_page.to_string()));
    }
    let next_page = url(sim, &format!("incremental/{}", kind.key()), &params);
    let records: Vec<Value> = rows
        .iter()
        .take(take)
        .map(|&(_, id)| kind.view(sim, st, id))
        .collect();
    let mut body = Map::new();
    body.insert("count".to_owned(), json!(records.len()));
    body.insert(kind.key().to_owned(), Value::Array(records));
    body.insert("end_of_stream".to_owned(), json!(end_of_stream));
    body.insert("end_time".to_owned(), json!(end_time));
    body.insert("next_page".to_owned(), json!(next_page));
    http::ok(&body)
}

#[cfg(test)]
mod tests {
    use super::{decode_cursor, encode_cursor};

    #[test]
    fn cursors_round_trip_in_the_real_form() {
        let c = encode_cursor(1_694_303_526, 6_130_869_168_922);
        assert_eq!(c, "MTY5NDMwMzUyNi4wfHw2MTMwODY5MTY4OTIyfA==");
        assert_eq!(decode_cursor(&c), Some((1_694_303_526, 6_130_869_168_922)));
        assert_eq!(decode_cursor("not base64!"), None);
    }
}
