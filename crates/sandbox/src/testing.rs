//! Test support for the binaries' end-to-end tests, kept here so the three test suites
//! share one copy: a fast demo sandbox, the environment that points a binary at a
//! sandbox, running a binary to the end (exit code, stdout, stderr, `--report` JSON,
//! the requests a sandbox received meanwhile), and readable views of the sandbox state.
//!
//! Not for production code: these helpers panic (failing the test) when a test's own
//! setup goes wrong, e.g. a binary that cannot be spawned.
// Test support only (behind the `testing` feature, used by dev-dependencies): a panic
// here is a failing test, which is what these helpers are for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::{
    Api, Fault, FaultPlan, FaultRule, Instance, RequestCounts, Sandbox, SandboxConfig, When,
};

/// How long a binary may run before the test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The demo seed of `instance` with millisecond jobs and a high rate limit.
pub fn demo(instance: Instance) -> SandboxConfig {
    SandboxConfig {
        instance,
        job_latency: Duration::from_millis(5),
        ..SandboxConfig::default_fixtures()
    }
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

/// The Salesforce client secret in [`env_for`]'s environment (never to be logged).
pub const CLIENT_SECRET: &str = "test-secret";
/// The Zendesk API token in [`env_for`]'s environment (never to be logged).
pub const API_TOKEN: &str = "test-token";

/// The environment that points a binary at a Salesforce and a Zendesk sandbox (the
/// client-credentials flow at the simulated My Domain, an API token for Zendesk).
pub fn env_for(salesforce: &Sandbox, zendesk: &Sandbox) -> Vec<(&'static str, String)> {
    vec![
        ("SFDC_CLIENT_ID", "test-client".to_string()),
        ("SFDC_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ("SFDC_LOGIN_URL", salesforce.salesforce_url().to_string()),
        ("ZD_URL", zendesk.zendesk_url().to_string()),
        ("ZD_EMAIL", "ops@example.com".to_string()),
        ("ZD_API_TOKEN", API_TOKEN.to_string()),
    ]
}

/// A fresh path in the temp directory, unique to this process and call; `what` ends
/// the file name (e.g. `report.json`).
pub fn temp_path(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "zd-sfdc-e2e-{}-{}-{what}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ))
}

/// A command for the binary at `bin` with `args`, exactly `env` in its environment
/// (nothing inherited), no stdin, killed when dropped.
pub fn command(bin: &str, args: &[&str], env: &[(&str, String)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// A finished run of a binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error (logs and the summary table).
    pub stderr: String,
    /// The `--report` JSON (`Null` when none was written).
    pub report: Value,
    /// Requests the counted sandbox received during the run (empty when none was
    /// counted).
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

    /// Zendesk requests to one endpoint (e.g. `POST /api/v2/users/create_many`).
    pub fn zendesk(&self, endpoint: &str) -> u64 {
        self.requests.zendesk.get(endpoint).copied().unwrap_or(0)
    }

    /// The report's `errors[]` entries of one kind.
    pub fn errors(&self, kind: &str) -> Vec<Value> {
        self.report_entries("errors", "kind", kind)
    }

    /// The report's `changes[]` entries with one action.
    pub fn changes(&self, action: &str) -> Vec<Value> {
        self.report_entries("changes", "action", action)
    }

    fn report_entries(&self, list: &str, key: &str, value: &str) -> Vec<Value> {
        self.report[list]
            .as_array()
            .map(|a| a.iter().filter(|e| e[key] == value).cloned().collect())
            .unwrap_or_default()
    }
}

/// Runs the binary at `bin` to the end with `args` followed by `--report FILE`, and
/// exactly `env`; reads the report back. With `counted`, also records the requests
/// that sandbox received during the run. Fails the test after [`RUN_TIMEOUT`].
pub async fn run_binary(
    bin: &str,
    args: &[&str],
    env: &[(&str, String)],
    counted: Option<&Sandbox>,
) -> Run {
    let before = counted.map(|s| s.admin().request_counts());
    let path = temp_path("report.json");
    let path_arg = path.display().to_string();
    let mut all = args.to_vec();
    all.extend(["--report", &path_arg]);
    let output = tokio::time::timeout(RUN_TIMEOUT, command(bin, &all, env).output())
        .await
        .unwrap_or_else(|_| panic!("{bin} finishes within {RUN_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("{bin} runs: {e}"));
    let report = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_file(&path);
    let requests = match (counted, before) {
        (Some(sandbox), Some(before)) => delta(&before, &sandbox.admin().request_counts()),
        _ => RequestCounts::default(),
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report,
        requests,
    }
}

/// What `after` counts beyond `before`, endpoints with nothing new left out.
fn delta(before: &RequestCounts, after: &RequestCounts) -> RequestCounts {
    let diff = |b: &BTreeMap<String, u64>, a: &BTreeMap<String, u64>| {
        a.iter()
            .map(|(k, v)| (k.clone(), v.saturating_sub(b.get(k).copied().unwrap_or(0))))
            .filter(|(_, v)| *v > 0)
            .collect()
    };
    RequestCounts {
        zendesk: diff(&before.zendesk, &after.zendesk),
        salesforce: diff(&before.salesforce, &after.salesforce),
    }
}

/// The Zendesk organizations and users, sorted by id, with volatile keys
/// (`created_at`, `updated_at`, `url`, `last_login_at`) dropped: stable for snapshots.
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

/// A copy of the demo fixtures in a temp directory, with `edit` applied to each
/// Salesforce sObject file (`edit(sobject, records) -> records`).
pub fn fixtures_with(edit: impl Fn(&str, Value) -> Value) -> PathBuf {
    let to = temp_path("fixtures");
    copy_dir(&crate::fixtures_dir(), &to);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_keeps_only_what_grew() {
        let counts = |zd: &[(&str, u64)], sf: &[(&str, u64)]| RequestCounts {
            zendesk: zd.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            salesforce: sf.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        };
        let before = counts(&[("GET /api/v2/organizations", 2)], &[("query", 1)]);
        let after = counts(
            &[
                ("GET /api/v2/organizations", 2),
                ("POST /api/v2/organizations/create_many", 1),
            ],
            &[("query", 3)],
        );
        assert_eq!(
            delta(&before, &after),
            counts(
                &[("POST /api/v2/organizations/create_many", 1)],
                &[("query", 2)]
            )
        );
    }

    #[test]
    fn run_reads_writes_and_entries_of_the_report() {
        let run = Run {
            code: 0,
            stdout: String::new(),
            stderr: String::new(),
            report: serde_json::json!({
                "errors": [{"kind": "unknown_tier"}, {"kind": "org_create_failed"}],
                "changes": [{"action": "create_org"}, {"action": "update_org"}],
            }),
            requests: RequestCounts {
                zendesk: [
                    ("GET /api/v2/users".to_string(), 4),
                    ("PUT /api/v2/users/1".to_string(), 1),
                ]
                .into_iter()
                .collect(),
                salesforce: BTreeMap::new(),
            },
        };
        assert_eq!(run.errors("unknown_tier").len(), 1);
        assert_eq!(
            run.changes("update_org"),
            vec![serde_json::json!({"action": "update_org"})]
        );
        assert_eq!(run.zendesk("GET /api/v2/users"), 4);
        assert_eq!(
            run.zendesk_writes().into_iter().collect::<Vec<_>>(),
            vec![("PUT /api/v2/users/1".to_string(), 1)]
        );
    }
}
