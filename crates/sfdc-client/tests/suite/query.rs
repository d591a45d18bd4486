//! Query streams: paging to `done`, child sets spanning pages, null relationships,
//! per-record decode errors, SOQL encoding and query errors.

use futures::StreamExt;
use httpmock::prelude::*;
use serde::Deserialize;
use sfdc_client::{Client, Error, QueryPage};

use crate::common::{fast_retry, json, static_client};
use crate::fixture;

#[derive(Debug, Deserialize)]
struct UserRef {
    #[serde(rename = "Name")]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Contact {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Email")]
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Solutions_Architect_Lookup__r")]
    architect: Option<UserRef>,
    #[serde(rename = "Contacts")]
    contacts: Option<QueryPage<Contact>>,
}

const SOQL: &str = "SELECT Id, Name, Solutions_Architect_Lookup__r.Name, (SELECT Id, Email FROM Contacts) FROM Account";

fn page_mock<'a>(server: &'a MockServer, path: &str, body: &str) -> httpmock::Mock<'a> {
    let (path, body) = (path.to_owned(), body.to_owned());
    server.mock(move |when, then| {
        when.method(GET)
            .path(path)
            .header("sforce-query-options", "batchSize=200");
        json(then, 200, &body);
    })
}

#[tokio::test]
async fn three_pages_with_a_child_set_spanning_pages_and_null_parents() {
    let server = MockServer::start_async().await;
    let first = server.mock(|when, then| {
        when.method(GET)
            .path("/services/data/v62.0/query")
            .query_param("q", SOQL)
            .header("authorization", "Bearer static-token")
            .header("sforce-query-options", "batchSize=200");
        json(then, 200, fixture!("query_page_1.json"));
    });
    let children = page_mock(
        &server,
        "/services/data/v62.0/query/01gB000003OCxSPIA9-2",
        fixture!("query_children_more.json"),
    );
    let second = page_mock(
        &server,
        "/services/data/v62.0/query/01gB000003OCxSPIA1-2",
        fixture!("query_page_2.json"),
    );
    let third = page_mock(
        &server,
        "/services/data/v62.0/query/01gB000003OCxSPIA1-4",
        fixture!("query_page_3.json"),
    );

    let client = Client::builder()
        .credentials(sfdc_client::Credentials::AccessToken {
            access_token: "static-token".to_owned().into(),
            instance_url: server.base_url(),
        })
        .retry_policy(fast_retry())
        .query_batch_size(200)
        .build()
        .unwrap();
    let mut rows = std::pin::pin!(client.query::<Account>(SOQL));

    // The first record arrives with its children completed, before page 2 is read.
    let acme = rows.next().await.unwrap().unwrap().unwrap();
    assert_eq!(acme.name, "Acme");
    assert_eq!(
        acme.architect.as_ref().map(|u| u.name.as_str()),
        Some("Jane Doe")
    );
    let contacts = acme.contacts.expect("Acme has contacts");
    assert!(contacts.done);
    assert_eq!(contacts.next_records_url, None);
    let ids: Vec<&str> = contacts.records.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "003xx000004TmiQAAS",
            "003xx000004TmiRAAS",
            "003xx000004TmiSAAS"
        ]
    );
    assert_eq!(contacts.records[1].email, None);
    children.assert_calls(1);
    second.assert_calls(0);

    let rest: Vec<Account> = rows.map(|item| item.unwrap().unwrap()).collect().await;
    let names: Vec<&str> = rest.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Acme West", "Globex", "Initech", "Umbrella"]);
    assert!(
        rest[0].architect.is_none() && rest[0].contacts.is_none(),
        "null parent and null subquery"
    );
    assert_eq!(rest[2].contacts.as_ref().map(|c| c.records.len()), Some(1));
    assert_eq!(rest[3].id, "001xx000003DGb6AAG");
    first.assert_calls(1);
    second.assert_calls(1);
    third.assert_calls(1);
    let counts = client.call_counts();
    assert_eq!((counts["query"], counts["query_more"]), (1, 3));
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.limit)),
        Some((16, 100000))
    );
}

#[tokio::test]
async fn an_undecodable_record_is_reported_and_the_stream_goes_on() {
    #[derive(Debug, Deserialize)]
    struct Sized {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "NumberOfEmployees")]
        employees: Option<u32>,
    }
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query");
        json(then, 200, fixture!("query_bad_record.json"));
    });
    let items: Vec<_> = static_client(&server)
        .query::<Sized>("SELECT Name, NumberOfEmployees FROM Account")
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    let bad = items[0].as_ref().unwrap().as_ref().unwrap_err();
    assert_eq!(bad.record_id.as_deref(), Some("001xx000003DGb7AAG"));
    assert!(
        matches!(&*bad.error, Error::Decode { path, .. } if path == "NumberOfEmployees"),
        "{bad}"
    );
    let good = items[1].as_ref().unwrap().as_ref().unwrap();
    assert_eq!((good.name.as_str(), good.employees), ("Fine Co", Some(12)));
}

#[tokio::test]
async fn soql_is_form_encoded_in_the_q_parameter() {
    let soql = "SELECT Id, Name FROM Account WHERE Name = 'C++ & 100%' AND\nDescription LIKE 'a#b'";
    let expected = "q=SELECT+Id%2C+Name+FROM+Account+WHERE+Name+%3D+%27C%2B%2B+%26+100%25%27+AND%0ADescription+LIKE+%27a%23b%27";
    let server = MockServer::start_async().await;
    let mock = server.mock(move |when, then| {
        when.method(GET)
            .path("/services/data/v62.0/queryAll")
            .is_true(move |req| req.uri().query() == Some(expected));
        json(then, 200, r#"{"totalSize":0,"done":true,"records":[]}"#);
    });
    let items: Vec<_> = static_client(&server)
        .query_all::<serde_json::Value>(soql)
        .collect()
        .await;
    assert!(items.is_empty());
    mock.assert_calls(1);
    // And the server decodes it back to the exact statement.
    let decoded: Vec<(String, String)> = url::form_urlencoded::parse(expected.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(decoded, [("q".to_owned(), soql.to_owned())]);
}

#[tokio::test]
async fn a_query_error_ends_the_stream_with_the_api_error() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query");
        json(then, 400, fixture!("malformed_query.json"));
    });
    let items: Vec<_> = static_client(&server)
        .query::<serde_json::Value>("SELEKT Id FROM Account")
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    match &items[0] {
        Err(Error::Api { status, errors, .. }) => {
            assert_eq!(*status, 400);
            assert_eq!(errors[0].error_code, "MALFORMED_QUERY");
            assert_eq!(errors[0].message, "unexpected token: SELEKT");
            assert!(errors[0].fields.is_empty());
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    mock.assert_calls(1); // 400 is not retried
}

/// `done: false` is the only "there is more" signal (reference §3.2); a page that says so
/// without a `nextRecordsUrl` cannot be completed and must not end the stream as if whole.
#[tokio::test]
async fn a_page_that_is_not_done_but_has_no_next_url_is_an_error_not_the_end() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query");
        json(
            then,
            200,
            r#"{"totalSize":3,"done":false,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG"},"Id":"001xx000003DGb2AAG"}]}"#,
        );
    });
    let items: Vec<_> = static_client(&server)
        .query::<serde_json::Value>("SELECT Id FROM Account")
        .collect()
        .await;
    assert!(
        matches!(items.last(), Some(Err(Error::Decode { path, .. })) if path == "nextRecordsUrl"),
        "{items:?}"
    );
}

/// A child set with `done: false` and no `nextRecordsUrl` must not be passed on as
/// complete (`done: true`): the caller would treat a partial set as the whole one.
#[tokio::test]
async fn a_child_set_that_is_not_done_but_has_no_next_url_is_an_error() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query");
        json(
            then,
            200,
            r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001xx000003DGb2AAG"},"Id":"001xx000003DGb2AAG","Contacts":{"totalSize":2,"done":false,"records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003xx000004TmiQAAS"},"Id":"003xx000004TmiQAAS"}]}}]}"#,
        );
    });
    let items: Vec<_> = static_client(&server)
        .query::<serde_json::Value>("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
        .collect()
        .await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        matches!(&items[0], Err(Error::Decode { path, .. }) if path == "Contacts.nextRecordsUrl"),
        "{items:?}"
    );
}

/// `query_with_total` hands over the first page's `totalSize` once that page arrived
/// (for progress with totals), and the same records as `query`.
#[tokio::test]
async fn the_total_size_is_known_once_the_first_page_arrived() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query");
        json(
            then,
            200,
            r#"{"totalSize":2,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01g-2000","records":[{"Id":"001A"}]}"#,
        );
    });
    server.mock(|when, then| {
        when.method(GET).path("/services/data/v62.0/query/01g-2000");
        json(
            then,
            200,
            r#"{"totalSize":2,"done":true,"records":[{"Id":"001B"}]}"#,
        );
    });
    let (rows, total) =
        static_client(&server).query_with_total::<serde_json::Value>("SELECT Id FROM Account");
    assert_eq!(total.get(), None, "nothing read yet");
    let mut rows = std::pin::pin!(rows);
    let first = rows.next().await.expect("a first record");
    assert_eq!(first.expect("no error").expect("decoded")["Id"], "001A");
    assert_eq!(total.get(), Some(2));
    let rest: Vec<_> = rows.collect().await;
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(total.get(), Some(2));
}
