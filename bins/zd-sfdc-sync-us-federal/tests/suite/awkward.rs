//! Legal-but-awkward API behaviour for the US Federal job: small Salesforce pages with
//! child sets paging one row at a time and tokens expiring mid-query (accounts and
//! contacts), a 429 storm and 5xx on the Zendesk user list, lost `users/update_many`
//! answers, and user jobs that end `killed`. Each run ends in the clean outcome (or
//! reports what failed), and the next run writes nothing.

use std::collections::BTreeMap;

use sandbox::{Api, Fault, FaultPlan, FaultRule, Sandbox, SandboxConfig, When};
use serde_json::Value;

use crate::common::{self, Run};

/// What the sync decides, independent of Zendesk ids: orgs by `salesforce_id` (name,
/// fields, sorted tags) and users by email (name, role, their org's `salesforce_id`).
fn synced(sandbox: &Sandbox) -> Value {
    let state = common::zendesk_state(sandbox);
    let empty = Vec::new();
    let mut sfid_of = BTreeMap::new();
    let mut orgs = BTreeMap::new();
    for org in state["organizations"].as_array().unwrap_or(&empty) {
        let sfid = org["organization_fields"]["salesforce_id"].clone();
        sfid_of.insert(org["id"].as_u64().unwrap_or(0), sfid.clone());
        let mut tags: Vec<String> = org["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        orgs.insert(
            format!("{}|{}", sfid, org["name"]),
            serde_json::json!({"fields": org["organization_fields"], "tags": tags}),
        );
    }
    let users: BTreeMap<String, Value> = state["users"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|u| {
            let org = u["organization_id"]
                .as_u64()
                .and_then(|id| sfid_of.get(&id).cloned())
                .unwrap_or(Value::Null);
            (
                u["email"].as_str().unwrap_or_default().to_string(),
                serde_json::json!({"name": u["name"], "role": u["role"], "org": org}),
            )
        })
        .collect();
    serde_json::json!({"organizations": orgs, "users": users})
}

async fn sync(sandbox: &Sandbox) -> Run {
    common::run(sandbox, &["--allow-mass-changes"]).await
}

async fn clean_outcome(config: SandboxConfig) -> Value {
    let sandbox = common::start(config).await;
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 0, "clean run: {}", run.stderr);
    synced(&sandbox)
}

async fn converged(sandbox: &Sandbox) {
    sandbox.admin().set_faults(FaultPlan::default());
    let next = sync(sandbox).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert!(
        next.zendesk_writes().is_empty(),
        "{:?}",
        next.zendesk_writes()
    );
}

fn rules(rules: &[(Fault, When, &str)]) -> FaultPlan {
    FaultPlan {
        seed: 5,
        rules: rules
            .iter()
            .map(|(fault, when, endpoint)| FaultRule {
                fault: fault.clone(),
                when: when.clone(),
                api: Some(Api::Zendesk),
                endpoint: Some(endpoint.to_string()),
            })
            .collect(),
    }
}

/// Accounts and contacts in pages of 200, child sets of one row a page, tokens
/// expiring every 3 requests: the clean outcome.
#[tokio::test]
async fn small_pages_paged_child_sets_and_expiring_tokens_give_the_clean_outcome() {
    let expected = clean_outcome(common::generated(300)).await;
    let mut config = common::generated(300);
    config.salesforce.page_size = 200;
    config.salesforce.child_page_size = 1;
    config.salesforce.token_ttl_requests = Some(3);
    let sandbox = common::start(config).await;
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.report["users"]["create"].as_u64() > Some(0));
    assert_eq!(synced(&sandbox), expected);
    converged(&sandbox).await;
}

/// A 429 storm (`Retry-After: 1`) then a 500 and a 503 on the user list are waited out
/// and retried.
#[tokio::test]
async fn a_429_storm_and_5xx_on_the_user_list_are_retried() {
    let expected = clean_outcome(common::generated(300)).await;
    let sandbox = common::start(common::generated(300)).await;
    sandbox.admin().set_faults(rules(&[
        (
            Fault::RateLimited {
                retry_after_secs: 1,
            },
            When::Range { from: 1, to: 2 },
            "GET /api/v2/users",
        ),
        (
            Fault::ServerError { status: 500 },
            When::Nth(3),
            "GET /api/v2/users",
        ),
        (
            Fault::ServerError { status: 503 },
            When::Nth(4),
            "GET /api/v2/users",
        ),
    ]));
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    // Two 429s, a 500 and a 503 came on top of the pages.
    assert!(
        run.zendesk("GET /api/v2/users") >= 5,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(synced(&sandbox), expected);
    converged(&sandbox).await;
}

/// A `users/update_many` whose connection drops before or after Zendesk applied it:
/// the updates end applied (an update is idempotent) and the next run writes nothing.
#[tokio::test]
async fn a_dropped_user_update_many_ends_applied() {
    let expected = clean_outcome(common::demo()).await;
    for fault in [Fault::Drop, Fault::DropAfterApply] {
        let sandbox = common::start(common::demo()).await;
        sandbox.admin().set_faults(rules(&[(
            fault.clone(),
            When::Nth(1),
            "PUT /api/v2/users/update_many",
        )]));
        let run = sync(&sandbox).await;
        assert!(run.code == 0 || run.code == 1, "{fault:?}: {}", run.stderr);
        assert!(
            run.zendesk("PUT /api/v2/users/update_many") >= 1,
            "{:?}",
            run.requests.zendesk
        );
        if run.code == 1 {
            // Reported, then repaired by the next run.
            assert!(!run.errors("user_update_failed").is_empty(), "{fault:?}");
            sandbox.admin().set_faults(FaultPlan::default());
            assert_eq!(sync(&sandbox).await.code, 0, "{fault:?}");
        }
        assert_eq!(synced(&sandbox), expected, "{fault:?}");
        converged(&sandbox).await;
    }
}

/// A `users/create_many` job that ends `killed` (nothing applied): its users are
/// reported failed (exit 1) and created by the next run.
#[tokio::test]
async fn a_killed_user_create_job_is_reported_and_repaired() {
    let expected = clean_outcome(common::demo()).await;
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(rules(&[(
        Fault::FailJob {
            status: "killed".into(),
        },
        When::Nth(1),
        "POST /api/v2/users/create_many",
    )]));
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let failed = run.errors("user_create_failed");
    assert!(!failed.is_empty(), "{}", run.report["errors"]);
    assert_eq!(run.report["users"]["create"], 0);
    assert_eq!(run.report["users"]["failed"], failed.len());
    sandbox.admin().set_faults(FaultPlan::default());
    let next = sync(&sandbox).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert_eq!(next.report["users"]["create"], failed.len());
    assert_eq!(synced(&sandbox), expected);
    converged(&sandbox).await;
}

/// The daily limit running out during the reads (accounts and contacts in pages of
/// 200): exit 4, a report whose `run_stopped` entry says so, nothing written.
#[tokio::test]
async fn the_daily_limit_running_out_mid_reads_exits_4_with_nothing_written() {
    let mut config = common::generated(300);
    config.salesforce.page_size = 200;
    let sandbox = common::start(config).await;
    sandbox.admin().set_salesforce_daily_limit(1);
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 4, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("daily API request limit"),
        "{}",
        run.stderr
    );
    assert!(
        run.zendesk_writes().is_empty(),
        "{:?}",
        run.zendesk_writes()
    );
    let stopped = run.errors("run_stopped");
    assert_eq!(stopped.len(), 1, "{:#}", run.report);
    assert!(stopped[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("REQUEST_LIMIT_EXCEEDED")));
}

/// Rows failing at random inside `users/create_many` jobs that complete: each failed
/// row is its own contact's error, the created users are the others, and the next run
/// creates exactly the failed ones.
#[tokio::test]
async fn failed_user_rows_mixed_with_created_rows_are_tied_to_their_contacts() {
    let expected = clean_outcome(common::generated(300)).await;
    let sandbox = common::start(common::generated(300)).await;
    sandbox.admin().set_faults(rules(&[(
        Fault::FailJobRow,
        When::Probability(0.3),
        "POST /api/v2/users/create_many",
    )]));
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let failed = run.errors("user_create_failed");
    assert!(!failed.is_empty(), "{}", run.report["errors"]);
    let state = common::zendesk_state(&sandbox);
    for f in &failed {
        let email = f["email"].as_str().unwrap_or_default();
        assert!(
            common::users(&state, email).is_empty(),
            "{email} failed but exists"
        );
    }
    for c in run.changes("create_user") {
        let email = c["email"].as_str().unwrap_or_default();
        assert_eq!(common::users(&state, email).len(), 1, "{email}");
    }
    sandbox.admin().set_faults(FaultPlan::default());
    let next = sync(&sandbox).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert_eq!(next.report["users"]["create"], failed.len());
    assert_eq!(synced(&sandbox), expected);
    converged(&sandbox).await;
}

/// An `organizations/create_many` whose answer is lost after Zendesk applied it: the
/// orgs are found again by `salesforce_id`, and their contacts' users are created in
/// them in the same run — no duplicate org, no more `no_organization` than a clean run.
#[tokio::test]
async fn a_lost_org_create_answer_still_gives_users_their_orgs() {
    let clean = common::start(common::generated(300)).await;
    let clean_run = sync(&clean).await;
    assert_eq!(clean_run.code, 0, "clean run: {}", clean_run.stderr);
    let expected = synced(&clean);
    let sandbox = common::start(common::generated(300)).await;
    sandbox.admin().set_faults(rules(&[(
        Fault::DropAfterApply,
        When::Nth(1),
        "POST /api/v2/organizations/create_many",
    )]));
    let run = sync(&sandbox).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        run.zendesk("POST /api/v2/organizations/create_many"),
        1,
        "nothing resent: {:?}",
        run.requests.zendesk
    );
    assert_eq!(
        run.errors("no_organization").len(),
        clean_run.errors("no_organization").len()
    );
    assert_eq!(
        run.report["users"]["create"],
        clean_run.report["users"]["create"]
    );
    assert_eq!(synced(&sandbox), expected);
    converged(&sandbox).await;
}
