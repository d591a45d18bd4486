//! Retry policy: how many attempts, how long to wait between them, and when to give up.
//!
//! The classifier is [`crate::Error::is_retriable`] plus the request's idempotency; the
//! caller that sleeps is the transport loop in `http.rs`. This module only computes.

use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;

/// The longest wait ever taken from a `Retry-After` header: 15 minutes
/// ([`api_transport::MAX_RETRY_AFTER`]); the policy's `max_delay` cuts it further.
pub const MAX_RETRY_AFTER: Duration = api_transport::MAX_RETRY_AFTER;

/// Bounds for retrying transient failures (5xx, `UNABLE_TO_LOCK_ROW`, transport errors).
///
/// Retries are bounded by **time**: no retry starts once its delay would end more than
/// `max_elapsed` (default 5 minutes) after the call's first attempt; `max_retries`
/// (default 100) is only a safety net. While no attempt of the call has had any answer
/// (DNS failure, connection refused, timeouts: Salesforce unreachable), the budget is
/// `max_elapsed_without_answer` (default 60 s), so an unreachable Salesforce stops the
/// run in about a minute; after such a call, the client's next calls make one attempt
/// each until one is answered. Over thousands of calls a streak of a few transient
/// failures is certain and must not stop a long run. All calls of one client also share
/// a run budget of retry waiting
/// ([`ClientBuilder::run_retry_budget`](crate::ClientBuilder::run_retry_budget), default
/// 30 minutes). A request that may have been applied (a create answered 5xx, timed out)
/// is never repeated unless it is idempotent, whatever the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Safety-net ceiling on retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Delay before the first retry; doubled on each further retry.
    pub base_delay: Duration,
    /// Cap on a single delay, including a server's `Retry-After`.
    pub max_delay: Duration,
    /// No retry is started once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// The same, while none of the call's attempts got an answer (default 60 s).
    pub max_elapsed_without_answer: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 100,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(300),
            max_elapsed_without_answer: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    ///
    /// ```
    /// let p = sfdc_client::RetryPolicy::none();
    /// assert_eq!(p.max_retries, 0);
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Delay before retry number `retry` (1-based): "equal jitter" exponential backoff,
    /// uniformly drawn from `[d/2, d]` where `d = min(base * 2^(retry-1), max_delay)`.
    /// A server-sent `retry_after` replaces the computed delay, still capped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rand::SeedableRng;
    /// let p = sfdc_client::RetryPolicy::default();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    /// let d = p.backoff(3, None, &mut rng);
    /// assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
    /// ```
    pub fn backoff(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exp = retry.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full.checked_div(2).unwrap_or(Duration::ZERO);
        let span = u64::try_from(full.saturating_sub(half).as_nanos()).unwrap_or(u64::MAX);
        half.saturating_add(Duration::from_nanos(rng.gen_range(0..=span)))
    }

    /// Whether retry number `retry` (1-based) may start after `elapsed` plus a `delay`.
    pub fn allows(&self, retry: u32, elapsed: Duration, delay: Duration) -> bool {
        retry <= self.max_retries && elapsed.saturating_add(delay) <= self.max_elapsed
    }
}

/// Parses a `Retry-After` value (delta-seconds, whole or decimal, or an HTTP-date)
/// relative to `now`. A date in the past gives zero; a negative, NaN or unreadable value
/// gives `None`; anything longer than [`MAX_RETRY_AFTER`] (15 minutes) is cut to it.
/// Never panics.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// let now = datetime!(2015-10-21 07:27:00 UTC);
/// assert_eq!(sfdc_client::parse_retry_after("5", now), Some(Duration::from_secs(5)));
/// assert_eq!(
///     sfdc_client::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
///     Some(Duration::from_secs(60))
/// );
/// ```
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    api_transport::parse_retry_after(value, now, |date| {
        OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822).ok()
    })
}
