//! Retry classification and policy: what is retried, how often, and how long to wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use httpmock::prelude::*;
use httpmock::HttpMockResponse;
use rand::SeedableRng;
use sfdc_client::{parse_retry_after, Client, Credentials, Error, RetryPolicy, TransportKind};

use crate::common::{fast_retry, json, static_client};
use crate::fixture;

const ACCOUNT_PATH: &str = "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG";

/// Answers `first` for the first `n` calls, then `then_status` with `then_body`.
fn flaky<'a>(
    server: &'a MockServer,
    method: httpmock::Method,
    path: &'static str,
    n: usize,
    first: (u16, &'static str),
    then_: (u16, &'static str),
) -> httpmock::Mock<'a> {
    let calls = Arc::new(AtomicUsize::new(0));
    server.mock(move |when, then| {
        when.method(method).path(path);
        then.respond_with(move |_| {
            let (status, body) = if calls.fetch_add(1, Ordering::SeqCst) < n {
                first
            } else {
                then_
            };
            HttpMockResponse::builder()
                .status(status)
                .header("content-type", "application/json")
                .header("sforce-limit-info", "api-usage=90/100")
                .body(body)
                .build()
        });
    })
}

#[tokio::test]
async fn request_limit_exceeded_is_not_retried_and_not_refreshed() {
    let server = MockServer::start_async().await;
    let token = server.mock(|when, then| {
        when.method(POST).path("/services/oauth2/token");
        then.status(500);
    });
    let rest = server.mock(|when, then| {
        when.method(GET).path(ACCOUNT_PATH);
        json(then, 403, fixture!("request_limit_exceeded.json"));
    });
    let err = static_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::RequestLimitExceeded { message, .. } if message == "TotalRequests Limit exceeded."),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("daily API request limit is exhausted"),
        "{err}"
    );
    assert!(!err.is_retriable());
    rest.assert_calls(1);
    token.assert_calls(0);
}

#[tokio::test]
async fn a_503_on_a_get_is_retried_then_succeeds() {
    let server = MockServer::start_async().await;
    let mock = flaky(
        &server,
        GET,
        ACCOUNT_PATH,
        1,
        (503, fixture!("server_unavailable.json")),
        (200, r#"{"Id":"001xx000003DGb2AAG"}"#),
    );
    let client = static_client(&server);
    let v: serde_json::Value = client
        .get("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap();
    assert_eq!(v["Id"], "001xx000003DGb2AAG");
    mock.assert_calls(2);
    assert_eq!(client.call_counts()["get"], 2);
    let usage = client.api_usage().unwrap();
    assert_eq!((usage.used, usage.limit), (90, 100));
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(GET).path(ACCOUNT_PATH);
        json(then, 503, fixture!("server_unavailable.json"));
    });
    let err = static_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { status: 503, .. }), "{err:?}");
    assert!(err.is_retriable());
    mock.assert_calls(1 + fast_retry().max_retries as usize);
}

#[tokio::test]
async fn a_503_on_a_create_is_not_blindly_resent() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST).path("/services/data/v62.0/sobjects/Case");
        json(then, 503, fixture!("server_unavailable.json"));
    });
    let err = static_client(&server)
        .create("Case", &serde_json::json!({"Subject": "x"}))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { status: 503, .. }), "{err:?}");
    mock.assert_calls(1);
}

#[tokio::test]
async fn unable_to_lock_row_on_a_create_is_retried_because_nothing_was_written() {
    let lock = r#"[{"message":"unable to obtain exclusive access to this record or 1 records: 0013000000ABCDeAAF","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]"#;
    let server = MockServer::start_async().await;
    let mock = flaky(
        &server,
        POST,
        "/services/data/v62.0/sobjects/Case",
        1,
        (400, lock),
        (201, fixture!("create_success.json")),
    );
    let saved = static_client(&server)
        .create("Case", &serde_json::json!({"Subject": "x"}))
        .await
        .unwrap();
    assert_eq!(saved.id, "500xx000000bXyzAAE");
    mock.assert_calls(2);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_retries() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .credentials(Credentials::AccessToken {
            access_token: "t".to_owned().into(),
            instance_url: format!("http://127.0.0.1:{port}"),
        })
        .retry_policy(fast_retry())
        .build()
        .unwrap();
    let err = client
        .get::<serde_json::Value>("Account", "001", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        client.call_counts()["get"],
        1 + u64::from(fast_retry().max_retries)
    );
}

#[test]
fn backoff_doubles_with_equal_jitter_and_is_capped() {
    let policy = RetryPolicy {
        max_retries: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        max_elapsed: Duration::from_secs(10),
        ..RetryPolicy::default()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for (retry, full_ms) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (9, 1000)] {
        let d = policy.backoff(retry, None, &mut rng);
        let full = Duration::from_millis(full_ms);
        assert!(
            d >= full / 2 && d <= full,
            "retry {retry}: {d:?} outside [{:?}, {full:?}]",
            full / 2
        );
    }
    // Same seed, same delays: the jitter is reproducible in tests.
    let a = policy.backoff(3, None, &mut rand::rngs::StdRng::seed_from_u64(1));
    let b = policy.backoff(3, None, &mut rand::rngs::StdRng::seed_from_u64(1));
    assert_eq!(a, b);
    // A server's Retry-After wins, capped by max_delay.
    assert_eq!(
        policy.backoff(1, Some(Duration::from_millis(700)), &mut rng),
        Duration::from_millis(700)
    );
    assert_eq!(
        policy.backoff(1, Some(Duration::from_secs(60)), &mut rng),
        Duration::from_secs(1)
    );
    assert!(policy.allows(10, Duration::from_secs(8), Duration::from_secs(2)));
    assert!(!policy.allows(11, Duration::ZERO, Duration::ZERO));
    assert!(!policy.allows(1, Duration::from_secs(9), Duration::from_millis(1001)));
}

#[test]
fn retry_after_parses_seconds_and_dates_against_now() {
    let now = time::macros::datetime!(2026-11-25 18:00:00 UTC);
    assert_eq!(
        parse_retry_after("120", now),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after("Wed, 25 Nov 2026 18:00:30 GMT", now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        parse_retry_after("Wed, 25 Nov 2026 17:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
}

#[test]
fn limit_info_parsing() {
    use sfdc_client::{parse_limit_info, ApiUsage};
    assert_eq!(
        parse_limit_info("api-usage=51/100000"),
        Some(ApiUsage {
            used: 51,
            limit: 100000
        })
    );
    assert_eq!(
        parse_limit_info(
            "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)"
        ),
        Some(ApiUsage {
            used: 18,
            limit: 5000
        })
    );
    assert_eq!(
        parse_limit_info("per-app-api-usage=17/250(appName=x)"),
        None
    );
    assert_eq!(parse_limit_info("api-usage=x/5"), None);
}

/// Collects formatted log lines for one test.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn usage_above_80_percent_is_warned_once() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    let usage = Arc::new(AtomicUsize::new(79));
    let seen = Arc::clone(&usage);
    server.mock(move |when, then| {
        when.method(GET).path(ACCOUNT_PATH);
        then.respond_with(move |_| {
            let used = seen.fetch_add(1, Ordering::SeqCst);
            HttpMockResponse::builder()
                .status(200)
                .header("sforce-limit-info", format!("api-usage={used}/100"))
                .body(r#"{"Id":"001xx000003DGb2AAG"}"#)
                .build()
        });
    });
    let client = static_client(&server);
    for _ in 0..4 {
        let _: serde_json::Value = client
            .get("Account", "001xx000003DGb2AAG", &[])
            .await
            .unwrap();
    }
    assert_eq!(client.api_usage().map(|u| u.used), Some(82));
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("above 80 %").count(), 1, "{text}");
    assert!(text.contains("used=81"), "{text}");
}
