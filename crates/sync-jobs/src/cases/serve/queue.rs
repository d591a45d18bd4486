//! Processing accepted webhook events: at most N at once (a semaphore), one ticket's
//! events strictly in arrival order (a queue per ticket, drained by one task), retries
//! with exponential backoff when an API cannot be reached, and a session report that
//! every finished event is merged into. Closing waits for the work in hand.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::cases::{CasesJob, Outcome};
use sync_core::cases::{TicketEvent, WebhookPayload};
use sync_core::report::{CaseCounts, FailureKind, ReportError};
use sync_core::Report;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::metrics::Metrics;

/// Events accepted but not finished beyond which deliveries get 503.
pub const MAX_PENDING: usize = 10_000;
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(60);

/// Retry settings.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts per event, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_delay: Duration,
}

impl Retry {
    /// The wait after attempt `n` (1-based) failed.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(MAX_DELAY)
    }
}

/// Too many events are waiting.
#[derive(Debug)]
pub struct Busy;

/// What handling one event gives: the outcome (or the error that stopped it) and the
/// report of that attempt.
pub type Handled = (Result<Outcome, crate::Error>, Report);

/// Handles one event of a ticket.
pub type Handler =
    Arc<dyn Fn(u64, TicketEvent) -> Pin<Box<dyn Future<Output = Handled> + Send>> + Send + Sync>;

/// The production handler: [`CasesJob::handle_event`].
pub fn job_handler(job: Arc<CasesJob>) -> Handler {
    Arc::new(move |ticket_id, event| {
        let job = Arc::clone(&job);
        Box::pin(async move {
            let mut report = Report::new("", job.dry_run, OffsetDateTime::now_utc());
            let result = job.handle_event(ticket_id, event, &mut report).await;
            (result, report)
        })
    })
}

struct Inner {
    handler: Handler,
    queues: Mutex<HashMap<u64, VecDeque<TicketEvent>>>,
    pending: AtomicUsize,
    permits: Semaphore,
    tracker: TaskTracker,
    metrics: Arc<Metrics>,
    report: Mutex<Report>,
    retry: Retry,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another holder leaves the data usable: counters and queues only.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands accepted events to workers.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// A dispatcher running at most `concurrency` events at once.
    pub fn new(
        handler: Handler,
        concurrency: usize,
        retry: Retry,
        metrics: Arc<Metrics>,
        report: Report,
    ) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(Inner {
                handler,
                queues: Mutex::new(HashMap::new()),
                pending: AtomicUsize::new(0),
                permits: Semaphore::new(concurrency.max(1)),
                tracker: TaskTracker::new(),
                metrics,
                report: Mutex::new(report),
                retry,
            }),
        }
    }

    /// Queues an event behind any earlier event of the same ticket.
    pub fn submit(&self, p: WebhookPayload) -> Result<(), Busy> {
        let inner = &self.inner;
        if inner.pending.load(Ordering::SeqCst) >= MAX_PENDING {
            return Err(Busy);
        }
        inner.pending.fetch_add(1, Ordering::SeqCst);
        let mut queues = lock(&inner.queues);
        match queues.get_mut(&p.ticket_id) {
            Some(queue) => queue.push_back(p.event),
            None => {
                queues.insert(p.ticket_id, VecDeque::new());
                let worker = Arc::clone(inner);
                inner.tracker.spawn(drain(worker, p.ticket_id, p.event));
            }
        }
        Ok(())
    }

    /// Stops taking work, waits for every accepted event, and returns the session report.
    pub async fn finish(self) -> Report {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        lock(&self.inner.report).clone()
    }
}

/// Handles one ticket's events in order until its queue is empty.
async fn drain(inner: Arc<Inner>, ticket_id: u64, first: TicketEvent) {
    let mut next = Some(first);
    while let Some(event) = next {
        {
            let _permit = inner.permits.acquire().await.ok();
            process(&inner, ticket_id, event).await;
        }
        inner.pending.fetch_sub(1, Ordering::SeqCst);
        let mut queues = lock(&inner.queues);
        next = queues.get_mut(&ticket_id).and_then(VecDeque::pop_front);
        if next.is_none() {
            queues.remove(&ticket_id);
        }
    }
}

/// One event, with retries; its outcome goes into the session report.
async fn process(inner: &Inner, ticket_id: u64, event: TicketEvent) {
    let mut attempt = 1;
    loop {
        let (result, local) = (inner.handler)(ticket_id, event).await;
        match result {
            Ok(outcome) => {
                if matches!(outcome, Outcome::Failed(_)) {
                    inner.metrics.failed(event);
                } else {
                    inner.metrics.processed(event);
                }
                merge(&mut lock(&inner.report), local);
                return;
            }
            Err(e) if attempt < inner.retry.max_attempts && e.is_retriable() => {
                let delay = inner.retry.delay(attempt);
                tracing::warn!(ticket_id, %event, attempt, ?delay, error = %e, "event failed; retrying");
                inner.metrics.retried(event);
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            Err(e) => {
                tracing::error!(ticket_id, %event, attempt, error = %e, "event failed for good");
                inner.metrics.failed(event);
                let mut report = lock(&inner.report);
                report.cases.get_or_insert_with(CaseCounts::default).failed += 1;
                report.errors.push(ReportError::ticket(
                    FailureKind::EventFailed,
                    ticket_id,
                    format!("{event} event, after {attempt} attempt(s): {e}"),
                ));
                return;
            }
        }
    }
}

/// Adds one event's report into the session's.
fn merge(into: &mut Report, from: Report) {
    if let Some(c) = from.cases {
        let t = into.cases.get_or_insert_with(CaseCounts::default);
        t.create += c.create;
        t.update += c.update;
        t.close += c.close;
        t.unchanged += c.unchanged;
        t.failed += c.failed;
    }
    into.salesforce.records += from.salesforce.records;
    into.errors.extend(from.errors);
    into.changes.extend(from.changes);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the fake handler saw: (ticket, event, "start" | "end").
    type Log = Arc<Mutex<Vec<(u64, TicketEvent, &'static str)>>>;

    /// A handler that logs start and end around a short sleep, counts how many run at
    /// once, and fails `fail_first` times with a retriable error first.
    fn fake(
        log: Log,
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        fail_first: usize,
    ) -> Handler {
        let failures = Arc::new(AtomicUsize::new(fail_first));
        Arc::new(move |ticket, event| {
            let (log, running, peak, failures) =
                (log.clone(), running.clone(), peak.clone(), failures.clone());
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                lock(&log).push((ticket, event, "start"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                lock(&log).push((ticket, event, "end"));
                running.fetch_sub(1, Ordering::SeqCst);
                let mut report = Report::new("", false, OffsetDateTime::UNIX_EPOCH);
                let fail = failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let result = if fail {
                    Err(crate::Error::Salesforce(sfdc_client::Error::Transport {
                        method: "PATCH",
                        url: "http://127.0.0.1:1".into(),
                        kind: sfdc_client::TransportKind::Connect,
                        message: "connection refused".into(),
                    }))
                } else {
                    report.cases = Some(CaseCounts {
                        create: 1,
                        ..CaseCounts::default()
                    });
                    Ok(Outcome::Created)
                };
                (result, report)
            })
        })
    }

    fn payload(ticket_id: u64, event: TicketEvent) -> WebhookPayload {
        WebhookPayload { ticket_id, event }
    }

    #[tokio::test]
    async fn one_tickets_events_run_in_order_and_concurrency_is_bounded() {
        let log: Log = Arc::default();
        let (running, peak) = (Arc::default(), Arc::<AtomicUsize>::default());
        let retry = Retry {
            max_attempts: 1,
            first_delay: Duration::from_millis(1),
        };
        let metrics = Arc::new(Metrics::default());
        let report = Report::new("x", false, OffsetDateTime::UNIX_EPOCH);
        let d = Dispatcher::new(
            fake(log.clone(), running, peak.clone(), 0),
            2,
            retry,
            metrics,
            report,
        );
        for ticket in 1..=5 {
            d.submit(payload(ticket, TicketEvent::Created)).unwrap();
            d.submit(payload(ticket, TicketEvent::Closed)).unwrap();
        }
        let report = d.finish().await;
        assert_eq!(report.cases.unwrap().create, 10);
        assert!(
            peak.load(Ordering::SeqCst) <= 2,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
        assert!(
            peak.load(Ordering::SeqCst) >= 2,
            "tickets ran one at a time"
        );
        let log = lock(&log).clone();
        for ticket in 1..=5 {
            let mine: Vec<_> = log
                .iter()
                .filter(|(t, _, _)| *t == ticket)
                .map(|(_, e, s)| (*e, *s))
                .collect();
            assert_eq!(
                mine,
                [
                    (TicketEvent::Created, "start"),
                    (TicketEvent::Created, "end"),
                    (TicketEvent::Closed, "start"),
                    (TicketEvent::Closed, "end"),
                ],
                "ticket {ticket}"
            );
        }
    }

    #[tokio::test]
    async fn api_errors_are_retried_then_counted_failed() {
        let retry = Retry {
            max_attempts: 3,
            first_delay: Duration::from_millis(1),
        };
        // Two failures, then success: retried twice, processed.
        let log: Log = Arc::default();
        let metrics = Arc::new(Metrics::default());
        let d = Dispatcher::new(
            fake(log.clone(), Arc::default(), Arc::default(), 2),
            1,
            retry,
            metrics.clone(),
            Report::new("x", false, OffsetDateTime::UNIX_EPOCH),
        );
        d.submit(payload(7, TicketEvent::Created)).unwrap();
        let report = d.finish().await;
        assert_eq!(report.cases.unwrap().create, 1);
        assert_eq!(lock(&log).len(), 6);
        let text = metrics.render();
        assert!(
            text.contains("salesforce_cases_events_retried_total{kind=\"created\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("salesforce_cases_events_processed_total{kind=\"created\"} 1"),
            "{text}"
        );

        // Always failing: three attempts, then one failure in the report.
        let metrics = Arc::new(Metrics::default());
        let d = Dispatcher::new(
            fake(Arc::default(), Arc::default(), Arc::default(), 99),
            1,
            retry,
            metrics.clone(),
            Report::new("x", false, OffsetDateTime::UNIX_EPOCH),
        );
        d.submit(payload(8, TicketEvent::Closed)).unwrap();
        let report = d.finish().await;
        assert_eq!(report.cases.unwrap().failed, 1);
        assert_eq!(report.errors[0].kind, FailureKind::EventFailed.into());
        assert_eq!(report.errors[0].ticket_id, Some(8));
        assert!(metrics
            .render()
            .contains("salesforce_cases_events_failed_total{kind=\"closed\"} 1"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let r = Retry {
            max_attempts: 5,
            first_delay: Duration::from_millis(500),
        };
        assert_eq!(r.delay(1), Duration::from_millis(500));
        assert_eq!(r.delay(2), Duration::from_millis(1000));
        assert_eq!(r.delay(3), Duration::from_millis(2000));
        assert_eq!(r.delay(40), MAX_DELAY);
    }

    #[test]
    fn merge_adds_counts_and_entries() {
        let mut a = Report::new("x", false, OffsetDateTime::UNIX_EPOCH);
        let mut b = Report::new("x", false, OffsetDateTime::UNIX_EPOCH);
        b.cases = Some(CaseCounts {
            create: 1,
            close: 2,
            ..CaseCounts::default()
        });
        b.errors.push(ReportError::new(
            sync_core::FindingKind::NoOrganization,
            "no org",
        ));
        merge(&mut a, b.clone());
        merge(&mut a, b);
        let c = a.cases.unwrap();
        assert_eq!((c.create, c.close, c.failed), (2, 4, 0));
        assert_eq!(a.errors.len(), 2);
    }
}
