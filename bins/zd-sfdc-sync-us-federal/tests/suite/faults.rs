//! Faults: a failed org row, an org phase that cannot reach Zendesk, and a user
//! create whose answer is lost.

use sandbox::{Fault, When};

use crate::common::{self, demo, run, start, user, users, zendesk_fault, zendesk_state};

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_org_row_leaves_its_users_without_organization_and_the_rest_proceed() {
    let sandbox = start(demo()).await;
    // The first row of the org create job is 103 (creates are sorted by account).
    sandbox.admin().set_faults(zendesk_fault(
        Fault::FailJobRow,
        When::Nth(1),
        "POST /api/v2/organizations/create_many",
    ));
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 1, "a failed write: {}", r.stderr);
    let failed = r.errors("org_create_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["salesforce_id"], common::BUREAU_OF_TESTS);
    let state = zendesk_state(&sandbox);
    assert!(common::org_ids(&state, common::BUREAU_OF_TESTS).is_empty());
    // Grace (103): no_organization, saying why; Laura (104) lands in her new org.
    assert!(users(&state, "grace.green@tests.gov").is_empty());
    let grace = r
        .errors("no_organization")
        .into_iter()
        .find(|e| e["email"] == "grace.green@tests.gov")
        .expect("Grace reported");
    assert!(
        grace["message"]
            .as_str()
            .is_some_and(|m| m.contains("could not be created")),
        "{grace}"
    );
    let laura = user(&state, "laura.lane@demos.gov");
    assert_eq!(
        laura["organization_id"].as_u64(),
        common::org_ids(&state, common::OFFICE_OF_DEMOS)
            .first()
            .copied()
    );
    assert_eq!(r.report["users"]["create"], 1);

    // The next run repairs it.
    sandbox.admin().set_faults(sandbox::FaultPlan::default());
    let again = run(&sandbox, &[]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let state = zendesk_state(&sandbox);
    let grace = user(&state, "grace.green@tests.gov");
    assert_eq!(
        grace["organization_id"].as_u64(),
        common::org_ids(&state, common::BUREAU_OF_TESTS)
            .first()
            .copied()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_org_phase_that_cannot_reach_zendesk_stops_before_the_users() {
    let sandbox = start(demo()).await;
    sandbox.admin().set_faults(zendesk_fault(
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        When::Always,
        "PUT /api/v2/organizations/update_many",
    ));
    let r = run(&sandbox, &["--retry-budget", "5"]).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    let user_writes: Vec<_> = r
        .zendesk_writes()
        .into_keys()
        .filter(|k| k.contains("/users"))
        .collect();
    assert!(
        user_writes.is_empty(),
        "users written on stale org data: {user_writes:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_user_create_answer_is_reread_not_resent() {
    let sandbox = start(demo()).await;
    sandbox.admin().set_faults(zendesk_fault(
        Fault::DropAfterApply,
        When::Nth(1),
        "POST /api/v2/users/create_many",
    ));
    let r = run(&sandbox, &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let state = zendesk_state(&sandbox);
    for email in ["grace.green@tests.gov", "laura.lane@demos.gov"] {
        assert_eq!(users(&state, email).len(), 1, "{email} exactly once");
    }
    // The answer was lost: both emails are looked up again, and nothing is resent.
    assert_eq!(
        r.zendesk("GET /api/v2/users/search"),
        2,
        "{:?}",
        r.requests.zendesk
    );
    assert_eq!(
        r.zendesk("POST /api/v2/users/create_or_update"),
        0,
        "nothing resent"
    );
    assert_eq!(
        r.zendesk("POST /api/v2/users/create_many"),
        1,
        "nothing resent"
    );
    assert_eq!(r.report["users"]["create"], 2);
}

/// Zendesk refuses us (401) at the users phase: the org writes before it are reported
/// as done (they were), the users as not done (they were not), and a `not_attempted`
/// entry says how many user writes were left.
#[tokio::test(flavor = "multi_thread")]
async fn a_users_phase_refused_mid_run_reports_the_orgs_done_and_no_users() {
    let sandbox = start(demo()).await;
    let plan = run(&sandbox, &["--dry-run"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let planned_users = plan.changes("create_user").len() + plan.changes("update_user").len();
    assert!(planned_users > 0);
    sandbox.admin().set_faults(zendesk_fault(
        Fault::ServerError { status: 401 },
        When::Always,
        "POST /api/v2/users/create_many",
    ));
    let r = run(&sandbox, &["--retry-budget", "5"]).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    let o = &r.report["organizations"];
    let p = &plan.report["organizations"];
    assert_eq!(
        (o["create"].clone(), o["update"].clone()),
        (p["create"].clone(), p["update"].clone())
    );
    assert_eq!(
        r.changes("create_org").len(),
        plan.changes("create_org").len()
    );
    let state = zendesk_state(&sandbox);
    for c in plan.changes("create_org") {
        let sfid = c["salesforce_id"].as_str().unwrap_or_default();
        assert_eq!(common::org_ids(&state, sfid).len(), 1, "{sfid} created");
    }
    let u = &r.report["users"];
    assert_eq!(
        (u["create"].clone(), u["update"].clone()),
        (0.into(), 0.into()),
        "{u}"
    );
    assert!(r.changes("create_user").is_empty());
    assert!(r.changes("update_user").is_empty());
    for email in ["grace.green@tests.gov", "laura.lane@demos.gov"] {
        assert!(users(&state, email).is_empty(), "{email} not created");
    }
    let left = r.errors("not_attempted");
    assert_eq!(left.len(), 1, "{left:?}");
    let expected = format!("{planned_users} of {planned_users} user writes were not applied");
    assert!(
        left[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&expected)),
        "{left:?}"
    );
}

/// A user create whose answer was lost, then Zendesk refuses us before it could be
/// re-read: those users may exist, so they are reported failed with `OutcomeUnknown`,
/// not silently "not applied".
#[tokio::test(flavor = "multi_thread")]
async fn lost_user_creates_not_reread_before_a_stop_are_unknown_outcomes() {
    let sandbox = start(demo()).await;
    let plan = run(&sandbox, &["--dry-run"]).await;
    let creates = plan.changes("create_user").len();
    assert!(
        creates > 0 && !plan.changes("update_user").is_empty(),
        "{}",
        plan.report
    );
    sandbox.admin().set_faults(sandbox::FaultPlan {
        seed: 1,
        rules: vec![
            sandbox::FaultRule {
                fault: Fault::DropAfterApply,
                when: When::Nth(1),
                api: Some(sandbox::Api::Zendesk),
                endpoint: Some("POST /api/v2/users/create_many".into()),
            },
            sandbox::FaultRule {
                fault: Fault::ServerError { status: 401 },
                when: When::Always,
                api: Some(sandbox::Api::Zendesk),
                endpoint: Some("PUT /api/v2/users/update_many".into()),
            },
        ],
    });
    let r = run(&sandbox, &["--retry-budget", "5"]).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    let unknown: Vec<_> = r
        .errors("user_create_failed")
        .into_iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("OutcomeUnknown"))
        })
        .collect();
    assert_eq!(unknown.len(), creates, "{}", r.report["errors"]);
    assert_eq!(r.report["users"]["failed"].as_u64(), Some(creates as u64));
    assert_eq!(r.report["users"]["create"], 0);
}
