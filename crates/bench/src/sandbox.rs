//! The standalone sandbox (`zd-sfdc-sandbox serve`) as a separate process, so that its
//! memory and CPU are never counted as the job's; its admin endpoints for request
//! counts and state.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// Which Zendesk data set the sandbox serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Instance {
    /// `--instance global`.
    Global,
    /// `--instance us-federal`.
    UsFederal,
}

impl Instance {
    fn arg(self) -> &'static str {
        match self {
            Instance::Global => "global",
            Instance::UsFederal => "us-federal",
        }
    }

    /// The sync-core instance.
    pub fn core(self) -> sync_core::Instance {
        match self {
            Instance::Global => sync_core::Instance::Global,
            Instance::UsFederal => sync_core::Instance::UsFederal,
        }
    }
}

/// How to start one sandbox.
#[derive(Debug, Clone)]
pub struct Serve {
    /// Generated accounts.
    pub accounts: usize,
    /// Data set.
    pub instance: Instance,
    /// Zendesk requests per minute.
    pub rate_limit: u32,
    /// Zendesk job latency.
    pub job_latency_ms: u64,
    /// The day the data is dated relative to.
    pub today: String,
    /// Generator seed.
    pub seed: u64,
}

/// The scenario-data flags the harness passes to `zd-sfdc-sandbox serve` when that
/// binary has them (its `--help` names them): the users in play for the sold-to step
/// (issue 13: "a Zendesk with sold-to emails in play and existing users"). The ONE place
/// to add such flags: a flag alone (`None`) or with a value, where `{accounts}` is
/// replaced by the size and `X*K` multiplied out. Flags the binary lacks are left out
/// and named in the report.
pub const OPTIONAL_SERVE_ARGS: &[(&str, Option<&str>)] = &[
    // Sold-to emails in play: end-users in their org, in no org or another one, deleted
    // users, recently created orgs.
    ("--sold-to-users", None),
    // End-users unrelated to Salesforce, to size a user scan: twice the accounts (the
    // issue's "never scans 200,000 users" at 100k).
    ("--users", Some("{accounts}*2")),
];

/// The optional flags `zd-sfdc-sandbox serve --help` knows (`present`) and not (`absent`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct OptionalArgs {
    /// Passed.
    pub present: Vec<String>,
    /// Left out: this sandbox does not have them.
    pub absent: Vec<String>,
}

/// Reads `serve --help` once and sorts [`OPTIONAL_SERVE_ARGS`] by presence.
pub fn probe_optional_args(sandbox_bin: &Path) -> anyhow::Result<OptionalArgs> {
    let out = Command::new(sandbox_bin)
        .args(["serve", "--help"])
        .output()
        .with_context(|| format!("cannot run {} serve --help", sandbox_bin.display()))?;
    let help = String::from_utf8_lossy(&out.stdout);
    let mut found = OptionalArgs::default();
    for (flag, _) in OPTIONAL_SERVE_ARGS {
        let known = help
            .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == '<')
            .any(|word| word == *flag);
        if known {
            found.present.push((*flag).to_string());
        } else {
            found.absent.push((*flag).to_string());
        }
    }
    Ok(found)
}

/// The value of an optional flag for a sandbox of `accounts` accounts: `{accounts}`
/// replaced, and `X*K` multiplied out.
fn optional_value(template: &str, accounts: usize) -> String {
    let text = template.replace("{accounts}", &accounts.to_string());
    match text.split_once('*') {
        Some((a, b)) => match (a.trim().parse::<usize>(), b.trim().parse::<usize>()) {
            (Ok(a), Ok(b)) => (a * b).to_string(),
            _ => text,
        },
        None => text,
    }
}

/// The `serve` arguments for `serve`: the fixed ones, the optional flags present, and
/// the user's `--sandbox-arg`s.
pub fn serve_args(serve: &Serve, optional: &OptionalArgs, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--accounts".into(),
        serve.accounts.to_string(),
        "--instance".into(),
        serve.instance.arg().into(),
        "--rate-limit".into(),
        serve.rate_limit.to_string(),
        "--job-latency-ms".into(),
        serve.job_latency_ms.to_string(),
        "--today".into(),
        serve.today.clone(),
        "--seed".into(),
        serve.seed.to_string(),
    ];
    for (flag, template) in OPTIONAL_SERVE_ARGS {
        if optional.present.iter().any(|p| p == flag) {
            args.push((*flag).to_string());
            if let Some(template) = template {
                args.push(optional_value(template, serve.accounts));
            }
        }
    }
    args.extend(extra.iter().cloned());
    args
}

/// A running `zd-sfdc-sandbox serve`; killed when dropped.
pub struct SandboxProcess {
    child: Child,
    /// Simulated Salesforce base URL.
    pub salesforce: String,
    /// Simulated Zendesk base URL (admin endpoints under `/__admin`).
    pub zendesk: String,
    /// How long it took to generate the data and bind (spawn → first stdout line).
    pub startup: Duration,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Urls {
    salesforce: String,
    zendesk: String,
}

/// Requests received per endpoint key, as `GET /__admin/requests` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Zendesk, e.g. `"GET /api/v2/organizations": 3`.
    #[serde(default)]
    pub zendesk: BTreeMap<String, u64>,
    /// Salesforce, e.g. `"GET query": 2`.
    #[serde(default)]
    pub salesforce: BTreeMap<String, u64>,
}

impl RequestCounts {
    /// What `after` counts beyond `self`, endpoints with nothing new left out.
    pub fn delta(&self, after: &RequestCounts) -> RequestCounts {
        let diff = |b: &BTreeMap<String, u64>, a: &BTreeMap<String, u64>| {
            a.iter()
                .map(|(k, v)| (k.clone(), v.saturating_sub(b.get(k).copied().unwrap_or(0))))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        RequestCounts {
            zendesk: diff(&self.zendesk, &after.zendesk),
            salesforce: diff(&self.salesforce, &after.salesforce),
        }
    }
}

impl SandboxProcess {
    /// Starts `bin` with `args` and waits (up to `timeout`) for its first stdout line.
    pub fn start(
        bin: &Path,
        args: &[String],
        log: PathBuf,
        timeout: Duration,
    ) -> anyhow::Result<SandboxProcess> {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let stdout = child
            .stdout
            .take()
            .context("the sandbox's stdout is not piped")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let read = reader.read_line(&mut first).map(|_| first);
            let _ = tx.send(read);
            // Keep draining so the sandbox never blocks on a full pipe.
            let mut rest = String::new();
            while matches!(reader.read_line(&mut rest), Ok(n) if n > 0) {
                rest.clear();
            }
        });
        let line = match rx.recv_timeout(timeout) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let why = match other {
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => format!("no line within {timeout:?}"),
                    Ok(Ok(_)) => "it exited".to_string(),
                };
                anyhow::bail!(
                    "the sandbox did not start ({why}); its log: {}",
                    log.display()
                );
            }
        };
        let urls: Urls = serde_json::from_str(line.trim())
            .with_context(|| format!("the sandbox's first line is not its URLs: {line}"))?;
        Ok(SandboxProcess {
            child,
            salesforce: urls.salesforce,
            zendesk: urls.zendesk,
            startup: started.elapsed(),
            http: reqwest::Client::new(),
        })
    }

    async fn admin_get(&self, what: &str) -> anyhow::Result<reqwest::Response> {
        let url = format!("{}/__admin/{what}", self.zendesk);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        anyhow::ensure!(
            resp.status().is_success(),
            "GET {url} answered {}",
            resp.status()
        );
        Ok(resp)
    }

    /// Requests received so far by both APIs.
    pub async fn request_counts(&self) -> anyhow::Result<RequestCounts> {
        Ok(self.admin_get("requests").await?.json().await?)
    }

    /// The whole state dump (`zendesk` and `salesforce`).
    pub async fn state(&self) -> anyhow::Result<serde_json::Value> {
        Ok(self.admin_get("state").await?.json().await?)
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_flags_are_passed_only_when_present() {
        let serve = Serve {
            accounts: 1000,
            instance: Instance::Global,
            rate_limit: 700,
            job_latency_ms: 20,
            today: "2026-12-05".into(),
            seed: 7,
        };
        let none = serve_args(&serve, &OptionalArgs::default(), &[]);
        assert!(!none.iter().any(|a| a == "--users"));
        let some = serve_args(
            &serve,
            &OptionalArgs {
                present: vec!["--users".into(), "--sold-to-users".into()],
                absent: Vec::new(),
            },
            &["--fault-seed".into(), "3".into()],
        );
        let at = some.iter().position(|a| a == "--users");
        assert_eq!(
            at.and_then(|i| some.get(i + 1)).map(String::as_str),
            Some("2000")
        );
        assert!(some.iter().any(|a| a == "--sold-to-users"));
        assert_eq!(some.last().map(String::as_str), Some("3"));
    }
}
