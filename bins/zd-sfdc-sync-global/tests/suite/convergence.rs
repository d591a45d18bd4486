//! Convergence under faults (issue 16), bounded for CI; shared by the Global and the
//! US Federal suites (each includes this file; `crate::common` is the suite's own).
//!
//! Faults: the reliability mix of the sandbox (10 % 429s, 5 % 503 of which half after
//! the write applied, 2 % dropped connections of which half after applying, 5 % failed
//! job rows, a Salesforce token that expires every 10th request), several seeds. Every
//! faulty run makes progress and undoes nothing (no duplicate org or user, no org
//! deleted that a fault-free run keeps, nothing that was right made wrong, no sold-to
//! user lost); a fault-free run after two faulty ones reaches exactly the fault-free
//! state, and the run after it writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use sandbox::{Api, Fault, FaultPlan, FaultRule, Sandbox, SandboxConfig, When};
use serde_json::Value;

use crate::common;

/// The reliability mix with `seed` (the rates of `sandbox::faults`' module docs).
pub fn reliability_mix(seed: u64) -> FaultPlan {
    let zd = |fault, share| FaultRule {
        fault,
        when: When::Share(share),
        api: Some(Api::Zendesk),
        endpoint: None,
    };
    FaultPlan {
        seed,
        rules: vec![
            zd(
                Fault::RateLimited {
                    retry_after_secs: 1,
                },
                0.10,
            ),
            zd(Fault::ServerError { status: 503 }, 0.025),
            zd(Fault::ServerErrorAfterApply { status: 503 }, 0.025),
            zd(Fault::Drop, 0.01),
            zd(Fault::DropAfterApply, 0.01),
            zd(Fault::FailJobRow, 0.05),
            FaultRule {
                fault: Fault::ExpireSalesforceTokens,
                when: When::Every(10),
                api: Some(Api::Salesforce),
                endpoint: None,
            },
        ],
    }
}

/// What the sync decides, independent of Zendesk ids: orgs keyed by Salesforce id
/// (unmanaged ones by name) with their name, sorted tags and fields; users keyed by
/// email with their org's key, name and role.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Key → the orgs with that key (more than one: a duplicate).
    orgs: BTreeMap<String, Vec<Value>>,
    /// Email → the users with that email.
    users: BTreeMap<String, Vec<Value>>,
}

pub fn project(sandbox: &Sandbox) -> Projection {
    let state = common::zendesk_state(sandbox);
    let empty = Vec::new();
    let mut orgs: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut key_of_id = BTreeMap::new();
    for org in state["organizations"].as_array().unwrap_or(&empty) {
        let key = match org["organization_fields"]["salesforce_id"].as_str() {
            Some(s) if !s.is_empty() => format!("sf:{s}"),
            _ => format!("name:{}", org["name"].as_str().unwrap_or_default()),
        };
        key_of_id.insert(org["id"].as_u64().unwrap_or(0), key.clone());
        let mut tags: Vec<String> = org["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        let value = serde_json::json!({
            "name": org["name"],
            "tags": tags,
            "fields": org["organization_fields"],
        });
        orgs.entry(key).or_default().push(value);
    }
    let mut users: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for user in state["users"].as_array().unwrap_or(&empty) {
        let email = user["email"].as_str().unwrap_or_default().to_lowercase();
        let org = user["organization_id"]
            .as_u64()
            .and_then(|id| key_of_id.get(&id).cloned());
        let value = serde_json::json!({"org": org, "name": user["name"], "role": user["role"]});
        users.entry(email).or_default().push(value);
    }
    for list in orgs.values_mut().chain(users.values_mut()) {
        list.sort_by_key(|v| v.to_string());
    }
    Projection { orgs, users }
}

impl Projection {
    /// Orgs and users that differ from `expected` (missing, extra or different).
    fn distance(&self, expected: &Projection) -> usize {
        self.differences(expected).len()
    }

    /// The keys that differ from `expected`, each with both sides (for messages).
    pub fn differences(&self, expected: &Projection) -> Vec<String> {
        let diff = |a: &BTreeMap<String, Vec<Value>>, b: &BTreeMap<String, Vec<Value>>| {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| format!("{k}: {:?} ≠ expected {:?}", a.get(k), b.get(k)))
                .collect::<Vec<_>>()
        };
        let mut out = diff(&self.orgs, &expected.orgs);
        out.extend(diff(&self.users, &expected.users));
        out
    }

    /// Keys with more entries here than in `before` and more than one: a duplicate
    /// this run made (the seed may hold a duplicate on purpose).
    pub fn new_duplicates(&self, before: &Projection) -> Vec<String> {
        let grew = |a: &BTreeMap<String, Vec<Value>>, b: &BTreeMap<String, Vec<Value>>| {
            a.iter()
                .filter(|(k, v)| v.len() > 1 && v.len() > b.get(*k).map_or(0, Vec::len))
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>()
        };
        let mut out = grew(&self.orgs, &before.orgs);
        out.extend(grew(&self.users, &before.users));
        out
    }

    /// The entries (orgs and users) equal to `expected`'s.
    fn right(&self, expected: &Projection) -> BTreeSet<String> {
        let orgs = self
            .orgs
            .iter()
            .filter(|(k, v)| expected.orgs.get(*k) == Some(v))
            .map(|(k, _)| k.clone());
        let users = self
            .users
            .iter()
            .filter(|(k, v)| expected.users.get(*k) == Some(v))
            .map(|(k, _)| format!("user:{k}"));
        orgs.chain(users).collect()
    }
}

/// A faulty run against `before` did no harm and made progress towards `expected`:
/// no duplicate; everything right before is still right (so no org deleted that the
/// fault-free run keeps, no sold-to user lost or moved); fewer differences left, unless
/// none were left.
fn check_faulty_run(what: &str, before: &Projection, after: &Projection, expected: &Projection) {
    let dups = after.new_duplicates(before);
    assert!(dups.is_empty(), "{what}: duplicates {dups:?}");
    let lost: Vec<String> = before
        .right(expected)
        .difference(&after.right(expected))
        .cloned()
        .collect();
    assert!(lost.is_empty(), "{what}: undone {lost:?}");
    for key in before.orgs.keys() {
        if expected.orgs.contains_key(key) {
            assert!(after.orgs.contains_key(key), "{what}: {key} deleted");
        }
    }
    let (b, a) = (before.distance(expected), after.distance(expected));
    assert!(
        a < b || b == 0,
        "{what}: no progress ({b} → {a} differences)"
    );
}

/// The state a fault-free run reaches from `config`.
pub async fn fault_free_outcome(config: SandboxConfig) -> Projection {
    let sandbox = common::start(config).await;
    let run = common::run(&sandbox, &["--allow-mass-changes"]).await;
    assert_eq!(run.code, 0, "fault-free run: {}", run.stderr);
    project(&sandbox)
}

/// A fault-free run reaches `expected`; the run after writes nothing.
async fn converges(what: &str, sandbox: &Sandbox, expected: &Projection) {
    sandbox.admin().set_faults(FaultPlan::default());
    let clean = common::run(sandbox, &["--allow-mass-changes"]).await;
    assert!(clean.code == 0, "{what}: clean run: {}", clean.stderr);
    let differences = project(sandbox).differences(expected);
    assert!(
        differences.is_empty(),
        "{what}: not the fault-free state:\n{}",
        differences.join("\n")
    );
    let last = common::run(sandbox, &["--allow-mass-changes"]).await;
    assert_eq!(last.code, 0, "{what}: {}", last.stderr);
    assert!(
        last.zendesk_writes().is_empty(),
        "{what}: {:?}",
        last.zendesk_writes()
    );
}

/// Two faulty runs (the mix, seed `seed`), then a fault-free one, then a quiet one.
pub async fn faulty_then_clean(config: SandboxConfig, seed: u64) {
    let expected = fault_free_outcome(config.clone()).await;
    let sandbox = common::start(config).await;
    for round in 1..=2 {
        let what = format!("seed {seed}, faulty run {round}");
        sandbox
            .admin()
            .set_faults(reliability_mix(seed * 10 + round));
        let before = project(&sandbox);
        let fired_before = sandbox.admin().fired_faults();
        let run = common::run(&sandbox, &["--allow-mass-changes"]).await;
        assert!(
            matches!(run.code, 0 | 1),
            "{what}: exit {} (the retry budgets should carry it): {}",
            run.code,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        // The sandbox's fired counts are cumulative: this run's are the difference.
        let fired_by_kind: BTreeMap<String, u64> = sandbox
            .admin()
            .fired_faults()
            .into_iter()
            .map(|(k, v)| {
                let earlier = fired_before.get(&k).copied().unwrap_or(0);
                (k, v - earlier)
            })
            .filter(|(_, v)| *v > 0)
            .collect();
        let fired: u64 = fired_by_kind.values().sum();
        // For docs/reliability.md (printed with --nocapture; not asserted).
        eprintln!(
            "FIGURES {what}: exit {}, {} requests, faults fired {fired_by_kind:?}",
            run.code,
            run.requests.zendesk_total() + run.requests.salesforce.values().sum::<u64>()
        );
        assert!(fired > 0 || round == 2, "{what}: no fault fired");
        check_faulty_run(&what, &before, &project(&sandbox), &expected);
    }
    converges(&format!("seed {seed}"), &sandbox, &expected).await;
}
