//! The one place a sync job's [`Report`] is written: from the plan(s) of the run and
//! the [`Outcome`] of each planned write. Pure.
//!
//! - Dry run: counts and `changes[]` are the plan; no `planned`, no `not_attempted`.
//! - Real run: counts and `changes[]` are the writes confirmed applied
//!   ([`Outcome::Applied`], [`Outcome::Confirmed`]); each failed write is an `errors[]`
//!   entry (`org_create_failed`, …) with the API's `code: message`; a phase cut off by
//!   a stop has one `not_attempted` entry saying how many of its writes were not
//!   applied. When a guard tripped or a planned write was not attempted, the whole plan
//!   is under `planned`. A run whose every write was attempted carries no `planned`,
//!   even with failed rows (they are in `errors[]`).

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::{
    ApiCalls, Change, ChangeAction, ErrorKind, FailureKind, JsonFields, OrgCounts, Outcome,
    Outcomes, Planned, Report, ReportError, UserCounts,
};
use crate::diff::Plan;
use crate::guards::Guard;
use crate::users::{UserAction, UserPlan};

/// A step of a sync job whose writes are reported together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Org creates and updates.
    OrgWrites,
    /// Global: the sold-to users of new orgs.
    SoldToUsers,
    /// US Federal: the users of the contacts.
    Users,
    /// Global: deletions of greatly-expired orgs (last).
    OrgDeletes,
}

impl Phase {
    /// The phase's writes, in words (plural).
    fn what(self) -> &'static str {
        match self {
            Phase::OrgWrites => "organization writes",
            Phase::SoldToUsers => "sold-to users",
            Phase::Users => "users",
            Phase::OrgDeletes => "org deletions",
        }
    }
}

/// One planned write.
#[derive(Debug, Clone)]
struct Item {
    phase: Phase,
    /// The account (org writes) or the email (user writes).
    key: String,
    change: Change,
}

/// Collects what a sync run planned and what became of it, then [`build`](Self::build)s
/// the report.
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    /// Identity, reads, guards, API calls (everything not derived from outcomes).
    base: Report,
    /// The job's phases, in run order.
    phases: Vec<Phase>,
    /// Phases whose plan was made.
    reached: BTreeSet<Phase>,
    items: Vec<Item>,
    findings: BTreeMap<Phase, Vec<ReportError>>,
    outcomes: BTreeMap<Phase, Outcomes>,
    org_facts: OrgCounts,
    user_unchanged: usize,
    user_accounts: BTreeMap<String, String>,
    stop: Option<String>,
}

impl ReportBuilder {
    /// A run of `sync` with these `phases` (in run order), started at `started_at`.
    pub fn new(
        sync: &str,
        dry_run: bool,
        started_at: OffsetDateTime,
        phases: &[Phase],
    ) -> ReportBuilder {
        ReportBuilder {
            base: Report::new(sync, dry_run, started_at),
            phases: phases.to_vec(),
            reached: BTreeSet::new(),
            items: Vec::new(),
            findings: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            org_facts: OrgCounts::default(),
            user_unchanged: 0,
            user_accounts: BTreeMap::new(),
            stop: None,
        }
    }

    /// Whether this is a dry run.
    pub fn dry_run(&self) -> bool {
        self.base.dry_run
    }

    /// Salesforce records read besides the org plan's (e.g. US Federal contacts).
    pub fn salesforce_records(&mut self, records: usize) {
        self.base.salesforce.records += records;
    }

    /// Zendesk users read.
    pub fn zendesk_users(&mut self, users: usize) {
        self.base.zendesk.users = Some(users);
    }

    /// The org plan: what was read, the facts (unchanged, not in Salesforce, skipped),
    /// its findings, and its writes (creates and updates in [`Phase::OrgWrites`],
    /// deletions in [`Phase::OrgDeletes`]).
    pub fn org_plan(&mut self, plan: &Plan) {
        self.base.salesforce.records += plan.salesforce_records;
        self.base.zendesk.organizations = plan.zendesk_organizations;
        self.org_facts.unchanged += plan.unchanged.len();
        self.org_facts.not_in_salesforce += plan.not_in_salesforce;
        self.org_facts.skipped += plan.skipped.len();
        self.reached.insert(Phase::OrgWrites);
        self.reached.insert(Phase::OrgDeletes);
        self.findings
            .entry(Phase::OrgWrites)
            .or_default()
            .extend(plan.findings.iter().map(ReportError::from));
        self.base.plan_hash = Some(plan.hash());
        let org = |phase, action, id: &str, name: &str, fields: serde_json::Value| Item {
            phase,
            key: id.to_string(),
            change: Change {
                action,
                salesforce_id: Some(id.to_string()),
                email: None,
                ticket_id: None,
                name: Some(name.to_string()),
                fields: JsonFields::from(fields),
                before: None,
            },
        };
        // Exactly: a list grown by doubling holds twice its size while it is copied.
        self.items
            .reserve(plan.creates.len() + plan.updates.len() + plan.deletes.len());
        for c in &plan.creates {
            let item = org(
                Phase::OrgWrites,
                ChangeAction::CreateOrg,
                &c.salesforce_id,
                &c.name,
                c.zendesk_body(),
            );
            self.items.push(item);
        }
        for u in &plan.updates {
            let mut item = org(
                Phase::OrgWrites,
                ChangeAction::UpdateOrg,
                &u.salesforce_id,
                &u.before.name,
                u.zendesk_body(),
            );
            item.change.before = Some(JsonFields::from(u.before.changed(&u.patch)));
            self.items.push(item);
        }
        for d in &plan.deletes {
            let fields = serde_json::json!({ "id": d.id, "name": d.name });
            let item = org(
                Phase::OrgDeletes,
                ChangeAction::DeleteOrg,
                &d.salesforce_id,
                &d.name,
                fields,
            );
            self.items.push(item);
        }
    }

    /// A user plan of `phase` (made once the phase is reached, empty if it has
    /// nothing to do): its findings, unchanged users and writes.
    pub fn user_plan(&mut self, phase: Phase, plan: &UserPlan) {
        self.reached.insert(phase);
        self.user_unchanged += plan.unchanged;
        self.findings
            .entry(phase)
            .or_default()
            .extend(plan.findings.iter().map(ReportError::from));
        for action in &plan.actions {
            self.items.push(Item {
                phase,
                key: action.email().to_string(),
                change: user_change(action),
            });
        }
    }

    /// Names the account of user changes by email (US Federal: the contact's account),
    /// so a reviewer sees where a user goes even before its org exists.
    pub fn user_accounts(&mut self, accounts: BTreeMap<String, String>) {
        self.user_accounts.extend(accounts);
    }

    /// The guards checked before the first write.
    pub fn guards(&mut self, guards: &[Guard]) {
        self.base.guards.extend(guards.iter().cloned());
    }

    /// What became of the writes of `phase` (the phase was attempted). A planned write
    /// without an outcome was not attempted.
    pub fn outcomes(&mut self, phase: Phase, outcomes: Outcomes) {
        self.outcomes.entry(phase).or_default().extend(outcomes);
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

    fn outcome(&self, item: &Item) -> Outcome {
        if self.base.dry_run {
            return Outcome::NotAttempted;
        }
        self.outcomes
            .get(&item.phase)
            .and_then(|o| o.get(&item.key))
            .cloned()
            .unwrap_or(Outcome::NotAttempted)
    }

    /// The `changes[]` entry of an item, its account named when the item is a user
    /// write of a known contact. Takes the item: every change is built once, moved
    /// (issue 13: the report's changes are not held twice).
    fn change(&self, item: Item) -> Change {
        let mut change = item.change;
        let account = change
            .email
            .as_ref()
            .and_then(|email| self.user_accounts.get(&email.trim().to_lowercase()));
        if let Some(account) = account {
            change.salesforce_id = Some(account.clone());
        }
        change
    }

    /// The report. Each change is moved into it once; only a real run that keeps its
    /// whole plan under `planned` copies the changes that were done.
    pub fn build(mut self) -> Report {
        let mut report = self.base.clone();
        let guard_tripped = report.guards.iter().any(|g| g.tripped);
        let outcomes: Vec<Outcome> = self.items.iter().map(|i| self.outcome(i)).collect();
        let planned_counts = self.planned_counts();
        let (orgs, users) = if report.dry_run {
            planned_counts.clone()
        } else {
            self.counts(&outcomes)
        };
        report.organizations = orgs;
        report.users = users;
        for phase in &self.phases {
            if let Some(findings) = self.findings.get(phase) {
                report.errors.extend(findings.iter().cloned());
            }
            if report.dry_run {
                continue;
            }
            report.errors.extend(self.failures(*phase, &outcomes));
            if !guard_tripped {
                report.errors.extend(self.not_attempted(*phase, &outcomes));
            }
        }
        if let Some(stop) = &self.stop {
            report
                .errors
                .push(ReportError::new(FailureKind::RunStopped, stop.clone()));
        }
        let whole_plan_attempted = outcomes.iter().all(|o| !matches!(o, Outcome::NotAttempted));
        let keep_planned = !report.dry_run && (guard_tripped || !whole_plan_attempted);
        let items = std::mem::take(&mut self.items);
        if keep_planned {
            report.changes = items
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.is_done())
                .map(|(i, _)| self.change(i.clone()))
                .collect();
            let (organizations, users) = planned_counts;
            report.planned = Some(Planned {
                organizations,
                users,
                changes: items.into_iter().map(|i| self.change(i)).collect(),
            });
        } else {
            let dry_run = report.dry_run;
            report.changes = items
                .into_iter()
                .zip(&outcomes)
                .filter(|(_, o)| dry_run || o.is_done())
                .map(|(i, _)| self.change(i))
                .collect();
        }
        report
    }

    /// The plan's counts in the report's shape (`planned`, and a dry run's counts).
    fn planned_counts(&self) -> (OrgCounts, UserCounts) {
        let count = |a: ChangeAction| self.items.iter().filter(|i| i.change.action == a).count();
        (
            OrgCounts {
                create: count(ChangeAction::CreateOrg),
                update: count(ChangeAction::UpdateOrg),
                delete: count(ChangeAction::DeleteOrg),
                ..self.org_facts.clone()
            },
            UserCounts {
                create: count(ChangeAction::CreateUser),
                update: count(ChangeAction::UpdateUser),
                unchanged: self.user_unchanged,
                failed: 0,
            },
        )
    }

    /// Counts of a real run: confirmed writes, failed writes, and the plan's facts.
    fn counts(&self, outcomes: &[Outcome]) -> (OrgCounts, UserCounts) {
        let mut orgs = self.org_facts.clone();
        let mut users = UserCounts {
            unchanged: self.user_unchanged,
            ..UserCounts::default()
        };
        for (item, outcome) in self.items.iter().zip(outcomes) {
            let failed = matches!(outcome, Outcome::Failed { .. });
            let done = outcome.is_done();
            let slot = match item.change.action {
                ChangeAction::CreateOrg => &mut orgs.create,
                ChangeAction::UpdateOrg => &mut orgs.update,
                ChangeAction::DeleteOrg => &mut orgs.delete,
                ChangeAction::CreateUser => &mut users.create,
                ChangeAction::UpdateUser => &mut users.update,
                ChangeAction::CreateCase | ChangeAction::UpdateCase | ChangeAction::CloseCase => {
                    continue
                }
            };
            if done {
                *slot += 1;
            }
            if failed {
                match item.change.action {
                    ChangeAction::CreateUser | ChangeAction::UpdateUser => users.failed += 1,
                    _ => orgs.failed += 1,
                }
            }
        }
        (orgs, users)
    }

    /// One `errors[]` entry per failed write of `phase`, with the API's `code: message`.
    fn failures(&self, phase: Phase, outcomes: &[Outcome]) -> Vec<ReportError> {
        self.items
            .iter()
            .zip(outcomes)
            .filter(|(i, _)| i.phase == phase)
            .filter_map(|(item, outcome)| match outcome {
                Outcome::Failed { code, message } => Some(ReportError {
                    kind: ErrorKind::Failure(item.change.action.failure()),
                    salesforce_id: if item.change.email.is_some() {
                        None
                    } else {
                        item.change.salesforce_id.clone()
                    },
                    email: item.change.email.clone(),
                    ticket_id: None,
                    message: format!("{code}: {message}"),
                }),
                _ => None,
            })
            .collect()
    }

    /// The `not_attempted` entry of a phase a stop cut off, if any.
    fn not_attempted(&self, phase: Phase, outcomes: &[Outcome]) -> Option<ReportError> {
        let stop = self.stop.as_deref().unwrap_or("the run stopped");
        let mine: Vec<(&Item, &Outcome)> = self
            .items
            .iter()
            .zip(outcomes)
            .filter(|(i, _)| i.phase == phase)
            .collect();
        let left = |action: Option<ChangeAction>| {
            mine.iter()
                .filter(|(i, _)| action.is_none_or(|a| i.change.action == a))
                .filter(|(_, o)| matches!(o, Outcome::NotAttempted))
                .count()
        };
        let total = |action: Option<ChangeAction>| {
            mine.iter()
                .filter(|(i, _)| action.is_none_or(|a| i.change.action == a))
                .count()
        };
        if !self.reached.contains(&phase) {
            // Not reached: said only once the run has a plan and stopped on an error.
            let org_plan = self.reached.contains(&Phase::OrgWrites);
            return (org_plan && self.stop.is_some()).then(|| {
                ReportError::new(
                    FailureKind::NotAttempted,
                    format!(
                        "{} were not attempted: the run stopped before them ({stop})",
                        phase.what()
                    ),
                )
            });
        }
        if left(None) == 0 {
            return None;
        }
        let message = if !self.outcomes.contains_key(&phase) {
            format!(
                "{} {} were not attempted: the run stopped before them",
                left(None),
                phase.what()
            )
        } else if phase == Phase::OrgWrites {
            let (c, u) = (Some(ChangeAction::CreateOrg), Some(ChangeAction::UpdateOrg));
            format!(
                "the run stopped on a Zendesk error ({stop}): {} of {} org creates and {} of {} \
                 org updates were not applied (not sent, or sent in the call that failed) and \
                 nothing after them was attempted; the next run retries them",
                left(c),
                total(c),
                left(u),
                total(u)
            )
        } else {
            let what = match phase {
                Phase::OrgDeletes => "org deletions",
                Phase::SoldToUsers => "sold-to user writes",
                Phase::Users | Phase::OrgWrites => "user writes",
            };
            format!(
                "the run stopped on a Zendesk error ({stop}): {} of {} {what} were not applied \
                 (not sent, or sent in the call that failed); the next run retries them",
                left(None),
                total(None)
            )
        };
        Some(ReportError::new(FailureKind::NotAttempted, message))
    }
}

/// The `changes[]` entry of a user write.
fn user_change(action: &UserAction) -> Change {
    let (name, fields) = match action {
        UserAction::Create {
            name,
            organization_id,
            ..
        } => (
            ChangeAction::CreateUser,
            serde_json::json!({ "name": name, "organization_id": organization_id, "role": "end-user" }),
        ),
        UserAction::Update {
            user_id,
            name,
            organization_id,
            ..
        } => {
            let mut fields = serde_json::json!({ "id": user_id });
            if let Some(map) = fields.as_object_mut() {
                if let Some(name) = name {
                    map.insert("name".into(), name.clone().into());
                }
                if let Some(org) = organization_id {
                    map.insert("organization_id".into(), org.get().into());
                }
            }
            (ChangeAction::UpdateUser, fields)
        }
    };
    Change {
        action: name,
        salesforce_id: None,
        email: Some(action.email().to_string()),
        ticket_id: None,
        name: None,
        fields: JsonFields::from(fields),
        before: None,
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::diff::{OrgCreate, OrgDelete, OrgPatch, OrgUpdate};
    use crate::model::FindingKind;
    use crate::report::Planned;
    use crate::{Finding, SalesforceId, ZendeskOrgId};

    const PHASES: &[Phase] = &[Phase::OrgWrites, Phase::SoldToUsers, Phase::OrgDeletes];
    const C1: &str = "001000000000000AC1";
    const C2: &str = "001000000000000AC2";
    const U1: &str = "001000000000000AU1";
    const D1: &str = "001000000000000AD1";

    fn sfid(id: &str) -> SalesforceId {
        SalesforceId::parse(id).unwrap_or_else(|e| panic!("{e}"))
    }

    fn plan() -> Plan {
        let create = |id: &str| OrgCreate {
            salesforce_id: sfid(id),
            name: id.into(),
            organization_fields: crate::FieldMap::new(),
            tags: Vec::new(),
        };
        Plan {
            creates: vec![create(C1), create(C2)],
            updates: vec![OrgUpdate {
                salesforce_id: sfid(U1),
                id: ZendeskOrgId(11),
                patch: OrgPatch::default(),
                before: Default::default(),
            }],
            deletes: vec![OrgDelete {
                salesforce_id: sfid(D1),
                id: ZendeskOrgId(21),
                name: "Gone".into(),
            }],
            unchanged: vec![sfid("001000000000000AS1")],
            findings: vec![Finding::account(
                FindingKind::UnknownTier,
                Some("X1"),
                "tier Foo",
            )],
            ..Plan::default()
        }
    }

    fn builder(dry_run: bool) -> ReportBuilder {
        let mut b = ReportBuilder::new(
            "zd-sfdc-sync-global",
            dry_run,
            OffsetDateTime::UNIX_EPOCH,
            PHASES,
        );
        b.org_plan(&plan());
        b
    }

    fn guard(tripped: bool) -> Guard {
        Guard {
            name: "max_deletions".into(),
            tripped,
            detail: "1 > 0".into(),
        }
    }

    fn kinds(report: &Report) -> Vec<ErrorKind> {
        report.errors.iter().map(|e| e.kind).collect()
    }

    fn actions(changes: &[Change]) -> Vec<(ChangeAction, Option<&str>)> {
        changes
            .iter()
            .map(|c| (c.action, c.salesforce_id.as_deref()))
            .collect()
    }

    fn outcomes(pairs: &[(&str, Outcome)]) -> Outcomes {
        pairs
            .iter()
            .map(|(k, o)| (k.to_string(), o.clone()))
            .collect()
    }

    #[test]
    fn a_dry_run_reports_its_plan_as_counts_and_changes_and_has_no_planned() {
        let mut b = builder(true);
        b.guards(&[guard(false)]);
        let r = b.build();
        assert_eq!(
            (
                r.organizations.create,
                r.organizations.update,
                r.organizations.delete
            ),
            (2, 1, 1)
        );
        assert_eq!(r.organizations.unchanged, 1);
        assert_eq!(r.changes.len(), 4);
        assert_eq!(r.planned, None);
        assert_eq!(kinds(&r), [ErrorKind::Finding(FindingKind::UnknownTier)]);
    }

    #[test]
    fn a_real_run_stopped_by_a_guard_reports_nothing_done_and_its_plan_under_planned() {
        let mut b = builder(false);
        b.guards(&[guard(true)]);
        let r = b.build();
        assert_eq!(
            (
                r.organizations.create,
                r.organizations.update,
                r.organizations.delete
            ),
            (0, 0, 0)
        );
        assert!(r.changes.is_empty());
        let planned: Planned = r.planned.clone().unwrap_or_default();
        assert_eq!(
            (
                planned.organizations.create,
                planned.organizations.update,
                planned.organizations.delete
            ),
            (2, 1, 1)
        );
        assert_eq!(
            actions(&planned.changes),
            [
                (ChangeAction::CreateOrg, Some(C1)),
                (ChangeAction::CreateOrg, Some(C2)),
                (ChangeAction::UpdateOrg, Some(U1)),
                (ChangeAction::DeleteOrg, Some(D1)),
            ]
        );
        // The guard says why; no `not_attempted` entries.
        assert_eq!(kinds(&r), [ErrorKind::Finding(FindingKind::UnknownTier)]);
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["organizations"]["create"], 0);
        assert_eq!(json["planned"]["changes"].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn a_run_stopped_part_way_reports_what_was_confirmed_and_what_was_not_attempted() {
        let mut b = builder(false);
        b.guards(&[guard(false)]);
        b.outcomes(
            Phase::OrgWrites,
            outcomes(&[(C1, Outcome::Applied), (C2, Outcome::Confirmed)]),
        );
        b.stopped("Zendesk unreachable");
        let r = b.build();
        assert_eq!(
            (
                r.organizations.create,
                r.organizations.update,
                r.organizations.delete
            ),
            (2, 0, 0)
        );
        assert_eq!(
            actions(&r.changes),
            [
                (ChangeAction::CreateOrg, Some(C1)),
                (ChangeAction::CreateOrg, Some(C2)),
            ]
        );
        assert_eq!(r.planned.as_ref().map(|p| p.changes.len()), Some(4));
        let not_attempted: Vec<&str> = r
            .errors
            .iter()
            .filter(|e| e.kind == ErrorKind::Failure(FailureKind::NotAttempted))
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(not_attempted.len(), 3, "{not_attempted:?}");
        assert!(
            not_attempted[0].contains("0 of 2 org creates and 1 of 1 org updates were not applied")
        );
        assert!(not_attempted[1].starts_with("sold-to users were not attempted"));
        assert!(not_attempted[2].starts_with("1 org deletions were not attempted"));
        assert_eq!(
            r.errors.last().map(|e| e.kind),
            Some(ErrorKind::Failure(FailureKind::RunStopped))
        );
    }

    #[test]
    fn a_run_that_attempted_everything_has_no_planned_even_with_failed_rows() {
        let mut b = builder(false);
        b.outcomes(
            Phase::OrgWrites,
            outcomes(&[
                (C1, Outcome::Applied),
                (C2, Outcome::failed("RecordInvalid", "Name: is too long")),
                (U1, Outcome::Applied),
            ]),
        );
        b.user_plan(Phase::SoldToUsers, &UserPlan::default());
        b.outcomes(
            Phase::OrgDeletes,
            outcomes(&[(D1, Outcome::failed("NotDeleted", "still there"))]),
        );
        let r = b.build();
        assert_eq!(r.planned, None);
        assert_eq!(
            (
                r.organizations.create,
                r.organizations.update,
                r.organizations.delete,
                r.organizations.failed
            ),
            (1, 1, 0, 2)
        );
        let failures: Vec<(ErrorKind, Option<&str>, &str)> = r
            .errors
            .iter()
            .skip(1)
            .map(|e| (e.kind, e.salesforce_id.as_deref(), e.message.as_str()))
            .collect();
        assert_eq!(
            failures,
            [
                (
                    ErrorKind::Failure(FailureKind::OrgCreateFailed),
                    Some(C2),
                    "RecordInvalid: Name: is too long"
                ),
                (
                    ErrorKind::Failure(FailureKind::OrgDeleteFailed),
                    Some(D1),
                    "NotDeleted: still there"
                ),
            ]
        );
    }

    #[test]
    fn user_writes_count_by_outcome_and_a_withdrawn_one_is_neither_done_nor_left() {
        let mut b = builder(false);
        b.outcomes(
            Phase::OrgWrites,
            outcomes(&[
                (C1, Outcome::Applied),
                (C2, Outcome::Applied),
                (U1, Outcome::Applied),
            ]),
        );
        let create = |email: &str| UserAction::Create {
            name: "N".into(),
            email: email.into(),
            organization_id: ZendeskOrgId(1),
        };
        b.user_plan(
            Phase::SoldToUsers,
            &UserPlan {
                actions: vec![create("a@x"), create("b@x"), create("c@x")],
                ..UserPlan::default()
            },
        );
        b.outcomes(
            Phase::SoldToUsers,
            outcomes(&[
                ("a@x", Outcome::Confirmed),
                ("b@x", Outcome::Withdrawn),
                ("c@x", Outcome::failed("DuplicateValue", "taken")),
            ]),
        );
        b.outcomes(Phase::OrgDeletes, outcomes(&[(D1, Outcome::Applied)]));
        let r = b.build();
        assert_eq!((r.users.create, r.users.failed), (1, 1));
        assert_eq!(r.planned, None);
        let user_errors: Vec<(ErrorKind, Option<&str>)> = r
            .errors
            .iter()
            .filter(|e| !e.kind.is_finding())
            .map(|e| (e.kind, e.email.as_deref()))
            .collect();
        assert_eq!(
            user_errors,
            [(
                ErrorKind::Failure(FailureKind::UserCreateFailed),
                Some("c@x")
            )]
        );
    }

    #[test]
    fn a_report_reads_back_as_the_same_typed_value() {
        let mut b = builder(false);
        b.guards(&[guard(true)]);
        let r = b.build();
        let back: Result<Report, _> = serde_json::from_str(&r.to_json());
        assert_eq!(back.ok(), Some(r));
    }
}
