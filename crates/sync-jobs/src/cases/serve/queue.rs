//! Processing accepted webhook events: at most N at once (a semaphore), one ticket's
//! events strictly in arrival order (a queue per ticket, drained by one task), at most
//! `max_pending` accepted and unfinished (beyond, [`Dispatcher::submit`] says
//! [`Busy`] and the delivery gets 503), and the session's report builder that every
//! finished event's outcomes go into. Closing waits for the work in hand.
//!
//! No retry loop here: the clients retry each API call under the policy `serve` built
//! them with (`--max-attempts`, `--retry-delay-ms`, see [`crate::cases::setup`]); an
//! error that comes back is final for the event. A panic while handling an event is
//! caught, counted failed (metrics, report, log) and the ticket's next events go on; a
//! worker task that still dies is counted (`/healthz` then says so) and its ticket's
//! queued events are counted failed, never lost without a trace.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::FutureExt as _;
use sync_core::cases::{TicketEvent, WebhookPayload};
use sync_core::report::{CaseOutcome, CasesReportBuilder};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::metrics::Metrics;
use crate::cases::{CasesJob, Handled};

/// Entries of `changes[]` and of `errors[]` the session report of a receiver lists at
/// most (the first ones); its counts include every event. A receiver runs for months:
/// listing every change would grow without bound.
pub const MAX_LISTED: usize = 10_000;

/// Too many events are waiting.
#[derive(Debug)]
pub struct Busy;

/// Handles one event of a ticket.
pub type Handler =
    Arc<dyn Fn(u64, TicketEvent) -> Pin<Box<dyn Future<Output = Handled> + Send>> + Send + Sync>;

/// The production handler: [`CasesJob::handle_event`].
pub fn job_handler(job: Arc<CasesJob>) -> Handler {
    Arc::new(move |ticket_id, event| {
        let job = Arc::clone(&job);
        Box::pin(async move { job.handle_event(ticket_id, event).await })
    })
}

struct Inner {
    handler: Handler,
    queues: Mutex<HashMap<u64, VecDeque<TicketEvent>>>,
    pending: AtomicUsize,
    max_pending: usize,
    permits: Semaphore,
    tracker: TaskTracker,
    metrics: Arc<Metrics>,
    /// The session's report, listing at most [`MAX_LISTED`] entries.
    report: Mutex<CasesReportBuilder>,
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
    /// A dispatcher running at most `concurrency` events at once and holding at most
    /// `max_pending` accepted and unfinished; every finished event's outcomes go into
    /// `report` (which then lists at most [`MAX_LISTED`] changes and errors).
    pub fn new(
        handler: Handler,
        concurrency: usize,
        max_pending: usize,
        metrics: Arc<Metrics>,
        report: CasesReportBuilder,
    ) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(Inner {
                handler,
                queues: Mutex::new(HashMap::new()),
                pending: AtomicUsize::new(0),
                max_pending: max_pending.max(1),
                permits: Semaphore::new(concurrency.max(1)),
                tracker: TaskTracker::new(),
                metrics,
                report: Mutex::new(report.listing_at_most(MAX_LISTED)),
            }),
        }
    }

    /// The most events held at once.
    pub fn max_pending(&self) -> usize {
        self.inner.max_pending
    }

    /// Queues an event behind any earlier event of the same ticket, or says [`Busy`]
    /// when `max_pending` events are already held.
    pub fn submit(&self, p: WebhookPayload) -> Result<(), Busy> {
        let inner = &self.inner;
        let mut queues = lock(&inner.queues);
        // Checked and counted under the queues' lock: never more than `max_pending`.
        let pending = inner.pending.load(Ordering::SeqCst);
        if pending >= inner.max_pending {
            return Err(Busy);
        }
        inner
            .pending
            .store(pending.saturating_add(1), Ordering::SeqCst);
        inner.metrics.set_pending(pending.saturating_add(1));
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

    /// Stops taking work, waits for every accepted event, and returns the session's
    /// report builder.
    pub async fn finish(self) -> CasesReportBuilder {
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        let report = lock(&self.inner.report).clone();
        let unlisted = report.unlisted();
        if unlisted > 0 {
            tracing::warn!(
                unlisted,
                "the report lists the first {MAX_LISTED} changes and errors of each kind; \
                 its counts include all, the log has every event"
            );
        }
        report
    }
}

impl Inner {
    /// One event fewer held.
    fn done_one(&self) {
        let _queues = lock(&self.queues);
        let left = self.pending.load(Ordering::SeqCst).saturating_sub(1);
        self.pending.store(left, Ordering::SeqCst);
        self.metrics.set_pending(left);
    }

    /// Counts an event failed for good: metrics, its `event_failed` outcome in the
    /// report, and the log.
    fn fail(&self, ticket_id: u64, event: TicketEvent, message: String) {
        tracing::error!(ticket_id, %event, %message, "event failed for good");
        self.metrics.failed(event);
        lock(&self.report).ticket(ticket_id, CaseOutcome::event_failed(message));
    }
}

/// The worker of one ticket: if it unwinds (a panic outside the per-event catch), the
/// death is counted and the ticket's queued events are counted failed and released.
struct WorkerGuard {
    inner: Arc<Inner>,
    ticket_id: u64,
    current: Option<TicketEvent>,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let inner = &self.inner;
        inner.metrics.worker_died();
        let queued: Vec<TicketEvent> = lock(&inner.queues)
            .remove(&self.ticket_id)
            .map(Vec::from)
            .unwrap_or_default();
        for event in self.current.take().into_iter().chain(queued) {
            inner.fail(
                self.ticket_id,
                event,
                format!("{event} event: its worker died (a panic); not handled"),
            );
            inner.done_one();
        }
    }
}

/// Handles one ticket's events in order until its queue is empty.
async fn drain(inner: Arc<Inner>, ticket_id: u64, first: TicketEvent) {
    let mut guard = WorkerGuard {
        inner: Arc::clone(&inner),
        ticket_id,
        current: Some(first),
    };
    while let Some(event) = guard.current {
        {
            let _permit = inner.permits.acquire().await.ok();
            process(&inner, ticket_id, event).await;
        }
        inner.done_one();
        let mut queues = lock(&inner.queues);
        guard.current = queues.get_mut(&ticket_id).and_then(VecDeque::pop_front);
        if guard.current.is_none() {
            queues.remove(&ticket_id);
        }
    }
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// One event; its outcomes go into the session report. A panic is caught here, and
/// counted as the event's `event_failed` outcome.
async fn process(inner: &Inner, ticket_id: u64, event: TicketEvent) {
    let handled =
        match std::panic::catch_unwind(AssertUnwindSafe(|| (inner.handler)(ticket_id, event))) {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
            Err(payload) => Err(payload),
        };
    match handled {
        Ok(done) => {
            let failed = done.failed();
            // The outcomes before an error stand (their writes were made).
            let error = done.into_report(&mut lock(&inner.report));
            match error {
                Some(e) => inner.fail(ticket_id, event, format!("{event} event: {e}")),
                None if failed => inner.metrics.failed(event),
                None => inner.metrics.processed(event),
            }
        }
        Err(payload) => {
            inner.metrics.panicked(event);
            let message = panic_message(payload.as_ref());
            inner.fail(
                ticket_id,
                event,
                format!(
                    "{event} event: its handling panicked ({message}); the events behind it go on"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use sync_core::report::{CaseWrite, FailureKind};

    /// A Case created for `ticket`.
    fn created(ticket: u64) -> CaseOutcome {
        CaseOutcome::Created(CaseWrite {
            key: ticket.to_string(),
            fields: serde_json::Map::new(),
        })
    }

    fn connection_refused() -> crate::Error {
        crate::Error::Salesforce(sfdc_client::Error::Transport {
            method: "PATCH",
            url: "http://127.0.0.1:1".into(),
            kind: sfdc_client::TransportKind::Connect,
            message: "connection refused".into(),
        })
    }

    /// What the fake handler saw: (ticket, event, "start" | "end").
    type Log = Arc<Mutex<Vec<(u64, TicketEvent, &'static str)>>>;

    /// How the fake handler treats a ticket.
    #[derive(Clone, Copy)]
    enum Act {
        Succeed,
        /// A retriable API error, every time.
        Fail,
        /// A Case created, then an API error (a race repair that could not re-read).
        FailAfterWrite,
        /// A panic inside the handler's future.
        Panic,
        /// A panic while making the future.
        PanicEarly,
    }

    /// A handler that logs start and end around a short sleep, counts how many run at
    /// once, and acts on each ticket as `act` says.
    fn fake(
        log: Log,
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        act: fn(u64, TicketEvent) -> Act,
    ) -> Handler {
        Arc::new(move |ticket, event| {
            let (log, running, peak) = (log.clone(), running.clone(), peak.clone());
            let what = act(ticket, event);
            if matches!(what, Act::PanicEarly) {
                panic!("injected panic making the future of ticket {ticket}");
            }
            Box::pin(async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                lock(&log).push((ticket, event, "start"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                lock(&log).push((ticket, event, "end"));
                running.fetch_sub(1, Ordering::SeqCst);
                let mut done = Handled::default();
                match what {
                    Act::Fail => done.error = Some(connection_refused()),
                    Act::FailAfterWrite => {
                        done.push(ticket, created(ticket));
                        done.error = Some(connection_refused());
                    }
                    Act::Panic => panic!("injected panic handling ticket {ticket}"),
                    Act::Succeed | Act::PanicEarly => done.push(ticket, created(ticket)),
                }
                done
            })
        })
    }

    fn payload(ticket_id: u64, event: TicketEvent) -> WebhookPayload {
        WebhookPayload { ticket_id, event }
    }

    fn dispatcher(handler: Handler, concurrency: usize, max_pending: usize) -> Dispatcher {
        Dispatcher::new(
            handler,
            concurrency,
            max_pending,
            Arc::new(Metrics::default()),
            CasesReportBuilder::new("x", false, time::OffsetDateTime::UNIX_EPOCH),
        )
    }

    #[tokio::test]
    async fn one_tickets_events_run_in_order_and_concurrency_is_bounded() {
        let log: Log = Arc::default();
        let peak = Arc::<AtomicUsize>::default();
        let d = dispatcher(
            fake(log.clone(), Arc::default(), peak.clone(), |_, _| {
                Act::Succeed
            }),
            2,
            100,
        );
        for ticket in 1..=5 {
            d.submit(payload(ticket, TicketEvent::Created)).unwrap();
            d.submit(payload(ticket, TicketEvent::Closed)).unwrap();
        }
        let report = d.finish().await.build();
        assert_eq!(report.cases.unwrap().create, 10);
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 2, "peak {peak}");
        assert!(peak >= 2, "tickets ran one at a time");
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
    async fn an_api_error_is_final_for_the_event_the_clients_did_the_retrying() {
        let log: Log = Arc::default();
        let d = dispatcher(
            fake(log.clone(), Arc::default(), Arc::default(), |t, _| {
                if t == 8 {
                    Act::Fail
                } else {
                    Act::Succeed
                }
            }),
            1,
            100,
        );
        let metrics = Arc::clone(&d.inner.metrics);
        d.submit(payload(8, TicketEvent::Closed)).unwrap();
        d.submit(payload(9, TicketEvent::Created)).unwrap();
        let report = d.finish().await.build();
        // Handled once each: no third retry loop on top of the clients' own.
        assert_eq!(lock(&log).len(), 4);
        let cases = report.cases.unwrap();
        assert_eq!((cases.failed, cases.create), (1, 1));
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].kind, FailureKind::EventFailed.into());
        assert_eq!(report.errors[0].ticket_id, Some(8));
        assert!(report.errors[0].message.contains("connection refused"));
        assert_eq!(metrics.events("failed", TicketEvent::Closed), 1);
        assert_eq!(metrics.events("processed", TicketEvent::Created), 1);
    }

    #[tokio::test]
    async fn a_panic_fails_its_event_only_and_the_events_behind_it_go_on() {
        let log: Log = Arc::default();
        let d = dispatcher(
            fake(log.clone(), Arc::default(), Arc::default(), |t, e| {
                match (t, e) {
                    (1, TicketEvent::Created) => Act::Panic,
                    (2, TicketEvent::Created) => Act::PanicEarly,
                    _ => Act::Succeed,
                }
            }),
            1,
            100,
        );
        let metrics = Arc::clone(&d.inner.metrics);
        for ticket in 1..=3 {
            d.submit(payload(ticket, TicketEvent::Created)).unwrap();
            d.submit(payload(ticket, TicketEvent::Closed)).unwrap();
        }
        let report = d.finish().await.build();
        let cases = report.cases.unwrap();
        // 6 events: 2 panicked, 4 handled (ticket 1 and 2's closes, ticket 3's both).
        assert_eq!((cases.failed, cases.create), (2, 4));
        assert_eq!(metrics.events("panicked", TicketEvent::Created), 2);
        assert_eq!(metrics.events("failed", TicketEvent::Created), 2);
        assert_eq!(metrics.events("processed", TicketEvent::Closed), 3);
        assert_eq!(metrics.events("processed", TicketEvent::Created), 1);
        assert_eq!(metrics.workers_died(), 0);
        let failed: Vec<_> = report.errors.iter().map(|e| e.ticket_id).collect();
        assert_eq!(failed, [Some(1), Some(2)]);
        assert!(
            report.errors[0].message.contains("panicked"),
            "{:?}",
            report.errors
        );
        assert!(report.errors[0]
            .message
            .contains("injected panic handling ticket 1"));
        assert!(metrics
            .render()
            .contains("salesforce_cases_events_pending 0\n"));
    }

    #[tokio::test]
    async fn a_full_queue_says_busy_and_takes_events_again_once_drained() {
        let d = dispatcher(
            fake(Arc::default(), Arc::default(), Arc::default(), |_, _| {
                Act::Succeed
            }),
            1,
            3,
        );
        for ticket in 1..=3 {
            d.submit(payload(ticket, TicketEvent::Created)).unwrap();
        }
        assert!(d.submit(payload(4, TicketEvent::Created)).is_err());
        assert!(d.submit(payload(1, TicketEvent::Closed)).is_err());
        let metrics = Arc::clone(&d.inner.metrics);
        assert!(metrics
            .render()
            .contains("salesforce_cases_events_pending 3\n"));
        // Once the held events are done, deliveries are taken again.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while d.inner.pending.load(Ordering::SeqCst) > 0 {
            assert!(tokio::time::Instant::now() < deadline, "events drained");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        d.submit(payload(4, TicketEvent::Created)).unwrap();
        let report = d.finish().await.build();
        assert_eq!(report.cases.unwrap().create, 4);
    }

    #[tokio::test]
    async fn a_worker_that_dies_is_counted_and_its_queued_events_failed() {
        let d = dispatcher(
            fake(Arc::default(), Arc::default(), Arc::default(), |_, _| {
                Act::Succeed
            }),
            1,
            100,
        );
        let inner = Arc::clone(&d.inner);
        // Ticket 5: one event in hand, one queued behind it; the worker then panics
        // outside the per-event catch.
        lock(&inner.queues).insert(5, VecDeque::from([TicketEvent::Closed]));
        inner.pending.store(2, Ordering::SeqCst);
        let worker = Arc::clone(&inner);
        let died = tokio::spawn(async move {
            let _guard = WorkerGuard {
                inner: worker,
                ticket_id: 5,
                current: Some(TicketEvent::Created),
            };
            panic!("injected panic in a worker");
        })
        .await;
        assert!(died.is_err());
        assert_eq!(inner.metrics.workers_died(), 1);
        assert_eq!(inner.pending.load(Ordering::SeqCst), 0);
        assert!(lock(&inner.queues).is_empty());
        let report = d.finish().await.build();
        assert_eq!(report.cases.unwrap().failed, 2);
        assert!(report
            .errors
            .iter()
            .all(|e| e.message.contains("worker died")));
    }

    /// An error after a write (the race repair's re-read failing): the write stands in
    /// the report, and the event is failed once.
    #[tokio::test]
    async fn the_writes_before_an_events_error_are_reported_with_it() {
        let d = dispatcher(
            fake(Arc::default(), Arc::default(), Arc::default(), |t, _| {
                if t == 7 {
                    Act::FailAfterWrite
                } else {
                    Act::Succeed
                }
            }),
            1,
            100,
        );
        let metrics = Arc::clone(&d.inner.metrics);
        d.submit(payload(7, TicketEvent::Created)).unwrap();
        d.submit(payload(8, TicketEvent::Created)).unwrap();
        let report = d.finish().await.build();
        let cases = report.cases.unwrap();
        assert_eq!((cases.create, cases.failed), (2, 1));
        let changed: Vec<_> = report.changes.iter().map(|c| c.ticket_id).collect();
        assert_eq!(changed, [Some(7), Some(8)]);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].kind, FailureKind::EventFailed.into());
        assert_eq!(report.errors[0].ticket_id, Some(7));
        assert_eq!(metrics.events("failed", TicketEvent::Created), 1);
        assert_eq!(metrics.events("processed", TicketEvent::Created), 1);
    }

    #[test]
    fn the_session_report_lists_a_bounded_number_of_entries() {
        let d = dispatcher(
            fake(Arc::default(), Arc::default(), Arc::default(), |_, _| {
                Act::Succeed
            }),
            1,
            1,
        );
        {
            let mut report = lock(&d.inner.report);
            for ticket in 0..=u64::try_from(MAX_LISTED).unwrap() {
                report.ticket(ticket, created(ticket));
            }
            assert_eq!(report.unlisted(), 1);
        }
        let report = lock(&d.inner.report).clone().build();
        assert_eq!(report.changes.len(), MAX_LISTED);
        assert_eq!(report.cases.unwrap().create, MAX_LISTED + 1);
    }
}
