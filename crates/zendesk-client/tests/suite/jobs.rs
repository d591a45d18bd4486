//! Bulk jobs: submit → queued → working → completed, rows matched to items by index,
//! junk ids on failed rows ignored, failed jobs, the 100-item cap and the job limit.

use crate::support::{builder, client, fixture};
use httpmock::prelude::*;
use serde_json::json;
use std::time::Duration;
use zendesk_client::{
    Error, ItemOutcome, JobId, JobState, NewOrganization, NewUser, OrgId, OrganizationUpdate,
};

const JOB: &str = "V3-fa64d3aa439866d78c7431b346baf458";

async fn wait_for_hits(mock: &httpmock::Mock<'_>, n: usize) {
    for _ in 0..500 {
        if mock.calls_async().await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("mock never reached {n} hits");
}

#[tokio::test]
async fn update_many_job_goes_queued_working_completed_with_a_failed_row() {
    let server = MockServer::start_async().await;
    let submit = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/api/v2/organizations/update_many.json")
                .json_body(json!({"organizations": [
                    {"id": 6164094806938u64, "name": "Initech"},
                    {"id": 6164094809242u64, "tags": ["gold", "vip"], "organization_fields": {"support_level": "gold"}}
                ]}));
            then.status(200).body(fixture!("job_queued.json"));
        })
        .await;
    let poll = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/job_statuses/show_many.json")
                .query_param("ids", JOB);
            then.status(200).body(fixture!("job_statuses_queued.json"));
        })
        .await;

    let c = client(&server);
    let mut second = OrganizationUpdate::new(OrgId(6164094809242));
    second.tags = Some(vec!["gold".into(), "vip".into()]);
    second
        .organization_fields
        .insert("support_level".into(), json!("gold"));
    let handle = c
        .organizations()
        .update_many(vec![
            OrganizationUpdate {
                name: Some("Initech".into()),
                ..OrganizationUpdate::new(OrgId(6164094806938))
            },
            second,
        ])
        .await
        .expect("submitted");
    submit.assert_async().await;
    assert_eq!(handle.id(), &JobId(JOB.into()));
    assert_eq!(handle.status.status, JobState::Queued);

    let jobs = c.jobs();
    let waiter = tokio::spawn(async move { jobs.wait_all(vec![handle]).await });
    // Each new answer is mounted before the old one is removed, so no poll falls in a gap.
    wait_for_hits(&poll, 1).await;
    let working = server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/job_statuses/show_many.json");
            then.status(200).body(fixture!("job_statuses_working.json"));
        })
        .await;
    poll.delete_async().await;
    wait_for_hits(&working, 1).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/job_statuses/show_many.json");
            then.status(200)
                .body(fixture!("job_statuses_completed_failed_row.json"));
        })
        .await;
    working.delete_async().await;

    let reports = waiter.await.expect("waiter");
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.state, JobState::Completed);
    assert_eq!(
        r.outcomes,
        vec![
            ItemOutcome::Succeeded {
                id: Some(6164094806938),
                status: Some("Updated".into())
            },
            ItemOutcome::Failed {
                code: "OrganizationUpdateFailed".into(),
                message: "Name:  testOrganizationa4603c3a2f5a511f9f71f9aa5bc1ef0048807e8c has already been taken".into()
            },
        ]
    );
    let counts = c.request_counts();
    assert_eq!(counts.get("PUT organizations/update_many"), Some(&1));
    assert!(
        counts
            .get("GET job_statuses/show_many")
            .copied()
            .unwrap_or(0)
            >= 3
    );
}

#[tokio::test]
async fn create_or_update_many_failed_row_is_matched_by_position_not_its_junk_id() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/users/create_or_update_many.json")
                .json_body(json!({"users": [
                    {"name": "Created", "email": "success_created@example.com"},
                    {"name": "Modified", "email": "success_modified@example.com"},
                    {"name": "Broken", "email": "error@example.com_"}
                ]}));
            then.status(200).body(fixture!("job_users_queued.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/job_statuses/show_many.json")
                .query_param("ids", "V3-3d9ef2c0a1b2c3d4e5f60718293a4b5c");
            then.status(200)
                .body(fixture!("job_create_or_update_many_completed.json"));
        })
        .await;
    let c = client(&server);
    let user = |name: &str, email: &str| NewUser {
        name: name.into(),
        email: Some(email.into()),
        ..NewUser::default()
    };
    let handle = c
        .users()
        .create_or_update_many(vec![
            user("Created", "success_created@example.com"),
            user("Modified", "success_modified@example.com"),
            user("Broken", "error@example.com_"),
        ])
        .await
        .expect("submitted");
    let reports = c.jobs().wait_all(vec![handle]).await;
    let out = &reports[0].outcomes;
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0],
        ItemOutcome::Succeeded {
            id: Some(1900233268488),
            status: Some("Created".into())
        }
    );
    assert!(out[1].is_success());
    // The failed row says id 2: junk. Its outcome is the third item's, with no id.
    assert_eq!(
        out[2],
        ItemOutcome::Failed {
            code: "UserUpdateError".into(),
            message: "Name: Email: error@example.com_ is not properly formatted".into()
        }
    );
}

#[tokio::test]
async fn a_failed_job_fails_every_item_with_its_message() {
    let server = MockServer::start_async().await;
    let submit = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/api/v2/organizations/destroy_many.json")
                .query_param("ids", "11,12");
            then.status(200).body(fixture!("job_destroy_queued.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/job_statuses/show_many.json");
            then.status(200).body(fixture!("job_statuses_failed.json"));
        })
        .await;
    let c = client(&server);
    let handle = c
        .organizations()
        .destroy_many(&[OrgId(11), OrgId(12)])
        .await
        .expect("submitted");
    submit.assert_async().await;
    let reports = c.jobs().wait_all(vec![handle]).await;
    assert_eq!(reports[0].state, JobState::Failed);
    let expected = ItemOutcome::Failed {
        code: "failed".into(),
        message: "Failed: internal error".into(),
    };
    assert_eq!(reports[0].outcomes, vec![expected.clone(), expected]);
}

#[tokio::test]
async fn more_than_100_items_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let orgs: Vec<NewOrganization> = (0..101)
        .map(|i| NewOrganization {
            name: format!("Org {i}"),
            ..NewOrganization::default()
        })
        .collect();
    let err = client(&server)
        .organizations()
        .create_many(orgs)
        .await
        .expect_err("too many");
    assert!(matches!(err, Error::TooManyItems { max: 100, got: 101 }));
    assert_eq!(any.calls_async().await, 0);
}

#[tokio::test]
async fn the_job_limit_holds_a_submit_until_a_job_finishes() {
    let server = MockServer::start_async().await;
    let submit = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(200).body(fixture!("job_queued.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/api/v2/job_statuses/show_many.json");
            then.status(200)
                .body(fixture!("job_statuses_completed_failed_row.json"));
        })
        .await;
    let c = builder(&server).job_limit(1).build().expect("client");
    let one = || {
        vec![NewOrganization {
            name: "A".into(),
            ..NewOrganization::default()
        }]
    };
    let first = c.organizations().create_many(one()).await.expect("first");
    let blocked = tokio::time::timeout(
        Duration::from_millis(200),
        c.organizations().create_many(one()),
    )
    .await;
    assert!(blocked.is_err(), "second job must wait for a free slot");
    assert_eq!(submit.calls_async().await, 1);
    c.jobs().wait_all(vec![first]).await;
    let second = tokio::time::timeout(Duration::from_secs(5), c.organizations().create_many(one()))
        .await
        .expect("slot freed")
        .expect("second");
    assert_eq!(submit.calls_async().await, 2);
    drop(second);
}

#[tokio::test]
async fn many_handles_are_polled_together_in_one_call() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v2/organizations/create_many.json");
            then.status(200).body(fixture!("job_queued.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path("/api/v2/organizations/destroy_many.json");
            then.status(200).body(fixture!("job_destroy_queued.json"));
        })
        .await;
    let both = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/api/v2/job_statuses/show_many.json")
                .query_param("ids", format!("{JOB},V3-803ed77700000000000000000000abcd"));
            then.status(200).body(
                json!({"job_statuses": [
                    {"id": "V3-803ed77700000000000000000000abcd", "status": "completed", "total": 1,
                     "results": [{"id": 9, "action": "delete", "success": true, "status": "Deleted"}]},
                    {"id": JOB, "status": "completed", "total": 1,
                     "results": [{"status": "Created", "id": 6164086328858u64}]}
                ]})
                .to_string(),
            );
        })
        .await;
    let c = client(&server);
    let created = c
        .organizations()
        .create_many(vec![NewOrganization {
            name: "New".into(),
            ..NewOrganization::default()
        }])
        .await
        .expect("create");
    let deleted = c
        .organizations()
        .destroy_many(&[OrgId(9)])
        .await
        .expect("delete");
    let reports = c.jobs().wait_all(vec![created, deleted]).await;
    assert_eq!(both.calls_async().await, 1);
    assert_eq!(reports[0].id, JobId(JOB.into()));
    assert_eq!(
        reports[0].outcomes,
        vec![ItemOutcome::Succeeded {
            id: Some(6164086328858),
            status: Some("Created".into())
        }]
    );
    assert_eq!(
        reports[1].outcomes,
        vec![ItemOutcome::Succeeded {
            id: Some(9),
            status: Some("Deleted".into())
        }]
    );
}
