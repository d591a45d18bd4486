//! `explain SALESFORCE_ID` (docs/behaviour.md §8): why one account gets the org it gets. Built from
//! the same steps a run takes — [`evaluate_account`] for the plan, expiration, greatly
//! expired and desired org, [`diff_orgs`] for the Zendesk side and the patch — plus a
//! description of each step's inputs; no rule is written twice. Pure: the records and
//! orgs are read by `sync-jobs`.
//!
//! An account the instance's query does not return is explained by
//! [`why_not_returned`]: which condition of the query's `WHERE` it fails, from the
//! same account read by id without that `WHERE`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;
use time::Date;

use crate::diff::diff_orgs;
use crate::evaluate::{
    account_type_rule, evaluate_account, is_current, three_years_before, Evaluation,
};
use crate::ids::ZendeskOrgId;
use crate::mapping::{Instance, Mapping};
use crate::model::{Account, DesiredOrg, Finding};
use crate::records::decode_accounts;
use crate::value::FieldValue;
use crate::zendesk::ZendeskOrg;

/// The fields the by-id query reads to tell which `WHERE` condition an account fails.
pub const WHY_FIELDS: &[&str] = &[
    "Account_ID_18__c",
    "Name",
    "Type",
    "Partners_Partner_Status__c",
    "Partners_Partner_Type__c",
    "Partner_Track__c",
    "Account_Territory__c",
];

/// The instance's account query narrowed to one account: the original text with its
/// `WHERE` in parentheses and `AND Account.Account_ID_18__c = 'ID'`. `id` must be
/// an 18-character alphanumeric id (checked before: nothing to escape).
pub fn narrowed_query(original: &str, id: &str) -> String {
    match original.rfind("\nWHERE") {
        Some(at) => {
            let (head, tail) = original.split_at(at);
            let condition = tail.trim_start_matches("\nWHERE").trim();
            format!("{head}\nWHERE\n  ({condition})\n  AND Account.Account_ID_18__c = '{id}'")
        }
        None => format!("{original}\nWHERE Account.Account_ID_18__c = '{id}'"),
    }
}

/// The query that reads an account by id alone, without the instance's `WHERE`.
pub fn by_id_query(id: &str) -> String {
    format!(
        "SELECT {} FROM Account WHERE Account_ID_18__c = '{id}'",
        WHY_FIELDS.join(", ")
    )
}

/// One condition of the query's `WHERE`, checked against the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// The condition, as the query writes it.
    pub condition: String,
    /// What the account has.
    pub value: String,
    /// Whether it holds.
    pub holds: bool,
}

/// Why a well-formed id is not explained from the query's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotReturned {
    /// Whether Salesforce has an account with this id at all.
    pub exists: bool,
    /// The account's name, when it exists.
    pub name: Option<String>,
    /// The `WHERE` conditions, each checked (empty when the account does not exist).
    pub conditions: Vec<Condition>,
    /// In words.
    pub summary: String,
}

fn text(record: &Value, field: &str) -> Option<String> {
    record
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn in_list(value: Option<&str>, list: &[&str]) -> bool {
    value.is_some_and(|v| list.iter().any(|l| l.eq_ignore_ascii_case(v)))
}

fn check(condition: &str, value: Option<&str>, holds: bool) -> Condition {
    Condition {
        condition: condition.to_string(),
        value: value.map_or_else(|| "null".to_string(), |v| format!("{v:?}")),
        holds,
    }
}

/// The special account the Global query returns by id (its `WHERE`'s id branch).
const GLOBAL_ID_BRANCH: &str = "0014M00001sGJ8xQAG";

/// Which conditions of the instance's `WHERE` (`soql`) the account read by id
/// (`record`, with [`WHY_FIELDS`]; `None` when Salesforce has no such account) fails.
pub fn why_not_returned(instance: Instance, id: &str, record: Option<&Value>) -> NotReturned {
    let Some(record) = record else {
        return NotReturned {
            exists: false,
            name: None,
            conditions: Vec::new(),
            summary: format!("Salesforce has no account with Account_ID_18__c {id}"),
        };
    };
    let conditions = match instance {
        Instance::Global => global_conditions(id, record),
        Instance::UsFederal => us_federal_conditions(record),
    };
    let failed: Vec<&str> = conditions
        .iter()
        .filter(|c| !c.holds)
        .map(|c| c.condition.as_str())
        .collect();
    NotReturned {
        exists: true,
        name: text(record, "Name"),
        summary: format!(
            "the account exists but the query's WHERE does not return it; it fails: {}",
            failed.join("; ")
        ),
        conditions,
    }
}

/// The Global query's WHERE conditions, each with the record's value and whether it holds.
fn global_conditions(id: &str, record: &Value) -> Vec<Condition> {
    let ty = text(record, "Type");
    let ty = ty.as_deref();
    let status = text(record, "Partners_Partner_Status__c");
    let ptype = text(record, "Partners_Partner_Type__c");
    let track = text(record, "Partner_Track__c");
    vec![
        check(
            "Account.Type IN ('Customer', 'Former Customer')",
            ty,
            in_list(ty, &["Customer", "Former Customer"]),
        ),
        check(
            &format!("OR Account.Account_ID_18__c = '{GLOBAL_ID_BRANCH}'"),
            Some(id),
            id == GLOBAL_ID_BRANCH,
        ),
        check(
            "OR (Account.Type = 'Partner'",
            ty,
            in_list(ty, &["Partner"]),
        ),
        check(
            "AND Account.Partners_Partner_Status__c IN ('Authorized', 'Former')",
            status.as_deref(),
            in_list(status.as_deref(), &["Authorized", "Former"]),
        ),
        check(
            "AND Account.Partners_Partner_Type__c IN ('Alliance', 'Channel')",
            ptype.as_deref(),
            in_list(ptype.as_deref(), &["Alliance", "Channel"]),
        ),
        check(
            "AND Account.Partner_Track__c IN ('Open', 'Select', 'Technology'))",
            track.as_deref(),
            in_list(track.as_deref(), &["Open", "Select", "Technology"]),
        ),
    ]
}

/// The US Federal query's WHERE conditions, each with the record's value and whether it holds.
fn us_federal_conditions(record: &Value) -> Vec<Condition> {
    let ty = text(record, "Type");
    let ty = ty.as_deref();
    let territory = text(record, "Account_Territory__c");
    vec![
        check(
            "Type IN ('Customer', 'Former Customer', 'Prospect')",
            ty,
            in_list(ty, &["Customer", "Former Customer", "Prospect"]),
        ),
        check(
            "AND Account_Territory__c LIKE 'USPUB-FED%'",
            territory.as_deref(),
            territory
                .as_deref()
                .is_some_and(|t| t.to_uppercase().starts_with("USPUB-FED")),
        ),
    ]
}

// Dates in the JSON as `2026-11-25`, not serde's default `[2026, 329]` (year, ordinal day).
time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One Active subscription as read, and what the plan rules made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionLine {
    /// `customer subscription` or `Zuora subscription`.
    pub kind: &'static str,
    /// The raw tier (`Product_Tier_Name_Short__c` else `Plan_Name__c`; `Support_Level__c`).
    pub tier: Option<String>,
    /// Its end date.
    #[serde(with = "iso_date::option")]
    pub end: Option<Date>,
    /// Whether it is current today (no end date, or ending today or later).
    pub current: bool,
    /// The plan its tier means, if the mapping knows the tier.
    pub plan: Option<String>,
    /// Whether its plan is the one that won.
    pub won: bool,
}

/// The Zendesk side: the org found, or why none, and what a run would send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZendeskSide {
    /// The orgs whose `salesforce_id` is this account's (`id`, `name`).
    pub matched: Vec<(ZendeskOrgId, String)>,
    /// Other orgs holding the name the account wants (`id`, `name`).
    pub name_holders: Vec<(ZendeskOrgId, String)>,
    /// `create`, `update`, `delete`, `unchanged` or `skipped`.
    pub action: String,
    /// Why, in words.
    pub why: String,
    /// The exact object a run would send (`create_many` / `update_many` body, or the
    /// org deleted); `None` when nothing is sent.
    pub patch: Option<Value>,
    /// For an update: what the changed fields hold now.
    pub before: Option<Value>,
}

/// The explanation of one account the query returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountExplanation {
    /// `Name`.
    pub name: String,
    /// `Type` as read.
    pub type_raw: Option<String>,
    /// Every Active subscription as read.
    pub subscriptions: Vec<SubscriptionLine>,
    /// The plan (`support_level`).
    pub plan: String,
    /// Why this plan, in words.
    pub plan_why: String,
    /// `false` when an unknown current tier keeps the org as it is.
    pub trusted: bool,
    /// The expiration date.
    #[serde(with = "iso_date::option")]
    pub expiration_date: Option<Date>,
    /// Where it comes from, in words.
    pub expiration_source: String,
    /// Greatly expired (Global).
    pub greatly_expired: bool,
    /// The boundary: expired on or before this date counts as greatly expired.
    #[serde(with = "iso_date")]
    pub greatly_expired_boundary: Date,
    /// Why greatly expired or not, in words.
    pub greatly_expired_why: String,
    /// The computed account type.
    pub account_type: Option<String>,
    /// The rule that gave it.
    pub account_type_rule: Option<String>,
    /// The desired org: every managed field and tag.
    pub desired: DesiredOrg,
    /// Findings about the account.
    pub findings: Vec<Finding>,
    /// The Zendesk side.
    pub zendesk: ZendeskSide,
}

/// `explain`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The account asked about.
    pub salesforce_id: String,
    /// The run's date.
    #[serde(with = "iso_date")]
    pub today: Date,
    /// Whether the instance's query returned it.
    pub returned: bool,
    /// When returned but not valid: why it is not synced (`invalid_account`).
    pub invalid: Vec<Finding>,
    /// When returned and valid.
    pub account: Option<AccountExplanation>,
    /// When not returned.
    pub not_returned: Option<NotReturned>,
}

/// Explains an account the query did not return.
pub fn explain_not_returned(id: &str, today: Date, why: NotReturned) -> Explanation {
    Explanation {
        salesforce_id: id.to_string(),
        today,
        returned: false,
        invalid: Vec::new(),
        account: None,
        not_returned: Some(why),
    }
}

/// Explains the account of `record` (the narrowed query's one record) against the
/// Zendesk `orgs` it could match or collide with, as a run on `today` would decide.
pub fn explain_record(
    id: &str,
    record: Value,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
) -> Explanation {
    let decoded = decode_accounts(mapping.instance(), vec![record]);
    let mut out = Explanation {
        salesforce_id: id.to_string(),
        today,
        returned: true,
        invalid: decoded.findings,
        account: None,
        not_returned: None,
    };
    if let Some(account) = decoded.items.first() {
        out.account = Some(explain_account(account, orgs, mapping, today));
    }
    out
}

/// Explains one valid account: the run's own evaluation and diff, described.
pub fn explain_account(
    account: &Account,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    today: Date,
) -> AccountExplanation {
    let eval = evaluate_account(account, mapping, today);
    let subscriptions = subscription_lines(account, mapping, today, &eval);
    let plan_why = plan_why(account, mapping, &eval, &subscriptions);
    let boundary = three_years_before(today);
    let plan = diff_orgs(std::slice::from_ref(&eval), orgs, mapping, &BTreeSet::new());
    let mut findings = plan.findings.clone();
    findings.dedup();
    let (ty, rule) = match account_type_rule(account) {
        Some((t, r)) => (Some(t), Some(r.to_string())),
        None => (None, None),
    };
    AccountExplanation {
        name: account.name.clone(),
        type_raw: account.account_type.as_deref().map(str::to_string),
        plan: eval.plan.clone(),
        plan_why,
        trusted: eval.trusted,
        expiration_date: eval.expiration_date,
        expiration_source: expiration_source(account),
        greatly_expired: eval.greatly_expired,
        greatly_expired_boundary: boundary,
        greatly_expired_why: greatly_expired_why(mapping, &eval, boundary),
        account_type: ty,
        account_type_rule: rule,
        desired: eval.desired.clone(),
        findings,
        zendesk: zendesk_side(&eval, orgs, mapping, &plan),
        subscriptions,
    }
}

fn subscription_lines(
    account: &Account,
    mapping: &Mapping,
    today: Date,
    eval: &Evaluation,
) -> Vec<SubscriptionLine> {
    let customer = account
        .customer_subscriptions
        .iter()
        .map(|s| ("customer subscription", s.tier.clone(), s.end));
    let zuora = account
        .zuora_subscriptions
        .iter()
        .map(|s| ("Zuora subscription", s.tier.clone(), s.end));
    let mut won_once = false;
    customer
        .chain(zuora)
        .map(|(kind, tier, end)| {
            let current = is_current(end, today);
            let plan = tier
                .as_deref()
                .and_then(|t| mapping.plan_for_tier(t))
                .map(str::to_string);
            let won = !won_once && current && eval.trusted && plan.as_deref() == Some(&eval.plan);
            won_once |= won;
            SubscriptionLine {
                kind,
                tier,
                end,
                current,
                plan,
                won,
            }
        })
        .collect()
}

fn plan_why(
    account: &Account,
    mapping: &Mapping,
    eval: &Evaluation,
    subs: &[SubscriptionLine],
) -> String {
    let ranks = mapping.file().plans.rank.join(" > ");
    if let Some(won) = subs.iter().find(|s| s.won) {
        return format!(
            "the highest-ranked plan among the current subscriptions with a known tier \
             (rank: {ranks}): {} tier {:?} means {}",
            won.kind,
            won.tier.as_deref().unwrap_or(""),
            eval.plan
        );
    }
    if !eval.trusted {
        return "a current subscription has a tier the mapping does not know and nothing \
                known gives a plan: the org is neither created nor changed this run"
            .to_string();
    }
    if eval.plan != mapping.expired_plan() {
        return format!(
            "no current subscription gives a plan: Account.Support_Level__c {:?} means {}",
            account.support_level.as_deref().unwrap_or(""),
            eval.plan
        );
    }
    if subs.iter().any(|s| s.current) {
        format!(
            "no current subscription has a tier that gives a plan: {}",
            eval.plan
        )
    } else {
        format!("no subscription is current today: {}", eval.plan)
    }
}

fn expiration_source(account: &Account) -> String {
    let any_end = account
        .customer_subscriptions
        .iter()
        .map(|s| s.end)
        .chain(account.zuora_subscriptions.iter().map(|s| s.end))
        .any(|e| e.is_some());
    if any_end {
        "the latest end date of the account's Active subscriptions".to_string()
    } else if account.next_renewal.is_some() {
        "no subscription has an end date: Next_Renewal_Date__c".to_string()
    } else {
        "no subscription end date and no Next_Renewal_Date__c: none".to_string()
    }
}

fn greatly_expired_why(mapping: &Mapping, eval: &Evaluation, boundary: Date) -> String {
    if mapping.instance() != Instance::Global {
        return "only Global orgs can be greatly expired".to_string();
    }
    if eval.greatly_expired {
        return format!(
            "the plan is {} and the expiration date is on or before {boundary} (three years \
             before today)",
            eval.plan
        );
    }
    if eval.partner {
        return "partners are never greatly expired".to_string();
    }
    if eval.plan != mapping.expired_plan() {
        return format!("the plan is {}, not {}", eval.plan, mapping.expired_plan());
    }
    match eval.expiration_date {
        None => "no expiration date: never greatly expired".to_string(),
        Some(d) => format!("expired on {d}, after the boundary {boundary}"),
    }
}

fn zendesk_side(
    eval: &Evaluation,
    orgs: &[ZendeskOrg],
    mapping: &Mapping,
    plan: &crate::diff::Plan,
) -> ZendeskSide {
    let matched: Vec<(ZendeskOrgId, String)> = orgs
        .iter()
        .filter(|o| o.salesforce_id(mapping).as_deref() == Some(eval.salesforce_id.as_str()))
        .map(|o| (o.id, o.name.clone()))
        .collect();
    let want = eval.desired.name.trim().to_lowercase();
    let matched_ids: BTreeSet<ZendeskOrgId> = matched.iter().map(|(id, _)| *id).collect();
    let name_holders: Vec<(ZendeskOrgId, String)> = orgs
        .iter()
        .filter(|o| o.name.trim().to_lowercase() == want && !matched_ids.contains(&o.id))
        .map(|o| (o.id, o.name.clone()))
        .collect();
    let mut side = ZendeskSide {
        matched,
        name_holders,
        action: "unchanged".to_string(),
        why: String::new(),
        patch: None,
        before: None,
    };
    if let Some(c) = plan.creates.first() {
        side.action = "create".into();
        side.why = "no Zendesk org has this salesforce_id: a run creates one".into();
        side.patch = Some(c.zendesk_body());
    } else if let Some(u) = plan.updates.first() {
        side.action = "update".into();
        side.why = format!("org {} differs from the desired org", u.id);
        side.patch = Some(u.zendesk_body());
        side.before = Some(u.before.changed(&u.patch));
    } else if let Some(d) = plan.deletes.first() {
        side.action = "delete".into();
        side.why = format!(
            "the account is greatly expired and org {} has no {} tag: a run deletes it",
            d.id,
            mapping.protect_tag()
        );
        side.patch = Some(serde_json::json!({ "id": d.id, "name": d.name }));
    } else if let Some(s) = plan.skipped.first() {
        side.action = "skipped".into();
        side.why = match s.reason.as_str() {
            "greatly_expired_without_org" => {
                "greatly expired and no org has this salesforce_id: none is created".to_string()
            }
            other => format!("not synced: {other} (see the findings)"),
        };
    } else {
        let protected =
            eval.greatly_expired && !plan.unchanged.is_empty() && side.matched.len() == 1;
        side.why = if protected {
            format!(
                "greatly expired, but {}: kept, and already as desired",
                kept_because(mapping)
            )
        } else {
            "the org is already as desired: a run sends nothing".to_string()
        };
    }
    if side.action == "update" && eval.greatly_expired {
        side.why.push_str(&format!(
            "; greatly expired, but {}, so it is updated, not deleted",
            kept_because(mapping)
        ));
    }
    side
}

/// Why a greatly expired account's org is kept.
fn kept_because(mapping: &Mapping) -> String {
    if mapping.deletes_greatly_expired() {
        format!("the org is tagged {}", mapping.protect_tag())
    } else {
        "this instance never deletes orgs".to_string()
    }
}

fn date_or_none(d: Option<Date>) -> String {
    d.map_or_else(|| "none".to_string(), |d| d.to_string())
}

fn value_text(v: Option<&FieldValue>) -> String {
    match v {
        None => "(unset)".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// Escapes a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Explanation {
    /// The explanation as Markdown (what `explain` prints).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# explain {} (today {})\n",
            self.salesforce_id, self.today
        );
        if let Some(why) = &self.not_returned {
            self.not_returned_markdown(why, &mut out);
            return out;
        }
        if !self.invalid.is_empty() {
            let _ = writeln!(
                out,
                "The query returns this account, but it is not valid, so it is not synced:\n"
            );
            for f in &self.invalid {
                let _ = writeln!(out, "- `{}`: {}", f.kind.as_str(), f.message);
            }
        }
        if let Some(a) = &self.account {
            a.markdown(&mut out);
        }
        out
    }

    fn not_returned_markdown(&self, why: &NotReturned, out: &mut String) {
        let _ = writeln!(
            out,
            "The instance's query does not return this account, so a run never syncs it.\n"
        );
        let _ = writeln!(out, "{}.\n", why.summary);
        if let Some(name) = &why.name {
            let _ = writeln!(out, "Account: **{}**\n", cell(name));
        }
        if !why.conditions.is_empty() {
            let _ = writeln!(out, "| condition of the WHERE | the account has | holds |");
            let _ = writeln!(out, "|---|---|---|");
            for c in &why.conditions {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    c.condition,
                    cell(&c.value),
                    if c.holds { "yes" } else { "**no**" }
                );
            }
        }
    }
}

impl AccountExplanation {
    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "## {}\n", cell(&self.name));
        let _ = writeln!(out, "### Subscriptions (Active, as read)\n");
        if self.subscriptions.is_empty() {
            let _ = writeln!(out, "None.\n");
        } else {
            let _ = writeln!(out, "| kind | tier | ends | current | plan | won |");
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for s in &self.subscriptions {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    s.kind,
                    cell(s.tier.as_deref().unwrap_or("(none)")),
                    date_or_none(s.end),
                    if s.current { "yes" } else { "no" },
                    s.plan.as_deref().unwrap_or("(unknown tier)"),
                    if s.won { "**yes**" } else { "" }
                );
            }
            out.push('\n');
        }
        let _ = writeln!(out, "### Plan\n");
        let _ = writeln!(out, "**{}**: {}.\n", self.plan, self.plan_why);
        let _ = writeln!(out, "### Expiration\n");
        let _ = writeln!(
            out,
            "- expiration date: {} ({})",
            date_or_none(self.expiration_date),
            self.expiration_source
        );
        let _ = writeln!(
            out,
            "- greatly expired: {} (boundary {}): {}\n",
            if self.greatly_expired {
                "**yes**"
            } else {
                "no"
            },
            self.greatly_expired_boundary,
            self.greatly_expired_why
        );
        let _ = writeln!(out, "### Account type\n");
        match (&self.account_type, &self.account_type_rule) {
            (Some(t), Some(rule)) => {
                let _ = writeln!(
                    out,
                    "Type {:?} → **{t}** ({rule}).\n",
                    self.type_raw.as_deref().unwrap_or("")
                );
            }
            _ => {
                let _ = writeln!(out, "Type is blank: no account type.\n");
            }
        }
        let _ = writeln!(out, "### Desired org\n");
        let _ = writeln!(out, "Name: {}\n", cell(&self.desired.name));
        let _ = writeln!(out, "| field | value |\n|---|---|");
        for (k, v) in &self.desired.fields {
            let _ = writeln!(out, "| {k} | {} |", cell(&value_text(v.as_ref())));
        }
        let tags: Vec<&str> = self.desired.managed_tags.iter().collect();
        let _ = writeln!(out, "\nManaged tags: {}\n", tags.join(", "));
        if !self.findings.is_empty() {
            let _ = writeln!(out, "### Findings\n");
            for f in &self.findings {
                let _ = writeln!(out, "- `{}`: {}", f.kind.as_str(), f.message);
            }
            out.push('\n');
        }
        self.zendesk.markdown(out);
    }
}

impl ZendeskSide {
    fn markdown(&self, out: &mut String) {
        let _ = writeln!(out, "### Zendesk\n");
        if self.matched.is_empty() {
            let _ = writeln!(out, "- no org has this salesforce_id");
        }
        for (id, name) in &self.matched {
            let _ = writeln!(out, "- org {id} {:?} has this salesforce_id", name);
        }
        for (id, name) in &self.name_holders {
            let _ = writeln!(
                out,
                "- org {id} {:?} holds the name this account wants",
                name
            );
        }
        let _ = writeln!(out, "\nA run: **{}**: {}.\n", self.action, self.why);
        if let Some(before) = &self.before {
            let _ = writeln!(out, "Now:\n\n```json\n{}\n```\n", pretty(before));
        }
        if let Some(patch) = &self.patch {
            let _ = writeln!(out, "Sent:\n\n```json\n{}\n```", pretty(patch));
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_narrowed_query_keeps_the_original_where_in_parentheses() {
        let q = narrowed_query(crate::soql::US_FEDERAL_ACCOUNTS, "001000000000000AAA");
        assert!(q.starts_with("SELECT"));
        assert!(q.ends_with(
            "WHERE\n  (Type IN ('Customer', 'Former Customer', 'Prospect') AND\nAccount_Territory__c LIKE 'USPUB-FED%')\n  AND Account.Account_ID_18__c = '001000000000000AAA'"
        ), "{q}");
        let g = narrowed_query(crate::soql::GLOBAL_ACCOUNTS, "001000000000000AAA");
        assert_eq!(g.matches("WHERE Current_Subscription_Status__c").count(), 1);
        assert!(
            g.contains("FROM Account\nWHERE\n  ((Account.Type IN"),
            "{g}"
        );
    }

    #[test]
    fn a_prospect_fails_the_global_type_condition_and_a_missing_id_is_said() {
        let why = why_not_returned(
            Instance::Global,
            "001000000000000AAA",
            Some(&json!({"Name": "P", "Type": "Prospect"})),
        );
        assert!(why.exists);
        assert!(!why.conditions[0].holds);
        assert!(why
            .summary
            .contains("Account.Type IN ('Customer', 'Former Customer')"));
        let none = why_not_returned(Instance::UsFederal, "001000000000000AAA", None);
        assert!(!none.exists);
        let fed = why_not_returned(
            Instance::UsFederal,
            "001000000000000AAA",
            Some(&json!({"Type": "Customer", "Account_Territory__c": "AMER-WEST"})),
        );
        assert!(fed.conditions[0].holds && !fed.conditions[1].holds);
    }
}
