//! Global under faults and crashes (issue 16), bounded for CI. Faults: the reliability
//! mix of `convergence` with several seeds. Crashes: the sandbox holds the Nth write of
//! an endpoint (its own counters choose the point, not a timer); the job is SIGKILLed
//! while the write is held; the write is then dropped or applied (Zendesk finishing
//! what a dead client sent). The next run converges with no duplicate, the run after
//! writes nothing.

use std::time::Duration;

use sandbox::HoldWrite;

use crate::common;
use crate::convergence::{fault_free_outcome, faulty_then_clean, project};

#[tokio::test]
async fn global_converges_under_the_fault_mix_seed_1() {
    faulty_then_clean(common::demo(), 1).await;
}

#[tokio::test]
async fn global_converges_under_the_fault_mix_seed_2() {
    faulty_then_clean(common::demo(), 2).await;
}

/// At 300 accounts this seed fails one sold-to row in an org whose other sold-to user
/// was created: the per-email recovery (docs/behaviour.md §6) creates the lost email on
/// the next run, although the org already has a user.
#[tokio::test]
async fn global_converges_under_the_fault_mix_seed_3_at_300_accounts() {
    faulty_then_clean(common::generated(300), 3).await;
}

/// SIGKILLs the Global job while the sandbox holds the `nth` write to `endpoint`, then
/// drops or applies that write; the next run converges with no duplicate and the run
/// after writes nothing.
async fn killed_at(endpoint: &str, nth: u64, apply_held: bool) {
    let config = common::demo();
    let expected = fault_free_outcome(config.clone()).await;
    let sandbox = common::start(config).await;
    let initial = project(&sandbox);
    sandbox.admin().hold_write(Some(HoldWrite {
        nth,
        endpoint: Some(endpoint.to_string()),
    }));
    let env: Vec<(&str, String)> = std::iter::once(("RUST_LOG", "warn".to_string()))
        .chain(common::sandbox_env(&sandbox))
        .collect();
    let mut child = sandbox::testing::command(
        env!("CARGO_BIN_EXE_zd-sfdc-sync-global"),
        &[
            "--today",
            common::TODAY,
            "--zd-rate-limit",
            "100000",
            "--allow-mass-changes",
        ],
        &env,
    )
    .spawn()
    .expect("the job starts");
    let held = sandbox
        .admin()
        .wait_for_held_write(sandbox::testing::RUN_TIMEOUT)
        .await
        .unwrap_or_else(|| panic!("{endpoint} #{nth} was never sent"));
    assert!(held.endpoint.starts_with(endpoint), "{held:?}");
    child.start_kill().expect("SIGKILL");
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the killed job ends")
        .expect("status");
    assert!(status.code().is_none(), "killed by a signal: {status:?}");
    sandbox.admin().release_held_write(apply_held);
    sandbox.admin().hold_write(None);
    let what = format!("killed at {endpoint} #{nth} (held write applied: {apply_held})");
    let dups = project(&sandbox).new_duplicates(&initial);
    assert!(dups.is_empty(), "{what}: duplicates {dups:?}");
    // The next run converges; the one after writes nothing.
    let next = common::run(&sandbox, &["--allow-mass-changes"]).await;
    assert_eq!(next.code, 0, "{what}: {}", next.stderr);
    let differences = project(&sandbox).differences(&expected);
    assert!(
        differences.is_empty(),
        "{what}: not the fault-free state:\n{}",
        differences.join("\n")
    );
    let last = common::run(&sandbox, &["--allow-mass-changes"]).await;
    assert_eq!(last.code, 0, "{what}: {}", last.stderr);
    assert!(
        last.zendesk_writes().is_empty(),
        "{what}: {:?}",
        last.zendesk_writes()
    );
}

#[tokio::test]
async fn killed_during_org_creates_then_converges() {
    killed_at("POST /api/v2/organizations/create_many", 1, false).await;
    killed_at("POST /api/v2/organizations/create_many", 1, true).await;
}

#[tokio::test]
async fn killed_during_org_updates_then_converges() {
    killed_at("PUT /api/v2/organizations/update_many", 1, true).await;
}

#[tokio::test]
async fn killed_during_sold_to_user_creates_then_converges() {
    killed_at("POST /api/v2/users/create_many", 1, false).await;
    killed_at("POST /api/v2/users/create_many", 1, true).await;
}

#[tokio::test]
async fn killed_during_deletions_then_converges() {
    killed_at("DELETE /api/v2/organizations/destroy_many", 1, true).await;
}
