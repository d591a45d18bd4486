//! The [UNCONFIRMED] shapes answered the other plausible way (issue 16, docs/behaviour.md §9): each
//! switch of `Quirks`, over HTTP, against its default; and the admin endpoint that
//! changes them at run time.

use std::time::Duration;

use reqwest::Method;
use sandbox::faults::FaultPlan;
use sandbox::zendesk::ZendeskConfig;
use sandbox::{
    DestroyManyResults, DuplicateEmailRow, JobLimitAnswer, Quirks, Sandbox, SandboxConfig, User403,
};
use serde_json::{json, Value};

use crate::zd_common::{fast, start, Zd};

async fn with(quirks: Quirks) -> Zd {
    start(ZendeskConfig { quirks, ..fast() }, FaultPlan::default()).await
}

async fn new_org(zd: &Zd, name: &str) -> u64 {
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations.json",
            Some(json!({"organization": {"name": name}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["organization"]["id"].as_u64().unwrap()
}

async fn destroy(zd: &Zd, ids: &[u64]) -> Value {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    let (status, body) = zd
        .send(
            Method::DELETE,
            &format!(
                "/api/v2/organizations/destroy_many.json?ids={}",
                list.join(",")
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    zd.wait_job(body["job_status"]["id"].as_str().unwrap())
        .await
}

#[tokio::test]
async fn destroy_many_results_per_org_or_one_object_or_none() {
    let cases = [
        (DestroyManyResults::PerOrg, None),
        (
            DestroyManyResults::SuccessObject,
            Some(json!({"success": true})),
        ),
        (DestroyManyResults::NoRows, Some(json!([]))),
        (DestroyManyResults::Null, Some(Value::Null)),
    ];
    for (switch, expected) in cases {
        let zd = with(Quirks {
            destroy_many_results: switch,
            ..Quirks::default()
        })
        .await;
        let a = new_org(&zd, "Doomed A").await;
        let b = new_org(&zd, "Doomed B").await;
        let job = destroy(&zd, &[a, b]).await;
        assert_eq!(job["status"], "completed", "{switch:?}: {job}");
        match expected {
            None => {
                let rows = job["results"].as_array().unwrap();
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[0]["status"], "Deleted");
                assert_eq!(rows[0]["success"], true);
            }
            Some(results) => assert_eq!(job["results"], results, "{switch:?}"),
        }
        // The orgs are gone whatever the job said.
        assert_eq!(zd.get(&format!("/api/v2/organizations/{a}")).await.0, 404);
        assert_eq!(zd.get(&format!("/api/v2/organizations/{b}")).await.0, 404);
    }
}

#[tokio::test]
async fn a_duplicate_email_row_in_create_many_has_another_code_and_wording_when_switched() {
    for (switch, code, words) in [
        (
            DuplicateEmailRow::DuplicateValue,
            "DuplicateValue",
            "is already being used by another user",
        ),
        (
            DuplicateEmailRow::AlreadyTaken,
            "RecordInvalid",
            "has already been taken",
        ),
    ] {
        let zd = with(Quirks {
            duplicate_email_row: switch,
            ..Quirks::default()
        })
        .await;
        let (status, body) = zd
            .send(
                Method::POST,
                "/api/v2/users/create_many.json",
                Some(json!({"users": [
                    {"name": "First", "email": "dup@example.com"},
                    {"name": "Second", "email": "DUP@example.com"},
                ]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let job = zd
            .wait_job(body["job_status"]["id"].as_str().unwrap())
            .await;
        let rows = job["results"].as_array().unwrap();
        assert_eq!(rows[0]["status"], "Created");
        assert_eq!(rows[1]["status"], "Failed");
        assert_eq!(rows[1]["index"], 1);
        assert_eq!(rows[1]["error"], code, "{switch:?}");
        let details = rows[1]["details"].as_str().unwrap();
        assert!(
            details.contains("dup@example.com") && details.contains(words),
            "{details}"
        );
        if switch == DuplicateEmailRow::AlreadyTaken {
            assert!(!details.contains("already being used"));
        }
    }
}

#[tokio::test]
async fn past_the_job_limit_the_answer_takes_each_plausible_form() {
    for answer in [
        JobLimitAnswer::TooManyJobs,
        JobLimitAnswer::NoRetryAfter,
        JobLimitAnswer::ErrorsEnvelope,
        JobLimitAnswer::Unavailable,
    ] {
        let zd = start(
            ZendeskConfig {
                job_limit: 1,
                job_latency: Duration::from_secs(30),
                quirks: Quirks {
                    job_limit_answer: answer,
                    ..Quirks::default()
                },
                ..fast()
            },
            FaultPlan::default(),
        )
        .await;
        let body = json!({"organizations": [{"name": "Queued"}]});
        let post = || {
            zd.http
                .post(format!("{}/api/v2/organizations/create_many.json", zd.url))
                .json(&body)
                .send()
        };
        assert_eq!(post().await.unwrap().status(), 200);
        let refused = post().await.unwrap();
        let status = refused.status().as_u16();
        let retry_after = refused.headers().get("retry-after").cloned();
        let text = refused.text().await.unwrap();
        match answer {
            JobLimitAnswer::TooManyJobs => {
                assert_eq!(status, 429);
                assert!(retry_after.is_some());
                assert!(text.contains("TooManyJobs"));
            }
            JobLimitAnswer::NoRetryAfter => {
                assert_eq!(status, 429);
                assert!(retry_after.is_none());
                assert!(text.contains("TooManyJobs"));
            }
            JobLimitAnswer::ErrorsEnvelope => {
                assert_eq!(status, 429);
                assert!(retry_after.is_none());
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["errors"][0]["code"], "TooManyRequests");
            }
            JobLimitAnswer::Unavailable => {
                assert_eq!(status, 503);
                assert!(retry_after.is_none());
                assert!(serde_json::from_str::<Value>(&text).is_err(), "plain text");
            }
        }
        assert_eq!(zd.sim.writes().job_limit_refused, 1, "{answer:?}");
        // Nothing was queued by the refused call.
        assert_eq!(
            zd.sim.dump()["job_statuses"].as_array().unwrap().len(),
            1,
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn a_403_on_bulk_user_writes_with_another_body_or_as_no_permission() {
    let many = json!({"users": [{"name": "Bulk", "email": "bulk403@example.com"}]});
    let one = json!({"user": {"name": "Single", "email": "single403@example.com"}});

    let zd = with(Quirks {
        user_403: User403::BulkOtherBody,
        ..Quirks::default()
    })
    .await;
    for path in [
        "/api/v2/users/create_many",
        "/api/v2/users/create_or_update_many",
    ] {
        let (status, body) = zd.send(Method::POST, path, Some(many.clone())).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["error"], "Forbidden");
        assert!(
            body.get("message").is_none(),
            "not the data-imports body: {body}"
        );
    }
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_or_update",
            Some(one.clone()),
        )
        .await;
    assert_eq!(status, 201, "single writes go through: {body}");

    let zd = with(Quirks {
        user_403: User403::NoPermission,
        ..Quirks::default()
    })
    .await;
    for (method, path, body) in [
        (Method::POST, "/api/v2/users/create_many", many.clone()),
        (Method::POST, "/api/v2/users/create_or_update", one.clone()),
        (Method::POST, "/api/v2/users", one.clone()),
    ] {
        let (status, answer) = zd.send(method, path, Some(body)).await;
        assert_eq!(status, 403, "{path}: {answer}");
        assert_eq!(answer["error"], "Forbidden");
    }
    assert_eq!(
        zd.get("/api/v2/users?page[size]=10").await.0,
        200,
        "reads still work"
    );
    assert!(zd.sim.dump()["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"] != "single403@example.com"));

    // Default: bulk import off answers the data-imports body, single writes go through.
    let zd = start(
        ZendeskConfig {
            bulk_user_create_disabled: true,
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let (status, body) = zd
        .send(Method::POST, "/api/v2/users/create_many", Some(many))
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Data imports are not enabled"))
    );
    let (status, _) = zd
        .send(Method::POST, "/api/v2/users/create_or_update", Some(one))
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_admin_endpoint_switches_the_quirks_at_run_time() {
    let sandbox = Sandbox::start(SandboxConfig {
        zendesk_quirks: Quirks {
            job_limit_answer: JobLimitAnswer::Unavailable,
            ..Quirks::default()
        },
        ..SandboxConfig::default_fixtures()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/__admin/zendesk/quirks", sandbox.zendesk_url());
    let now: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["job_limit_answer"], "unavailable");
    assert_eq!(now["destroy_many_results"], "per_org");
    let resp = http
        .put(&url)
        .json(&json!({"destroy_many_results": "success_object", "user_403": "no_permission"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let set = sandbox.admin().zendesk_quirks();
    assert_eq!(set.destroy_many_results, DestroyManyResults::SuccessObject);
    assert_eq!(set.user_403, User403::NoPermission);
    assert_eq!(
        set.job_limit_answer,
        JobLimitAnswer::TooManyJobs,
        "left out: default"
    );
    let refused = http
        .post(format!(
            "{}/api/v2/users/create_or_update",
            sandbox.zendesk_url()
        ))
        .json(&json!({"user": {"name": "X", "email": "x@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let bad = http
        .put(&url)
        .json(&json!({"user_403": "sometimes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        sandbox.admin().zendesk_quirks(),
        set,
        "a bad body changes nothing"
    );
}
