//! Property tests of the diff: applying a plan to the actual state reaches a state
//! whose diff is empty; unmanaged tags are never touched; desired managed tags are
//! exactly what the desired fields select.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;
use sync_core::diff::plan_decoded_in_parts;
use sync_core::model::{CustomerSubscription, Finding, FindingKind};
use sync_core::records::Decoded;
use sync_core::{
    diff_orgs, evaluate_account, Account, Evaluation, FieldValue, Mapping, Plan, ZendeskOrg,
    ZendeskOrgId,
};

use crate::common::{date, global, id18, org, sfid};

const NAMES: &[&str] = &["Acme", "acme", "Beta", "Gamma", "Delta "];
const TIERS: &[Option<&str>] = &[
    None,
    Some("Premium"),
    Some("Ultimate"),
    Some("basic"),
    Some("Platinum"),
];
const ENDS: &[Option<&str>] = &[
    None,
    Some("2026-01-01"),
    Some("2025-06-15"),
    Some("2024-01-01"),
    Some("2019-01-01"),
];
const GEOS: &[Option<&str>] = &[None, Some("AMER"), Some("emea"), Some("MARS")];
const TYPES: &[&str] = &["Customer", "Former Customer", "Partner"];
const SUPPORT: &[&str] = &["premium", "ultimate", "expired", "gold"];
const TAGS: &[&str] = &[
    "vip",
    "premium",
    "gold",
    "customer",
    "org_region_amer",
    "restricted_account",
    "do_not_delete",
    "escalated",
];

fn account_strategy(index: usize) -> impl Strategy<Value = Account> {
    (
        0..NAMES.len(),
        0..TIERS.len(),
        0..ENDS.len(),
        0..GEOS.len(),
        0..TYPES.len(),
        any::<bool>(),
        prop_oneof![Just(None), Just(Some(1.0)), Just(Some(2.5))],
    )
        .prop_map(
            move |(name, tier, end, geo, kind, restricted, carr)| Account {
                name: NAMES[name].trim().to_string(),
                account_type: Some(TYPES[kind].into()),
                partner_track: Some("Select".into()),
                geo: GEOS[geo].map(Box::from),
                restricted,
                carr,
                customer_subscriptions: TIERS[tier]
                    .map(|t| CustomerSubscription {
                        tier: Some(t.to_string()),
                        end: ENDS[end].map(date),
                    })
                    .into_iter()
                    .collect(),
                ..Account::new(sfid(&format!("P{index}")), "")
            },
        )
}

/// An existing org: which account it claims (or none / an unknown one), and noise.
fn org_strategy() -> impl Strategy<Value = (usize, usize, usize, Vec<usize>, bool)> {
    (
        0..10usize,
        0..NAMES.len(),
        0..SUPPORT.len(),
        proptest::collection::vec(0..TAGS.len(), 0..4),
        any::<bool>(),
    )
}

fn state_strategy() -> impl Strategy<Value = (Vec<Account>, Vec<ZendeskOrg>)> {
    let accounts = (0..7usize).prop_flat_map(|n| (0..n).map(account_strategy).collect::<Vec<_>>());
    let orgs = proptest::collection::vec(org_strategy(), 0..9);
    (accounts, orgs).prop_map(|(accounts, raw)| {
        let orgs = raw
            .into_iter()
            .enumerate()
            .map(|(i, (claim, name, support, tags, int_aar))| {
                let sfid = match claim {
                    9 => json!(null),
                    c => json!(id18(&format!("P{c}"))),
                };
                let aar = if int_aar { json!(1) } else { json!(2.5) };
                let tags: Vec<&str> = tags.into_iter().map(|t| TAGS[t]).collect();
                org(
                    1000 + i as u64,
                    NAMES[name],
                    json!({"salesforce_id": sfid, "support_level": SUPPORT[support], "aar": aar,
                           "restricted_account": int_aar, "org_region": "org_region_amer", "sales_segmentation": ""}),
                    &tags,
                )
            })
            .collect();
        (accounts, orgs)
    })
}

/// More accounts (and orgs claiming them) than [`state_strategy`], for the parts.
fn many_strategy() -> impl Strategy<Value = (Vec<Account>, Vec<ZendeskOrg>)> {
    (
        (0..40usize).prop_flat_map(|n| (0..n).map(account_strategy).collect::<Vec<_>>()),
        proptest::collection::vec(state_strategy(), 1..5),
    )
        .prop_map(|(accounts, states)| {
            let orgs = states.into_iter().flat_map(|(_, orgs)| orgs).collect();
            (accounts, orgs)
        })
}

fn evaluations(accounts: &[Account], m: &Mapping) -> Vec<Evaluation> {
    accounts
        .iter()
        .map(|a| evaluate_account(a, m, date("2025-06-15")))
        .collect()
}

/// What Zendesk would hold after the plan's writes: a small pure simulation.
fn apply(plan: &Plan, orgs: &[ZendeskOrg]) -> Vec<ZendeskOrg> {
    let mut out: Vec<ZendeskOrg> = orgs.to_vec();
    for u in &plan.updates {
        if let Some(o) = out.iter_mut().find(|o| o.id == u.id) {
            if let Some(name) = &u.patch.name {
                o.name = name.clone();
            }
            for (k, v) in &u.patch.organization_fields {
                let v = v
                    .clone()
                    .unwrap_or(FieldValue::Other(Box::new(serde_json::Value::Null)));
                o.organization_fields.insert(k.clone(), v);
            }
            if let Some(tags) = &u.patch.tags {
                o.tags = tags.clone();
            }
        }
    }
    let deleted: BTreeSet<ZendeskOrgId> = plan.deletes.iter().map(|d| d.id).collect();
    out.retain(|o| !deleted.contains(&o.id));
    for (i, c) in plan.creates.iter().enumerate() {
        out.push(ZendeskOrg {
            id: ZendeskOrgId(50_000 + i as u64),
            name: c.name.clone(),
            tags: c.tags.clone(),
            organization_fields: c
                .organization_fields
                .iter()
                .map(|(k, v)| (k, v.clone()))
                .collect(),
            created_at: None,
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// One run's writes leave nothing to do, except what a `name_conflict` held
    /// back (a name freed by a rename or a deletion in the same run is only taken
    /// on the next run); repeated runs reach a fixpoint.
    #[test]
    fn applying_the_plan_leaves_nothing_to_do((accounts, orgs) in state_strategy()) {
        let m = global();
        let evals = evaluations(&accounts, &m);
        let plan = diff_orgs(&evals, &orgs, &m, &BTreeSet::new());
        let conflicted: BTreeSet<String> = plan
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::NameConflict)
            .filter_map(|f| f.salesforce_id.clone())
            .collect();
        let mut state = apply(&plan, &orgs);
        let again = diff_orgs(&evals, &state, &m, &BTreeSet::new());
        prop_assert!(again.deletes.is_empty());
        for id in again.creates.iter().map(|c| &c.salesforce_id).chain(again.updates.iter().map(|u| &u.salesforce_id)) {
            prop_assert!(conflicted.contains(id.as_str()), "{} changed again without a name conflict: {:#?}", id, again);
        }
        if conflicted.is_empty() {
            prop_assert!(again.is_empty(), "second plan: {:#?}", again);
        }
        let mut runs = 1;
        loop {
            let next = diff_orgs(&evals, &state, &m, &BTreeSet::new());
            if next.is_empty() {
                break;
            }
            runs += 1;
            prop_assert!(runs <= accounts.len() + 2, "no fixpoint after {} runs: {:#?}", runs, next);
            state = apply(&next, &state);
        }
    }

    #[test]
    fn the_diff_never_touches_an_unmanaged_tag((accounts, orgs) in state_strategy()) {
        let m = global();
        let managed = m.managed_tags();
        let plan = diff_orgs(&evaluations(&accounts, &m), &orgs, &m, &BTreeSet::new());
        let by_id: BTreeMap<ZendeskOrgId, &ZendeskOrg> = orgs.iter().map(|o| (o.id, o)).collect();
        for u in &plan.updates {
            if let Some(tags) = &u.patch.tags {
                let before: BTreeSet<&String> = by_id[&u.id].tags.iter().filter(|t| !managed.contains(*t)).collect();
                let after: BTreeSet<&String> = tags.iter().filter(|t| !managed.contains(*t)).collect();
                prop_assert_eq!(before, after);
            }
        }
        for c in &plan.creates {
            prop_assert!(c.tags.iter().all(|t| managed.contains(t)));
        }
    }

    #[test]
    fn desired_managed_tags_are_exactly_what_the_fields_select((accounts, _orgs) in state_strategy()) {
        let m = global();
        for e in evaluations(&accounts, &m) {
            let mut selected = BTreeSet::new();
            for (key, value) in &e.desired.fields {
                match value {
                    Some(FieldValue::Text(v)) if m.file().dropdowns.contains_key(key) => {
                        prop_assert!(m.file().dropdowns[key].values().any(|o| o == v));
                        selected.insert(v.clone());
                    }
                    Some(FieldValue::Bool(true)) => {
                        selected.insert(m.checkbox_tag(key).unwrap_or_default().to_string());
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(&selected, &e.desired.managed_tags.to_set());
        }
    }

    /// The diff in parts (threads) makes the plan it makes in one: the parts are runs
    /// of accounts merged in order, whatever their number. With `aar` an integer
    /// field (rounded values gathered per part), invalid returned accounts (their
    /// orgs are not `not_in_salesforce`), and, in some cases, accounts sharing an id
    /// (kept in one part).
    #[test]
    fn the_plan_does_not_depend_on_the_parts(
        (mut accounts, orgs) in many_strategy(),
        parts in 2..6usize,
        invalid in proptest::collection::vec(0..12usize, 0..4),
        shared_ids in any::<bool>(),
    ) {
        let mut m = global();
        let defs: Vec<sync_core::ZendeskOrgField> =
            serde_json::from_value(json!([{"key": "aar", "type": "integer"}])).unwrap();
        m.set_zendesk_types(&defs);
        if shared_ids {
            for (i, account) in accounts.iter_mut().enumerate() {
                account.id18 = sfid(&format!("P{}", i / 2));
            }
        }
        let today = date("2025-06-15");
        let findings: Vec<Finding> = invalid
            .iter()
            .map(|i| Finding::account(FindingKind::InvalidAccount, Some(&id18(&format!("P{i}"))), "bad"))
            .collect();
        let decoded = || Decoded { items: accounts.clone(), findings: findings.clone() };
        let records = accounts.len() + findings.len();
        let one = plan_decoded_in_parts(decoded(), records, &orgs, &m, today, 1);
        let many = plan_decoded_in_parts(decoded(), records, &orgs, &m, today, parts);
        prop_assert_eq!(&one, &many);
        if !shared_ids && findings.is_empty() {
            // The same as diffing the evaluations (whose order among equal ids is the
            // input's, where the accounts' sort is unstable).
            let evaluated = diff_orgs(&evaluations(&accounts, &m), &orgs, &m, &BTreeSet::new());
            prop_assert_eq!(&one, &evaluated);
        }
    }
}
