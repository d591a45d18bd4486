//! `Retry-After`, read the same way by both clients: only the form of its date differs
//! between the APIs, so each client passes its own date parser.

use std::time::Duration;

use time::OffsetDateTime;

/// The longest wait ever taken from a `Retry-After` header: 15 minutes. A larger value
/// (`1e20`, a date years ahead) is cut to this, so an absurd header cannot stall a run or
/// overflow a clock.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// Parses a `Retry-After` value: delta-seconds (whole or decimal), else a date read by
/// `date`, measured from `now`. A date in the past gives zero; a negative, NaN or
/// unreadable value gives `None`; anything longer than [`MAX_RETRY_AFTER`] is cut to it.
/// Never panics.
///
/// ```
/// use std::time::Duration;
/// use time::macros::datetime;
/// let now = datetime!(2015-10-21 07:28:00 UTC);
/// let never = |_: &str| None;
/// assert_eq!(api_transport::parse_retry_after("1.5", now, never), Some(Duration::from_millis(1500)));
/// assert_eq!(api_transport::parse_retry_after("1e20", now, never), Some(api_transport::MAX_RETRY_AFTER));
/// assert_eq!(api_transport::parse_retry_after("-1", now, never), None);
/// ```
pub fn parse_retry_after(
    value: &str,
    now: OffsetDateTime,
    date: impl FnOnce(&str) -> Option<OffsetDateTime>,
) -> Option<Duration> {
    let value = value.trim();
    let parsed = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = value.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        // `try_` so that 1e20 is "very long", not a panic.
        Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER)
    } else {
        let at = date(value)?;
        // Whole seconds (an HTTP date has no fraction); a date in the past is now.
        let secs = at.unix_timestamp().saturating_sub(now.unix_timestamp());
        u64::try_from(secs).map_or(Duration::ZERO, Duration::from_secs)
    };
    Some(parsed.min(MAX_RETRY_AFTER))
}
