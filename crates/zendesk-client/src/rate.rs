//! Reading Zendesk's rate-limit headers to slow down before hitting the wall (reference §9):
//! `x-rate-limit` / `x-rate-limit-remaining` on every answer, `ratelimit-remaining` /
//! `ratelimit-reset` on some list endpoints.

use reqwest::header::HeaderMap;
use std::time::Duration;

/// The rate-limit state one answer reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateHeaders {
    /// Requests allowed per window (`x-rate-limit` or `ratelimit-limit`).
    pub limit: Option<u32>,
    /// Requests left in the window (the lower of the two headers when both are sent).
    pub remaining: Option<u32>,
    /// Seconds until the window resets (`ratelimit-reset`).
    pub reset_secs: Option<u64>,
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl RateHeaders {
    /// Reads the headers; absent or unreadable values are `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let to_u32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let limit = header_u64(headers, "x-rate-limit")
            .or_else(|| header_u64(headers, "ratelimit-limit"))
            .map(to_u32);
        let remaining = [
            header_u64(headers, "x-rate-limit-remaining"),
            header_u64(headers, "ratelimit-remaining"),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(to_u32);
        RateHeaders {
            limit,
            remaining,
            reset_secs: header_u64(headers, "ratelimit-reset"),
        }
    }

    /// How long to pause before the next request so the remaining budget lasts. Nothing
    /// while more than a tenth of the limit is left; below that, spread what is left over
    /// the time to reset (or pace at one request per `60 s / limit` when no reset is sent);
    /// with nothing left, wait for the reset (or one pacing step). Capped at 60 s.
    pub fn pacing_delay(&self) -> Option<Duration> {
        let remaining = self.remaining?;
        let limit = self.limit.unwrap_or(0);
        let low_water = (limit / 10).max(1);
        if remaining >= low_water && limit > 0 {
            return None;
        }
        if remaining > 0 && limit == 0 {
            return None;
        }
        let delay = match (self.reset_secs, limit) {
            (Some(reset), _) => Duration::from_secs(reset)
                .checked_div(remaining.saturating_add(1))
                .unwrap_or(Duration::ZERO),
            // No reset and no limit: `checked_div` by 0 gives the 1 s.
            (None, limit) => Duration::from_secs(60)
                .checked_div(limit)
                .unwrap_or(Duration::from_secs(1)),
        };
        Some(delay.min(Duration::from_secs(60)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn plenty_left_means_no_pause() {
        let r = RateHeaders::from_headers(&headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "681"),
        ]));
        assert_eq!(r.limit, Some(700));
        assert_eq!(r.remaining, Some(681));
        assert_eq!(r.pacing_delay(), None);
    }

    #[test]
    fn low_budget_is_spread_over_the_reset_window() {
        let r = RateHeaders::from_headers(&headers(&[
            ("x-rate-limit", "700"),
            ("x-rate-limit-remaining", "650"),
            ("ratelimit-remaining", "9"),
            ("ratelimit-reset", "40"),
        ]));
        assert_eq!(r.remaining, Some(9));
        assert_eq!(r.pacing_delay(), Some(Duration::from_secs(4)));
    }

    #[test]
    fn low_budget_without_reset_paces_at_the_limit() {
        let r = RateHeaders::from_headers(&headers(&[
            ("x-rate-limit", "200"),
            ("x-rate-limit-remaining", "3"),
        ]));
        assert_eq!(r.pacing_delay(), Some(Duration::from_millis(300)));
    }

    #[test]
    fn nothing_left_waits_for_reset() {
        let r = RateHeaders::from_headers(&headers(&[
            ("ratelimit-limit", "100"),
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", "41"),
        ]));
        assert_eq!(r.pacing_delay(), Some(Duration::from_secs(41)));
    }

    #[test]
    fn absurd_headers_are_capped_not_a_panic() {
        let r = RateHeaders::from_headers(&headers(&[
            ("x-rate-limit", "99999999999999999999"),
            ("x-rate-limit-remaining", "0"),
            ("ratelimit-reset", "18446744073709551615"),
        ]));
        assert_eq!(r.pacing_delay(), Some(Duration::from_secs(60)));
        let r = RateHeaders::from_headers(&headers(&[
            ("x-rate-limit", "-5"),
            ("x-rate-limit-remaining", "NaN"),
        ]));
        assert_eq!(r, RateHeaders::default());
        assert_eq!(r.pacing_delay(), None);
    }
}
