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
