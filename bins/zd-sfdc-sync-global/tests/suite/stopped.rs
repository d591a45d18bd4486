//! A run stopped part-way by an API error (exit 4): the report's counts and
//! `changes[]` are what the sandbox shows was done, not the plan, and a
//! `not_attempted` entry names what was left.

use sandbox::{Fault, When};
use serde_json::Value;

use crate::common::{self, orgs_with_salesforce_id, Run};

/// The accounts of the report's `changes[]` entries of `action`.
fn changed(run: &Run, action: &str) -> Vec<String> {
    run.report["changes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["action"] == action)
                .filter_map(|c| c["salesforce_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn orgs(state: &Value) -> Vec<Value> {
    state["organizations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Every `update_many` answers 503 until the client's retries are exhausted: the
/// creates (an earlier job) were applied, the updates and everything after them were
/// not, and the report says exactly that.
#[tokio::test]
async fn updates_stopped_by_503s_report_the_creates_done_and_nothing_else() {
    let sandbox = common::start(common::demo()).await;
    let plan = common::run(&sandbox, &["--dry-run"]).await;
    assert_eq!(plan.code, 0, "stderr: {}", plan.stderr);
    let planned_updates = changed(&plan, "update_org");
    assert!(!planned_updates.is_empty());
    assert!(plan.report["organizations"]["delete"].as_u64() > Some(0));
    let before = common::zendesk_state(&sandbox);

    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::ServerError { status: 503 },
        When::Always,
        "PUT /api/v2/organizations/update_many",
    ));
    let run = common::run(&sandbox, &["--retry-budget", "5"]).await;
    assert_eq!(run.code, 4, "stderr: {}", run.stderr);
    let after = common::zendesk_state(&sandbox);

    // Created: the orgs that are new in the sandbox, exactly those the report names.
    let new_ids: Vec<String> = orgs(&after)
        .iter()
        .filter(|o| !orgs(&before).iter().any(|b| b["id"] == o["id"]))
        .filter_map(|o| o["organization_fields"]["salesforce_id"].as_str())
        .map(str::to_string)
        .collect();
    let mut created = changed(&run, "create_org");
    created.sort();
    let mut new_sorted = new_ids.clone();
    new_sorted.sort();
    assert!(!created.is_empty());
    assert_eq!(created, new_sorted);
    let o = &run.report["organizations"];
    assert_eq!(o["create"].as_u64(), Some(new_ids.len() as u64));

    // Updated and deleted: nothing, in the sandbox and in the report.
    for sfid in &planned_updates {
        assert_eq!(
            orgs_with_salesforce_id(&after, sfid),
            orgs_with_salesforce_id(&before, sfid),
            "{sfid} was not updated"
        );
    }
    assert_eq!(orgs(&after).len(), orgs(&before).len() + new_ids.len());
    assert_eq!(
        (
            o["update"].as_u64(),
            o["delete"].as_u64(),
            o["failed"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{o}"
    );
    assert!(changed(&run, "update_org").is_empty());
    assert!(changed(&run, "delete_org").is_empty());
    assert_eq!(run.zendesk("DELETE /api/v2/organizations/destroy_many"), 0);
    assert_eq!(run.report["users"]["create"], 0);
    assert_eq!(run.zendesk("POST /api/v2/users/create_many"), 0);

    let left = run.errors("not_attempted");
    let messages: Vec<&str> = left.iter().filter_map(|e| e["message"].as_str()).collect();
    let updates_left = format!(
        "0 of {} org creates and {n} of {n} org updates were not applied",
        new_ids.len(),
        n = planned_updates.len()
    );
    assert!(
        messages.iter().any(|m| m.contains(&updates_left)),
        "{messages:?}"
    );
    assert!(messages
        .iter()
        .any(|m| m.starts_with("sold-to users were not attempted")));
    assert!(messages
        .iter()
        .any(|m| m.contains("org deletions were not attempted")));
}

/// The deletions (the last step) are refused with 401 (the token revoked mid-run):
/// creates, updates and sold-to users were done and are reported; the deletions are not.
#[tokio::test]
async fn deletions_stopped_by_a_401_report_all_that_came_before() {
    let sandbox = common::start(common::demo()).await;
    let plan = common::run(&sandbox, &["--dry-run"]).await;
    assert_eq!(plan.code, 0, "stderr: {}", plan.stderr);
    let before = common::zendesk_state(&sandbox);
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::ServerError { status: 401 },
        When::Always,
        "DELETE /api/v2/organizations/destroy_many",
    ));
    let run = common::run(&sandbox, &["--retry-budget", "5"]).await;
    assert_eq!(run.code, 4, "stderr: {}", run.stderr);
    let after = common::zendesk_state(&sandbox);

    let o = &run.report["organizations"];
    let p = &plan.report["organizations"];
    assert_eq!(
        (o["create"].clone(), o["update"].clone()),
        (p["create"].clone(), p["update"].clone())
    );
    assert_eq!(o["delete"], 0);
    assert_eq!(changed(&run, "create_org"), changed(&plan, "create_org"));
    assert_eq!(changed(&run, "update_org"), changed(&plan, "update_org"));
    assert!(changed(&run, "delete_org").is_empty());
    for sfid in changed(&plan, "delete_org") {
        assert_eq!(
            orgs_with_salesforce_id(&after, &sfid).len(),
            1,
            "{sfid} still there"
        );
    }
    let users = |s: &Value| s["users"].as_array().map_or(0, Vec::len);
    assert_eq!(
        run.report["users"]["create"].as_u64(),
        Some((users(&after) - users(&before)) as u64)
    );
    let left = run.errors("not_attempted");
    assert_eq!(left.len(), 1, "{left:?}");
    let deletes = p["delete"].as_u64().unwrap_or(0);
    assert!(
        left[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!(
                "{deletes} of {deletes} org deletions were not applied"
            ))),
        "{left:?}"
    );
}
