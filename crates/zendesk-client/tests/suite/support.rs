//! Shared setup: the mock server, a client pointed at it, and fixture loading.

use httpmock::MockServer;
use std::time::Duration;
use zendesk_client::{Auth, Client, ClientBuilder, PollPolicy, RetryPolicy};

/// A fixture body from `fixtures/zendesk/`, embedded at compile time.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/zendesk/",
            $name
        ))
    };
}
pub(crate) use fixture;

/// `Basic base64("agent@example.com/token:t0ken")`.
pub const AUTH_HEADER: &str = "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46dDBrZW4=";

/// A retry policy without jitter, so waits are exact.
pub fn exact_retry() -> RetryPolicy {
    RetryPolicy {
        jitter: false,
        ..RetryPolicy::default()
    }
}

/// A builder pointed at `server` with API-token auth, exact retries and fast polling. No
/// connect timeout: under tokio's paused clock it could fire while the runtime idles on
/// a loopback connect.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .url(server.base_url())
        .connect_timeout(None)
        .auth(Auth::api_token("agent@example.com", "t0ken"))
        .retry_policy(exact_retry())
        .poll_policy(PollPolicy {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
            timeout: Duration::from_secs(20),
        })
}

/// A client for `server` with the defaults above.
pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("client builds")
}
