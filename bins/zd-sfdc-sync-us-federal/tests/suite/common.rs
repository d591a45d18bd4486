//! Shared setup: start a US Federal sandbox, run the binary against it, read its
//! report, and look at the sandbox's state and request counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sandbox::{
    Api, Fault, FaultPlan, FaultRule, Instance, RequestCounts, Sandbox, SandboxConfig, Seed, When,
};
use serde_json::Value;

/// The run's date in every test: the demo seed is dated relative to it.
pub const TODAY: &str = "2026-11-25";

/// Accounts of the demo seed, by number.
pub const BUREAU_OF_TESTS: &str = "0018SDEMO000103QPA";
pub const OFFICE_OF_DEMOS: &str = "0018SDEMO000104QPA";

/// The US Federal demo seed with millisecond jobs and a high rate limit.
pub fn demo() -> SandboxConfig {
    SandboxConfig {
        instance: Instance::UsFederal,
        job_latency: Duration::from_millis(5),
        ..SandboxConfig::default_fixtures()
    }
}

/// A generated US Federal data set of `accounts` accounts, dated relative to [`TODAY`].
pub fn generated(accounts: usize) -> SandboxConfig {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    SandboxConfig {
        seed: Seed::Generated {
            accounts,
            seed: 11,
            today: time::Date::parse(TODAY, &format).expect("test date"),
        },
        ..demo()
    }
}

pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// One fault rule on one Zendesk endpoint (e.g. `POST /api/v2/users/create_many`).
pub fn zendesk_fault(fault: Fault, when: When, endpoint: &str) -> FaultPlan {
    FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            fault,
            when,
            api: Some(Api::Zendesk),
            endpoint: Some(endpoint.to_string()),
        }],
    }
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stderr: String,
    /// The `--report` JSON (`Null` when none was written).
    pub report: Value,
    /// Requests the sandbox received during this run.
    pub requests: RequestCounts,
}

impl Run {
    /// Zendesk write requests (anything but GET) by endpoint.
    pub fn zendesk_writes(&self) -> BTreeMap<String, u64> {
        self.requests
            .zendesk
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Zendesk requests to one endpoint.
    pub fn zendesk(&self, endpoint: &str) -> u64 {
        self.requests.zendesk.get(endpoint).copied().unwrap_or(0)
    }

    /// The report's `errors[]` of one kind.
    pub fn errors(&self, kind: &str) -> Vec<Value> {
        self.report["errors"]
            .as_array()
            .map(|a| a.iter().filter(|e| e["kind"] == kind).cloned().collect())
            .unwrap_or_default()
    }

    /// The report's `changes[]` with one action.
    pub fn changes(&self, action: &str) -> Vec<Value> {
        self.report["changes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["action"] == action)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// A fresh path in the temp directory, unique to this process and call.
pub fn temp_path(what: &str) -> PathBuf {
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!(
        "zd-sfdc-sync-us-federal-e2e-{}-{n}-{what}",
        std::process::id()
    ))
}

/// The environment pointing the binary at the sandbox (client-credentials flow at the
/// simulated My Domain, API token for Zendesk). Nothing else is inherited.
fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("SFDC_CLIENT_ID", "e2e-client".to_string()),
        ("SFDC_CLIENT_SECRET", "e2e-secret".to_string()),
        ("SFDC_LOGIN_URL", sandbox.salesforce_url().to_string()),
        ("ZD_URL", sandbox.zendesk_url().to_string()),
        ("ZD_EMAIL", "ops@example.com".to_string()),
        ("ZD_API_TOKEN", "e2e-token".to_string()),
    ]
}

/// Runs the binary against the sandbox with `args` (plus `--today` and `--report`).
pub async fn run(sandbox: &Sandbox, args: &[&str]) -> Run {
    let before = sandbox.admin().request_counts();
    let path = temp_path("report.json");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sync-us-federal"))
        .env_clear()
        .envs(sandbox_env(sandbox))
        .env("RUST_LOG", "warn")
        .args(["--today", TODAY, "--zd-rate-limit", "100000", "--report"])
        .arg(&path)
        .args(args)
        .output()
        .await
        .expect("the binary runs");
    let report = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_file(&path);
    let after = sandbox.admin().request_counts();
    Run {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report,
        requests: delta(&before, &after),
    }
}

fn delta(before: &RequestCounts, after: &RequestCounts) -> RequestCounts {
    let diff = |b: &BTreeMap<String, u64>, a: &BTreeMap<String, u64>| {
        a.iter()
            .map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect()
    };
    RequestCounts {
        zendesk: diff(&before.zendesk, &after.zendesk),
        salesforce: diff(&before.salesforce, &after.salesforce),
    }
}

/// The Zendesk organizations and users, sorted by id, with volatile keys dropped.
pub fn zendesk_state(sandbox: &Sandbox) -> Value {
    let state = sandbox.admin().zendesk_state();
    let clean = |list: &Value| -> Vec<Value> {
        let mut items: Vec<Value> = list.as_array().cloned().unwrap_or_default();
        for item in &mut items {
            if let Some(map) = item.as_object_mut() {
                for key in ["created_at", "updated_at", "url", "last_login_at"] {
                    map.remove(key);
                }
            }
        }
        items.sort_by_key(|i| i["id"].as_u64());
        items
    };
    serde_json::json!({
        "organizations": clean(&state["organizations"]),
        "users": clean(&state["users"]),
    })
}

/// The ids of the orgs carrying `salesforce_id`.
pub fn org_ids(state: &Value, salesforce_id: &str) -> Vec<u64> {
    state["organizations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["organization_fields"]["salesforce_id"] == salesforce_id)
                .filter_map(|o| o["id"].as_u64())
                .collect()
        })
        .unwrap_or_default()
}

/// The users of the state whose email is `email`, case-insensitively.
pub fn users<'a>(state: &'a Value, email: &str) -> Vec<&'a Value> {
    state["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|u| {
                    u["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The one user with `email`; panics (the test fails) if there is not exactly one.
pub fn user<'a>(state: &'a Value, email: &str) -> &'a Value {
    let found = users(state, email);
    assert_eq!(found.len(), 1, "exactly one user {email}: {found:?}");
    found[0]
}

/// A copy of the demo fixtures in a temp directory, with `edit` applied to each
/// Salesforce sObject file (`edit(sobject, records) -> records`).
pub fn fixtures_with(edit: impl Fn(&str, Value) -> Value) -> PathBuf {
    let from = sandbox::fixtures_dir();
    let to = temp_path("fixtures");
    copy_dir(&from, &to);
    let sf = to.join("salesforce");
    for entry in std::fs::read_dir(&sf).expect("salesforce seed dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let sobject = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let records: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            let edited = edit(&sobject, records);
            std::fs::write(&path, serde_json::to_string_pretty(&edited).expect("json"))
                .expect("write");
        }
    }
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
