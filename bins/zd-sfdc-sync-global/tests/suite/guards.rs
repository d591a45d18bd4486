//! Safety guards: each trips with exit 3 and nothing written, in a real run and in a
//! dry run; `--allow-mass-changes` lifts the ratio guards.

use crate::common;

async fn assert_trips(config: sandbox::SandboxConfig, args: &[&str], guard: &str) {
    let sandbox = common::start(config).await;
    let before = common::zendesk_state(&sandbox);
    for dry in [false, true] {
        let mut all = args.to_vec();
        if dry {
            all.push("--dry-run");
        }
        let run = common::run(&sandbox, &all).await;
        assert_eq!(
            run.code, 3,
            "{guard} (dry run {dry}): stderr {}",
            run.stderr
        );
        assert!(
            run.zendesk_writes().is_empty(),
            "{guard}: {:?}",
            run.zendesk_writes()
        );
        let tripped: Vec<&str> = run.report["guards"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter(|g| g["tripped"] == true)
                    .filter_map(|g| g["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(tripped.contains(&guard), "{guard} not in {tripped:?}");
        assert!(
            run.stderr.contains(guard),
            "stderr does not explain: {}",
            run.stderr
        );
    }
    assert_eq!(common::zendesk_state(&sandbox), before);
}

#[tokio::test]
async fn no_accounts_trips() {
    assert_trips(common::generated(0), &[], "no_accounts").await;
}

#[tokio::test]
async fn max_deletions_trips() {
    // The demo seed deletes one org.
    assert_trips(common::demo(), &["--max-deletions", "0"], "max_deletions").await;
}

#[tokio::test]
async fn deletion_ratio_trips() {
    // 300 generated accounts: 8 deletions of 154 matched orgs (5.2 %).
    assert_trips(
        common::generated(300),
        &["--max-update-ratio", "1"],
        "deletion_ratio",
    )
    .await;
}

#[tokio::test]
async fn max_update_ratio_trips() {
    assert_trips(
        common::generated(300),
        &["--max-deletions", "100"],
        "max_update_ratio",
    )
    .await;
}

#[tokio::test]
async fn allow_mass_changes_lifts_the_ratio_guards() {
    let sandbox = common::start(common::generated(300)).await;
    let run = common::run(&sandbox, &["--allow-mass-changes"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.report["organizations"]["update"].as_u64() > Some(100));
    let second = common::run(&sandbox, &[]).await;
    assert_eq!(second.code, 0, "stderr: {}", second.stderr);
    assert!(
        second.zendesk_writes().is_empty(),
        "{:?}",
        second.zendesk_writes()
    );
}

/// Issue 12's acceptance: `--sandbox --max-deletions 0` exits 3 and its report is
/// truthful: nothing counted as done, no `changes[]`, and the plan it refused to apply
/// under `planned`. The dry run of the same plan is unchanged: the plan as counts and
/// `changes[]`, no `planned`.
#[tokio::test]
async fn a_real_run_stopped_by_a_guard_reports_its_plan_under_planned() {
    use sync_core::report::ChangeAction;
    use sync_core::Report;

    let unused = common::start(common::demo()).await;
    let typed = |run: &sandbox::testing::Run| -> Report {
        serde_json::from_value(run.report.clone())
            .unwrap_or_else(|e| panic!("the report reads back ({e}): {}", run.report))
    };
    let run = common::run(&unused, &["--sandbox", "--max-deletions", "0"]).await;
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    let report = typed(&run);
    assert_eq!(report.organizations.create, 0);
    assert_eq!(
        (report.organizations.update, report.organizations.delete),
        (0, 0)
    );
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    let planned = report.planned.expect("a stopped real run carries its plan");
    assert_eq!(
        (
            planned.organizations.create,
            planned.organizations.update,
            planned.organizations.delete
        ),
        (25, 4, 1)
    );
    assert!(!planned.changes.is_empty());
    assert!(planned
        .changes
        .iter()
        .any(|c| c.action == ChangeAction::DeleteOrg));
    assert!(
        run.stderr
            .contains("organizations  create 0 | update 0 | delete 0"),
        "{}",
        run.stderr
    );

    let dry = common::run(&unused, &["--sandbox", "--max-deletions", "0", "--dry-run"]).await;
    assert_eq!(dry.code, 3, "stderr: {}", dry.stderr);
    let dry = typed(&dry);
    assert_eq!(dry.planned, None);
    assert_eq!(dry.organizations.create, 25);
    assert_eq!(dry.changes, planned.changes);
}
