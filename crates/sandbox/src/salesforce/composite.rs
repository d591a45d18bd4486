//! Composite (reference §6.2): `POST /composite` runs up to 25 subrequests in order,
//! each through the same routes as a direct call, substituting `@{ref.field}` from
//! earlier results, and answers 200 with one `{body, httpHeaders, httpStatusCode,
//! referenceId}` per subrequest. With `allOrNone`, a failure rolls every write back.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::dml::DmlResponse;
use super::{routes, SimState};

/// The most subrequests one call may carry.
const MAX_SUBREQUESTS: usize = 25;

/// What an unexecuted or rolled-back subrequest reports under `allOrNone`.
const HALTED: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    all_or_none: bool,
    composite_request: Vec<Subrequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subrequest {
    method: String,
    url: String,
    reference_id: String,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    http_headers: Map<String, Value>,
}

fn bad_request(message: String) -> (u16, Value) {
    // The exact code for a refused composite body is not in the reference.
    (
        400,
        json!([{"message": message, "errorCode": "INVALID_API_INPUT"}]),
    )
}

fn halted(message: &str) -> DmlResponse {
    DmlResponse {
        status: 400,
        location: None,
        body: Some(json!([{"message": message, "errorCode": "PROCESSING_HALTED"}])),
    }
}

/// Runs `POST /composite`; returns status and body.
pub fn run(state: &mut SimState, headers: &HeaderMap, body: &[u8]) -> (u16, Value) {
    let body: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => {
            return (
                400,
                json!([{"message": format!("Invalid composite request: {e}"), "errorCode": "JSON_PARSER_ERROR"}]),
            )
        }
    };
    if body.composite_request.len() > MAX_SUBREQUESTS {
        return bad_request(format!(
            "{} subrequests; a composite request holds at most {MAX_SUBREQUESTS}",
            body.composite_request.len()
        ));
    }
    let mut ids: Vec<&str> = Vec::new();
    for sub in &body.composite_request {
        let r = sub.reference_id.as_str();
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return bad_request(format!(
                "referenceId {r:?} may hold only letters, digits and _"
            ));
        }
        if ids.contains(&r) {
            return bad_request(format!("duplicate referenceId {r}"));
        }
        ids.push(r);
    }

    let snapshot = body
        .all_or_none
        .then(|| (state.store.clone(), state.case_number));
    let mut results: Vec<(String, DmlResponse)> = Vec::new();
    let mut failed = false;
    for sub in &body.composite_request {
        if failed && body.all_or_none {
            results.push((sub.reference_id.clone(), halted(HALTED)));
            continue;
        }
        let reply = execute(state, headers, sub, &results);
        failed |= reply.status >= 400;
        results.push((sub.reference_id.clone(), reply));
    }
    if failed {
        if let Some((store, case_number)) = snapshot {
            state.store = store;
            state.case_number = case_number;
            for (_, reply) in results.iter_mut().filter(|(_, r)| r.status < 400) {
                *reply = halted(HALTED);
            }
        }
    }
    let responses: Vec<Value> = results
        .into_iter()
        .map(|(reference_id, reply)| {
            let mut http_headers = Map::new();
            if let Some(loc) = reply.location {
                http_headers.insert("Location".into(), Value::String(loc));
            }
            json!({
                "body": reply.body.unwrap_or(Value::Null),
                "httpHeaders": http_headers,
                "httpStatusCode": reply.status,
                "referenceId": reference_id,
            })
        })
        .collect();
    (200, json!({"compositeResponse": responses}))
}

/// Runs one subrequest after substituting its references.
fn execute(
    state: &mut SimState,
    outer: &HeaderMap,
    sub: &Subrequest,
    done: &[(String, DmlResponse)],
) -> DmlResponse {
    let url = match substitute(&sub.url, done) {
        Ok(u) => u,
        Err(message) => return halted(&message),
    };
    let body = match sub
        .body
        .clone()
        .map(|b| substitute_value(b, done))
        .transpose()
    {
        Ok(b) => b,
        Err(message) => return halted(&message),
    };
    let Ok(method) = Method::from_bytes(sub.method.to_ascii_uppercase().as_bytes()) else {
        return halted(&format!("unknown method {}", sub.method));
    };
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let ["services", "data", version, rest @ ..] = segs.as_slice() else {
        return halted(&format!(
            "subrequest url {url} is not under /services/data/vXX.X/"
        ));
    };
    let Some(api) = version
        .strip_prefix('v')
        .and_then(|v| v.parse::<f64>().ok())
    else {
        return halted(&format!("subrequest url {url} has no API version"));
    };
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut headers = outer.clone();
    for (name, value) in &sub.http_headers {
        if let (Ok(n), Some(Ok(v))) = (
            HeaderName::from_bytes(name.as_bytes()),
            value.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(n, v);
        }
    }
    let bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap_or_default())
        .unwrap_or_default();
    routes::dispatch(
        state, &method, version, api, rest, &params, &headers, &bytes, path,
    )
}

/// Replaces every `@{ref.path}` in `text` with the value from an earlier successful result.
fn substitute(text: &str, done: &[(String, DmlResponse)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let expr = &rest[start + 2..start + len];
        out.push_str(&resolve(expr, done)?);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute_value(value: Value, done: &[(String, DmlResponse)]) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => Value::String(substitute(&s, done)?),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|v| substitute_value(v, done))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| Ok((k, substitute_value(v, done)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other,
    })
}

/// `ref.a.b[0].c` against the body of the successful subrequest `ref`.
fn resolve(expr: &str, done: &[(String, DmlResponse)]) -> Result<String, String> {
    let missing = || format!("Invalid reference specified. No value for {expr} found.");
    let mut parts = expr.split('.');
    let reference = parts.next().unwrap_or_default();
    let (_, reply) = done
        .iter()
        .find(|(r, reply)| r == reference && reply.status < 400)
        .ok_or_else(missing)?;
    let mut value = reply.body.as_ref().ok_or_else(missing)?;
    for part in parts {
        let (key, index) = match part.split_once('[') {
            Some((key, idx)) => (key, idx.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        value = value.get(key).ok_or_else(missing)?;
        if let Some(i) = index {
            value = value.get(i).ok_or_else(missing)?;
        }
    }
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Err(missing()),
        other => Ok(other.to_string()),
    }
}
