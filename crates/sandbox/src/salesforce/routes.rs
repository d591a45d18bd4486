//! HTTP routing: one handler that matches `(method, path segments)` (STYLE 11), checks
//! the bearer token, counts every request by endpoint, adds `Sforce-Limit-Info`, and
//! answers an unknown route with a `NOT_FOUND` naming it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::{collections, composite, dml, oauth, query, SalesforceSim, SimState};

/// The default daily API limit shown in `Sforce-Limit-Info`.
pub(crate) const DEFAULT_DAILY_LIMIT: u64 = 100_000;

/// The router serving the whole simulated API.
pub fn router(sim: SalesforceSim) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(sim)
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

fn rest_error(status: u16, code: &str, message: &str) -> Response {
    json_response(status, &json!([{"message": message, "errorCode": code}]))
}

fn count(state: &mut SimState, key: impl Into<String>) {
    *state.counts.entry(key.into()).or_insert(0) += 1;
}

async fn handle(
    State(sim): State<SalesforceSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut state = sim.lock();
    match (&method, segs.as_slice()) {
        (&Method::GET, ["__admin", "state"]) => json_response(200, &state.store.dump()),
        (&Method::GET, ["__admin", "requests"]) => json_response(200, &json!(state.counts)),
        (&Method::POST, ["__admin", "tokens", "expire"]) => {
            drop(state);
            sim.expire_tokens();
            StatusCode::NO_CONTENT.into_response()
        }
        (&Method::POST, ["__admin", "limits"]) => {
            match params.get("daily").and_then(|d| d.parse().ok()) {
                Some(limit) => {
                    state.daily_limit = limit;
                    StatusCode::NO_CONTENT.into_response()
                }
                None => rest_error(
                    400,
                    "INVALID_ARGUMENT",
                    "POST /__admin/limits needs ?daily=<number>",
                ),
            }
        }
        (&Method::POST, ["services", "oauth2", "token"]) => {
            count(&mut state, "POST /services/oauth2/token");
            token(&mut state, &headers, &body)
        }
        (&Method::GET, ["services", "data"]) => {
            count(&mut state, "GET /services/data");
            json_response(
                200,
                &json!([{"version": "62.0", "url": "/services/data/v62.0", "label": "Winter '25"}]),
            )
        }
        (_, ["services", "data", version, rest @ ..]) => {
            let version = version.to_string();
            let api_version = version
                .strip_prefix('v')
                .and_then(|v| v.parse::<f64>().ok());
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            let mut resp = match api_version {
                None => {
                    count(&mut state, format!("unmatched {method} {}", uri.path()));
                    rest_error(404, "NOT_FOUND", "The requested resource does not exist")
                }
                Some(api) => api_call(
                    &mut state,
                    &method,
                    &version,
                    api,
                    &rest,
                    &params,
                    &headers,
                    &body,
                    uri.path(),
                ),
            };
            let usage = format!("api-usage={}/{}", state.api_usage, state.daily_limit);
            if let Ok(v) = HeaderValue::from_str(&usage) {
                resp.headers_mut().insert("Sforce-Limit-Info", v);
            }
            resp
        }
        _ => {
            count(&mut state, format!("unmatched {method} {}", uri.path()));
            rest_error(
                404,
                "NOT_FOUND",
                &format!("The requested resource does not exist: the Salesforce sandbox has no route {method} {}", uri.path()),
            )
        }
    }
}

fn token(state: &mut SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let origin = format!("http://{host}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    match oauth::token(state, &form, basic, &origin, now) {
        Ok(body) => json_response(200, &body),
        Err(e) => json_response(400, &e.body()),
    }
}

#[allow(clippy::too_many_arguments)]
fn api_call(
    state: &mut SimState,
    method: &Method,
    version: &str,
    api: f64,
    rest: &[String],
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> Response {
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let endpoint = match (method, rest.as_slice()) {
        (&Method::GET, [q @ ("query" | "queryAll")]) => format!("GET {q}"),
        (&Method::GET, ["query" | "queryAll", _]) => "GET query_more".to_string(),
        (m, ["sobjects", t]) => format!("{m} sobjects/{t}"),
        (m, ["sobjects", t, _]) => format!("{m} sobjects/{t}"),
        (&Method::PATCH, ["sobjects", t, _, _]) => format!("PATCH sobjects/{t} upsert"),
        (m, ["sobjects", t, _, _]) => format!("{m} sobjects/{t} by external id"),
        (m, ["composite", "sobjects"]) => format!("{m} composite/sobjects"),
        (m, ["composite", "sobjects", t, _]) => format!("{m} composite/sobjects/{t} upsert"),
        (m, ["composite"]) => format!("{m} composite"),
        (m, _) => format!("unmatched {m} {path}"),
    };
    count(state, endpoint);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    if !oauth::authorize(state, auth) {
        return rest_error(401, "INVALID_SESSION_ID", "Session expired or invalid");
    }
    if state.api_usage >= state.daily_limit {
        return rest_error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
    }
    state.api_usage += 1;
    if let (&Method::POST, ["composite"]) = (method, rest.as_slice()) {
        // One API request however many subrequests (reference §6.2, unconfirmed).
        let (status, body) = composite::run(state, headers, body);
        return json_response(status, &body);
    }
    dml_response(dispatch(
        state, method, version, api, &rest, params, headers, body, path,
    ))
}

/// Serves one authorised REST call (also a Composite subrequest) as status, `Location`
/// and body.
#[allow(clippy::too_many_arguments)]
pub(super) fn dispatch(
    state: &mut SimState,
    method: &Method,
    version: &str,
    api: f64,
    rest: &[&str],
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
    path: &str,
) -> dml::DmlResponse {
    let json = |status: u16, body: Value| dml::DmlResponse {
        status,
        location: None,
        body: Some(body),
    };
    let page_size = page_size(state.config.page_size, headers);
    let ctx = dml::WriteCtx {
        version,
        api_version: api,
        auto_assign: !headers
            .get("Sforce-Auto-Assign")
            .and_then(|h| h.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("false")),
    };
    let result = match (method, rest) {
        (&Method::GET, [kind @ ("query" | "queryAll")]) => match params.get("q") {
            None => Err(query::QueryError {
                status: 400,
                code: "MALFORMED_QUERY",
                message: "A query string has to be specified".into(),
            }),
            Some(q) => query::run(state, q, version, *kind == "queryAll", page_size),
        },
        (&Method::GET, ["query" | "queryAll", locator]) => {
            query::more(state, locator, version, page_size)
        }
        (&Method::POST, ["sobjects", t]) => return dml::create(state, t, body, ctx),
        (&Method::GET, ["sobjects", t, id]) => {
            return dml::get(
                state,
                t,
                id,
                params.get("fields").map(String::as_str),
                version,
            )
        }
        (&Method::PATCH, ["sobjects", t, id]) => return dml::update(state, t, id, body, ctx),
        (&Method::POST | &Method::PATCH, ["composite", "sobjects"]) => {
            let (status, body) = collections::run(state, body, *method == Method::PATCH, ctx);
            return json(status, body);
        }
        (&Method::PATCH, ["composite", "sobjects", t, field]) => {
            let (status, body) = collections::upsert(state, t, field, body, ctx);
            return json(status, body);
        }
        (&Method::DELETE, ["sobjects", t, id]) => return dml::delete(state, t, id),
        (&Method::GET, ["sobjects", t, field, value]) => {
            return dml::get_by_external_id(
                state,
                t,
                field,
                value,
                params.get("fields").map(String::as_str),
                version,
            )
        }
        (&Method::PATCH, ["sobjects", t, field, value]) => {
            return dml::upsert(state, t, field, value, body, ctx)
        }
        _ => {
            if let Some(allowed) = allowed_methods(rest) {
                if !allowed.split(',').any(|m| m == method.as_str()) {
                    return json(
                        405,
                        json!([{"message": format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"), "errorCode": "METHOD_NOT_ALLOWED"}]),
                    );
                }
            }
            return json(
                404,
                json!([{"message": format!("The requested resource does not exist: the Salesforce sandbox has no route {method} {path}"), "errorCode": "NOT_FOUND"}]),
            );
        }
    };
    match result {
        Ok(v) => json(200, v),
        Err(e) => json(
            e.status,
            json!([{"message": e.message, "errorCode": e.code}]),
        ),
    }
}

/// The methods the real API takes on a resource of this shape, for 405 answers
/// (reference §7.2); `None` for shapes the sandbox does not know.
fn allowed_methods(rest: &[&str]) -> Option<&'static str> {
    Some(match rest {
        ["query" | "queryAll"] | ["query" | "queryAll", _] => "HEAD,GET",
        ["sobjects", _] => "HEAD,GET,POST",
        ["sobjects", _, _] => "HEAD,GET,PATCH,DELETE",
        ["sobjects", _, _, _] => "HEAD,GET,PATCH,DELETE",
        ["composite"] => "POST",
        ["composite", "sobjects"] => "GET,POST,PATCH,DELETE",
        ["composite", "sobjects", _, _] => "PATCH",
        _ => return None,
    })
}

/// The page size: the configured one, lowered by `Sforce-Query-Options: batchSize=N` (clamped to 200..2000).
fn page_size(configured: usize, headers: &HeaderMap) -> usize {
    let requested = headers
        .get("Sforce-Query-Options")
        .and_then(|h| h.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|kv| kv.trim().strip_prefix("batchSize="))
        })
        .and_then(|n| n.trim().parse::<usize>().ok());
    match requested {
        Some(n) => n.clamp(200, 2000).min(configured),
        None => configured,
    }
}

fn dml_response(r: dml::DmlResponse) -> Response {
    let mut resp = match &r.body {
        Some(b) => json_response(r.status, b),
        None => StatusCode::from_u16(r.status)
            .unwrap_or(StatusCode::NO_CONTENT)
            .into_response(),
    };
    if let Some(loc) = r.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}
