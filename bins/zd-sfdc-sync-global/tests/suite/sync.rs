//! Normal runs on the demo seed: the state a first run leaves, the API calls it makes,
//! a second run that writes nothing, a dry run, findings and unmanaged tags.

use crate::common::{self, orgs_with_salesforce_id, user};

#[tokio::test]
async fn first_run_gives_the_expected_state_then_a_second_run_writes_nothing() {
    let sandbox = common::start(common::demo()).await;
    let first = common::run(&sandbox, &[]).await;
    assert_eq!(first.code, 0, "stderr: {}", first.stderr);
    insta::assert_json_snapshot!("first_run_state", common::zendesk_state(&sandbox));

    let o = &first.report["organizations"];
    assert_eq!(
        (
            o["create"].as_u64(),
            o["update"].as_u64(),
            o["delete"].as_u64()
        ),
        (Some(25), Some(4), Some(1))
    );
    assert_eq!(o["failed"], 0);
    assert_eq!(first.report["users"]["create"], 1);
    assert_eq!(first.report["users"]["update"], 1);

    let second = common::run(&sandbox, &[]).await;
    assert_eq!(second.code, 0, "stderr: {}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "second run wrote: {:?}",
        second.zendesk_writes()
    );
    let o = &second.report["organizations"];
    assert_eq!(
        (
            o["create"].as_u64(),
            o["update"].as_u64(),
            o["delete"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(o["unchanged"], 31);
    assert_eq!(second.report["changes"], serde_json::json!([]));
}

/// Pages read + one job per 100 changes + polls; plus the reads docs/behaviour.md §5–§6 require
/// (fields, created ids read back, sold-to lookups).
#[tokio::test]
async fn the_first_run_makes_the_floor_of_api_calls_plus_polls() {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let mut calls = run.requests.zendesk.clone();
    let polls = calls
        .remove("GET /api/v2/job_statuses/show_many")
        .unwrap_or(0);
    // Four job waits (orgs, user creates, user updates, deletions), polled together
    // until done; a job already complete in its submit answer needs no poll, and with
    // millisecond jobs a wait rarely needs more than one.
    assert!((1..=8).contains(&polls), "polls: {polls}");
    let expected: std::collections::BTreeMap<String, u64> = [
        ("GET /api/v2/organization_fields", 1),
        ("GET /api/v2/organizations", 1), // 12 orgs: one page
        ("POST /api/v2/organizations/create_many", 1), // 25 creates
        ("PUT /api/v2/organizations/update_many", 1), // 4 updates
        // The 25 created ids read back, then the deleted id (a deletion is done when
        // the org is gone, whatever the job's rows say).
        ("GET /api/v2/organizations/show_many", 2),
        // Sold-to emails of the new orgs (Globex: one valid of two, Stark, Pied Piper,
        // Wayne), read before the first write: 4 lookups weighed against one scan of the
        // users, sized by users/count: a single page is cheaper. Two emails have no user:
        // one scan of the deleted users.
        ("GET /api/v2/users/count", 1),
        ("GET /api/v2/users", 1),
        ("GET /api/v2/deleted_users", 1),
        ("POST /api/v2/users/create_many", 1),
        ("PUT /api/v2/users/update_many", 1),
        ("DELETE /api/v2/organizations/destroy_many", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(calls, expected);
    // Salesforce: one token, one query page (37 accounts < 2,000).
    let sf: u64 = run.requests.salesforce.values().sum();
    assert_eq!(sf, 2, "{:?}", run.requests.salesforce);
    // The report counts the same calls.
    assert_eq!(
        run.report["api_calls"]["zendesk"],
        run.requests.zendesk_total()
    );
    assert_eq!(run.report["api_calls"]["salesforce"], sf);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_reports_the_plan() {
    let sandbox = common::start(common::demo()).await;
    let before = common::zendesk_state(&sandbox);
    let run = common::run(&sandbox, &["--dry-run"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        run.zendesk_writes().is_empty(),
        "{:?}",
        run.zendesk_writes()
    );
    assert_eq!(common::zendesk_state(&sandbox), before);
    assert_eq!(run.report["dry_run"], true);
    let o = &run.report["organizations"];
    assert_eq!(
        (
            o["create"].as_u64(),
            o["update"].as_u64(),
            o["delete"].as_u64()
        ),
        (Some(25), Some(4), Some(1))
    );
    let actions: Vec<&str> = run.report["changes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions.iter().filter(|a| **a == "create_org").count(), 25);
    assert_eq!(actions.iter().filter(|a| **a == "delete_org").count(), 1);
    // The sold-to users the new orgs would get.
    assert!(actions.contains(&"create_user"), "{actions:?}");
}

#[tokio::test]
async fn findings_are_reported_with_exit_0_and_the_rest_is_synced() {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    for kind in [
        "invalid_account",
        "unknown_tier",
        "unknown_region",
        "duplicate_zendesk_org",
        "name_conflict",
        "sold_to_in_other_org",
        "no_contact_for_new_org",
        "protected_user",
    ] {
        assert!(
            !run.errors(kind).is_empty(),
            "no {kind} in {}",
            run.report["errors"]
        );
    }
    let state = common::zendesk_state(&sandbox);
    // Wonka's only tier is unknown: its org is neither created nor changed.
    assert!(orgs_with_salesforce_id(&state, "0018SDEMO000012QPA").is_empty());
    // Nakatomi's region is unknown: created, without a region.
    let nakatomi = orgs_with_salesforce_id(&state, "0018SDEMO000022QPA");
    assert_eq!(nakatomi.len(), 1);
    assert!(nakatomi[0]["organization_fields"]["org_region"].is_null());
    // Vandelay has an unknown tier next to a known one: synced with the known plan.
    let vandelay = orgs_with_salesforce_id(&state, "0018SDEMO000011QPA");
    assert_eq!(
        vandelay[0]["organization_fields"]["support_level"],
        "premium"
    );
    // Monarch is greatly expired: deleted. Dharma is protected by do_not_delete.
    assert!(orgs_with_salesforce_id(&state, "0018SDEMO000014QPA").is_empty());
    assert_eq!(
        orgs_with_salesforce_id(&state, "0018SDEMO000015QPA").len(),
        1
    );
    // Sold-to: a new user in Globex's new org; Stark's existing org-less user moved in.
    let globex = orgs_with_salesforce_id(&state, "0018SDEMO000002QPA")[0]["id"].clone();
    assert_eq!(
        user(&state, "ap@globex.example.com").map(|u| u["organization_id"].clone()),
        Some(globex)
    );
    let stark = orgs_with_salesforce_id(&state, "0018SDEMO000005QPA")[0]["id"].clone();
    assert_eq!(
        user(&state, "pepper@stark.example.com").map(|u| u["organization_id"].clone()),
        Some(stark)
    );
}

#[tokio::test]
async fn unmanaged_tags_survive_an_update() {
    let sandbox = common::start(common::demo()).await;
    let before = common::zendesk_state(&sandbox);
    let acme_before = orgs_with_salesforce_id(&before, "0018SDEMO000001QPA")[0].clone();
    assert!(acme_before["tags"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "vip_customer")));
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let after = common::zendesk_state(&sandbox);
    let acme = orgs_with_salesforce_id(&after, "0018SDEMO000001QPA")[0];
    let tags: Vec<&str> = acme["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    assert!(tags.contains(&"vip_customer"), "{tags:?}");
    assert!(tags.contains(&"ultimate"), "{tags:?}");
    assert_eq!(acme["organization_fields"]["support_level"], "ultimate");
}

/// The README's command: `--sandbox` starts the simulated APIs in-process (credentials
/// in the environment ignored) and prints the report.
#[tokio::test]
async fn the_sandbox_flag_runs_the_demo_and_prints_the_report() {
    // This sandbox only provides the environment; the binary starts its own.
    let unused = common::start(common::demo()).await;
    let run = common::run(&unused, &["--sandbox"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        run.requests.zendesk_total(),
        0,
        "the environment's Zendesk was not used"
    );
    assert!(
        run.stdout.starts_with("# zd-sfdc-sync-global"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("### create_org (25)")
            && run.stdout.contains("| `0018SDEMO000002QPA` |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("organizations  create 25 | update 4 | delete 1"),
        "{}",
        run.stderr
    );
    assert_eq!(run.report["organizations"]["create"], 25);
}

/// `--sandbox-accounts N`: a generated data set dated relative to `--today`; the first
/// run needs `--allow-mass-changes` (it is a fresh data set), and it exits 0.
#[tokio::test]
async fn the_sandbox_runs_a_generated_data_set() {
    let unused = common::start(common::demo()).await;
    let run = common::run(
        &unused,
        &[
            "--sandbox",
            "--sandbox-accounts",
            "150",
            "--allow-mass-changes",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        run.report["salesforce"]["records"].as_u64() > Some(100),
        "{}",
        run.report
    );
    assert!(run.report["organizations"]["create"].as_u64() > Some(0));
    assert_eq!(run.report["organizations"]["failed"], 0);
}
