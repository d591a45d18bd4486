//! Safety guards (docs/behaviour.md §5), checked before the first write: a pure function of the
//! plan and the configuration. A tripped guard means the run writes nothing and
//! exits 3; `allow_mass_changes` lifts the deletion and update-ratio guards.

use serde::{Deserialize, Serialize};

use crate::diff::Plan;

/// Guard settings (`--max-deletions`, `--max-update-ratio`, `--allow-mass-changes`).
#[derive(Debug, Clone, PartialEq)]
pub struct GuardConfig {
    /// Most deletions allowed in one run; `None` for a job that never deletes (US
    /// Federal), whose report then lists no deletion guards.
    pub max_deletions: Option<usize>,
    /// Largest share of matched orgs one run may update (when more than 100 match).
    pub max_update_ratio: f64,
    /// Lifts the deletion and update guards for one run.
    pub allow_mass_changes: bool,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            max_deletions: Some(25),
            max_update_ratio: 0.5,
            allow_mass_changes: false,
        }
    }
}

/// The share of matched orgs above which deletions trip (when more than 100 match).
pub const MAX_DELETION_RATIO: f64 = 0.05;
/// Ratio guards apply only above this many matched orgs.
pub const RATIO_MIN_MATCHED: usize = 100;

/// One guard's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guard {
    /// Stable name.
    pub name: String,
    /// Whether it stops the run.
    pub tripped: bool,
    /// What it saw, in words.
    pub detail: String,
}

/// `--expect-plan HASH` (docs/behaviour.md §5, §8): the run goes ahead only if its fresh plan has
/// the `plan_hash` that was reviewed; otherwise it stops like a tripped guard (exit 3,
/// nothing written). Hashes compare without regard to case.
pub fn check_expected_plan(expected: &str, actual: &str) -> Guard {
    if expected.trim().eq_ignore_ascii_case(actual) {
        guard(
            "expect_plan",
            false,
            format!("the plan has the expected plan_hash {actual}"),
        )
    } else {
        guard(
            "expect_plan",
            true,
            format!(
                "the plan changed since it was reviewed: --expect-plan {} but the fresh plan's                  plan_hash is {actual}; nothing was written (review the new plan)",
                expected.trim()
            ),
        )
    }
}

fn guard(name: &str, tripped: bool, detail: String) -> Guard {
    Guard {
        name: name.to_string(),
        tripped,
        detail,
    }
}

/// A mass-change guard: trips unless lifted; the detail says which.
fn mass(name: &str, over: bool, detail: String, config: &GuardConfig) -> Guard {
    match (over, config.allow_mass_changes) {
        (true, true) => guard(
            name,
            false,
            format!("{detail} (lifted by --allow-mass-changes)"),
        ),
        (true, false) => guard(
            name,
            true,
            format!("{detail}; if this change is intended, run once with --allow-mass-changes"),
        ),
        (false, _) => guard(name, false, detail),
    }
}

/// Every guard of an org plan, tripped or not, in a fixed order.
pub fn check_guards(plan: &Plan, config: &GuardConfig) -> Vec<Guard> {
    let deletes = plan.deletes.len();
    let updates = plan.updates.len();
    let matched = plan.matched;
    let large = matched > RATIO_MIN_MATCHED;
    let ratio = |n: usize| {
        if matched == 0 {
            0.0
        } else {
            n as f64 / matched as f64
        }
    };
    // A ratio guard's detail says whether it was checked at all, so that "57 %, not
    // tripped" below the 100-org threshold does not read as a broken guard.
    let ratio_detail = |what: &str, n: usize, limit: f64| {
        let seen = format!(
            "{n} {what}(s) of {matched} matched org(s) ({:.1} %)",
            ratio(n) * 100.0
        );
        if large {
            format!("{seen}, limit {:.1} %", limit * 100.0)
        } else {
            format!(
                "{seen}; not checked: the {:.1} % limit applies only when more than {RATIO_MIN_MATCHED} orgs match",
                limit * 100.0
            )
        }
    };
    let mut guards = vec![guard(
        "no_accounts",
        plan.salesforce_records == 0,
        format!(
            "Salesforce returned {} account record(s)",
            plan.salesforce_records
        ),
    )];
    if let Some(max_deletions) = config.max_deletions {
        guards.push(mass(
            "max_deletions",
            deletes > max_deletions,
            format!("{deletes} deletion(s), limit {max_deletions}"),
            config,
        ));
        guards.push(mass(
            "deletion_ratio",
            large && ratio(deletes) > MAX_DELETION_RATIO,
            ratio_detail("deletion", deletes, MAX_DELETION_RATIO),
            config,
        ));
    }
    guards.push(mass(
        "max_update_ratio",
        large && ratio(updates) > config.max_update_ratio,
        ratio_detail("update", updates, config.max_update_ratio),
        config,
    ));
    guards
}

/// The US Federal contacts guard: Salesforce returned no contacts.
pub fn check_contacts_guard(contact_records: usize) -> Guard {
    guard(
        "no_contacts",
        contact_records == 0,
        format!("Salesforce returned {contact_records} contact record(s)"),
    )
}

/// Whether any guard tripped.
pub fn any_tripped(guards: &[Guard]) -> bool {
    guards.iter().any(|g| g.tripped)
}
