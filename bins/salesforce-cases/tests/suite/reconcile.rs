//! `reconcile`: repairs what lost events left undone, and is a no-op when nothing is missing.

use sandbox::Instance;

use super::common::*;

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
    let upserts_before = sf_count(&sb, "PATCH sobjects/Case upsert");
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
    assert_eq!(
        sf_count(&sb, "PATCH sobjects/Case upsert") - upserts_before,
        2
    );
    // Cases are looked up in bulk: one query for every ticket of the window.
    assert_eq!(sf_count(&sb, "GET query") - queries_before, 1);
    assert!(run1.report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "no_organization"));

    let upserts = sf_count(&sb, "PATCH sobjects/Case upsert");
    let run2 = run(&["reconcile", "--since", "1h"], &env).await;
    assert_eq!(run2.code, 0, "{}", run2.stderr);
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), upserts);
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
    assert_eq!(run.report["cases"]["create"], 1, "{}", run.stderr);
    assert_eq!(run.report["changes"][0]["ticket_id"], id);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_window_under_a_minute_is_a_usage_error() {
    let sb = sandbox(Instance::Global).await;
    let run = run(&["reconcile", "--since", "30s"], &env_for(&sb, &sb)).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--since"), "{}", run.stderr);
}
