//! Bad input (issue 16) end to end: every environment set, flag, mapping file and
//! report path of `fixtures/bad/` (and a few made here) stops the run with exit 2
//! before any request, naming the variable, flag or file; every bad Zendesk or
//! Salesforce answer of the corpus, served by httpmock in place of the real one, ends
//! the run with its exit code, naming the endpoint, never with a panic and never after
//! a write.

use std::path::{Path, PathBuf};

use httpmock::prelude::*;
use sandbox::testing;
use serde_json::Value;

use crate::common;

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bad")
}

/// The corpus files of `dir` ending in `ext`, sorted.
fn corpus(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bad_dir().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    files.sort();
    files
}

/// A finished run of the binary with exactly `args` and `env`.
struct Raw {
    code: i32,
    stderr: String,
    /// Requests the sandbox received meanwhile (both APIs).
    requests: u64,
}

async fn run_raw(sandbox: &sandbox::Sandbox, env: &[(&'static str, String)], args: &[&str]) -> Raw {
    let total = |s: &sandbox::Sandbox| {
        let c = s.admin().request_counts();
        c.zendesk_total() + c.salesforce.values().sum::<u64>()
    };
    let before = total(sandbox);
    let mut all_env = vec![("RUST_LOG", "warn".to_string())];
    all_env.extend(env.iter().cloned());
    let output = tokio::time::timeout(
        testing::RUN_TIMEOUT,
        testing::command(env!("CARGO_BIN_EXE_zd-sfdc-sync-global"), args, &all_env).output(),
    )
    .await
    .expect("the run finishes")
    .expect("the binary runs");
    Raw {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        requests: total(sandbox) - before,
    }
}

fn assert_clean_refusal(what: &str, run: &Raw, expect: &[String]) {
    assert_eq!(run.code, 2, "{what}: stderr: {}", run.stderr);
    assert_eq!(run.requests, 0, "{what}: a request was sent");
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    for needle in expect {
        assert!(
            run.stderr.contains(needle.as_str()),
            "{what}: {needle:?} not in {}",
            run.stderr
        );
    }
}

/// `KEY=VALUE` (with `\n` for a newline) and `# expect: TEXT` lines.
fn read_env_case(path: &Path) -> (Vec<(String, String)>, Vec<String>) {
    let text = std::fs::read_to_string(path).expect("read env case");
    let mut vars = Vec::new();
    let mut expect = Vec::new();
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("# expect: ") {
            expect.push(e.to_string());
        } else if let Some((k, v)) = line.split_once('=') {
            vars.push((k.to_string(), v.replace("\\n", "\n")));
        }
    }
    (vars, expect)
}

#[tokio::test]
async fn every_bad_environment_set_exits_2_naming_the_variable_before_any_request() {
    let sandbox = common::start(common::demo()).await;
    let files = corpus("env", ".env");
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        let (vars, expect) = read_env_case(&path);
        let mut env = common::sandbox_env(&sandbox);
        for (k, v) in vars {
            env.retain(|(name, _)| *name != k);
            if !v.is_empty() {
                // Leaked: the names live for the whole test.
                env.push((Box::leak(k.into_boxed_str()), v));
            }
        }
        let run = run_raw(&sandbox, &env, &["--today", common::TODAY]).await;
        assert_clean_refusal(&path.display().to_string(), &run, &expect);
        assert!(
            !run.stderr.contains(testing::CLIENT_SECRET),
            "a secret in {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn bad_flags_exit_2_naming_the_flag_before_any_request() {
    let sandbox = common::start(common::demo()).await;
    let env = common::sandbox_env(&sandbox);
    let dir = testing::temp_path("report-dir");
    std::fs::create_dir_all(&dir).expect("dir");
    let dir_arg = dir.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--today=-9999-01-01"], "--today"),
        (vec!["--today", "+10000-01-01"], "--today"),
        (vec!["--today", "2025-02-30"], "--today"),
        (vec!["--today", "1969-12-31"], "outside the dates"),
        (vec!["--today", ""], "--today"),
        (vec!["--max-deletions=-1"], "--max-deletions"),
        (
            vec!["--max-deletions", "99999999999999999999999"],
            "--max-deletions",
        ),
        (vec!["--max-update-ratio", "NaN"], "--max-update-ratio"),
        (vec!["--zd-rate-limit", "0"], "--zd-rate-limit"),
        (vec!["--zd-rate-limit", "5000000000"], "--zd-rate-limit"),
        (vec!["--sandbox-accounts", "10"], "--sandbox"),
        (vec!["--log-format", "xml"], "--log-format"),
        (
            vec!["--mapping", "/nonexistent/mapping.toml"],
            "/nonexistent/mapping.toml",
        ),
        (
            vec!["--report", "/nonexistent/dir/report.json"],
            "--report /nonexistent/dir/report.json",
        ),
        (vec!["--report-md", &dir_arg], "--report-md"),
        (vec!["--no-such-flag"], "--no-such-flag"),
    ];
    for (args, needle) in cases {
        let mut all = vec!["--today", common::TODAY];
        if args.iter().any(|a| a.starts_with("--today")) {
            all.clear();
        }
        all.extend(args.iter().copied());
        let run = run_raw(&sandbox, &env, &all).await;
        assert_clean_refusal(&format!("{args:?}"), &run, &[needle.to_string()]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_bad_mapping_file_exits_2_naming_the_file_before_any_request() {
    let sandbox = common::start(common::demo()).await;
    let env = common::sandbox_env(&sandbox);
    let huge = testing::temp_path("huge-mapping.toml");
    let mut text = include_str!("../../../../crates/sync-core/mappings/global.toml").to_string();
    while text.len() < 4 * 1024 * 1024 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&huge, text).expect("write");
    let mut files = corpus("mapping", ".toml");
    assert!(files.len() >= 6, "{files:?}");
    files.push(huge.clone());
    for path in files {
        let expect = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("# expect: ").map(str::to_string))
            })
            .unwrap_or_else(|| "too large".to_string());
        let arg = path.display().to_string();
        let run = run_raw(
            &sandbox,
            &env,
            &["--today", common::TODAY, "--mapping", &arg],
        )
        .await;
        assert_clean_refusal(&arg, &run, &[arg.clone(), expect]);
    }
    let _ = std::fs::remove_file(&huge);
}

/// One corpus answer: served for its endpoint by `server`.
struct Answer {
    name: String,
    method: String,
    path: String,
    status: u16,
    content_type: String,
    body: String,
    exit: i32,
    expect: Vec<String>,
}

fn answers(dir: &str) -> Vec<Answer> {
    corpus(dir, ".json")
        .into_iter()
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).expect("read"))
                .expect("answer JSON");
            let endpoint = v["endpoint"].as_str().unwrap_or_default();
            let (method, path) = endpoint.split_once(' ').expect("METHOD /path");
            Answer {
                name: p.display().to_string(),
                method: method.to_string(),
                path: path.to_string(),
                status: v["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .expect("status"),
                content_type: v["content_type"].as_str().unwrap_or_default().to_string(),
                body: v["body"].as_str().unwrap_or_default().to_string(),
                exit: v["exit"]
                    .as_i64()
                    .and_then(|c| i32::try_from(c).ok())
                    .expect("exit"),
                expect: v["expect"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn serve(server: &MockServer, answer: &Answer) {
    let method = if answer.method == "GET" { GET } else { POST };
    server.mock(|when, then| {
        when.method(method).path_prefix(answer.path.as_str());
        then.status(answer.status)
            .header("content-type", answer.content_type.as_str())
            .body(answer.body.as_str());
    });
}

fn check_answer_run(answer: &Answer, run: &testing::Run) {
    let what = &answer.name;
    assert_eq!(run.code, answer.exit, "{what}: stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    for needle in &answer.expect {
        assert!(
            run.stderr.contains(needle.as_str()),
            "{what}: {needle:?} not in {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn every_bad_zendesk_answer_ends_the_run_naming_the_endpoint_with_nothing_written() {
    let sandbox = common::start(common::demo()).await;
    let fields = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/sandbox/zendesk/global/organization_fields.json"),
    )
    .expect("fields fixture");
    let all = answers("zendesk");
    assert!(all.len() >= 10);
    for answer in all {
        let server = MockServer::start_async().await;
        serve(&server, &answer);
        if answer.path != "/api/v2/organization_fields" {
            server.mock(|when, then| {
                when.method(GET).path_prefix("/api/v2/organization_fields");
                then.status(200)
                    .header("content-type", "application/json")
                    .body(fields.as_str());
            });
        }
        let mut env = common::sandbox_env(&sandbox);
        env.retain(|(k, _)| *k != "ZD_URL");
        env.push(("ZD_URL", server.base_url()));
        let run = common::run_with_env(&sandbox, env, &[]).await;
        check_answer_run(&answer, &run);
        // The mock took no write: everything it received was a GET.
        assert!(
            run.requests
                .salesforce
                .keys()
                .all(|k| !k.contains("sobjects")),
            "{}",
            answer.name
        );
    }
}

#[tokio::test]
async fn every_bad_salesforce_answer_ends_the_run_naming_it_with_nothing_written() {
    let sandbox = common::start(common::demo()).await;
    let all = answers("salesforce/answers");
    assert!(all.len() >= 5);
    for answer in all {
        let server = MockServer::start_async().await;
        serve(&server, &answer);
        let mut env: Vec<(&'static str, String)> = common::sandbox_env(&sandbox)
            .into_iter()
            .filter(|(k, _)| k.starts_with("ZD_"))
            .collect();
        env.push(("SFDC_ACCESS_TOKEN", "00Dbad!token".to_string()));
        env.push(("SFDC_INSTANCE_URL", server.base_url()));
        let run = common::run_with_env(&sandbox, env, &[]).await;
        check_answer_run(&answer, &run);
        assert!(
            run.zendesk_writes().is_empty(),
            "{}: {:?}",
            answer.name,
            run.zendesk_writes()
        );
    }
}
