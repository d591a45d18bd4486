//! Evaluation of one account (docs/behaviour.md §3–§4): its plan from current subscriptions,
//! expiration date, "greatly expired", account type, and the desired Zendesk org
//! with its managed tags. Pure: `today` is a parameter.
//!
//! [`evaluate_account`] runs these steps, one rule each, in docs/behaviour.md order:
//!
//! - §3.2–§3.3 plan: [`is_current`], `scan_subscriptions` (highest-ranked current
//!   plan, `unknown_tier`), `federal_fallback_plan` (US Federal
//!   `Account.Support_Level__c`), `plan_of`; what an unknown tier costs is said by
//!   `note_plan_from_other_subscriptions` / `note_org_held_for_unknown_tier`;
//! - §3.4 [`expiration_date`];
//! - §3.5 [`is_greatly_expired`] with [`three_years_before`];
//! - §3.6 [`is_partner`], [`account_type`];
//! - §4 `desired_org`: [`arr`], [`sales_segmentation`], [`market_segment`], and the
//!   drop-down, region, health-score and checkbox rules of `DesiredFields`.

use std::collections::BTreeSet;
use std::sync::Arc;

use smallvec::SmallVec;
use time::{Date, Month};

use crate::ids::SalesforceId;
use crate::mapping::{with_case_folded, Case, Instance, Mapping};
use crate::model::{
    Account, BillingAccount, DesiredOrg, DesiredOrgFields, Finding, FindingKind, ManagedTags,
};
use crate::value::FieldValue;

/// Everything the run needs to know about one valid account.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `Account_ID_18__c`.
    pub salesforce_id: SalesforceId,
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
    /// Values with a fraction rounded for fields Zendesk declares `integer` (docs/behaviour.md §8;
    /// reported once per field per run by the diff, as `rounded_value`).
    pub rounded: Vec<Rounded>,
}

/// One value rounded to a whole number for an `integer` field (docs/behaviour.md §8).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rounded {
    /// The field key.
    pub key: String,
    /// The value Salesforce gave.
    pub from: f64,
    /// The whole number written.
    pub to: i64,
}

/// Evaluates one valid account against a mapping on the run's `today`: its plan
/// (§3.2–§3.3), expiration date (§3.4), greatly expired (§3.5), partner (§3.6) and
/// desired org (§4).
pub fn evaluate_account(account: &Account, mapping: &Mapping, today: Date) -> Evaluation {
    let PlanResult {
        plan,
        trusted,
        mut findings,
    } = plan_of(account, mapping, today);
    if !trusted {
        note_org_held_for_unknown_tier(&mut findings);
    }
    let expired = plan == mapping.expired_plan();
    let expiration_date = expiration_date(account);
    let partner = is_partner(account);
    let greatly_expired =
        is_greatly_expired(mapping.instance(), expired, partner, expiration_date, today);
    let (desired, desired_findings, rounded) =
        desired_org(account, mapping, &plan, expiration_date);
    findings.extend(desired_findings);
    Evaluation {
        salesforce_id: account.id18,
        desired,
        plan,
        expiration_date,
        greatly_expired,
        trusted,
        partner,
        findings,
        billing_accounts: account.billing_accounts.clone(),
        rounded,
    }
}

/// How an `unknown_tier` finding on an ended subscription ends.
const ENDED: &str = " (the subscription has ended, so it does not count)";

/// docs/behaviour.md §3.2: a subscription is current when its end date is absent or ≥ today.
pub fn is_current(end: Option<Date>, today: Date) -> bool {
    end.is_none_or(|end| end >= today)
}

/// One Active subscription of either kind, as the plan rules read it.
struct Subscription<'a> {
    /// `customer subscription` or `Zuora subscription` (for findings).
    what: &'static str,
    /// The raw tier.
    tier: Option<&'a str>,
    /// The end date.
    end: Option<Date>,
}

/// docs/behaviour.md §3.2: the customer subscriptions (tier = `Product_Tier_Name_Short__c` else
/// `Plan_Name__c`), then the Zuora ones (tier = `Support_Level__c`).
fn subscriptions(account: &Account) -> impl Iterator<Item = Subscription<'_>> {
    let customer = account.customer_subscriptions.iter().map(|s| Subscription {
        what: "customer subscription",
        tier: s.tier.as_deref(),
        end: s.end,
    });
    let zuora = account.zuora_subscriptions.iter().map(|s| Subscription {
        what: "Zuora subscription",
        tier: s.tier.as_deref(),
        end: s.end,
    });
    customer.chain(zuora)
}

/// What an account's subscriptions say about its plan (docs/behaviour.md §3.2–§3.3).
#[derive(Default)]
struct SubscriptionScan {
    /// The highest-ranked plan among current subscriptions, with its rank.
    best: Option<(usize, String)>,
    /// Whether a current subscription has an unknown tier.
    unknown_current: bool,
    /// One `unknown_tier` finding per raw tier (any case) and currency.
    findings: Vec<Finding>,
    /// The (lowercased tier, current) pairs already reported.
    reported: BTreeSet<(String, bool)>,
}

/// docs/behaviour.md §3.2–§3.3: reads every subscription: the highest-ranked plan among the
/// current ones wins; an unknown tier is reported (`unknown_tier`) once per raw tier
/// and currency, saying when its subscription has ended and so does not count.
fn scan_subscriptions(account: &Account, mapping: &Mapping, today: Date) -> SubscriptionScan {
    let mut scan = SubscriptionScan::default();
    for sub in subscriptions(account) {
        let current = is_current(sub.end, today);
        match sub.tier.and_then(|t| mapping.plan_for_tier(t)) {
            Some(plan) => {
                if let (true, Some(rank)) = (current, mapping.plan_rank(plan)) {
                    if scan.best.as_ref().is_none_or(|(r, _)| rank < *r) {
                        scan.best = Some((rank, plan.to_string()));
                    }
                }
            }
            None => {
                scan.unknown_current |= current;
                let raw = sub.tier.unwrap_or("");
                if scan.reported.insert((raw.to_lowercase(), current)) {
                    let finding = unknown_tier_finding(&account.id18, sub.what, raw, current);
                    scan.findings.push(finding);
                }
            }
        }
    }
    scan
}

/// docs/behaviour.md §3.2: the `unknown_tier` finding of one subscription.
fn unknown_tier_finding(id: &str, what: &str, raw: &str, current: bool) -> Finding {
    let mut message = if raw.is_empty() {
        format!("a {what} has no tier")
    } else {
        format!("{what} tier {raw:?} is not in the mapping's plan table")
    };
    if !current {
        message.push_str(ENDED);
    }
    Finding::account(FindingKind::UnknownTier, Some(id), message)
}

/// docs/behaviour.md §3.2: an unknown tier beside a known current plan costs nothing; each
/// `unknown_tier` finding of a current subscription says where the plan came from.
fn note_plan_from_other_subscriptions(findings: &mut [Finding], plan: &str) {
    for f in findings.iter_mut().filter(|f| !f.message.ends_with(ENDED)) {
        f.message.push_str(&format!(
            "; the plan ({plan}) comes from the account's other current subscriptions"
        ));
    }
}

/// docs/behaviour.md §3.2: an untrusted plan holds the org as it is (never downgraded to
/// `expired`); each `unknown_tier` finding of a current subscription says so.
fn note_org_held_for_unknown_tier(findings: &mut [Finding]) {
    for f in findings
        .iter_mut()
        .filter(|f| f.kind == FindingKind::UnknownTier && !f.message.ends_with(ENDED))
    {
        f.message.push_str(
            "; no current subscription has a known tier, so its org is neither created nor changed this run",
        );
    }
}

/// docs/behaviour.md §3.3 (US Federal): with no plan from any subscription, the plan of
/// `Account.Support_Level__c` through the same table. `None` when the account has no
/// support level; `Err` with the `unknown_tier` finding when the table lacks it.
fn federal_fallback_plan(account: &Account, mapping: &Mapping) -> Option<Result<String, Finding>> {
    let raw = account.support_level.as_deref()?;
    Some(match mapping.plan_for_tier(raw) {
        Some(plan) => Ok(plan.to_string()),
        None => Err(Finding::account(
            FindingKind::UnknownTier,
            Some(account.id18.as_str()),
            format!("account Support_Level__c {raw:?} is not in the mapping's plan table"),
        )),
    })
}

/// The result of reading an account's subscriptions.
struct PlanResult {
    plan: String,
    trusted: bool,
    findings: Vec<Finding>,
}

/// docs/behaviour.md §3.2–§3.3, the plan (`support_level`): the highest-ranked plan among current
/// subscriptions; else (US Federal) the account's support level; else `expired`.
/// Untrusted when a current subscription (or the fallback) has an unknown tier and
/// nothing known gives a plan.
fn plan_of(account: &Account, mapping: &Mapping, today: Date) -> PlanResult {
    let SubscriptionScan {
        best,
        mut unknown_current,
        mut findings,
        ..
    } = scan_subscriptions(account, mapping, today);
    if let Some((_, plan)) = best {
        if unknown_current {
            note_plan_from_other_subscriptions(&mut findings, &plan);
        }
        return PlanResult {
            plan,
            trusted: true,
            findings,
        };
    }
    if mapping.instance() == Instance::UsFederal {
        match federal_fallback_plan(account, mapping) {
            Some(Ok(plan)) => {
                return PlanResult {
                    plan,
                    trusted: true,
                    findings,
                }
            }
            Some(Err(finding)) => {
                findings.push(finding);
                unknown_current = true;
            }
            None => {}
        }
    }
    PlanResult {
        plan: mapping.expired_plan().to_string(),
        trusted: !unknown_current,
        findings,
    }
}

/// docs/behaviour.md §3.4, the expiration date: the latest end date over all returned
/// subscriptions; if none has an end date, `Next_Renewal_Date__c`; else none.
pub fn expiration_date(account: &Account) -> Option<Date> {
    subscriptions(account)
        .filter_map(|s| s.end)
        .max()
        .or(account.next_renewal)
}

/// docs/behaviour.md §3.5: the same day three calendar years earlier; 29 February becomes 28 February.
pub fn three_years_before(today: Date) -> Date {
    let year = today.year() - 3;
    Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .unwrap_or(Date::MIN)
}

/// docs/behaviour.md §3.5, greatly expired (Global only): the plan is `expired`, the expiration
/// date is known and on or before [`three_years_before`] today, and the account is
/// not a partner. No date → never.
pub fn is_greatly_expired(
    instance: Instance,
    expired: bool,
    partner: bool,
    expiration_date: Option<Date>,
    today: Date,
) -> bool {
    instance == Instance::Global
        && expired
        && !partner
        && expiration_date.is_some_and(|d| d <= three_years_before(today))
}

/// docs/behaviour.md §3.6: whether `Type` is `Partner` (any case). Partners are never greatly
/// expired, so never deleted.
pub fn is_partner(account: &Account) -> bool {
    eq(account.account_type.as_deref(), "Partner")
}

/// docs/behaviour.md §3.6: any `Type` but `Partner` → snake_case (`Former Customer` → `former_customer`).
pub fn snake_case(raw: &str) -> String {
    let raw = raw.trim();
    let mut out = String::with_capacity(raw.len());
    // A run of other characters is one `_` between words: written before the next
    // letter or digit, so none leads or trails.
    let mut gap = false;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// Whether a Salesforce text equals `b`, trimmed and in any case.
fn eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.trim().eq_ignore_ascii_case(b))
}

/// docs/behaviour.md §3.6: the computed account type, first match wins. `None` when `Type` is blank.
pub fn account_type(account: &Account) -> Option<String> {
    account_type_rule(account).map(|(kind, _)| kind)
}

/// docs/behaviour.md §3.6: the computed account type and the rule that gave it, in words (for
/// `explain`); first match wins. `None` when `Type` is blank.
pub fn account_type_rule(account: &Account) -> Option<(String, &'static str)> {
    let raw = account.account_type.as_deref()?;
    if !raw.trim().eq_ignore_ascii_case("partner") {
        let kind = snake_case(raw);
        return (!kind.is_empty()).then_some((kind, "Type is not Partner: Type in snake_case"));
    }
    let track = account.partner_track.as_deref();
    let (kind, rule) = if eq(account.partner_status.as_deref(), "Former") {
        (
            "former_partner",
            "Partner with Partners_Partner_Status__c Former",
        )
    } else if eq(account.partner_type.as_deref(), "Alliance") {
        (
            "alliance_partner",
            "Partner with Partners_Partner_Type__c Alliance",
        )
    } else if eq(track, "Open") {
        ("open_partner", "Partner with Partner_Track__c Open")
    } else if eq(track, "Select") {
        ("select_partner", "Partner with Partner_Track__c Select")
    } else if eq(track, "Technology") {
        (
            "technology_partner",
            "Partner with Partner_Track__c Technology",
        )
    } else {
        ("partner", "Partner matching no more specific rule")
    };
    Some((kind.to_string(), rule))
}

/// docs/behaviour.md §4 `aar` / `arr`: `CARR_This_Account__c`; 0 when the plan is `expired`.
pub fn arr(account: &Account, expired: bool) -> Option<f64> {
    if expired {
        Some(0.0)
    } else {
        account.carr
    }
}

/// docs/behaviour.md §4 `sales_segmentation` (Global): the sales segment lowercased; blank → `unknown`.
pub fn sales_segmentation(account: &Account) -> String {
    account
        .sales_segment
        .as_deref()
        .map(str::to_lowercase)
        .unwrap_or_else(|| "unknown".to_string())
}

/// docs/behaviour.md §4 `market_segment` (US Federal): the computed value of the drop-down is the
/// sales segment lowercased, spaces and dashes as `_`; blank → none.
pub fn market_segment(account: &Account) -> Option<String> {
    account.sales_segment.as_deref().map(|s| {
        s.to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect()
    })
}

/// docs/behaviour.md §4 `expiration_date`: the date as `YYYY-MM-DD`.
fn date_text(date: Option<Date>) -> Option<String> {
    let date = date?;
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    let Ok(year @ 0..=9999) = u16::try_from(year) else {
        // A year before 0: as `[year]-[month]-[day]` formats it (sign, then digits).
        let format = time::macros::format_description!("[year]-[month]-[day]");
        return date.format(&format).ok();
    };
    // Digit by digit (this runs once per account: `format!` costs more than the rest
    // of the date rules).
    let digit = |n: u16| char::from(b'0' + (n % 10) as u8);
    let mut text = String::with_capacity(10);
    text.extend([year / 1000, year / 100, year / 10, year].map(digit));
    text.push('-');
    text.extend([u16::from(month) / 10, u16::from(month)].map(digit));
    text.push('-');
    text.extend([u16::from(day) / 10, u16::from(day)].map(digit));
    Some(text)
}

/// The desired org's fields and managed tags as they are built (docs/behaviour.md §4), with the
/// findings the building raises. A role the mapping leaves out (`None` slot) is
/// skipped; a role's value goes to its key's slot (a later value of a key wins).
struct DesiredFields<'a> {
    mapping: &'a Mapping,
    /// The account's `Account_ID_18__c` (for findings).
    id: &'a str,
    fields: DesiredOrgFields,
    /// The managed tags as they are selected: their places in the mapping's list
    /// (sorted once, at the end).
    tags: SmallVec<[usize; 6]>,
    findings: Vec<Finding>,
    rounded: Vec<Rounded>,
}

impl<'a> DesiredFields<'a> {
    fn new(mapping: &'a Mapping, id: &'a str) -> Self {
        DesiredFields {
            mapping,
            id,
            fields: DesiredOrgFields::unset(Arc::clone(mapping.org_keys())),
            tags: SmallVec::new(),
            findings: Vec::new(),
            rounded: Vec::new(),
        }
    }

    /// The key at `slot` (the mapping's).
    fn key(&self, slot: usize) -> &'a str {
        let keys: &'a [String] = self.mapping.org_keys();
        keys.get(slot).map_or("", String::as_str)
    }

    /// A text field.
    fn text(&mut self, slot: Option<usize>, value: Option<&str>) {
        if slot.is_some() {
            self.computed_text(slot, value.map(str::to_string));
        }
    }

    /// A text field, from a text made for it (moved in, not copied): a computed text or
    /// a fresh copy, never a text moved out of the account. The plan may keep the value
    /// to the end of the run, and a copy made now sits beside the plan's other entries
    /// instead of holding a page of the decoded accounts (docs/benchmarks/profile.md,
    /// sixth pass).
    fn computed_text(&mut self, slot: Option<usize>, value: Option<String>) {
        if let Some(slot) = slot {
            self.fields.set_slot(slot, value.map(FieldValue::Text));
        }
    }

    /// docs/behaviour.md §8 number fields: a decimal field gets the number; a field Zendesk
    /// declares `integer` gets it rounded to a whole number (half away from zero),
    /// before the diff, so the next run sees nothing to write. Each rounding is noted.
    fn number(&mut self, slot: Option<usize>, value: Option<f64>) {
        let Some(slot) = slot else { return };
        let key = self.key(slot);
        let value = match value {
            Some(v) if self.mapping.is_integer_field(key) => {
                let whole = whole_number(v);
                if whole as f64 != v {
                    self.rounded.push(Rounded {
                        key: key.to_string(),
                        from: v,
                        to: whole,
                    });
                }
                Some(FieldValue::Integer(whole))
            }
            other => other.map(FieldValue::Number),
        };
        self.fields.set_slot(slot, value);
    }

    /// docs/behaviour.md §4 drop-downs and tags: the field holds the option value of the computed
    /// value, and that value is also a managed tag. A computed value without an
    /// option is reported (`unknown_option`) and leaves the field unset.
    fn dropdown(&mut self, slot: Option<usize>, computed: Option<&str>) {
        let Some(slot) = slot else { return };
        let key = self.key(slot);
        let mapping = self.mapping;
        let option = computed.and_then(|c| {
            let option = mapping.option_at(slot, c);
            if option.is_none() {
                self.findings.push(Finding::account(
                    FindingKind::UnknownOption,
                    Some(self.id),
                    format!("drop-down {key} has no option for computed value {c:?}"),
                ));
            }
            option
        });
        self.set_option(slot, option);
    }

    /// docs/behaviour.md §4 `org_region`: `Account_Demographics_Geo__c` through the region table;
    /// an unknown geo is reported (`unknown_region`) and leaves the field unset.
    fn region(&mut self, slot: Option<usize>, geo: Option<&str>) {
        let Some(slot) = slot else { return };
        let mapping = self.mapping;
        let region = geo.and_then(|geo| {
            let region = mapping.region_for_geo(geo);
            if region.is_none() {
                self.findings.push(Finding::account(
                    FindingKind::UnknownRegion,
                    Some(self.id),
                    format!(
                        "Account_Demographics_Geo__c {geo:?} is not in the mapping's region table"
                    ),
                ));
            }
            region
        });
        self.dropdown(Some(slot), region);
    }

    /// docs/behaviour.md §4 `health_score`: Green/Yellow/Red in any case select their option;
    /// anything else is silently none (no finding).
    fn health_score(&mut self, slot: Option<usize>, color: Option<&str>) {
        let Some(slot) = slot else { return };
        let mapping = self.mapping;
        let option =
            color.and_then(|c| with_case_folded(c, Case::Lower, |c| mapping.option_at(slot, c)));
        self.set_option(slot, option);
    }

    /// docs/behaviour.md §4 checkboxes: always written (`false` = unset); its tag is a desired
    /// managed tag when it is true.
    fn checkbox(&mut self, slot: Option<usize>, on: bool) {
        let Some(slot) = slot else { return };
        self.fields.set_slot(slot, Some(FieldValue::Bool(on)));
        let mapping = self.mapping;
        let tag = mapping.checkbox_tag(self.key(slot)).filter(|_| on);
        if let Some(place) = tag.and_then(|tag| mapping.tag_place(tag)) {
            self.tags.push(place);
        }
    }

    /// Sets a drop-down to an option value (also a managed tag, at its place in the
    /// mapping's list), or unsets it.
    fn set_option(&mut self, slot: usize, option: Option<(&'a str, usize)>) {
        if let Some((_, place)) = option {
            self.tags.push(place);
        }
        let value = option.map(|(o, _)| FieldValue::Text(o.to_string()));
        self.fields.set_slot(slot, value);
    }
}

/// The whole number nearest `v` (half away from zero), saturating at the `i64` range.
pub fn whole_number(v: f64) -> i64 {
    // `as` saturates, and NaN becomes 0.
    v.round() as i64
}

/// docs/behaviour.md §4, the desired organization: every role the mapping maps, from the account,
/// its plan and its expiration date; with the `unknown_option` / `unknown_region`
/// findings, in field order.
fn desired_org(
    account: &Account,
    mapping: &Mapping,
    plan: &str,
    expiration_date: Option<Date>,
) -> (DesiredOrg, Vec<Finding>, Vec<Rounded>) {
    let id = account.id18.as_str();
    let slots = mapping.slots();
    let expired = plan == mapping.expired_plan();
    let mut d = DesiredFields::new(mapping, id);
    d.text(slots.salesforce_id, Some(id));
    d.text(slots.sfdc_short_id, id.get(..15));
    d.dropdown(slots.support_level, Some(plan));
    d.number(slots.arr, arr(account, expired));
    if slots.sales_segmentation.is_some() {
        d.computed_text(slots.sales_segmentation, Some(sales_segmentation(account)));
    }
    if slots.market_segment.is_some() {
        d.dropdown(slots.market_segment, market_segment(account).as_deref());
    }
    d.text(slots.account_owner, account.owner.as_deref());
    if slots.account_type.is_some() {
        d.dropdown(slots.account_type, account_type(account).as_deref());
    }
    d.text(
        slots.technical_account_manager,
        account.technical_account_manager.as_deref(),
    );
    d.number(slots.seats, account.licenses);
    d.region(slots.region, account.geo.as_deref());
    d.health_score(slots.health_score, account.health_color.as_deref());
    if slots.expiration_date.is_some() {
        d.computed_text(slots.expiration_date, date_text(expiration_date));
    }
    d.checkbox(slots.restricted_account, account.restricted);
    d.text(
        slots.solutions_architect,
        account.solutions_architect.as_deref(),
    );
    let desired = DesiredOrg {
        salesforce_id: account.id18,
        name: account.name.clone(),
        fields: d.fields,
        managed_tags: ManagedTags::from_places(Arc::clone(mapping.tag_names()), d.tags),
    };
    (desired, d.findings, d.rounded)
}

#[cfg(test)]
mod tests {
    use super::{date_text, snake_case};
    use proptest::prelude::*;
    use time::{Date, Month};

    /// The first definition of `snake_case`, kept as the reference.
    fn snake_case_reference(raw: &str) -> String {
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

    proptest! {
        #[test]
        fn snake_case_is_what_it_was(raw in "[ a-zA-Z0-9_\\-é\t]{0,24}") {
            prop_assert_eq!(snake_case(&raw), snake_case_reference(&raw));
        }
    }

    #[test]
    fn date_text_is_what_the_time_crate_formats() {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        for (year, month, day) in [
            (2026, Month::December, 5),
            (1, Month::January, 1),
            (0, Month::February, 29),
            (-1, Month::March, 9),
            (-9999, Month::January, 1),
            (9999, Month::December, 31),
            (476, Month::September, 4),
        ] {
            let date = Date::from_calendar_date(year, month, day).unwrap();
            assert_eq!(date_text(Some(date)), date.format(&format).ok(), "{date:?}");
        }
        assert_eq!(date_text(None), None);
    }
}
