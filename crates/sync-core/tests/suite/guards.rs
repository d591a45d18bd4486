//! Safety guards (docs/behaviour.md §5).

use crate::common::sfid;
use sync_core::diff::{OrgDelete, OrgPatch, OrgUpdate};
use sync_core::guards::{any_tripped, check_contacts_guard};
use sync_core::{check_guards, Guard, GuardConfig, Plan, ZendeskOrgId};

fn plan(matched: usize, updates: usize, deletes: usize) -> Plan {
    Plan {
        salesforce_records: matched.max(1),
        matched,
        updates: (0..updates)
            .map(|i| OrgUpdate {
                salesforce_id: sfid(&format!("U{i}")),
                id: ZendeskOrgId(i as u64),
                patch: OrgPatch::default(),
                before: Default::default(),
            })
            .collect(),
        deletes: (0..deletes)
            .map(|i| OrgDelete {
                salesforce_id: sfid(&format!("D{i}")),
                id: ZendeskOrgId(i as u64),
                name: format!("D{i}"),
            })
            .collect(),
        ..Plan::default()
    }
}

fn tripped(guards: &[Guard]) -> Vec<&str> {
    guards
        .iter()
        .filter(|g| g.tripped)
        .map(|g| g.name.as_str())
        .collect()
}

#[test]
fn deletions_over_the_limit_trip() {
    let config = GuardConfig::default();
    assert!(tripped(&check_guards(&plan(50, 0, 25), &config)).is_empty());
    let guards = check_guards(&plan(50, 0, 26), &config);
    assert_eq!(tripped(&guards), ["max_deletions"]);
    assert_eq!(
        guards[1].detail,
        "26 deletion(s), limit 25; if this change is intended, run once with --allow-mass-changes"
    );
}

#[test]
fn ratios_apply_only_above_100_matched_orgs() {
    let config = GuardConfig::default();
    // 6 of 100 is 6 %, but 100 is not more than 100.
    assert!(tripped(&check_guards(&plan(100, 60, 6), &config)).is_empty());
    // 6 of 101 is over 5 %; 51 of 101 updates is over 0.5.
    assert_eq!(
        tripped(&check_guards(&plan(101, 51, 6), &config)),
        ["deletion_ratio", "max_update_ratio"]
    );
    // 5 of 101 and 50 of 101 are within.
    assert!(tripped(&check_guards(&plan(101, 50, 5), &config)).is_empty());
}

#[test]
fn a_ratio_guard_says_whether_it_was_checked() {
    let config = GuardConfig::default();
    let detail = |guards: &[Guard], name: &str| {
        guards
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.detail.clone())
            .unwrap()
    };
    let small = check_guards(&plan(7, 4, 1), &config);
    assert_eq!(
        detail(&small, "max_update_ratio"),
        "4 update(s) of 7 matched org(s) (57.1 %); not checked: the 50.0 % limit applies only when more than 100 orgs match"
    );
    assert_eq!(
        detail(&small, "deletion_ratio"),
        "1 deletion(s) of 7 matched org(s) (14.3 %); not checked: the 5.0 % limit applies only when more than 100 orgs match"
    );
    let large = check_guards(&plan(200, 120, 11), &config);
    assert_eq!(
        detail(&large, "max_update_ratio"),
        "120 update(s) of 200 matched org(s) (60.0 %), limit 50.0 %; if this change is intended, run once with --allow-mass-changes"
    );
    assert_eq!(
        detail(&large, "deletion_ratio"),
        "11 deletion(s) of 200 matched org(s) (5.5 %), limit 5.0 %; if this change is intended, run once with --allow-mass-changes"
    );
}

#[test]
fn allow_mass_changes_lifts_deletion_and_update_guards_but_not_empty_results() {
    let config = GuardConfig {
        allow_mass_changes: true,
        ..GuardConfig::default()
    };
    let guards = check_guards(&plan(1000, 900, 300), &config);
    assert!(!any_tripped(&guards));
    assert!(guards.iter().any(|g| g.detail.contains("lifted")));
    let mut empty = plan(0, 0, 0);
    empty.salesforce_records = 0;
    assert_eq!(tripped(&check_guards(&empty, &config)), ["no_accounts"]);
}

#[test]
fn custom_limits_and_no_contacts() {
    let config = GuardConfig {
        max_deletions: Some(2),
        max_update_ratio: 0.1,
        allow_mass_changes: false,
    };
    assert_eq!(
        tripped(&check_guards(&plan(200, 21, 3), &config)),
        ["max_deletions", "max_update_ratio"]
    );
    assert!(check_contacts_guard(0).tripped);
    assert!(!check_contacts_guard(1).tripped);
}

#[test]
fn a_job_that_never_deletes_has_no_deletion_guards() {
    let config = GuardConfig {
        max_deletions: None,
        ..GuardConfig::default()
    };
    let names: Vec<String> = check_guards(&plan(200, 150, 0), &config)
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["no_accounts", "max_update_ratio"]);
    assert!(any_tripped(&check_guards(&plan(200, 150, 0), &config)));
}

#[test]
fn expect_plan_trips_on_another_hash_only() {
    use sync_core::guards::check_expected_plan;
    let ok = check_expected_plan("ABC", "abc");
    assert!(!ok.tripped);
    assert_eq!(ok.name, "expect_plan");
    let changed = check_expected_plan("abc", "def");
    assert!(changed.tripped);
    assert!(
        changed.detail.contains("the plan changed"),
        "{}",
        changed.detail
    );
}
