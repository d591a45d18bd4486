//! sObject writes: create, update, upsert outcomes, delete and collections.

use httpmock::prelude::*;
use serde_json::json as j;
use sfdc_client::{Client, CollectionRecord, Credentials, Error, UpsertOutcome};

use crate::common::{fast_retry, json, static_client};
use crate::fixture;

fn no_auto_assign_client(server: &MockServer) -> Client {
    Client::builder()
        .credentials(Credentials::AccessToken {
            access_token: "static-token".to_owned().into(),
            instance_url: server.base_url(),
        })
        .retry_policy(fast_retry())
        .auto_assign(false)
        .build()
        .unwrap()
}

#[tokio::test]
async fn create_posts_json_with_auto_assign_false() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path("/services/data/v62.0/sobjects/Case")
            .header("content-type", "application/json")
            .header("sforce-auto-assign", "FALSE")
            .json_body(j!({"Subject": "Cannot log in", "Origin": "Web"}));
        json(then, 201, fixture!("create_success.json")).header(
            "location",
            "/services/data/v62.0/sobjects/Case/500xx000000bXyzAAE",
        );
    });
    let client = no_auto_assign_client(&server);
    let saved = client
        .create("Case", &j!({"Subject": "Cannot log in", "Origin": "Web"}))
        .await
        .unwrap();
    assert_eq!(saved.id, "500xx000000bXyzAAE");
    assert!(saved.success);
    mock.assert_calls(1);
    assert_eq!(client.call_counts()["create"], 1);
}

#[tokio::test]
async fn update_patches_and_accepts_204() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(PATCH)
            .path("/services/data/v62.0/sobjects/Case/500xx000000bXyzAAE")
            .json_body(j!({"Status": "Closed"}));
        then.status(204);
    });
    static_client(&server)
        .update("Case", "500xx000000bXyzAAE", &j!({"Status": "Closed"}))
        .await
        .unwrap();
    mock.assert_calls(1);
}

async fn upsert_with(status: u16, body: &'static str) -> Result<UpsertOutcome, Error> {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(PATCH)
            // The external id value is one percent-encoded path segment.
            .is_true(|req| {
                req.uri().path() == "/services/data/v62.0/sobjects/Case/Ticket_Id__c/ZD%2F4711%20a"
            })
            .json_body(j!({"Subject": "Printer on fire"}));
        json(then, status, body);
    });
    let out = static_client(&server)
        .upsert(
            "Case",
            "Ticket_Id__c",
            "ZD/4711 a",
            &j!({"Subject": "Printer on fire"}),
        )
        .await;
    mock.assert_calls(1);
    out
}

#[tokio::test]
async fn upsert_201_is_created() {
    let out = upsert_with(201, fixture!("upsert_created.json"))
        .await
        .unwrap();
    assert_eq!(
        out,
        UpsertOutcome::Created {
            id: "0018a00001rBqb8AAC".into()
        }
    );
}

#[tokio::test]
async fn upsert_200_is_updated_with_id() {
    let out = upsert_with(200, fixture!("upsert_updated.json"))
        .await
        .unwrap();
    assert_eq!(
        out,
        UpsertOutcome::Updated {
            id: Some("0018a00001rBqb9AAC".into())
        }
    );
}

#[tokio::test]
async fn upsert_204_on_old_versions_is_updated_without_id() {
    let out = upsert_with(204, "").await.unwrap();
    assert_eq!(out, UpsertOutcome::Updated { id: None });
}

#[tokio::test]
async fn upsert_300_lists_the_matching_ids() {
    let err = upsert_with(300, fixture!("upsert_multiple.json"))
        .await
        .unwrap_err();
    match &err {
        Error::MultipleMatches {
            ids, field, value, ..
        } => {
            assert_eq!(ids, &["500xx000000bXy1AAE", "500xx000000bXy2AAE"]);
            assert_eq!(
                (field.as_str(), value.as_str()),
                ("Ticket_Id__c", "ZD/4711 a")
            );
        }
        other => panic!("expected MultipleMatches, got {other:?}"),
    }
    assert!(!err.is_retriable());
    assert!(err.to_string().contains("matched 2 records"));
}

#[tokio::test]
async fn delete_accepts_204() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(DELETE)
            .path("/services/data/v62.0/sobjects/Contact/003xx000004TmiQAAS");
        then.status(204);
    });
    static_client(&server)
        .delete("Contact", "003xx000004TmiQAAS")
        .await
        .unwrap();
    mock.assert_calls(1);
}

#[tokio::test]
async fn collections_report_each_record_and_read_status_code() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path("/services/data/v62.0/composite/sobjects")
            .json_body(j!({
                "allOrNone": false,
                "records": [
                    {"attributes": {"type": "Contact"}, "LastName": "Johnson"},
                    {"attributes": {"type": "Contact"}, "LastName": "Dup"},
                    {"attributes": {"type": "Contact"}, "LastName": "Locked"}
                ]
            }));
        json(then, 200, fixture!("collections_partial.json"));
    });
    let records: Vec<_> = ["Johnson", "Dup", "Locked"]
        .iter()
        .map(|n| CollectionRecord {
            sobject: "Contact".into(),
            id: None,
            fields: j!({"LastName": n}),
        })
        .collect();
    let client = static_client(&server);
    let results = client.create_collection(&records, false).await.unwrap();
    mock.assert_calls(1);
    assert_eq!(results.len(), 3);
    assert!(results[0].success);
    assert_eq!(results[0].id.as_deref(), Some("003xx000004TmiUAAS"));
    assert!(!results[1].success && results[1].id.is_none());
    assert_eq!(results[1].errors[0].error_code, "DUPLICATES_DETECTED");
    assert!(!results[1].is_retriable());
    assert_eq!(results[2].errors[0].error_code, "UNABLE_TO_LOCK_ROW");
    assert!(results[2].is_retriable());
    assert_eq!(client.call_counts()["collections"], 1);
}

#[tokio::test]
async fn update_collection_sends_ids_with_patch() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(PATCH).path("/services/data/v62.0/composite/sobjects").json_body(j!({
            "allOrNone": true,
            "records": [{"attributes": {"type": "Account"}, "id": "001xx000003DGb2AAG", "Name": "Acme"}]
        }));
        json(then, 200, r#"[{"id":"001xx000003DGb2AAG","success":true,"errors":[]}]"#);
    });
    let records = [CollectionRecord {
        sobject: "Account".into(),
        id: Some("001xx000003DGb2AAG".into()),
        fields: j!({"Name": "Acme"}),
    }];
    let results = static_client(&server)
        .update_collection(&records, true)
        .await
        .unwrap();
    assert!(results[0].success);
    mock.assert_calls(1);
}

#[tokio::test]
async fn more_than_200_records_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.any_request();
        then.status(500);
    });
    let records: Vec<_> = (0..201)
        .map(|i| CollectionRecord {
            sobject: "Contact".into(),
            id: None,
            fields: j!({"LastName": format!("n{i}")}),
        })
        .collect();
    let err = static_client(&server)
        .create_collection(&records, false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::LimitViolation(m) if m.contains("201 records")),
        "{err}"
    );
    mock.assert_calls(0);
}

#[tokio::test]
async fn upsert_collection_patches_by_external_id_and_reports_created() {
    let server = MockServer::start_async().await;
    let mock = server.mock(|when, then| {
        when.method(PATCH)
            .path("/services/data/v62.0/composite/sobjects/Case/Ticket_Id__c")
            .json_body(j!({
                "allOrNone": false,
                "records": [
                    {"attributes": {"type": "Case"}, "Ticket_Id__c": "1", "Subject": "a"},
                    {"attributes": {"type": "Case"}, "Ticket_Id__c": "2", "Subject": "b"}
                ]
            }));
        json(then, 200, fixture!("collections_upsert.json"));
    });
    let records: Vec<_> = [("1", "a"), ("2", "b")]
        .iter()
        .map(|(t, s)| CollectionRecord {
            sobject: "Case".into(),
            id: None,
            fields: j!({"Ticket_Id__c": t, "Subject": s}),
        })
        .collect();
    let client = static_client(&server);
    let results = client
        .upsert_collection("Case", "Ticket_Id__c", &records, false)
        .await
        .unwrap();
    mock.assert_calls(1);
    let created: Vec<_> = results.iter().map(|r| r.created).collect();
    assert_eq!(created, [Some(true), Some(false)]);

    let mixed = [CollectionRecord {
        sobject: "Account".into(),
        id: None,
        fields: j!({}),
    }];
    let err = client
        .upsert_collection("Case", "Ticket_Id__c", &mixed, false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LimitViolation(_)), "{err}");
    mock.assert_calls(1);
}

/// Item errors are read whether they say `statusCode` (collections), `errorCode` (what
/// jsforce's types declare) or both, and a `null` `fields` is an empty list (§6.1, §7.1):
/// one odd item must not make the whole batch undecodable.
#[tokio::test]
async fn collection_item_errors_with_both_code_keys_or_null_fields_still_decode() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path("/services/data/v62.0/composite/sobjects");
        json(
            then,
            200,
            r#"[
              {"id": null, "success": false, "errors": [{"statusCode": "DUPLICATES_DETECTED", "errorCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": null}]},
              {"success": false, "errors": [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record"}]}
            ]"#,
        );
    });
    let records: Vec<_> = ["A", "B"]
        .iter()
        .map(|n| CollectionRecord {
            sobject: "Contact".into(),
            id: None,
            fields: j!({"LastName": n}),
        })
        .collect();
    let results = static_client(&server)
        .create_collection(&records, false)
        .await
        .unwrap();
    assert_eq!(results[0].errors[0].error_code, "DUPLICATES_DETECTED");
    assert!(results[0].errors[0].fields.is_empty());
    assert_eq!(results[1].errors[0].error_code, "UNABLE_TO_LOCK_ROW");
    assert!(results[1].is_retriable());
}
