//! Shared setup: fixture loading, clients pointed at a mock server, fast retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use httpmock::prelude::*;
use httpmock::{HttpMockResponse, Mock};
use sfdc_client::{Client, Credentials, RetryPolicy};

/// Loads a fixture from `fixtures/salesforce/` at compile time.
#[macro_export]
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/salesforce/",
            $name
        ))
    };
}

/// The test-only RSA private key.
pub const TEST_KEY: &str = fixture!("test-only-jwt-key.pem");
/// Its public half, to verify assertions in the mock.
pub const TEST_PUBLIC_KEY: &str = fixture!("test-only-jwt-key.pub.pem");

/// Retries with millisecond delays so tests stay fast.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        max_elapsed: Duration::from_secs(5),
        max_elapsed_without_answer: Duration::from_secs(5),
    }
}

/// A token response whose `instance_url` is the mock server, with the given token.
pub fn token_body(server: &MockServer, token: &str) -> String {
    let mut body: serde_json::Value = serde_json::from_str(fixture!("token_success.json")).unwrap();
    body["instance_url"] = server.base_url().into();
    body["access_token"] = token.into();
    body.to_string()
}

/// A client holding a static token for the mock server.
pub fn static_client(server: &MockServer) -> Client {
    Client::builder()
        .credentials(Credentials::AccessToken {
            access_token: "static-token".to_owned().into(),
            instance_url: server.base_url(),
        })
        .retry_policy(fast_retry())
        .build()
        .unwrap()
}

/// A client using the client-credentials flow against the mock server.
pub fn cc_client(server: &MockServer) -> Client {
    Client::builder()
        .login_url(server.base_url())
        .credentials(Credentials::ClientCredentials {
            client_id: "3MVG9-client".into(),
            client_secret: "s3cr3t-value".to_owned().into(),
        })
        .retry_policy(fast_retry())
        .build()
        .unwrap()
}

/// A token endpoint issuing `tok-1`, `tok-2`, ... on successive calls.
pub fn numbered_token_mock(server: &MockServer) -> Mock<'_> {
    let issued = Arc::new(AtomicUsize::new(0));
    let base = server.base_url();
    server.mock(move |when, then| {
        when.method(POST).path("/services/oauth2/token");
        then.respond_with(move |_| {
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            let mut body: serde_json::Value =
                serde_json::from_str(fixture!("token_success.json")).unwrap();
            body["instance_url"] = base.clone().into();
            body["access_token"] = format!("tok-{n}").into();
            HttpMockResponse::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(body.to_string())
                .build()
        });
    })
}

/// Answers `status` with a JSON fixture body and an api-usage header.
pub fn json(then: httpmock::Then, status: u16, body: &str) -> httpmock::Then {
    then.status(status)
        .header("content-type", "application/json;charset=UTF-8")
        .header("sforce-limit-info", "api-usage=16/100000")
        .body(body)
}
