//! Safety guards and configuration: every read comes before the first write, so a
//! tripped guard (no contacts) stops the run with nothing written.

use serde_json::{json, Value};

use crate::common::{demo, fixtures_with, run, start, zendesk_state};

#[tokio::test(flavor = "multi_thread")]
async fn no_contacts_stops_the_run_with_nothing_written() {
    let dir = fixtures_with(|sobject, records| match sobject {
        "Contact" => json!([]),
        _ => records,
    });
    let sandbox = start(sandbox::SandboxConfig {
        seed: sandbox::Seed::Fixtures(dir.clone()),
        ..demo()
    })
    .await;
    let before = zendesk_state(&sandbox);
    let r = run(&sandbox, &[]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.zendesk_writes().is_empty(), "{:?}", r.zendesk_writes());
    assert_eq!(zendesk_state(&sandbox), before);
    let guards = r.report["guards"].as_array().cloned().unwrap_or_default();
    let tripped: Vec<&Value> = guards.iter().filter(|g| g["tripped"] == true).collect();
    assert_eq!(tripped.len(), 1, "{guards:?}");
    assert_eq!(tripped[0]["name"], "no_contacts");
    // Nothing done, and the org plan the guard refused is shown under `planned`.
    let report: sync_core::Report = serde_json::from_value(r.report.clone())
        .unwrap_or_else(|e| panic!("the report reads back ({e}): {}", r.report));
    assert_eq!(report.users.create, 0);
    assert_eq!(
        (report.organizations.create, report.organizations.update),
        (0, 0)
    );
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    let planned = report.planned.unwrap_or_default();
    assert_eq!(
        (planned.organizations.create, planned.organizations.update),
        (3, 1)
    );
    assert_eq!(planned.changes.len(), 3 + 1, "the org plan is still shown");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_accounts_stops_the_run_with_nothing_written() {
    // `USPUBXFED-…` matches the contacts query's 'USPUB_FED%' (`_` is any one
    // character) but not the accounts query's 'USPUB-FED%': contacts, no accounts.
    let dir = fixtures_with(|sobject, records| match (sobject, records) {
        ("Account", Value::Array(accounts)) => Value::Array(
            accounts
                .into_iter()
                .map(|mut a| {
                    let federal = a["Account_Territory__c"]
                        .as_str()
                        .and_then(|t| t.strip_prefix("USPUB-FED"))
                        .map(|rest| format!("USPUBXFED{rest}"));
                    if let Some(t) = federal {
                        a["Account_Territory__c"] = json!(t);
                    }
                    a
                })
                .collect(),
        ),
        (_, records) => records,
    });
    let sandbox = start(sandbox::SandboxConfig {
        seed: sandbox::Seed::Fixtures(dir.clone()),
        ..demo()
    })
    .await;
    let before = zendesk_state(&sandbox);
    let r = run(&sandbox, &[]).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.zendesk_writes().is_empty(), "{:?}", r.zendesk_writes());
    assert_eq!(zendesk_state(&sandbox), before);
    let tripped: Vec<String> = r.report["guards"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter(|g| g["tripped"] == true)
                .filter_map(|g| g["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(tripped, ["no_accounts"]);
    assert_eq!(r.report["salesforce"]["records"], 10, "contacts were read");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_exit_2_before_any_request() {
    let sandbox = start(demo()).await;
    let before = sandbox.admin().request_counts();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sync-us-federal"))
        .env_clear()
        .env("ZD_URL", sandbox.zendesk_url())
        .output()
        .await
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ZD_EMAIL") || stderr.contains("ZD_API_TOKEN"),
        "{stderr}"
    );
    assert!(stderr.contains("SFDC_"), "{stderr}");
    assert_eq!(sandbox.admin().request_counts(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_global_mapping_file_is_refused() {
    let sandbox = start(demo()).await;
    let path = crate::common::temp_path("global.toml");
    let global = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/sync-core/mappings/global.toml"
    );
    std::fs::copy(global, &path).expect("copy mapping");
    let r = run(&sandbox, &["--mapping", path.to_str().unwrap_or_default()]).await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.zendesk_writes().is_empty());
}
