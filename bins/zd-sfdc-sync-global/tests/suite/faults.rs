//! Faults: failed job rows (exit 1, reported, the run goes on) and a `create_many`
//! whose answer is lost after Zendesk applied it (no duplicate, sold-to users still
//! created, and the next run writes nothing).

use sandbox::{Fault, When};

use crate::common::{self, orgs_with_salesforce_id, user};

#[tokio::test]
async fn a_failed_row_is_reported_with_exit_1_and_the_rest_applied() {
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::FailJobRow,
        When::Nth(2),
        "PUT /api/v2/organizations/update_many",
    ));
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let failed = run.errors("org_update_failed");
    assert_eq!(failed.len(), 1, "{}", run.report["errors"]);
    assert!(failed[0]["salesforce_id"]
        .as_str()
        .is_some_and(|s| s.len() == 18));
    assert!(!failed[0]["message"].as_str().unwrap_or_default().is_empty());
    let o = &run.report["organizations"];
    assert_eq!(
        (
            o["update"].as_u64(),
            o["failed"].as_u64(),
            o["create"].as_u64()
        ),
        (Some(3), Some(1), Some(25))
    );

    // The next run repairs the failed row and nothing else.
    sandbox.admin().set_faults(sandbox::FaultPlan::default());
    let next = common::run(&sandbox, &[]).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert_eq!(next.report["organizations"]["update"], 1);
    assert_eq!(next.report["organizations"]["create"], 0);
}

#[tokio::test]
async fn a_lost_create_answer_leaves_no_duplicate_and_the_next_run_writes_nothing() {
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::DropAfterApply,
        When::Nth(1),
        "POST /api/v2/organizations/create_many",
    ));
    let run = common::run(&sandbox, &[]).await;
    assert!(run.code == 0 || run.code == 1, "stderr: {}", run.stderr);
    assert_eq!(
        run.zendesk("POST /api/v2/organizations/create_many"),
        1,
        "nothing was resent"
    );
    let state = common::zendesk_state(&sandbox);
    for sfid in [
        "0018SDEMO000002QPA",
        "0018SDEMO000005QPA",
        "0014M00001sGJ8xQAG",
    ] {
        assert_eq!(orgs_with_salesforce_id(&state, sfid).len(), 1, "{sfid}");
    }
    let globex = orgs_with_salesforce_id(&state, "0018SDEMO000002QPA")[0]["id"].clone();

    sandbox.admin().set_faults(sandbox::FaultPlan::default());
    let next = common::run(&sandbox, &[]).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    let state = common::zendesk_state(&sandbox);
    // The sold-to user of a new org exists in it, made by that run or this one.
    assert_eq!(
        user(&state, "ap@globex.example.com").map(|u| u["organization_id"].clone()),
        Some(globex)
    );
    assert_eq!(next.report["organizations"]["create"], 0);

    let last = common::run(&sandbox, &[]).await;
    assert_eq!(last.code, 0, "stderr: {}", last.stderr);
    assert!(
        last.zendesk_writes().is_empty(),
        "{:?}",
        last.zendesk_writes()
    );
}

/// A sold-to create that fails (a failed job row) fails that run; the org, created less
/// than 7 days ago and still without users, counts as new on the next run, which
/// creates the user.
#[tokio::test]
async fn sold_to_users_lost_to_a_fault_are_created_by_the_next_run() {
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::FailJobRow,
        When::Nth(1),
        "POST /api/v2/users/create_many",
    ));
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    let failed = run.errors("user_create_failed");
    assert_eq!(failed.len(), 1, "{}", run.report["errors"]);
    assert_eq!(failed[0]["email"], "ap@globex.example.com");
    assert!(user(&common::zendesk_state(&sandbox), "ap@globex.example.com").is_none());

    sandbox.admin().set_faults(sandbox::FaultPlan::default());
    let next = common::run(&sandbox, &[]).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert_eq!(next.report["organizations"]["create"], 0);
    assert_eq!(next.report["users"]["create"], 1);
    let state = common::zendesk_state(&sandbox);
    let globex = orgs_with_salesforce_id(&state, "0018SDEMO000002QPA")[0]["id"].clone();
    assert_eq!(
        user(&state, "ap@globex.example.com").map(|u| u["organization_id"].clone()),
        Some(globex)
    );

    let last = common::run(&sandbox, &[]).await;
    assert_eq!(last.code, 0, "stderr: {}", last.stderr);
    assert!(
        last.zendesk_writes().is_empty(),
        "{:?}",
        last.zendesk_writes()
    );
}

/// A `users/create_many` whose answer is lost (500) is re-read and completed in the
/// same run: the sold-to user exists once, in its new org.
#[tokio::test]
async fn a_lost_sold_to_create_answer_is_repaired_in_the_same_run() {
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::ServerError { status: 500 },
        When::Nth(1),
        "POST /api/v2/users/create_many",
    ));
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let state = common::zendesk_state(&sandbox);
    let globex = orgs_with_salesforce_id(&state, "0018SDEMO000002QPA")[0]["id"].clone();
    let users: Vec<_> = state["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|u| u["email"] == "ap@globex.example.com")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["organization_id"], globex);
}

/// Where bulk user import is off (403 on `users/create_many`), sold-to users are
/// created one by one with `users/create_or_update`, said once in the log.
#[tokio::test]
async fn sold_to_users_are_created_one_by_one_when_bulk_import_is_off() {
    let mut config = common::demo();
    config.bulk_user_create_disabled = true;
    let sandbox = common::start(config).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        run.zendesk("POST /api/v2/users/create_many"),
        1,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(
        run.zendesk("POST /api/v2/users/create_or_update"),
        1,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(
        run.stderr.matches("bulk user import is off").count(),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(run.report["users"]["create"], 1);
    let state = common::zendesk_state(&sandbox);
    let globex = orgs_with_salesforce_id(&state, "0018SDEMO000002QPA")[0]["id"].clone();
    assert_eq!(
        user(&state, "ap@globex.example.com").map(|u| u["organization_id"].clone()),
        Some(globex)
    );
}

/// A 429 storm on the org list is waited out (`Retry-After`) and the run completes.
#[tokio::test]
async fn a_rate_limit_storm_is_waited_out() {
    let sandbox = common::start(common::demo()).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        When::Range { from: 1, to: 2 },
        "GET /api/v2/organizations",
    ));
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    // Two refused attempts, then the page: the fault layer counts every attempt.
    assert_eq!(
        run.zendesk("GET /api/v2/organizations"),
        3,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(run.report["organizations"]["create"], 25);
}
