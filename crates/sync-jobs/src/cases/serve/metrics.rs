//! Counters of the webhook receiver, rendered in the Prometheus text exposition
//! format at `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use sync_core::cases::TicketEvent;

const KINDS: [TicketEvent; 2] = [TicketEvent::Created, TicketEvent::Closed];

fn idx(event: TicketEvent) -> usize {
    match event {
        TicketEvent::Created => 0,
        TicketEvent::Closed => 1,
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    /// Missing, wrong or stale signature (401).
    Signature,
    /// Malformed body (400).
    Body,
    /// Too many events waiting (503).
    Busy,
}

/// The receiver's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    received: [AtomicU64; 2],
    processed: [AtomicU64; 2],
    failed: [AtomicU64; 2],
    retried: [AtomicU64; 2],
    rejected: [AtomicU64; 3],
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// An accepted event.
    pub fn received(&self, e: TicketEvent) {
        bump(&self.received[idx(e)]);
    }
    /// An event handled to the end (written, unchanged or skipped).
    pub fn processed(&self, e: TicketEvent) {
        bump(&self.processed[idx(e)]);
    }
    /// An event that failed for good (refused write, or retries exhausted).
    pub fn failed(&self, e: TicketEvent) {
        bump(&self.failed[idx(e)]);
    }
    /// A retry after an API error.
    pub fn retried(&self, e: TicketEvent) {
        bump(&self.retried[idx(e)]);
    }
    /// A refused delivery.
    pub fn rejected(&self, why: Rejection) {
        bump(&self.rejected[why as usize]);
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let by_kind = [
            ("received", "Webhook events accepted", &self.received),
            ("processed", "Events handled to the end", &self.processed),
            ("failed", "Events that failed for good", &self.failed),
            ("retried", "Retries after an API error", &self.retried),
        ];
        for (name, help, counters) in by_kind {
            let metric = format!("salesforce_cases_events_{name}_total");
            let _ = writeln!(out, "# HELP {metric} {help}, by kind.");
            let _ = writeln!(out, "# TYPE {metric} counter");
            for kind in KINDS {
                let v = counters[idx(kind)].load(Ordering::Relaxed);
                let _ = writeln!(out, "{metric}{{kind=\"{kind}\"}} {v}");
            }
        }
        let metric = "salesforce_cases_webhooks_rejected_total";
        let _ = writeln!(out, "# HELP {metric} Deliveries refused, by reason.");
        let _ = writeln!(out, "# TYPE {metric} counter");
        for (reason, why) in [
            ("signature", Rejection::Signature),
            ("body", Rejection::Body),
            ("busy", Rejection::Busy),
        ] {
            let v = self.rejected[why as usize].load(Ordering::Relaxed);
            let _ = writeln!(out, "{metric}{{reason=\"{reason}\"}} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.received(TicketEvent::Created);
        m.received(TicketEvent::Created);
        m.processed(TicketEvent::Closed);
        m.rejected(Rejection::Signature);
        let text = m.render();
        assert!(text.contains("salesforce_cases_events_received_total{kind=\"created\"} 2\n"));
        assert!(text.contains("salesforce_cases_events_received_total{kind=\"closed\"} 0\n"));
        assert!(text.contains("salesforce_cases_events_processed_total{kind=\"closed\"} 1\n"));
        assert!(text.contains("salesforce_cases_webhooks_rejected_total{reason=\"signature\"} 1\n"));
        assert!(text.contains("# TYPE salesforce_cases_events_failed_total counter\n"));
    }
}
