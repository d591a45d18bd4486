//! `--report-csv FILE` (docs/behaviour.md §8): every finding and every failed row, one line each,
//! for Sales Ops to fix the data at the source. Columns: kind, Salesforce id, account
//! name, Zendesk org id, message. RFC 4180 quoting: a cell with a comma, a quote, a
//! line break or surrounding spaces is quoted, its quotes doubled.

use std::fmt::Write as _;

use sync_core::report::{ErrorKind, FailureKind};
use sync_core::{Report, ZendeskOrgId};

use crate::jobs::AccountIndex;

/// The header line.
pub const HEADER: &str = "kind,salesforce_id,account_name,zendesk_org_id,message";

/// The CSV text of a report's findings and failed rows (entries about the run as a
/// whole, `not_attempted` and `run_stopped`, are not rows and stay in the JSON).
pub fn findings_csv(report: &Report, accounts: &AccountIndex) -> String {
    let mut out = String::new();
    let _ = write!(out, "{HEADER}\r\n");
    for e in &report.errors {
        if matches!(
            e.kind,
            ErrorKind::Failure(FailureKind::NotAttempted | FailureKind::RunStopped)
        ) {
            continue;
        }
        let sfid = e.salesforce_id.as_deref().unwrap_or("");
        let name = accounts.names.get(sfid).map(String::as_str).unwrap_or("");
        let org = accounts
            .org_ids
            .get(sfid)
            .map(ZendeskOrgId::to_string)
            .unwrap_or_default();
        let message = match (&e.email, e.ticket_id) {
            (Some(email), _) if !e.message.contains(email.as_str()) => {
                format!("{email}: {}", e.message)
            }
            (_, Some(ticket)) => format!("ticket {ticket}: {}", e.message),
            _ => e.message.clone(),
        };
        let cells = [e.kind.as_str(), sfid, name, org.as_str(), message.as_str()];
        let line: Vec<String> = cells.iter().map(|c| quote(c)).collect();
        let _ = write!(out, "{}\r\n", line.join(","));
    }
    out
}

/// One CSV cell, quoted when it needs to be.
pub fn quote(cell: &str) -> String {
    let needs = cell.contains([',', '"', '\n', '\r']) || cell.trim() != cell;
    if needs {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn findings_and_failed_rows_one_line_each_properly_quoted() {
        use sync_core::model::FindingKind;
        use sync_core::report::ReportError;
        let mut r = Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH);
        let entry = |kind: ErrorKind, sfid: Option<&str>, email: Option<&str>, message: &str| {
            let mut e = ReportError::new(kind, message);
            e.salesforce_id = sfid.map(str::to_string);
            e.email = email.map(str::to_string);
            e
        };
        r.errors.push(entry(
            FindingKind::NameConflict.into(),
            Some("0014M00001AAAAAAAA"),
            None,
            "cannot create org \"Acme, Inc\": held",
        ));
        r.errors.push(entry(
            FailureKind::OrgUpdateFailed.into(),
            Some("0014M00001BBBBBBBB"),
            None,
            "RecordInvalid: bad\nvalue",
        ));
        r.errors.push(entry(
            FindingKind::DuplicateEmail.into(),
            None,
            Some("a@x.com"),
            "dropped",
        ));
        r.errors.push(entry(
            FailureKind::NotAttempted.into(),
            None,
            None,
            "3 of 9 org updates were not applied",
        ));
        let mut idx = AccountIndex::default();
        idx.names
            .insert("0014M00001AAAAAAAA".into(), "Acme, Inc".into());
        idx.names.insert("0014M00001BBBBBBBB".into(), "Beta".into());
        idx.org_ids
            .insert("0014M00001BBBBBBBB".into(), ZendeskOrgId(42));
        let csv = findings_csv(&r, &idx);
        assert_eq!(
            csv,
            "kind,salesforce_id,account_name,zendesk_org_id,message\r\n\
             name_conflict,0014M00001AAAAAAAA,\"Acme, Inc\",,\"cannot create org \"\"Acme, Inc\"\": held\"\r\n\
             org_update_failed,0014M00001BBBBBBBB,Beta,42,\"RecordInvalid: bad\nvalue\"\r\n\
             duplicate_email,,,,a@x.com: dropped\r\n"
        );
    }

    #[test]
    fn plain_cells_are_not_quoted_and_spaces_at_the_ends_are() {
        assert_eq!(quote("abc"), "abc");
        assert_eq!(quote(" abc"), "\" abc\"");
        assert_eq!(quote(""), "");
    }
}
