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
use std::sync::Arc;

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
    action: ChangeAction,
    what: What,
}

/// Where a planned write's `changes[]` entry comes from.
#[derive(Debug, Clone)]
enum What {
    /// A write of an org plan: the plan (its place in [`ReportBuilder::plans`]) and the
    /// write's place in the plan's list for the item's action. Its entry is written
    /// from the plan when the report is built, so a run does not hold every org write
    /// twice, once planned and once as report text (issue 13).
    Org { plan: usize, index: usize },
    /// A user write: its email (the key of its outcome) and its entry.
    User { key: String, change: Box<Change> },
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
    /// The org plans whose writes are items (one per run).
    plans: Vec<Arc<Plan>>,
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
            plans: Vec::new(),
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
    /// deletions in [`Phase::OrgDeletes`]). The builder keeps the plan (shared, not
    /// copied) and writes its findings and the entries of its writes from it in
    /// [`build`](Self::build).
    pub fn org_plan(&mut self, plan: Arc<Plan>) {
        self.base.salesforce.records += plan.salesforce_records;
        self.base.zendesk.organizations = plan.zendesk_organizations;
        self.org_facts.unchanged += plan.unchanged.len();
        self.org_facts.not_in_salesforce += plan.not_in_salesforce;
        self.org_facts.skipped += plan.skipped.len();
        self.reached.insert(Phase::OrgWrites);
        self.reached.insert(Phase::OrgDeletes);
        // Its findings are read from the plan when the report is built.
        self.base.plan_hash = Some(plan.hash());
        let at = self.plans.len();
        let writes = |phase, action, n: usize| {
            (0..n).map(move |index| Item {
                phase,
                action,
                what: What::Org { plan: at, index },
            })
        };
        // Exactly: a list grown by doubling holds twice its size while it is copied.
        self.items
            .reserve(plan.creates.len() + plan.updates.len() + plan.deletes.len());
        self.items.extend(
            writes(
                Phase::OrgWrites,
                ChangeAction::CreateOrg,
                plan.creates.len(),
            )
            .chain(writes(
                Phase::OrgWrites,
                ChangeAction::UpdateOrg,
                plan.updates.len(),
            ))
            .chain(writes(
                Phase::OrgDeletes,
                ChangeAction::DeleteOrg,
                plan.deletes.len(),
            )),
        );
        self.plans.push(plan);
    }

    /// The `plan_hash` of the org plan handed over, if any.
    pub fn plan_hash(&self) -> Option<&str> {
        self.base.plan_hash.as_deref()
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
        self.items.reserve(plan.actions.len());
        for action in &plan.actions {
            let change = user_change(action);
            self.items.push(Item {
                phase,
                action: change.action,
                what: What::User {
                    key: action.email().to_string(),
                    change: Box::new(change),
                },
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
            .and_then(|o| o.get(self.key(item)))
            .cloned()
            .unwrap_or(Outcome::NotAttempted)
    }

    /// The key of an item's outcome: the account of an org write, the email of a user
    /// write.
    fn key<'a>(&'a self, item: &'a Item) -> &'a str {
        match &item.what {
            What::Org { plan, index } => self
                .plans
                .get(*plan)
                .and_then(|plan| org_write_account(plan, item.action, *index))
                .unwrap_or_default(),
            What::User { key, .. } => key,
        }
    }

    /// The account (org writes) and email (user writes) of an item.
    fn who(&self, item: &Item) -> (Option<String>, Option<String>) {
        match &item.what {
            What::Org { .. } => (Some(self.key(item).to_string()), None),
            What::User { change, .. } => (change.salesforce_id.clone(), change.email.clone()),
        }
    }

    /// The `changes[]` entry of an item, its account named when the item is a user
    /// write of a known contact. Takes the item: every change is built once, moved
    /// (issue 13: the report's changes are not held twice); an org write's entry is
    /// written from its plan here.
    fn change(&self, item: Item) -> Change {
        let mut change = match item.what {
            What::Org { plan, index } => self
                .plans
                .get(plan)
                .and_then(|plan| org_change(plan, item.action, index))
                .unwrap_or_else(|| Change {
                    action: item.action,
                    salesforce_id: None,
                    email: None,
                    ticket_id: None,
                    name: None,
                    fields: JsonFields::default(),
                    before: None,
                }),
            What::User { change, .. } => *change,
        };
        let account = change
            .email
            .as_ref()
            .and_then(|email| self.user_accounts.get(&email.trim().to_lowercase()));
        if let Some(account) = account {
            change.salesforce_id = Some(account.clone());
        }
        change
    }

    /// [`change`](Self::change) for the last time: an org write's data is then released
    /// from its plan when the builder holds the plan alone, so the report's entries
    /// replace the plan as they are written rather than join it (issue 13).
    fn change_last(&mut self, item: Item) -> Change {
        let what = match &item.what {
            What::Org { plan, index } => Some((*plan, *index)),
            What::User { .. } => None,
        };
        let action = item.action;
        let change = self.change(item);
        if let Some((plan, index)) = what {
            if let Some(plan) = self.plans.get_mut(plan).and_then(Arc::get_mut) {
                release_org_write(plan, action, index);
            }
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
        // Room for every entry at once (at 100k accounts the findings alone are ~50,000):
        // findings, failed writes, a `not_attempted` per phase and `run_stopped`.
        report.errors.reserve(
            self.plans.iter().map(|p| p.findings.len()).sum::<usize>()
                + self.findings.values().map(Vec::len).sum::<usize>()
                + outcomes
                    .iter()
                    .filter(|o| matches!(o, Outcome::Failed { .. }))
                    .count()
                + self.phases.len()
                + 1,
        );
        for phase in &self.phases {
            if *phase == Phase::OrgWrites {
                // Moved out of a plan the builder holds alone (nothing reads them again).
                for plan in &mut self.plans {
                    match Arc::get_mut(plan) {
                        Some(plan) => report.errors.extend(
                            std::mem::take(&mut plan.findings)
                                .into_iter()
                                .map(ReportError::from),
                        ),
                        None => report
                            .errors
                            .extend(plan.findings.iter().map(ReportError::from)),
                    }
                }
            }
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
        // Whether each item is listed in `changes[]`; the outcomes are not read again, and
        // go before the entries are written (issue 13: ~12 MB at 100k accounts).
        let dry_run = report.dry_run;
        let listed: Vec<bool> = outcomes.iter().map(|o| dry_run || o.is_done()).collect();
        drop(outcomes);
        self.outcomes = BTreeMap::new();
        let items = std::mem::take(&mut self.items);
        // Exactly: a list grown by doubling holds twice its size while it is copied.
        report.changes = Vec::with_capacity(listed.iter().filter(|l| **l).count());
        if keep_planned {
            report.changes.extend(
                items
                    .iter()
                    .zip(&listed)
                    .filter(|(_, l)| **l)
                    .map(|(i, _)| self.change(i.clone())),
            );
            let (organizations, users) = planned_counts;
            let mut changes = Vec::with_capacity(items.len());
            changes.extend(items.into_iter().map(|i| self.change_last(i)));
            report.planned = Some(Planned {
                organizations,
                users,
                changes,
            });
        } else {
            report.changes.extend(
                items
                    .into_iter()
                    .zip(&listed)
                    .filter(|(_, l)| **l)
                    .map(|(i, _)| self.change_last(i)),
            );
        }
        report
    }

    /// The plan's counts in the report's shape (`planned`, and a dry run's counts).
    fn planned_counts(&self) -> (OrgCounts, UserCounts) {
        let count = |a: ChangeAction| self.items.iter().filter(|i| i.action == a).count();
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
            let slot = match item.action {
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
                match item.action {
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
                Outcome::Failed { code, message } => {
                    let (salesforce_id, email) = self.who(item);
                    Some(ReportError {
                        kind: ErrorKind::Failure(item.action.failure()),
                        salesforce_id: if email.is_some() { None } else { salesforce_id },
                        email,
                        ticket_id: None,
                        message: format!("{code}: {message}"),
                    })
                }
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
                .filter(|(i, _)| action.is_none_or(|a| i.action == a))
                .filter(|(_, o)| matches!(o, Outcome::NotAttempted))
                .count()
        };
        let total = |action: Option<ChangeAction>| {
            mine.iter()
                .filter(|(i, _)| action.is_none_or(|a| i.action == a))
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

/// The account of the `index`th write of `action` in `plan`.
fn org_write_account(plan: &Plan, action: ChangeAction, index: usize) -> Option<&str> {
    match action {
        ChangeAction::CreateOrg => plan.creates.get(index).map(|c| c.salesforce_id.as_str()),
        ChangeAction::UpdateOrg => plan.updates.get(index).map(|u| u.salesforce_id.as_str()),
        ChangeAction::DeleteOrg => plan.deletes.get(index).map(|d| d.salesforce_id.as_str()),
        _ => None,
    }
}

/// The `changes[]` entry of the `index`th write of `action` in `plan`.
fn org_change(plan: &Plan, action: ChangeAction, index: usize) -> Option<Change> {
    let org = |id: &str, name: &str, fields: serde_json::Value| Change {
        action,
        salesforce_id: Some(id.to_string()),
        email: None,
        ticket_id: None,
        name: Some(name.to_string()),
        fields: JsonFields::from(fields),
        before: None,
    };
    match action {
        ChangeAction::CreateOrg => {
            let c = plan.creates.get(index)?;
            Some(org(&c.salesforce_id, &c.name, c.zendesk_body()))
        }
        ChangeAction::UpdateOrg => {
            let u = plan.updates.get(index)?;
            let mut change = org(&u.salesforce_id, &u.before.name, u.zendesk_body());
            change.before = Some(JsonFields::from(u.before.changed(&u.patch)));
            Some(change)
        }
        ChangeAction::DeleteOrg => {
            let d = plan.deletes.get(index)?;
            let fields = serde_json::json!({ "id": d.id, "name": d.name });
            Some(org(&d.salesforce_id, &d.name, fields))
        }
        _ => None,
    }
}

/// Frees what the `index`th write of `action` in `plan` holds besides its account (its
/// entry is written; nothing reads it again).
fn release_org_write(plan: &mut Plan, action: ChangeAction, index: usize) {
    match action {
        ChangeAction::CreateOrg => {
            if let Some(c) = plan.creates.get_mut(index) {
                c.name = String::new();
                c.organization_fields = crate::FieldMap::new();
                c.tags = Vec::new();
            }
        }
        ChangeAction::UpdateOrg => {
            if let Some(u) = plan.updates.get_mut(index) {
                u.patch = Default::default();
                u.before = Default::default();
            }
        }
        ChangeAction::DeleteOrg => {
            if let Some(d) = plan.deletes.get_mut(index) {
                d.name = String::new();
            }
        }
        _ => {}
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
        b.org_plan(Arc::new(plan()));
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
    fn the_plan_hash_is_the_org_plans() {
        let b = ReportBuilder::new(
            "zd-sfdc-sync-global",
            true,
            OffsetDateTime::UNIX_EPOCH,
            PHASES,
        );
        assert_eq!(b.plan_hash(), None);
        let hash = plan().hash();
        assert_eq!(builder(true).plan_hash(), Some(hash.as_str()));
        assert_eq!(builder(true).build().plan_hash, Some(hash));
    }

    /// The entries of org writes are written from the plan, and a builder that holds
    /// its plan alone frees each write's data once its last entry is written: the
    /// report is the same as one built from a plan shared with the job.
    #[test]
    fn the_report_does_not_depend_on_whether_the_builder_holds_its_plan_alone() {
        let mut plan = plan();
        plan.creates[0].tags = vec!["gold".into()];
        plan.creates[0].organization_fields =
            [("tier", crate::value::FieldValue::Text("gold".into()))]
                .into_iter()
                .collect();
        plan.updates[0].patch = OrgPatch {
            name: Some("New".into()),
            ..OrgPatch::default()
        };
        plan.updates[0].before.name = "Old".into();
        for dry_run in [true, false] {
            let mut alone = ReportBuilder::new(
                "zd-sfdc-sync-global",
                dry_run,
                OffsetDateTime::UNIX_EPOCH,
                PHASES,
            );
            alone.org_plan(Arc::new(plan.clone()));
            alone.outcomes(
                Phase::OrgWrites,
                outcomes(&[(C1, Outcome::Applied), (U1, Outcome::Applied)]),
            );
            alone.stopped("Zendesk unreachable");
            let shared = alone.clone().build();
            let r = alone.build();
            assert_eq!(r, shared);
            let changes = match &r.planned {
                Some(planned) => &planned.changes,
                None => &r.changes,
            };
            assert_eq!(changes.len(), 4, "dry run {dry_run}");
            assert_eq!(changes[0].name.as_deref(), Some(C1));
            assert_eq!(
                changes[0].fields.as_str(),
                r#"{"name":"001000000000000AC1","organization_fields":{"tier":"gold"},"tags":["gold"]}"#
            );
            assert_eq!(changes[2].fields.as_str(), r#"{"id":11,"name":"New"}"#);
            assert_eq!(
                changes[2].before.as_ref().map(JsonFields::as_str),
                Some(r#"{"name":"Old"}"#)
            );
            assert_eq!(changes[3].name.as_deref(), Some("Gone"));
            if !dry_run {
                assert_eq!(
                    actions(&r.changes),
                    [
                        (ChangeAction::CreateOrg, Some(C1)),
                        (ChangeAction::UpdateOrg, Some(U1)),
                    ]
                );
                assert_eq!(r.changes[0].fields, changes[0].fields);
            }
        }
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
