//! Issue 14: `explain` (its Markdown and its JSON), `--expect-plan`, `--only`,
//! `--report-csv`, the report identity, and progress with totals in the JSON logs.

use crate::common;

/// Acme Corporation: a customer whose org is updated.
const CUSTOMER: &str = "0018SDEMO000001QPA";
/// Dharma Initiative: greatly expired, its org tagged `do_not_delete`.
const GREATLY_EXPIRED_PROTECTED: &str = "0018SDEMO000015QPA";
/// Alliance Cloud Inc: a partner.
const PARTNER: &str = "0018SDEMO000017QPA";
/// Prospective Co: a prospect, not returned by the Global query.
const PROSPECT: &str = "0018SDEMO000028QPA";

async fn explain(id: &str) -> common::Run {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &["explain", id]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.zendesk_writes().is_empty(),
        "{:?}",
        run.zendesk_writes()
    );
    assert_eq!(run.report["salesforce_id"], id, "the JSON explanation");
    run
}

/// The `--report` JSON of `explain`. It carries no clock, duration, version or
/// commit (the date is `--today`'s, the org ids the demo seed's); should one appear,
/// these redactions keep the snapshot stable.
fn assert_explain_json(name: &str, report: &serde_json::Value) {
    insta::assert_json_snapshot!(name, report, {
        ".**.started_at" => "[time]",
        ".**.finished_at" => "[time]",
        ".**.duration_ms" => "[duration]",
        ".**.version" => "[version]",
        ".**.commit" => "[commit]",
    });
}

#[tokio::test]
async fn explain_a_customer() {
    let run = explain(CUSTOMER).await;
    assert_eq!(run.report["account"]["zendesk"]["action"], "update");
    insta::assert_snapshot!("explain_customer", run.stdout);
    assert_explain_json("explain_customer_json", &run.report);
}

#[tokio::test]
async fn explain_a_greatly_expired_account_with_do_not_delete() {
    let run = explain(GREATLY_EXPIRED_PROTECTED).await;
    assert_eq!(run.report["account"]["greatly_expired"], true);
    assert_ne!(run.report["account"]["zendesk"]["action"], "delete");
    insta::assert_snapshot!("explain_greatly_expired_do_not_delete", run.stdout);
    assert_explain_json("explain_greatly_expired_do_not_delete_json", &run.report);
}

#[tokio::test]
async fn explain_a_partner() {
    let run = explain(PARTNER).await;
    assert_eq!(run.report["account"]["account_type"], "alliance_partner");
    insta::assert_snapshot!("explain_partner", run.stdout);
    assert_explain_json("explain_partner_json", &run.report);
}

#[tokio::test]
async fn explain_an_account_the_query_does_not_return_names_the_condition() {
    let run = explain(PROSPECT).await;
    assert_eq!(run.report["returned"], false);
    assert!(
        run.stdout.contains(
            "| `Account.Type IN ('Customer', 'Former Customer')` | \"Prospect\" | **no** |"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn explain_a_malformed_id_exits_2_before_any_request() {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &["explain", "0018SDEMO00001QPA"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not an 18-character Salesforce id"),
        "{}",
        run.stderr
    );
    assert_eq!(run.requests.salesforce.values().sum::<u64>(), 0);
    assert_eq!(run.requests.zendesk.values().sum::<u64>(), 0);
}

#[tokio::test]
async fn the_report_carries_its_identity_and_the_plan_hash_is_stable() {
    let sandbox = common::start(common::demo()).await;
    let one = common::run(&sandbox, &["--dry-run"]).await;
    let two = common::run(&sandbox, &["--dry-run"]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    let hash = one.report["plan_hash"]
        .as_str()
        .expect("plan_hash")
        .to_string();
    assert_eq!(hash.len(), 64);
    assert_eq!(two.report["plan_hash"], hash.as_str());
    assert_eq!(one.report["version"], env!("CARGO_PKG_VERSION"));
    assert!(one.report["commit"].as_str().is_some_and(|c| !c.is_empty()));
    let mapping = one.report["mapping_sha256"].as_str().expect("mapping hash");
    assert_eq!(
        mapping,
        sync_core::mapping::sha256_hex(sync_core::mapping::GLOBAL_TOML.as_bytes())
    );
}

#[tokio::test]
async fn expect_plan_stops_a_changed_plan_with_exit_3_and_applies_the_reviewed_one() {
    let sandbox = common::start(common::demo()).await;
    let before = common::zendesk_state(&sandbox);
    let dry = common::run(&sandbox, &["--dry-run"]).await;
    let hash = dry.report["plan_hash"]
        .as_str()
        .expect("plan_hash")
        .to_string();
    let other = "0".repeat(64);
    let stopped = common::run(&sandbox, &["--expect-plan", &other]).await;
    assert_eq!(stopped.code, 3, "{}", stopped.stderr);
    assert!(
        stopped.zendesk_writes().is_empty(),
        "{:?}",
        stopped.zendesk_writes()
    );
    assert!(
        stopped.stderr.contains("the plan changed"),
        "{}",
        stopped.stderr
    );
    assert_eq!(common::zendesk_state(&sandbox), before);
    let applied = common::run(&sandbox, &["--expect-plan", &hash]).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert_eq!(applied.report["plan_hash"], hash.as_str());
    assert!(!applied.zendesk_writes().is_empty());
}

#[tokio::test]
async fn only_writes_for_the_named_accounts() {
    let sandbox = common::start(common::demo()).await;
    let run = common::run(&sandbox, &["--only", CUSTOMER]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let changes = run.report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["salesforce_id"], CUSTOMER);
    assert_eq!(changes[0]["action"], "update_org");
    // Everything was read: the findings about other accounts are still there.
    assert!(run.report["errors"].as_array().is_some_and(|e| e.len() > 3));
    let state = common::zendesk_state(&sandbox);
    let acme = common::orgs_with_salesforce_id(&state, CUSTOMER);
    assert_eq!(acme[0]["organization_fields"]["support_level"], "ultimate");
    // The greatly expired org of another account was not deleted.
    assert_eq!(
        common::orgs_with_salesforce_id(&state, "0018SDEMO000014QPA").len(),
        1
    );
}

#[tokio::test]
async fn report_csv_lists_the_findings_one_line_each() {
    let sandbox = common::start(common::demo()).await;
    let path = std::env::temp_dir().join(format!("findings-{}.csv", std::process::id()));
    let run = common::run(
        &sandbox,
        &["--dry-run", "--report-csv", path.to_str().expect("path")],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let csv = std::fs::read_to_string(&path).expect("csv written");
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "kind,salesforce_id,account_name,zendesk_org_id,message"
    );
    let findings = run.report["errors"].as_array().map_or(0, Vec::len);
    assert_eq!(lines.len() - 1, findings, "{csv}");
    assert!(
        csv.contains("name_conflict,0018SDEMO000009QPA,Soylent Industries,,"),
        "{csv}"
    );
    assert!(
        csv.contains("duplicate_zendesk_org,0018SDEMO000010QPA,Hooli,,"),
        "{csv}"
    );
}

/// The Markdown with what changes from run to run (commit, times, the sandbox's port)
/// replaced by placeholders.
fn stable_markdown(md: &str) -> String {
    md.lines()
        .map(|line| {
            if line.starts_with("Version ") {
                let plan = line.split("plan_hash").nth(1).unwrap_or_default();
                format!("Version [version and commit], mapping [sha256], plan_hash{plan}")
            } else if line.starts_with("Started ") {
                "Started [time], finished [time].".to_string()
            } else if let Some(at) = line.find("API calls:") {
                // Job polls depend on timing.
                format!("{}API calls: [counts].", &line[..at])
            } else {
                let mut out = String::new();
                let mut rest = line;
                while let Some(at) = rest.find("http://127.0.0.1:") {
                    out.push_str(&rest[..at]);
                    out.push_str("https://zendesk.example");
                    let after = &rest[at + "http://127.0.0.1:".len()..];
                    rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
                }
                out.push_str(rest);
                out
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_markdown_report_of_the_demo_seed() {
    let sandbox = common::start(common::demo()).await;
    let path = std::env::temp_dir().join(format!("report-{}.md", std::process::id()));
    let run = common::run(&sandbox, &["--report-md", path.to_str().expect("path")]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = std::fs::read_to_string(&path).expect("markdown written");
    let _ = std::fs::remove_file(&path);
    assert!(md.len() < 100_000);
    insta::assert_snapshot!("demo_report_md", stable_markdown(&md));
}

/// The progress events of `phase` in JSON logs: `(done, total)` in order.
fn progress_of(logs: &[serde_json::Value], phase: &str) -> Vec<(u64, u64)> {
    logs.iter()
        .filter(|l| l["phase"] == phase)
        .map(|l| {
            let n = |k: &str| {
                l[k].as_u64()
                    .unwrap_or_else(|| panic!("{phase}: {k} in {l}"))
            };
            (n("done"), n("total"))
        })
        .collect()
}

/// Every job phase logs its progress with totals: at its start (`0/N`), every few
/// seconds while it runs, and at its end (`N/N`), so the events are there however fast
/// the run; user jobs too. The reads say how many records they read.
#[tokio::test]
async fn json_logs_carry_progress_with_totals_for_org_user_and_deletion_jobs() {
    let sandbox = common::start(common::generated(1_500)).await;
    let mut env = common::sandbox_env(&sandbox);
    env.push(("RUST_LOG", "info".to_string()));
    let run = common::run_with_env(
        &sandbox,
        env,
        &["--log-format", "json", "--allow-mass-changes"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let logs: Vec<serde_json::Value> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON log line"))
        .collect();
    let jobs = |n: u64| n.div_ceil(100);
    let orgs = &run.report["organizations"];
    let users = &run.report["users"];
    let count = |v: &serde_json::Value| v.as_u64().expect("a count");
    let expected = [
        (
            "organization jobs",
            jobs(count(&orgs["create"])) + jobs(count(&orgs["update"])),
        ),
        (
            "user jobs",
            jobs(count(&users["create"])) + jobs(count(&users["update"])),
        ),
        ("deletion jobs", jobs(count(&orgs["delete"]))),
    ];
    for (phase, total) in expected {
        assert!(total >= 1, "{phase}: the data set must have jobs");
        let seen = progress_of(&logs, phase);
        assert_eq!(seen.first(), Some(&(0, total)), "{phase}: {seen:?}");
        assert_eq!(seen.last(), Some(&(total, total)), "{phase}: {seen:?}");
        assert!(
            seen.windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[0].1 == w[1].1),
            "{phase}: {seen:?}"
        );
    }
    assert!(jobs(count(&users["create"])) > 1, "several user jobs");
    let last_user_line = logs
        .iter()
        .rev()
        .find(|l| l["phase"] == "user jobs")
        .and_then(|l| l["message"].as_str())
        .unwrap_or_default();
    let total = expected[1].1;
    assert!(
        last_user_line.starts_with(&format!("user jobs {total}/{total} done, 0 calls left, ~")),
        "{last_user_line}"
    );
    // The accounts read have their total from the query's totalSize.
    let accounts = logs
        .iter()
        .find(|l| l["message"] == "read all Salesforce accounts")
        .expect("the accounts read");
    assert_eq!(accounts["total"], run.report["salesforce"]["records"]);
    assert_eq!(accounts["done"], accounts["total"]);
    assert!(logs
        .iter()
        .any(|l| l["message"] == "read all Zendesk organizations" && l["done"].is_u64()));
}
