//! Fidelity of the simulated Zendesk to reference/zendesk-api.md where a third-party
//! client (zenpy) or the reference found it lacking: the search forms (§4.13, §5.8),
//! organization field show (§4.11), users show_many and `external_ids=` (§5.5, §5.8),
//! organizations/search (§4.13), the job status list (§6.3), whole jobs that end
//! `failed`/`killed` (§6.1), and the incremental export leaving out the last minute (§4.14).

// Helpers outside `#[test]` functions fail loudly on purpose.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::zd_common::{fast, start, Zd};
use reqwest::Method;
use sandbox::faults::{Api, Fault, FaultPlan, FaultRule, When};
use sandbox::zendesk::model::TicketInput;
use sandbox::zendesk::ZendeskConfig;
use serde_json::{json, Value};

async fn zd() -> Zd {
    start(fast(), FaultPlan::default()).await
}

async fn new_user(zd: &Zd, name: &str, email: &str, external_id: &str) -> u64 {
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/users.json",
            Some(json!({"user": {"name": name, "email": email, "external_id": external_id}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["user"]["id"].as_u64().unwrap()
}

fn ids(list: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn users_search_takes_a_bare_email_a_name_and_typed_terms() {
    let zd = zd().await;
    let ada = new_user(&zd, "Ada Lovelace", "ada@example.com", "EXT-1").await;
    let bob = new_user(&zd, "Bob Ada", "bob@example.com", "EXT-2").await;
    // zenpy's `users.search(query=email)` sends the address bare (§5.8 "full search syntax").
    for (q, want) in [
        ("ADA%40example.com", vec![ada]),
        ("email%3A%22ada%40example.com%22", vec![ada]),
        ("type%3Auser+email%3Abob%40example.com", vec![bob]),
        ("name%3A%22Ada+Lovelace%22", vec![ada]),
        ("ada", vec![ada, bob]),
        ("external_id%3Aext-2", vec![bob]),
        ("nobody%40example.com", vec![]),
    ] {
        let (status, body) = zd
            .get(&format!("/api/v2/users/search.json?query={q}"))
            .await;
        assert_eq!(status, 200, "{q}: {body}");
        assert_eq!(ids(&body["users"]), want, "{q}");
        assert_eq!(body["count"], want.len(), "{q}");
        assert_eq!(body["next_page"], Value::Null);
    }
    let (status, body) = zd.get("/api/v2/users/search.json?query=phone%3A123").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["description"].as_str().unwrap().contains("phone:123"));
}

#[tokio::test]
async fn general_search_tags_each_result_with_its_type() {
    let zd = zd().await;
    let ada = new_user(&zd, "Ada Lovelace", "ada@example.com", "EXT-1").await;
    let (status, body) = zd
        .get("/api/v2/search.json?query=type%3Auser+email%3Aada%40example.com")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(body["facets"], Value::Null);
    assert_eq!(body["results"][0]["id"], ada);
    assert_eq!(body["results"][0]["result_type"], "user");
    // An org by a custom field value and by name, from the seed.
    let org = zd.sim.dump()["organizations"][0].clone();
    let sfid = org["organization_fields"]["salesforce_id"]
        .as_str()
        .unwrap();
    let (_, body) = zd
        .get(&format!(
            "/api/v2/search?query=type:organization%20salesforce_id:{sfid}"
        ))
        .await;
    assert_eq!(body["count"], 1, "{body}");
    assert_eq!(body["results"][0]["id"], org["id"]);
    assert_eq!(body["results"][0]["result_type"], "organization");
    let (status, body) = zd.get("/api/v2/search?query=type:ticket%20x").await;
    assert_eq!(status, 400, "{body}");
    // Without type:, a user-only term finds users and rules organizations out.
    let (status, body) = zd.get("/api/v2/search?query=email:ada@example.com").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(body["results"][0]["result_type"], "user");
    let (status, body) = zd.get("/api/v2/search?query=phone:123").await;
    assert_eq!(status, 400, "no type can be searched by phone: {body}");
}

#[tokio::test]
async fn organization_field_show_and_unknown_id() {
    let zd = zd().await;
    let (_, list) = zd.get("/api/v2/organization_fields").await;
    let first = list["organization_fields"][0].clone();
    let id = first["id"].as_u64().unwrap();
    let (status, body) = zd
        .get(&format!("/api/v2/organization_fields/{id}.json"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["organization_field"], first);
    let (status, body) = zd.get("/api/v2/organization_fields/1").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "RecordNotFound");
}

#[tokio::test]
async fn users_show_many_and_update_many_by_external_ids() {
    let zd = zd().await;
    let ada = new_user(&zd, "Ada", "ada@example.com", "EXT-1").await;
    let bob = new_user(&zd, "Bob", "bob@example.com", "EXT-2").await;
    let (status, body) = zd
        .get(&format!("/api/v2/users/show_many.json?ids={ada},{bob},1"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body["users"]), vec![ada, bob]);
    let (_, body) = zd
        .get("/api/v2/users/show_many?external_ids=ext-1,EXT-2")
        .await;
    assert_eq!(ids(&body["users"]), vec![ada, bob]);
    let (status, q) = zd
        .send(
            Method::PUT,
            "/api/v2/users/update_many.json?external_ids=EXT-1,nope",
            Some(json!({"user": {"name": "Renamed"}})),
        )
        .await;
    assert_eq!(status, 200, "{q}");
    let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
    assert_eq!(done["results"][0]["status"], "Updated");
    assert_eq!(done["results"][0]["id"], ada);
    assert_eq!(done["results"][1]["error"], "RecordNotFound");
    let (_, shown) = zd.get(&format!("/api/v2/users/{ada}")).await;
    assert_eq!(shown["user"]["name"], "Renamed");
}

#[tokio::test]
async fn organizations_search_by_external_id_or_name() {
    let zd = zd().await;
    let (status, body) = zd
        .send(
            Method::POST,
            "/api/v2/organizations",
            Some(json!({"organization": {"name": "Search Me", "external_id": "ABC198"}})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["organization"]["id"].clone();
    for q in ["external_id=abc198", "name=search%20me"] {
        let (status, body) = zd
            .get(&format!("/api/v2/organizations/search.json?{q}"))
            .await;
        assert_eq!(status, 200, "{q}: {body}");
        assert_eq!(body["count"], 1, "{q}");
        assert_eq!(body["organizations"][0]["id"], id);
    }
    let (status, _) = zd
        .get("/api/v2/organizations/search?external_id=a&name=b")
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn job_status_list_is_cursor_paged_newest_first() {
    let zd = zd().await;
    let mut job_ids = Vec::new();
    for name in ["J1", "J2", "J3"] {
        let (_, q) = zd
            .send(
                Method::POST,
                "/api/v2/organizations/create_many",
                Some(json!({"organizations": [{"name": name}]})),
            )
            .await;
        job_ids.push(q["job_status"]["id"].as_str().unwrap().to_owned());
    }
    let (status, page) = zd.get("/api/v2/job_statuses.json?page[size]=2").await;
    assert_eq!(status, 200, "{page}");
    let listed: Vec<&str> = page["job_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![job_ids[2].as_str(), job_ids[1].as_str()]);
    assert_eq!(page["meta"]["has_more"], true);
    let next = page["links"]["next"].as_str().unwrap();
    let page: Value = zd
        .http
        .get(next)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["job_statuses"][0]["id"], job_ids[0].as_str());
    assert_eq!(page["meta"]["has_more"], false);
}

#[tokio::test]
async fn a_fault_ends_a_whole_job_failed_or_killed_with_nothing_applied() {
    let rule = |status: &str, nth| FaultRule {
        fault: Fault::FailJob {
            status: status.to_owned(),
        },
        when: When::Nth(nth),
        api: Some(Api::Zendesk),
        endpoint: Some("POST /api/v2/organizations/create_many".to_owned()),
    };
    let zd = start(
        fast(),
        FaultPlan {
            seed: 1,
            rules: vec![rule("failed", 1), rule("killed", 2)],
        },
    )
    .await;
    for (name, want) in [
        ("Doomed", "failed"),
        ("Killed", "killed"),
        ("Fine", "completed"),
    ] {
        let (status, q) = zd
            .send(
                Method::POST,
                "/api/v2/organizations/create_many.json",
                Some(json!({"organizations": [{"name": name}]})),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(q["job_status"]["status"], "queued");
        let done = zd.wait_job(q["job_status"]["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], want, "{done}");
        assert_eq!(done["total"], 1);
        if want == "completed" {
            assert!(zd.org_named(name).is_some());
        } else {
            assert_eq!(done["results"], Value::Null);
            assert!(done["progress"].is_u64());
            assert!(done["message"].as_str().unwrap().starts_with(want));
            assert!(zd.org_named(name).is_none(), "{name} must not be created");
        }
    }
    let parsed: FaultRule =
        serde_json::from_str(r#"{"fault":{"kind":"fail_job"},"when":"always","api":"zendesk"}"#)
            .unwrap();
    assert_eq!(
        parsed.fault,
        Fault::FailJob {
            status: "failed".into()
        }
    );
}

#[tokio::test]
async fn incremental_export_leaves_out_the_last_minute() {
    let input = TicketInput {
        subject: Some("fresh".into()),
        description: Some("just now".into()),
        ..TicketInput::default()
    };
    let exported = |zd: &Zd| {
        let url = format!(
            "{}/api/v2/incremental/tickets/cursor.json?start_time=0",
            zd.url
        );
        let http = zd.http.clone();
        async move {
            let page: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            assert_eq!(page["end_of_stream"], true);
            ids(&page["tickets"])
        }
    };
    // The real lag (a minute): a ticket changed just now is not exported yet.
    let lagging = start(
        ZendeskConfig {
            incremental_lag: Duration::from_secs(60),
            ..fast()
        },
        FaultPlan::default(),
    )
    .await;
    let fresh = lagging.sim.create_ticket(&input).unwrap().id;
    assert!(!exported(&lagging).await.contains(&fresh));
    // With no lag (the default, for end-to-end tests) it is.
    let plain = zd().await;
    let fresh = plain.sim.create_ticket(&input).unwrap().id;
    assert!(exported(&plain).await.contains(&fresh));
}

#[tokio::test]
async fn ticket_tag_endpoints_add_set_remove_and_respect_closed_tickets() {
    let zd = zd().await;
    let input = TicketInput {
        subject: Some("tags".into()),
        description: Some("tag me".into()),
        tags: Some(vec!["keep".into()]),
        ..TicketInput::default()
    };
    let id = zd.sim.create_ticket(&input).unwrap().id;
    let path = format!("/api/v2/tickets/{id}/tags.json");
    let (status, body) = zd
        .send(Method::PUT, &path, Some(json!({"tags": ["Customer"]})))
        .await;
    assert_eq!((status, body), (200, json!({"tags": ["keep", "customer"]})));
    let (status, body) = zd
        .send(Method::DELETE, &path, Some(json!({"tags": ["keep"]})))
        .await;
    assert_eq!((status, body), (200, json!({"tags": ["customer"]})));
    let (status, body) = zd
        .send(Method::POST, &path, Some(json!({"tags": ["a", "b"]})))
        .await;
    assert_eq!((status, body), (201, json!({"tags": ["a", "b"]})));
    let (_, shown) = zd.get(&format!("/api/v2/tickets/{id}")).await;
    assert_eq!(shown["ticket"]["tags"], json!(["a", "b"]));
    let (status, body) = zd
        .send(
            Method::PUT,
            &path,
            Some(json!({"tags": ["x"], "safe_update": true, "updated_stamp": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    zd.sim.close_ticket(id).unwrap();
    let (status, body) = zd
        .send(Method::PUT, &path, Some(json!({"tags": ["late"]})))
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = zd.get("/api/v2/tickets/1/tags").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn fault_answers_carry_the_rate_limit_headers_too() {
    let rule = |fault, nth| FaultRule {
        fault,
        when: When::Nth(nth),
        api: Some(Api::Zendesk),
        endpoint: Some("GET /api/v2/organizations".to_owned()),
    };
    let zd = start(
        fast(),
        FaultPlan {
            seed: 1,
            rules: vec![
                rule(
                    Fault::RateLimited {
                        retry_after_secs: 7,
                    },
                    1,
                ),
                rule(Fault::ServerError { status: 503 }, 2),
            ],
        },
    )
    .await;
    for want in [429, 503, 200] {
        let resp = zd
            .http
            .get(format!("{}/api/v2/organizations.json", zd.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want);
        let h = resp.headers();
        assert_eq!(h["x-rate-limit"], "10000", "{want}");
        assert!(h.contains_key("x-rate-limit-remaining"), "{want}");
        if want == 429 {
            assert_eq!(h["retry-after"], "7");
            assert!(h["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"));
        }
    }
}

#[tokio::test]
async fn the_real_client_sees_a_failed_job_and_finds_users_by_email() {
    use zendesk_client::{Auth, Client, ItemOutcome, JobState, NewOrganization, PollPolicy};
    let zd = start(
        fast(),
        FaultPlan {
            seed: 1,
            rules: vec![FaultRule {
                fault: Fault::FailJob {
                    status: "failed".into(),
                },
                when: When::Always,
                api: Some(Api::Zendesk),
                endpoint: Some("POST /api/v2/organizations/create_many".to_owned()),
            }],
        },
    )
    .await;
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
    let new = |name: &str| NewOrganization {
        name: name.to_owned(),
        ..NewOrganization::default()
    };
    let handle = client
        .organizations()
        .create_many(vec![new("A"), new("B")])
        .await
        .unwrap();
    let reports = client.jobs().wait_all(vec![handle]).await;
    assert_eq!(reports[0].state, JobState::Failed);
    assert!(
        reports[0]
            .outcomes
            .iter()
            .all(|o| matches!(o, ItemOutcome::Failed { code, .. } if code == "failed")),
        "{:?}",
        reports[0].outcomes
    );
    assert!(zd.org_named("A").is_none());
    let ada = new_user(&zd, "Ada", "Ada@Example.com", "EXT-1").await;
    let found = client
        .users()
        .search_by_email("ada@example.com")
        .await
        .unwrap();
    assert_eq!(found.iter().map(|u| u.id.0).collect::<Vec<_>>(), vec![ada]);
}

#[tokio::test]
async fn the_ticket_list_also_sends_the_ratelimit_headers() {
    let zd = zd().await;
    let resp = zd
        .http
        .get(format!("{}/api/v2/tickets.json?page[size]=1", zd.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["ratelimit-limit"], "10000");
    assert_eq!(h["ratelimit-remaining"], h["x-rate-limit-remaining"]);
    let reset: u64 = h["ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    let resp = zd
        .http
        .get(format!("{}/api/v2/organizations.json", zd.url))
        .send()
        .await
        .unwrap();
    assert!(!resp.headers().contains_key("ratelimit-limit"));
}

/// Walks a time-based export to its end, `per_page` records a page, returning the ids
/// seen (duplicates included) and the number of pages.
async fn walk_time_based(zd: &Zd, kind: &str, per_page: usize) -> (Vec<u64>, usize) {
    let mut next = format!(
        "{}/api/v2/incremental/{kind}.json?start_time=0&per_page={per_page}",
        zd.url
    );
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page: Value = zd
            .http
            .get(&next)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
        assert!(pages < 100, "{kind}: the export never ends");
        let records = page[kind].as_array().unwrap();
        assert_eq!(page["count"], records.len());
        ids.extend(records.iter().map(|r| r["id"].as_u64().unwrap()));
        // next_page stays non-null at the end; only end_of_stream stops (§4.14).
        next = page["next_page"].as_str().unwrap().to_owned();
        assert!(next.contains(&format!("start_time={}", page["end_time"])));
        if page["end_of_stream"] == true {
            return (ids, pages);
        }
    }
}

#[tokio::test]
async fn time_based_exports_of_orgs_users_and_tickets_end_on_end_of_stream() {
    let zd = zd().await;
    let state = zd.sim.dump();
    for kind in ["organizations", "users", "tickets"] {
        let mut want = ids(&state[kind]);
        want.dedup();
        let (mut seen, pages) = walk_time_based(&zd, kind, 1).await;
        // A page holds every record of its last second, so pages follow the seconds.
        let seconds: std::collections::BTreeSet<&str> = state[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["updated_at"].as_str().unwrap())
            .collect();
        assert!(pages >= seconds.len(), "{kind}: {pages} pages");
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, want, "{kind}: every record, duplicates aside");
    }
    // Many records in one second, more than a page: the export still moves on.
    for i in 0..5 {
        let (status, _) = zd
            .send(
                Method::POST,
                "/api/v2/users",
                Some(json!({"user": {"name": format!("Same second {i}")}})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (seen, _) = walk_time_based(&zd, "users", 2).await;
    assert_eq!(
        {
            let mut s = seen.clone();
            s.sort_unstable();
            s.dedup();
            s.len()
        },
        zd.sim.dump()["users"].as_array().unwrap().len()
    );
    let (status, body) = zd.get("/api/v2/incremental/groups?start_time=0").await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn cursor_export_of_users_keeps_its_cursor_at_the_end() {
    let zd = zd().await;
    let total = zd.sim.dump()["users"].as_array().unwrap().len();
    let (status, mut page) = zd
        .get("/api/v2/incremental/users/cursor.json?start_time=0&per_page=3")
        .await;
    assert_eq!(status, 200, "{page}");
    let mut seen = Vec::new();
    loop {
        seen.extend(ids(&page["users"]));
        assert_eq!(page["before_url"], Value::Null);
        let after = page["after_url"].as_str().unwrap().to_owned();
        assert!(page["after_cursor"].is_string());
        if page["end_of_stream"] == true {
            break;
        }
        page = zd
            .http
            .get(after)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), total);
    let (status, _) = zd
        .get("/api/v2/incremental/organizations/cursor?start_time=0")
        .await;
    assert_eq!(status, 404, "organizations have no cursor export (§4.14)");
}

#[tokio::test]
async fn users_me_and_single_user_update() {
    let zd = zd().await;
    let ada = new_user(&zd, "Ada", "ada@example.com", "EXT-1").await;
    let resp = zd
        .http
        .get(format!("{}/api/v2/users/me.json", zd.url))
        .basic_auth("Ada@example.com/token", Some("t0k"))
        .send()
        .await
        .unwrap();
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["user"]["id"], ada);
    let resp = zd
        .http
        .get(format!("{}/api/v2/users/me", zd.url))
        .bearer_auth("oauth-token")
        .send()
        .await
        .unwrap();
    let me: Value = resp.json().await.unwrap();
    assert_eq!(
        me["user"]["role"], "admin",
        "a bearer token stands for an admin"
    );
    let (status, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/users/{ada}.json"),
            Some(json!({"user": {"name": "Ada L", "user_fields": {"tier": "gold"}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["name"], "Ada L");
    assert_eq!(
        body["user"]["email"], "ada@example.com",
        "only what is sent changes"
    );
    assert_eq!(body["user"]["user_fields"]["tier"], "gold");
    let bob = new_user(&zd, "Bob", "bob@example.com", "EXT-2").await;
    let (status, body) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/users/{bob}"),
            Some(json!({"user": {"email": "ADA@example.com"}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["details"]["email"][0]["error"], "DuplicateValue");
    let (status, _) = zd
        .send(
            Method::PUT,
            "/api/v2/users/1",
            Some(json!({"user": {"name": "x"}})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn tickets_show_many_and_a_deleted_ticket_lives_on_only_in_the_export() {
    let zd = zd().await;
    let input = |s: &str| TicketInput {
        subject: Some(s.into()),
        description: Some(s.into()),
        ..TicketInput::default()
    };
    let a = zd.sim.create_ticket(&input("a")).unwrap().id;
    let b = zd.sim.create_ticket(&input("b")).unwrap().id;
    let (status, body) = zd
        .get(&format!("/api/v2/tickets/show_many.json?ids={a},{b},1"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body["tickets"]), vec![a, b]);
    let (status, _) = zd
        .send(Method::DELETE, &format!("/api/v2/tickets/{a}.json"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(zd.get(&format!("/api/v2/tickets/{a}")).await.0, 404);
    let (_, body) = zd
        .get(&format!("/api/v2/tickets/show_many?ids={a},{b}"))
        .await;
    assert_eq!(ids(&body["tickets"]), vec![b]);
    let (_, list) = zd.get("/api/v2/tickets?page[size]=100").await;
    assert!(!ids(&list["tickets"]).contains(&a));
    let (_, export) = zd
        .get("/api/v2/incremental/tickets/cursor?start_time=0")
        .await;
    let deleted: Vec<_> = export["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"] == a)
        .map(|t| t["status"].clone())
        .collect();
    assert_eq!(deleted, vec![json!("deleted")]);
    let (status, _) = zd
        .send(Method::DELETE, &format!("/api/v2/tickets/{a}"), None)
        .await;
    assert_eq!(status, 404, "deleting twice");
    let (status, _) = zd
        .send(
            Method::PUT,
            &format!("/api/v2/tickets/{a}"),
            Some(json!({"ticket": {"status": "open"}})),
        )
        .await;
    assert_eq!(status, 404, "a deleted ticket cannot be updated");
}

#[tokio::test]
async fn a_ticket_made_without_requester_belongs_to_the_api_user() {
    let zd = zd().await;
    let ada = new_user(&zd, "Ada", "ada@example.com", "EXT-1").await;
    let resp = zd
        .http
        .post(format!("{}/api/v2/tickets.json", zd.url))
        .basic_auth("ada@example.com/token", Some("t0k"))
        .json(&json!({"ticket": {"subject": "mine", "comment": {"body": "hello"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .contains("/api/v2/tickets/"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ticket"]["requester_id"], ada);
    assert_eq!(body["ticket"]["via"]["channel"], "api");
    assert_eq!(body["ticket"]["description"], "hello");
    assert!(body["audit"].is_object());
}

#[tokio::test]
async fn the_real_client_gets_requester_and_org_sideloaded_in_one_call() {
    use zendesk_client::{Auth, Client, TicketId};
    let zd = zd().await;
    let state = zd.sim.dump();
    let ticket = state["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["organization_id"].is_u64() && t["requester_id"].is_u64())
        .expect("a seed ticket with requester and organization")
        .clone();
    let client = Client::builder()
        .url(zd.url.clone())
        .auth(Auth::api_token("ops@example.com", "t0k"))
        .build()
        .unwrap();
    let id = TicketId(ticket["id"].as_u64().unwrap());
    let t = client.tickets().show_with_related(id).await.unwrap();
    assert_eq!(t.requester.map(|u| u.id.0), ticket["requester_id"].as_u64());
    assert_eq!(
        t.organization.map(|o| o.id.0),
        ticket["organization_id"].as_u64()
    );
    assert_eq!(client.total_requests(), 1, "{:?}", client.request_counts());
    let (_, plain) = zd.get(&format!("/api/v2/tickets/{}", id.0)).await;
    assert!(plain.get("users").is_none(), "sideloads only when asked");
}
