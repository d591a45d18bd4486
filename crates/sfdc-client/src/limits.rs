//! API usage accounting: the `Sforce-Limit-Info` header (reference §7.4) and a
//! per-kind counter of every HTTP request this client sent, for run reports.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Org-wide API usage as reported by `Sforce-Limit-Info: api-usage=N/M`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ApiUsage {
    /// Requests used in the rolling 24-hour window.
    pub used: u64,
    /// The org's daily limit.
    pub limit: u64,
}

impl ApiUsage {
    /// Usage as a percentage of the limit (0 when the limit is 0).
    pub fn percent(&self) -> f64 {
        if self.limit == 0 {
            0.0
        } else {
            self.used as f64 * 100.0 / self.limit as f64
        }
    }
}

/// Parses a `Sforce-Limit-Info` value such as `api-usage=16/100000` or
/// `api-usage=18/5000; per-app-api-usage=17/250(appName=sample)`. Only the org-wide
/// `api-usage` part is read; `per-app-api-usage` is ignored.
///
/// ```
/// use sfdc_client::{parse_limit_info, ApiUsage};
/// assert_eq!(parse_limit_info("api-usage=16/100000"), Some(ApiUsage { used: 16, limit: 100000 }));
/// assert_eq!(parse_limit_info("garbage"), None);
/// ```
pub fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    value.split([';', ',']).find_map(|part| {
        let rest = part.trim().strip_prefix("api-usage=")?;
        let (used, limit) = rest.split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            limit: limit.trim().parse().ok()?,
        })
    })
}

/// The kind of a request, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// `POST /services/oauth2/token`.
    Auth,
    /// First page of `query` / `queryAll`.
    Query,
    /// A `nextRecordsUrl` page (top level or child relationship).
    QueryMore,
    /// `POST /sobjects/{type}`.
    Create,
    /// `GET /sobjects/{type}/{id}`.
    Get,
    /// `PATCH /sobjects/{type}/{id}`.
    Update,
    /// `PATCH /sobjects/{type}/{field}/{value}`.
    Upsert,
    /// `DELETE /sobjects/{type}/{id}`.
    Delete,
    /// `POST`/`PATCH /composite/sobjects`.
    Collections,
}

impl RequestKind {
    const ALL: [RequestKind; 9] = [
        RequestKind::Auth,
        RequestKind::Query,
        RequestKind::QueryMore,
        RequestKind::Create,
        RequestKind::Get,
        RequestKind::Update,
        RequestKind::Upsert,
        RequestKind::Delete,
        RequestKind::Collections,
    ];

    /// A stable snake_case name for reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            RequestKind::Auth => "auth",
            RequestKind::Query => "query",
            RequestKind::QueryMore => "query_more",
            RequestKind::Create => "create",
            RequestKind::Get => "get",
            RequestKind::Update => "update",
            RequestKind::Upsert => "upsert",
            RequestKind::Delete => "delete",
            RequestKind::Collections => "collections",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Shared usage state: counters and the latest `Sforce-Limit-Info`.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    counts: [AtomicU64; RequestKind::ALL.len()],
    latest: Mutex<Option<ApiUsage>>,
    warned: AtomicBool,
}

impl Usage {
    pub(crate) fn count(&self, kind: RequestKind) {
        if let Some(c) = self.counts.get(kind.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every kind with its count (kinds never used are included with 0).
    pub(crate) fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        RequestKind::ALL
            .iter()
            .map(|k| {
                let n = self
                    .counts
                    .get(k.index())
                    .map_or(0, |c| c.load(Ordering::Relaxed));
                (k.as_str(), n)
            })
            .collect()
    }

    /// Whether the 80 % warning was given (it is given once per client).
    pub(crate) fn warned(&self) -> bool {
        self.warned.load(Ordering::Relaxed)
    }

    pub(crate) fn latest(&self) -> Option<ApiUsage> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a header value; warns once when usage first passes 80 %.
    pub(crate) fn record_header(&self, value: &str) {
        let Some(usage) = parse_limit_info(value) else {
            tracing::debug!(value, "unparsable Sforce-Limit-Info header");
            return;
        };
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(usage);
        if usage.percent() > 80.0 && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                used = usage.used,
                limit = usage.limit,
                "Salesforce daily API usage is above 80 % ({:.1} %)",
                usage.percent()
            );
        }
    }
}
