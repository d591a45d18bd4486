//! Shared setup: start a sandbox, run the binary against it, read its report, and look
//! at the sandbox's state and request counts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sandbox::{Api, Fault, FaultPlan, FaultRule, RequestCounts, Sandbox, SandboxConfig, When};
use serde_json::Value;

/// The run's date in every test: the demo seed is dated relative to it.
pub const TODAY: &str = "2026-11-25";

/// The demo seed with millisecond jobs and a high rate limit.
pub fn demo() -> SandboxConfig {
    SandboxConfig {
        job_latency: Duration::from_millis(5),
        ..SandboxConfig::default_fixtures()
    }
}

/// A generated data set of `accounts` accounts, dated relative to [`TODAY`].
pub fn generated(accounts: usize) -> SandboxConfig {
    SandboxConfig {
        seed: sandbox::Seed::Generated {
            accounts,
            seed: 7,
            today: sync_today(),
        },
        ..demo()
    }
}

pub fn sync_today() -> time::Date {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(TODAY, &format).expect("test date")
}

pub async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// One fault rule on one Zendesk endpoint (e.g. `POST /api/v2/organizations/create_many`).
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
    pub stdout: String,
    pub stderr: String,
    /// The `--report` JSON (`Null` when none was written).
    pub report: Value,
    /// Requests the sandbox received during this run.
    pub requests: RequestCounts,
}

impl Run {
    /// Zendesk write requests (POST, PUT, DELETE) by endpoint.
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
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn report_path() -> PathBuf {
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!(
        "zd-sfdc-sync-global-e2e-{}-{n}.json",
        std::process::id()
    ))
}

/// The environment pointing the binary at the sandbox (client-credentials flow at the
/// simulated My Domain, API token for Zendesk). Nothing else is inherited.
pub fn sandbox_env(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
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
    run_with_env(sandbox, sandbox_env(sandbox), args).await
}

/// Runs the binary with exactly `env` (nothing inherited) and `args`.
pub async fn run_with_env(
    sandbox: &Sandbox,
    env: Vec<(&'static str, String)>,
    args: &[&str],
) -> Run {
    let before = sandbox.admin().request_counts();
    let path = report_path();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sync-global"))
        .env_clear()
        .env("RUST_LOG", "warn")
        .envs(env)
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
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
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

/// The Zendesk organizations and users, sorted, with volatile timestamps dropped.
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

/// The orgs of the state carrying `salesforce_id`.
pub fn orgs_with_salesforce_id<'a>(state: &'a Value, salesforce_id: &str) -> Vec<&'a Value> {
    state["organizations"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["organization_fields"]["salesforce_id"] == salesforce_id)
                .collect()
        })
        .unwrap_or_default()
}

/// A user of the state by email.
pub fn user<'a>(state: &'a Value, email: &str) -> Option<&'a Value> {
    state["users"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["email"] == email))
}
