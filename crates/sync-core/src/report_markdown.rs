//! The Markdown report (docs/behaviour.md §8, `--report-md`): for a merge request note or a CI job
//! page. The identity, the counts, the guards, the findings counted by kind with a few
//! examples each, failed writes, then the first rows of each table of changes (updates
//! as `field: before → after`, with the org's name and a link to it in Zendesk) and
//! "N more in the JSON report". It stays under [`MAX_BYTES`] at any size: rows per
//! table and cell lengths are capped, and a last cut at a line boundary guarantees it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::ids::ZendeskOrgId;
use crate::report::{Change, ChangeAction, JsonFields, Report, ReportError};

/// The Markdown report never exceeds this many bytes (GitLab refuses notes over
/// 1,000,000 characters; a person reads far less).
pub const MAX_BYTES: usize = 100_000;
/// Examples shown per finding kind.
pub const EXAMPLES_PER_KIND: usize = 5;
/// Rows shown per table of changes.
pub const ROWS_PER_TABLE: usize = 20;
/// The longest cell shown, in characters.
const MAX_CELL: usize = 300;

/// What the Markdown can say beyond the JSON report: where the Zendesk account is (for
/// links to orgs) and the accounts' names.
#[derive(Debug, Clone, Default)]
pub struct MarkdownContext<'a> {
    /// The Zendesk account's base URL, e.g. `https://example.zendesk.com`.
    pub zendesk_url: Option<&'a str>,
    /// Salesforce id → account name.
    pub account_names: Option<&'a BTreeMap<String, String>>,
    /// Salesforce id → Zendesk org id (matched or created this run), for links to the
    /// orgs a change names by account only (creates).
    pub org_ids: Option<&'a BTreeMap<String, ZendeskOrgId>>,
}

/// Renders the report as Markdown under [`MAX_BYTES`].
pub fn render(report: &Report, ctx: &MarkdownContext<'_>) -> String {
    let mut out = String::new();
    header(report, &mut out);
    counts(report, &mut out);
    guards(report, &mut out);
    findings(report, ctx, &mut out);
    failures(report, ctx, &mut out);
    changes(report, ctx, &mut out);
    cap(out)
}

/// Cuts the text at the last line that fits, with a note saying so.
fn cap(out: String) -> String {
    const NOTE: &str = "\n_(cut here to stay under 100 KB: the JSON report has everything)_\n";
    if out.len() <= MAX_BYTES {
        return out;
    }
    let limit = MAX_BYTES - NOTE.len();
    let mut end = limit;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    let end = out[..end].rfind('\n').map_or(end, |i| i + 1);
    let mut cut = out[..end].to_string();
    cut.push_str(NOTE);
    cut
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn header(report: &Report, out: &mut String) {
    let _ = writeln!(
        out,
        "# {}{}\n",
        report.sync,
        if report.dry_run { " (dry run)" } else { "" }
    );
    let short = |s: &Option<String>, n: usize| {
        s.as_deref()
            .map(|s| s.chars().take(n).collect::<String>())
            .unwrap_or_else(|| "-".to_string())
    };
    let _ = writeln!(
        out,
        "Version {} (commit `{}`), mapping sha256 `{}`, plan_hash `{}`.\n",
        report.version.as_deref().unwrap_or("-"),
        short(&report.commit, 12),
        short(&report.mapping_sha256, 12),
        report.plan_hash.as_deref().unwrap_or("-"),
    );
    let finished = report.finished_at.map_or_else(|| "-".to_string(), rfc3339);
    let _ = writeln!(
        out,
        "Started {}, finished {finished}.\n",
        rfc3339(report.started_at)
    );
    if report.cases.is_none() {
        let _ = write!(
            out,
            "Read {} Salesforce record(s), {} Zendesk organization(s){}. ",
            report.salesforce.records,
            report.zendesk.organizations,
            report
                .zendesk
                .users
                .map(|u| format!(", {u} Zendesk user(s)"))
                .unwrap_or_default(),
        );
    }
    let _ = writeln!(
        out,
        "API calls: Salesforce {}, Zendesk {}.\n",
        report.api_calls.salesforce, report.api_calls.zendesk
    );
}

fn counts(report: &Report, out: &mut String) {
    for (what, counts) in report.count_rows() {
        let _ = writeln!(out, "## {what}\n");
        let header: Vec<&str> = counts.iter().map(|(k, _)| *k).collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        let cells: Vec<String> = counts.iter().map(|(_, v)| v.to_string()).collect();
        let _ = writeln!(out, "| {} |\n", cells.join(" | "));
    }
}

fn guards(report: &Report, out: &mut String) {
    if report.guards.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Guards\n\n| guard | tripped | detail |\n|---|---|---|"
    );
    for g in &report.guards {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            g.name,
            if g.tripped { "**yes**" } else { "no" },
            cell(&g.detail)
        );
    }
    out.push('\n');
}

/// Entries grouped by kind, kinds in order of first appearance.
fn by_kind<'r>(
    entries: impl Iterator<Item = &'r ReportError>,
) -> Vec<(&'r str, Vec<&'r ReportError>)> {
    let mut groups: Vec<(&str, Vec<&ReportError>)> = Vec::new();
    for e in entries {
        match groups.iter_mut().find(|(k, _)| *k == e.kind.as_str()) {
            Some((_, list)) => list.push(e),
            None => groups.push((e.kind.as_str(), vec![e])),
        }
    }
    groups
}

fn subject(e: &ReportError, ctx: &MarkdownContext<'_>) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &e.salesforce_id {
        parts.push(format!("`{id}`"));
        if let Some(name) = ctx.account_names.and_then(|n| n.get(id)) {
            parts.push(cell(name));
        }
    }
    if let Some(email) = &e.email {
        parts.push(cell(email));
    }
    if let Some(t) = e.ticket_id {
        parts.push(format!("ticket {t}"));
    }
    parts.join(" ")
}

fn findings(report: &Report, ctx: &MarkdownContext<'_>, out: &mut String) {
    let groups = by_kind(report.errors.iter().filter(|e| e.kind.is_finding()));
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|(_, l)| l.len()).sum();
    let _ = writeln!(out, "## Findings ({total})\n");
    let _ = writeln!(
        out,
        "Facts about the data, reported but not failing the run.\n\n| kind | count |\n|---|---|"
    );
    for (kind, list) in &groups {
        let _ = writeln!(out, "| {kind} | {} |", list.len());
    }
    out.push('\n');
    for (kind, list) in &groups {
        examples(kind, list, ctx, out);
    }
}

fn examples(kind: &str, list: &[&ReportError], ctx: &MarkdownContext<'_>, out: &mut String) {
    let _ = writeln!(out, "### {kind} ({})\n", list.len());
    for e in list.iter().take(EXAMPLES_PER_KIND) {
        let subject = subject(e, ctx);
        let sep = if subject.is_empty() { "" } else { ": " };
        let _ = writeln!(out, "- {subject}{sep}{}", cell(&e.message));
    }
    more(list.len(), EXAMPLES_PER_KIND, out);
}

fn failures(report: &Report, ctx: &MarkdownContext<'_>, out: &mut String) {
    let groups = by_kind(report.errors.iter().filter(|e| !e.kind.is_finding()));
    if groups.is_empty() {
        return;
    }
    let total: usize = groups.iter().map(|(_, l)| l.len()).sum();
    let _ = writeln!(out, "## Errors ({total})\n");
    for (kind, list) in &groups {
        examples(kind, list, ctx, out);
    }
}

fn more(total: usize, shown: usize, out: &mut String) {
    if total > shown {
        let _ = writeln!(out, "\n{} more in the JSON report.", total - shown);
    }
    out.push('\n');
}

fn changes(report: &Report, ctx: &MarkdownContext<'_>, out: &mut String) {
    if report.changes.is_empty() {
        return;
    }
    let title = if report.dry_run {
        "Changes (planned)"
    } else {
        "Changes"
    };
    let _ = writeln!(out, "## {title}\n");
    let mut actions: Vec<ChangeAction> = Vec::new();
    for c in &report.changes {
        if !actions.contains(&c.action) {
            actions.push(c.action);
        }
    }
    for action in actions {
        let rows: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| c.action == action)
            .collect();
        let action = action.as_str();
        let _ = writeln!(out, "### {action} ({})\n", rows.len());
        match action {
            "update_org" => {
                let _ = writeln!(out, "| org | account | changes |\n|---|---|---|");
                for c in rows.iter().take(ROWS_PER_TABLE) {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} |",
                        org_link(c, ctx),
                        account(c),
                        cell_html(&update_cells(c))
                    );
                }
            }
            "delete_org" => {
                let _ = writeln!(out, "| org | account |\n|---|---|");
                for c in rows.iter().take(ROWS_PER_TABLE) {
                    let _ = writeln!(out, "| {} | {} |", org_link(c, ctx), account(c));
                }
            }
            "create_org" => {
                let _ = writeln!(out, "| org | account | fields |\n|---|---|---|");
                for c in rows.iter().take(ROWS_PER_TABLE) {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} |",
                        org_link(c, ctx),
                        account(c),
                        code(&fields_without(c.fields.to_value(), &["name", "id"]).to_string())
                    );
                }
            }
            _ => {
                let _ = writeln!(out, "| subject | fields |\n|---|---|");
                for c in rows.iter().take(ROWS_PER_TABLE) {
                    let subject = match (&c.email, c.ticket_id, &c.salesforce_id) {
                        (Some(e), _, _) => cell(e),
                        (None, Some(t), _) => format!("ticket {t}"),
                        (None, None, Some(s)) => format!("`{s}`"),
                        _ => String::new(),
                    };
                    let _ = writeln!(out, "| {subject} | {} |", code(c.fields.as_str()));
                }
            }
        }
        more(rows.len(), ROWS_PER_TABLE, out);
    }
}

/// The org's name, linked to it in Zendesk when its id and the URL are known.
fn org_link(c: &Change, ctx: &MarkdownContext<'_>) -> String {
    let fields = c.fields.to_map();
    let name = c
        .name
        .as_deref()
        .or_else(|| fields.get("name").and_then(Value::as_str))
        .unwrap_or("");
    let name = cell(name);
    let id = fields.get("id").and_then(Value::as_u64).or_else(|| {
        let sfid = c.salesforce_id.as_ref()?;
        ctx.org_ids.and_then(|ids| ids.get(sfid)).map(|id| id.get())
    });
    match (id, ctx.zendesk_url) {
        (Some(id), Some(url)) if id > 0 => {
            format!(
                "[{}]({url}/agent/organizations/{id})",
                name.replace(['[', ']'], "")
            )
        }
        (Some(id), None) if id > 0 => format!("{name} ({id})"),
        _ => name,
    }
}

fn account(c: &Change) -> String {
    c.salesforce_id
        .as_deref()
        .map(|s| format!("`{s}`"))
        .unwrap_or_default()
}

/// An update as `field: before → after`, one per line: the name, each changed field,
/// and the tags as those added and removed.
fn update_cells(c: &Change) -> Vec<String> {
    let before = c.before.as_ref().map_or(Value::Null, JsonFields::to_value);
    let fields = c.fields.to_map();
    let mut lines = Vec::new();
    if let Some(name) = fields.get("name") {
        lines.push(format!(
            "name: {} → {}",
            plain(before.get("name")),
            plain(Some(name))
        ));
    }
    if let Some(Value::Object(org_fields)) = fields.get("organization_fields") {
        let old = before.get("organization_fields");
        for (k, v) in org_fields {
            lines.push(format!(
                "{k}: {} → {}",
                plain(old.and_then(|o| o.get(k))),
                plain(Some(v))
            ));
        }
    }
    if let Some(Value::Array(tags)) = fields.get("tags") {
        let now: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        let was: Vec<&str> = before
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let added: Vec<String> = now
            .iter()
            .filter(|t| !was.contains(t))
            .map(|t| format!("+{t}"))
            .collect();
        let removed: Vec<String> = was
            .iter()
            .filter(|t| !now.contains(t))
            .map(|t| format!("−{t}"))
            .collect();
        let mut all = removed;
        all.extend(added);
        lines.push(format!("tags: {}", all.join(" ")));
    }
    lines
}

/// A value as a person reads it: text without quotes, unset as `(unset)`.
fn plain(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".to_string(),
        Some(Value::String(s)) if s.trim().is_empty() => "(unset)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn fields_without(fields: Value, keys: &[&str]) -> Value {
    match fields {
        Value::Object(mut map) => {
            map.retain(|k, _| !keys.contains(&k.as_str()));
            Value::Object(map)
        }
        other => other,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

/// A table cell: no pipes or line breaks, at most [`MAX_CELL`] characters.
fn cell(s: &str) -> String {
    truncate(&s.replace('|', "\\|").replace(['\n', '\r'], " "), MAX_CELL)
}

/// Several lines in one cell, joined with `<br>`, capped like [`cell`].
fn cell_html(lines: &[String]) -> String {
    let cells: Vec<String> = lines.iter().map(|l| cell(l)).collect();
    truncate(&cells.join("<br>"), MAX_CELL * 2)
}

/// JSON text (compact) in a code span, capped.
fn code(json: &str) -> String {
    let text = truncate(json, MAX_CELL);
    format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn big_report(n: usize) -> Report {
        let mut r = Report::new("zd-sfdc-sync-global", false, OffsetDateTime::UNIX_EPOCH);
        for i in 0..n {
            let id = format!("0014M00001{i:08}");
            let mut e = ReportError::new(crate::model::FindingKind::UnknownRegion, "x".repeat(500));
            e.salesforce_id = Some(id.clone());
            r.errors.push(e);
            r.changes.push(Change {
                action: ChangeAction::UpdateOrg,
                salesforce_id: Some(id.clone()),
                email: None,
                ticket_id: None,
                name: Some(format!("Org {i} | with a pipe")),
                fields: serde_json::json!({"id": i + 1, "organization_fields": {"aar": i}, "tags": ["a", "b"]}).into(),
                before: Some(serde_json::json!({"organization_fields": {"aar": null}, "tags": ["a"]}).into()),
            });
            r.changes.push(Change {
                action: ChangeAction::CreateOrg,
                salesforce_id: Some(id),
                email: None,
                ticket_id: None,
                name: Some(format!("New {i}")),
                fields: serde_json::json!({"name": format!("New {i}"), "organization_fields": {"note": "y".repeat(1000)}}).into(),
                before: None,
            });
        }
        r
    }

    #[test]
    fn it_stays_under_100_kb_at_any_size_and_says_how_many_more() {
        for n in [0, 30, 50_000] {
            let md = render(&big_report(n), &MarkdownContext::default());
            assert!(md.len() < MAX_BYTES, "{n}: {} bytes", md.len());
            if n == 50_000 {
                assert!(md.contains("49980 more in the JSON report."), "{md}");
                assert!(md.contains("| unknown_region | 50000 |"));
            }
        }
    }

    #[test]
    fn an_update_shows_before_and_after_with_the_org_linked() {
        let names: BTreeMap<String, String> = BTreeMap::new();
        let ctx = MarkdownContext {
            zendesk_url: Some("https://example.zendesk.com"),
            account_names: Some(&names),
            org_ids: None,
        };
        let md = render(&big_report(1), &ctx);
        assert!(
            md.contains("| [Org 0 \\| with a pipe](https://example.zendesk.com/agent/organizations/1) | `0014M0000100000000` | aar: (unset) → 0<br>tags: +b |"),
            "{md}"
        );
    }

    #[test]
    fn a_cut_ends_at_a_line_with_a_note() {
        let long = "line\n".repeat(30_000);
        let cut = cap(long);
        assert!(cut.len() <= MAX_BYTES);
        assert!(cut.ends_with("the JSON report has everything)_\n"));
    }
}
