//! Crash points chosen by the sandbox's counters (issue 16): the Nth Zendesk write is
//! held, applied not at all, until released; the counters and the held write are read
//! through the admin handle, over `/__admin` and in the standalone binary.

use std::io::BufRead as _;
use std::time::Duration;

use sandbox::{HoldWrite, Sandbox, SandboxConfig};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

async fn sandbox(hold: Option<HoldWrite>) -> Sandbox {
    Sandbox::start(SandboxConfig {
        hold_write: hold,
        job_latency: Duration::from_millis(5),
        ..SandboxConfig::default_fixtures()
    })
    .await
    .unwrap()
}

fn org_names(sandbox: &Sandbox) -> Vec<String> {
    sandbox.admin().zendesk_state()["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

fn create(base: &str, name: &str) -> tokio::task::JoinHandle<Result<u16, String>> {
    let url = format!("{base}/api/v2/organizations.json");
    let body = json!({"organization": {"name": name}});
    tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    })
}

#[tokio::test]
async fn the_nth_write_is_held_unapplied_until_released_and_dropped() {
    let sandbox = sandbox(Some(HoldWrite {
        nth: 2,
        endpoint: Some("POST /api/v2/organizations".to_owned()),
    }))
    .await;
    let base = sandbox.zendesk_url().to_owned();
    assert_eq!(create(&base, "Held One").await.unwrap(), Ok(201));
    let second = create(&base, "Held Two");
    let held = sandbox
        .admin()
        .wait_for_held_write(WAIT)
        .await
        .expect("the second create is held");
    assert_eq!(held.endpoint, "POST /api/v2/organizations");
    assert_eq!(held.write, 2);
    // Other writes and reads go on meanwhile; the hold fires once.
    let id = sandbox.admin().zendesk_state()["organizations"][0]["id"]
        .as_u64()
        .unwrap();
    let put = reqwest::Client::new()
        .put(format!("{base}/api/v2/organizations/{id}.json"))
        .json(&json!({"organization": {"notes": "still writable"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(create(&base, "After The Hold").await.unwrap(), Ok(201));
    let status = sandbox.admin().writes();
    assert_eq!(status.total, 4);
    assert_eq!(status.by_endpoint["POST /api/v2/organizations"], 3);
    assert_eq!(status.by_endpoint["PUT /api/v2/organizations/{id}"], 1);
    assert_eq!(status.matched, 3);
    assert!(status.held.is_some());
    assert!(!org_names(&sandbox).contains(&"Held Two".to_owned()));

    sandbox.admin().release_held_write(false);
    assert!(
        second.await.unwrap().is_err(),
        "the held request's connection drops"
    );
    let status = sandbox.admin().writes();
    assert_eq!((status.held, status.released), (None, 1));
    let names = org_names(&sandbox);
    assert!(!names.contains(&"Held Two".to_owned()), "nothing applied");
    assert!(names.contains(&"Held One".to_owned()) && names.contains(&"After The Hold".to_owned()));
}

#[tokio::test]
async fn the_admin_endpoints_arm_show_and_release_a_hold() {
    let sandbox = sandbox(None).await;
    let base = sandbox.zendesk_url().to_owned();
    let http = reqwest::Client::new();
    let bad = http
        .put(format!("{base}/__admin/hold"))
        .json(&json!({"nth": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(create(&base, "Before Arming").await.unwrap(), Ok(201));
    let armed: Value = http
        .put(format!("{base}/__admin/hold"))
        .json(&json!({"nth": 1, "endpoint": "POST /api/v2/organizations/create_many"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(armed["hold"]["nth"], 1);
    assert_eq!(armed["matched"], 0);
    assert_eq!(armed["total"], 1);
    let url = format!("{base}/api/v2/organizations/create_many.json");
    let job = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .json(&json!({"organizations": [{"name": "Bulk Held"}]}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let mut writes = Value::Null;
    for _ in 0..500 {
        writes = http
            .get(format!("{base}/__admin/writes"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if writes["held"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        writes["held"]["endpoint"], "POST /api/v2/organizations/create_many",
        "{writes}"
    );
    assert_eq!(writes["held"]["write"], 2);
    assert!(sandbox.admin().zendesk_state()["job_statuses"]
        .as_array()
        .unwrap()
        .is_empty());
    let released: Value = http
        .post(format!("{base}/__admin/hold/release"))
        .json(&json!({"apply": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(released.is_object());
    assert_eq!(job.await.unwrap(), 200, "released with apply: it goes on");
    assert_eq!(sandbox.admin().writes().released, 1);
    assert_eq!(
        sandbox.admin().zendesk_state()["job_statuses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let disarmed: Value = http
        .delete(format!("{base}/__admin/hold"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(disarmed["hold"].is_null());
}

#[tokio::test]
async fn the_standalone_sandbox_holds_the_nth_write_too() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sandbox"))
        .args([
            "serve",
            "--hold-write",
            "1",
            "--hold-write-endpoint",
            "PUT /api/v2/organizations",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let base = urls["zendesk"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let state: Value = http
        .get(format!("{base}/__admin/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = &state["zendesk"]["organizations"][0];
    let id = org["id"].as_u64().unwrap();
    let url = format!("{base}/api/v2/organizations/{id}.json");
    let update = tokio::spawn(async move {
        reqwest::Client::new()
            .put(url)
            .json(&json!({"organization": {"notes": "never written"}}))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| e.to_string())
    });
    let mut writes = Value::Null;
    for _ in 0..500 {
        writes = http
            .get(format!("{base}/__admin/writes"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if writes["held"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        writes["held"]["endpoint"], "PUT /api/v2/organizations/{id}",
        "{writes}"
    );
    assert_eq!(writes["total"], 1);
    // Disarming drops the held write: nothing applied.
    let resp = http
        .delete(format!("{base}/__admin/hold"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(update.await.unwrap().is_err());
    let state: Value = http
        .get(format!("{base}/__admin/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after = state["zendesk"]["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap();
    assert_ne!(after["notes"], "never written");
    child.kill().unwrap();
    child.wait().unwrap();
}
