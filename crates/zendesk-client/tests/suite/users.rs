//! Users: search by email, DuplicateValue on create, 403 on bulk creation surfaced as
//! `BulkImportDisabled`, and the single create_or_update fallback (201 vs 200).

use crate::support::{client, fixture};
use httpmock::prelude::*;
use serde_json::json;
use zendesk_client::{Error, NewUser, OrgId, Role, UserId};

fn ada() -> NewUser {
    NewUser {
        name: "Ada Lovelace".into(),
        email: Some("ada@example.com".into()),
        role: Some(Role::EndUser),
        organization_id: Some(OrgId(6130869157658)),
        ..NewUser::default()
    }
}

#[tokio::test]
async fn search_by_email_quotes_the_address_and_keeps_unknown_roles() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/users/search.json")
                .query_param("query", "email:\"ada@example.com\"");
            then.status(200).body(fixture!("users_search.json"));
        })
        .await;
    let c = client(&server);
    let found = c
        .users()
        .search_by_email("ada@example.com")
        .await
        .expect("search");
    m.assert_async().await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, UserId(6164039664282));
    assert_eq!(found[0].role, Role::Other("light-agent".into()));
    assert_eq!(c.request_counts().get("GET users/search"), Some(&1));
}

#[tokio::test]
async fn duplicate_value_on_create_is_recognised() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/users.json")
                .json_body(json!({"user": {
                    "name": "Ada Lovelace", "email": "ada@example.com", "role": "end-user",
                    "organization_id": 6130869157658u64
                }}));
            then.status(422)
                .body(fixture!("error_duplicate_email.json"));
        })
        .await;
    let err = client(&server)
        .users()
        .create(ada())
        .await
        .expect_err("422");
    m.assert_async().await;
    let Error::DuplicateValue(api) = &err else {
        panic!("expected DuplicateValue, got {err:?}");
    };
    assert_eq!(api.field_errors.len(), 1);
    assert_eq!(api.field_errors[0].field, "email");
    assert_eq!(
        api.field_errors[0].description,
        "Email: scooby@doo.com is already being used by another user"
    );
    assert!(!err.is_retriable());
}

/// Whatever its body says, a 403 on a bulk user endpoint is a plain `Forbidden` with its
/// body: bulk import switched off and a missing permission look alike, and the caller
/// tells them apart with one single create_or_update.
#[tokio::test]
async fn bulk_user_creation_403_is_forbidden_with_its_body_not_a_guess() {
    for body in [
        fixture!("error_bulk_import_forbidden.json"),
        r#"{"error":"Forbidden","description":"You do not have access to this page"}"#,
        "Forbidden",
    ] {
        let server = MockServer::start_async().await;
        let m = server
            .mock_async(|when, then| {
                when.method(POST).path("/api/v2/users/create_many.json");
                then.status(403).body(body);
            })
            .await;
        let err = client(&server)
            .users()
            .create_many(vec![ada()])
            .await
            .expect_err("403");
        assert!(
            matches!(&err, Error::Forbidden(api) if api.status == 403 && api.body == body),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(403));
        assert!(!err.is_retriable());
        assert_eq!(m.calls_async().await, 1);
    }
}

#[tokio::test]
async fn create_or_update_tells_created_from_updated() {
    let server = MockServer::start_async().await;
    let mut m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/users/create_or_update.json")
                .json_body_includes(r#"{"user":{"email":"ada@example.com"}}"#);
            then.status(201)
                .header(
                    "location",
                    "https://example.zendesk.com/api/v2/users/6164047594522.json",
                )
                .body(fixture!("user_created.json"));
        })
        .await;
    let c = client(&server);
    let created = c.users().create_or_update(ada()).await.expect("201");
    assert!(created.created);
    assert_eq!(created.user.id, UserId(6164047594522));
    m.delete_async().await;
    m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/users/create_or_update.json");
            then.status(200).body(fixture!("user_created.json"));
        })
        .await;
    let updated = c.users().create_or_update(ada()).await.expect("200");
    assert!(!updated.created);
    m.assert_async().await;
}

#[tokio::test]
async fn update_many_sends_the_batch_form() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v2/users/update_many.json")
                .json_body(json!({"users": [{"id": 3, "name": "New Name", "organization_id": 7}]}));
            then.status(200).body(fixture!("job_users_queued.json"));
        })
        .await;
    let handle = client(&server)
        .users()
        .update_many(vec![zendesk_client::UserUpdate {
            name: Some("New Name".into()),
            organization_id: Some(OrgId(7)),
            ..zendesk_client::UserUpdate::new(UserId(3))
        }])
        .await
        .expect("job");
    m.assert_async().await;
    assert_eq!(handle.submitted, 1);
}

#[tokio::test]
async fn a_403_on_update_many_stays_forbidden() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/v2/users/update_many.json");
            then.status(403).body(
                r#"{"error":"Forbidden","description":"You do not have access to this page."}"#,
            );
        })
        .await;
    let err = client(&server)
        .users()
        .update_many(vec![zendesk_client::UserUpdate::new(UserId(3))])
        .await
        .expect_err("403");
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
}

#[tokio::test]
async fn a_quote_in_a_searched_email_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).body(fixture!("users_search.json"));
        })
        .await;
    let err = client(&server)
        .users()
        .search_by_email("a\" OR role:admin \"@x.com")
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn show_many_asks_for_the_ids_and_refuses_more_than_100() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/users/show_many.json")
                .query_param("ids", "5,6");
            then.status(200).json_body(json!({"users": [
                {"id": 5, "name": "Ada", "email": "ada@example.com", "role": "end-user"}
            ]}));
        })
        .await;
    let c = client(&server);
    let users = c
        .users()
        .show_many(&[UserId(5), UserId(6)])
        .await
        .expect("show_many");
    m.assert_async().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email.as_deref(), Some("ada@example.com"));
    let ids: Vec<UserId> = (1..=101).map(UserId).collect();
    assert!(matches!(
        c.users().show_many(&ids).await,
        Err(Error::TooManyItems { .. })
    ));
    assert!(c.users().show_many(&[]).await.expect("empty").is_empty());
}
