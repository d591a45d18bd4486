//! `serve` under load, replays and hostile clients (issue 16): the real binary against
//! the sandbox, fed by hand-signed deliveries and by raw TCP clients on loopback. The
//! assertions are on counts (`/metrics`, the sandbox's Cases), never on wall time; the
//! timeouts in these tests only stop a test that would otherwise hang.

use std::time::Duration;

use futures::StreamExt as _;
use sandbox::Instance;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Child;

use super::common::*;

const SECRET: &str = "burst-test-secret";

struct Server {
    child: Child,
    addr: String,
    base: String,
}

impl Server {
    /// Starts `serve` on a free port with `extra` flags and reads its listen line.
    async fn start(sb: &sandbox::Sandbox, extra: &[&str]) -> Server {
        let mut env = env_for(sb, sb);
        env.push(("ZD_WEBHOOK_SECRET", SECRET.to_string()));
        env.push(("RUST_LOG", "warn".to_string()));
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--retry-delay-ms", "50"];
        args.extend_from_slice(extra);
        let mut cmd = command(&args, &env);
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
            addr,
        }
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text")
    }

    /// Waits until `series` reaches `n` (a hang is a failure after 120 s).
    async fn wait_metric(&self, series: &str, n: u64) {
        self.wait_metric_for(series, n, Duration::from_secs(120))
            .await;
    }

    /// [`Self::wait_metric`] with another limit.
    async fn wait_metric_for(&self, series: &str, n: u64, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let text = self.metrics().await;
            if metric_in(&text, series) >= n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{series} never reached {n}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// SIGTERM, then the exit code.
    async fn stop(mut self) -> Option<i32> {
        let pid = self.pid().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("stops in time")
            .expect("exit status")
            .code()
    }
}

fn metric_in(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

fn processed(kind: &str) -> String {
    format!("salesforce_cases_events_processed_total{{kind=\"{kind}\"}}")
}

/// A signed delivery body and its headers.
struct Delivery {
    body: String,
    ts: String,
    sig: String,
}

fn delivery(ticket: u64, event: &str) -> Delivery {
    let body = format!(r#"{{"ticket_id":"{ticket}","event":"{event}"}}"#);
    let ts = OffsetDateTime::now_utc().format(&Rfc3339).expect("formats");
    let sig = zendesk_client::webhook::sign(SECRET, &ts, body.as_bytes());
    Delivery { body, ts, sig }
}

async fn deliver(client: &reqwest::Client, base: &str, d: &Delivery) -> reqwest::Response {
    client
        .post(format!("{base}/webhooks/zendesk"))
        .header("content-type", "application/json")
        .header("X-Zendesk-Webhook-Signature", &d.sig)
        .header("X-Zendesk-Webhook-Signature-Timestamp", &d.ts)
        .body(d.body.clone())
        .send()
        .await
        .expect("the receiver answers")
}

/// The server process's peak resident memory in KiB (Linux), for the figures.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_replayed_and_duplicated_webhooks_give_one_case_in_the_right_state() {
    let sb = sandbox(Instance::Global).await;
    let server = Server::start(&sb, &[]).await;
    let client = reqwest::Client::new();

    // Out of order: the ticket is closed by now; `closed` arrives before `created`.
    let late = new_ticket(&sb, "Out of order", Some(ACME_ORG), ELLEN).await;
    close_ticket(&sb, late).await;
    let created_late = delivery(late, "created");
    for d in [delivery(late, "closed"), created_late] {
        assert_eq!(deliver(&client, &server.base, &d).await.status(), 202);
    }
    // Duplicated: one delivery five times at once, for an open ticket.
    let open = new_ticket(&sb, "Duplicated", Some(ACME_ORG), ELLEN).await;
    let dup = delivery(open, "created");
    let answers =
        futures::future::join_all((0..5).map(|_| deliver(&client, &server.base, &dup))).await;
    assert!(answers.iter().all(|a| a.status() == 202));
    server.wait_metric(&processed("created"), 6).await;
    server.wait_metric(&processed("closed"), 1).await;
    let closed_case = case(&sb, &late.to_string());
    assert_eq!(closed_case["IsClosed"], true, "{closed_case}");
    let open_case = case(&sb, &open.to_string());
    assert_eq!(open_case["Status"], "New", "{open_case}");

    // Replayed: the very same signed deliveries again (as a retrying sender would), and
    // a stale `created` for the closed ticket: nothing reopens, nothing doubles.
    let upserts = sf_count(&sb, "PATCH sobjects/Case upsert");
    let replay_late = delivery(late, "created");
    for d in [&dup, &dup, &replay_late] {
        assert_eq!(deliver(&client, &server.base, d).await.status(), 202);
    }
    server.wait_metric(&processed("created"), 9).await;
    assert_eq!(cases_with_key(&sb, &late.to_string()).len(), 1);
    assert_eq!(cases_with_key(&sb, &open.to_string()).len(), 1);
    assert_eq!(case(&sb, &late.to_string())["IsClosed"], true);
    assert_eq!(case(&sb, &open.to_string())["Status"], "New");
    assert_eq!(
        sf_count(&sb, "PATCH sobjects/Case upsert"),
        upserts,
        "a replay of what is already done writes nothing"
    );
    let text = server.metrics().await;
    assert_eq!(
        metric_in(
            &text,
            "salesforce_cases_events_failed_total{kind=\"created\"}"
        ),
        0
    );
    assert_eq!(server.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_1000_signed_webhooks_is_all_processed() {
    const BURST: u64 = 1_000;
    let sb = sandbox(Instance::Global).await;
    let mut tickets = Vec::new();
    for n in 0..BURST {
        tickets.push(new_ticket(&sb, &format!("Burst {n}"), Some(ACME_ORG), ELLEN).await);
    }
    let server = Server::start(&sb, &["--concurrency", "16", "--zd-rate-limit", "1000000"]).await;
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let statuses: Vec<u16> = futures::stream::iter(tickets.iter().copied())
        .map(|t| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                deliver(&client, &base, &delivery(t, "created"))
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let accepted = statuses.iter().filter(|s| **s == 202).count() as u64;
    assert_eq!(accepted, BURST, "every delivery accepted: {statuses:?}");
    server.wait_metric(&processed("created"), BURST).await;
    let text = server.metrics().await;
    for (series, want) in [
        (
            "salesforce_cases_events_received_total{kind=\"created\"}",
            BURST,
        ),
        (
            "salesforce_cases_events_processed_total{kind=\"created\"}",
            BURST,
        ),
        ("salesforce_cases_events_failed_total{kind=\"created\"}", 0),
        (
            "salesforce_cases_webhooks_rejected_total{reason=\"busy\"}",
            0,
        ),
        ("salesforce_cases_events_pending", 0),
    ] {
        assert_eq!(metric_in(&text, series), want, "{series}\n{text}");
    }
    let mut per_key = std::collections::HashMap::<String, usize>::new();
    for c in cases(&sb) {
        if let Some(key) = c["Zendesk_Support_Ticket_ID__c"].as_str() {
            *per_key.entry(key.to_string()).or_default() += 1;
        }
    }
    for t in &tickets {
        assert_eq!(per_key.get(&t.to_string()), Some(&1), "ticket {t}");
    }
    // A figure for docs/reliability.md, not an assertion.
    eprintln!(
        "burst {BURST}: accepted {accepted}, processed {}, peak RSS {:?} KiB",
        metric_in(&text, &processed("created")),
        peak_rss_kib(server.pid())
    );
    assert_eq!(server.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_503_with_retry_after_and_drops_nothing() {
    let sb = sandbox(Instance::Global).await;
    let mut tickets = Vec::new();
    for n in 0..40 {
        tickets.push(new_ticket(&sb, &format!("Queue {n}"), Some(ACME_ORG), ELLEN).await);
    }
    let server = Server::start(&sb, &["--concurrency", "1", "--max-pending", "5"]).await;
    // Salesforce slow during the burst: the one worker holds its first event for 2 s, so
    // the queue of 5 fills whatever the schedule of the 40 deliveries (quick events could
    // otherwise be done as fast as they arrive, and nothing would be refused).
    use sandbox::{Api, Fault, FaultPlan, FaultRule, When};
    sb.admin().set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            fault: Fault::Slow { millis: 2_000 },
            when: When::Always,
            api: Some(Api::Salesforce),
            endpoint: Some("GET /services/data/v62.0/query".to_string()),
        }],
    });
    let client = reqwest::Client::new();
    let deliveries: Vec<Delivery> = tickets.iter().map(|t| delivery(*t, "created")).collect();
    let answers =
        futures::future::join_all(deliveries.iter().map(|d| deliver(&client, &server.base, d)))
            .await;
    sb.admin().set_faults(FaultPlan::default());
    let mut refused = Vec::new();
    for (t, a) in tickets.iter().zip(&answers) {
        match a.status().as_u16() {
            202 => {}
            503 => {
                assert_eq!(
                    a.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                    Some("30")
                );
                refused.push(*t);
            }
            other => panic!("ticket {t}: {other}"),
        }
    }
    let accepted = tickets.len() - refused.len();
    assert!(
        !refused.is_empty(),
        "40 deliveries at once overflow a queue of 5"
    );
    assert!(accepted >= 5, "the queue takes 5 at least");
    let text = server.metrics().await;
    assert_eq!(
        metric_in(
            &text,
            "salesforce_cases_webhooks_rejected_total{reason=\"busy\"}"
        ),
        refused.len() as u64
    );
    assert!(
        metric_in(&text, "salesforce_cases_events_pending") <= 5,
        "{text}"
    );
    // The sender retries what was refused, as a webhook sender does after Retry-After,
    // until all are taken.
    server
        .wait_metric(&processed("created"), accepted as u64)
        .await;
    let mut left = refused;
    while !left.is_empty() {
        let mut again = Vec::new();
        for t in left {
            if deliver(&client, &server.base, &delivery(t, "created"))
                .await
                .status()
                == 503
            {
                again.push(t);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        left = again;
    }
    server.wait_metric(&processed("created"), 40).await;
    for t in &tickets {
        assert_eq!(cases_with_key(&sb, &t.to_string()).len(), 1, "ticket {t}");
    }
    assert_eq!(server.stop().await, Some(0));
}

/// Connects and sends `head` (no more).
async fn connect(addr: &str, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(head.as_bytes()).await.expect("writes");
    s
}

/// Reads until the server closes the connection (an error counts as closed); returns
/// what it sent. A connection the server keeps open fails the test after 60 s.
async fn until_closed(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("the server closes a slow connection");
    String::from_utf8_lossy(&got).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_cut_and_hold_no_connection() {
    let sb = sandbox(Instance::Global).await;
    let server = Server::start(
        &sb,
        &["--header-timeout-secs", "2", "--body-timeout-secs", "2"],
    )
    .await;
    let addr = server.addr.clone();

    // Headers a byte every second, never finished: cut by the header deadline though
    // bytes keep coming.
    let mut dribble = connect(&addr, "POST /webhooks/zendesk HTTP/1.1\r\n").await;
    let drip = async {
        for _ in 0..120 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if dribble.write_all(b"X").await.is_err() {
                return true;
            }
        }
        false
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(90), drip)
            .await
            .expect("cut in time"),
        "the server kept a connection whose headers never ended"
    );

    // Nothing at all after connecting: cut too.
    let mut idle = connect(&addr, "").await;
    until_closed(&mut idle).await;

    // A lying Content-Length: 100 announced, 10 sent: 408, closed.
    let sig = delivery(1, "created");
    let mut liar = connect(
        &addr,
        &format!(
            "POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\
             X-Zendesk-Webhook-Signature: {}\r\nX-Zendesk-Webhook-Signature-Timestamp: {}\r\n\r\n\
             {{\"ticket_",
            sig.sig, sig.ts
        ),
    )
    .await;
    let answer = until_closed(&mut liar).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A body a byte every second: 408 though bytes keep coming.
    let mut slow_body = connect(
        &addr,
        "POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n",
    )
    .await;
    let (mut rd, mut wr) = slow_body.split();
    let drip = async {
        for _ in 0..120 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if wr.write_all(b" ").await.is_err() {
                return true;
            }
        }
        false
    };
    let read = async {
        let mut answer = Vec::new();
        let _ = rd.read_to_end(&mut answer).await;
        answer
    };
    let (answer, cut) =
        tokio::time::timeout(Duration::from_secs(150), async { tokio::join!(read, drip) })
            .await
            .expect("the test ends");
    assert!(cut, "the server kept reading a body for two minutes");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A kept-alive connection left idle after its request is closed as well.
    let mut kept = connect(&addr, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let answer = until_closed(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let text = server.metrics().await;
    assert_eq!(
        metric_in(
            &text,
            "salesforce_cases_webhooks_rejected_total{reason=\"body_timeout\"}"
        ),
        2,
        "{text}"
    );
    assert!(
        metric_in(&text, "salesforce_cases_connections_header_timeout_total") >= 3,
        "{text}"
    );
    // Only the connection asking for /metrics is open: the slow ones hold nothing.
    assert_eq!(
        metric_in(&text, "salesforce_cases_connections_open"),
        1,
        "{text}"
    );
    assert_eq!(
        metric_in(
            &text,
            "salesforce_cases_events_received_total{kind=\"created\"}"
        ),
        0
    );
    assert_eq!(server.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_wait_unaccepted() {
    let sb = sandbox(Instance::Global).await;
    let server = Server::start(
        &sb,
        &["--max-connections", "3", "--header-timeout-secs", "1"],
    )
    .await;
    // Seven silent clients: the kernel queues them, the receiver serves three at a time
    // and cuts each after the header timeout.
    let mut idle = Vec::new();
    for _ in 0..7 {
        idle.push(connect(&server.addr, "").await);
    }
    for s in &mut idle {
        until_closed(s).await;
    }
    let text = server.metrics().await;
    assert_eq!(
        metric_in(&text, "salesforce_cases_connections_peak"),
        3,
        "{text}"
    );
    assert_eq!(
        metric_in(&text, "salesforce_cases_connections_header_timeout_total"),
        7,
        "{text}"
    );
    assert_eq!(
        metric_in(&text, "salesforce_cases_connections_total"),
        8,
        "{text}"
    );
    assert_eq!(server.stop().await, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_1_mb_gets_413_before_it_is_sent() {
    let sb = sandbox(Instance::Global).await;
    let server = Server::start(&sb, &["--body-timeout-secs", "60"]).await;
    // Only the head, announcing 2 MB: the answer comes without a byte of body (waiting
    // for it would be a 408 a minute later, and the test would time out first).
    let mut s = connect(
        &server.addr,
        "POST /webhooks/zendesk HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n",
    )
    .await;
    let answer = tokio::time::timeout(Duration::from_secs(30), until_closed(&mut s))
        .await
        .expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // 1.5 MB sent for real: 413 as well, nothing queued.
    let big = "x".repeat(1_500_000);
    let resp = reqwest::Client::new()
        .post(format!("{}/webhooks/zendesk", server.base))
        .body(big)
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
    }
    let text = server.metrics().await;
    assert_eq!(
        metric_in(
            &text,
            "salesforce_cases_webhooks_rejected_total{reason=\"too_large\"}"
        ),
        2,
        "{text}"
    );
    assert_eq!(server.stop().await, Some(0));
}

/// Not a test: the figures of docs/reliability.md for a full queue (10,000 events held
/// while Salesforce answers slowly, 500 more deliveries refused), the receiver's peak
/// memory then, and all held events processed once Salesforce is quick again. Run by
/// hand: `cargo test -p salesforce-cases --test tests full_queue_figures -- --ignored
/// --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement for docs/reliability.md, run by hand"]
async fn full_queue_figures() {
    use sandbox::{Api, Fault, FaultPlan, FaultRule, When};
    const HELD: u64 = 10_000;
    const SENT: u64 = HELD + 500;
    let sb = sandbox(Instance::Global).await;
    let mut tickets = Vec::new();
    for n in 0..SENT {
        tickets.push(new_ticket(&sb, &format!("Full {n}"), Some(ACME_ORG), ELLEN).await);
    }
    sb.admin().set_faults(FaultPlan {
        seed: 1,
        rules: vec![FaultRule {
            fault: Fault::Slow { millis: 5_000 },
            when: When::Always,
            api: Some(Api::Salesforce),
            endpoint: Some("GET /services/data/v62.0/query".to_string()),
        }],
    });
    let server = Server::start(&sb, &["--concurrency", "8", "--zd-rate-limit", "1000000"]).await;
    let rss_idle = peak_rss_kib(server.pid());
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let statuses: Vec<u16> = futures::stream::iter(tickets.iter().copied())
        .map(|t| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                deliver(&client, &base, &delivery(t, "created"))
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let accepted = statuses.iter().filter(|s| **s == 202).count() as u64;
    let busy = statuses.iter().filter(|s| **s == 503).count() as u64;
    let text = server.metrics().await;
    let pending = metric_in(&text, "salesforce_cases_events_pending");
    let rss_full = peak_rss_kib(server.pid());
    sb.admin().set_faults(FaultPlan::default());
    server
        .wait_metric_for(&processed("created"), accepted, Duration::from_secs(600))
        .await;
    let text = server.metrics().await;
    eprintln!(
        "full queue: sent {SENT}, accepted {accepted}, refused 503 {busy}, pending at the end of the burst {pending}, \
         processed {}, failed {}, peak RSS idle {rss_idle:?} KiB, full {rss_full:?} KiB, after {:?} KiB",
        metric_in(&text, &processed("created")),
        metric_in(&text, "salesforce_cases_events_failed_total{kind=\"created\"}"),
        peak_rss_kib(server.pid())
    );
    assert_eq!(accepted + busy, SENT);
    assert_eq!(server.stop().await, Some(0));
}
