//! The demo seed end to end: the state a run leaves, the report it writes, a second
//! run that writes nothing, a dry run that writes nothing, and a generated data set
//! larger than one page of users.

use serde_json::json;

use crate::common::{self, demo, generated, run, start, zendesk_state};

#[tokio::test(flavor = "multi_thread")]
async fn demo_run_reaches_the_expected_state_then_a_second_run_writes_nothing() {
    let sandbox = start(demo()).await;
    let first = run(&sandbox, &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);

    let state = zendesk_state(&sandbox);
    insta::assert_json_snapshot!("demo_state", state);
    insta::assert_json_snapshot!("demo_report", first.report, {
        ".started_at" => "[time]",
        ".finished_at" => "[time]",
        ".commit" => "[commit]",
    });
    // The writes, exactly: orgs (one create job, one update job), then users.
    assert_eq!(
        first.zendesk_writes(),
        [
            ("POST /api/v2/organizations/create_many".to_string(), 1),
            ("PUT /api/v2/organizations/update_many".to_string(), 1),
            ("POST /api/v2/users/create_many".to_string(), 1),
            ("PUT /api/v2/users/update_many".to_string(), 1),
        ]
        .into_iter()
        .collect()
    );

    let second = run(&sandbox, &[]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "second run wrote: {:?}",
        second.zendesk_writes()
    );
    assert_eq!(second.report["changes"], json!([]));
    assert_eq!(second.report["organizations"]["create"], 0);
    assert_eq!(second.report["organizations"]["update"], 0);
    assert_eq!(second.report["users"]["create"], 0);
    assert_eq!(second.report["users"]["update"], 0);
    assert_eq!(second.report["users"]["unchanged"], 4);
    assert_eq!(
        zendesk_state(&sandbox),
        state,
        "the second run changed the state"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_writes_nothing_and_reports_the_plan_with_both_sections() {
    let sandbox = start(demo()).await;
    let before = zendesk_state(&sandbox);
    let r = run(&sandbox, &["--dry-run"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.zendesk_writes().is_empty(), "{:?}", r.zendesk_writes());
    assert_eq!(zendesk_state(&sandbox), before);

    assert_eq!(r.report["sync"], "zd-sfdc-sync-us-federal");
    assert_eq!(r.report["dry_run"], true);
    assert_eq!(r.report["organizations"]["create"], 3);
    assert_eq!(r.report["organizations"]["update"], 1);
    assert_eq!(r.report["users"]["create"], 2);
    assert_eq!(r.report["users"]["update"], 1);
    assert_eq!(r.report["zendesk"]["users"], 6);
    // A user of an org the run would create names its account; the org has no id yet.
    let grace = r
        .changes("create_user")
        .into_iter()
        .find(|c| c["email"] == "grace.green@tests.gov")
        .expect("Grace would be created");
    assert_eq!(grace["salesforce_id"], common::BUREAU_OF_TESTS);
    assert_eq!(grace["fields"]["organization_id"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn generated_data_set_pages_through_users_and_converges() {
    let sandbox = start(generated(600)).await;
    let first = run(&sandbox, &[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let created = first.report["users"]["create"].as_u64().unwrap_or(0);
    assert!(created > 100, "more users than one page: {created}");

    let second = run(&sandbox, &[]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "second run wrote: {:?}",
        second.zendesk_writes()
    );
    assert!(
        second.zendesk("GET /api/v2/users") >= 2,
        "users read in several pages: {:?}",
        second.requests.zendesk
    );
    let unchanged = second.report["users"]["unchanged"].as_u64().unwrap_or(0);
    assert!(
        unchanged >= created,
        "{unchanged} unchanged, {created} created before"
    );
}
