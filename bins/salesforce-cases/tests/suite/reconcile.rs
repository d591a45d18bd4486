//! `reconcile`: repairs what lost events left undone, and is a no-op when nothing is missing.

use sandbox::Instance;

use super::common::*;

/// The sandbox's key for a Case sObject Collections upsert.
const COLLECTION_UPSERT: &str = "PATCH composite/sobjects/Case upsert";

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_repairs_a_missed_create_and_a_missed_close_then_does_nothing() {
    let sb = sandbox(Instance::Global).await;
    // A ticket whose `created` event was lost.
    let missed_create = new_ticket(&sb, "Lost webhook", Some(ACME_ORG), ELLEN).await;
    // A ticket whose Case exists but whose `closed` event was lost.
    let missed_close = new_ticket(&sb, "Closed silently", Some(ACME_ORG), ELLEN).await;
    assert_eq!(event(&sb, "global", missed_close, "created").await.code, 0);
    close_ticket(&sb, missed_close).await;
    // A ticket without an organization: nothing to repair.
    let _no_org = new_ticket(&sb, "Who am I", None, 360_200_000_007).await;
    let queries_before = sf_count(&sb, "GET query");

    let env = env_for(&sb, &sb);
    let run1 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    let c = &run1.report["cases"];
    assert_eq!(
        (c["create"].clone(), c["close"].clone()),
        (1.into(), 1.into()),
        "{:#}",
        run1.report
    );
    let created = case(&sb, &missed_create.to_string());
    assert_eq!(created["Status"], "New");
    assert_eq!(created["SuppliedEmail"], "ellen@acme.example.com");
    let closed = case(&sb, &missed_close.to_string());
    assert_eq!(closed["IsClosed"], true);
    // Collections writes send Sforce-Auto-Assign: FALSE too.
    for c in [&created, &closed] {
        assert_eq!(
            owner_name(&sb, c).as_deref(),
            Some("Sandbox Integration User")
        );
    }
    // Both repairs in one sObject Collections upsert.
    assert_eq!(sf_count(&sb, COLLECTION_UPSERT), 1);
    // Cases are looked up in bulk: one query for every ticket of the window; on the
    // Zendesk side one export page, one organizations and one users show_many.
    assert_eq!(sf_count(&sb, "GET query") - queries_before, 1);
    assert_eq!(run1.report["api_calls"]["zendesk"], 3, "{:#}", run1.report);
    assert!(run1.report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "no_organization"));

    let upserts = sf_count(&sb, "PATCH sobjects/Case upsert");
    let run2 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), upserts);
    assert_eq!(sf_count(&sb, COLLECTION_UPSERT), 1);
    let c = &run2.report["cases"];
    assert_eq!(
        (c["create"].clone(), c["close"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(c["unchanged"], 3);
    assert_eq!(cases(&sb).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reconcile_plans_without_writing() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Lost webhook", Some(ACME_ORG), ELLEN).await;
    let run = run(
        &["reconcile", "--since", "30m", "--dry-run"],
        &env_for(&sb, &sb),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(cases(&sb).is_empty());
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), 0);
    assert_eq!(sf_count(&sb, COLLECTION_UPSERT), 0);
    assert_eq!(run.report["cases"]["create"], 1, "{}", run.stderr);
    assert_eq!(run.report["changes"][0]["ticket_id"], id);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_account_in_a_collection_is_a_finding_and_the_rest_is_written() {
    let sb = sandbox(Instance::Global).await;
    let defunct = new_ticket(&sb, "Defunct", Some(DEFUNCT_ORG), ELLEN).await;
    let fine = new_ticket(&sb, "Fine", Some(ACME_ORG), ELLEN).await;
    let run = run(&["reconcile", "--since", "1h"], &env_for(&sb, &sb)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.report["cases"]["create"], 1);
    let errors = run.report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["kind"] == "missing_account" && e["ticket_id"] == defunct),
        "{errors:#?}"
    );
    assert!(cases_with_key(&sb, &defunct.to_string()).is_empty());
    assert_eq!(case(&sb, &fine.to_string())["AccountId"], ACME_ACCOUNT);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_under_a_minute_is_a_usage_error() {
    let sb = sandbox(Instance::Global).await;
    let run = run(&["reconcile", "--since", "30s"], &env_for(&sb, &sb)).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--since"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absurd_or_garbled_window_is_a_usage_error_not_a_panic() {
    let sb = sandbox(Instance::Global).await;
    for since in [
        "5000000d",
        "3651d",
        "213503982334601d",
        "18446744073709551615s",
        "99999999999999999999999999d",
        "24x",
        "-1h",
        "",
    ] {
        let flag = format!("--since={since}");
        let run = run(&["reconcile", &flag], &env_for(&sb, &sb)).await;
        assert_eq!(run.code, 2, "--since {since:?}: {}", run.stderr);
        assert!(run.stderr.contains("--since"), "{since:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains("panicked"),
            "{since:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        sb.admin().request_counts().zendesk_total(),
        0,
        "nothing was sent"
    );
}

/// The reconcile's create can race a `closed` event like an event's create can: its
/// Collections upsert (held back here) meets the Case the event created, already
/// Closed, and sets `Status` = New. The reconcile must close it again and report an
/// update and a close, not a create.
#[tokio::test(flavor = "multi_thread")]
async fn a_reconcile_create_that_meets_a_new_case_does_not_leave_it_reopened() {
    let sb = sandbox(Instance::Global).await;
    let id = new_ticket(&sb, "Raced by reconcile", Some(ACME_ORG), ELLEN).await;
    let key = id.to_string();
    sb.admin().set_faults(sandbox::FaultPlan {
        seed: 1,
        rules: vec![sandbox::FaultRule {
            fault: sandbox::Fault::Slow { millis: 3000 },
            when: sandbox::When::Nth(1),
            api: Some(sandbox::Api::Salesforce),
            endpoint: Some("PATCH /services/data/v62.0/composite/sobjects/Case".into()),
        }],
    });
    let queries = sf_count(&sb, "GET query");
    let env = env_for(&sb, &sb);
    let reconcile = {
        let env = env.clone();
        tokio::spawn(async move { run(&["reconcile", "--since", "1h"], &env).await })
    };
    wait_for("the reconcile's lookup", || {
        sf_count(&sb, "GET query") > queries
    })
    .await;
    close_ticket(&sb, id).await;
    let closed = run(&["event", "--ticket-id", &key, "--event", "closed"], &env).await;
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert_eq!(closed.report["cases"]["create"], 1, "{}", closed.report);

    let run = reconcile.await.expect("the reconcile finishes");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let c = &run.report["cases"];
    assert_eq!(
        (c["create"].clone(), c["update"].clone(), c["close"].clone()),
        (0.into(), 1.into(), 1.into()),
        "{}",
        run.report
    );
    let raced = case(&sb, &key);
    assert_eq!(raced["IsClosed"], true, "{raced:#}");
    assert_eq!(cases_with_key(&sb, &key).len(), 1);
}
