//! Retries bounded by time (per call, per run) rather than a streak of failures; absurd
//! `Retry-After` values; bodies read with a cap; transport errors naming their cause;
//! builder checks; which errors stop a run.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use httpmock::prelude::*;
use httpmock::HttpMockResponse;
use sfdc_client::{ApiErrorItem, Client, Credentials, Error, RetryPolicy, TransportKind};

use crate::common::fast_retry;
use crate::fixture;

const ACCOUNT_PATH: &str = "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG";

/// Answers 503 (with `retry_after`, if given) for the first `n` calls, then 200.
fn unavailable_n_times<'a>(
    server: &'a MockServer,
    n: usize,
    retry_after: Option<&'static str>,
) -> httpmock::Mock<'a> {
    let calls = Arc::new(AtomicUsize::new(0));
    server.mock(move |when, then| {
        when.method(GET).path(ACCOUNT_PATH);
        then.respond_with(move |_| {
            let mut r = HttpMockResponse::builder().header("content-type", "application/json");
            if calls.fetch_add(1, Ordering::SeqCst) < n {
                if let Some(v) = retry_after {
                    r = r.header("retry-after", v);
                }
                r.status(503)
                    .body(fixture!("server_unavailable.json"))
                    .build()
            } else {
                r.status(200).body(r#"{"Id":"001xx000003DGb2AAG"}"#).build()
            }
        });
    })
}

fn client_for(instance_url: String, policy: RetryPolicy) -> sfdc_client::ClientBuilder {
    Client::builder()
        .credentials(Credentials::AccessToken {
            access_token: "static-token-secret".to_owned().into(),
            instance_url,
        })
        .retry_policy(policy)
}

fn get(
    client: &Client,
) -> impl std::future::Future<Output = Result<serde_json::Value, Error>> + '_ {
    client.get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
}

/// Twelve 503s in a row on a read do not end the call: the bound is time, and the
/// default attempt ceiling is only a safety net (it was 4 retries).
#[tokio::test]
async fn a_streak_of_failures_within_the_time_budget_is_ridden_out() {
    let server = MockServer::start_async().await;
    let mock = unavailable_n_times(&server, 12, None);
    let client = client_for(
        server.base_url(),
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        },
    )
    .build()
    .unwrap();
    let v = get(&client).await.unwrap();
    assert_eq!(v["Id"], "001xx000003DGb2AAG");
    mock.assert_calls(13);
    assert_eq!(RetryPolicy::default().max_retries, 100);
    assert_eq!(RetryPolicy::default().max_elapsed, Duration::from_secs(300));
}

/// The run budget is shared by every call of the client: once it cannot pay for the
/// next wait, the call returns its error instead of retrying.
#[tokio::test]
async fn the_run_budget_ends_retries_when_spent() {
    let server = MockServer::start_async().await;
    let mock = unavailable_n_times(&server, usize::MAX, None);
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
        ..RetryPolicy::default()
    };
    // Every delay is at least 5 ms: a 4 ms budget pays for none.
    let client = client_for(server.base_url(), policy.clone())
        .run_retry_budget(Some(Duration::from_millis(4)))
        .build()
        .unwrap();
    let err = get(&client).await.unwrap_err();
    assert!(matches!(&err, Error::Api { status: 503, .. }), "{err:?}");
    assert!(err.stops_run() && err.is_retriable());
    mock.assert_calls(1);
    assert_eq!(
        client.run_retry_budget_left(),
        Some(Duration::from_millis(4))
    );
    // A generous budget pays, and shows what was spent.
    let server = MockServer::start_async().await;
    unavailable_n_times(&server, 2, None);
    let client = client_for(server.base_url(), policy)
        .run_retry_budget(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    get(&client).await.unwrap();
    let left = client.run_retry_budget_left().unwrap();
    assert!(left < Duration::from_secs(60) && left >= Duration::from_millis(59_980));
}

#[tokio::test]
async fn an_absurd_retry_after_is_capped_not_a_panic() {
    for value in [
        "1e20",
        "-5",
        "NaN",
        "inf",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "soon",
        "1e400",
    ] {
        let server = MockServer::start_async().await;
        let mock = unavailable_n_times(&server, 1, Some(value));
        let client = client_for(server.base_url(), fast_retry()).build().unwrap();
        get(&client)
            .await
            .unwrap_or_else(|e| panic!("{value}: {e}"));
        mock.assert_calls(2);
    }
    let now = time::macros::datetime!(2026-01-01 00:00:00 UTC);
    assert_eq!(
        sfdc_client::parse_retry_after("1e20", now),
        Some(sfdc_client::MAX_RETRY_AFTER)
    );
    assert_eq!(sfdc_client::parse_retry_after("NaN", now), None);
    assert_eq!(sfdc_client::parse_retry_after("-1", now), None);
    assert_eq!(
        sfdc_client::parse_retry_after("0.25", now),
        Some(Duration::from_millis(250))
    );
    assert_eq!(
        sfdc_client::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
        Some(sfdc_client::MAX_RETRY_AFTER)
    );
}

#[tokio::test]
async fn connection_refused_names_the_cause_and_host() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = client_for(format!("http://{addr}"), fast_retry())
        .build()
        .unwrap();
    let err = get(&client).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { kind: TransportKind::Connect, message, .. }
            if message.starts_with(&format!("connection refused by {addr}"))),
        "{err}"
    );
    assert!(err.stops_run());
    assert!(!err.to_string().contains("static-token-secret"));
    assert!(!format!("{err:?}").contains("static-token-secret"));
}

/// A server that accepts and never answers: each attempt ends at the request timeout,
/// the call at its time budget (paused clock, so no real waiting).
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_costs_the_budget() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let client = client_for(
        format!("http://{addr}"),
        RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(60),
            ..RetryPolicy::default()
        },
    )
    .timeouts(Duration::from_secs(5), Duration::from_secs(3600))
    .build()
    .unwrap();
    let err = get(&client).await.unwrap_err();
    assert!(
        matches!(&err, Error::Transport { message, .. }
            if message.starts_with(&format!("timed out talking to {addr}"))),
        "{err}"
    );
    let calls = client.call_counts()["get"];
    assert!((2..=20).contains(&calls), "{calls}");
}

/// Serves HTTP/1.1 answers with an endless chunked body, until the client hangs up.
fn endless_body_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
                while s.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap() {
    let addr = endless_body_server();
    let client = client_for(format!("http://{addr}"), fast_retry())
        .max_response_bytes(1024 * 1024)
        .build()
        .unwrap();
    let err = get(&client).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.stops_run() && !err.is_retriable());
    assert_eq!(client.call_counts()["get"], 1);
}

#[test]
fn builders_refuse_other_schemes_and_unusable_tokens() {
    let err = Client::builder()
        .login_url("ftp://login.salesforce.com")
        .credentials(Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: "s".to_owned().into(),
        })
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("https or http")),
        "{err}"
    );
    let err = client_for("ftp://acme.my.salesforce.com".into(), fast_retry())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("https or http")),
        "{err}"
    );
    for token in ["tok\nen-secret", "tok\ren-secret", "", "  "] {
        let err = Client::builder()
            .credentials(Credentials::AccessToken {
                access_token: token.to_owned().into(),
                instance_url: "https://acme.my.salesforce.com".into(),
            })
            .build()
            .unwrap_err();
        assert!(matches!(&err, Error::Config(_)), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.stops_run());
    }
}

#[test]
fn errors_are_classified_once() {
    let api = |status: u16, code: &str| Error::Api {
        status,
        method: "GET",
        url: "u".into(),
        errors: vec![ApiErrorItem {
            message: "m".into(),
            error_code: code.into(),
            fields: vec![],
        }],
        request_id: None,
        body: String::new(),
    };
    for e in [
        api(500, "UNKNOWN_EXCEPTION"),
        api(503, "SERVER_UNAVAILABLE"),
        api(401, "INVALID_AUTH_HEADER"),
        api(403, "API_DISABLED_FOR_ORG"),
        Error::RequestLimitExceeded {
            method: "GET",
            url: "u".into(),
            message: "TotalRequests Limit exceeded.".into(),
            usage: None,
        },
        Error::Auth {
            status: Some(400),
            error: "invalid_grant".into(),
            description: "d".into(),
        },
        Error::Config("c".into()),
    ] {
        assert!(e.stops_run(), "{e}");
    }
    for e in [
        api(400, "REQUIRED_FIELD_MISSING"),
        api(400, "UNABLE_TO_LOCK_ROW"),
        api(404, "NOT_FOUND"),
        api(400, "DUPLICATE_VALUE"),
        api(403, "INSUFFICIENT_ACCESS_OR_READONLY"),
        Error::MultipleMatches {
            sobject: "Case".into(),
            field: "Ticket_Id__c".into(),
            value: "1".into(),
            ids: vec![],
        },
        Error::Decode {
            url: "u".into(),
            path: "p".into(),
            message: "m".into(),
        },
        Error::LimitViolation("201 records".into()),
    ] {
        assert!(!e.stops_run(), "{e}");
    }
    assert!(!api(400, "UNABLE_TO_LOCK_ROW").stops_run());
    assert!(api(400, "UNABLE_TO_LOCK_ROW").is_retriable());
}

/// While no attempt got an answer, the call's budget is the shorter one (60 s by
/// default): an unreachable Salesforce stops the run in about a minute, not five.
#[tokio::test(start_paused = true)]
async fn an_unreachable_salesforce_gets_the_shorter_budget() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = client_for(format!("http://{addr}"), RetryPolicy::default())
        .timeouts(Duration::from_secs(3600), Duration::from_secs(3600))
        .build()
        .unwrap();
    let err = get(&client).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // Delays of at least 0.25, 0.5, 1, 2, 4, 8, 15, 15 … s: well under 20 attempts fit
    // in 60 s, against 100 allowed by the attempt ceiling.
    let calls = client.call_counts()["get"];
    assert!((1..=12).contains(&calls), "{calls}");
    // Until something answers, the next calls make one attempt each.
    get(&client).await.unwrap_err();
    assert_eq!(client.call_counts()["get"], calls + 1);
}
