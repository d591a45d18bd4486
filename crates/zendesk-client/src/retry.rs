//! Retries, split as in vector: a classifier (is this answer worth repeating, given how
//! safe the request is to repeat?), a policy (attempts, backoff, caps), and the caller
//! (`Client::execute`) that sleeps. `Retry-After` is parsed by a function taking `now`.

use rand::Rng;
use std::time::Duration;
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime};

/// How safe a request is to send twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Reads and idempotent updates: repeat on transport errors and 5xx.
    Idempotent,
    /// Creates and other writes: repeat only when Zendesk says it did nothing (429, or a
    /// connection that never opened); a lost answer surfaces as `WriteOutcomeUnknown`.
    Write,
}

/// What to do with one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Success: hand the body to the caller.
    Done,
    /// Throttled: wait (the server's `Retry-After` if sent) and repeat.
    Throttled(Option<Duration>),
    /// A server fault on a request safe to repeat.
    ServerFault,
    /// A server fault on a write: it may have been applied.
    OutcomeUnknown,
    /// A final error answer.
    Fail,
}

/// Classifies an HTTP status for a request of the given safety.
pub(crate) fn classify(status: u16, safety: Safety, retry_after: Option<Duration>) -> Verdict {
    match status {
        200..=299 => Verdict::Done,
        429 => Verdict::Throttled(retry_after),
        // 503 is maintenance, answered like a 429 (Ruby client); still a write may have
        // been accepted, so only reads treat it as throttling.
        503 if safety == Safety::Idempotent => Verdict::Throttled(retry_after),
        500..=599 => match safety {
            Safety::Idempotent => Verdict::ServerFault,
            Safety::Write => Verdict::OutcomeUnknown,
        },
        _ => Verdict::Fail,
    }
}

/// The longest wait ever taken from a `Retry-After` header: 15 minutes
/// ([`api_transport::MAX_RETRY_AFTER`]). A larger value (or `1e20`, or a date years
/// ahead) is cut to this, so an absurd header cannot stall a run or overflow a clock.
pub const MAX_RETRY_AFTER: Duration = api_transport::MAX_RETRY_AFTER;

/// How a call is retried. Retries are bounded by **time**, not by a streak of failures:
/// over thousands of calls under a few percent of 429s, 5xx and dropped connections, six
/// failures in a row somewhere is certain, and must not stop a long run.
///
/// - a 429 (or a 503 on a read) is waited out as its `Retry-After` says (capped by
///   `max_retry_after`, 2 minutes, itself never above [`MAX_RETRY_AFTER`]), or `default_retry_after`
///   when it sends none; on repeated 429s at least the exponential backoff;
/// - transient errors (transport failures, 5xx on requests safe to repeat) back off
///   exponentially from `base_backoff` up to `max_backoff`, with jitter;
/// - one call gives up when the next wait would end more than `max_elapsed` after its
///   first attempt (default 5 minutes), or after `max_attempts` attempts (a safety net,
///   default 100);
/// - while no attempt of the call has had any answer (DNS failure, connection refused,
///   timeouts: Zendesk unreachable), the budget is `max_elapsed_without_answer` (default
///   60 s), so an unreachable or silent Zendesk stops the run in about a minute; after
///   such a call, the client's next calls make one attempt each until one is answered;
/// - all calls of one client share a run budget of retry waiting (see
///   [`ClientBuilder::run_retry_budget`](crate::ClientBuilder::run_retry_budget), default
///   30 minutes).
///
/// A create is never resent blindly whatever the budget: a write is repeated only when
/// Zendesk says it did nothing (429, a connection that never opened, a job-limit refusal).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Safety-net ceiling on attempts of one call, the first included (default 100).
    pub max_attempts: u32,
    /// Backoff before the first repeat.
    pub base_backoff: Duration,
    /// Longest backoff between attempts.
    pub max_backoff: Duration,
    /// Longest wait honoured from `Retry-After` (default 2 minutes, above the longest
    /// value seen from Zendesk, 93 s, and well inside the call budget; a longer one is
    /// waited in steps of this, each ending with one more request; values above
    /// [`MAX_RETRY_AFTER`] are cut to it in any case).
    pub max_retry_after: Duration,
    /// Wait after a 429 without `Retry-After`.
    pub default_retry_after: Duration,
    /// Add up to 20 % random jitter to computed backoffs (not to `Retry-After`).
    pub jitter: bool,
    /// Time budget of one call: no retry starts if its wait would end later than this
    /// after the call's first attempt (default 5 minutes).
    pub max_elapsed: Duration,
    /// Time budget of one call while none of its attempts got an answer (default 60 s).
    pub max_elapsed_without_answer: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 100,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            default_retry_after: Duration::from_secs(10),
            jitter: true,
            max_elapsed: Duration::from_secs(300),
            max_elapsed_without_answer: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff before repeat number `attempt` (1 = the first repeat).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        let raw = self.base_backoff.saturating_mul(1u32 << exp);
        let capped = raw.min(self.max_backoff);
        if self.jitter {
            let extra: f64 = rand::thread_rng().gen_range(0.0..0.2);
            Duration::try_from_secs_f64(capped.as_secs_f64() * (1.0 + extra)).unwrap_or(capped)
        } else {
            capped
        }
    }

    /// The wait after a 429 on repeat `attempt`: exactly `Retry-After` the first time;
    /// on repeated 429s at least the exponential backoff too (one `Retry-After: 1` is
    /// not always enough); never more than `max_retry_after` nor [`MAX_RETRY_AFTER`].
    pub fn throttle_wait(&self, retry_after: Option<Duration>, attempt: u32) -> Duration {
        let asked = retry_after.unwrap_or(self.default_retry_after);
        let wait = if attempt <= 1 {
            asked
        } else {
            asked.max(self.backoff(attempt))
        };
        wait.min(self.max_retry_after).min(MAX_RETRY_AFTER)
    }

    /// Whether a retry whose wait is `wait` may start, `elapsed` after the call's first
    /// attempt, as attempt number `next_attempt` (2 = the first repeat).
    pub fn allows(&self, next_attempt: u32, elapsed: Duration, wait: Duration) -> bool {
        next_attempt <= self.max_attempts && elapsed.saturating_add(wait) <= self.max_elapsed
    }
}

const HTTP_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Parses a `Retry-After` value: integer or decimal seconds (what Zendesk sends) or an
/// HTTP date, measured from `now`. A date in the past is zero; a negative, NaN or
/// unreadable value is `None`; anything longer than [`MAX_RETRY_AFTER`] (15 minutes) is
/// cut to it. Never panics.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// let now = datetime!(2015-10-21 07:28:00 UTC);
/// assert_eq!(zendesk_client::parse_retry_after("93", now), Some(Duration::from_secs(93)));
/// assert_eq!(
///     zendesk_client::parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
///     Some(Duration::from_secs(30))
/// );
/// assert_eq!(
///     zendesk_client::parse_retry_after("1e20", now),
///     Some(zendesk_client::MAX_RETRY_AFTER)
/// );
/// ```
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    api_transport::parse_retry_after(value, now, |date| {
        time::PrimitiveDateTime::parse(date, HTTP_DATE)
            .ok()
            .map(time::PrimitiveDateTime::assume_utc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn classify_by_safety() {
        assert_eq!(classify(200, Safety::Write, None), Verdict::Done);
        assert_eq!(
            classify(429, Safety::Write, Some(Duration::from_secs(3))),
            Verdict::Throttled(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            classify(503, Safety::Idempotent, None),
            Verdict::Throttled(None)
        );
        assert_eq!(classify(503, Safety::Write, None), Verdict::OutcomeUnknown);
        assert_eq!(
            classify(500, Safety::Idempotent, None),
            Verdict::ServerFault
        );
        assert_eq!(classify(502, Safety::Write, None), Verdict::OutcomeUnknown);
        assert_eq!(classify(422, Safety::Idempotent, None), Verdict::Fail);
    }

    #[test]
    fn retry_after_forms() {
        let now = datetime!(2026-01-01 00:00:00 UTC);
        assert_eq!(parse_retry_after(" 1 ", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:10 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("-0.5", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("inf", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("1e20", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("1e400", now), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(3), Duration::from_secs(4));
        assert_eq!(p.backoff(10), Duration::from_secs(30));
        assert_eq!(
            p.throttle_wait(Some(Duration::from_secs(7)), 1),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.throttle_wait(Some(Duration::from_secs(1)), 4),
            Duration::from_secs(8)
        );
        assert_eq!(
            p.throttle_wait(Some(Duration::from_secs(9999)), 1),
            Duration::from_secs(120)
        );
        assert_eq!(p.throttle_wait(None, 1), Duration::from_secs(10));
    }
}
