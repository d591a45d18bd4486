//! The error messages a person reads in logs and reports, pinned as snapshots.

use httpmock::prelude::*;
use sfdc_client::{Client, Credentials, Error};

use crate::common::{json, static_client};
use crate::fixture;

/// The error for a GET answered with `status` and `body`, and its message with the
/// mock server's address replaced by `http://SERVER`.
async fn error_for(status: u16, body: &'static str) -> (Error, String) {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET)
            .path_prefix("/services/data/v62.0/sobjects/Account/");
        json(then, status, body);
    });
    let err = static_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    let message = shown(&err, &server.base_url());
    (err, message)
}

fn shown(err: &Error, server_base: &str) -> String {
    err.to_string().replace(server_base, "http://SERVER")
}

#[tokio::test]
async fn api_error_names_status_method_url_and_codes() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET)
            .path_prefix("/services/data/v62.0/sobjects/Account/");
        json(
            then,
            404,
            r#"[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]"#,
        )
        .header("x-sfdc-request-id", "4f1Xb00000abcDEF");
    });
    let err = static_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    insta::assert_snapshot!(shown(&err, &server.base_url()));
}

#[tokio::test]
async fn limit_error_says_the_daily_limit_is_exhausted() {
    let (_, message) = error_for(403, fixture!("request_limit_exceeded.json")).await;
    insta::assert_snapshot!(message);
}

#[tokio::test]
async fn an_html_error_page_is_kept_truncated() {
    let page: &'static str =
        Box::leak(format!("<html><body>{}</body></html>", "x".repeat(2000)).into_boxed_str());
    let (err, _) = error_for(502, page).await;
    match &err {
        Error::Api { body, errors, .. } => {
            assert!(errors.is_empty());
            assert!(
                body.starts_with("<html><body>xxx") && body.ends_with("(2026 bytes in all)"),
                "{body}"
            );
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

fn build(version: &str) -> Result<Client, Error> {
    Client::builder()
        .api_version(version)
        .credentials(Credentials::AccessToken {
            access_token: "t".to_owned().into(),
            instance_url: "http://127.0.0.1:1".into(),
        })
        .build()
}

#[test]
fn configuration_errors_are_specific() {
    assert_eq!(build("62.0").unwrap().api_version(), "v62.0");
    insta::assert_snapshot!(build("latest").unwrap_err().to_string(), @r#"invalid Salesforce client configuration: API version "latest" is not like v62.0"#);
    let no_creds = Client::builder().build().unwrap_err();
    insta::assert_snapshot!(no_creds.to_string(), @"invalid Salesforce client configuration: no Salesforce credentials were given");
}
