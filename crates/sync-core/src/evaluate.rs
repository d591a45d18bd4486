//! Evaluation of one account (SPEC §3–§4): its plan from current subscriptions,
//! expiration date, "greatly expired", account type, and the desired Zendesk org
//! with its managed tags. Pure: `today` is a parameter.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Month};

use crate::mapping::{Instance, Mapping};
use crate::model::{Account, BillingAccount, DesiredOrg, Finding, FindingKind};
use crate::value::FieldValue;

/// Everything the run needs to know about one valid account.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `Account_ID_18__c`.
    pub salesforce_id: String,
    /// The org this account should have.
    pub desired: DesiredOrg,
    /// The plan name (`expired` when none).
    pub plan: String,
    /// The latest subscription end date, else `Next_Renewal_Date__c`.
    pub expiration_date: Option<Date>,
    /// Global only: expired for 3+ calendar years (never for partners).
    pub greatly_expired: bool,
    /// `false` when a current subscription has an unknown tier and nothing known
    /// gives a plan: the org is then neither created nor changed this run.
    pub trusted: bool,
    /// Whether `Type` is `Partner` (partners are never deleted).
    pub partner: bool,
    /// Findings about this account (`unknown_tier`, `unknown_region`, `unknown_option`).
    pub findings: Vec<Finding>,
    /// The account's billing accounts (sold-to emails, Global).
    pub billing_accounts: Vec<BillingAccount>,
}

/// The same day three calendar years earlier; 29 February becomes 28 February.
pub fn three_years_before(today: Date) -> Date {
    let year = today.year() - 3;
    Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(Date::MIN)
}

/// `Type` → snake_case (`Former Customer` → `former_customer`).
pub fn snake_case(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

fn eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.trim().eq_ignore_ascii_case(b))
}

/// SPEC §3.6: the computed account type, first match wins. `None` when `Type` is blank.
pub fn account_type(account: &Account) -> Option<String> {
    let raw = account.account_type.as_deref()?;
    if !raw.trim().eq_ignore_ascii_case("partner") {
        return Some(snake_case(raw)).filter(|s| !s.is_empty());
    }
    let track = account.partner_track.as_deref();
    let kind = if eq(account.partner_status.as_deref(), "Former") {
        "former_partner"
    } else if eq(account.partner_type.as_deref(), "Alliance") {
        "alliance_partner"
    } else if eq(track, "Open") {
        "open_partner"
    } else if eq(track, "Select") {
        "select_partner"
    } else if eq(track, "Technology") {
        "technology_partner"
    } else {
        "partner"
    };
    Some(kind.to_string())
}

/// How an `unknown_tier` finding on an ended subscription ends.
const ENDED: &str = " (the subscription has ended, so it does not count)";

/// The result of reading an account's subscriptions.
struct PlanResult {
    plan: String,
    trusted: bool,
    findings: Vec<Finding>,
}

fn plan_of(account: &Account, mapping: &Mapping, today: Date) -> PlanResult {
    let id = Some(account.id18.as_str());
    let mut findings = Vec::new();
    let mut unknown_reported = BTreeSet::new();
    let mut best: Option<(usize, String)> = None;
    let mut unknown_current = false;
    let subs = account
        .customer_subscriptions
        .iter()
        .map(|s| ("customer subscription", s.tier.as_deref(), s.end))
        .chain(
            account
                .zuora_subscriptions
                .iter()
                .map(|s| ("Zuora subscription", s.tier.as_deref(), s.end)),
        );
    for (what, tier, end) in subs {
        let current = end.is_none_or(|end| end >= today);
        let plan = tier.and_then(|t| mapping.plan_for_tier(t));
        match (tier, plan) {
            (_, Some(plan)) => {
                if let (true, Some(rank)) = (current, mapping.plan_rank(plan)) {
                    if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                        best = Some((rank, plan.to_string()));
                    }
                }
            }
            (raw, None) => {
                unknown_current |= current;
                let raw = raw.unwrap_or("");
                if unknown_reported.insert((raw.to_lowercase(), current)) {
                    let mut message = if raw.is_empty() {
                        format!("a {what} has no tier")
                    } else {
                        format!("{what} tier {raw:?} is not in the mapping's plan table")
                    };
                    if !current {
                        message.push_str(ENDED);
                    }
                    findings.push(Finding::account(FindingKind::UnknownTier, id, message));
                }
            }
        }
    }
    if let Some((_, plan)) = best {
        if unknown_current {
            for f in &mut findings {
                if !f.message.ends_with(ENDED) {
                    f.message.push_str(&format!(
                        "; the plan ({plan}) comes from the account's other current subscriptions"
                    ));
                }
            }
        }
        return PlanResult {
            plan,
            trusted: true,
            findings,
        };
    }
    // US Federal: fall back to Account.Support_Level__c through the same table.
    if mapping.instance() == Instance::UsFederal {
        if let Some(raw) = account.support_level.as_deref() {
            match mapping.plan_for_tier(raw) {
                Some(plan) => {
                    return PlanResult {
                        plan: plan.to_string(),
                        trusted: true,
                        findings,
                    }
                }
                None => {
                    findings.push(Finding::account(
                        FindingKind::UnknownTier,
                        id,
                        format!(
                            "account Support_Level__c {raw:?} is not in the mapping's plan table"
                        ),
                    ));
                    unknown_current = true;
                }
            }
        }
    }
    PlanResult {
        plan: mapping.expired_plan().to_string(),
        trusted: !unknown_current,
        findings,
    }
}

/// Evaluates one valid account against a mapping on the run's `today`.
pub fn evaluate_account(account: &Account, mapping: &Mapping, today: Date) -> Evaluation {
    let id = account.id18.as_str();
    let PlanResult {
        plan,
        trusted,
        mut findings,
    } = plan_of(account, mapping, today);
    if !trusted {
        // Say what the finding costs: the org is held as it is, not downgraded.
        for f in findings
            .iter_mut()
            .filter(|f| f.kind == FindingKind::UnknownTier && !f.message.ends_with(ENDED))
        {
            f.message.push_str(
                "; no current subscription has a known tier, so its org is neither created nor changed this run",
            );
        }
    }
    let expired = plan == mapping.expired_plan();

    let latest_end = account
        .customer_subscriptions
        .iter()
        .map(|s| s.end)
        .chain(account.zuora_subscriptions.iter().map(|s| s.end))
        .flatten()
        .max();
    let expiration_date = latest_end.or(account.next_renewal);

    let kind = account_type(account);
    let partner = eq(account.account_type.as_deref(), "Partner");
    let greatly_expired = mapping.instance() == Instance::Global
        && expired
        && !partner
        && expiration_date.is_some_and(|d| d <= three_years_before(today));

    let keys = mapping.fields();
    let mut fields: BTreeMap<String, Option<FieldValue>> = BTreeMap::new();
    let mut tags = BTreeSet::new();
    let text = |s: Option<&str>| s.map(|s| FieldValue::Text(s.to_string()));

    // A drop-down: computed value → option value, also a managed tag.
    let mut dropdown = |fields: &mut BTreeMap<String, Option<FieldValue>>,
                        findings: &mut Vec<Finding>,
                        key: &str,
                        computed: Option<String>| {
        let option = computed.as_deref().and_then(|c| {
            let option = mapping.option(key, c);
            if option.is_none() {
                findings.push(Finding::account(
                    FindingKind::UnknownOption,
                    Some(id),
                    format!("drop-down {key} has no option for computed value {c:?}"),
                ));
            }
            option
        });
        if let Some(option) = option {
            tags.insert(option.to_string());
        }
        fields.insert(
            key.to_string(),
            option.map(|o| FieldValue::Text(o.to_string())),
        );
    };

    fields.insert(keys.salesforce_id.clone(), text(Some(id)));
    if let Some(key) = &keys.sfdc_short_id {
        fields.insert(key.clone(), text(id.get(..15)));
    }
    dropdown(
        &mut fields,
        &mut findings,
        &keys.support_level,
        Some(plan.clone()),
    );
    if let Some(key) = &keys.arr {
        let arr = if expired { Some(0.0) } else { account.carr };
        fields.insert(key.clone(), arr.map(FieldValue::Number));
    }
    if let Some(key) = &keys.sales_segmentation {
        let segment = account
            .sales_segment
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_else(|| "unknown".to_string());
        fields.insert(key.clone(), Some(FieldValue::Text(segment)));
    }
    if let Some(key) = &keys.market_segment {
        let computed = account.sales_segment.as_deref().map(|s| {
            s.to_lowercase()
                .chars()
                .map(|c| if c == ' ' || c == '-' { '_' } else { c })
                .collect::<String>()
        });
        dropdown(&mut fields, &mut findings, key, computed);
    }
    if let Some(key) = &keys.account_owner {
        fields.insert(key.clone(), text(account.owner.as_deref()));
    }
    if let Some(key) = &keys.account_type {
        dropdown(&mut fields, &mut findings, key, kind);
    }
    if let Some(key) = &keys.technical_account_manager {
        fields.insert(
            key.clone(),
            text(account.technical_account_manager.as_deref()),
        );
    }
    if let Some(key) = &keys.seats {
        fields.insert(key.clone(), account.licenses.map(FieldValue::Number));
    }
    if let Some(key) = &keys.region {
        let region = account.geo.as_deref().and_then(|geo| {
            let region = mapping.region_for_geo(geo);
            if region.is_none() {
                findings.push(Finding::account(
                    FindingKind::UnknownRegion,
                    Some(id),
                    format!(
                        "Account_Demographics_Geo__c {geo:?} is not in the mapping's region table"
                    ),
                ));
            }
            region
        });
        dropdown(&mut fields, &mut findings, key, region.map(str::to_string));
    }
    if let Some(key) = &keys.health_score {
        // SPEC §4: anything but green/yellow/red is silently "none".
        let color = account.health_color.as_deref().map(str::to_lowercase);
        let option = color.as_deref().and_then(|c| mapping.option(key, c));
        if let Some(option) = option {
            tags.insert(option.to_string());
        }
        fields.insert(key.clone(), option.map(|o| FieldValue::Text(o.to_string())));
    }
    if let Some(key) = &keys.expiration_date {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        fields.insert(
            key.clone(),
            expiration_date
                .and_then(|d| d.format(&format).ok())
                .map(FieldValue::Text),
        );
    }
    if let Some(key) = &keys.restricted_account {
        fields.insert(key.clone(), Some(FieldValue::Bool(account.restricted)));
        if account.restricted {
            if let Some(tag) = mapping.checkbox_tag(key) {
                tags.insert(tag.to_string());
            }
        }
    }
    if let Some(key) = &keys.solutions_architect {
        fields.insert(key.clone(), text(account.solutions_architect.as_deref()));
    }

    Evaluation {
        salesforce_id: id.to_string(),
        desired: DesiredOrg {
            salesforce_id: id.to_string(),
            name: account.name.clone(),
            fields,
            managed_tags: tags,
        },
        plan,
        expiration_date,
        greatly_expired,
        trusted,
        partner,
        findings,
        billing_accounts: account.billing_accounts.clone(),
    }
}
