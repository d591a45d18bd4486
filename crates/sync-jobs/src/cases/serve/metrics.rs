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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Missing, wrong or stale signature (401).
    Signature,
    /// Malformed body (400).
    Body,
    /// Too many events waiting (503).
    Busy,
    /// A body over the size limit (413).
    TooLarge,
    /// The body did not arrive in time, or broke off (408).
    BodyTimeout,
}

const REJECTIONS: [(Rejection, &str); 5] = [
    (Rejection::Signature, "signature"),
    (Rejection::Body, "body"),
    (Rejection::Busy, "busy"),
    (Rejection::TooLarge, "too_large"),
    (Rejection::BodyTimeout, "body_timeout"),
];

fn rejection_idx(why: Rejection) -> usize {
    match why {
        Rejection::Signature => 0,
        Rejection::Body => 1,
        Rejection::Busy => 2,
        Rejection::TooLarge => 3,
        Rejection::BodyTimeout => 4,
    }
}

/// The receiver's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    received: [AtomicU64; 2],
    processed: [AtomicU64; 2],
    failed: [AtomicU64; 2],
    panicked: [AtomicU64; 2],
    rejected: [AtomicU64; 5],
    pending: AtomicU64,
    connections_total: AtomicU64,
    connections_open: AtomicU64,
    connections_peak: AtomicU64,
    header_timeouts: AtomicU64,
    workers_died: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// Bumps counter `i` of a per-kind array (every kind has its slot; a missing one counts
/// nothing rather than panicking).
fn bump_at(counters: &[AtomicU64], i: usize) {
    if let Some(c) = counters.get(i) {
        bump(c);
    }
}

/// Counter `i` of a per-kind array (0 for a missing slot).
fn get_at(counters: &[AtomicU64], i: usize) -> u64 {
    counters.get(i).map_or(0, get)
}

/// Counts an open connection until dropped.
pub struct OpenConnection<'a>(&'a Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Metrics {
    /// An accepted event.
    pub fn received(&self, e: TicketEvent) {
        bump_at(&self.received, idx(e));
    }
    /// An event handled to the end (written, unchanged or skipped).
    pub fn processed(&self, e: TicketEvent) {
        bump_at(&self.processed, idx(e));
    }
    /// An event that failed for good (refused write, an API error after the clients'
    /// retries, or a panic).
    pub fn failed(&self, e: TicketEvent) {
        bump_at(&self.failed, idx(e));
    }
    /// An event whose handling panicked (also counted failed).
    pub fn panicked(&self, e: TicketEvent) {
        bump_at(&self.panicked, idx(e));
    }
    /// A refused delivery.
    pub fn rejected(&self, why: Rejection) {
        bump_at(&self.rejected, rejection_idx(why));
    }
    /// The events accepted and not finished, now.
    pub fn set_pending(&self, n: usize) {
        self.pending
            .store(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
    /// A connection accepted: counted open until the guard is dropped.
    pub fn connection_opened(&self) -> OpenConnection<'_> {
        bump(&self.connections_total);
        let now = self.connections_open.fetch_add(1, Ordering::SeqCst) + 1;
        self.connections_peak.fetch_max(now, Ordering::SeqCst);
        OpenConnection(self)
    }
    /// A connection closed because its request headers did not arrive in time.
    pub fn header_timeout(&self) {
        bump(&self.header_timeouts);
    }
    /// A worker task ended by a panic outside the per-event catch.
    pub fn worker_died(&self) {
        bump(&self.workers_died);
    }
    /// Worker tasks that died so far (`/healthz` is not ok while this is above 0).
    pub fn workers_died(&self) -> u64 {
        get(&self.workers_died)
    }
    /// Counter `name` of `kind`, for tests and `/healthz`.
    pub fn events(&self, name: &str, kind: TicketEvent) -> u64 {
        let counters = match name {
            "received" => &self.received,
            "processed" => &self.processed,
            "failed" => &self.failed,
            "panicked" => &self.panicked,
            _ => return 0,
        };
        get_at(counters, idx(kind))
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let by_kind = [
            ("received", "Webhook events accepted", &self.received),
            ("processed", "Events handled to the end", &self.processed),
            ("failed", "Events that failed for good", &self.failed),
            (
                "panicked",
                "Events whose handling panicked (also counted failed)",
                &self.panicked,
            ),
        ];
        for (name, help, counters) in by_kind {
            let metric = format!("salesforce_cases_events_{name}_total");
            let _ = writeln!(out, "# HELP {metric} {help}, by kind.");
            let _ = writeln!(out, "# TYPE {metric} counter");
            for kind in KINDS {
                let v = get_at(counters, idx(kind));
                let _ = writeln!(out, "{metric}{{kind=\"{kind}\"}} {v}");
            }
        }
        let metric = "salesforce_cases_webhooks_rejected_total";
        let _ = writeln!(out, "# HELP {metric} Deliveries refused, by reason.");
        let _ = writeln!(out, "# TYPE {metric} counter");
        for (why, reason) in REJECTIONS {
            let v = get_at(&self.rejected, rejection_idx(why));
            let _ = writeln!(out, "{metric}{{reason=\"{reason}\"}} {v}");
        }
        let single = [
            (
                "salesforce_cases_events_pending",
                "gauge",
                "Events accepted and not finished.",
                &self.pending,
            ),
            (
                "salesforce_cases_connections_total",
                "counter",
                "Connections accepted.",
                &self.connections_total,
            ),
            (
                "salesforce_cases_connections_open",
                "gauge",
                "Connections open now.",
                &self.connections_open,
            ),
            (
                "salesforce_cases_connections_peak",
                "gauge",
                "Most connections open at once since the start.",
                &self.connections_peak,
            ),
            (
                "salesforce_cases_connections_header_timeout_total",
                "counter",
                "Connections closed because the request headers did not arrive in time.",
                &self.header_timeouts,
            ),
            (
                "salesforce_cases_workers_died_total",
                "counter",
                "Worker tasks ended by a panic (the receiver is unhealthy).",
                &self.workers_died,
            ),
        ];
        for (metric, kind, help, value) in single {
            let _ = writeln!(out, "# HELP {metric} {help}");
            let _ = writeln!(out, "# TYPE {metric} {kind}");
            let _ = writeln!(out, "{metric} {}", get(value));
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
        m.rejected(Rejection::TooLarge);
        m.set_pending(3);
        {
            let _a = m.connection_opened();
            let _b = m.connection_opened();
        }
        let _c = m.connection_opened();
        let text = m.render();
        for line in [
            "salesforce_cases_events_received_total{kind=\"created\"} 2\n",
            "salesforce_cases_events_received_total{kind=\"closed\"} 0\n",
            "salesforce_cases_events_processed_total{kind=\"closed\"} 1\n",
            "salesforce_cases_webhooks_rejected_total{reason=\"signature\"} 1\n",
            "salesforce_cases_webhooks_rejected_total{reason=\"too_large\"} 1\n",
            "salesforce_cases_webhooks_rejected_total{reason=\"body_timeout\"} 0\n",
            "# TYPE salesforce_cases_events_failed_total counter\n",
            "salesforce_cases_events_pending 3\n",
            "salesforce_cases_connections_total 3\n",
            "salesforce_cases_connections_open 1\n",
            "salesforce_cases_connections_peak 2\n",
            "salesforce_cases_workers_died_total 0\n",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
