//! Cursor pagination: `page[size]=100`, follow `page[after]`, stop on `has_more == false`
//! even though the last page carries a non-null `links.next`.

use crate::support::{client, fixture, AUTH_HEADER};
use futures::TryStreamExt;
use httpmock::prelude::*;
use zendesk_client::{OrgId, Role};

#[tokio::test]
async fn stops_on_has_more_false_despite_a_next_link() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations.json")
                .header("authorization", AUTH_HEADER)
                .query_param("page[size]", "100")
                .query_param_missing("page[after]");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture!("organizations_page1.json"));
        })
        .await;
    let last = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations.json")
                .query_param("page[size]", "100")
                .query_param("page[after]", "eyJvIjoiaWQiLCJ2IjoiYVJvL1IzU1RCUUFBIn0=");
            then.status(200)
                .body(fixture!("organizations_page2_last.json"));
        })
        .await;
    // Following the last page's `links.next` would land here.
    let beyond = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations.json")
                .query_param("page[after]", "eyJvIjoiaWQiLCJ2IjoiQUFBQUFBQUFBQUEifQ==");
            then.status(200)
                .body(fixture!("organizations_empty_after_last.json"));
        })
        .await;

    let c = client(&server);
    let orgs: Vec<_> = c
        .organizations()
        .list()
        .try_collect()
        .await
        .expect("all pages");

    let ids: Vec<OrgId> = orgs.iter().map(|o| o.id).collect();
    assert_eq!(
        ids,
        vec![
            OrgId(6130869157658),
            OrgId(6164086328858),
            OrgId(6164094806938)
        ]
    );
    assert_eq!(orgs[0].organization_fields["support_level"], "gold");
    assert_eq!(orgs[1].external_id.as_deref(), Some("863"));
    assert_eq!(orgs[2].tags, vec!["do_not_delete".to_string()]);
    first.assert_async().await;
    last.assert_async().await;
    assert_eq!(beyond.calls_async().await, 0, "must not follow links.next");
    assert_eq!(c.request_counts().get("GET organizations"), Some(&2));
}

#[tokio::test]
async fn users_list_sends_the_role_filter() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/users.json")
                .query_param("role", "end-user")
                .query_param("page[size]", "100");
            then.status(200).body(fixture!("users_page.json"));
        })
        .await;
    let users: Vec<_> = client(&server)
        .users()
        .list(Some(Role::EndUser))
        .try_collect()
        .await
        .expect("users");
    m.assert_async().await;
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].organization_id, Some(OrgId(6130869157658)));
    assert_eq!(users[1].organization_id, None);
}

#[tokio::test]
async fn org_users_are_paged_from_the_org_path() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/6130869157658/users.json")
                .query_param("page[size]", "100");
            then.status(200).body(fixture!("users_page.json"));
        })
        .await;
    let c = client(&server);
    let users: Vec<_> = c
        .organizations()
        .users(OrgId(6130869157658))
        .try_collect()
        .await
        .expect("users");
    m.assert_async().await;
    assert_eq!(users[0].email.as_deref(), Some("ada@example.com"));
    assert_eq!(
        c.request_counts().get("GET organizations/{id}/users"),
        Some(&1)
    );
}

#[tokio::test]
async fn a_bad_record_names_its_json_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations.json");
            then.status(200).body(
                r#"{"organizations":[{"id":1,"name":"ok"},{"id":"two","name":"bad"}],
                    "meta":{"has_more":false,"after_cursor":null}}"#,
            );
        })
        .await;
    let err = client(&server)
        .organizations()
        .list()
        .try_collect::<Vec<_>>()
        .await
        .expect_err("decode error");
    match err {
        zendesk_client::Error::Decode { path, .. } => assert_eq!(path, "organizations[1].id"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}
