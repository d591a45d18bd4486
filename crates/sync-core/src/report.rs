//! The run report (docs/behaviour.md §8): stable JSON keys, a Markdown rendering for merge
//! requests and CI artifacts, and a short plain summary table for stderr.
//!
//! A sync job's report is written in one place: [`ReportBuilder`] takes the plan(s) of
//! a run and the [`Outcome`] of every planned write, and builds the [`Report`]. Counts
//! and `changes[]` are what was confirmed applied (in a dry run, the plan); a real run
//! that did not apply its whole plan carries it under [`Report::planned`]. The cases job,
//! which has no plan, builds its report with [`CasesReportBuilder`] from the typed outcome
//! of each ticket.

mod builder;
mod cases;
mod json_fields;
mod outcome;

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::guards::Guard;
use crate::model::{Finding, FindingKind};

pub use builder::{Phase, ReportBuilder};
pub use cases::{CaseOutcome, CaseWrite, CasesReportBuilder, TicketOutcome};
pub use json_fields::JsonFields;
pub use outcome::{Outcome, Outcomes};

/// `salesforce.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SalesforceCounts {
    /// Records read.
    pub records: usize,
}

/// `zendesk.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ZendeskCounts {
    /// Organizations read.
    pub organizations: usize,
    /// Users read, where read.
    pub users: Option<usize>,
}

/// `organizations.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiCalls {
    /// Salesforce requests.
    pub salesforce: u64,
    /// Zendesk requests.
    pub zendesk: u64,
}

/// A `changes[]` action (serialised in snake_case: `create_org`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// An org created.
    CreateOrg,
    /// An org updated.
    UpdateOrg,
    /// An org deleted.
    DeleteOrg,
    /// A user created.
    CreateUser,
    /// A user updated.
    UpdateUser,
    /// A Case created.
    CreateCase,
    /// A Case updated.
    UpdateCase,
    /// A Case closed.
    CloseCase,
}

impl ChangeAction {
    /// Every action.
    pub const ALL: [ChangeAction; 8] = [
        ChangeAction::CreateOrg,
        ChangeAction::UpdateOrg,
        ChangeAction::DeleteOrg,
        ChangeAction::CreateUser,
        ChangeAction::UpdateUser,
        ChangeAction::CreateCase,
        ChangeAction::UpdateCase,
        ChangeAction::CloseCase,
    ];

    /// The snake_case name (as serialised).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeAction::CreateOrg => "create_org",
            ChangeAction::UpdateOrg => "update_org",
            ChangeAction::DeleteOrg => "delete_org",
            ChangeAction::CreateUser => "create_user",
            ChangeAction::UpdateUser => "update_user",
            ChangeAction::CreateCase => "create_case",
            ChangeAction::UpdateCase => "update_case",
            ChangeAction::CloseCase => "close_case",
        }
    }

    /// The `errors[]` kind of this write when it fails (the cases' one kind for Cases).
    pub const fn failure(self) -> FailureKind {
        match self {
            ChangeAction::CreateOrg => FailureKind::OrgCreateFailed,
            ChangeAction::UpdateOrg => FailureKind::OrgUpdateFailed,
            ChangeAction::DeleteOrg => FailureKind::OrgDeleteFailed,
            ChangeAction::CreateUser => FailureKind::UserCreateFailed,
            ChangeAction::UpdateUser => FailureKind::UserUpdateFailed,
            ChangeAction::CreateCase | ChangeAction::UpdateCase | ChangeAction::CloseCase => {
                FailureKind::CaseWriteFailed
            }
        }
    }
}

impl std::fmt::Display for ChangeAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `errors[]` kind that is not a finding: a write that failed, or a run that did
/// not finish (docs/behaviour.md §8, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An org create refused.
    OrgCreateFailed,
    /// An org update refused.
    OrgUpdateFailed,
    /// An org deletion refused, or the org still there after it.
    OrgDeleteFailed,
    /// A user create refused.
    UserCreateFailed,
    /// A user update refused.
    UserUpdateFailed,
    /// (cases) A Case write refused, or a key matching several Cases.
    CaseWriteFailed,
    /// (cases serve) An event that failed after every attempt.
    EventFailed,
    /// A phase cut off by a stop: how many of its writes were not applied.
    NotAttempted,
    /// The error that stopped a run.
    RunStopped,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: [FailureKind; 9] = [
        FailureKind::OrgCreateFailed,
        FailureKind::OrgUpdateFailed,
        FailureKind::OrgDeleteFailed,
        FailureKind::UserCreateFailed,
        FailureKind::UserUpdateFailed,
        FailureKind::CaseWriteFailed,
        FailureKind::EventFailed,
        FailureKind::NotAttempted,
        FailureKind::RunStopped,
    ];

    /// The snake_case name (as serialised).
    pub const fn as_str(self) -> &'static str {
        match self {
            FailureKind::OrgCreateFailed => "org_create_failed",
            FailureKind::OrgUpdateFailed => "org_update_failed",
            FailureKind::OrgDeleteFailed => "org_delete_failed",
            FailureKind::UserCreateFailed => "user_create_failed",
            FailureKind::UserUpdateFailed => "user_update_failed",
            FailureKind::CaseWriteFailed => "case_write_failed",
            FailureKind::EventFailed => "event_failed",
            FailureKind::NotAttempted => "not_attempted",
            FailureKind::RunStopped => "run_stopped",
        }
    }
}

/// An `errors[]` kind: a finding about the data (never failing a run) or a failure.
/// Serialised as the bare snake_case name of either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorKind {
    /// A finding.
    Finding(FindingKind),
    /// A failure.
    Failure(FailureKind),
}

impl ErrorKind {
    /// The snake_case name (as serialised).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Finding(f) => f.as_str(),
            ErrorKind::Failure(f) => f.as_str(),
        }
    }

    /// Whether this is a finding (which never fails a run).
    pub const fn is_finding(self) -> bool {
        matches!(self, ErrorKind::Finding(_))
    }
}

impl From<FindingKind> for ErrorKind {
    fn from(f: FindingKind) -> Self {
        ErrorKind::Finding(f)
    }
}

impl From<FailureKind> for ErrorKind {
    fn from(f: FailureKind) -> Self {
        ErrorKind::Failure(f)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `errors[]` entry: a finding, or a failed write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportError {
    /// `invalid_account`, `name_conflict`, … or a failure kind.
    pub kind: ErrorKind,
    /// The account, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    /// The email, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The ticket, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    /// What happened.
    pub message: String,
}

impl ReportError {
    /// An entry of `kind` about no record in particular.
    pub fn new(kind: impl Into<ErrorKind>, message: impl Into<String>) -> ReportError {
        ReportError {
            kind: kind.into(),
            salesforce_id: None,
            email: None,
            ticket_id: None,
            message: message.into(),
        }
    }

    /// An entry of `kind` about a ticket (the cases job).
    pub fn ticket(
        kind: impl Into<ErrorKind>,
        ticket_id: u64,
        message: impl Into<String>,
    ) -> ReportError {
        ReportError {
            ticket_id: Some(ticket_id),
            ..ReportError::new(kind, message)
        }
    }
}

impl From<Finding> for ReportError {
    /// The finding's text moved, not copied.
    fn from(f: Finding) -> Self {
        ReportError {
            kind: ErrorKind::Finding(f.kind),
            salesforce_id: f.salesforce_id,
            email: f.email,
            ticket_id: None,
            message: f.message,
        }
    }
}

impl From<&Finding> for ReportError {
    fn from(f: &Finding) -> Self {
        ReportError {
            kind: ErrorKind::Finding(f.kind),
            salesforce_id: f.salesforce_id.clone(),
            email: f.email.clone(),
            ticket_id: None,
            message: f.message.clone(),
        }
    }
}

/// One `changes[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// What kind of write.
    pub action: ChangeAction,
    /// The account, for org changes (and the user changes of US Federal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_id: Option<String>,
    /// The email, for user changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The ticket, for case changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<u64>,
    /// The org's name (org changes): the name it has in Zendesk (updates, deletes) or
    /// gets (creates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What is written (compact JSON text, [`JsonFields`]).
    pub fields: JsonFields,
    /// Updates: the values the changed fields had before (changed fields only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<JsonFields>,
}

/// `planned`: the whole plan of a real run that did not apply it all (stopped by a
/// guard or an error), in the shape of the report's counts and `changes[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    /// Organization counts as planned.
    pub organizations: OrgCounts,
    /// User counts as planned.
    pub users: UserCounts,
    /// Every planned write.
    pub changes: Vec<Change>,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The binary's name.
    pub sync: String,
    /// The binary's version (report identity, docs/behaviour.md §8).
    #[serde(default)]
    pub version: Option<String>,
    /// The git commit the binary was built from, or `unknown`.
    #[serde(default)]
    pub commit: Option<String>,
    /// sha256 of the mapping file in use (embedded or `--mapping`).
    #[serde(default)]
    pub mapping_sha256: Option<String>,
    /// sha256 of the org changes the plan makes, order-independent
    /// ([`crate::Plan::hash`]); what `--expect-plan` compares. `None` before a plan is
    /// made (and in the cases job).
    #[serde(default)]
    pub plan_hash: Option<String>,
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
    /// Organization counts: confirmed applied (in a dry run, planned).
    pub organizations: OrgCounts,
    /// User counts: confirmed applied (in a dry run, planned).
    pub users: UserCounts,
    /// Case counts (the cases job only).
    pub cases: Option<CaseCounts>,
    /// API calls made.
    pub api_calls: ApiCalls,
    /// Every guard.
    pub guards: Vec<Guard>,
    /// Findings and failures.
    pub errors: Vec<ReportError>,
    /// What was confirmed written (in a dry run, what would be written).
    pub changes: Vec<Change>,
    /// The plan of a real run that did not apply it all; absent otherwise (and always
    /// in a dry run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<Planned>,
}

impl Report {
    /// An empty report for a run of `sync` started at `started_at` (the builders,
    /// [`ReportBuilder`] and [`CasesReportBuilder`], start from it).
    pub fn new(sync: &str, dry_run: bool, started_at: OffsetDateTime) -> Report {
        Report {
            sync: sync.to_string(),
            version: None,
            commit: None,
            mapping_sha256: None,
            plan_hash: None,
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
            planned: None,
        }
    }

    /// Whether an entry of `errors[]` is not a finding: a failed write or a stop.
    pub fn has_failures(&self) -> bool {
        self.errors.iter().any(|e| !e.kind.is_finding())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Writes the pretty JSON of [`Report::to_json`] to `out` as it is serialized,
    /// never holding the whole text (issue 13: a report of 100,000 changes is about
    /// 90 MB of JSON).
    pub fn write_json(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, self).map_err(std::io::Error::other)?;
        std::io::Write::flush(&mut out)
    }

    /// The count rows shown in the summary and the Markdown. The cases job shows its
    /// `cases` row only (it writes no organizations or users).
    pub(crate) fn count_rows(&self) -> Vec<(&'static str, Vec<(&'static str, usize)>)> {
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
        let findings = self.errors.iter().filter(|e| e.kind.is_finding()).count();
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
        for (what, counts) in self.count_rows() {
            let cells: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "  {what:<14} {}", cells.join(" | "));
        }
        if let Some(p) = &self.planned {
            let _ = writeln!(
                out,
                "  {:<14} organizations create {} | update {} | delete {}; users create {} | update {}",
                "planned",
                p.organizations.create,
                p.organizations.update,
                p.organizations.delete,
                p.users.create,
                p.users.update
            );
        }
        for g in self.guards.iter().filter(|g| g.tripped) {
            let _ = writeln!(out, "  GUARD TRIPPED  {}: {}", g.name, g.detail);
        }
        out
    }

    /// The report as Markdown (for a merge request or a CI artifact), under 100 KB
    /// at any size ([`crate::report_markdown`]).
    pub fn to_markdown(&self) -> String {
        crate::report_markdown::render(self, &crate::report_markdown::MarkdownContext::default())
    }

    /// [`Report::to_markdown`] with links to the orgs in Zendesk and account names.
    pub fn to_markdown_with(&self, ctx: &crate::report_markdown::MarkdownContext<'_>) -> String {
        crate::report_markdown::render(self, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_findings_and_failed_writes_apart() {
        let mut r = Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH);
        r.salesforce.records = 3;
        r.zendesk.organizations = 2;
        r.errors
            .push(ReportError::new(FindingKind::UnknownTier, "tier Foo"));
        r.errors.push(ReportError::new(
            FailureKind::OrgUpdateFailed,
            "RecordInvalid: bad",
        ));
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
        r.errors
            .push(ReportError::new(crate::cases::NO_ORGANIZATION, "no org"));
        let summary = r.summary_table();
        assert!(
            summary.starts_with("salesforce-cases (dry run): 1 finding(s), 0 error(s)\n"),
            "{summary}"
        );
        let md = r.to_markdown();
        assert!(!md.contains("Salesforce record(s)"), "{md}");
        assert!(md.contains("API calls: Salesforce 0, Zendesk 0."), "{md}");
    }

    /// The stable strings of docs/behaviour.md §8: each kind and action serialises (and reads back)
    /// exactly as the reports have always written it.
    #[test]
    fn kinds_and_actions_serialise_to_their_stable_strings() {
        let findings = [
            "invalid_account",
            "invalid_contact",
            "unknown_tier",
            "unknown_region",
            "unknown_option",
            "duplicate_email",
            "duplicate_zendesk_org",
            "name_conflict",
            "sold_to_in_other_org",
            "no_contact_for_new_org",
            "no_organization",
            "protected_user",
            "deleted_user_not_recreated",
            "missing_account",
            "ticket_not_found",
        ];
        let failures = [
            "org_create_failed",
            "org_update_failed",
            "org_delete_failed",
            "user_create_failed",
            "user_update_failed",
            "case_write_failed",
            "event_failed",
            "not_attempted",
            "run_stopped",
        ];
        let actions = [
            "create_org",
            "update_org",
            "delete_org",
            "create_user",
            "update_user",
            "create_case",
            "update_case",
            "close_case",
        ];
        assert_eq!(FindingKind::ALL.len(), findings.len());
        assert_eq!(FailureKind::ALL.len(), failures.len());
        assert_eq!(ChangeAction::ALL.len(), actions.len());
        let json = |s: &str| serde_json::Value::String(s.to_string());
        for (kind, name) in FindingKind::ALL.iter().zip(findings) {
            let kind = ErrorKind::from(*kind);
            assert_eq!(serde_json::to_value(kind).ok(), Some(json(name)));
            assert_eq!(
                serde_json::from_value::<ErrorKind>(json(name)).ok(),
                Some(kind)
            );
            assert!(kind.is_finding(), "{name}");
            assert_eq!(kind.as_str(), name);
        }
        for (kind, name) in FailureKind::ALL.iter().zip(failures) {
            let kind = ErrorKind::from(*kind);
            assert_eq!(serde_json::to_value(kind).ok(), Some(json(name)));
            assert_eq!(
                serde_json::from_value::<ErrorKind>(json(name)).ok(),
                Some(kind)
            );
            assert!(!kind.is_finding(), "{name}");
            assert_eq!(kind.as_str(), name);
        }
        for (action, name) in ChangeAction::ALL.iter().zip(actions) {
            assert_eq!(serde_json::to_value(action).ok(), Some(json(name)));
            assert_eq!(action.as_str(), name);
        }
        let reasons = [
            (crate::diff::SkipReason::InvalidAccount, "invalid_account"),
            (crate::diff::SkipReason::UnknownTier, "unknown_tier"),
            (
                crate::diff::SkipReason::DuplicateZendeskOrg,
                "duplicate_zendesk_org",
            ),
            (crate::diff::SkipReason::NameConflict, "name_conflict"),
            (
                crate::diff::SkipReason::GreatlyExpiredWithoutOrg,
                "greatly_expired_without_org",
            ),
        ];
        for (reason, name) in reasons {
            assert_eq!(serde_json::to_value(reason).ok(), Some(json(name)));
            assert_eq!(reason.as_str(), name);
        }
    }
}
