//! Tickets: show with sideloads (and the fallback to separate reads), safe update, and
//! the cursor-based incremental export ending on `end_of_stream`.

use crate::support::{client, fixture};
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;
use time::macros::datetime;
use zendesk_client::{Error, OrgId, TicketId, TicketPriority, TicketStatus, TicketUpdate, UserId};

#[tokio::test]
async fn show_with_related_uses_the_sideloads() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/tickets/4.json")
                .query_param("include", "users,organizations");
            then.status(200)
                .body(fixture!("ticket_show_sideloaded.json"));
        })
        .await;
    let c = client(&server);
    let t = c
        .tickets()
        .show_with_related(TicketId(4))
        .await
        .expect("ticket");
    m.assert_async().await;
    assert_eq!(t.ticket.priority, Some(TicketPriority::Urgent));
    assert_eq!(
        t.requester.as_ref().map(|u| u.id),
        Some(UserId(377922500012))
    );
    let org = t.organization.expect("org");
    assert_eq!(
        org.organization_fields["salesforce_id"],
        "0011a00000AbCdEAAZ"
    );
    assert_eq!(c.total_requests(), 1);
}

#[tokio::test]
async fn show_with_related_falls_back_to_separate_reads() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/tickets/4.json");
            then.status(200).body(fixture!("ticket_show.json"));
        })
        .await;
    let user = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/users/377922500012.json");
            then.status(200).body(fixture!("user_created.json"));
        })
        .await;
    let org = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/organizations/360363695492.json");
            then.status(200).body(fixture!("organization_show.json"));
        })
        .await;
    let t = client(&server)
        .tickets()
        .show_with_related(TicketId(4))
        .await
        .expect("ticket");
    user.assert_async().await;
    org.assert_async().await;
    assert_eq!(t.ticket.status, TicketStatus::Solved);
    assert_eq!(t.ticket.organization_id, Some(OrgId(360363695492)));
    assert_eq!(
        t.ticket.custom_fields[1].value,
        json!(["list", "of", "values"])
    );
    assert!(t.requester.is_some() && t.organization.is_some());
}

#[tokio::test]
async fn safe_update_sends_the_stamp_and_409_is_stale() {
    let server = MockServer::start_async().await;
    let m = server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/v2/tickets/4.json").json_body(json!({"ticket": {
                "status": "closed",
                "updated_stamp": "2019-06-03T02:35:05Z",
                "safe_update": true
            }}));
            then.status(409).body(r#"{"error":"UpdateConflict","description":"Safe Update prevented the update due to outdated ticket data"}"#);
        })
        .await;
    let change = TicketUpdate {
        status: Some(TicketStatus::Closed),
        ..TicketUpdate::default()
    }
    .safe(datetime!(2019-06-03 02:35:05 UTC));
    let err = client(&server)
        .tickets()
        .update(TicketId(4), change)
        .await
        .expect_err("409");
    m.assert_async().await;
    assert!(matches!(err, Error::StaleUpdate(_)), "{err:?}");
    assert!(err.is_retriable());
}

#[tokio::test]
async fn updating_a_closed_ticket_is_a_422_with_the_field_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(PUT).path("/api/v2/tickets/4.json");
            then.status(422)
                .body(fixture!("ticket_update_closed_422.json"));
        })
        .await;
    let err = client(&server)
        .tickets()
        .update(TicketId(4), TicketUpdate::default())
        .await
        .expect_err("422");
    let api = err.api_error().expect("api error");
    assert_eq!(api.status, 422);
    assert_eq!(api.field_errors[0].field, "status");
    assert_eq!(
        api.field_errors[0].description,
        "Status: closed prevents ticket update"
    );
}

#[tokio::test]
async fn incremental_export_follows_after_cursor_until_end_of_stream() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/incremental/tickets/cursor.json")
                .query_param("start_time", "1694300000");
            then.status(200)
                .body(fixture!("incremental_tickets_page1.json"));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/incremental/tickets/cursor.json")
                .query_param("cursor", "MTY5NDMwMzUyNi4wfHwxMDJ8");
            then.status(200)
                .body(fixture!("incremental_tickets_page2_end.json"));
        })
        .await;
    let beyond = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/incremental/tickets/cursor.json")
                .query_param("cursor", "MTY5NDMwNzIwMC4wfHwxMDN8");
            then.status(200)
                .body(r#"{"tickets":[],"end_of_stream":true}"#);
        })
        .await;
    let c = client(&server);
    let pages: Vec<_> = c
        .tickets()
        .incremental_export(1694300000)
        .try_collect()
        .await
        .expect("export");
    first.assert_async().await;
    second.assert_async().await;
    assert_eq!(beyond.calls_async().await, 0);
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[1].after_cursor.as_deref(),
        Some("MTY5NDMwNzIwMC4wfHwxMDN8")
    );
    let statuses: Vec<_> = pages
        .iter()
        .flat_map(|p| p.tickets.iter().map(|t| t.status.clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            TicketStatus::Open,
            TicketStatus::Closed,
            TicketStatus::Deleted
        ]
    );
    assert_eq!(
        c.request_counts().get("GET incremental/tickets/cursor"),
        Some(&2)
    );
}
