//! The crate's one error type, and the lenient parser of Zendesk's error bodies: the
//! legacy `{error, description, details}` envelope, the newer `{errors:[{code,title,detail}]}`
//! envelope, and plain text (see the reference, §10).

use crate::decode::truncate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Everything that can go wrong talking to Zendesk or verifying one of its webhooks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An HTTP error answer not covered by a more specific variant.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// 401: the credentials were refused.
    #[error("authentication refused: {0}")]
    Unauthorized(Box<ApiError>),
    /// 403: the credentials lack a permission.
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiError>),
    /// Bulk user import is switched off on this account, so users must be created one by
    /// one (`users/create_or_update`). **The client never returns this any more**: the body
    /// of a 403 on a bulk user endpoint is [UNCONFIRMED] and a 403 can as well be a missing
    /// permission, so every 403 is [`Error::Forbidden`] with its body. The variant stays for
    /// callers that have *confirmed* it (e.g. one single `create_or_update` went through).
    #[error("bulk user import is disabled on this account: {0}")]
    BulkImportDisabled(Box<ApiError>),
    /// 404 `RecordNotFound`.
    #[error("not found: {0}")]
    NotFound(Box<ApiError>),
    /// 422 with a `DuplicateValue` detail: the record (e.g. a user's email) already exists.
    #[error("duplicate value: {0}")]
    DuplicateValue(Box<ApiError>),
    /// 400 `TooManyValues`: more ids or records than the endpoint takes.
    #[error("too many values: {0}")]
    TooManyValues(Box<ApiError>),
    /// 409: a safe update whose `updated_stamp` no longer matches; re-read and retry.
    #[error("stale update: {0}")]
    StaleUpdate(Box<ApiError>),
    /// 429 (or 503 on a read) answered until the call's retry time budget (or the
    /// client's run budget, or the attempt ceiling) was spent.
    #[error("rate limited (HTTP 429/503) on {method} {url}: gave up after {attempts} attempts within the retry budget (last Retry-After: {retry_after:?})")]
    RateLimited {
        /// HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The last `Retry-After`, if one was sent.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },
    /// The request failed without an answer (after its retries) and nothing was applied
    /// (or it was a read). `message` starts with the cause and the host: `DNS failure
    /// for …`, `connection refused by …`, `timed out talking to …`, `TLS failure with …`,
    /// `connection reset by …`.
    #[error("transport error on {method} {url}: {message}")]
    Transport {
        /// HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// What failed: the cause, the host, then the chain of underlying errors.
        message: String,
    },
    /// A bulk job was refused because the account's job limit (30 queued or running jobs)
    /// is reached, answered in a form other than a plain 429 (the answer past the limit is
    /// [UNCONFIRMED]: a `TooManyJobs` code or words like "job limit" on a 4xx/5xx), and it
    /// stayed so for the whole retry budget. Nothing was applied: wait for a slot and
    /// submit again. A plain 429 on a bulk endpoint is [`Error::RateLimited`]; both
    /// answer [`Error::is_job_limit`].
    #[error("job limit reached, try later: {0}")]
    JobLimit(Box<ApiError>),
    /// An answer's body was larger than the client's size cap
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)),
    /// e.g. a server streaming an endless body. Reading stopped at the cap.
    #[error("the answer of {method} {url} is larger than {limit} bytes; reading stopped")]
    ResponseTooLarge {
        /// HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// A write was sent but its answer was lost (dropped connection, timeout or 5xx): it
    /// may or may not have been applied. Re-read what it touched; never resend blindly.
    #[error("outcome of {method} {url} unknown, re-read before resending: {message}")]
    WriteOutcomeUnknown {
        /// HTTP method.
        method: String,
        /// The URL requested.
        url: String,
        /// What was seen instead of an answer.
        message: String,
    },
    /// A success body did not have the documented shape.
    #[error("cannot decode the answer of {url} at `{path}`: {message}; body: {body}")]
    Decode {
        /// The URL requested.
        url: String,
        /// The JSON path that failed, e.g. `organizations[3].id`.
        path: String,
        /// The decoder's message.
        message: String,
        /// The body, truncated.
        body: String,
    },
    /// Refused before sending: a bulk call with more items than one job takes.
    #[error("{got} items given but one call takes at most {max}")]
    TooManyItems {
        /// The endpoint's maximum.
        max: usize,
        /// The number given.
        got: usize,
    },
    /// A bad builder setting (URL, subdomain, credentials).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// An argument the API cannot take, refused before sending (e.g. a quote in an email
    /// to search for).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A webhook delivery failed signature verification.
    #[error("webhook signature rejected: {0}")]
    Signature(SignatureFailure),
}

impl Error {
    /// Whether the same call could succeed if made again later. A `match` with no `_` arm,
    /// so a new variant forces a decision.
    pub fn is_retriable(&self) -> bool {
        match self {
            // A 5xx: Zendesk may answer later; another 4xx will be refused again.
            Error::Api(e) => e.status >= 500,
            // Throttling, the job limit, lost connections: later, the call can succeed.
            Error::RateLimited { .. } | Error::Transport { .. } | Error::JobLimit(_) => true,
            // Re-read, then the same update can go through.
            Error::StaleUpdate(_) => true,
            // The same body would come again.
            Error::ResponseTooLarge { .. } => false,
            // Credentials or permissions: repeating changes nothing.
            Error::Unauthorized(_) | Error::Forbidden(_) | Error::BulkImportDisabled(_) => false,
            // About one record or one request's content.
            Error::NotFound(_)
            | Error::DuplicateValue(_)
            | Error::TooManyValues(_)
            | Error::TooManyItems { .. }
            | Error::Decode { .. }
            | Error::InvalidInput(_) => false,
            // May have been applied: re-read, never resend blindly.
            Error::WriteOutcomeUnknown { .. } => false,
            // Misconfiguration; a refused webhook delivery.
            Error::Config(_) | Error::Signature(_) => false,
        }
    }

    /// Whether the run cannot go on after this error: the API refused us as a whole or is
    /// unreachable, so later calls would fail the same way. False for an error about one
    /// record or one request's content, which the caller records and goes past. A `match`
    /// with no `_` arm, so a new variant forces a decision.
    pub fn stops_run(&self) -> bool {
        match self {
            // A 5xx reaches the caller only after it outlived its retries (reads), so
            // Zendesk is down for us; another 4xx (400, 413, 422 …) is about this request.
            Error::Api(e) => e.status >= 500,
            // 401: the credentials were refused (Zendesk has no token renewal).
            Error::Unauthorized(_) => true,
            // 403: the credentials lack a permission the run needs. (A 403 on a bulk user
            // endpoint may also mean bulk import is off: the job layer probes that before
            // asking this.)
            Error::Forbidden(_) => true,
            // Confirmed by the caller: the one-by-one fallback runs instead.
            Error::BulkImportDisabled(_) => false,
            // One record: gone, a duplicate, a stale update.
            Error::NotFound(_) | Error::DuplicateValue(_) | Error::StaleUpdate(_) => false,
            // One request's size, refused by Zendesk or before sending.
            Error::TooManyValues(_) | Error::TooManyItems { .. } => false,
            // The retry time budget is spent on throttling or the job limit.
            Error::RateLimited { .. } | Error::JobLimit(_) => true,
            // Zendesk unreachable (DNS, refused, TLS, timeouts) after the retry budget.
            Error::Transport { .. } => true,
            // One write whose answer was lost: re-read what it touched.
            Error::WriteOutcomeUnknown { .. } => false,
            // One answer that did not have the documented shape.
            Error::Decode { .. } => false,
            // A server (or something in between) sending endless or absurd bodies.
            Error::ResponseTooLarge { .. } => true,
            // Misconfiguration: nothing will work.
            Error::Config(_) => true,
            // One argument refused before sending; one webhook delivery refused.
            Error::InvalidInput(_) | Error::Signature(_) => false,
        }
    }

    /// Whether this is Zendesk saying "not now": a 429/503 that outlived the retry budget,
    /// or a job-limit refusal. The caller should wait (for a job slot) and try again.
    pub fn is_throttled(&self) -> bool {
        matches!(self, Error::RateLimited { .. } | Error::JobLimit(_))
    }

    /// Whether a bulk submit was refused at the account's job limit, in any form seen as
    /// plausible: a job-limit answer ([`Error::JobLimit`]) or a 429 on a bulk endpoint
    /// (`create_many`, `update_many`, `destroy_many`, `create_or_update_many`), with or
    /// without `Retry-After`. Nothing was applied; wait for a slot.
    pub fn is_job_limit(&self) -> bool {
        match self {
            Error::JobLimit(_) => true,
            Error::RateLimited { url, .. } => is_bulk_url(url),
            _ => false,
        }
    }

    /// The HTTP status Zendesk answered, when it answered with an error.
    pub fn status(&self) -> Option<u16> {
        self.api_error().map(|e| e.status)
    }

    /// The API error behind this error, when Zendesk answered.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e)
            | Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::BulkImportDisabled(e)
            | Error::NotFound(e)
            | Error::DuplicateValue(e)
            | Error::TooManyValues(e)
            | Error::StaleUpdate(e)
            | Error::JobLimit(e) => Some(e),
            Error::RateLimited { .. }
            | Error::ResponseTooLarge { .. }
            | Error::Transport { .. }
            | Error::WriteOutcomeUnknown { .. }
            | Error::Decode { .. }
            | Error::TooManyItems { .. }
            | Error::Config(_)
            | Error::InvalidInput(_)
            | Error::Signature(_) => None,
        }
    }

    /// Sorts an error answer into its variant by status and code.
    pub(crate) fn from_api(e: ApiError) -> Self {
        let e = Box::new(e);
        match e.status {
            401 => Error::Unauthorized(e),
            403 => Error::Forbidden(e),
            404 => Error::NotFound(e),
            409 => Error::StaleUpdate(e),
            400 if e.code.as_deref() == Some("TooManyValues") => Error::TooManyValues(e),
            422 if e.has_field_code("DuplicateValue") => Error::DuplicateValue(e),
            _ => Error::Api(e),
        }
    }
}

/// Whether `url` is one of the bulk job endpoints.
pub(crate) fn is_bulk_url(url: &str) -> bool {
    let path = url.split('?').next().unwrap_or(url);
    [
        "create_many",
        "update_many",
        "destroy_many",
        "create_or_update_many",
    ]
    .iter()
    .any(|ep| path.ends_with(&format!("/{ep}.json")) || path.ends_with(&format!("/{ep}")))
}

/// Whether an error answer reads as "the job limit is reached" in any wording plausible
/// for it (the real answer is [UNCONFIRMED]): a code such as `TooManyJobs`, or words such
/// as "job limit", "too many jobs", "jobs queued".
pub(crate) fn mentions_job_limit(e: &ApiError) -> bool {
    let code = e.code.as_deref().unwrap_or("").to_ascii_lowercase();
    if code.contains("toomanyjobs") || code.contains("joblimit") {
        return true;
    }
    let text = format!("{} {}", e.message, e.body).to_ascii_lowercase();
    [
        "job limit",
        "jobs limit",
        "too many jobs",
        "toomanyjobs",
        "jobs queued",
        "queued jobs",
        "concurrent jobs",
        "jobs running",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Why a webhook signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureFailure {
    /// The signature header is absent or empty.
    MissingSignature,
    /// The timestamp header is absent or empty.
    MissingTimestamp,
    /// The signature is not valid base64.
    BadBase64,
    /// The timestamp is neither ISO-8601 nor unix seconds.
    BadTimestamp(String),
    /// The HMAC does not match (wrong secret or altered body or timestamp).
    Mismatch,
    /// The timestamp is further from now than the allowed age.
    Stale {
        /// How far the timestamp is from now, in seconds.
        age_secs: i64,
        /// The allowed maximum, in seconds.
        max_age_secs: i64,
    },
}

impl fmt::Display for SignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSignature => f.write_str("missing X-Zendesk-Webhook-Signature"),
            Self::MissingTimestamp => f.write_str("missing X-Zendesk-Webhook-Signature-Timestamp"),
            Self::BadBase64 => f.write_str("signature is not valid base64"),
            Self::BadTimestamp(t) => write!(f, "unreadable timestamp {t:?}"),
            Self::Mismatch => f.write_str("signature does not match"),
            Self::Stale {
                age_secs,
                max_age_secs,
            } => write!(
                f,
                "timestamp is {age_secs}s from now, more than {max_age_secs}s"
            ),
        }
    }
}

/// One error answer from Zendesk, with what a person needs to chase it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// HTTP method.
    pub method: String,
    /// The URL requested.
    pub url: String,
    /// `x-request-id` or `x-zendesk-request-id`, if sent.
    pub request_id: Option<String>,
    /// The error code: legacy `error` (e.g. `RecordNotFound`) or the first `errors[].code`.
    pub code: Option<String>,
    /// The human message: `description`, `title`/`detail`, or the plain-text body.
    pub message: String,
    /// Per-field validation errors from legacy `details`.
    pub field_errors: Vec<FieldError>,
    /// The body, truncated.
    pub body: String,
}

/// One per-field validation error, e.g. `email` / `DuplicateValue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, e.g. `email` or `name`.
    pub field: String,
    /// The inner code, e.g. `DuplicateValue` (can be absent).
    pub code: Option<String>,
    /// Zendesk's description, e.g. `Email: x@y.com is already being used by another user`.
    pub description: String,
}

impl ApiError {
    /// Builds the error from an answer's parts, parsing the body leniently.
    pub(crate) fn parse(
        status: u16,
        method: &str,
        url: &str,
        request_id: Option<String>,
        body: &[u8],
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let (code, message, field_errors) = parse_body(&text);
        ApiError {
            status,
            method: method.to_owned(),
            url: url.to_owned(),
            request_id,
            code,
            message,
            field_errors,
            body: truncate(&text),
        }
    }

    /// Whether any field error carries this inner code (e.g. `DuplicateValue`).
    pub fn has_field_code(&self, code: &str) -> bool {
        self.field_errors
            .iter()
            .any(|f| f.code.as_deref() == Some(code))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} on {} {}", self.status, self.method, self.url)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        for fe in &self.field_errors {
            write!(f, "; {}: {}", fe.field, fe.description)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        write!(f, "; body: {}", self.body)
    }
}

/// The legacy envelope: `{"error": …, "description": …, "details": …}`.
#[derive(Deserialize)]
struct LegacyBody {
    error: LegacyError,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    details: Option<Details>,
}

/// `error` is a code string, or an object on newer APIs.
#[derive(Deserialize)]
#[serde(untagged)]
enum LegacyError {
    Code(String),
    Object {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
}

/// `details` is normally `{field: [{description, error?}]}`; anything else is ignored.
#[derive(Deserialize)]
#[serde(untagged)]
enum Details {
    Fields(BTreeMap<String, Vec<DetailEntry>>),
    Other(#[allow(dead_code)] serde::de::IgnoredAny),
}

/// One entry under a `details` field: normally `{description, error?}`; some answers (and
/// mocks of them) give the message as a bare string, which is kept as the description.
#[derive(Deserialize)]
#[serde(untagged)]
enum DetailEntry {
    Object {
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        error: Option<String>,
    },
    Text(String),
}

/// The newer envelope: `{"errors": [{"code", "title", "detail"}]}`.
#[derive(Deserialize)]
struct ErrorsBody {
    errors: Vec<ErrorsEntry>,
}

#[derive(Deserialize)]
struct ErrorsEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Reads code, message and field errors out of any error body; never fails.
fn parse_body(text: &str) -> (Option<String>, String, Vec<FieldError>) {
    if let Ok(b) = serde_json::from_str::<LegacyBody>(text) {
        let (code, title) = match b.error {
            LegacyError::Code(c) => (Some(c), None),
            LegacyError::Object { title, message } => (title, message),
        };
        let fields = match b.details {
            Some(Details::Fields(map)) => map
                .into_iter()
                .flat_map(|(field, entries)| {
                    entries.into_iter().map(move |e| match e {
                        DetailEntry::Object { description, error } => FieldError {
                            field: field.clone(),
                            code: error,
                            description: description.unwrap_or_default(),
                        },
                        DetailEntry::Text(description) => FieldError {
                            field: field.clone(),
                            code: None,
                            description,
                        },
                    })
                })
                .collect(),
            Some(Details::Other(_)) | None => Vec::new(),
        };
        let message = b.description.or(title).unwrap_or_default();
        return (code, message, fields);
    }
    if let Ok(b) = serde_json::from_str::<ErrorsBody>(text) {
        let code = b.errors.first().and_then(|e| e.code.clone());
        let message = b
            .errors
            .iter()
            .map(|e| match (&e.title, &e.detail) {
                (Some(t), Some(d)) => format!("{t}: {d}"),
                (Some(t), None) => t.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => e.code.clone().unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join("; ");
        return (code, message, Vec::new());
    }
    (None, truncate(text.trim()), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> ApiError {
        ApiError::parse(status, "GET", "http://z/api/v2/x", None, body.as_bytes())
    }

    #[test]
    fn legacy_error_object_form() {
        let e = parse(
            404,
            r#"{"error":{"title":"Not Found","message":"No such thing"}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("Not Found"));
        assert_eq!(e.message, "No such thing");
    }

    #[test]
    fn bare_string_details_keep_their_message() {
        let e = parse(
            422,
            r#"{"error":"RecordInvalid","description":"Record validation errors","details":{"name":["Name: has already been taken"]}}"#,
        );
        assert_eq!(
            e.field_errors,
            vec![FieldError {
                field: "name".into(),
                code: None,
                description: "Name: has already been taken".into()
            }]
        );
        assert!(e.to_string().contains("name: Name: has already been taken"));
    }

    #[test]
    fn odd_details_do_not_break_parsing() {
        let e = parse(
            422,
            r#"{"error":"RecordInvalid","description":"x","details":"text"}"#,
        );
        assert_eq!(e.code.as_deref(), Some("RecordInvalid"));
        assert!(e.field_errors.is_empty());
    }

    #[test]
    fn stops_run_classification() {
        let run_stoppers = [
            Error::from_api(parse(401, "{}")),
            Error::from_api(parse(403, r#"{"error":"Forbidden"}"#)),
            Error::from_api(parse(500, "oops")),
            Error::from_api(parse(503, "down")),
            Error::RateLimited {
                method: "GET".into(),
                url: "u".into(),
                retry_after: None,
                attempts: 9,
            },
            Error::Transport {
                method: "GET".into(),
                url: "u".into(),
                message: "connection refused by z:443".into(),
            },
            Error::Config("x".into()),
        ];
        for e in &run_stoppers {
            assert!(e.stops_run(), "{e}");
        }
        let record_errors = [
            Error::from_api(parse(404, r#"{"error":"RecordNotFound"}"#)),
            Error::from_api(parse(
                422,
                r#"{"error":"RecordInvalid","details":{"email":[{"error":"DuplicateValue","description":"taken"}]}}"#,
            )),
            Error::from_api(parse(422, r#"{"error":"RecordInvalid"}"#)),
            Error::from_api(parse(400, r#"{"error":"TooManyValues"}"#)),
            Error::from_api(parse(409, "{}")),
            Error::WriteOutcomeUnknown {
                method: "POST".into(),
                url: "u".into(),
                message: "m".into(),
            },
            Error::InvalidInput("x".into()),
            Error::TooManyItems { max: 100, got: 101 },
        ];
        for e in &record_errors {
            assert!(!e.stops_run(), "{e}");
        }
    }

    #[test]
    fn job_limit_wordings_and_bulk_urls() {
        assert!(mentions_job_limit(&parse(
            400,
            r#"{"error":"TooManyJobs"}"#
        )));
        assert!(mentions_job_limit(&parse(429, "Too many jobs queued")));
        assert!(mentions_job_limit(&parse(403, "job limit reached")));
        assert!(!mentions_job_limit(&parse(
            403,
            r#"{"error":"Forbidden","message":"Data imports are not enabled"}"#
        )));
        assert!(is_bulk_url(
            "http://z/api/v2/users/create_or_update_many.json"
        ));
        assert!(is_bulk_url(
            "http://z/api/v2/organizations/destroy_many.json?ids=1,2"
        ));
        assert!(!is_bulk_url("http://z/api/v2/organizations/1.json"));
    }

    #[test]
    fn retriable_classification() {
        assert!(Error::from_api(parse(500, "oops")).is_retriable());
        assert!(!Error::from_api(parse(422, "{}")).is_retriable());
        assert!(!Error::Config("x".into()).is_retriable());
    }
}
