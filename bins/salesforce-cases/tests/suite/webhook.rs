//! `serve`: the webhook receiver, fed by the sandbox's own signed webhooks and by
//! hand-made deliveries.

use std::time::Duration;

use sandbox::{Instance, WebhookTarget};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use super::common::*;

const SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

struct Server {
    child: Child,
    base: String,
}

/// Starts `serve` and reads its `{"listen": …}` line.
async fn serve(sb: &sandbox::Sandbox, listen: &str) -> Server {
    let mut env = env_for(sb, sb);
    env.push(("ZD_WEBHOOK_SECRET", SECRET.to_string()));
    let mut cmd = command(
        &["serve", "--listen", listen, "--retry-delay-ms", "50"],
        &env,
    );
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("listen line in time")
        .expect("stdout readable")
        .expect("a first line");
    let v: serde_json::Value = serde_json::from_str(&first).expect("JSON listen line");
    let addr = v["listen"].as_str().expect("listen address").to_string();
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

async fn post(base: &str, body: &str, sig: Option<&str>, ts: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/webhooks/zendesk"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = sig {
        req = req.header("X-Zendesk-Webhook-Signature", s);
    }
    if let Some(t) = ts {
        req = req.header("X-Zendesk-Webhook-Signature-Timestamp", t);
    }
    req.send().await.expect("the receiver answers")
}

fn now_ts() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).expect("formats")
}

#[tokio::test(flavor = "multi_thread")]
async fn zendesk_webhooks_create_and_close_cases() {
    // The receiver picks its own port (no free-port race); then the sandbox's
    // webhooks are pointed at it.
    let sb = sandbox(Instance::Global).await;
    let mut server = serve(&sb, "127.0.0.1:0").await;
    sb.admin().set_webhook(Some(WebhookTarget {
        url: format!("{}/webhooks/zendesk", server.base),
        secret: SECRET.to_string(),
    }));
    let id = new_ticket(&sb, "Webhook ticket", Some(ACME_ORG), ELLEN).await;
    let key = id.to_string();
    wait_for("the Case is created", || {
        cases_with_key(&sb, &key).len() == 1
    })
    .await;
    assert_eq!(case(&sb, &key)["Status"], "New");
    close_ticket(&sb, id).await;
    wait_for("the Case is closed", || {
        cases_with_key(&sb, &key)
            .first()
            .is_some_and(|c| c["IsClosed"] == true)
    })
    .await;
    let deliveries = sb.admin().webhook_deliveries();
    assert!(
        deliveries.iter().all(|d| d.status == Some(202)),
        "{deliveries:?}"
    );

    let metrics = metrics_text(&server.base).await;
    assert!(
        metrics.contains("salesforce_cases_events_received_total{kind=\"created\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("salesforce_cases_events_processed_total{kind=\"closed\"} 1"),
        "{metrics}"
    );
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // Graceful shutdown on SIGTERM: exit 0.
    let pid = server.child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .expect("stops in time")
        .expect("exit status");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_stale_or_missing_signatures_get_401_and_no_case() {
    let sb = sandbox(Instance::Global).await;
    let server = serve(&sb, "127.0.0.1:0").await;
    let body = format!(r#"{{"ticket_id":"{ACME_TICKET}","event":"created"}}"#);
    let ts = now_ts();
    let good = zendesk_client::webhook::sign(SECRET, &ts, body.as_bytes());
    let wrong = zendesk_client::webhook::sign("another secret", &ts, body.as_bytes());
    let old_ts = (OffsetDateTime::now_utc() - time::Duration::minutes(6))
        .format(&Rfc3339)
        .unwrap();
    let stale = zendesk_client::webhook::sign(SECRET, &old_ts, body.as_bytes());
    for (what, sig, t) in [
        ("wrong secret", Some(wrong.as_str()), Some(ts.as_str())),
        ("stale", Some(stale.as_str()), Some(old_ts.as_str())),
        ("no signature", None, Some(ts.as_str())),
        ("no timestamp", Some(good.as_str()), None),
        ("not base64", Some("%%%"), Some(ts.as_str())),
    ] {
        let resp = post(&server.base, &body, sig, t).await;
        assert_eq!(resp.status(), 401, "{what}");
    }
    // A body changed after signing.
    let tampered = body.replace("created", "closed");
    assert_eq!(
        post(&server.base, &tampered, Some(&good), Some(&ts))
            .await
            .status(),
        401
    );
    // Signed but malformed: 400.
    let junk = r#"{"ticket_id":"{{ticket.id}}","event":"created"}"#;
    let sig = zendesk_client::webhook::sign(SECRET, &ts, junk.as_bytes());
    assert_eq!(
        post(&server.base, junk, Some(&sig), Some(&ts))
            .await
            .status(),
        400
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cases(&sb).is_empty());
    assert_eq!(sf_count(&sb, "PATCH sobjects/Case upsert"), 0);
    let metrics = metrics_text(&server.base).await;
    assert!(
        metrics.contains("salesforce_cases_webhooks_rejected_total{reason=\"signature\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("salesforce_cases_webhooks_rejected_total{reason=\"body\"} 1"),
        "{metrics}"
    );

    // The same body, rightly signed: 202 at once, then one Case even when delivered twice.
    let first = post(&server.base, &body, Some(&good), Some(&ts)).await;
    assert_eq!(first.status(), 202);
    let again = post(&server.base, &body, Some(&good), Some(&ts)).await;
    assert_eq!(again.status(), 202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !metrics_text(&server.base)
        .await
        .contains("salesforce_cases_events_processed_total{kind=\"created\"} 2")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "both deliveries processed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cases_with_key(&sb, &ACME_TICKET.to_string()).len(), 1);
}

async fn metrics_text(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text")
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_without_a_secret_exits_2() {
    let sb = sandbox(Instance::Global).await;
    let run = run(&["serve", "--listen", "127.0.0.1:0"], &env_for(&sb, &sb)).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("ZD_WEBHOOK_SECRET"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_on_a_port_already_taken_exits_2() {
    let sb = sandbox(Instance::Global).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let addr = taken.local_addr().expect("address").to_string();
    let mut env = env_for(&sb, &sb);
    env.push(("ZD_WEBHOOK_SECRET", "s3cret".to_string()));
    let run = run(&["serve", "--listen", &addr], &env).await;
    drop(taken);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        run.stderr
    );
}
