//! Exit codes of SPEC §8, computed in one place for every binary: from a finished
//! [`Report`] (guard → 3, a failed write → 1, else 0) or from the error that stopped a
//! run (configuration → 2, an API unreachable or refusing us → 4).

use crate::model::FindingKind;
use crate::Report;

/// Everything done (findings may have been reported).
pub const OK: u8 = 0;
/// At least one write failed (a failed job row, a refused write).
pub const WRITE_FAILED: u8 = 1;
/// Usage or configuration error, before any request.
pub const CONFIG: u8 = 2;
/// Stopped by a safety guard; nothing written.
pub const GUARD: u8 = 3;
/// An API was unreachable or refused us and the run could not finish.
pub const API: u8 = 4;

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

/// The exit code of a run that finished: 3 if a guard tripped, 1 if any write failed
/// (a failed count or an `errors[]` entry that is not a finding), else 0.
pub fn for_report(report: &Report) -> u8 {
    if report.guards.iter().any(|g| g.tripped) {
        return GUARD;
    }
    let cases_failed = report.cases.as_ref().is_some_and(|c| c.failed > 0);
    let failed = report.organizations.failed > 0
        || report.users.failed > 0
        || cases_failed
        || report.errors.iter().any(|e| !is_finding(&e.kind));
    if failed {
        WRITE_FAILED
    } else {
        OK
    }
}

/// The exit code for the error that stopped a run, looking through its causes:
/// a configuration or mapping problem → 2; an API error (transport, auth, limits,
/// retries exhausted) → 4; anything else (e.g. a report file that cannot be written) → 1.
pub fn for_error(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<crate::Error>() {
            return for_core_error(e);
        }
        if let Some(e) = cause.downcast_ref::<sfdc_client::Error>() {
            return for_salesforce_error(e);
        }
        if let Some(e) = cause.downcast_ref::<zendesk_client::Error>() {
            return for_zendesk_error(e);
        }
        if let Some(e) = cause.downcast_ref::<clap::Error>() {
            return u8::try_from(e.exit_code()).unwrap_or(CONFIG);
        }
    }
    WRITE_FAILED
}

/// The exit code for a sync-core error.
pub fn for_core_error(err: &crate::Error) -> u8 {
    match err {
        crate::Error::Salesforce(e) => for_salesforce_error(e),
        crate::Error::Zendesk(e) => for_zendesk_error(e),
        _ => CONFIG,
    }
}

fn for_salesforce_error(err: &sfdc_client::Error) -> u8 {
    match err {
        sfdc_client::Error::Config(_) => CONFIG,
        _ => API,
    }
}

fn for_zendesk_error(err: &zendesk_client::Error) -> u8 {
    match err {
        zendesk_client::Error::Config(_) => CONFIG,
        _ => API,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Guard;
    use time::OffsetDateTime;

    fn report() -> Report {
        Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn findings_do_not_fail_a_run() {
        let mut r = report();
        r.record_failure("unknown_tier", Some("x"), None, "tier Foo");
        r.record_failure("sold_to_in_other_org", None, Some("a@b.c"), "in org 7");
        assert_eq!(for_report(&r), OK);
    }

    #[test]
    fn case_findings_do_not_fail_a_run() {
        let mut r = report();
        r.record_failure(crate::cases::MISSING_ACCOUNT, None, None, "account deleted");
        r.record_failure(crate::cases::NO_ORGANIZATION, None, None, "no org");
        assert_eq!(for_report(&r), OK);
        r.record_failure(crate::cases::CASE_WRITE_FAILED, None, None, "refused");
        assert_eq!(for_report(&r), WRITE_FAILED);
    }

    #[test]
    fn a_failed_row_gives_one() {
        let mut r = report();
        r.record_failure(
            "org_create_failed",
            Some("x"),
            None,
            "Name: has already been taken",
        );
        assert_eq!(for_report(&r), WRITE_FAILED);
        let mut r = report();
        r.organizations.failed = 1;
        assert_eq!(for_report(&r), WRITE_FAILED);
    }

    #[test]
    fn a_tripped_guard_gives_three_before_anything_else() {
        let mut r = report();
        r.organizations.failed = 1;
        r.record_guards(&[Guard {
            name: "max_deletions".into(),
            tripped: true,
            detail: "30 > 25".into(),
        }]);
        assert_eq!(for_report(&r), GUARD);
    }

    #[test]
    fn errors_map_to_config_or_api() {
        let config = anyhow::Error::new(crate::Error::Config("ZD_URL missing".into()));
        assert_eq!(for_error(&config), CONFIG);
        let api = anyhow::Error::new(crate::Error::Salesforce(sfdc_client::Error::Auth {
            status: Some(400),
            error: "invalid_grant".into(),
            description: "bad".into(),
        }))
        .context("reading accounts");
        assert_eq!(for_error(&api), API);
        let zd = anyhow::Error::new(zendesk_client::Error::Transport {
            method: "GET".into(),
            url: "http://x".into(),
            message: "refused".into(),
        });
        assert_eq!(for_error(&zd), API);
        assert_eq!(for_error(&anyhow::anyhow!("disk full")), WRITE_FAILED);
    }
}
