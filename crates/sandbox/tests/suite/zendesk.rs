//! The simulated Zendesk against the contract in reference/zendesk-api.md: pagination,
//! envelopes, bulk jobs with failed rows, validation errors, tags and drop-downs, rate
//! limit, faults, webhooks, the standalone binary.

// Helpers outside `#[test]` functions (setup, receivers) fail loudly on purpose.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use crate::zd_common::{fast, start, Zd};
use reqwest::Method;
use sandbox::faults::{Api, Fault, FaultPlan, FaultRule, Faults, When};
use sandbox::zendesk::model::TicketInput;
use sandbox::zendesk::{WebhookTarget, ZendeskConfig};
use serde_json::{json, Value};

async fn zd() -> Zd {
    start(fast(), FaultPlan::default()).await
}

fn plan(rules: Vec<FaultRule>) -> FaultPlan {
    FaultPlan { seed: 7, rules }
}

fn rule(fault: Fault, when: When, endpoint: &str) -> FaultRule {
    FaultRule {
        fault,
        when,
        api: Some(Api::Zendesk),
        endpoint: Some(endpoint.to_owned()),
    }
}

#[tokio::test]
async fn cursor_pages_walk_all_orgs_and_last_page_keeps_a_next_link() {
    let zd = zd().await;
    let expected: Vec<u64> = zd.sim.dump()["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    assert!(expected.len() >= 3, "seed too small for this test");
    // Real clients send the brackets encoded.
    let mut next = format!("{}/api/v2/organizations.json?page%5Bsize%5D=2", zd.url);
    let mut seen = Vec::new();
    loop {
        let body: Value = zd
            .http
            .get(&next)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body.get("count").is_none(), "no count in cursor mode");
        for o in body["organizations"].as_array().unwrap() {
            seen.push(o["id"].as_u64().unwrap());
        }
        next = body["links"]["next"]
            .as_str()
            .expect("links.next is never null on a non-empty page")
            .to_owned();
        if body["meta"]["has_more"] == false {
            assert!(body["meta"]["after_cursor"].is_string());
            break;
        }
    }
    assert_eq!(seen, expected);
    // Following the last page's next link gives the empty page with nulls.
    let empty: Value = zd
        .http
        .get(&next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        empty,
        json!({"organizations": [], "meta": {"has_more": false, "after_cursor": null, "before_cursor": null},
               "links": {"prev": null, "next": null}})
    );
}

#[tokio::test]
async fn page_size_is_capped_at_100_and_offset_mode_has_count_and_depth_limit() {
    let zd = zd().await;
    let orgs: Vec<Value> = (0..120)
        .map(|i| json!({"name": format!("Bulk Org {i:03}")}))
        .collect();
    for chunk in orgs.chunks(100) {
        let (_, body) = zd
            .send(
                Method::POST,
                "/api/v2/organizations/create_many",
                Some(json!({"organizations": chunk})),
            )
            .await;
        zd.wait_job(body["job_status"]["id"].as_str().unwrap())
            .await;
    }
    let (_, body) = zd.get("/api/v2/organizations?page[size]=500").await;
    assert_eq!(body["organizations"].as_array().unwrap().len(), 100);
    assert_eq!(body["meta"]["has_more"], true);
    let (_, body) = zd.get("/api/v2/organizations.json?per_page=50").await;
    let total = zd.sim.dump()["organizations"].as_array().unwrap().len();
    assert_eq!(body["count"], json!(total));
    assert!(body["next_page"].as_str().unwrap().contains("page=2"));
    assert_eq!(body["previous_page"], Value::Null);
    let (status, body) = zd.get("/api/v2/organizations.json?page=101").await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "InvalidPaginationDepth");
}

#[tokio::test]
async fn create_answers_201_with_location_and_duplicate_names_are_refused() {
    let zd = zd().await;
    let resp = zd
        .http
        .post(format!("{}/api/v2/organizations", zd.url))
        .json(&json!({"organization": {"name": "Brand New Org"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    let id = body["organization"]["id"].as_u64().unwrap();
    assert_eq!(
        location,
        format!("{}/api/v2/organizations/{id}.json", zd.url)
    );
    assert!(body["organization"]["created_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        body["organization"]["organization_fields"]["support_level"],
        Value::Null
    );
    // Trimmed, case-insensitive uniqueness.
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations.json",
            Some(json!({"organization": {"name": " brand new ORG "}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "RecordInvalid");
    assert_eq!(
        body["details"]["name"][0]["description"],
        "Name: has already been taken"
    );
    assert_eq!(body["details"]["name"][0]["error"], "DuplicateValue");
    let (status, body) = zd
        .get("/api/v2/organizations/9223372036854775807.json")
        .await;
    assert_eq!(
        (status, body),
        (
            404,
            json!({"error": "RecordNotFound", "description": "Not found"})
        )
    );
}

#[tokio::test]
async fn bulk_limits_answer_the_real_too_many_values_bodies() {
    let zd = zd().await;
    let orgs: Vec<Value> = (0..101).map(|i| json!({"name": format!("x{i}")})).collect();
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_many.json",
            Some(json!({"organizations": orgs})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "TooManyValues", "description": "Parameter  cannot specify more than 100 values", "max_count": 100})
    );
    let users: Vec<Value> = (0..101)
        .map(|i| json!({"name": "u", "email": format!("u{i}@x.example")}))
        .collect();
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_many",
            Some(json!({"users": users})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "TooManyValues", "description": "Maximum 100 users may be created per call"})
    );
    let ids: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let (status, _) = zd
        .send(
            Method::DELETE,
            &format!("/api/v2/organizations/destroy_many?ids={}", ids.join(",")),
            None,
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn create_many_job_progresses_and_reports_failed_rows() {
    let zd = zd().await;
    let body = json!({"organizations": [{"name": "Job Org A"}, {"name": "job org a"}, {"name": "Job Org B"}]});
    let (status, queued) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_many.json",
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "bulk answers 200, not 202");
    let job = &queued["job_status"];
    assert_eq!(
        (
            job["status"].as_str(),
            job["progress"].clone(),
            job["results"].clone(),
            job["total"].clone()
        ),
        (Some("queued"), Value::Null, Value::Null, json!(3))
    );
    let id = job["id"].as_str().unwrap();
    assert!(id.starts_with("V3-"));
    assert_eq!(
        job["url"],
        format!("{}/api/v2/job_statuses/{id}.json", zd.url)
    );
    assert!(
        zd.org_named("Job Org A").is_none(),
        "not applied while queued"
    );
    let done = zd.wait_job(id).await;
    assert_eq!(done["status"], "completed");
    assert!(done["message"]
        .as_str()
        .unwrap()
        .starts_with("Completed at "));
    let rows = done["results"].as_array().unwrap();
    let a = zd.org_named("Job Org A").unwrap()["id"].clone();
    let b = zd.org_named("Job Org B").unwrap()["id"].clone();
    assert_eq!(rows[0], json!({"status": "Created", "id": a}));
    assert_eq!(
        rows[1],
        json!({"index": 1, "error": "DuplicateValue", "details": "Name: has already been taken", "status": "Failed"})
    );
    assert_eq!(rows[2], json!({"status": "Created", "id": b}));
    // show_many reads them back (not in request order, real answer sorted by name).
    let (_, shown) = zd
        .get(&format!("/api/v2/organizations/show_many.json?ids={b},{a}"))
        .await;
    assert_eq!(shown["count"], 2);
    assert_eq!(shown["organizations"][0]["name"], "Job Org A");
}

#[tokio::test]
async fn update_many_both_forms_and_a_name_conflict_row() {
    let zd = zd().await;
    let (_, q) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_many",
            Some(json!({"organizations": [{"name": "U1"}, {"name": "U2"}]})),
        )
        .await;
    zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    let u1 = zd.org_named("U1").unwrap()["id"].as_u64().unwrap();
    let u2 = zd.org_named("U2").unwrap()["id"].as_u64().unwrap();
    let batch = json!({"organizations": [{"id": u1, "notes": "n1"}, {"id": u2, "name": "u1"}]});
    let (_, q) = zd
        .send(
            Method::PUT,
            "/api/v2/organizations/update_many.json",
            Some(batch),
        )
        .await;
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(
        done["status"], "completed",
        "failed rows do not fail the job"
    );
    assert_eq!(
        done["results"][0],
        json!({"action": "update", "id": u1, "status": "Updated", "success": true})
    );
    assert_eq!(
        done["results"][1],
        json!({"index": 1, "error": "OrganizationUpdateFailed", "id": u2, "details": "Name:  u1 has already been taken"})
    );
    let (_, q) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/update_many?ids={u1},{u2}"),
            Some(json!({"organization": {"notes": "Priority"}})),
        )
        .await;
    zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(zd.org_named("U2").unwrap()["notes"], "Priority");
    let (_, q) = zd
        .send(
            Method::DELETE,
            &format!("/api/v2/organizations/destroy_many.json?ids={u1},42"),
            None,
        )
        .await;
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(
        done["results"][0],
        json!({"id": u1, "action": "delete", "success": true, "status": "Deleted"})
    );
    assert_eq!(done["results"][1]["error"], "RecordNotFound");
    assert!(zd.org_named("U1").is_none());
}

#[tokio::test]
async fn dropdowns_and_checkboxes_keep_their_tags_and_fields_merge() {
    let zd = zd().await;
    let (_, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations",
            Some(json!({"organization": {
        "name": "Tag Org", "tags": ["vip_customer"],
        "organization_fields": {"support_level": "gold", "restricted_account": true, "aar": 10}}})),
        )
        .await;
    let id = body["organization"]["id"].as_u64().unwrap();
    let tags = |v: &Value| {
        v["organization"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect::<BTreeSet<_>>()
    };
    let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        tags(&body),
        set(&["vip_customer", "gold", "restricted_account"])
    );
    // A drop-down change swaps its option tag; other fields are kept (merge).
    let (_, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}"),
            Some(json!({"organization": {
        "organization_fields": {"support_level": "premium", "restricted_account": false}}})),
        )
        .await;
    assert_eq!(tags(&body), set(&["vip_customer", "premium"]));
    assert_eq!(body["organization"]["organization_fields"]["aar"], 10);
    assert_eq!(
        body["organization"]["organization_fields"]["restricted_account"],
        false
    );
    // A tag write replaces the list, and option tags in it set (or clear) their fields.
    let (_, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}.json"),
            Some(json!({"organization": {
        "tags": ["ultimate", "org_region_emea", "restricted_account"]}})),
        )
        .await;
    assert_eq!(
        tags(&body),
        set(&["ultimate", "org_region_emea", "restricted_account"])
    );
    let f = &body["organization"]["organization_fields"];
    assert_eq!(
        (
            f["support_level"].clone(),
            f["org_region"].clone(),
            f["restricted_account"].clone()
        ),
        (json!("ultimate"), json!("org_region_emea"), json!(true))
    );
    let (_, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}.json"),
            Some(json!({"organization": {"tags": []}})),
        )
        .await;
    assert_eq!(
        body["organization"]["organization_fields"]["support_level"],
        Value::Null
    );
    // An unknown option is refused by name.
    let (status, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}.json"),
            Some(json!({"organization": {
        "organization_fields": {"support_level": "platinum"}}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["details"]["organization_fields"][0]["description"]
        .as_str()
        .unwrap()
        .contains("platinum"));
}

#[tokio::test]
async fn users_search_create_and_bulk_rows() {
    let zd = zd().await;
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users.json",
            Some(json!({"user": {"name": "Dana", "email": "Dana@Example.com"}})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(body["user"]["role"], "end-user");
    let dana = body["user"]["id"].as_u64().unwrap();
    for q in ["email:%22dana%40example.com%22", "email:DANA@example.com"] {
        let (_, found) = zd
            .get(&format!("/api/v2/users/search.json?query={q}"))
            .await;
        assert_eq!(found["count"], 1, "{q}");
        assert_eq!(found["users"][0]["id"], dana);
    }
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users",
            Some(json!({"user": {"name": "Dup", "email": "dana@example.com"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"error": "RecordInvalid", "description": "Record validation errors",
        "details": {"email": [{"description": "Email: dana@example.com is already being used by another user", "error": "DuplicateValue"}]}})
    );
    let (_, q) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_many",
            Some(json!({"users": [
        {"name": "E", "email": "e@example.com"}, {"name": "Dup", "email": "dana@example.com"}]})),
        )
        .await;
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(done["results"][0]["status"], "Created");
    assert_eq!(
        done["results"][1],
        json!({"index": 1, "error": "DuplicateValue",
        "details": "Email: dana@example.com is already being used by another user", "status": "Failed"})
    );
    let (_, q) = zd.send(Method::POST, "/api/v2/users/create_or_update_many", Some(json!({"users": [
        {"name": "Dana R", "email": "dana@example.com"}, {"name": "F", "email": "f@example.com"}, {"name": "Bad", "email": "not-an-email"}]}))).await;
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    let rows = done["results"].as_array().unwrap();
    assert_eq!(
        rows[0],
        json!({"id": dana, "status": "Updated", "email": "dana@example.com"})
    );
    assert_eq!(rows[1]["status"], "Created");
    assert_eq!(rows[2]["status"], "Failed");
    assert_eq!(rows[2]["error"], "UserUpdateError");
    // Role filter: only agents and admins.
    let (_, body) = zd
        .get("/api/v2/users.json?role[]=agent&role[]=admin&page[size]=100")
        .await;
    let users = body["users"].as_array().unwrap();
    assert!(!users.is_empty());
    assert!(users
        .iter()
        .all(|u| u["role"] == "agent" || u["role"] == "admin"));
    // create_or_update: 200 when it updated, 201 when it created.
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_or_update",
            Some(json!({"user": {"name": "Dana", "email": "dana@example.com"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_or_update",
            Some(json!({"user": {"name": "G", "email": "g@example.com"}})),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn bulk_user_creation_can_be_switched_off() {
    let zd = start(
        ZendeskConfig {
            bulk_user_create_disabled: true,
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_many.json",
            Some(json!({"users": [{"name": "a", "email": "a@b.example"}]})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/users/create_or_update",
            Some(json!({"user": {"name": "a", "email": "a@b.example"}})),
        )
        .await;
    assert_eq!(status, 201, "one-by-one creation still works");
}

#[tokio::test]
async fn queued_jobs_are_limited() {
    let zd = start(
        ZendeskConfig {
            job_limit: 2,
            job_latency: Duration::from_secs(30),
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    for i in 0..2 {
        let (status, _) = zd
            .send(
                Method::POST,
                "/api/v2/organizations/create_many",
                Some(json!({"organizations": [{"name": format!("L{i}")}]})),
            )
            .await;
        assert_eq!(status, 200);
    }
    let resp = zd
        .http
        .post(format!("{}/api/v2/organizations/create_many", zd.url))
        .json(&json!({"organizations": [{"name": "L3"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "TooManyJobs");
}

#[tokio::test]
async fn rate_limit_answers_429_plain_text_with_retry_after_and_headers_everywhere() {
    let zd = start(
        ZendeskConfig {
            rate_limit: 3,
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    for remaining in [2, 1, 0] {
        let resp = zd
            .http
            .get(format!("{}/api/v2/organization_fields", zd.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-rate-limit"], "3");
        assert_eq!(
            resp.headers()["x-rate-limit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let resp = zd
        .http
        .get(format!("{}/api/v2/organizations", zd.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(resp.headers()["x-rate-limit-remaining"], "0");
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        resp.text().await.unwrap(),
        "Number of allowed API requests per minute exceeded"
    );
}

#[tokio::test]
async fn rate_window_resets() {
    let zd = start(
        ZendeskConfig {
            rate_limit: 1,
            rate_limit_window: Duration::from_millis(200),
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    // A fresh window takes the first request. The next ones are refused until the window
    // resets: a stall longer than the window between two requests may let one more
    // through, so the refusal is looked for rather than expected at the second request.
    assert_eq!(zd.get("/api/v2/organization_fields").await.0, 200);
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let status = zd.get("/api/v2/organization_fields").await.0;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "never refused: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    // Whatever the schedule, the window of that refusal began at least 250 ms ago.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(zd.get("/api/v2/organization_fields").await.0, 200);
}

#[tokio::test]
async fn fault_server_error_on_the_nth_request_only() {
    let zd = start(
        fast(),
        plan(vec![rule(
            Fault::ServerError { status: 503 },
            When::Nth(2),
            "GET /api/v2/organizations",
        )]),
    )
    .await;
    assert_eq!(zd.get("/api/v2/organizations.json").await.0, 200);
    let resp = zd
        .http
        .get(format!("{}/api/v2/organizations", zd.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(zd.get("/api/v2/organizations").await.0, 200);
    assert_eq!(
        zd.get("/api/v2/organization_fields").await.0,
        200,
        "other endpoints untouched"
    );
    assert_eq!(zd.faults.fired().len(), 1);
    assert_eq!(
        zd.sim.request_counts()["GET /api/v2/organizations"],
        3,
        "faulted requests are counted"
    );
}

#[tokio::test]
async fn fault_429_storm_covers_a_range() {
    let zd = start(
        fast(),
        plan(vec![rule(
            Fault::RateLimited {
                retry_after_secs: 7,
            },
            When::Range { from: 2, to: 4 },
            "/api/v2",
        )]),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let resp = zd
            .http
            .get(format!("{}/api/v2/organization_fields", zd.url))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            assert_eq!(resp.headers()["retry-after"], "7");
        }
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [200, 429, 429, 429, 200]);
}

#[tokio::test]
async fn fault_drop_loses_the_request_and_drop_after_apply_loses_only_the_answer() {
    let zd = start(
        fast(),
        plan(vec![
            rule(Fault::Drop, When::Nth(1), "POST /api/v2/organizations"),
            rule(
                Fault::DropAfterApply,
                When::Nth(2),
                "POST /api/v2/organizations",
            ),
        ]),
    )
    .await;
    let post = |name: &'static str| {
        zd.http
            .post(format!("{}/api/v2/organizations", zd.url))
            .json(&json!({"organization": {"name": name}}))
            .send()
    };
    let first = post("Dropped Org").await;
    assert!(
        first.is_err() || first.unwrap().bytes().await.is_err(),
        "the client sees a broken connection"
    );
    assert!(zd.org_named("Dropped Org").is_none(), "nothing applied");
    let second = post("Applied Org").await;
    assert!(second.is_err() || second.unwrap().bytes().await.is_err());
    assert!(
        zd.org_named("Applied Org").is_some(),
        "applied, then the connection dropped"
    );
    let third = post("Third Org").await.unwrap();
    assert_eq!(third.status(), 201);
}

#[tokio::test]
async fn fault_slow_response_is_delayed() {
    let zd = start(
        fast(),
        plan(vec![rule(
            Fault::Slow { millis: 300 },
            When::Always,
            "GET /api/v2/organization_fields",
        )]),
    )
    .await;
    let t = std::time::Instant::now();
    assert_eq!(zd.get("/api/v2/organization_fields").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn fault_failed_job_rows() {
    let zd = start(
        fast(),
        plan(vec![rule(
            Fault::FailJobRow,
            When::Nth(2),
            "PUT /api/v2/organizations/update_many",
        )]),
    )
    .await;
    let ids: Vec<u64> = zd.sim.dump()["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "notes": "x"}))
        .collect();
    let (_, q) = zd
        .send(
            Method::PUT,
            "/api/v2/organizations/update_many",
            Some(json!({"organizations": items})),
        )
        .await;
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["results"][0]["status"], "Updated");
    assert_eq!(done["results"][1]["index"], 1);
    assert_eq!(done["results"][1]["error"], "OrganizationUpdateFailed");
    assert_eq!(done["results"][2]["status"], "Updated");
}

#[test]
fn probability_faults_are_deterministic_under_a_seed() {
    let draw = |seed: u64| {
        let faults = Faults::new(FaultPlan {
            seed,
            rules: vec![FaultRule {
                fault: Fault::ServerError { status: 500 },
                when: When::Probability(0.5),
                api: None,
                endpoint: None,
            }],
        });
        (0..64)
            .map(|_| {
                faults
                    .decide(
                        Api::Zendesk,
                        "GET /api/v2/organizations",
                        "/api/v2/organizations",
                    )
                    .is_some()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
    let fired = draw(3).iter().filter(|f| **f).count();
    assert!((16..=48).contains(&fired), "about half fire: {fired}");
}

#[test]
fn salesforce_token_expiry_fault_calls_the_hook_only_for_salesforce() {
    let faults = Faults::new(FaultPlan {
        seed: 0,
        rules: vec![FaultRule {
            fault: Fault::ExpireSalesforceTokens,
            when: When::Always,
            api: Some(Api::Salesforce),
            endpoint: None,
        }],
    });
    assert_eq!(
        faults.decide(
            Api::Zendesk,
            "GET /api/v2/organizations",
            "/api/v2/organizations"
        ),
        None
    );
    assert_eq!(
        faults.decide(
            Api::Salesforce,
            "GET /services/data/v62.0/query",
            "/services/data/v62.0/query"
        ),
        Some(Fault::ExpireSalesforceTokens)
    );
}

#[test]
fn fault_rules_read_from_json() {
    let rule: FaultRule = serde_json::from_str(r#"{"fault":{"kind":"server_error","status":503},"when":{"nth":3},"api":"zendesk","endpoint":"POST /api/v2/organizations/create_many"}"#).unwrap();
    assert_eq!(
        rule,
        FaultRule {
            fault: Fault::ServerError { status: 503 },
            when: When::Nth(3),
            api: Some(Api::Zendesk),
            endpoint: Some("POST /api/v2/organizations/create_many".into())
        }
    );
    assert_eq!(
        sandbox::faults::endpoint_key("GET", "/api/v2/organizations/123/users.json"),
        "GET /api/v2/organizations/{id}/users"
    );
}

#[tokio::test]
async fn unexpected_routes_are_named_in_a_404() {
    let zd = zd().await;
    let (status, body) = zd
        .send(Method::PATCH, "/api/v2/organizations/1", None)
        .await;
    assert_eq!(status, 404);
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("PATCH /api/v2/organizations/1"),
        "{body}"
    );
}

#[tokio::test]
async fn credentials_are_checked_when_required() {
    let creds = sandbox::ZendeskCredentials::ApiToken {
        email: "ops@example.com".into(),
        token: "t0k".into(),
    };
    let zd = start(
        ZendeskConfig {
            credentials: Some(creds),
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let (status, body) = zd.get("/api/v2/organizations").await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "Couldn't authenticate you"}))
    );
    let resp = zd
        .http
        .get(format!("{}/api/v2/organizations", zd.url))
        .basic_auth("ops@example.com/token", Some("t0k"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, String)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn tickets_fire_signed_webhooks_on_create_and_close() {
    let (url, mut rx) = receiver().await;
    let secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";
    let zd = start(
        ZendeskConfig {
            webhook: Some(WebhookTarget {
                url,
                secret: secret.into(),
            }),
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let ticket = zd
        .sim
        .create_ticket(&TicketInput {
            subject: Some("Help".into()),
            description: Some("It broke".into()),
            ..TicketInput::default()
        })
        .unwrap();
    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        body,
        format!(r#"{{"ticket_id":"{}","event":"created"}}"#, ticket.id)
    );
    let sig = headers["x-zendesk-webhook-signature"].to_str().unwrap();
    let ts = headers["x-zendesk-webhook-signature-timestamp"]
        .to_str()
        .unwrap();
    assert!(
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).is_ok(),
        "ISO-8601: {ts}"
    );
    for h in [
        "x-zendesk-webhook-id",
        "x-zendesk-webhook-invocation-id",
        "x-zendesk-account-id",
    ] {
        assert!(headers.contains_key(h), "{h}");
    }
    // Checked with the real client's verifier, not only our own signer.
    zendesk_client::webhook::verify(
        secret,
        Some(sig),
        Some(ts),
        body.as_bytes(),
        time::OffsetDateTime::now_utc(),
        zendesk_client::webhook::DEFAULT_MAX_AGE,
    )
    .unwrap();
    assert!(zendesk_client::webhook::verify(
        "wrong",
        Some(sig),
        Some(ts),
        body.as_bytes(),
        time::OffsetDateTime::now_utc(),
        zendesk_client::webhook::DEFAULT_MAX_AGE
    )
    .is_err());
    // Closing through the API fires `closed`; a closed ticket then refuses updates.
    let path = format!("/api/v2/tickets/{}.json", ticket.id);
    let (status, body) = zd
        .send(
            Method::PUT,
            &path,
            Some(json!({"ticket": {"status": "closed", "description": "ignored"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["ticket"]["description"], "It broke",
        "description is read-only"
    );
    assert_eq!(body["audit"]["events"][0]["field_name"], "status");
    let (_, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        body,
        format!(r#"{{"ticket_id":"{}","event":"closed"}}"#, ticket.id)
    );
    let (status, body) = zd
        .send(
            Method::PUT,
            &path,
            Some(json!({"ticket": {"subject": "again"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["details"]["status"][0]["description"],
        "Status: closed prevents ticket update"
    );
}

#[tokio::test]
async fn incremental_ticket_export_ends_with_end_of_stream_and_a_cursor() {
    let zd = zd().await;
    let total = zd.sim.dump()["tickets"].as_array().unwrap().len();
    assert!(total >= 2, "seed too small for this test");
    let (status, page) = zd
        .get("/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(page["end_of_stream"], false);
    assert_eq!(
        (page["before_url"].clone(), page["before_cursor"].clone()),
        (Value::Null, Value::Null)
    );
    let mut seen = 1;
    let mut cursor = page["after_cursor"].as_str().unwrap().to_owned();
    loop {
        let mut url = reqwest::Url::parse(&format!(
            "{}/api/v2/incremental/tickets/cursor.json",
            zd.url
        ))
        .unwrap();
        url.query_pairs_mut()
            .append_pair("cursor", &cursor)
            .append_pair("per_page", "1");
        let page: Value = zd.http.get(url).send().await.unwrap().json().await.unwrap();
        seen += page["tickets"].as_array().unwrap().len();
        cursor = page["after_cursor"]
            .as_str()
            .expect("cursor kept at the end")
            .to_owned();
        if page["end_of_stream"] == true {
            break;
        }
    }
    assert_eq!(seen, total);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, _) = zd
        .get(&format!(
            "/api/v2/incremental/tickets/cursor?start_time={now}"
        ))
        .await;
    assert_eq!(status, 400, "start_time must be a minute in the past");
}

#[test]
fn seed_organization_fields_match_the_agreed_table() {
    let plans = "ultimate gold premium silver starter bronze custom community expired";
    let types = "customer former_customer prospect partner former_partner alliance_partner open_partner select_partner technology_partner";
    let global = [
        ("salesforce_id", "text", ""), ("sfdc_short_id", "text", ""), ("support_level", "dropdown", plans),
        ("aar", "decimal", ""), ("sales_segmentation", "text", ""), ("account_owner", "text", ""),
        ("account_type", "dropdown", types), ("technical_account_manager", "text", ""), ("seats_decimal", "decimal", ""),
        ("org_region", "dropdown", "org_region_amer org_region_apac org_region_emea org_region_latam org_region_ncsa org_region_noram"),
        ("health_score", "dropdown", "health_score_green health_score_yellow health_score_red"),
        ("expiration_date", "text", ""), ("restricted_account", "checkbox", "restricted_account"),
    ];
    let federal = [
        ("salesforce_id", "text", ""), ("sfdc_short_id", "text", ""), ("support_level", "dropdown", plans),
        ("account_type", "dropdown", types), ("account_owner", "text", ""), ("technical_account_manager", "text", ""),
        ("expiration_date", "text", ""), ("arr", "integer", ""),
        ("market_segment", "dropdown", "market_segment_large market_segment_mid_market market_segment_smb market_segment_pubsec"),
        ("number_of_seats", "integer", ""), ("solutions_architect", "text", ""),
    ];
    for (dir, table) in [("global", &global[..]), ("us-federal", &federal[..])] {
        let path = sandbox::fixtures_dir().join(format!("zendesk/{dir}/organization_fields.json"));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let got: Vec<(String, String, String)> = file["organization_fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let extra = match f["type"].as_str().unwrap() {
                    "dropdown" => f["custom_field_options"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| o["value"].as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(" "),
                    "checkbox" => f["tag"].as_str().unwrap().to_owned(),
                    _ => String::new(),
                };
                (
                    f["key"].as_str().unwrap().to_owned(),
                    f["type"].as_str().unwrap().to_owned(),
                    extra,
                )
            })
            .collect();
        let want: Vec<(String, String, String)> = table
            .iter()
            .map(|(k, t, e)| (k.to_string(), t.to_string(), e.to_string()))
            .collect();
        assert_eq!(got, want, "{dir}");
    }
}

#[test]
fn the_demo_seeds_load() {
    for dir in ["global", "us-federal"] {
        let data =
            sandbox::zendesk::Data::load_dir(&sandbox::fixtures_dir().join("zendesk").join(dir))
                .unwrap();
        assert!(!data.fields.is_empty(), "{dir}");
    }
}

#[tokio::test]
async fn sandbox_serves_both_apis_and_the_admin_endpoints() {
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::default_fixtures())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let zd = sandbox.zendesk_url().to_owned();
    assert!(zd.starts_with("http://127.0.0.1:") && !zd.ends_with('/'));
    let orgs: Value = http
        .get(format!("{zd}/api/v2/organizations?page[size]=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(orgs["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "Initech"));
    // Faults through the admin endpoint.
    let faults = json!({"seed": 1, "rules": [{"fault": {"kind": "server_error", "status": 500}, "when": "always", "api": "zendesk",
        "endpoint": "GET /api/v2/organization_fields"}]});
    let resp = http
        .put(format!("{zd}/__admin/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        http.get(format!("{zd}/api/v2/organization_fields"))
            .send()
            .await
            .unwrap()
            .status(),
        500
    );
    let got: Value = http
        .get(format!("{zd}/__admin/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, faults);
    let bad = http
        .put(format!("{zd}/__admin/faults"))
        .json(&json!({"rules": [{"fault": {"kind": "nope"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    sandbox.admin().set_faults(FaultPlan::default());
    // Tickets through the admin endpoint.
    let resp = http.post(format!("{zd}/__admin/tickets"))
        .json(&json!({"subject": "From admin", "description": "body", "requester_id": 360200000003u64}))
        .send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let ticket: Value = resp.json().await.unwrap();
    assert_eq!(
        ticket["ticket"]["organization_id"], 360100000001u64,
        "inherits the requester's org"
    );
    let id = ticket["ticket"]["id"].as_u64().unwrap();
    let closed: Value = http
        .post(format!("{zd}/__admin/tickets/{id}/close"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["ticket"]["status"], "closed");
    let missing = http
        .post(format!("{zd}/__admin/tickets/1/close"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // State and request counts.
    let state: Value = http
        .get(format!("{zd}/__admin/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["zendesk"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id));
    assert!(state["salesforce"].is_object());
    let counts: Value = http
        .get(format!("{zd}/__admin/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["zendesk"]["GET /api/v2/organizations"], 1);
    assert_eq!(counts["zendesk"]["GET /api/v2/organization_fields"], 1);
    assert!(
        counts["zendesk"].get("GET /__admin/state").is_none(),
        "admin calls are not API calls"
    );
    let sf_status = http
        .get(format!("{}/services/data", sandbox.salesforce_url()))
        .send()
        .await
        .unwrap()
        .status();
    assert_ne!(sf_status.as_u16(), 0);
}

#[tokio::test]
async fn generated_sandbox_has_zendesk_orgs_for_a_share_of_the_accounts() {
    let today = time::macros::date!(2026 - 11 - 25);
    let config = sandbox::SandboxConfig {
        seed: sandbox::Seed::Generated {
            accounts: 30,
            seed: 5,
            today,
        },
        ..sandbox::SandboxConfig::default_fixtures()
    };
    let sandbox = sandbox::Sandbox::start(config.clone()).await.unwrap();
    let accounts = sandbox.admin().salesforce_state();
    let state = sandbox.admin().zendesk_state();
    let orgs = state["organizations"].as_array().unwrap();
    let matched = orgs
        .iter()
        .filter(|o| o["organization_fields"]["salesforce_id"].is_string())
        .count();
    assert!(
        matched > 0,
        "no generated org matches an account: {accounts}"
    );
    assert!(
        orgs.iter()
            .any(|o| o["organization_fields"]["salesforce_id"].is_null()),
        "orgs outside Salesforce too"
    );
    assert_eq!(state["organization_fields"].as_array().unwrap().len(), 13);
    // Deterministic.
    let again = sandbox::Sandbox::start(config).await.unwrap();
    let strip = |state: &Value| -> Vec<Value> {
        state["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| json!([o["id"], o["name"], o["tags"], o["organization_fields"]]))
            .collect()
    };
    assert_eq!(strip(&again.admin().zendesk_state()), strip(&state));
}

#[tokio::test]
async fn the_binary_prints_both_urls_first() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zd-sfdc-sandbox"))
        .args([
            "serve",
            "--job-latency-ms",
            "10",
            "--instance",
            "us-federal",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    let keys: Vec<&String> = urls.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["salesforce", "zendesk"]);
    for key in ["salesforce", "zendesk"] {
        let url = urls[key].as_str().unwrap();
        let port: u16 = url
            .strip_prefix("http://127.0.0.1:")
            .unwrap()
            .parse()
            .unwrap();
        assert!(port > 0);
    }
    let url = format!(
        "{}/api/v2/organizations.json",
        urls["zendesk"].as_str().unwrap()
    );
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert!(body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "Agency of Samples"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn the_real_client_round_trips_against_the_simulator() {
    use futures::TryStreamExt;
    use zendesk_client::{Auth, Client, ItemOutcome, NewOrganization, PollPolicy};
    let zd = zd().await;
    let client = Client::builder()
        .url(zd.url.clone())
        .auth(Auth::api_token("ops@example.com", "t0k"))
        .poll_policy(PollPolicy {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(50),
            timeout: Duration::from_secs(5),
        })
        .build()
        .unwrap();
    let orgs = client.organizations();
    let fields = orgs.fields().await.unwrap();
    assert_eq!(fields.len(), 13);
    let all: Vec<_> = orgs.list().try_collect().await.unwrap();
    assert_eq!(
        all.len(),
        zd.sim.dump()["organizations"].as_array().unwrap().len()
    );
    let new = |name: &str| NewOrganization {
        name: name.to_owned(),
        ..NewOrganization::default()
    };
    let handle = orgs
        .create_many(vec![new("Client Org"), new("Initech")])
        .await
        .unwrap();
    let reports = client.jobs().wait_all(vec![handle]).await;
    assert_eq!(reports.len(), 1);
    let outcomes = &reports[0].outcomes;
    assert!(
        matches!(outcomes[0], ItemOutcome::Succeeded { id: Some(_), .. }),
        "{outcomes:?}"
    );
    assert!(
        matches!(&outcomes[1], ItemOutcome::Failed { code, .. } if code == "DuplicateValue"),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn salesforce_faults_run_through_the_sandbox() {
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::default_fixtures())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let sf = sandbox.salesforce_url().to_owned();
    let token: Value = http
        .post(format!("{sf}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let query = || {
        http.get(format!("{sf}/services/data/v62.0/query"))
            .query(&[("q", "SELECT Id FROM Account")])
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(query().await.unwrap().status(), 200);
    // The 2nd query request expires every token before it is handled.
    sandbox.admin().set_faults(FaultPlan {
        seed: 0,
        rules: vec![FaultRule {
            fault: Fault::ExpireSalesforceTokens,
            when: When::Nth(1),
            api: Some(Api::Salesforce),
            endpoint: Some("GET /services/data/v62.0/query".into()),
        }],
    });
    let resp = query().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("INVALID_SESSION_ID"));
    // A 503 from the Salesforce side, chosen by the same middleware.
    sandbox.admin().set_faults(FaultPlan {
        seed: 0,
        rules: vec![FaultRule {
            fault: Fault::ServerError { status: 503 },
            when: When::Always,
            api: Some(Api::Salesforce),
            endpoint: None,
        }],
    });
    let resp = http
        .post(format!("{sf}/services/oauth2/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let zd = reqwest::get(format!(
        "{}/api/v2/organization_fields",
        sandbox.zendesk_url()
    ))
    .await
    .unwrap();
    assert_eq!(
        zd.status(),
        200,
        "a Salesforce-only rule leaves Zendesk alone"
    );
}

#[tokio::test]
async fn a_fault_delivers_a_webhook_twice_with_one_invocation_id() {
    let (url, mut rx) = receiver().await;
    let zd = start(
        ZendeskConfig {
            webhook: Some(WebhookTarget {
                url,
                secret: "s".into(),
            }),
            ..fast()
        },
        plan(vec![rule(
            Fault::DuplicateWebhook,
            When::Nth(1),
            "WEBHOOK created",
        )]),
    )
    .await;
    let input = TicketInput {
        subject: Some("Twice".into()),
        description: Some("body".into()),
        ..TicketInput::default()
    };
    zd.sim.create_ticket(&input).unwrap();
    let mut got = Vec::new();
    for _ in 0..2 {
        let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        got.push((
            headers["x-zendesk-webhook-invocation-id"]
                .to_str()
                .unwrap()
                .to_owned(),
            body,
        ));
    }
    assert_eq!(got[0], got[1]);
    // Only the Nth draw fires: the next ticket's webhook comes once.
    let second = zd.sim.create_ticket(&input).unwrap();
    let (_, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(body.contains(&second.id.to_string()));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.try_recv().is_err(), "no duplicate of the second webhook");
    assert_eq!(zd.sim.webhook_deliveries().len(), 3);
}

#[tokio::test]
async fn org_tag_endpoints_and_create_or_update() {
    let zd = zd().await;
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_or_update",
            Some(json!({"organization": {"name": "CoU Org", "external_id": "EXT-1"}})),
        )
        .await;
    assert_eq!(status, 201);
    let id = body["organization"]["id"].as_u64().unwrap();
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_or_update.json",
            Some(json!({"organization": {"external_id": "ext-1", "notes": "n"}})),
        )
        .await;
    assert_eq!(
        (status, body["organization"]["id"].as_u64()),
        (200, Some(id))
    );
    // Name alone does not match: a duplicate name is refused.
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/organizations/create_or_update",
            Some(json!({"organization": {"name": "CoU Org"}})),
        )
        .await;
    assert_eq!(status, 422);
    let path = format!("/api/v2/organizations/{id}/tags.json");
    let (status, body) = zd
        .send(Method::POST, &path, Some(json!({"tags": ["a", "gold"]})))
        .await;
    assert_eq!((status, body), (201, json!({"tags": ["a", "gold"]})));
    let (_, body) = zd
        .send(Method::PUT, &path, Some(json!({"tags": ["b"]})))
        .await;
    assert_eq!(body, json!({"tags": ["a", "gold", "b"]}));
    let (_, body) = zd
        .send(Method::DELETE, &path, Some(json!({"tags": ["gold"]})))
        .await;
    assert_eq!(body, json!({"tags": ["a", "b"]}));
    let (_, body) = zd.get(&path).await;
    assert_eq!(body, json!({"tags": ["a", "b"]}));
    assert_eq!(
        zd.org_named("CoU Org").unwrap()["organization_fields"]["support_level"],
        Value::Null,
        "removing the option tag clears the field"
    );
}

#[tokio::test]
async fn renames_and_deletes_free_the_old_name() {
    let zd = zd().await;
    let create = |name: &'static str| {
        zd.send(
            Method::POST,
            "/api/v2/organizations",
            Some(json!({"organization": {"name": name}})),
        )
    };
    let (_, body) = create("Old Name").await;
    let id = body["organization"]["id"].as_u64().unwrap();
    let (status, _) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/organizations/{id}"),
            Some(json!({"organization": {"name": "New Name"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        create("old name").await.0,
        201,
        "the old name is free after a rename"
    );
    assert_eq!(create("NEW NAME").await.0, 422, "the new name is taken");
    assert_eq!(
        zd.send(
            Method::DELETE,
            &format!("/api/v2/organizations/{id}.json"),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        create("New Name").await.0,
        201,
        "a deleted org's name is free"
    );
    // Emails: a user's change of address frees the old one.
    let (_, body) = zd
        .send(
            Method::POST,
            "/api/v2/users",
            Some(json!({"user": {"name": "M", "email": "m1@example.com"}})),
        )
        .await;
    let uid = body["user"]["id"].as_u64().unwrap();
    let (_, q) = zd
        .send(
            Method::PUT,
            "/api/v2/users/update_many",
            Some(json!({"users": [{"id": uid, "email": "m2@example.com"}]})),
        )
        .await;
    zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    let (status, _) = zd
        .send(
            Method::POST,
            "/api/v2/users",
            Some(json!({"user": {"name": "M1", "email": "m1@example.com"}})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, found) = zd
        .get("/api/v2/users/search?query=email:m2@example.com")
        .await;
    assert_eq!(found["users"][0]["id"], uid);
}
