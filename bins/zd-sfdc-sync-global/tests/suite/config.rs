//! Configuration errors exit 2 before any request, naming what is wrong.

use crate::common;

#[tokio::test]
async fn missing_credentials_are_named_and_nothing_is_requested() {
    let sandbox = common::start(common::demo()).await;
    let env = vec![
        ("ZD_URL", sandbox.zendesk_url().to_string()),
        ("SFDC_ACCESS_TOKEN", "x".to_string()),
    ];
    let run = common::run_with_env(&sandbox, env, &[]).await;
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    for name in [
        "SFDC_INSTANCE_URL",
        "ZD_EMAIL",
        "ZD_API_TOKEN",
        "ZD_OAUTH_TOKEN",
    ] {
        assert!(
            run.stderr.contains(name),
            "{name} not named: {}",
            run.stderr
        );
    }
    assert_eq!(run.requests.zendesk_total(), 0);
    assert!(run.requests.salesforce.is_empty());
}

#[tokio::test]
async fn a_mapping_that_zendesk_does_not_match_exits_2_before_any_write() {
    let sandbox = common::start(common::demo()).await;
    let text = include_str!("../../../../crates/sync-core/mappings/global.toml")
        .replace("org_region_emea", "org_region_europe");
    let path = std::env::temp_dir().join(format!("global-mapping-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write mapping");
    let arg = path.to_string_lossy().to_string();
    let run = common::run(&sandbox, &["--mapping", &arg]).await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(run.stderr.contains("org_region_europe"), "{}", run.stderr);
    assert!(run.zendesk_writes().is_empty());
    assert_eq!(
        run.requests.zendesk.keys().collect::<Vec<_>>(),
        vec!["GET /api/v2/organization_fields"]
    );
}

#[tokio::test]
async fn a_bad_flag_is_a_usage_error() {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &["--max-update-ratio", "2"]).await;
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.requests.zendesk_total(), 0);
}

#[tokio::test]
async fn salesforce_refusing_our_credentials_exits_4_with_nothing_written() {
    let mut config = common::demo();
    config.salesforce.required_client = Some(("the-real-client".into(), "its-secret".into()));
    let sandbox = common::start(config).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 4, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("authentication failed"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(sandbox::testing::CLIENT_SECRET),
        "a secret reached the log"
    );
    assert!(
        run.zendesk_writes().is_empty(),
        "{:?}",
        run.zendesk_writes()
    );
    // The report is still written, with what the run read.
    assert_eq!(run.report["sync"], "zd-sfdc-sync-global");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let sandbox = common::start(common::demo()).await;
    let mut env = common::sandbox_env(&sandbox);
    env.push(("RUST_LOG", "info".to_string()));
    let run = common::run_with_env(&sandbox, env, &["--log-format", "json", "--dry-run"]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let logs: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    assert!(
        logs.iter()
            .any(|l| l["message"] == "organization plan" && l["create"] == 25),
        "{}",
        run.stderr
    );
    assert!(logs
        .iter()
        .any(|l| l["message"] == "read all Salesforce accounts" && l["read"] == 37));
}
