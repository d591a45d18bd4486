//! Response and request helpers shared by the Zendesk handlers: the real error envelopes
//! (§10), JSON responses, decoded query strings (`page%5Bsize%5D` = `page[size]`) and
//! typed body decoding that names the JSON path that failed.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

/// A decoded query string; repeated keys are kept in order.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Parses a raw query string, percent-decoding keys and values.
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All values of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A comma-separated list parameter (`ids=1,2,3`), empty items dropped.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &format!("sandbox could not encode its answer: {e}"),
        ),
    }
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(body: &T) -> Response {
    json(StatusCode::OK, body)
}

/// 201 with a `Location` header, as creates answer.
pub fn created<T: Serialize>(location: &str, body: &T) -> Response {
    let mut resp = json(StatusCode::CREATED, body);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// The legacy error envelope `{"error": …, "description": …}`.
pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
    json(status, &json!({"error": code, "description": description}))
}

/// 404 `{"error":"RecordNotFound","description":"Not found"}` (REAL).
pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "RecordNotFound", "Not found")
}

/// 422 RecordInvalid with `details.<attr>[]`, as the real validation errors look.
pub fn record_invalid(attr: &str, description: &str, code: Option<&str>) -> Response {
    let item = match code {
        Some(code) => json!({"description": description, "error": code}),
        None => json!({"description": description}),
    };
    json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"error": "RecordInvalid", "description": "Record validation errors",
                "details": {attr: [item]}}),
    )
}

/// 400 TooManyValues in the organizations wording (double space verbatim, §4.8).
pub fn too_many_values() -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"error": "TooManyValues",
                "description": "Parameter  cannot specify more than 100 values",
                "max_count": 100}),
    )
}

/// 400 TooManyValues in the users wording (§5.4, no `max_count`).
pub fn too_many_users() -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({"error": "TooManyValues",
                "description": "Maximum 100 users may be created per call"}),
    )
}

/// Decodes a JSON body into `T`, or answers 400 naming the JSON path that failed.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            &format!("invalid request body at `{}`: {}", e.path(), e.inner()),
        )
    })
}

/// Current time as Zendesk writes it: ISO-8601 UTC, whole seconds.
pub fn now_iso() -> String {
    iso(time::OffsetDateTime::now_utc())
}

/// Formats a time as `2023-09-18T23:37:03Z`.
pub fn iso(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
