//! The diff (docs/behaviour.md §5).

use std::collections::BTreeSet;

use serde_json::json;
use sync_core::diff::{full_tag_list, org_create, org_delete};
use sync_core::model::FindingKind;
use sync_core::{
    diff_orgs, evaluate_account, Account, Evaluation, FieldValue, Plan, ZendeskOrg, ZendeskOrgId,
};

use crate::common::{account, cs, date, federal, global, id18, org};

fn eval(accounts: &[Account]) -> Vec<Evaluation> {
    accounts
        .iter()
        .map(|a| evaluate_account(a, &global(), date("2025-06-15")))
        .collect()
}

fn diff(accounts: &[Account], orgs: &[ZendeskOrg]) -> Plan {
    diff_orgs(&eval(accounts), orgs, &global(), &BTreeSet::new())
}

fn premium(suffix: &str, name: &str) -> Account {
    let mut a = account(suffix, name);
    a.customer_subscriptions = vec![cs("Premium", Some("2026-01-31"))];
    a.carr = Some(100.0);
    a
}

/// The org exactly as `premium(suffix, name)` wants it, with numbers as integers.
fn premium_org(id: u64, suffix: &str, name: &str, extra_tags: &[&str]) -> ZendeskOrg {
    let sfid = id18(suffix);
    let mut tags = vec!["premium", "customer"];
    tags.extend_from_slice(extra_tags);
    org(
        id,
        name,
        json!({"salesforce_id": sfid, "sfdc_short_id": &sfid[..15], "support_level": "premium", "aar": 100,
               "sales_segmentation": "unknown", "account_owner": "", "account_type": "customer",
               "technical_account_manager": null, "seats_decimal": null, "org_region": null,
               "health_score": null, "expiration_date": "2026-01-31", "restricted_account": false}),
        &tags,
    )
}

#[test]
fn an_org_as_desired_is_unchanged_despite_1_vs_1_0_blank_vs_null_and_unmanaged_tags() {
    let plan = diff(
        &[premium("Same", "Same Co")],
        &[premium_org(1, "Same", "Same Co", &["vip"])],
    );
    assert!(plan.is_empty(), "{plan:#?}");
    assert_eq!(plan.unchanged, vec![id18("Same")]);
    assert_eq!(plan.matched, 1);
}

#[test]
fn an_update_sends_only_what_changed_and_keeps_unmanaged_tags() {
    let mut a = premium("Up", "Up Co");
    a.customer_subscriptions = vec![cs("Ultimate", Some("2026-01-31"))];
    let plan = diff(
        &[a],
        &[premium_org(7, "Up", "Up Co", &["vip", "emea_escalation"])],
    );
    assert_eq!(plan.updates.len(), 1);
    let u = &plan.updates[0];
    assert_eq!(u.id, ZendeskOrgId(7));
    assert_eq!(u.patch.name, None);
    let changed: Vec<&str> = u
        .patch
        .organization_fields
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(changed, ["support_level"]);
    assert_eq!(
        u.patch.tags.as_deref(),
        Some(&["customer", "emea_escalation", "ultimate", "vip"].map(String::from)[..])
    );
    assert_eq!(
        u.zendesk_body(),
        json!({"id": 7, "organization_fields": {"support_level": "ultimate"},
               "tags": ["customer", "emea_escalation", "ultimate", "vip"]})
    );
}

#[test]
fn clearing_a_field_sends_null_and_an_unset_checkbox_equals_false() {
    let a = premium("Clr", "Clear Co");
    let mut o = premium_org(3, "Clr", "Clear Co", &[]);
    o.organization_fields
        .insert("account_owner", FieldValue::Text("Old Owner".into()));
    o.organization_fields.remove("restricted_account");
    let plan = diff(&[a], &[o]);
    let u = &plan.updates[0];
    assert_eq!(
        u.zendesk_body(),
        json!({"id": 3, "organization_fields": {"account_owner": null}})
    );
}

#[test]
fn a_managed_tag_added_by_hand_is_removed_and_only_tags_change() {
    let plan = diff(
        &[premium("Tag", "Tag Co")],
        &[premium_org(4, "Tag", "Tag Co", &["gold", "vip"])],
    );
    let u = &plan.updates[0];
    assert!(u.patch.organization_fields.is_empty());
    assert_eq!(
        u.patch.tags.as_deref(),
        Some(&["customer", "premium", "vip"].map(String::from)[..])
    );
}

#[test]
fn creates_carry_set_fields_and_managed_tags_only() {
    let plan = diff(&[premium("New", "New Co")], &[]);
    assert_eq!(plan.creates.len(), 1);
    let body = plan.creates[0].zendesk_body();
    assert_eq!(body["name"], "New Co");
    assert_eq!(body["tags"], json!(["customer", "premium"]));
    let fields = body["organization_fields"].as_object().expect("object");
    assert!(
        !fields.contains_key("restricted_account"),
        "false checkbox is left unset"
    );
    assert!(!fields.contains_key("org_region"));
    assert_eq!(fields["aar"], json!(100.0));
}

#[test]
fn duplicate_names_among_new_accounts_and_existing_orgs_are_name_conflicts() {
    let accounts = [
        premium("One", "Twin Name"),
        premium("Two", "twin name "),
        premium("Three", "ACME"),
        premium("Four", "Fine Co"),
    ];
    let orgs = [org(9, "Acme", json!({}), &[])];
    let plan = diff(&accounts, &orgs);
    let created: Vec<&str> = plan.creates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(created, ["Fine Co"]);
    let conflicts: Vec<&str> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::NameConflict)
        .filter_map(|f| f.salesforce_id.as_deref())
        .collect();
    assert_eq!(conflicts.len(), 3);
    let messages: Vec<&str> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::NameConflict)
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages.contains(&"cannot create org \"ACME\": the name is held by Zendesk org 9"),
        "{messages:?}"
    );
    assert!(
        messages.contains(
            &"cannot create org \"Twin Name\": the name is wanted by another new account"
        ),
        "{messages:?}"
    );
    assert_eq!(plan.skipped.len(), 3);
    assert_eq!(plan.without_salesforce_id, 1);
}

#[test]
fn a_rename_onto_a_held_name_is_not_sent_but_the_rest_of_the_update_is() {
    let mut a = premium("Ren", "Taken Name");
    a.carr = Some(200.0);
    let orgs = [
        premium_org(5, "Ren", "Old Name", &[]),
        org(6, "taken name", json!({}), &[]),
    ];
    let plan = diff(&[a.clone()], &orgs);
    let u = &plan.updates[0];
    assert_eq!(u.patch.name, None);
    assert_eq!(
        u.patch.organization_fields.get("aar"),
        Some(&Some(FieldValue::Number(200.0)))
    );
    assert_eq!(plan.findings[0].kind, FindingKind::NameConflict);
    assert_eq!(
        plan.findings[0].message,
        "org 5 is not renamed from \"Old Name\" to \"Taken Name\": Zendesk org 6 holds that name"
    );

    // Without the clash the rename goes through.
    let plan = diff(&[a], &orgs[..1]);
    assert_eq!(plan.updates[0].patch.name.as_deref(), Some("Taken Name"));
}

#[test]
fn two_orgs_with_one_salesforce_id_are_left_alone() {
    let mut a = premium("Dup", "Dup Co");
    a.carr = Some(5.0);
    let orgs = [
        premium_org(10, "Dup", "Dup Co", &[]),
        premium_org(11, "Dup", "Dup Co 2", &[]),
    ];
    let plan = diff(&[a], &orgs);
    assert!(plan.is_empty());
    assert_eq!(plan.findings[0].kind, FindingKind::DuplicateZendeskOrg);
    assert!(plan.findings[0].message.contains("10, 11"));
    assert_eq!(plan.skipped[0].reason.as_str(), "duplicate_zendesk_org");
}

#[test]
fn greatly_expired_orgs_are_deleted_unless_do_not_delete() {
    let mut old = account("Old", "Old Co");
    old.customer_subscriptions = vec![cs("Premium", Some("2020-01-01"))];
    let mut kept = account("Kept", "Kept Co");
    kept.customer_subscriptions = vec![cs("Premium", Some("2020-01-01"))];
    let mut gone = account("Gone", "Gone Co");
    gone.customer_subscriptions = vec![cs("Premium", Some("2020-01-01"))];
    let orgs = [
        org(
            20,
            "Old Co",
            json!({"salesforce_id": id18("Old")}),
            &["premium"],
        ),
        org(
            21,
            "Kept Co",
            json!({"salesforce_id": id18("Kept")}),
            &["premium", "do_not_delete"],
        ),
    ];
    let plan = diff(&[old, kept, gone], &orgs);
    assert_eq!(plan.deletes.len(), 1);
    assert_eq!(plan.deletes[0].id, ZendeskOrgId(20));
    assert_eq!(plan.updates.len(), 1);
    assert_eq!(plan.updates[0].id, ZendeskOrgId(21));
    let tags = plan.updates[0].patch.tags.clone().unwrap_or_default();
    assert!(tags.contains(&"do_not_delete".to_string()));
    assert!(tags.contains(&"expired".to_string()));
    assert!(
        plan.creates.is_empty(),
        "a greatly expired account without an org is not created"
    );
    assert_eq!(
        plan.skipped[0].reason.as_str(),
        "greatly_expired_without_org"
    );
}

#[test]
fn untrusted_plans_change_nothing_and_orgs_outside_the_result_are_counted() {
    let mut a = account("Unk", "Unknown Tier Co");
    a.customer_subscriptions = vec![cs("Platinum Plus", None)];
    let orgs = [
        org(
            30,
            "Unknown Tier Co",
            json!({"salesforce_id": id18("Unk"), "support_level": "ultimate"}),
            &["ultimate"],
        ),
        org(31, "Elsewhere", json!({"salesforce_id": id18("Else")}), &[]),
        org(32, "Manual", json!({"salesforce_id": ""}), &[]),
    ];
    let plan = diff(&[a], &orgs);
    assert!(plan.is_empty());
    assert_eq!(plan.skipped[0].reason.as_str(), "unknown_tier");
    assert_eq!(plan.not_in_salesforce, 1);
    assert_eq!(plan.without_salesforce_id, 1);
}

#[test]
fn plans_are_sorted_by_salesforce_id_whatever_the_input_order() {
    let accounts = [
        premium("Zeta", "Zeta"),
        premium("Alpha", "Alpha"),
        premium("Mid", "Mid"),
    ];
    let plan = diff(&accounts, &[]);
    let ids: Vec<&str> = plan
        .creates
        .iter()
        .map(|c| c.salesforce_id.as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let reversed: Vec<Account> = accounts.iter().rev().cloned().collect();
    assert_eq!(diff(&reversed, &[]), plan);
}

// The steps of `diff_orgs`, one rule each.

fn tags(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|t| t.to_string()).collect()
}

#[test]
fn the_full_tag_list_is_unmanaged_and_desired_managed_tags_sorted_once() {
    let list = full_tag_list(&tags(&["vip", "apac_hq"]), tags(&["premium", "customer"]));
    assert_eq!(list, ["apac_hq", "customer", "premium", "vip"]);
    // A tag on both sides is sent once; no desired managed tag leaves the unmanaged ones.
    assert_eq!(
        full_tag_list(&tags(&["vip"]), tags(&["vip", "gold"])),
        ["gold", "vip"]
    );
    assert_eq!(
        full_tag_list(&tags(&["vip"]), BTreeSet::<String>::new()),
        ["vip"]
    );
}

#[test]
fn a_create_leaves_out_unset_fields_and_unticked_checkboxes_but_keeps_ticked_ones() {
    let mut a = premium("Crt", "Create Co");
    a.restricted = true;
    let mut e = eval(&[a]).remove(0);
    let c = org_create(&e);
    assert_eq!(c.salesforce_id, id18("Crt"));
    assert_eq!(c.name, "Create Co");
    assert_eq!(
        c.organization_fields.get("restricted_account"),
        Some(&FieldValue::Bool(true))
    );
    assert!(!c
        .organization_fields
        .contains_key("technical_account_manager"));
    assert_eq!(c.tags, ["customer", "premium", "restricted_account"]);
    assert!(e
        .desired
        .fields
        .set("restricted_account", Some(FieldValue::Bool(false))));
    assert!(!org_create(&e)
        .organization_fields
        .contains_key("restricted_account"));
}

#[test]
fn only_a_greatly_expired_global_org_without_the_protect_tag_is_deleted() {
    let mut old = account("Del", "Del Co");
    old.customer_subscriptions = vec![cs("Premium", Some("2020-01-01"))];
    let e = eval(&[old.clone()]).remove(0);
    assert!(e.greatly_expired);
    let plain = org(30, "Del Co", json!({"salesforce_id": id18("Del")}), &[]);
    let protected = org(31, "Del Co", json!({}), &["do_not_delete"]);
    let delete = org_delete(&e, &plain, &global()).expect("deleted");
    assert_eq!(
        (delete.id, delete.name.as_str()),
        (ZendeskOrgId(30), "Del Co")
    );
    assert_eq!(delete.salesforce_id, id18("Del"));
    assert_eq!(org_delete(&e, &protected, &global()), None);
    // A mapping that does not delete (US Federal) never does, whatever the flag says.
    assert_eq!(org_delete(&e, &plain, &federal()), None);
    // Not greatly expired: kept.
    old.customer_subscriptions = vec![cs("Premium", Some("2024-01-01"))];
    let recent = eval(&[old]).remove(0);
    assert_eq!(org_delete(&recent, &plain, &global()), None);
}

#[test]
fn two_renames_onto_one_name_are_both_held_and_a_case_only_rename_is_sent() {
    let orgs = [
        premium_org(40, "RnA", "Alpha", &[]),
        premium_org(41, "RnB", "Beta", &[]),
        premium_org(42, "RnC", "Gamma", &[]),
    ];
    let accounts = [
        premium("RnA", "Same New"),
        premium("RnB", "same new"),
        premium("RnC", "GAMMA"),
    ];
    let plan = diff(&accounts, &orgs);
    let conflicts: Vec<&str> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::NameConflict)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        conflicts,
        [
            "org 40 is not renamed from \"Alpha\" to \"Same New\": another account's org is created or renamed to it this run",
            "org 41 is not renamed from \"Beta\" to \"same new\": another account's org is created or renamed to it this run",
        ]
    );
    // Nothing else changed for those two; the third renames onto its own name.
    assert_eq!(plan.unchanged, [id18("RnA"), id18("RnB")]);
    assert_eq!(plan.updates.len(), 1);
    assert_eq!(plan.updates[0].id, ZendeskOrgId(42));
    assert_eq!(plan.updates[0].patch.name.as_deref(), Some("GAMMA"));
}

#[test]
fn a_create_and_a_rename_wanting_one_name_both_yield() {
    let orgs = [premium_org(50, "RnD", "Delta", &[])];
    let accounts = [premium("RnD", "Wanted"), premium("NewW", "wanted")];
    let plan = diff(&accounts, &orgs);
    assert!(plan.creates.is_empty());
    assert!(plan.updates.is_empty());
    assert_eq!(plan.unchanged, [id18("RnD")]);
    let skipped: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.salesforce_id.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skipped, [(id18("NewW").as_str(), "name_conflict")]);
    let kinds: Vec<FindingKind> = plan.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [FindingKind::NameConflict, FindingKind::NameConflict]
    );
    assert!(plan.findings[0]
        .message
        .starts_with("cannot create org \"wanted\""));
}

/// The Global mapping with `aar` and `seats_decimal` declared `integer` in Zendesk.
fn global_with_integers() -> sync_core::Mapping {
    let mut m = global();
    let defs: Vec<sync_core::ZendeskOrgField> = serde_json::from_value(json!([
        {"key": "aar", "type": "integer"},
        {"key": "seats_decimal", "type": "decimal"},
        {"key": "account_owner", "type": "integer"},
    ]))
    .expect("field definitions");
    m.set_zendesk_types(&defs);
    m
}

#[test]
fn an_integer_field_gets_a_whole_number_rounded_before_the_diff_and_reported_once() {
    let m = global_with_integers();
    assert!(m.is_integer_field("aar"));
    assert!(!m.is_integer_field("seats_decimal"));
    // A text role is never an integer field, whatever Zendesk says.
    assert!(!m.is_integer_field("account_owner"));
    let mut accounts = Vec::new();
    for (i, carr) in [100.4, 100.5, 7.0, 2.5].into_iter().enumerate() {
        let mut a = premium(&format!("R{i}"), &format!("R{i} Co"));
        a.carr = Some(carr);
        a.licenses = Some(1.5);
        accounts.push(a);
    }
    let evals: Vec<Evaluation> = accounts
        .iter()
        .map(|a| evaluate_account(a, &m, date("2025-06-15")))
        .collect();
    let values: Vec<_> = evals
        .iter()
        .map(|e| e.desired.fields.get("aar").cloned().flatten())
        .collect();
    assert_eq!(
        values,
        [100, 101, 7, 3]
            .map(|n| Some(FieldValue::Integer(n)))
            .to_vec()
    );
    // A decimal field keeps its fraction.
    assert_eq!(
        evals[0].desired.fields.get("seats_decimal"),
        Some(&Some(FieldValue::Number(1.5)))
    );
    // An org holding the rounded value is unchanged: the next run writes nothing.
    let mut org = premium_org(1, "R0", "R0 Co", &[]);
    org.organization_fields
        .insert("seats_decimal", FieldValue::Number(1.5));
    let plan = diff_orgs(&evals[..1], &[org], &m, &BTreeSet::new());
    assert!(plan.is_empty(), "{plan:#?}");
    let plan = diff_orgs(&evals, &[], &m, &BTreeSet::new());
    let rounded: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::RoundedValue)
        .collect();
    assert_eq!(rounded.len(), 1, "{rounded:#?}");
    assert!(
        rounded[0].message.contains("field aar"),
        "{}",
        rounded[0].message
    );
    assert!(
        rounded[0].message.contains("3 value(s)"),
        "{}",
        rounded[0].message
    );
    assert!(
        rounded[0].message.contains("100.5 → 101"),
        "{}",
        rounded[0].message
    );
    let body = plan.creates[0].zendesk_body().to_string();
    assert!(body.contains(r#""aar":100,"#), "{body}");
}

#[test]
fn the_plan_hash_ignores_order_and_changes_with_any_write() {
    let a = premium("H1", "H1 Co");
    let mut b = premium("H2", "H2 Co");
    b.carr = Some(5.0);
    let orgs = [premium_org(1, "H1", "H1 Old", &[])];
    let one = diff(&[a.clone(), b.clone()], &orgs);
    let two = diff(&[b.clone(), a.clone()], &orgs);
    let mut reversed = one.clone();
    reversed.creates.reverse();
    reversed.updates.reverse();
    assert_eq!(one.hash(), two.hash());
    assert_eq!(one.hash(), reversed.hash());
    assert_eq!(one.hash().len(), 64);
    b.carr = Some(6.0);
    assert_ne!(one.hash(), diff(&[a.clone(), b], &orgs).hash());
    assert_ne!(one.hash(), Plan::default().hash());
}

#[test]
fn an_update_carries_the_before_values_of_the_changed_fields_only() {
    let mut a = premium("B1", "B1 New");
    a.carr = Some(200.0);
    let plan = diff(&[a], &[premium_org(9, "B1", "B1 Co", &["vip"])]);
    let u = &plan.updates[0];
    assert_eq!(
        u.before.changed(&u.patch),
        json!({"name": "B1 Co", "organization_fields": {"aar": 100.0}})
    );
}

#[test]
fn only_keeps_the_writes_of_the_named_accounts_and_everything_read() {
    let plan = diff(
        &[premium("O1", "O1 Co"), premium("O2", "O2 Co")],
        &[premium_org(1, "O2", "O2 Old", &[])],
    );
    let only: BTreeSet<String> = [id18("O1")].into();
    let restricted = plan.clone().only(&only);
    assert_eq!(restricted.creates.len(), 1);
    assert!(restricted.updates.is_empty());
    assert_eq!(restricted.matched, plan.matched);
    assert_ne!(restricted.hash(), plan.hash());
}
