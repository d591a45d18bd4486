//! The crate's one error type, the REST error item shape, and the retry classifier.
//!
//! Salesforce has three error body shapes (reference §7.1): the REST array
//! `[{"message","errorCode","fields"?}]`, the token endpoint's
//! `{"error","error_description"}`, and collection items whose errors say
//! `statusCode` instead of `errorCode`. [`ApiErrorItem`] reads both item spellings.

use serde::Deserialize;

use crate::limits::ApiUsage;

/// Longest response body kept in an error message, in bytes.
const MAX_BODY_IN_ERROR: usize = 512;

/// One entry of a Salesforce REST error array, or of a collection item's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(from = "WireErrorItem")]
pub struct ApiErrorItem {
    /// Human-readable message, e.g. `Session expired or invalid`.
    pub message: String,
    /// Error code, e.g. `INVALID_SESSION_ID`. Collections spell the key `statusCode`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// Fields the error concerns; absent on query errors.
    pub fields: Vec<String>,
}

/// An error item as received: the code under `errorCode`, `statusCode` or both (§6.1
/// says to accept both), `fields` absent, `[]` or `null`.
#[derive(Deserialize)]
struct WireErrorItem {
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "errorCode", default)]
    error_code: Option<String>,
    #[serde(rename = "statusCode", default)]
    status_code: Option<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
}

impl From<WireErrorItem> for ApiErrorItem {
    fn from(w: WireErrorItem) -> Self {
        ApiErrorItem {
            message: w.message.unwrap_or_default(),
            error_code: w.error_code.or(w.status_code).unwrap_or_default(),
            fields: w.fields.unwrap_or_default(),
        }
    }
}

/// What went wrong at the transport level (no HTTP response was read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be opened: the request never reached Salesforce.
    Connect,
    /// The request or the response timed out: it may or may not have been applied.
    Timeout,
    /// Any other failure while sending or reading (reset, broken body...).
    Other,
}

/// Every error the Salesforce client returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Salesforce answered with an error status and (usually) a REST error array.
    #[error("Salesforce API error: HTTP {status} on {method} {url}: {}{}", summary(.errors, .body), request_id_suffix(.request_id))]
    Api {
        /// HTTP status code.
        status: u16,
        /// HTTP method of the failed request.
        method: &'static str,
        /// URL of the failed request (never contains credentials).
        url: String,
        /// The parsed error items (empty when the body was not the REST array).
        errors: Vec<ApiErrorItem>,
        /// A request id header, when the response carried one.
        request_id: Option<Box<str>>,
        /// The response body, truncated.
        body: String,
    },
    /// 403 `REQUEST_LIMIT_EXCEEDED`: the org's rolling 24-hour API limit is used up. Never retried.
    #[error("Salesforce daily API request limit is exhausted (403 REQUEST_LIMIT_EXCEEDED on {method} {url}: {message}); not retried, the rolling 24 h window must free up first{}", usage_suffix(.usage))]
    RequestLimitExceeded {
        /// HTTP method of the refused request.
        method: &'static str,
        /// URL of the refused request.
        url: String,
        /// Salesforce's message, e.g. `TotalRequests Limit exceeded.`
        message: String,
        /// The last `Sforce-Limit-Info` usage seen, if any.
        usage: Option<ApiUsage>,
    },
    /// Authentication failed: the token endpoint refused us, or a session stayed invalid.
    #[error("Salesforce authentication failed{}: {error}: {description}", status_suffix(.status))]
    Auth {
        /// HTTP status of the failing response, if there was one.
        status: Option<u16>,
        /// OAuth `error` code (e.g. `invalid_grant`) or a short label of ours.
        error: String,
        /// OAuth `error_description` or an explanation.
        description: String,
    },
    /// The client was configured wrongly (bad URL, version, key...). Raised before any request.
    #[error("invalid Salesforce client configuration: {0}")]
    Config(String),
    /// An upsert by external id matched several records (HTTP 300).
    #[error("upsert of {sobject} by {field} = {value:?} matched {} records ({}); fix the duplicate external ids", ids.len(), ids.join(", "))]
    MultipleMatches {
        /// sObject type.
        sobject: String,
        /// External id field.
        field: String,
        /// External id value.
        value: String,
        /// Record ids: the last segment of each returned record URL.
        ids: Vec<String>,
    },
    /// A response (or one record of it) did not have the expected shape.
    #[error("could not decode Salesforce response from {url} at JSON path `{path}`: {message}")]
    Decode {
        /// URL the data came from.
        url: String,
        /// JSON path of the failing value, e.g. `records[3].Amount`.
        path: String,
        /// What serde said.
        message: String,
    },
    /// No HTTP response was received (after the retries the request allowed). `message`
    /// starts with the cause and the host: `DNS failure for …`, `connection refused by …`,
    /// `timed out talking to …`, `TLS failure with …`, `connection reset by …`.
    #[error("transport error on {method} {url} ({kind:?}): {message}")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// URL of the request.
        url: String,
        /// What kind of failure.
        kind: TransportKind,
        /// The underlying error, as text.
        message: String,
    },
    /// A call was refused before sending because it broke a documented API limit.
    #[error("request not sent: {0}")]
    LimitViolation(String),
    /// An answer's body was larger than the client's cap
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)),
    /// e.g. a server streaming an endless body; reading stopped at the cap. On a write,
    /// Salesforce may have applied it: re-read before sending it again.
    #[error("the answer of {method} {url} is larger than {limit} bytes; reading stopped")]
    ResponseTooLarge {
        /// HTTP method.
        method: &'static str,
        /// URL of the request.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
}

fn summary(errors: &[ApiErrorItem], body: &str) -> String {
    if !errors.is_empty() {
        errors
            .iter()
            .map(|e| format!("{}: {}", e.error_code, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    } else if body.is_empty() {
        "(empty body)".to_owned()
    } else {
        body.to_owned()
    }
}

fn request_id_suffix(id: &Option<Box<str>>) -> String {
    id.as_ref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

fn status_suffix(status: &Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn usage_suffix(usage: &Option<ApiUsage>) -> String {
    usage
        .map(|u| format!("; last seen api-usage={}/{}", u.used, u.limit))
        .unwrap_or_default()
}

impl Error {
    /// Whether the condition is transient, per the reference's retry table (§7b):
    /// 500/502/503, `SERVER_UNAVAILABLE`, `UNABLE_TO_LOCK_ROW` and transport failures.
    ///
    /// Whether a *given request* may be repeated also depends on its idempotency;
    /// see [`Error::needs_idempotent_request`].
    pub fn is_retriable(&self) -> bool {
        match self {
            // 500/502/503, or a lock/availability code whatever the status.
            Error::Api { status, errors, .. } => {
                matches!(status, 500 | 502 | 503)
                    || errors.iter().any(|e| {
                        matches!(
                            e.error_code.as_str(),
                            "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE"
                        )
                    })
            }
            // No answer: the next attempt may get one.
            Error::Transport { .. } => true,
            // Only after the rolling 24 h window frees up: not a retry.
            Error::RequestLimitExceeded { .. } => false,
            // Already renewed once; credentials or configuration do not heal.
            Error::Auth { .. } | Error::Config(_) => false,
            // About one record or one request's content.
            Error::MultipleMatches { .. } | Error::Decode { .. } | Error::LimitViolation(_) => {
                false
            }
            // The same body would come again.
            Error::ResponseTooLarge { .. } => false,
        }
    }

    /// Whether the run cannot go on after this error: Salesforce refused us as a whole or
    /// is unreachable, so later calls would fail the same way. False for an error about
    /// one record or one request's content (validation, not found, a duplicate, a failed
    /// row), which the caller records and goes past. A `match` with no `_` arm, so a new
    /// variant forces a decision.
    pub fn stops_run(&self) -> bool {
        match self {
            Error::Api { status, errors, .. } => match status {
                // A 5xx reaches the caller only after it outlived its retries.
                500..=599 => true,
                // A 401 that is not an expired session (that one is renewed, then `Auth`).
                401 => true,
                // Permission refused for the whole API (`API_DISABLED_FOR_ORG`, a profile
                // without API access), except a sharing refusal on one record
                // (`INSUFFICIENT_ACCESS_OR_READONLY`, `…_ON_CROSS_REFERENCE_ENTITY`).
                403 => !errors
                    .iter()
                    .any(|e| e.error_code.starts_with("INSUFFICIENT_ACCESS")),
                // Validation (400), not found (404), a duplicate, a lock …: one request.
                _ => false,
            },
            // The daily request limit is exhausted: every further call is refused.
            Error::RequestLimitExceeded { .. } => true,
            // The token endpoint refused us, or the session stayed invalid after renewal.
            Error::Auth { .. } => true,
            // Misconfiguration: nothing will work.
            Error::Config(_) => true,
            // One upsert matched several records: fix that record's data.
            Error::MultipleMatches { .. } => false,
            // One answer (or one record of it) with an unexpected shape.
            Error::Decode { .. } => false,
            // Salesforce unreachable (DNS, refused, TLS, timeouts) after the retry budget.
            Error::Transport { .. } => true,
            // One call refused before sending (too many records for one request).
            Error::LimitViolation(_) => false,
            // A server (or something in between) sending endless or absurd bodies.
            Error::ResponseTooLarge { .. } => true,
        }
    }

    /// True when the failed request may have been applied by Salesforce (5xx, timeout,
    /// reset), so only an idempotent request may be repeated. False when Salesforce
    /// rejected it without applying it (`UNABLE_TO_LOCK_ROW`, connection refused).
    pub fn needs_idempotent_request(&self) -> bool {
        match self {
            Error::Api { errors, .. } => {
                !errors.iter().any(|e| e.error_code == "UNABLE_TO_LOCK_ROW")
            }
            Error::Transport { kind, .. } => *kind != TransportKind::Connect,
            Error::ResponseTooLarge { .. }
            | Error::RequestLimitExceeded { .. }
            | Error::Auth { .. }
            | Error::Config(_)
            | Error::MultipleMatches { .. }
            | Error::Decode { .. }
            | Error::LimitViolation(_) => true,
        }
    }

    /// The `errorCode`s of an [`Error::Api`], empty for other variants.
    pub fn error_codes(&self) -> Vec<&str> {
        match self {
            Error::Api { errors, .. } => errors.iter().map(|e| e.error_code.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// Builds the error for a non-success REST response.
    pub(crate) fn from_response(
        status: u16,
        method: &'static str,
        url: &str,
        body: &[u8],
        request_id: Option<Box<str>>,
        usage: Option<ApiUsage>,
    ) -> Error {
        let errors: Vec<ApiErrorItem> = serde_json::from_slice(body).unwrap_or_default();
        let body = truncate_body(body);
        if status == 403
            && errors
                .iter()
                .any(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED")
        {
            let message = errors
                .iter()
                .find(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED")
                .map(|e| e.message.clone())
                .unwrap_or_default();
            return Error::RequestLimitExceeded {
                method,
                url: url.to_owned(),
                message,
                usage,
            };
        }
        Error::Api {
            status,
            method,
            url: url.to_owned(),
            errors,
            request_id,
            body,
        }
    }
}

/// A body as text, cut to [`MAX_BODY_IN_ERROR`] bytes on a character boundary.
pub(crate) fn truncate_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX_BODY_IN_ERROR {
        return text.into_owned();
    }
    let mut end = MAX_BODY_IN_ERROR;
    while !text.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    format!(
        "{}… ({} bytes in all)",
        text.get(..end).unwrap_or_default(),
        body.len()
    )
}

/// Decodes a JSON body into `T`, naming the JSON path that failed.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(body: &[u8], url: &str) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        url: url.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Decodes an already parsed JSON value into `T`, naming the JSON path that failed.
pub(crate) fn decode_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    url: &str,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        url: url.to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}
