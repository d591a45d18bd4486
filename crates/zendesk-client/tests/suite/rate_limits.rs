//! Rate limits: a plain-text 429 with `Retry-After` is waited out exactly and retried
//! (paused clock); repeated 429s give up as `RateLimited`; low budget headers slow us down.

use crate::support::{builder, fixture};
use httpmock::prelude::*;
use std::time::Duration;
use zendesk_client::{Error, NewOrganization, OrgId, RetryPolicy};

#[tokio::test(start_paused = true)]
async fn plain_text_429_waits_retry_after_then_retries() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(429)
                .header("content-type", "text/plain")
                .header("retry-after", "7")
                .body(fixture!("rate_limited_429.txt"));
        })
        .await;
    let c = builder(&server).timeout(None).build().expect("client");
    let started = tokio::time::Instant::now();
    let task = tokio::spawn({
        let c = c.clone();
        async move {
            c.organizations()
                .create_many(vec![NewOrganization {
                    name: "Acme".into(),
                    ..NewOrganization::default()
                }])
                .await
        }
    });
    while limited.calls_async().await < 1 {
        tokio::task::yield_now().await;
    }
    limited.delete_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(200).body(fixture!("job_queued.json"));
        })
        .await;
    let handle = task.await.expect("task").expect("retried after the 429");
    // Exactly Retry-After, no jitter. (Elapsed paused time can be larger: while the
    // runtime idles on socket I/O, tokio jumps ahead to the connection pool's idle timer.)
    assert_eq!(c.waits().throttled, Duration::from_secs(7));
    assert!(started.elapsed() >= Duration::from_secs(7));
    ok.assert_async().await;
    assert_eq!(handle.submitted, 1);
    assert_eq!(
        c.request_counts().get("POST organizations/create_many"),
        Some(&2)
    );
}

#[tokio::test(start_paused = true)]
async fn repeated_429s_end_as_rate_limited() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/1.json");
            then.status(429).header("retry-after", "2").body(
                r#"{"errors":[{"code":"TooManyRequests","title":"Too many requests to update"}]}"#,
            );
        })
        .await;
    let c = builder(&server)
        .timeout(None)
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            jitter: false,
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    let err = c.organizations().show(OrgId(1)).await.expect_err("limited");
    assert!(
        matches!(err, Error::RateLimited { attempts: 3, retry_after: Some(d), .. } if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert!(err.is_retriable());
    assert_eq!(m.calls_async().await, 3);
    // 2 s, then max(2 s, backoff 2 s) = 2 s.
    assert_eq!(c.waits().throttled, Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn a_low_budget_slows_the_next_request() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/1.json");
            then.status(200)
                .header("x-rate-limit", "700")
                .header("x-rate-limit-remaining", "3")
                .header("ratelimit-reset", "20")
                .body(fixture!("organization_show.json"));
        })
        .await;
    let c = builder(&server).timeout(None).build().expect("client");
    c.organizations().show(OrgId(1)).await.expect("first");
    assert_eq!(c.waits().paced, Duration::ZERO);
    let before = tokio::time::Instant::now();
    c.organizations().show(OrgId(1)).await.expect("second");
    // 20 s to reset spread over 3 + 1 requests: 5 s before the next one.
    let paced = c.waits().paced;
    assert!(
        paced > Duration::from_secs(4) && paced <= Duration::from_secs(5),
        "{paced:?}"
    );
    assert!(before.elapsed() >= paced);
}
