//! The standalone `zd-sfdc-sandbox serve` flags added for issues 13 and 16 do what they
//! say, over HTTP: a generated seed with sold-to users and extra end-users, the
//! incremental limit switched off, the [UNCONFIRMED]-shape switches, and a short-form
//! fault rule.

use std::io::BufRead as _;

use serde_json::{json, Value};

struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> (Served, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sandbox"))
        .arg("serve")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    (Served(child), urls["zendesk"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn serve_flags_for_scans_quirks_and_faults_take_effect() {
    let (_child, base) = serve(&[
        "--accounts",
        "600",
        "--today",
        "2026-11-25",
        "--sold-to-users",
        "--users",
        "30",
        "--incremental-rate-limit",
        "0",
        "--user-403",
        "no-permission",
        "--destroy-many-results",
        "success-object",
        "--fault",
        "zendesk:429=2@#1 GET /api/v2/users/count",
    ]);
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{base}{path}")).send();

    let first = get("/api/v2/users/count?role=end-user").await.unwrap();
    assert_eq!(
        first.status(),
        429,
        "the short-form fault fires on the first count"
    );
    assert_eq!(first.headers()["retry-after"], "2");
    let count: Value = get("/api/v2/users/count?role=end-user")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(count["count"]["value"].as_u64().unwrap() >= 30, "{count}");
    let state: Value = get("/__admin/state").await.unwrap().json().await.unwrap();
    let unrelated = state["zendesk"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"].as_str().unwrap_or("").contains("@unrelated"))
        .count();
    assert_eq!(unrelated, 30);
    let deleted: Value = get("/api/v2/deleted_users?page[size]=100")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!deleted["deleted_users"].as_array().unwrap().is_empty());

    for _ in 0..12 {
        let status = get("/api/v2/incremental/tickets/cursor.json?start_time=0")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "no incremental limit with 0");
    }

    let refused = http
        .post(format!("{base}/api/v2/users/create_or_update"))
        .json(&json!({"user": {"name": "N", "email": "n@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let quirks: Value = get("/__admin/zendesk/quirks")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quirks["destroy_many_results"], "success_object");
    assert_eq!(quirks["user_403"], "no_permission");
    assert_eq!(quirks["job_limit_answer"], "too_many_jobs");
}

#[test]
fn serve_refuses_a_bad_fault_rule_and_a_zero_hold() {
    for args in [
        &["serve", "--fault", "zendesk:418@5%"][..],
        &["serve", "--hold-write", "0"][..],
        &["serve", "--users", "10"][..],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sandbox"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
