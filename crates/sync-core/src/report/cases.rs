//! The one place the cases job's [`Report`] is written (docs/behaviour.md §7, §8): from
//! the [`CaseOutcome`] of each ticket the run handled, in the order they came, and what
//! the run read. Pure: no clock (times are parameters), no I/O.
//!
//! - A Case written (in a dry run, one that would be): `cases.create`, `update` or
//!   `close`, and a `changes[]` entry with the ticket, the key and the fields sent.
//! - Nothing to write: `cases.unchanged`.
//! - Skipped, with a finding (`no_organization`, `missing_account`,
//!   `ticket_not_found`): counted unchanged (the job has nothing to do for the ticket)
//!   and listed once in `errors[]`.
//! - Failed: `case_write_failed` (a refused write, a key held by several Cases) or
//!   `event_failed` (the receiver: an event that failed for good, or whose handling
//!   panicked): counted failed and listed once in `errors[]`.
//! - The error that stopped the run: `run_stopped`, last in `errors[]`. Outcomes
//!   before it stand: their writes were made.
//!
//! One ticket can have more than one outcome (a create that met a concurrent Case is an
//! update, then a close): the counts are the outcomes, one each. A receiver that runs
//! for months lists at most [`CasesReportBuilder::listing_at_most`] entries of
//! `changes[]` and of `errors[]`; its counts include every outcome.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{
    ApiCalls, CaseCounts, Change, ChangeAction, FailureKind, JsonFields, Report, ReportError,
};
use crate::cases::rules::Decision;
use crate::model::FindingKind;

/// A Case write: the key it was upserted on and the fields sent.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseWrite {
    /// The Case key (`case_key_prefix` + ticket id).
    pub key: String,
    /// The upsert body.
    pub fields: Map<String, Value>,
}

/// What became of one ticket (or one of its writes).
#[derive(Debug, Clone, PartialEq)]
pub enum CaseOutcome {
    /// A Case created (in a dry run, one that would be).
    Created(CaseWrite),
    /// A Case's fields updated.
    Updated(CaseWrite),
    /// A Case closed.
    Closed(CaseWrite),
    /// Nothing to write: the Case already is as the ticket wants it.
    Unchanged,
    /// Nothing to do, and a finding says why.
    Skipped {
        /// `no_organization`, `missing_account` or `ticket_not_found`.
        kind: FindingKind,
        /// What was found.
        message: String,
    },
    /// Not done, and why.
    Failed {
        /// `case_write_failed` or `event_failed`.
        kind: FailureKind,
        /// What happened.
        message: String,
    },
}

impl CaseOutcome {
    /// What a decision came to once its write (if any) went through, or in a dry run:
    /// a Case created, updated or closed, nothing to write, or `no_organization`.
    pub fn applied(decision: &Decision) -> CaseOutcome {
        let write = |key: &str| CaseWrite {
            key: key.to_string(),
            fields: decision.body().unwrap_or_default(),
        };
        match decision {
            Decision::Create { key, .. } => CaseOutcome::Created(write(key)),
            Decision::Update { key, .. } => CaseOutcome::Updated(write(key)),
            Decision::Close { key, .. } => CaseOutcome::Closed(write(key)),
            Decision::Unchanged { .. } => CaseOutcome::Unchanged,
            Decision::NoAccount { message, .. } => CaseOutcome::Skipped {
                kind: FindingKind::NoOrganization,
                message: message.clone(),
            },
        }
    }

    /// A Case write refused, or a key held by several Cases (`case_write_failed`).
    pub fn write_failed(message: impl Into<String>) -> CaseOutcome {
        CaseOutcome::Failed {
            kind: FailureKind::CaseWriteFailed,
            message: message.into(),
        }
    }

    /// (The receiver) an event that failed for good, or whose handling panicked
    /// (`event_failed`).
    pub fn event_failed(message: impl Into<String>) -> CaseOutcome {
        CaseOutcome::Failed {
            kind: FailureKind::EventFailed,
            message: message.into(),
        }
    }

    /// Whether this is a failure.
    pub fn is_failed(&self) -> bool {
        matches!(self, CaseOutcome::Failed { .. })
    }
}

/// One ticket's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketOutcome {
    /// The Zendesk ticket.
    pub ticket_id: u64,
    /// What became of it.
    pub outcome: CaseOutcome,
}

/// Collects the outcomes of a cases run (one event, a reconcile pass, or a receiver's
/// session, event after event), then [`build`](Self::build)s its report.
#[derive(Debug, Clone)]
pub struct CasesReportBuilder {
    /// Identity, reads, API calls and times (everything not derived from outcomes).
    base: Report,
    counts: CaseCounts,
    changes: Vec<Change>,
    errors: Vec<ReportError>,
    /// Entries listed at most in `changes[]` and in `errors[]` (each).
    max_listed: usize,
    /// Entries left out past `max_listed`.
    unlisted: usize,
    stop: Option<String>,
}

impl CasesReportBuilder {
    /// A run of `sync` started at `started_at`, listing every entry.
    pub fn new(sync: &str, dry_run: bool, started_at: OffsetDateTime) -> CasesReportBuilder {
        CasesReportBuilder {
            base: Report::new(sync, dry_run, started_at),
            counts: CaseCounts::default(),
            changes: Vec::new(),
            errors: Vec::new(),
            max_listed: usize::MAX,
            unlisted: 0,
            stop: None,
        }
    }

    /// Lists at most `max` entries of `changes[]` and of `errors[]` (the first ones);
    /// the counts still include every outcome.
    pub fn listing_at_most(mut self, max: usize) -> CasesReportBuilder {
        self.max_listed = max;
        self
    }

    /// Whether this is a dry run.
    pub fn dry_run(&self) -> bool {
        self.base.dry_run
    }

    /// One outcome of `ticket_id`.
    pub fn ticket(&mut self, ticket_id: u64, outcome: CaseOutcome) {
        let c = &mut self.counts;
        let (action, write) = match outcome {
            CaseOutcome::Created(w) => {
                c.create += 1;
                (ChangeAction::CreateCase, w)
            }
            CaseOutcome::Updated(w) => {
                c.update += 1;
                (ChangeAction::UpdateCase, w)
            }
            CaseOutcome::Closed(w) => {
                c.close += 1;
                (ChangeAction::CloseCase, w)
            }
            CaseOutcome::Unchanged => {
                c.unchanged += 1;
                return;
            }
            CaseOutcome::Skipped { kind, message } => {
                c.unchanged += 1;
                self.error(ReportError::ticket(kind, ticket_id, message));
                return;
            }
            CaseOutcome::Failed { kind, message } => {
                c.failed += 1;
                self.error(ReportError::ticket(kind, ticket_id, message));
                return;
            }
        };
        // Past the listing limit (a receiver running for months) the write is counted
        // only: no entry is built for it.
        if self.changes.len() >= self.max_listed {
            self.unlisted += 1;
            return;
        }
        let mut fields = Map::new();
        fields.insert("key".into(), Value::from(write.key));
        fields.extend(write.fields);
        self.changes.push(Change {
            action,
            salesforce_id: None,
            email: None,
            ticket_id: Some(ticket_id),
            name: None,
            fields: JsonFields::from(fields),
            before: None,
        });
    }

    /// An entry of `errors[]`, or one more unlisted past the limit.
    fn error(&mut self, error: ReportError) {
        if self.errors.len() < self.max_listed {
            self.errors.push(error);
        } else {
            self.unlisted += 1;
        }
    }

    /// Outcomes of several tickets, in order.
    pub fn tickets(&mut self, outcomes: impl IntoIterator<Item = TicketOutcome>) {
        for t in outcomes {
            self.ticket(t.ticket_id, t.outcome);
        }
    }

    /// Salesforce records read (the Cases found by the lookups).
    pub fn salesforce_records(&mut self, records: usize) {
        self.base.salesforce.records += records;
    }

    /// Zendesk organizations read.
    pub fn zendesk_organizations(&mut self, organizations: usize) {
        self.base.zendesk.organizations += organizations;
    }

    /// The error that stopped the run (`run_stopped`).
    pub fn stopped(&mut self, message: impl Into<String>) {
        self.stop = Some(message.into());
    }

    /// API calls made.
    pub fn api_calls(&mut self, calls: ApiCalls) {
        self.base.api_calls = calls;
    }

    /// The end of the run.
    pub fn finished(&mut self, at: OffsetDateTime) {
        self.base.finished_at = Some(at);
    }

    /// Entries of `changes[]` and `errors[]` left out past
    /// [`listing_at_most`](Self::listing_at_most).
    pub fn unlisted(&self) -> usize {
        self.unlisted
    }

    /// The report.
    pub fn build(self) -> Report {
        let mut report = self.base;
        report.cases = Some(self.counts);
        report.changes = self.changes;
        report.errors = self.errors;
        if let Some(stop) = self.stop {
            report
                .errors
                .push(ReportError::new(FailureKind::RunStopped, stop));
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ErrorKind;
    use serde_json::json;

    fn builder() -> CasesReportBuilder {
        CasesReportBuilder::new("salesforce-cases", false, OffsetDateTime::UNIX_EPOCH)
    }

    fn write(key: &str, fields: Value) -> CaseWrite {
        CaseWrite {
            key: key.to_string(),
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    /// One of each outcome, the race's update and close on one ticket among them.
    fn outcomes() -> Vec<TicketOutcome> {
        let t = |ticket_id, outcome| TicketOutcome { ticket_id, outcome };
        vec![
            t(
                1,
                CaseOutcome::Created(write("1", json!({"Status": "New"}))),
            ),
            t(2, CaseOutcome::Updated(write("2", json!({"Subject": "b"})))),
            t(
                2,
                CaseOutcome::Closed(write("2", json!({"Status": "Closed"}))),
            ),
            t(3, CaseOutcome::Unchanged),
            t(
                4,
                CaseOutcome::Skipped {
                    kind: FindingKind::NoOrganization,
                    message: "ticket 4: no organization; no Case".into(),
                },
            ),
            t(
                5,
                CaseOutcome::write_failed("ticket 5: FIELD_INTEGRITY: bad"),
            ),
            t(
                6,
                CaseOutcome::event_failed("created event: its handling panicked (boom)"),
            ),
        ]
    }

    #[test]
    fn the_counts_are_the_outcomes_and_each_is_listed_once() {
        let mut b = builder();
        b.tickets(outcomes());
        b.salesforce_records(2);
        b.zendesk_organizations(3);
        let r = b.build();
        assert_eq!(
            r.cases,
            Some(CaseCounts {
                create: 1,
                update: 1,
                close: 1,
                unchanged: 2,
                failed: 2,
            })
        );
        assert_eq!((r.salesforce.records, r.zendesk.organizations), (2, 3));
        let changes: Vec<(ChangeAction, Option<u64>, Value)> = r
            .changes
            .iter()
            .map(|c| (c.action, c.ticket_id, c.fields.to_value()))
            .collect();
        assert_eq!(
            changes,
            [
                (
                    ChangeAction::CreateCase,
                    Some(1),
                    json!({"key": "1", "Status": "New"})
                ),
                (
                    ChangeAction::UpdateCase,
                    Some(2),
                    json!({"key": "2", "Subject": "b"})
                ),
                (
                    ChangeAction::CloseCase,
                    Some(2),
                    json!({"key": "2", "Status": "Closed"})
                ),
            ]
        );
        let errors: Vec<(ErrorKind, Option<u64>)> =
            r.errors.iter().map(|e| (e.kind, e.ticket_id)).collect();
        assert_eq!(
            errors,
            [
                (FindingKind::NoOrganization.into(), Some(4)),
                (FailureKind::CaseWriteFailed.into(), Some(5)),
                (FailureKind::EventFailed.into(), Some(6)),
            ]
        );
        assert_eq!(r.errors[1].message, "ticket 5: FIELD_INTEGRITY: bad");
        assert!(r.has_failures());
        assert!(r.planned.is_none() && r.plan_hash.is_none());
    }

    /// A failed write is counted failed and listed once, and is never a change.
    #[test]
    fn a_failed_event_is_one_error_and_one_failure() {
        let mut b = builder();
        b.ticket(
            9,
            CaseOutcome::event_failed("closed event: connection refused"),
        );
        let r = b.build();
        let c = r.cases.clone().unwrap_or_default();
        assert_eq!(
            (c.failed, c.create, c.update, c.close, c.unchanged),
            (1, 0, 0, 0, 0)
        );
        assert_eq!(r.errors.len(), 1);
        assert_eq!(r.errors[0].kind, FailureKind::EventFailed.into());
        assert_eq!(r.errors[0].ticket_id, Some(9));
        assert!(r.changes.is_empty());
    }

    /// The receiver's panicked event: counted failed, listed with its message, and the
    /// events before and after it still counted.
    #[test]
    fn a_panicked_event_is_failed_and_the_others_stand() {
        let mut b = builder();
        b.ticket(1, CaseOutcome::Created(write("1", json!({}))));
        b.ticket(
            13,
            CaseOutcome::event_failed(
                "created event: its handling panicked (injected); the events behind it go on",
            ),
        );
        b.ticket(
            13,
            CaseOutcome::Closed(write("13", json!({"Status": "Closed"}))),
        );
        let r = b.build();
        let c = r.cases.clone().unwrap_or_default();
        assert_eq!((c.create, c.close, c.failed), (1, 1, 1));
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].message.contains("panicked (injected)"));
        assert_eq!(r.changes.len(), 2);
    }

    #[test]
    fn a_stop_is_the_last_error_and_the_outcomes_before_it_stand() {
        let mut b = builder();
        b.ticket(1, CaseOutcome::Created(write("1", json!({}))));
        b.ticket(2, CaseOutcome::write_failed("ticket 2: refused"));
        b.stopped("Salesforce: connection refused");
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(5);
        b.finished(at);
        b.api_calls(ApiCalls {
            salesforce: 4,
            zendesk: 2,
        });
        let r = b.build();
        assert_eq!(r.cases.as_ref().map(|c| (c.create, c.failed)), Some((1, 1)));
        let kinds: Vec<ErrorKind> = r.errors.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                FailureKind::CaseWriteFailed.into(),
                FailureKind::RunStopped.into()
            ]
        );
        assert_eq!(r.errors[1].ticket_id, None);
        assert_eq!(r.finished_at, Some(at));
        assert_eq!((r.api_calls.salesforce, r.api_calls.zendesk), (4, 2));
    }

    #[test]
    fn an_empty_run_has_zero_counts_not_none() {
        let r = builder().build();
        assert_eq!(r.cases, Some(CaseCounts::default()));
        assert!(r.errors.is_empty() && r.changes.is_empty());
    }

    #[test]
    fn past_the_listing_cap_entries_are_left_out_but_counted() {
        let mut b = builder().listing_at_most(2);
        for id in 1..=3 {
            b.ticket(id, CaseOutcome::Created(write(&id.to_string(), json!({}))));
            b.ticket(
                id,
                CaseOutcome::write_failed(format!("ticket {id}: refused")),
            );
        }
        assert_eq!(b.unlisted(), 2);
        b.stopped("stop");
        let r = b.build();
        let c = r.cases.clone().unwrap_or_default();
        assert_eq!((c.create, c.failed), (3, 3));
        assert_eq!(r.changes.len(), 2);
        // The stop is listed past the cap: the report always says why it ends.
        assert_eq!(r.errors.len(), 3);
        assert_eq!(
            r.errors.last().map(|e| e.kind),
            Some(FailureKind::RunStopped.into())
        );
    }

    #[test]
    fn a_decision_applied_is_its_outcome() {
        let mut body = Map::new();
        body.insert("Subject".into(), json!("s"));
        let create = Decision::Create {
            key: "usfed-7".into(),
            body: body.clone(),
            closed: false,
        };
        assert_eq!(
            CaseOutcome::applied(&create),
            CaseOutcome::Created(CaseWrite {
                key: "usfed-7".into(),
                fields: body.clone(),
            })
        );
        let close = Decision::Close {
            key: "7".into(),
            case_id: "500x".into(),
        };
        assert_eq!(
            CaseOutcome::applied(&close),
            CaseOutcome::Closed(write("7", json!({"Status": "Closed"})))
        );
        let none = Decision::NoAccount {
            key: "7".into(),
            message: "ticket 7: no organization; no Case".into(),
        };
        assert_eq!(
            CaseOutcome::applied(&none),
            CaseOutcome::Skipped {
                kind: FindingKind::NoOrganization,
                message: "ticket 7: no organization; no Case".into(),
            }
        );
        let same = Decision::Unchanged {
            key: "7".into(),
            reason: "the Case exists",
        };
        assert_eq!(CaseOutcome::applied(&same), CaseOutcome::Unchanged);
    }

    /// The dry run's report: the writes that would be made, as changes and counts.
    #[test]
    fn a_dry_run_reports_what_would_be_written() {
        let mut b = CasesReportBuilder::new("salesforce-cases", true, OffsetDateTime::UNIX_EPOCH);
        assert!(b.dry_run());
        b.ticket(
            1,
            CaseOutcome::Created(write("1", json!({"Status": "New"}))),
        );
        let r = b.build();
        assert!(r.dry_run);
        assert_eq!(r.cases.map(|c| c.create), Some(1));
        assert_eq!(r.changes.len(), 1);
        assert!(r.planned.is_none());
    }
}
