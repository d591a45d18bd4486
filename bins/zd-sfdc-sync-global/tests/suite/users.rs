//! Sold-to users at scale (docs/behaviour.md §6, §9): per-email recovery, bounded user reads (lookups
//! or one scan, counted), reads before writes, outcomes confirmed by lookup, and the 403
//! probe on `users/create_many`.

use std::path::{Path, PathBuf};

use sandbox::{Fault, FaultPlan, HoldWrite, Quirks, SandboxConfig, Seed, When};
use serde_json::{json, Value};

use crate::common::{self, orgs_with_salesforce_id, user};

const GLOBEX: &str = "0018SDEMO000002QPA";
const GONE: &str = "gone@globex.example.com";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    edit(&mut v);
    std::fs::write(path, v.to_string()).expect("write");
}

/// The demo fixtures, where Globex (a new org in the first run) has three valid sold-to
/// emails (`ap@`, `ap2@`, `ap3@`) and a fourth, `gone@`, that a deleted Zendesk user
/// has; plus `extra_users` unrelated end-users (to make a scan dear).
fn fixtures(extra_users: u64) -> PathBuf {
    let dir = sandbox::testing::temp_path("fixtures");
    copy_dir(&sandbox::fixtures_dir(), &dir);
    edit_json(
        &dir.join("salesforce/Zuora__CustomerAccount__c.json"),
        |v| {
            let list = v.as_array_mut().expect("billing accounts");
            for (n, email) in [
                (91, "ap2@globex.example.com"),
                (92, "ap3@globex.example.com"),
                (93, GONE),
            ] {
                list.push(json!({
                    "Id": format!("a0D8SDEMO0000{n}UPA"),
                    "Name": format!("Globex Billing {n}"),
                    "Zuora__Account__c": GLOBEX,
                    "Zuora__SoldToWorkEmail__c": email,
                }));
            }
        },
    );
    let zendesk = dir.join("zendesk/global");
    edit_json(&zendesk.join("users.json"), |v| {
        let users = v["users"].as_array_mut().expect("users");
        for n in 0..extra_users {
            users.push(json!({
                "id": 990_000_000 + n, "name": format!("Unrelated {n}"),
                "email": format!("unrelated{n}@elsewhere.example"), "role": "end-user",
                "organization_id": null, "created_at": "2024-06-01T10:00:00Z",
                "updated_at": "2024-06-01T10:00:00Z", "active": true, "tags": [], "user_fields": {}
            }));
        }
    });
    std::fs::write(
        zendesk.join("deleted_users.json"),
        json!({"deleted_users": [{
            "id": 980_000_001, "name": "Removed On Purpose", "email": GONE, "role": "end-user",
            "organization_id": null, "created_at": "2024-06-01T10:00:00Z",
            "updated_at": "2024-06-02T10:00:00Z", "active": false, "tags": [], "user_fields": {}
        }]})
        .to_string(),
    )
    .expect("deleted users");
    dir
}

fn config(extra_users: u64) -> SandboxConfig {
    SandboxConfig {
        seed: Seed::Fixtures(fixtures(extra_users)),
        ..common::demo()
    }
}

fn globex_users(state: &Value) -> Vec<String> {
    let globex = orgs_with_salesforce_id(state, GLOBEX)[0]["id"].clone();
    let mut emails: Vec<String> = state["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|u| u["organization_id"] == globex)
                .filter_map(|u| u["email"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    emails.sort();
    emails
}

/// docs/behaviour.md §6: a failed row for one of Globex's three sold-to emails fails that run; the
/// next run creates that one user (Globex still counts as new), the other two untouched;
/// the deleted user's email is never created again; the run after writes nothing.
#[tokio::test]
async fn a_failed_row_for_one_of_three_emails_is_created_by_the_next_run() {
    let sandbox = common::start(config(0)).await;
    sandbox.admin().set_faults(common::zendesk_fault(
        Fault::FailJobRow,
        When::Nth(2),
        "POST /api/v2/users/create_many",
    ));
    let first = common::run(&sandbox, &[]).await;
    assert_eq!(first.code, 1, "stderr: {}", first.stderr);
    let failed = first.errors("user_create_failed");
    assert_eq!(failed.len(), 1, "{}", first.report["errors"]);
    let lost = failed[0]["email"].as_str().expect("email").to_string();
    assert!(lost.ends_with("@globex.example.com"), "{lost}");
    let after_first = globex_users(&common::zendesk_state(&sandbox));
    assert_eq!(after_first.len(), 2, "{after_first:?}");
    assert!(!after_first.contains(&lost));
    assert_eq!(first.errors("deleted_user_not_recreated").len(), 1);

    sandbox.admin().set_faults(FaultPlan::default());
    let next = common::run(&sandbox, &[]).await;
    assert_eq!(next.code, 0, "stderr: {}", next.stderr);
    assert_eq!(next.report["organizations"]["create"], 0);
    assert_eq!(next.report["users"]["create"], 1);
    assert_eq!(next.report["users"]["update"], 0);
    let created: Vec<Value> = next.changes("create_user");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["email"], lost.as_str());
    assert_eq!(next.zendesk("PUT /api/v2/users/update_many"), 0);
    let mut expected = after_first.clone();
    expected.push(lost.clone());
    expected.sort();
    assert_eq!(globex_users(&common::zendesk_state(&sandbox)), expected);
    assert!(user(&common::zendesk_state(&sandbox), GONE).is_none());
    assert_eq!(next.errors("deleted_user_not_recreated").len(), 1);

    let last = common::run(&sandbox, &[]).await;
    assert_eq!(last.code, 0, "stderr: {}", last.stderr);
    assert!(
        last.zendesk_writes().is_empty(),
        "{:?}",
        last.zendesk_writes()
    );
}

/// docs/behaviour.md §6: few emails in play against many users → one lookup per email, no scan;
/// many emails → one scan (cursor pages of 100), no lookup.
#[tokio::test]
async fn few_emails_are_looked_up_many_are_scanned() {
    // Globex's four emails and three others, against 1,000 unrelated users (11 pages).
    let sandbox = common::start(config(1_000)).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        run.zendesk("GET /api/v2/users"),
        0,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(run.zendesk("GET /api/v2/users/count"), 1);
    let searches = run.zendesk("GET /api/v2/users/search");
    assert!((5..=10).contains(&searches), "{:?}", run.requests.zendesk);
    assert_eq!(run.zendesk("GET /api/v2/deleted_users"), 1);

    // A generated data set: hundreds of sold-to emails in play, one scan of every user.
    let mut config = common::generated(600);
    config.sold_to_users = true;
    let sandbox = common::start(config).await;
    let users = common::zendesk_state(&sandbox)["users"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0) as u64;
    let run = common::run(&sandbox, &["--allow-mass-changes"]).await;
    assert!(run.code <= 1, "stderr: {}", run.stderr);
    assert_eq!(
        run.zendesk("GET /api/v2/users/search"),
        0,
        "{:?}",
        run.requests.zendesk
    );
    assert_eq!(
        run.zendesk("GET /api/v2/users"),
        users.div_ceil(100).max(1),
        "{users} users: {:?}",
        run.requests.zendesk
    );
    assert_eq!(run.zendesk("GET /api/v2/organizations/{id}/users"), 0);
    assert!(
        run.report["users"]["create"].as_u64() > Some(50),
        "{}",
        run.report["users"]
    );
}

/// docs/behaviour.md §5: the users that decide the sold-to writes are read before the first write:
/// Zendesk refusing that read stops the run with exit 4 and nothing written.
#[tokio::test]
async fn a_zendesk_failure_while_reading_users_exits_4_with_nothing_written() {
    for (extra, endpoint) in [
        (0, "GET /api/v2/users"),
        (1_000, "GET /api/v2/users/search"),
    ] {
        let sandbox = common::start(config(extra)).await;
        let before = common::zendesk_state(&sandbox);
        sandbox.admin().set_faults(common::zendesk_fault(
            Fault::ServerError { status: 401 },
            When::Always,
            endpoint,
        ));
        let run = common::run(&sandbox, &[]).await;
        assert_eq!(run.code, 4, "{endpoint}: {}", run.stderr);
        let hit: u64 = run
            .requests
            .zendesk
            .iter()
            .filter(|(k, _)| k.starts_with(endpoint))
            .map(|(_, n)| n)
            .sum();
        assert!(hit > 0, "{:?}", run.requests.zendesk);
        assert!(
            run.zendesk_writes().is_empty(),
            "{:?}",
            run.zendesk_writes()
        );
        assert_eq!(common::zendesk_state(&sandbox), before);
        assert_eq!(run.report["organizations"]["create"], 0, "{}", run.report);
        assert_eq!(run.report["changes"], json!([]), "{}", run.report);
        assert!(
            !run.errors("not_attempted").is_empty(),
            "{}",
            run.report["errors"]
        );
        assert_eq!(
            run.errors("run_stopped").len(),
            1,
            "{}",
            run.report["errors"]
        );
        // The org plan, none of it written, is under `planned`.
        let planned = &run.report["planned"];
        assert!(
            planned["organizations"]["create"].as_u64() > Some(0),
            "{}",
            run.report
        );
        assert!(
            planned["changes"].as_array().is_some_and(|c| !c.is_empty()),
            "{}",
            run.report
        );
    }
}

/// docs/behaviour.md §9: a create refused in another wording (`RecordInvalid`, "has already been
/// taken") is looked up by email: a user that appeared meanwhile with no org is put in
/// the new org, and nothing is reported failed.
#[tokio::test]
async fn a_duplicate_email_row_in_another_wording_is_resolved_by_lookup() {
    let mut config = config(0);
    config.zendesk_quirks = Quirks {
        duplicate_email_row: sandbox::DuplicateEmailRow::AlreadyTaken,
        ..Quirks::default()
    };
    // Hold the first org write: the users have been read by then.
    config.hold_write = Some(HoldWrite {
        nth: 1,
        endpoint: Some("POST /api/v2/organizations/create_many".into()),
    });
    let sandbox = common::start(config).await;
    let url = sandbox.zendesk_url().to_string();
    let (run, ()) = tokio::join!(common::run(&sandbox, &[]), async {
        let held = sandbox
            .admin()
            .wait_for_held_write(std::time::Duration::from_secs(60))
            .await;
        assert!(held.is_some(), "no write held");
        post_user(&url, "ap2@globex.example.com").await;
        sandbox.admin().release_held_write(true);
    });
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(
        run.errors("user_create_failed").is_empty(),
        "{}",
        run.report["errors"]
    );
    let state = common::zendesk_state(&sandbox);
    assert!(globex_users(&state).contains(&"ap2@globex.example.com".to_string()));
    let copies = state["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|u| u["email"] == "ap2@globex.example.com")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(copies, 1);
    assert_eq!(run.report["users"]["create"], 2, "{}", run.report["users"]);
    assert_eq!(
        run.report["users"]["update"].as_u64(),
        Some(2),
        "{}",
        run.report["users"]
    );
    // The report says what was written: ap2@ was put in the org, not created.
    let updated = run.changes("update_user");
    assert!(
        updated
            .iter()
            .any(|c| c["email"] == "ap2@globex.example.com"),
        "{}",
        run.report["changes"]
    );
    assert!(
        run.changes("create_user")
            .iter()
            .all(|c| c["email"] != "ap2@globex.example.com"),
        "{}",
        run.report["changes"]
    );
    assert!(run.report["planned"].is_null(), "{}", run.report["planned"]);
}

/// Creates a user with no org straight through the simulated Zendesk API.
async fn post_user(zendesk_url: &str, email: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = zendesk_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .split('/')
        .next()
        .expect("host")
        .to_string();
    let body = json!({"user": {"name": "Appeared Meanwhile", "email": email}}).to_string();
    let request = format!(
        "POST /api/v2/users.json HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// docs/behaviour.md §6, §9: a 403 on `users/create_many` is probed with one `users/create_or_update`:
/// through → bulk import is off, the rest go one by one (exit 0); refused too → the
/// credentials may not write users: exit 4.
#[tokio::test]
async fn a_403_on_bulk_user_creates_is_probed_both_ways() {
    let mut config = config(0);
    config.zendesk_quirks = Quirks {
        user_403: sandbox::User403::BulkOtherBody,
        ..Quirks::default()
    };
    let sandbox = common::start(config).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(run.zendesk("POST /api/v2/users/create_many"), 1);
    // Globex's three new users: the probe and two more, one by one.
    assert_eq!(run.zendesk("POST /api/v2/users/create_or_update"), 3);
    assert_eq!(run.report["users"]["create"], 3);
    assert_eq!(globex_users(&common::zendesk_state(&sandbox)).len(), 3);

    let mut config = self::config(0);
    config.zendesk_quirks = Quirks {
        user_403: sandbox::User403::NoPermission,
        ..Quirks::default()
    };
    let sandbox = common::start(config).await;
    let run = common::run(&sandbox, &[]).await;
    assert_eq!(run.code, 4, "stderr: {}", run.stderr);
    assert_eq!(run.zendesk("POST /api/v2/users/create_many"), 1);
    assert_eq!(run.zendesk("POST /api/v2/users/create_or_update"), 1);
    assert_eq!(run.report["users"]["create"], 0);
    assert!(globex_users(&common::zendesk_state(&sandbox)).is_empty());
}
