//! Crash points chosen by the sandbox's own counters (issue 16): the simulated Zendesk
//! counts write requests (POST, PUT, PATCH, DELETE under `/api/v2`) and, when armed,
//! holds the Nth matching one: nothing of it is applied and the request stays open until
//! released (by default: forever). A test waits until `GET /__admin/writes` shows
//! `held`, then SIGKILLs the job, so the kill lands at a point the counters chose, not
//! at a time.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Which write to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldWrite {
    /// The matching write to hold, 1-based, counted from when the hold is set (at start
    /// for `SandboxConfig::hold_write`).
    pub nth: u64,
    /// Only writes whose endpoint key (e.g. `POST /api/v2/organizations/create_many`,
    /// ids as `{id}`) or path starts with this; all writes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// A write being held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldWrite {
    /// Its endpoint key.
    pub endpoint: String,
    /// Its path.
    pub path: String,
    /// Its number among all the writes received (1-based).
    pub write: u64,
}

/// The write counters and the hold, as `GET /__admin/writes` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStatus {
    /// Zendesk writes received since start.
    pub total: u64,
    /// The same by endpoint key.
    pub by_endpoint: BTreeMap<String, u64>,
    /// The hold armed now (it fires once).
    pub hold: Option<HoldWrite>,
    /// Writes matching the armed hold since it was set.
    pub matched: u64,
    /// The write held now, if any.
    pub held: Option<HeldWrite>,
    /// Held writes released so far.
    pub released: u64,
    /// Bulk writes refused because the job limit was reached (each answered as
    /// `Quirks::job_limit_answer` says), so a test can assert the limit was met on the
    /// sandbox's own counter rather than on a log line.
    pub job_limit_refused: u64,
}

struct Inner {
    status: WriteStatus,
    /// Whether the armed hold already fired.
    fired: bool,
}

/// The counters, the hold and the release signal (a generation, and whether the
/// released write is applied).
pub(crate) struct Holds {
    inner: Mutex<Inner>,
    release: watch::Sender<(u64, bool)>,
}

/// Clears the held write when dropped.
pub(crate) struct HeldGuard<'a>(pub(crate) &'a Holds);

impl Drop for HeldGuard<'_> {
    fn drop(&mut self) {
        self.0.finish_held();
    }
}

/// What the middleware does with a write.
pub(crate) enum Decision {
    /// Let it through.
    Pass,
    /// Hold it until the generation moves past this one.
    Hold(watch::Receiver<(u64, bool)>, u64),
}

impl Holds {
    pub(crate) fn new(hold: Option<HoldWrite>) -> Holds {
        Holds {
            inner: Mutex::new(Inner {
                status: WriteStatus {
                    hold,
                    ..WriteStatus::default()
                },
                fired: false,
            }),
            release: watch::Sender::new((0, false)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a write and decides whether it is held.
    pub(crate) fn on_write(&self, endpoint: &str, path: &str) -> Decision {
        let mut inner = self.lock();
        let Inner { status, fired } = &mut *inner;
        status.total += 1;
        *status.by_endpoint.entry(endpoint.to_owned()).or_insert(0) += 1;
        let Some(hold) = &status.hold else {
            return Decision::Pass;
        };
        let matches = hold
            .endpoint
            .as_deref()
            .is_none_or(|p| endpoint.starts_with(p) || path.starts_with(p));
        if !matches {
            return Decision::Pass;
        }
        status.matched += 1;
        if *fired || status.matched != hold.nth {
            return Decision::Pass;
        }
        *fired = true;
        status.held = Some(HeldWrite {
            endpoint: endpoint.to_owned(),
            path: path.to_owned(),
            write: status.total,
        });
        let generation = self.release.borrow().0;
        Decision::Hold(self.release.subscribe(), generation)
    }

    /// The held write was released (it goes on, or is dropped), or its client left.
    fn finish_held(&self) {
        let mut inner = self.lock();
        inner.status.held = None;
        inner.status.released += 1;
    }

    /// Counts a bulk write refused at the job limit.
    pub(crate) fn note_job_limit_refusal(&self) {
        self.lock().status.job_limit_refused += 1;
    }

    /// The counters and the hold now.
    pub(crate) fn status(&self) -> WriteStatus {
        self.lock().status.clone()
    }

    /// Arms a new hold (counting matches from now), or with `None` disarms.
    pub(crate) fn set(&self, hold: Option<HoldWrite>) {
        let mut inner = self.lock();
        inner.status.hold = hold;
        inner.status.matched = 0;
        inner.fired = false;
    }

    /// Releases the write held now (if any): with `apply` it goes on and is applied,
    /// else its connection is dropped with nothing applied.
    pub(crate) fn release(&self, apply: bool) {
        self.release.send_modify(|(generation, how)| {
            *generation += 1;
            *how = apply;
        });
    }
}
