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

/// Jobs of a held endpoint stay queued (and count against the job limit) until the
/// endpoint is released, whatever the latency; other endpoints' jobs run as usual. Set
/// through the admin handle and over `/__admin/jobs/held`.
#[tokio::test]
async fn jobs_of_a_held_endpoint_stay_queued_until_released() {
    let sandbox = Sandbox::start(SandboxConfig {
        job_latency: Duration::from_millis(5),
        job_limit: 2,
        ..SandboxConfig::default_fixtures()
    })
    .await
    .unwrap();
    const CREATE: &str = "POST /api/v2/organizations/create_many";
    sandbox.admin().hold_jobs(&[CREATE]);
    assert_eq!(sandbox.admin().held_jobs(), [CREATE]);
    let base = sandbox.zendesk_url().to_owned();
    let http = reqwest::Client::new();
    let submit = |path: &str, body: Value| {
        let req = if path.ends_with("update_many.json") {
            http.put(format!("{base}/api/v2/{path}"))
        } else {
            http.post(format!("{base}/api/v2/{path}"))
        };
        async move {
            let resp = req.json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            (
                status,
                body["job_status"]["id"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    let (status, held) = submit(
        "organizations/create_many.json",
        json!({"organizations": [{"name": "Held Job Org"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, free) = submit(
        "organizations/update_many.json",
        json!({"organizations": [{"id": 360100000001_u64, "notes": "x"}]}),
    )
    .await;
    assert_eq!(status, 200);
    // Far past the 5 ms latency (a lower bound: any schedule waits at least this).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status_of = |id: &str| {
        http.get(format!("{base}/api/v2/job_statuses/{id}.json"))
            .send()
    };
    let poll = |id: String| {
        let fut = status_of(&id);
        async move {
            let v: Value = fut.await.unwrap().json().await.unwrap();
            v["job_status"]["status"].as_str().unwrap_or("").to_owned()
        }
    };
    assert_eq!(poll(free.clone()).await, "completed");
    assert_eq!(poll(held.clone()).await, "queued");
    assert!(!org_names(&sandbox).contains(&"Held Job Org".to_owned()));
    // The held job still counts: with a limit of 2, one more fills it, the next is refused.
    let (status, second) = submit(
        "organizations/create_many.json",
        json!({"organizations": [{"name": "Second Held"}]}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = submit(
        "organizations/create_many.json",
        json!({"organizations": [{"name": "Refused"}]}),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(sandbox.admin().writes().job_limit_refused, 1);

    // Released over HTTP: the held jobs run as their latency says.
    let resp = http
        .put(format!("{base}/__admin/jobs/held"))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
    // Past the 5 ms latency of the job queued last (a lower bound again).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(poll(held).await, "completed");
    assert_eq!(poll(second).await, "completed");
    let names = org_names(&sandbox);
    assert!(names.contains(&"Held Job Org".to_owned()), "{names:?}");
    assert!(names.contains(&"Second Held".to_owned()), "{names:?}");
    assert!(!names.contains(&"Refused".to_owned()), "{names:?}");
    // A list is required.
    let bad = http
        .put(format!("{base}/__admin/jobs/held"))
        .json(&json!({"endpoint": CREATE}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
