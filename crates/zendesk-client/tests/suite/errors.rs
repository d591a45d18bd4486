//! Error answers: both JSON envelopes and plain text, sorted into variants, with status,
//! URL, request id and body; retries only where repeating is safe.

use crate::support::{client, fixture};
use httpmock::prelude::*;
use zendesk_client::{Error, NewOrganization, OrgId};

#[tokio::test]
async fn record_not_found_carries_code_message_and_request_id() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/9223372036854775807.json");
            then.status(404)
                .header("x-zendesk-request-id", "8a1b2c3d4e5f")
                .body(fixture!("error_record_not_found.json"));
        })
        .await;
    let err = client(&server)
        .organizations()
        .show(OrgId(9223372036854775807))
        .await
        .expect_err("404");
    let Error::NotFound(api) = &err else {
        panic!("expected NotFound, got {err:?}");
    };
    assert_eq!(api.status, 404);
    assert_eq!(api.code.as_deref(), Some("RecordNotFound"));
    assert_eq!(api.message, "Not found");
    assert_eq!(api.request_id.as_deref(), Some("8a1b2c3d4e5f"));
    assert!(api
        .url
        .ends_with("/api/v2/organizations/9223372036854775807.json"));
    assert!(!err.is_retriable());
    let text = err.to_string();
    assert!(text.contains("HTTP 404 on GET"), "{text}");
    assert!(text.contains("request id 8a1b2c3d4e5f"), "{text}");
}

#[tokio::test]
async fn too_many_values_is_its_own_variant() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/show_many.json");
            then.status(400)
                .body(fixture!("error_too_many_values_orgs.json"));
        })
        .await;
    let err = client(&server)
        .organizations()
        .show_many(&[OrgId(1), OrgId(2)])
        .await
        .expect_err("400");
    let Error::TooManyValues(api) = err else {
        panic!("expected TooManyValues");
    };
    assert_eq!(
        api.message,
        "Parameter  cannot specify more than 100 values"
    );
}

#[tokio::test]
async fn the_errors_array_envelope_is_understood() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/show_many.json");
            then.status(400)
                .header("x-request-id", "req-77")
                .body(fixture!("error_invalid_pagination_depth.json"));
        })
        .await;
    let err = client(&server)
        .organizations()
        .show_many(&[OrgId(1)])
        .await
        .expect_err("400");
    let Error::Api(api) = err else {
        panic!("expected Api");
    };
    assert_eq!(api.code.as_deref(), Some("InvalidPaginationDepth"));
    assert!(api
        .message
        .starts_with("Pagination requests using Offset Pagination"));
    assert_eq!(api.request_id.as_deref(), Some("req-77"));
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/1.json");
            then.status(401)
                .body(r#"{"error":"Couldn't authenticate you"}"#);
        })
        .await;
    let err = client(&server)
        .organizations()
        .show(OrgId(1))
        .await
        .expect_err("401");
    let Error::Unauthorized(api) = err else {
        panic!("expected Unauthorized");
    };
    assert_eq!(api.code.as_deref(), Some("Couldn't authenticate you"));
    assert_eq!(m.calls_async().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_read_is_retried_after_a_500_with_backoff() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/5.json");
            then.status(500)
                .body(fixture!("error_unavailable_500.json"));
        })
        .await;
    let c = crate::support::builder(&server)
        .timeout(None)
        .build()
        .expect("client");
    let show = tokio::spawn({
        let c = c.clone();
        async move { c.organizations().show(OrgId(5)).await }
    });
    while failing.calls_async().await < 1 {
        tokio::task::yield_now().await;
    }
    failing.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/5.json");
            then.status(200).body(fixture!("organization_show.json"));
        })
        .await;
    let org = show.await.expect("task").expect("retried");
    assert_eq!(org.name, "Globex");
    assert_eq!(c.request_counts().get("GET organizations/{id}"), Some(&2));
}

#[tokio::test]
async fn a_create_answered_500_is_never_resent() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(500)
                .body(fixture!("error_unavailable_500.json"));
        })
        .await;
    let err = client(&server)
        .organizations()
        .create_many(vec![NewOrganization {
            name: "Acme".into(),
            ..NewOrganization::default()
        }])
        .await
        .expect_err("500");
    assert!(
        matches!(&err, Error::WriteOutcomeUnknown { method, message, .. }
            if method == "POST" && message.contains("Internal Server Error")),
        "{err:?}"
    );
    assert!(!err.is_retriable());
    assert_eq!(m.calls_async().await, 1);
}

#[tokio::test]
async fn a_write_whose_connection_drops_is_outcome_unknown() {
    // A server that accepts the request and closes without answering.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
        }
    });
    let c = zendesk_client::Client::builder()
        .url(format!("http://{addr}"))
        .auth(zendesk_client::Auth::oauth("t"))
        .build()
        .expect("client");
    let err = c
        .organizations()
        .create_many(vec![NewOrganization {
            name: "Acme".into(),
            ..NewOrganization::default()
        }])
        .await
        .expect_err("dropped");
    assert!(matches!(err, Error::WriteOutcomeUnknown { .. }), "{err:?}");
    assert_eq!(
        c.request_counts().get("POST organizations/create_many"),
        Some(&1)
    );
}
