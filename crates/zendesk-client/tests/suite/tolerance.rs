//! Tolerance: fields the client does not know are ignored and enum values it does not
//! know are kept as `Other`, so one new value from Zendesk never breaks a whole run
//! (STYLE "Every enum read off the wire has an `Other(String)` fallback").

use crate::support::{client, fixture};
use httpmock::prelude::*;
use serde_json::json;
use zendesk_client::{
    FieldType, JobId, JobResults, JobState, TicketId, TicketPriority, TicketStatus,
};

#[tokio::test]
async fn a_ticket_with_unknown_status_priority_and_fields_decodes() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/tickets/5.json");
            then.status(200)
                .body(fixture!("ticket_show_unknown_values.json"));
        })
        .await;
    let t = client(&server)
        .tickets()
        .show(TicketId(5))
        .await
        .expect("ticket decodes");
    assert_eq!(t.status, TicketStatus::Other("archived".into()));
    assert_eq!(t.priority, Some(TicketPriority::Other("critical".into())));
    assert!(t.tags.is_empty(), "null tags read as none");
    let values: Vec<_> = t.custom_fields.iter().map(|f| f.value.clone()).collect();
    assert_eq!(
        values,
        vec![
            json!(true),
            json!(12.5),
            json!({"nested": ["object"]}),
            json!(null)
        ]
    );
    assert!(t.created_at.is_some(), "nanosecond timestamps parse");
}

#[tokio::test]
async fn fields_of_an_unknown_type_and_options_with_extra_keys_decode() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organization_fields.json");
            then.status(200)
                .body(fixture!("organization_fields_unknown_values.json"));
        })
        .await;
    let fields = client(&server)
        .organizations()
        .fields()
        .await
        .expect("fields decode");
    assert_eq!(fields.len(), 2);
    let values: Vec<_> = fields[0]
        .custom_field_options
        .iter()
        .map(|o| (o.id, o.name.as_str(), o.value.as_str()))
        .collect();
    assert_eq!(
        values,
        vec![
            (Some(9170294642101), "EMEA", "org_region_emea"),
            (Some(9170294642102), "AMER", "org_region_amer")
        ]
    );
    assert_eq!(
        fields[1].field_type,
        FieldType::Other("relationship_v2".into())
    );
    assert!(fields[1].custom_field_options.is_empty());
    assert_eq!(fields[1].active, Some(false));
}

#[tokio::test]
async fn job_statuses_with_unknown_states_rows_and_keys_decode() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/job_statuses/show_many.json");
            then.status(200)
                .body(fixture!("job_statuses_unknown_values.json"));
        })
        .await;
    let ids: Vec<JobId> = (1..=3)
        .map(|i| JobId(format!("V3-aaaa000000000000000000000000000{i}")))
        .collect();
    let statuses = client(&server)
        .jobs()
        .show_many(&ids)
        .await
        .expect("statuses decode");
    let states: Vec<_> = statuses.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        states,
        vec![
            JobState::Completed,
            JobState::Killed,
            JobState::Other("paused".into())
        ]
    );
    assert!(states.iter().all(JobState::is_finished));
    let JobResults::Rows(rows) = &statuses[0].results else {
        panic!("rows expected: {:?}", statuses[0].results);
    };
    let ok: Vec<bool> = rows.iter().map(|r| r.succeeded()).collect();
    assert_eq!(ok, vec![true, false, true]);
    assert_eq!(rows[1].index, Some(1));
    assert_eq!(
        rows[1].details,
        Some(json!({"name": ["has already been taken"]}))
    );
    assert_eq!(statuses[1].results, JobResults::None);
    assert!(matches!(statuses[2].results, JobResults::Object(_)));
    assert_eq!(statuses[2].total, None);
}

#[tokio::test]
async fn null_lists_and_maps_on_an_organization_read_as_empty() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/organizations/7.json");
            then.status(200).json_body(json!({"organization": {
                "id": 7, "name": "Nulls", "external_id": null, "tags": null,
                "organization_fields": null, "domain_names": null,
                "created_at": null, "updated_at": "2023-09-18T23:37:03Z"}}));
        })
        .await;
    let org = client(&server)
        .organizations()
        .show(zendesk_client::OrgId(7))
        .await
        .expect("organization decodes");
    assert!(org.tags.is_empty());
    assert!(org.organization_fields.is_empty());
    assert!(org.domain_names.is_empty());
    assert_eq!(org.created_at, None);
}
