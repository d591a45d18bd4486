//! Exit codes of docs/behaviour.md §8, computed in one place for every binary: from a finished
//! [`Report`] (guard → 3, a failed write → 1, else 0) or from the error that stopped a
//! run ([`for_error`]: configuration → 2, an API unreachable or refusing us → 4, a
//! report file that cannot be written → 1).

use sync_core::Report;

use crate::Error;

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
        || report.has_failures();
    if failed {
        WRITE_FAILED
    } else {
        OK
    }
}

/// The exit code for the error that stopped a run (or kept it from starting): the one
/// place where errors become exit codes. Exhaustive over [`Error`] and over
/// [`sync_core::Error`], so a new kind of error must be given its code here.
pub fn for_error(err: &Error) -> u8 {
    match err {
        Error::Rules(rules) => match rules {
            sync_core::Error::MappingRead { .. }
            | sync_core::Error::MappingTooLarge { .. }
            | sync_core::Error::MappingParse { .. }
            | sync_core::Error::MappingInvalid { .. }
            | sync_core::Error::FieldsMismatch { .. } => CONFIG,
        },
        Error::Config(_) => CONFIG,
        Error::Salesforce(e) => for_salesforce_error(e),
        Error::Zendesk(e) => for_zendesk_error(e),
        Error::Io { .. } => WRITE_FAILED,
    }
}

// The client error enums are `non_exhaustive`, so their kinds cannot be matched
// exhaustively from here: each client classifies its own errors (`is_retriable`, and
// `stops_run` once the clients have it). A client that could not be configured is a
// configuration error; every other client error that reaches here stopped the run.
fn for_salesforce_error(err: &sfdc_client::Error) -> u8 {
    if matches!(err, sfdc_client::Error::Config(_)) {
        CONFIG
    } else {
        API
    }
}

fn for_zendesk_error(err: &zendesk_client::Error) -> u8 {
    if matches!(err, zendesk_client::Error::Config(_)) {
        CONFIG
    } else {
        API
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::report::{FailureKind, ReportError};
    use sync_core::{FindingKind, Guard};
    use time::OffsetDateTime;

    fn report() -> Report {
        Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn findings_do_not_fail_a_run() {
        let mut r = report();
        r.errors
            .push(ReportError::new(FindingKind::UnknownTier, "tier Foo"));
        r.errors
            .push(ReportError::new(FindingKind::SoldToInOtherOrg, "in org 7"));
        assert_eq!(for_report(&r), OK);
    }

    #[test]
    fn case_findings_do_not_fail_a_run() {
        let mut r = report();
        r.errors.push(ReportError::new(
            sync_core::cases::MISSING_ACCOUNT,
            "account deleted",
        ));
        r.errors.push(ReportError::new(
            sync_core::cases::NO_ORGANIZATION,
            "no org",
        ));
        assert_eq!(for_report(&r), OK);
        r.errors.push(ReportError::new(
            sync_core::cases::CASE_WRITE_FAILED,
            "refused",
        ));
        assert_eq!(for_report(&r), WRITE_FAILED);
    }

    #[test]
    fn a_failed_row_gives_one() {
        let mut r = report();
        r.errors.push(ReportError::new(
            FailureKind::OrgCreateFailed,
            "Name: has already been taken",
        ));
        assert_eq!(for_report(&r), WRITE_FAILED);
        let mut r = report();
        r.organizations.failed = 1;
        assert_eq!(for_report(&r), WRITE_FAILED);
    }

    #[test]
    fn a_tripped_guard_gives_three_before_anything_else() {
        let mut r = report();
        r.organizations.failed = 1;
        r.guards.push(Guard {
            name: "max_deletions".into(),
            tripped: true,
            detail: "30 > 25".into(),
        });
        assert_eq!(for_report(&r), GUARD);
    }

    #[test]
    fn errors_map_to_config_or_api() {
        assert_eq!(for_error(&Error::Config("ZD_URL missing".into())), CONFIG);
        let mapping = sync_core::Error::FieldsMismatch {
            mismatches: vec!["tier: no option gold".into()],
        };
        assert_eq!(for_error(&Error::Rules(mapping)), CONFIG);
        let api = Error::Salesforce(sfdc_client::Error::Auth {
            status: Some(400),
            error: "invalid_grant".into(),
            description: "bad".into(),
        });
        assert_eq!(for_error(&api), API);
        let zd = Error::Zendesk(zendesk_client::Error::Transport {
            method: "GET".into(),
            url: "http://x".into(),
            message: "refused".into(),
        });
        assert_eq!(for_error(&zd), API);
        let disk = Error::Io {
            what: "cannot write the JSON report to r.json".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(for_error(&disk), WRITE_FAILED);
    }
}
