//! Token flows, their errors, session renewal on 401 and secret redaction.

use httpmock::prelude::*;
use sfdc_client::{Client, Credentials, Error, JwtClaims};

use crate::common::{
    cc_client, fast_retry, json, numbered_token_mock, static_client, token_body, TEST_KEY,
    TEST_PUBLIC_KEY,
};
use crate::fixture;

const ACCOUNT_PATH: &str = "/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG";
const ACCOUNT: &str = r#"{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG"},"Id":"001xx000003DGb2AAG","Name":"Acme"}"#;

#[tokio::test]
async fn client_credentials_flow_posts_the_form_and_uses_instance_url() {
    let login = MockServer::start_async().await;
    let instance = MockServer::start_async().await;
    let token = login.mock(|when, then| {
        when.method(POST)
            .path("/services/oauth2/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .form_urlencoded_tuple("grant_type", "client_credentials")
            .form_urlencoded_tuple("client_id", "3MVG9-client")
            .form_urlencoded_tuple("client_secret", "s3cr3t-value");
        json(then, 200, &token_body(&instance, "tok-cc"));
    });
    let get = instance.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-cc");
        json(then, 200, ACCOUNT);
    });
    let client = cc_client(&login);
    let account: serde_json::Value = client
        .get("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap();
    assert_eq!(account["Name"], "Acme");
    token.assert_calls(1);
    get.assert_calls(1);
    let counts = client.call_counts();
    assert_eq!((counts["auth"], counts["get"]), (1, 1));
}

#[tokio::test]
async fn client_credentials_error_is_an_auth_error_with_the_oauth_fields() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path("/services/oauth2/token");
        json(then, 400, fixture!("token_error_domain.json"));
    });
    let err = cc_client(&server).authenticate().await.unwrap_err();
    match &err {
        Error::Auth {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, Some(400));
            assert_eq!(error, "invalid_grant");
            assert_eq!(description, "request not supported on this domain");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(!err.to_string().contains("s3cr3t-value"));
}

#[test]
fn client_credentials_on_the_generic_login_host_is_refused_before_any_request() {
    let err = Client::builder()
        .login_url("https://login.salesforce.com")
        .credentials(Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: "secret".to_owned().into(),
        })
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("My Domain")),
        "{err}"
    );
}

fn jwt_client(server: &MockServer) -> Client {
    Client::builder()
        .login_url(server.base_url())
        .credentials(Credentials::JwtBearer {
            client_id: "3MVG99OxTyEMCQ3g".into(),
            username: "integration@acme.example".into(),
            private_key_pem: TEST_KEY.to_owned().into(),
            audience: "https://test.salesforce.com".into(),
        })
        .retry_policy(fast_retry())
        .build()
        .unwrap()
}

/// Verifies the RS256 assertion in a token request and its claims.
fn valid_assertion(req: &httpmock::HttpMockRequest) -> bool {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body_ref())
        .into_owned()
        .collect();
    let grant = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "urn:ietf:params:oauth:grant-type:jwt-bearer");
    let Some((_, assertion)) = form.iter().find(|(k, _)| k == "assertion") else {
        return false;
    };
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["https://test.salesforce.com"]);
    validation.set_issuer(&["3MVG99OxTyEMCQ3g"]);
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    let Ok(data) = jsonwebtoken::decode::<JwtClaims>(assertion, &key, &validation) else {
        return false;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    grant
        && data.header.alg == jsonwebtoken::Algorithm::RS256
        && data.claims.sub == "integration@acme.example"
        && data.claims.exp > now
        && data.claims.exp <= now + 180
}

#[tokio::test]
async fn jwt_bearer_flow_sends_a_signed_assertion_with_the_documented_claims() {
    let server = MockServer::start_async().await;
    let token = server.mock(|when, then| {
        when.method(POST)
            .path("/services/oauth2/token")
            .is_true(valid_assertion);
        json(then, 200, &token_body(&server, "tok-jwt"));
    });
    let get = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-jwt");
        json(then, 200, ACCOUNT);
    });
    let client = jwt_client(&server);
    let _: serde_json::Value = client
        .get("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap();
    token.assert_calls(1);
    get.assert_calls(1);
}

#[tokio::test]
async fn jwt_bearer_error_names_the_oauth_error() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path("/services/oauth2/token");
        json(then, 400, fixture!("token_error_not_approved.json"));
    });
    let err = jwt_client(&server).authenticate().await.unwrap_err();
    assert!(
        matches!(&err, Error::Auth { description, .. } if description == "user hasn't approved this consumer"),
        "{err:?}"
    );
    assert!(err.to_string().contains("invalid_grant"));
}

#[test]
fn a_bad_private_key_is_a_configuration_error() {
    let err = Client::builder()
        .credentials(Credentials::JwtBearer {
            client_id: "id".into(),
            username: "u".into(),
            private_key_pem: "not a key".to_owned().into(),
            audience: "https://login.salesforce.com".into(),
        })
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Config(ref m) if m.contains("RSA PEM")),
        "{err}"
    );
}

#[tokio::test]
async fn expired_session_is_renewed_once_and_the_call_repeated() {
    let server = MockServer::start_async().await;
    let token = numbered_token_mock(&server);
    let stale = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-1");
        json(then, 401, fixture!("session_expired.json"));
    });
    let fresh = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-2");
        json(then, 200, ACCOUNT);
    });
    let client = cc_client(&server);
    let account: serde_json::Value = client
        .get("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap();
    assert_eq!(account["Id"], "001xx000003DGb2AAG");
    token.assert_calls(2);
    stale.assert_calls(1);
    fresh.assert_calls(1);
}

#[tokio::test]
async fn a_second_401_after_renewal_is_an_error_not_a_loop() {
    let server = MockServer::start_async().await;
    let token = numbered_token_mock(&server);
    let rest = server.mock(|when, then| {
        when.method(GET).path(ACCOUNT_PATH);
        json(then, 401, fixture!("session_expired.json"));
    });
    let err = cc_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth { status: Some(401), error, .. } if error == "INVALID_SESSION_ID"),
        "{err:?}"
    );
    token.assert_calls(2);
    rest.assert_calls(2);
}

#[tokio::test]
async fn concurrent_401s_trigger_exactly_one_token_request() {
    let server = MockServer::start_async().await;
    let token = numbered_token_mock(&server);
    let stale = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-1");
        json(then, 401, fixture!("session_expired.json"))
            .delay(std::time::Duration::from_millis(50));
    });
    let fresh = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer tok-2");
        json(then, 200, ACCOUNT);
    });
    let client = cc_client(&server);
    client.authenticate().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                c.get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    token.assert_calls(2); // the initial login plus exactly one renewal
    stale.assert_calls(8);
    fresh.assert_calls(8);
}

#[tokio::test]
async fn a_rejected_static_token_cannot_be_renewed() {
    let server = MockServer::start_async().await;
    let token = server.mock(|when, then| {
        when.method(POST).path("/services/oauth2/token");
        then.status(500);
    });
    let rest = server.mock(|when, then| {
        when.method(GET)
            .path(ACCOUNT_PATH)
            .header("authorization", "Bearer static-token");
        json(then, 401, fixture!("session_expired.json"));
    });
    let err = static_client(&server)
        .get::<serde_json::Value>("Account", "001xx000003DGb2AAG", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth { description, .. } if description.contains("cannot be renewed")),
        "{err:?}"
    );
    token.assert_calls(0);
    rest.assert_calls(1);
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let creds = [
        Credentials::AccessToken {
            access_token: "tok-SECRET".to_owned().into(),
            instance_url: "https://x.example".into(),
        },
        Credentials::ClientCredentials {
            client_id: "id".into(),
            client_secret: "cs-SECRET".to_owned().into(),
        },
        Credentials::JwtBearer {
            client_id: "id".into(),
            username: "u".into(),
            private_key_pem: TEST_KEY.to_owned().into(),
            audience: "https://login.salesforce.com".into(),
        },
    ];
    for c in &creds {
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("PRIVATE KEY"),
            "{shown}"
        );
        assert!(shown.contains("[REDACTED]"), "{shown}");
        let client = Client::builder()
            .credentials(c.clone())
            .login_url("https://acme.my.salesforce.com")
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("SECRET"));
    }
}
