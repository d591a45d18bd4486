//! The run report (SPEC §8): stable JSON keys, a Markdown rendering for merge
//! requests and CI artifacts, and a short plain summary table for stderr. Counts
//! are what was done, or in a dry run what would be done; the jobs (`sync-jobs`) adjust them as writes are confirmed.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use time::OffsetDateTime;

use crate::diff::Plan;
use crate::guards::Guard;
use crate::model::{Finding, FindingKind};
use crate::users::{UserAction, UserPlan};

/// The `errors[]` kind naming writes a run stopped by an API error did not make.
pub const NOT_ATTEMPTED: &str = "not_attempted";

/// `salesforce.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SalesforceCounts {
    /// Records read.
    pub records: usize,
}

/// `zendesk.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ZendeskCounts {
    /// Organizations read.
    pub organizations: usize,
    /// Users read, where read.
    pub users: Option<usize>,
}

/// `organizations.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OrgCounts {
    /// Created.
    pub create: usize,
    /// Updated.
    pub update: usize,
    /// Deleted.
    pub delete: usize,
    /// Already as desired.
    pub unchanged: usize,
    /// Orgs whose account is not in the result.
    pub not_in_salesforce: usize,
    /// Writes that failed.
    pub failed: usize,
    /// Accounts not synced (invalid, unknown tier, conflicts, greatly expired without an org).
    pub skipped: usize,
}

/// `users.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserCounts {
    /// Created.
    pub create: usize,
    /// Updated.
    pub update: usize,
    /// Already as desired.
    pub unchanged: usize,
    /// Writes that failed.
    pub failed: usize,
}

/// `cases.*` (the cases job).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CaseCounts {
    /// Created.
    pub create: usize,
    /// Updated.
    pub update: usize,
    /// Closed.
    pub close: usize,
    /// Nothing to do.
    pub unchanged: usize,
    /// Writes that failed.
    pub failed: usize,
}

/// `api_calls.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ApiCalls {
    /// Salesforce requests.
    pub salesforce: u64,
    /// Zendesk requests.
    pub zendesk: u64,
}

/// One `errors[]` entry: a finding, or a failed write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportError {
    /// `invalid_account`, `name_conflict`, … or a write failure kind.
    pub kind: String,
    /// The account, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    /// The email, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The ticket, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    /// What happened.
    pub message: String,
}

impl From<&Finding> for ReportError {
    fn from(f: &Finding) -> Self {
        ReportError {
            kind: f.kind.as_str().to_string(),
            salesforce_id: f.salesforce_id.clone(),
            email: f.email.clone(),
            ticket_id: None,
            message: f.message.clone(),
        }
    }
}

/// One `changes[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `create_org`, `update_org`, `delete_org`, `create_user`, `update_user`, …
    pub action: String,
    /// The account, for org changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    /// The email, for user changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The ticket, for case changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    /// What is written.
    pub fields: serde_json::Value,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The binary's name.
    pub sync: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Start of the run (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// End of the run (UTC).
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Salesforce counts.
    pub salesforce: SalesforceCounts,
    /// Zendesk counts.
    pub zendesk: ZendeskCounts,
    /// Organization counts.
    pub organizations: OrgCounts,
    /// User counts.
    pub users: UserCounts,
    /// Case counts (the cases job only).
    pub cases: Option<CaseCounts>,
    /// API calls made.
    pub api_calls: ApiCalls,
    /// Every guard.
    pub guards: Vec<Guard>,
    /// Findings and failures.
    pub errors: Vec<ReportError>,
    /// What was (or would be) written.
    pub changes: Vec<Change>,
}

impl Report {
    /// An empty report for a run of `sync` started at `started_at`.
    pub fn new(sync: &str, dry_run: bool, started_at: OffsetDateTime) -> Report {
        Report {
            sync: sync.to_string(),
            dry_run,
            started_at,
            finished_at: None,
            salesforce: SalesforceCounts::default(),
            zendesk: ZendeskCounts::default(),
            organizations: OrgCounts::default(),
            users: UserCounts::default(),
            cases: None,
            api_calls: ApiCalls::default(),
            guards: Vec::new(),
            errors: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// Records an org plan: counts as planned, its findings and its changes.
    pub fn record_org_plan(&mut self, plan: &Plan) {
        self.salesforce.records += plan.salesforce_records;
        self.zendesk.organizations = plan.zendesk_organizations;
        let o = &mut self.organizations;
        o.create += plan.creates.len();
        o.update += plan.updates.len();
        o.delete += plan.deletes.len();
        o.unchanged += plan.unchanged.len();
        o.not_in_salesforce += plan.not_in_salesforce;
        o.skipped += plan.skipped.len();
        self.errors
            .extend(plan.findings.iter().map(ReportError::from));
        let org_change = |action: &str, id: &str, fields: serde_json::Value| Change {
            action: action.to_string(),
            salesforce_id: Some(id.to_string()),
            email: None,
            ticket_id: None,
            fields,
        };
        for c in &plan.creates {
            self.changes
                .push(org_change("create_org", &c.salesforce_id, c.zendesk_body()));
        }
        for u in &plan.updates {
            self.changes
                .push(org_change("update_org", &u.salesforce_id, u.zendesk_body()));
        }
        for d in &plan.deletes {
            let fields = serde_json::json!({ "id": d.id, "name": d.name });
            self.changes
                .push(org_change("delete_org", &d.salesforce_id, fields));
        }
    }

    /// Records a user plan: counts as planned, findings and changes.
    pub fn record_user_plan(&mut self, plan: &UserPlan) {
        self.users.create += plan.creates();
        self.users.update += plan.updates();
        self.users.unchanged += plan.unchanged;
        self.errors
            .extend(plan.findings.iter().map(ReportError::from));
        for action in &plan.actions {
            let (name, fields) = match action {
                UserAction::Create {
                    name,
                    organization_id,
                    ..
                } => (
                    "create_user",
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
                            map.insert("organization_id".into(), (*org).into());
                        }
                    }
                    ("update_user", fields)
                }
            };
            self.changes.push(Change {
                action: name.to_string(),
                salesforce_id: None,
                email: Some(action.email().to_string()),
                ticket_id: None,
                fields,
            });
        }
    }

    /// Records a failed write (a failed job row, a refused call) as an `errors[]` entry.
    pub fn record_failure(
        &mut self,
        kind: &str,
        salesforce_id: Option<&str>,
        email: Option<&str>,
        message: impl Into<String>,
    ) {
        self.errors.push(ReportError {
            kind: kind.to_string(),
            salesforce_id: salesforce_id.map(str::to_string),
            email: email.map(str::to_string),
            ticket_id: None,
            message: message.into(),
        });
    }

    /// Keeps, of the `changes[]` entries of `action`, only those whose record (the
    /// email of a user change, else the account) is in `done`: after a run stopped
    /// part-way, `changes[]` lists what was confirmed applied, not what was planned.
    pub fn keep_confirmed_changes(&mut self, action: &str, done: &BTreeSet<&str>) {
        self.changes.retain(|c| {
            c.action != action
                || c.email
                    .as_deref()
                    .or(c.salesforce_id.as_deref())
                    .is_some_and(|key| done.contains(key))
        });
    }

    /// Records, as an `errors[]` entry of kind `not_attempted`, a part of the run that
    /// an API error kept from being written.
    pub fn record_not_attempted(&mut self, message: impl Into<String>) {
        self.record_failure(NOT_ATTEMPTED, None, None, message);
    }

    /// Records the guards.
    pub fn record_guards(&mut self, guards: &[Guard]) {
        self.guards.extend(guards.iter().cloned());
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The count rows shown in the summary and the Markdown. The cases job shows its
    /// `cases` row only (it writes no organizations or users).
    fn rows(&self) -> Vec<(&'static str, Vec<(&'static str, usize)>)> {
        if let Some(c) = &self.cases {
            return vec![(
                "cases",
                vec![
                    ("create", c.create),
                    ("update", c.update),
                    ("close", c.close),
                    ("unchanged", c.unchanged),
                    ("failed", c.failed),
                ],
            )];
        }
        let o = &self.organizations;
        let u = &self.users;
        vec![
            (
                "organizations",
                vec![
                    ("create", o.create),
                    ("update", o.update),
                    ("delete", o.delete),
                    ("unchanged", o.unchanged),
                    ("not_in_salesforce", o.not_in_salesforce),
                    ("skipped", o.skipped),
                    ("failed", o.failed),
                ],
            ),
            (
                "users",
                vec![
                    ("create", u.create),
                    ("update", u.update),
                    ("unchanged", u.unchanged),
                    ("failed", u.failed),
                ],
            ),
        ]
    }

    /// `errors[]` split into data findings (never failing a run) and the rest (failed
    /// or not attempted writes), so a summary never calls a failure a finding.
    fn findings_and_failures(&self) -> (usize, usize) {
        let findings = self.errors.iter().filter(|e| is_finding(&e.kind)).count();
        (findings, self.errors.len() - findings)
    }

    /// What was read, in words: records and orgs for a sync job; nothing for the cases
    /// job, which reads tickets and Cases one event at a time.
    fn read_line(&self) -> Option<String> {
        if self.cases.is_some() {
            return None;
        }
        Some(format!(
            "{} Salesforce record(s), {} Zendesk org(s)",
            self.salesforce.records, self.zendesk.organizations
        ))
    }

    /// A short plain table for stderr at the end of a run.
    pub fn summary_table(&self) -> String {
        let mut out = String::new();
        let (findings, failures) = self.findings_and_failures();
        let _ = writeln!(
            out,
            "{}{}: {}{findings} finding(s), {failures} error(s)",
            self.sync,
            if self.dry_run { " (dry run)" } else { "" },
            self.read_line().map(|l| l + ", ").unwrap_or_default(),
        );
        for (what, counts) in self.rows() {
            let cells: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "  {what:<14} {}", cells.join(" | "));
        }
        for g in self.guards.iter().filter(|g| g.tripped) {
            let _ = writeln!(out, "  GUARD TRIPPED  {}: {}", g.name, g.detail);
        }
        out
    }

    /// The report as Markdown (for a merge request or a CI artifact).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# {}{}\n",
            self.sync,
            if self.dry_run { " (dry run)" } else { "" }
        );
        let finished = self
            .finished_at
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| "-".to_string());
        let started = self
            .started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let _ = writeln!(out, "Started {started}, finished {finished}.\n");
        if self.cases.is_none() {
            let _ = write!(
                out,
                "Read {} Salesforce record(s), {} Zendesk organization(s){}. ",
                self.salesforce.records,
                self.zendesk.organizations,
                self.zendesk
                    .users
                    .map(|u| format!(", {u} Zendesk user(s)"))
                    .unwrap_or_default(),
            );
        }
        let _ = writeln!(
            out,
            "API calls: Salesforce {}, Zendesk {}.\n",
            self.api_calls.salesforce, self.api_calls.zendesk
        );
        for (what, counts) in self.rows() {
            let _ = writeln!(out, "## {what}\n");
            let header: Vec<&str> = counts.iter().map(|(k, _)| *k).collect();
            let _ = writeln!(out, "| {} |", header.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            let cells: Vec<String> = counts.iter().map(|(_, v)| v.to_string()).collect();
            let _ = writeln!(out, "| {} |\n", cells.join(" | "));
        }
        if !self.guards.is_empty() {
            let _ = writeln!(
                out,
                "## Guards\n\n| guard | tripped | detail |\n|---|---|---|"
            );
            for g in &self.guards {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    g.name,
                    if g.tripped { "**yes**" } else { "no" },
                    md(&g.detail)
                );
            }
            out.push('\n');
        }
        if !self.errors.is_empty() {
            let _ = writeln!(
                out,
                "## Findings and errors\n\n| kind | subject | message |\n|---|---|---|"
            );
            for e in &self.errors {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    e.kind,
                    subject(&e.salesforce_id, &e.email, e.ticket_id),
                    md(&e.message)
                );
            }
            out.push('\n');
        }
        if !self.changes.is_empty() {
            let _ = writeln!(
                out,
                "## Changes\n\n| action | subject | fields |\n|---|---|---|"
            );
            for c in &self.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` |",
                    c.action,
                    subject(&c.salesforce_id, &c.email, c.ticket_id),
                    md(&c.fields.to_string()).replace('`', "'")
                );
            }
        }
        out
    }
}

fn subject(salesforce_id: &Option<String>, email: &Option<String>, ticket: Option<u64>) -> String {
    let mut parts = Vec::new();
    if let Some(id) = salesforce_id {
        parts.push(id.clone());
    }
    if let Some(email) = email {
        parts.push(md(email));
    }
    if let Some(t) = ticket {
        parts.push(format!("ticket {t}"));
    }
    parts.join(" ")
}

/// Escapes a table cell.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Every finding kind: data problems that are reported but never fail a run.
const FINDINGS: &[FindingKind] = &[
    FindingKind::InvalidAccount,
    FindingKind::InvalidContact,
    FindingKind::UnknownTier,
    FindingKind::UnknownRegion,
    FindingKind::UnknownOption,
    FindingKind::DuplicateEmail,
    FindingKind::DuplicateZendeskOrg,
    FindingKind::NameConflict,
    FindingKind::SoldToInOtherOrg,
    FindingKind::NoContactForNewOrg,
    FindingKind::NoOrganization,
    FindingKind::ProtectedUser,
    FindingKind::DeletedUserNotRecreated,
];

/// Findings of the cases job (SPEC §7): a missing or deleted Salesforce account, a
/// ticket gone from Zendesk. Reported, never failing a run.
const CASE_FINDINGS: &[&str] = &[
    crate::cases::MISSING_ACCOUNT,
    crate::cases::TICKET_NOT_FOUND,
];

/// Whether an `errors[]` kind is a finding (which never fails a run).
pub fn is_finding(kind: &str) -> bool {
    FINDINGS.iter().any(|f| f.as_str() == kind) || CASE_FINDINGS.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_findings_and_failed_writes_apart() {
        let mut r = Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH);
        r.salesforce.records = 3;
        r.zendesk.organizations = 2;
        r.record_failure("unknown_tier", Some("a"), None, "tier Foo");
        r.record_failure("org_update_failed", Some("b"), None, "RecordInvalid: bad");
        let first = r.summary_table().lines().next().map(str::to_string);
        assert_eq!(
            first.as_deref(),
            Some("zd-sfdc-sync-global: 3 Salesforce record(s), 2 Zendesk org(s), 1 finding(s), 1 error(s)")
        );
    }

    #[test]
    fn the_cases_summary_does_not_claim_zero_records_read() {
        let mut r = Report::new("salesforce-cases", true, OffsetDateTime::UNIX_EPOCH);
        r.cases = Some(CaseCounts::default());
        r.record_failure(crate::cases::NO_ORGANIZATION, None, None, "no org");
        let summary = r.summary_table();
        assert!(
            summary.starts_with("salesforce-cases (dry run): 1 finding(s), 0 error(s)\n"),
            "{summary}"
        );
        let md = r.to_markdown();
        assert!(!md.contains("Salesforce record(s)"), "{md}");
        assert!(md.contains("API calls: Salesforce 0, Zendesk 0."), "{md}");
    }
}
