//! Retries bounded by time (per call, per run) instead of a streak of failures; absurd
//! `Retry-After` values; bodies read with a cap; transport errors that name their cause;
//! job-limit answers in other forms; builder checks. Paused clock where waits matter.

use crate::support::{builder, exact_retry, fixture};
use httpmock::prelude::*;
use std::io::{Read, Write};
use std::time::Duration;
use zendesk_client::{Auth, Client, Error, NewOrganization, OrgId, RetryPolicy};

fn acme() -> Vec<NewOrganization> {
    vec![NewOrganization {
        name: "Acme".into(),
        ..NewOrganization::default()
    }]
}

/// Answers `first` until it has been called `n` times, then `200 then_body`.
async fn fail_n_times_then_ok(
    server: &MockServer,
    post: bool,
    path: &'static str,
    n: usize,
    first: impl Fn(httpmock::Then) -> httpmock::Then + Send + 'static,
    ok_body: &'static str,
) {
    let method = || if post { POST } else { GET };
    let failing = server
        .mock_async(|when, then| {
            when.method(method()).path(path);
            first(then);
        })
        .await;
    // Sleeping (not yielding) lets the paused clock run to the client's retry timers;
    // every retry wait is at least 1 s, so a 100 ms step sees the n-th call before the
    // next one is sent.
    while failing.calls_async().await < n {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    failing.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(method()).path(path);
            then.status(200).body(ok_body);
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_is_capped_not_a_panic() {
    for value in [
        "1e20",
        "-5",
        "NaN",
        "inf",
        "Sat, 01 Jan 9999 00:00:00 GMT",
        "soon",
        "1e400",
    ] {
        let server = MockServer::start_async().await;
        let c = builder(&server).timeout(None).build().expect("client");
        let task = tokio::spawn({
            let c = c.clone();
            async move { c.organizations().show(OrgId(1)).await }
        });
        fail_n_times_then_ok(
            &server,
            false,
            "/api/v2/organizations/1.json",
            1,
            move |then| {
                then.status(429)
                    .header("retry-after", value)
                    .body("slow down")
            },
            fixture!("organization_show.json"),
        )
        .await;
        task.await
            .expect("no panic")
            .unwrap_or_else(|e| panic!("{value}: {e}"));
        let waited = c.waits().throttled;
        // Capped by the policy (2 minutes), never above the parse cap (15 minutes);
        // unreadable values fall back to the default 10 s.
        assert!(waited <= Duration::from_secs(120), "{value}: {waited:?}");
        assert!(waited >= Duration::from_secs(10), "{value}: {waited:?}");
    }
}

/// Ten 500s in a row on a read no longer end the call (the old limit was 6 attempts).
#[tokio::test(start_paused = true)]
async fn a_streak_of_failures_within_the_time_budget_is_ridden_out() {
    let server = MockServer::start_async().await;
    let c = builder(&server)
        .timeout(None)
        .retry_policy(RetryPolicy {
            max_elapsed: Duration::from_secs(3600),
            ..exact_retry()
        })
        .build()
        .expect("client");
    let task = tokio::spawn({
        let c = c.clone();
        async move { c.organizations().show(OrgId(5)).await }
    });
    fail_n_times_then_ok(
        &server,
        false,
        "/api/v2/organizations/5.json",
        10,
        |then| {
            then.status(500)
                .body(fixture!("error_unavailable_500.json"))
        },
        fixture!("organization_show.json"),
    )
    .await;
    let org = task.await.expect("task").expect("ridden out");
    assert_eq!(org.name, "Globex");
    assert_eq!(c.request_counts().get("GET organizations/{id}"), Some(&11));
}

/// The run budget is shared by every call of the client and counts retry waiting only,
/// so it is exact under a paused clock: 1 s + 2 s fit in 5 s, the next 4 s does not.
#[tokio::test(start_paused = true)]
async fn the_run_budget_ends_retries_when_spent() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/5.json");
            then.status(503).body("down");
        })
        .await;
    let c = builder(&server)
        .timeout(None)
        .retry_policy(RetryPolicy {
            max_elapsed: Duration::from_secs(3600),
            default_retry_after: Duration::from_secs(1),
            ..exact_retry()
        })
        .run_retry_budget(Some(Duration::from_secs(5)))
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(5)).await.expect_err("budget");
    // 503 on a read is throttling: 1 s, then max(1 s, backoff 2 s), then 4 s > what is left.
    assert!(
        matches!(err, Error::RateLimited { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.stops_run() && err.is_retriable());
    assert_eq!(m.calls_async().await, 3);
    assert_eq!(c.waits().throttled, Duration::from_secs(3));
    assert_eq!(c.run_retry_budget_left(), Some(Duration::from_secs(2)));
    // The next call finds the budget nearly spent: one attempt, no wait of 1 s … fits.
    let err = c.organizations().show(OrgId(5)).await.expect_err("again");
    assert!(err.stops_run());
}

/// A per-call time budget ends a call that keeps failing, whatever the attempt ceiling.
#[tokio::test(start_paused = true)]
async fn the_call_budget_ends_a_call_that_keeps_failing() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/5.json");
            then.status(500)
                .body(fixture!("error_unavailable_500.json"));
        })
        .await;
    let c = builder(&server)
        .timeout(None)
        .retry_policy(RetryPolicy {
            max_attempts: 1000,
            max_elapsed: Duration::from_secs(10),
            ..exact_retry()
        })
        .run_retry_budget(None)
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(5)).await.expect_err("budget");
    assert!(
        matches!(&err, Error::Api(api) if api.status == 500),
        "{err:?}"
    );
    assert!(err.stops_run());
    // 1 s + 2 s + 4 s fit in 10 s, 8 s more does not: at most 4 attempts.
    let calls = m.calls_async().await;
    assert!((1..=4).contains(&calls), "{calls}");
    assert!(c.waits().backoff <= Duration::from_secs(10));
    assert_eq!(c.run_retry_budget_left(), None);
}

/// A server that accepts connections and never answers: each attempt ends at the
/// per-request timeout, the call at its time budget, with a message naming the cause.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_costs_the_budget_not_attempts_times_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let c = Client::builder()
        .url(format!("http://{addr}"))
        .auth(Auth::oauth("t"))
        .timeout(Some(Duration::from_secs(5)))
        .connect_timeout(None)
        .retry_policy(RetryPolicy {
            max_elapsed: Duration::from_secs(60),
            ..exact_retry()
        })
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(1)).await.expect_err("timeout");
    let Error::Transport { message, .. } = &err else {
        panic!("expected Transport, got {err:?}");
    };
    assert!(
        message.starts_with(&format!("timed out talking to {addr}")),
        "{message}"
    );
    assert!(err.stops_run() && err.is_retriable());
    let calls = c.request_counts().get("GET organizations/{id}").copied();
    assert!(matches!(calls, Some(2..=10)), "{calls:?}");
}

#[tokio::test(start_paused = true)]
async fn connection_refused_is_named_with_the_host() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let c = Client::builder()
        .url(format!("http://{addr}"))
        .auth(Auth::oauth("secret-token-value"))
        .connect_timeout(None)
        .timeout(None)
        .retry_policy(RetryPolicy {
            max_elapsed: Duration::from_secs(5),
            ..exact_retry()
        })
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(1)).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("connection refused by {addr}")),
        "{text}"
    );
    assert!(!text.contains("secret-token-value"));
    assert!(!format!("{err:?}").contains("secret-token-value"));
    // A create whose connection never opened is retried too (nothing was applied), and
    // ends as a transport error, not an unknown outcome.
    let err = c
        .organizations()
        .create_many(acme())
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unknown_host_is_a_dns_failure() {
    let c = Client::builder()
        .url("http://no-such-host.invalid")
        .auth(Auth::oauth("t"))
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..exact_retry()
        })
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(1)).await.expect_err("dns");
    assert!(
        err.to_string()
            .contains("DNS failure for no-such-host.invalid:80"),
        "{err}"
    );
}

/// Serves one HTTP/1.1 answer with an endless chunked body, until the client hangs up.
fn endless_body_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
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
    let c = Client::builder()
        .url(format!("http://{addr}"))
        .auth(Auth::oauth("t"))
        .max_response_bytes(1024 * 1024)
        .build()
        .expect("client");
    let err = c
        .organizations()
        .show(OrgId(1))
        .await
        .expect_err("too large");
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
    assert_eq!(c.request_counts().get("GET organizations/{id}"), Some(&1));
    // A write's answer cut at the cap: it may have been applied.
    let err = c
        .organizations()
        .create_many(acme())
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::WriteOutcomeUnknown { .. }), "{err:?}");
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/1.json");
            then.status(200).body("x".repeat(2048));
        })
        .await;
    let c = builder(&server)
        .max_response_bytes(1024)
        .build()
        .expect("client");
    let err = c
        .organizations()
        .show(OrgId(1))
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

/// The answer past the job limit is [UNCONFIRMED]: a 4xx (or 503) saying "too many jobs"
/// in any plausible words is waited out like a 429, and a create is resent only then.
#[tokio::test(start_paused = true)]
async fn a_job_limit_refusal_in_another_form_is_waited_out() {
    let bodies: [(u16, &'static str); 4] = [
        (
            400,
            r#"{"error":"TooManyJobs","description":"Too many jobs queued"}"#,
        ),
        (
            422,
            r#"{"errors":[{"code":"JobLimitExceeded","title":"Job limit reached"}]}"#,
        ),
        (403, "You have reached the job limit for this account"),
        (
            503,
            r#"{"error":"Unavailable","description":"Too many jobs are running, try later"}"#,
        ),
    ];
    for (status, body) in bodies {
        let server = MockServer::start_async().await;
        let c = builder(&server).timeout(None).build().expect("client");
        let task = tokio::spawn({
            let c = c.clone();
            async move { c.organizations().create_many(acme()).await }
        });
        fail_n_times_then_ok(
            &server,
            true,
            "/api/v2/organizations/create_many.json",
            2,
            move |then| then.status(status).body(body),
            fixture!("job_queued.json"),
        )
        .await;
        let handle = task
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("{status} {body}: {e}"));
        assert_eq!(handle.submitted, 1);
        assert_eq!(
            c.request_counts().get("POST organizations/create_many"),
            Some(&3),
            "{status}"
        );
        assert!(c.waits().throttled >= Duration::from_secs(10), "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_limit_that_outlasts_the_budget_is_recognisable() {
    for (status, retry_after, body) in [
        (429, None, "Too Many Requests"),
        (429, Some("3"), r#"{"error":"TooManyJobs"}"#),
        (400, None, r#"{"error":"TooManyJobs"}"#),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/api/v2/organizations/create_many.json");
                let then = then.status(status).body(body);
                if let Some(v) = retry_after {
                    then.header("retry-after", v);
                }
            })
            .await;
        let c = builder(&server)
            .timeout(None)
            .retry_policy(RetryPolicy {
                max_elapsed: Duration::from_secs(30),
                ..exact_retry()
            })
            .build()
            .expect("client");
        let err = c
            .organizations()
            .create_many(acme())
            .await
            .expect_err("limit");
        assert!(err.is_job_limit(), "{status}: {err:?}");
        assert!(err.is_throttled() && err.is_retriable(), "{err:?}");
    }
    // A 429 on a read is throttling, not the job limit; a 400 without those words on a
    // bulk submit is a plain refusal, sent once.
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(400)
                .body(r#"{"error":"InvalidValue","description":"Name is bad"}"#);
        })
        .await;
    let err = builder(&server)
        .timeout(None)
        .build()
        .expect("client")
        .organizations()
        .create_many(acme())
        .await
        .expect_err("400");
    assert!(
        matches!(&err, Error::Api(api) if api.status == 400),
        "{err:?}"
    );
    assert!(!err.is_job_limit() && !err.stops_run(), "{err:?}");
    assert_eq!(m.calls_async().await, 1);
}

#[test]
fn builders_refuse_other_schemes_and_unusable_credentials() {
    for url in [
        "ftp://example.zendesk.com",
        "file:///etc/passwd",
        "mailto:a@b.c",
    ] {
        let err = Client::builder()
            .url(url)
            .auth(Auth::oauth("t"))
            .build()
            .expect_err(url);
        assert!(
            matches!(&err, Error::Config(m) if m.contains("https or http")),
            "{err}"
        );
        assert!(err.stops_run());
    }
    for auth in [
        Auth::oauth("tok\nen-secret"),
        Auth::api_token("a@b.c", "tok\r\nen-secret"),
        Auth::api_token("a@b.c\n", "token-secret"),
        Auth::oauth(""),
    ] {
        let err = Client::builder()
            .url("https://example.zendesk.com")
            .auth(auth)
            .build()
            .expect_err("bad credentials");
        assert!(
            matches!(&err, Error::Config(m) if m.contains("control character")),
            "{err}"
        );
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}

/// While no attempt got an answer, the call's budget is the shorter one (60 s by
/// default): an unreachable Zendesk stops the run in about a minute, not five.
#[tokio::test(start_paused = true)]
async fn an_unreachable_zendesk_gets_the_shorter_budget() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let c = Client::builder()
        .url(format!("http://{addr}"))
        .auth(Auth::oauth("t"))
        .connect_timeout(None)
        .timeout(None)
        .retry_policy(exact_retry())
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(1)).await.expect_err("refused");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    // 1 + 2 + 4 + 8 + 16 s fit in 60 s, 30 s more does not: at most 6 attempts.
    let calls = c.request_counts().get("GET organizations/{id}").copied();
    assert!(matches!(calls, Some(1..=6)), "{calls:?}");
    assert!(c.waits().backoff <= Duration::from_secs(60));
    // Until something answers, the next calls make one attempt each: an unreachable
    // Zendesk costs one call's budget, not one per call.
    let before = c.total_requests();
    let err = c.organizations().show(OrgId(2)).await.expect_err("refused");
    assert!(err.stops_run());
    assert_eq!(c.total_requests(), before + 1);
}
