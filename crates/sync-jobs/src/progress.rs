//! Progress with totals for the bulk-job phases (docs/behaviour.md §8): every few seconds while
//! jobs run, a log line such as `organization jobs 12/40 done, 2,310 calls left, ~3.5
//! min at 700 rpm`. The calls left and the time are estimates from what the phase has
//! measured so far (calls per job, calls per minute); they are log lines (plain in CI,
//! the same on a terminal), never asserted on.

use std::time::{Duration, Instant};

/// How often a phase says where it is.
pub const EVERY: Duration = Duration::from_secs(3);

/// The progress of one phase of bulk jobs.
#[derive(Debug, Clone)]
pub struct JobProgress {
    what: &'static str,
    total: usize,
    calls_at_start: u64,
    started: Instant,
}

impl JobProgress {
    /// A phase of `total` jobs starting now, the client having made `calls_at_start`
    /// requests so far.
    pub fn new(what: &'static str, total: usize, calls_at_start: u64) -> JobProgress {
        JobProgress {
            what,
            total,
            calls_at_start,
            started: Instant::now(),
        }
    }

    /// The line for `done` jobs finished, the client being at `calls_now` requests.
    pub fn line(&self, done: usize, calls_now: u64) -> String {
        let calls = calls_now.saturating_sub(self.calls_at_start);
        let minutes = self.started.elapsed().as_secs_f64() / 60.0;
        line(self.what, done, self.total, calls, minutes)
    }
}

/// `what done/total done, N calls left, ~M min at R rpm`, from `calls` made in
/// `minutes` for `done` jobs (no estimate before the first job is done).
pub fn line(what: &str, done: usize, total: usize, calls: u64, minutes: f64) -> String {
    let head = format!("{what} {done}/{total} done");
    if done == 0 || minutes <= 0.0 {
        return format!("{head}, {} calls so far", thousands(calls));
    }
    let per_job = calls as f64 / done as f64;
    let left = (per_job * total.saturating_sub(done) as f64).round() as u64;
    let rpm = calls as f64 / minutes;
    let eta = if rpm > 0.0 { left as f64 / rpm } else { 0.0 };
    format!(
        "{head}, {} calls left, ~{eta:.1} min at {} rpm",
        thousands(left),
        thousands(rpm.round() as u64)
    )
}

/// `2310` → `2,310`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_the_totals_and_an_estimate() {
        // 12 jobs took 990 calls in 1.414 min: 82.5 calls a job, 28 jobs left.
        assert_eq!(
            line("jobs", 12, 40, 990, 990.0 / 700.0),
            "jobs 12/40 done, 2,310 calls left, ~3.3 min at 700 rpm"
        );
        assert_eq!(
            line("jobs", 0, 40, 25, 0.1),
            "jobs 0/40 done, 25 calls so far"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
