//! Organizations: show_many by ids and external ids, create_many's body, and the field
//! definitions with their drop-down options.

use crate::support::{client, fixture, AUTH_HEADER};
use httpmock::prelude::*;
use serde_json::json;
use zendesk_client::{FieldType, NewOrganization, OrgId};

#[tokio::test]
async fn show_many_by_ids_and_by_external_ids() {
    let server = MockServer::start_async().await;
    let by_id = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/show_many.json")
                .query_param("ids", "6130869157658,6164086328858");
            then.status(200)
                .body(fixture!("organizations_show_many.json"));
        })
        .await;
    let by_ext = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/show_many.json")
                .query_param("external_ids", "863,A&B");
            then.status(200)
                .body(fixture!("organizations_show_many.json"));
        })
        .await;
    let c = client(&server);
    let orgs = c
        .organizations()
        .show_many(&[OrgId(6130869157658), OrgId(6164086328858)])
        .await
        .expect("by id");
    // Zendesk's order, not the request's.
    assert_eq!(orgs[0].name, "Globex");
    let orgs = c
        .organizations()
        .show_many_by_external_ids(&["863".into(), "A&B".into()])
        .await
        .expect("by external id");
    assert_eq!(orgs.len(), 2);
    by_id.assert_async().await;
    by_ext.assert_async().await;
    assert!(c
        .organizations()
        .show_many(&[])
        .await
        .expect("empty")
        .is_empty());
    assert_eq!(
        c.request_counts().get("GET organizations/show_many"),
        Some(&2)
    );
}

#[tokio::test]
async fn create_many_sends_the_plural_envelope() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json")
                .header("authorization", AUTH_HEADER)
                .json_body(json!({"organizations": [
                    {"name": "Acme", "external_id": "0011a00000AbCdEAAZ", "tags": ["gold"],
                     "organization_fields": {"salesforce_id": "0011a00000AbCdEAAZ", "aar": 0}},
                    {"name": "Bare"}
                ]}));
            then.status(200).body(fixture!("job_queued.json"));
        })
        .await;
    let mut fields = serde_json::Map::new();
    fields.insert("salesforce_id".into(), json!("0011a00000AbCdEAAZ"));
    fields.insert("aar".into(), json!(0));
    let handle = client(&server)
        .organizations()
        .create_many(vec![
            NewOrganization {
                name: "Acme".into(),
                external_id: Some("0011a00000AbCdEAAZ".into()),
                tags: vec!["gold".into()],
                organization_fields: fields,
            },
            NewOrganization {
                name: "Bare".into(),
                ..NewOrganization::default()
            },
        ])
        .await
        .expect("job");
    m.assert_async().await;
    assert_eq!(handle.submitted, 2);
}

#[tokio::test]
async fn fields_come_with_their_dropdown_options() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organization_fields.json");
            then.status(200).body(fixture!("organization_fields.json"));
        })
        .await;
    let fields = client(&server)
        .organizations()
        .fields()
        .await
        .expect("fields");
    assert_eq!(fields.len(), 4);
    let level = fields
        .iter()
        .find(|f| f.key == "support_level")
        .expect("support_level");
    assert_eq!(level.field_type, FieldType::Dropdown);
    let values: Vec<&str> = level
        .custom_field_options
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(values, vec!["gold", "expired"]);
    assert_eq!(fields[2].tag.as_deref(), Some("restricted_account"));
    assert_eq!(fields[3].field_type, FieldType::Lookup);
    assert!(fields[0].custom_field_options.is_empty());
}
